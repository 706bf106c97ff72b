#!/usr/bin/env bash
# `evaluate` in process against the service's own saturation throughput, on the same model and images, in
# alternating windows (the machine drifts: only figures measured side by side are compared).
#   bench/evaluate.sh                       # default model, tests/assets/eval/shapes48 copied COPIES times
# Environment: ROUNDS (default 4), COPIES (default 60: 11,520 images, links to the files), CONCURRENCY (default 16), DURATION (s per
# service window, default 15), DATA (an ImageFolder, default tests/assets/eval/shapes48).
# The service window is the load generator's closed loop on /classify with the dataset's labels; the evaluate window
# is one `evaluate` run (its report's images_per_second: the requests after the first, which embeds the labels). The
# service started for its windows sits idle (label-set precompute off) while evaluate runs, and is measured idle.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-4}
COPIES=${COPIES:-60}
CONCURRENCY=${CONCURRENCY:-16}
DURATION=${DURATION:-15}
DATA=${DATA:-tests/assets/eval/shapes48}

dotnet build -c Release -v q -nologo src/ClipService > /dev/null
dotnet build -c Release -v q -nologo bench/ClipService.LoadGenerator > /dev/null
LOADGEN=bench/ClipService.LoadGenerator/bin/Release/net10.0/linux-x64/ClipService.LoadGenerator.dll
SERVICE=src/ClipService/bin/Release/net10.0/linux-x64/ClipService.dll
WORK=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

# The dataset, COPIES times over as links (a window wants seconds of work; a duplicate costs the service the same).
for class in "$DATA"/*/; do
    name=$(basename "$class")
    mkdir -p "$WORK/data/$name"
    for copy in $(seq 1 "$COPIES"); do
        for file in "$class"*; do ln -s "$(realpath "$file")" "$WORK/data/$name/$copy-$(basename "$file")"; done
    done
done
[ -f "$DATA/classes.csv" ] && cp "$DATA/classes.csv" "$WORK/data/"
LABELS=$(for class in "$DATA"/*/; do basename "$class"; done | paste -sd, -)
IMAGES=$(find "$WORK/data" \( -type f -o -type l \) ! -name classes.csv | wc -l)

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; flags: $(grep -o -w 'avx2\|avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "Data: $DATA x $COPIES = $IMAGES images, $(echo "$LABELS" | tr ',' '\n' | wc -l) labels; concurrency $CONCURRENCY; $ROUNDS rounds"

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dotnet "$SERVICE" --urls "http://127.0.0.1:$port" --Clip:PrecomputeLabelSets=false --Serilog:MinimumLevel:Default=Warning > "$WORK/service.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" > /dev/null && break; sleep 0.5; done

service_rates=()
eval_rates=()
for round in $(seq 1 "$ROUNDS"); do
    out=$(dotnet "$LOADGEN" http --url "http://127.0.0.1:$port" --images "$WORK/data" --labels "$LABELS" \
        --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 3)
    rate=$(echo "$out" | awk -F'|' '/^\| [0-9]/ {gsub(/ /, "", $3); print $3}')
    service_rates+=("$rate")

    rm -rf "$WORK/out"
    dotnet "$SERVICE" evaluate --data "$WORK/data" --out "$WORK/out" --concurrency "$CONCURRENCY" > /dev/null 2> "$WORK/evaluate.log"
    evaluated=$(/usr/bin/python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["runs"][0]["images_per_second"], 1))' "$WORK/out/report.json")
    eval_rates+=("$evaluated")
    echo "round $round: service $rate req/s, evaluate $evaluated img/s, ratio $(/usr/bin/python3 -c "print(round($evaluated / $rate, 3))")"
done

/usr/bin/python3 - "${service_rates[*]}" "${eval_rates[*]}" <<'PY'
import statistics, sys
service = [float(v) for v in sys.argv[1].split()]
evaluated = [float(v) for v in sys.argv[2].split()]
ratios = [e / s for e, s in zip(evaluated, service)]
print(f"median: service {statistics.median(service):.1f} req/s, evaluate {statistics.median(evaluated):.1f} img/s, "
      f"ratio of medians {statistics.median(evaluated) / statistics.median(service):.3f}, median of ratios {statistics.median(ratios):.3f} (target >= 0.9)")
PY
