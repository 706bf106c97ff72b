#!/usr/bin/env bash
# Downloads a real CLIP (default: Xenova/clip-vit-base-patch32 at a pinned commit) into models/,
# verifying every file against the hashes the hub publishes for that commit.
#   tools/fetch_model.sh                       # fp32 ViT-B/32, ~600 MB
#   tools/fetch_model.sh --precision quantized # int8, ~150 MB
#   tools/fetch_model.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run --project src/ClipService -- fetch-model "$@"
