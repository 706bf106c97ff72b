#!/usr/bin/env bash
# Throughput benchmark: raw ONNX Runtime vs the service, in one run, on the same model.
#   bench/run.sh                      # ViT-B/32-shaped model (random weights, real compute); generated on first use
#   MODEL=models/clip-shapes bench/run.sh
#   PHOTO=1 bench/run.sh              # 1080p photo JPEGs; the service exact, then with FastJpegScaling, same run
# Environment: DURATION (s per level, default 20), WARMUP (s before each level, not counted, default 15: the JIT
# recompiles the service's hot paths for a while after start, which is not its steady state), CONCURRENCY (default 1,8,32,64), BATCHES (default 1,8,32),
# IMAGE_SIZE (default 640x480, 1920x1080 with PHOTO=1), PORT (default: a free one), SERVICE_ARGS (extra
# --Clip:... settings), VARIANTS (service runs, default "exact" or with PHOTO=1 "exact fast").
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-bench/models/vit-b-32}
DURATION=${DURATION:-20}
PORT=${PORT:-$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
if [ -n "${PHOTO:-}" ]; then
    IMAGE_ARGS=(--image-size "${IMAGE_SIZE:-1920x1080}" --photo tests/assets/images/photo_12mp.jpg)
    VARIANTS=${VARIANTS:-exact fast}
else
    IMAGE_ARGS=(--image-size "${IMAGE_SIZE:-640x480}")
    VARIANTS=${VARIANTS:-exact}
fi

if [ ! -f "$MODEL/onnx/vision_model.onnx" ]; then
    echo "Generating $MODEL (needs Debian's python3-torch python3-onnx, see tools/README.md)"
    /usr/bin/python3 tools/make_test_model.py --config vit-b-32 --out "$MODEL"
fi

dotnet build -c Release -v q -nologo src/ClipService
dotnet build -c Release -v q -nologo bench/ClipService.LoadGenerator
LOADGEN=bench/ClipService.LoadGenerator/bin/Release/net10.0/linux-x64/ClipService.LoadGenerator.dll
SERVICE=src/ClipService/bin/Release/net10.0/linux-x64/ClipService.dll

echo "## Raw ONNX Runtime ($MODEL)"
dotnet "$LOADGEN" raw --model "$MODEL/onnx/vision_model.onnx" --batches "${BATCHES:-1,8,32}" --duration "$DURATION"

MODELS_DIR=$(cd "$(dirname "$MODEL")" && pwd)
SERVICE_PID=
trap '[ -n "$SERVICE_PID" ] && kill $SERVICE_PID 2>/dev/null || true' EXIT
for variant in $VARIANTS; do
    case $variant in
        exact) DECODING=--Clip:ImageDecoding:FastJpegScaling=false ;;
        fast) DECODING=--Clip:ImageDecoding:FastJpegScaling=true ;;
        *) echo "unknown variant $variant" >&2; exit 2 ;;
    esac
    echo
    echo "## Service ($MODEL, $variant JPEG decoding)"
    dotnet "$SERVICE" --urls "http://127.0.0.1:$PORT" --Clip:ModelsPath="$MODELS_DIR" --Clip:DefaultModel="$(basename "$MODEL")" \
        --Serilog:MinimumLevel:Default=Warning "$DECODING" ${SERVICE_ARGS:-} > "/tmp/clipservice-bench-$variant.log" 2>&1 &
    SERVICE_PID=$!
    for _ in $(seq 1 240); do
        curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null 2>&1 && break
        sleep 0.5
    done
    curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null
    dotnet "$LOADGEN" http --url "http://127.0.0.1:$PORT" --concurrency "${CONCURRENCY:-1,8,32,64}" --duration "$DURATION" --warmup "${WARMUP:-15}" --pid "$SERVICE_PID" "${IMAGE_ARGS[@]}"
    kill "$SERVICE_PID"
    wait "$SERVICE_PID" 2>/dev/null || true
    SERVICE_PID=
done
