#!/usr/bin/env bash
# Raw ONNX Runtime and one or more service configurations in alternating windows, in one run, and the median of
# each one's figure over the rounds, as ratios to raw. The machine drifts (other tenants, thermal), so windows
# measured side by side are compared, never figures from different runs.
#   bench/alternate.sh                                    # ViT-B/32-shaped model, concurrency 16 against raw batch 8 and 32
#   CONCURRENCY=1 BATCHES=1 bench/alternate.sh            # latency: service p50 at concurrency 1 against raw batch-1 p50
#   SERVICES="spin:--Clip:ExecutionProvider:AllowSpinning=true|nospin:--Clip:ExecutionProvider:AllowSpinning=false" bench/alternate.sh
#   MODEL=models/clip-shapes IMAGE_SIZE=224x224 BATCHES=32 bench/alternate.sh
# Environment: MODEL, ROUNDS (default 5), DURATION (s per window, default 15), WARMUP (s before each service window,
# default 5), CONCURRENCY (one level, default 16), BATCHES (raw batch sizes, default 8,32), IMAGE_SIZE (default
# 224x224), PHOTO=1 (1920x1080 photo crops), SERVICES ("name:args|name:args", default "service:" = the shipped
# settings). Every service is started once, before the first round, and sits idle (no label-set precompute: set
# off) while the others run. Each service window reports its CPU ms per request (from /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-bench/models/vit-b-32}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
CONCURRENCY=${CONCURRENCY:-16}
BATCHES=${BATCHES:-8,32}
SERVICES=${SERVICES:-service:}
if [ -n "${PHOTO:-}" ]; then
    IMAGE_ARGS=(--image-size "${IMAGE_SIZE:-1920x1080}" --photo tests/assets/images/photo_12mp.jpg)
else
    IMAGE_ARGS=(--image-size "${IMAGE_SIZE:-224x224}")
fi

if [ ! -f "$MODEL/onnx/vision_model.onnx" ]; then
    echo "Generating $MODEL (needs Debian's python3-torch python3-onnx, see tools/README.md)"
    /usr/bin/python3 tools/make_test_model.py --config vit-b-32 --out "$MODEL"
fi

dotnet build -c Release -v q -nologo src/ClipService > /dev/null
dotnet build -c Release -v q -nologo bench/ClipService.LoadGenerator > /dev/null
LOADGEN=bench/ClipService.LoadGenerator/bin/Release/net10.0/linux-x64/ClipService.LoadGenerator.dll
SERVICE=src/ClipService/bin/Release/net10.0/linux-x64/ClipService.dll
MODELS_DIR=$(cd "$(dirname "$MODEL")" && pwd)
RESULTS=$(mktemp)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "$RESULTS"' EXIT

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; AVX-512: $(grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "Model $MODEL, ${IMAGE_ARGS[*]}, concurrency $CONCURRENCY, raw batches $BATCHES, $ROUNDS rounds of $DURATION s windows"

IFS='|' read -ra SPECS <<< "$SERVICES"
NAMES=()
PORTS=()
for spec in "${SPECS[@]}"; do
    name=${spec%%:*}
    args=${spec#*:}
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # shellcheck disable=SC2086 # the settings are words
    dotnet "$SERVICE" --urls "http://127.0.0.1:$port" --Clip:ModelsPath="$MODELS_DIR" --Clip:DefaultModel="$(basename "$MODEL")" \
        --Clip:PrecomputeLabelSets=false --Serilog:MinimumLevel:Default=Warning $args > "/tmp/clipservice-alternate-$name.log" 2>&1 &
    PIDS+=($!)
    NAMES+=("$name")
    PORTS+=("$port")
done
for i in "${!PORTS[@]}"; do
    for _ in $(seq 1 240); do
        curl -fsS "http://127.0.0.1:${PORTS[$i]}/health/ready" > /dev/null 2>&1 && break
        sleep 0.5
    done
    curl -fsS "http://127.0.0.1:${PORTS[$i]}/health/ready" > /dev/null || { echo "service ${NAMES[$i]} did not become ready: /tmp/clipservice-alternate-${NAMES[$i]}.log" >&2; exit 1; }
done

for round in $(seq 1 "$ROUNDS"); do
    # Rows: "| batch | images/s | p50 | ..." for raw, "| concurrency | requests/s | p50 | ... | cpu ms |" for the service.
    dotnet "$LOADGEN" raw --model "$MODEL/onnx/vision_model.onnx" --batches "$BATCHES" --duration "$DURATION" \
        | awk -v r="$round" -F'|' '/^\| [0-9]/ { gsub(/ /, ""); print "raw", "batch" $2, r, $3, $4, "-", "-" }' >> "$RESULTS"
    for i in "${!PORTS[@]}"; do
        dotnet "$LOADGEN" http --url "http://127.0.0.1:${PORTS[$i]}" --concurrency "$CONCURRENCY" --duration "$DURATION" \
            --warmup "$WARMUP" --pid "${PIDS[$i]}" "${IMAGE_ARGS[@]}" \
            | awk -v r="$round" -v n="${NAMES[$i]}" -F'|' '/^\| [0-9]/ { gsub(/ /, ""); print n, "conc" $2, r, $3, $4, $8, $9 }' >> "$RESULTS"
    done
    echo "round $round:"; awk -v r="$round" '$3 == r { printf "  %-10s %-8s %8s/s  p50 %7s ms  cpu %s ms/req (load generator %s)\n", $1, $2, $4, $5, $6, $7 }' "$RESULTS"
done

echo
echo "Medians over $ROUNDS rounds (ratios: median of the per-round ratio to raw's best batch in the same round):"
/usr/bin/python3 - "$RESULTS" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
rounds = sorted({int(r[2]) for r in rows})
def per_round(name, key):
    return {int(r[2]): r for r in rows if r[0] == name and r[1] == key}
keys = sorted({(r[0], r[1]) for r in rows})
best_raw = {n: max(float(r[3]) for r in rows if r[0] == "raw" and int(r[2]) == n) for n in rounds}
raw_p50 = {n: min(float(r[4]) for r in rows if r[0] == "raw" and int(r[2]) == n) for n in rounds}
print("| run | per second (median) | p50 ms (median) | service CPU ms per request | load generator CPU ms per request | ratio to raw's best (median) | p50 minus raw's lowest p50 (median) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, key in keys:
    series = per_round(name, key)
    rate = statistics.median(float(r[3]) for r in series.values())
    p50 = statistics.median(float(r[4]) for r in series.values())
    cpu = "-" if name == "raw" else f"{statistics.median(float(r[5]) for r in series.values()):.2f}"
    own = "-" if name == "raw" else f"{statistics.median(float(r[6]) for r in series.values()):.2f}"
    ratio = statistics.median(float(series[n][3]) / best_raw[n] for n in series)
    gap = statistics.median(float(series[n][4]) - raw_p50[n] for n in series)
    print(f"| {name} {key} | {rate:.1f} | {p50:.1f} | {cpu} | {own} | {ratio:.3f} | {gap:+.1f} |")
EOF
