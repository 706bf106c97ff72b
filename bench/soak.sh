#!/usr/bin/env bash
# Hardening soak (#13): refusal cost, overload p99, RSS after large-image bursts and after idling, /health/live
# latency during a decode flood — one run against the default model with a small admission capacity.
#   bench/soak.sh            # CAPACITY (default 4), IDLE (s watched after the flood, default 60), SERVICE_ARGS
set -euo pipefail
cd "$(dirname "$0")/.."
CAPACITY=${CAPACITY:-4}
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dotnet build -c Release -v q -nologo src/ClipService
dotnet build -c Release -v q -nologo bench/ClipService.LoadGenerator
dotnet src/ClipService/bin/Release/net10.0/linux-x64/ClipService.dll --urls "http://127.0.0.1:$PORT" \
    --Clip:Admission:MaxRequestsPerModel="$CAPACITY" --Clip:Batching:MaxQueuedImages="$CAPACITY" \
    --Clip:Connections:MinRequestBodyGraceSeconds=300 --Clip:PrecomputeLabelSets=false \
    --Serilog:MinimumLevel:Default=Warning ${SERVICE_ARGS:-} >/dev/null &
SERVICE_PID=$!
trap 'kill $SERVICE_PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; do sleep 0.5; done
sleep 2
dotnet bench/ClipService.LoadGenerator/bin/Release/net10.0/linux-x64/ClipService.LoadGenerator.dll soak \
    --url "http://127.0.0.1:$PORT" --pid "$SERVICE_PID" --capacity "$CAPACITY" --idle "${IDLE:-60}"
