#!/usr/bin/env bash
# End-to-end container test: builds the CPU image from the repository's Dockerfile on local stand-in bases, starts
# three replicas behind Debian's HAProxy (the repository's deploy/haproxy.cfg, adapted to static servers), runs a
# bounded classify load, SIGTERMs one replica and SIGKILLs another (no request may fail either time: HAProxy
# replays the killed replica's requests on another, see retry-on in deploy/haproxy.cfg), and checks the replicas run as non-root on a read-only root filesystem.
#
#   deploy/container-test.sh            # needs root, podman, runc, debootstrap, haproxy, curl
#   deploy/container-test.sh bases      # only build (or reuse) the stand-in base images
#
# No registry is reachable on the machines this runs on, so the public bases (mcr.microsoft.com/dotnet/sdk and
# aspnet) are replaced by stand-ins built with debootstrap and the machine's own .NET SDK. They are cached in
# podman's storage, so only the first run builds them. Ports: free loopback ports, or the CT_PORTS environment
# variable ("LB STATS R1 R2 R3") when the caller picked them; CT_IMAGE names the image built (default
# localhost/$PREFIX-clipservice:cpu), for runs from several worktrees side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${CT_PREFIX:-clipservice-ct}
P=(podman --runtime=runc --cgroup-manager=cgroupfs)
BASE=localhost/$PREFIX-debian:bookworm
SDK_BASE=localhost/$PREFIX-sdk:10.0
RUNTIME_BASE=localhost/$PREFIX-aspnet:10.0
IMAGE=${CT_IMAGE:-localhost/$PREFIX-clipservice:cpu}
RUN_ID=$PREFIX-$$
WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
CONCURRENCY=4
started=$SECONDS

log() { printf '[%4ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
image_exists() { "${P[@]}" image exists "$1"; }

containers=()
haproxy_pid=
cleanup() {
    local c
    for c in "${containers[@]}"; do "${P[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    # Waited for: a run straight after this one must not find this HAProxy still bound to a port it reuses.
    if [ -n "$haproxy_pid" ]; then kill "$haproxy_pid" 2>/dev/null; wait "$haproxy_pid" 2>/dev/null; fi || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM INT

build_bases() {
    if image_exists "$SDK_BASE" && image_exists "$RUNTIME_BASE"; then
        log "stand-in bases cached: $SDK_BASE, $RUNTIME_BASE"
        return
    fi
    local rootfs=$WORK/rootfs mirror
    if ! image_exists "$BASE"; then
        mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
        log "debootstrap bookworm from ${mirror:-deb.debian.org}"
        debootstrap --variant=minbase --include=ca-certificates,libicu72 bookworm "$rootfs" \
            "${mirror:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1 \
            || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        ln -sf /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"
        tar -C "$rootfs" -c . | "${P[@]}" import - "$BASE" >/dev/null 2>&1
    fi
    local env=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')

    # SDK: the base plus the machine's SDK and, for the build container only, the proxy's CA bundle.
    mkdir -p "$WORK/sdk"
    cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$WORK/sdk/ca-certificates.crt"
    {
        echo "FROM $BASE"
        echo "COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt"
        echo "ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1${NUGET_CERT_REVOCATION_MODE:+ NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE}"
    } >"$WORK/sdk/Containerfile"
    log "building $SDK_BASE"
    "${P[@]}" build --network=host --pull=never -q -t "$SDK_BASE-stage" -f "$WORK/sdk/Containerfile" "$WORK/sdk" >/dev/null
    local stage sdk_root
    stage=$("${P[@]}" create "$SDK_BASE-stage" /usr/bin/true)
    sdk_root=$("${P[@]}" mount "$stage")
    cp -a /usr/share/dotnet "$sdk_root/usr/share/"
    "${P[@]}" commit -q "${env[@]}" "$stage" "$SDK_BASE" >/dev/null
    "${P[@]}" umount "$stage" >/dev/null; "${P[@]}" rm "$stage" >/dev/null; "${P[@]}" rmi "$SDK_BASE-stage" >/dev/null 2>&1 || true

    # Runtime: like Microsoft's chiseled ASP.NET Core images: the runtime, no shell, no apt, no curl, so a RUN
    # step or a shell-form HEALTHCHECK in the final stage fails here as it would there.
    log "building $RUNTIME_BASE"
    stage=$("${P[@]}" create "$BASE" /usr/bin/true)
    local rt_root
    rt_root=$("${P[@]}" mount "$stage")
    mkdir -p "$rt_root/usr/share/dotnet"
    cp -a /usr/share/dotnet/dotnet /usr/share/dotnet/host /usr/share/dotnet/shared "$rt_root/usr/share/dotnet/"
    rm -f "$rt_root"/usr/bin/{sh,bash,dash,rbash,apt,apt-get,apt-cache,apt-config,apt-mark,dpkg,curl}
    "${P[@]}" commit -q "${env[@]}" --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true' "$stage" "$RUNTIME_BASE" >/dev/null
    "${P[@]}" umount "$stage" >/dev/null; "${P[@]}" rm "$stage" >/dev/null
}

free_port() {
    local port
    while :; do
        # Not $RANDOM: each $(free_port) subshell starts from the same seed, so runs in a row drew the same ports.
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
}

build_bases
[ "${1:-}" = bases ] && exit 0

log "building $IMAGE from ./Dockerfile (default target)"
build_started=$SECONDS
"${P[@]}" build --network=host --pull=never --format docker -q \
    --build-arg SDK_IMAGE="$SDK_BASE" --build-arg RUNTIME_IMAGE="$RUNTIME_BASE" \
    -t "$IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "image build"; }
log "image built in $((SECONDS - build_started)) s"
image_bytes=$("${P[@]}" image inspect --format '{{.Size}}' "$IMAGE")
base_bytes=$("${P[@]}" image inspect --format '{{.Size}}' "$RUNTIME_BASE")
log "image size: $((image_bytes / 1000000)) MB ($(( (image_bytes - base_bytes) / 1000000 )) MB over the runtime base)"

user=$("${P[@]}" image inspect --format '{{.Config.User}}' "$IMAGE")
[[ "$user" =~ ^[1-9][0-9]*$ ]] || fail "the image's USER is '$user', not a non-root numeric UID"
if "${P[@]}" run --rm --network=host --entrypoint /bin/sh "$IMAGE" -c true >/dev/null 2>&1; then
    fail "the image has a shell (the runtime stage must work on a chiseled base)"
fi

read -r LB STATS R1 R2 R3 <<<"${CT_PORTS:-$(free_port) $(free_port) $(free_port) $(free_port) $(free_port)}"
replicas=("$R1" "$R2" "$R3")
for i in 0 1 2; do
    name=$RUN_ID-r$((i + 1))
    # Only the listening address comes from outside; read-only root with a writable /tmp, as in Kubernetes.
    # (podman reports that it cannot schedule the HEALTHCHECK without systemd; `healthcheck run` below still runs it.)
    "${P[@]}" run -d --name "$name" --network=host --read-only --tmpfs /tmp \
        -e ASPNETCORE_URLS="http://127.0.0.1:${replicas[$i]}" "$IMAGE" >/dev/null 2>"$WORK/run-$name.log" \
        || { cat "$WORK/run-$name.log"; fail "podman run $name"; }
    containers+=("$name")
done
log "replicas on 127.0.0.1:${replicas[*]}"

# The repository's HAProxy config, with the replicas as static servers instead of Docker DNS discovery.
cfg=$WORK/haproxy.cfg
awk -v lb="$LB" -v stats="$STATS" -v servers="${replicas[*]}" '
    /^resolvers /            { skip = 1; next }
    skip && /^[^ \t]/        { skip = 0 }
    skip                     { next }
    /^[ \t]+bind :8404/      { sub(/:8404/, "127.0.0.1:" stats) }
    /^[ \t]+bind :8080/      { sub(/:8080/, "127.0.0.1:" lb) }
    /^[ \t]+default-server / { sub(/ resolvers docker/, ""); sub(/ init-addr none/, "") }
    /^[ \t]+server-template / {
        n = split(servers, ports, " ")
        for (i = 1; i <= n; i++) printf "    server clip-%d 127.0.0.1:%s\n", i, ports[i]
        next
    }
    { print }' deploy/haproxy.cfg >"$cfg"
haproxy -c -q -f "$cfg" || fail "adapted haproxy.cfg is invalid"
haproxy -f "$cfg" -db >"$WORK/haproxy.log" 2>&1 &
haproxy_pid=$!

wait_ready() {
    local port=$1 deadline=$((SECONDS + 180))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready")" = 200 ]; do
        [ $SECONDS -lt $deadline ] || fail "127.0.0.1:$port not ready after 180 s"
        sleep 0.5
    done
}
ready_started=$SECONDS
for port in "${replicas[@]}"; do wait_ready "$port"; done
log "all replicas ready in $((SECONDS - ready_started)) s"

for c in "${containers[@]}"; do
    pid=$("${P[@]}" inspect --format '{{.State.Pid}}' "$c")
    uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
    [ "$uid" = "$user" ] || fail "$c runs as uid $uid, not $user"
done
log "replicas run as uid $user"
# As Docker does (--start-period=60s, then --retries), a check that fails while the replica is still busy right
# after start (embedding the built-in label sets takes every core for a while) is repeated before it counts.
deadline=$((SECONDS + 90))
until "${P[@]}" healthcheck run "${containers[0]}" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "the image's HEALTHCHECK fails on a healthy replica"
    sleep 3
done
log "HEALTHCHECK (the service's healthcheck command) passes"

# Wait until HAProxy's own checks see all three up, so the load spreads over them.
deadline=$((SECONDS + 30))
until [ "$(curl -s "http://127.0.0.1:$STATS/metrics" | grep -c '^haproxy_server_status{proxy="clip",server="clip-[0-9]",state="UP"} 1')" = 3 ]; do
    [ $SECONDS -lt $deadline ] || fail "HAProxy does not see three servers up"
    sleep 0.5
done

IMAGE_FILE=tests/assets/images/photo.jpg
# One worker: classify requests in a loop until the stop file appears; one line per request "status seconds".
worker() {
    local out=$1
    while [ ! -e "$WORK/stop" ]; do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 60 \
            -F image=@"$IMAGE_FILE" -F labels="red circle" -F labels="blue square" -F labels="green triangle" \
            "http://127.0.0.1:$LB/classify" >>"$out" || echo "000 0" >>"$out"
    done
}
run_phase() {
    local phase=$1 action=$2 pids=() i
    rm -f "$WORK/stop" "$WORK/$phase".*
    for i in $(seq 1 $CONCURRENCY); do worker "$WORK/$phase.$i" & pids+=($!); done
    sleep 3
    eval "$action"
    sleep 3
    touch "$WORK/stop"
    wait "${pids[@]}"
    cat "$WORK/$phase".* >"$WORK/$phase.all"
}
count() { awk -v want="$2" '($1 == 200) == (want == "ok")' "$WORK/$1.all" | wc -l; }

# Phase 1: SIGTERM replica 1. It must drain: readiness 503, HAProxy stops routing to it, in-flight requests finish,
# exit code 0; no request may fail.
drain_r1() {
    "${P[@]}" kill --signal TERM "${containers[0]}" >/dev/null
    local deadline=$((SECONDS + 120))
    while [ "$("${P[@]}" inspect --format '{{.State.Running}}' "${containers[0]}")" = true ]; do
        [ $SECONDS -lt $deadline ] || fail "replica 1 did not exit within 120 s of SIGTERM"
        sleep 0.5
    done
}
run_phase term drain_r1
r1_exit=$("${P[@]}" inspect --format '{{.State.ExitCode}}' "${containers[0]}")
log "SIGTERM phase: $(count term ok) requests ok, $(count term failed) failed; replica 1 exited with $r1_exit"
[ "$r1_exit" = 0 ] || fail "replica 1 exited with $r1_exit after a clean drain"
[ "$(count term failed)" = 0 ] || { sort "$WORK/term.all" | uniq -c | sort -rn | head; fail "requests failed during a graceful drain"; }
[ "$(count term ok)" -gt 0 ] || fail "no request succeeded"
# Read the whole log first: with pipefail, `logs | grep -q` fails whenever grep quits before podman has written it all.
r1_log=$("${P[@]}" logs "${containers[0]}" 2>&1)
grep -q '"Draining' <<<"$r1_log" || fail "replica 1 did not log its drain"

# Phase 2: SIGKILL replica 2 with no warning: its in-flight requests are replayed by HAProxy on replica 3 (they are
# buffered whole, and every endpoint is pure), so again no request may fail.
run_phase kill '"${P[@]}" kill --signal KILL "${containers[1]}" >/dev/null'
log "SIGKILL phase: $(count kill ok) requests ok, $(count kill failed) failed"
[ "$(count kill failed)" = 0 ] || { sort "$WORK/kill.all" | uniq -c | sort -rn | head; grep -E ' (50[0-9]) | [sS][HCD]-' "$WORK/haproxy.log" | tail -10; fail "requests failed when a replica was killed"; }
[ "$(count kill ok)" -gt 0 ] || fail "no request succeeded after the SIGKILL"
code=$(curl -s -o /dev/null -w '%{http_code}' -F image=@"$IMAGE_FILE" -F labels=cat -F labels=dog "http://127.0.0.1:$LB/classify")
[ "$code" = 200 ] || fail "the surviving replica does not serve through HAProxy ($code)"

# The non-CLIP families tokenize through a native library (Tokenizers.DotNet, needs glibc >= 2.34): one more
# container serves the test suite's family exports from a read-only volume and must load and score them.
FAMILIES=$(free_port)
"${P[@]}" run -d --name "$RUN_ID-families" --network=host --read-only --tmpfs /tmp \
    -v "$PWD/tests/assets/families:/families:ro" -e Clip__ModelsPath=/families -e Clip__DefaultModel=siglip2 \
    -e ASPNETCORE_URLS="http://127.0.0.1:$FAMILIES" "$IMAGE" >/dev/null 2>"$WORK/run-families.log" \
    || { cat "$WORK/run-families.log"; fail "podman run (families)"; }
containers+=("$RUN_ID-families")
wait_ready "$FAMILIES"
models=$(curl -s "http://127.0.0.1:$FAMILIES/models")
for family in siglip siglip2 chinese_clip xlm_roberta_clip; do
    grep -q "\"family\":\"$family\"" <<<"$models" || fail "the image does not serve the $family test model: $models"
done
scoring=$(curl -s -F image=@tests/assets/families/images/disc.png -F labels=cat -F labels=dog "http://127.0.0.1:$FAMILIES/classify")
grep -q '"scoring":"sigmoid"' <<<"$scoring" || fail "SigLIP 2 in the image does not score with a sigmoid: $scoring"
log "the image serves every model family (native tokenizer loaded)"
families_log=$("${P[@]}" logs "$RUN_ID-families" 2>&1)
grep -q 'libturbojpeg.so.0, SIMD' <<<"$families_log" || { grep -i 'ready' <<<"$families_log"; fail "the image decodes JPEG without the system's libjpeg-turbo"; }
log "JPEG pixels come from the libturbojpeg.so.0 shipped in the image"

# deploy/label-sets.Dockerfile on top of the image: the default model's label sets computed at build time (exec-form
# RUN in the chiseled runtime), then a container from it serves label_set=imagenet from the baked, read-only store
# without computing any set.
log "building $IMAGE-label-sets from deploy/label-sets.Dockerfile"
sets_started=$SECONDS
"${P[@]}" build --network=host --pull=never --format docker -q --build-arg IMAGE="$IMAGE" \
    -t "$IMAGE-label-sets" -f deploy/label-sets.Dockerfile . >"$WORK/build-sets.log" 2>&1 || { tail -40 "$WORK/build-sets.log"; fail "label-sets image build"; }
log "label-sets image built in $((SECONDS - sets_started)) s"
SETS=$(free_port)
"${P[@]}" run -d --name "$RUN_ID-sets" --network=host --read-only --tmpfs /tmp \
    -e ASPNETCORE_URLS="http://127.0.0.1:$SETS" "$IMAGE-label-sets" >/dev/null 2>"$WORK/run-sets.log" \
    || { cat "$WORK/run-sets.log"; fail "podman run (label sets)"; }
containers+=("$RUN_ID-sets")
sets_run=$SECONDS
wait_ready "$SETS"
code=$(curl -s -o "$WORK/sets.json" -w '%{http_code}' -F image=@"$IMAGE_FILE" -F label_set=imagenet "http://127.0.0.1:$SETS/classify")
[ "$code" = 200 ] || fail "label_set=imagenet from the baked store: $code $(cat "$WORK/sets.json")"
log "label_set=imagenet answered $((SECONDS - sets_run)) s after the container started"
sets_log=$("${P[@]}" logs "$RUN_ID-sets" 2>&1)
grep -q 'nothing to precompute' <<<"$sets_log" || { tail -20 <<<"$sets_log"; fail "the baked store did not hold every set"; }
if grep -q 'embedded for' <<<"$sets_log"; then fail "a set was computed despite the baked store"; fi

log "PASS: image $((image_bytes / 1000000)) MB, $((SECONDS - started)) s in all"
