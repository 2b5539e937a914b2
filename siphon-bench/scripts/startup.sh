#!/usr/bin/env bash
# Start-up of a CLI command, as scripts see it: wall time of whole processes, N runs each, on the
# same qcow2 file:
#   siphon image info FILE           (with the JDK's start-up cache, the launcher's default)
#   siphon image info FILE           (SIPHON_AOT=0: no cache, for comparison)
#   siphon blockjob d vda --info     (against a running daemon, over its socket)
#   qemu-img info FILE               (the anchor)
# Prints the medians, the ratios to qemu-img's and the load average (figures taken on a busy
# machine are noise).
# Usage: siphon-bench/scripts/startup.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
RUNS=${1:-20}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-startup-bench.XXXXXX")
DAEMON_PID=
cleanup() {
    if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
command -v qemu-img >/dev/null || { echo "siphon-bench/scripts/startup.sh needs qemu-img" >&2; exit 1; }

./siphon --version >/dev/null # builds the command line when needed, and starts building the cache
aot=siphon-cli/target/siphon.aot
for _ in $(seq 600); do
    [ -f "$aot.stamp" ] && break
    sleep 0.5
done
[ -f "$aot.stamp" ] || { echo "no start-up cache after 5 minutes: see siphon-cli/target/aot.log" >&2; exit 1; }

qemu-img create -q -f qcow2 "$WORK/disk.qcow2" 1G
./siphon daemon --state-dir "$WORK/state" >"$WORK/daemon.out" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 600); do
    [ -S "$WORK/state/siphon.sock" ] && break
    sleep 0.1
done
URI="siphon+unix://$WORK/state/siphon.sock"
cat >"$WORK/d.xml" <<XML
<domain><name>d</name><devices><disk type='file' device='disk'>
<driver name='qemu' type='qcow2'/><source file='$WORK/disk.qcow2'/><target dev='vda'/>
</disk></devices></domain>
XML
./siphon -c "$URI" define "$WORK/d.xml" >/dev/null
./siphon -c "$URI" start d >/dev/null

# milliseconds of wall time of one run of "$@", its output discarded
run_ms() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

declare -A results
names=("siphon image info" "siphon image info (no cache)" "siphon blockjob --info" "qemu-img info")
for _ in $(seq "$RUNS"); do
    results[0]+="$(run_ms ./siphon image info "$WORK/disk.qcow2") "
    results[1]+="$(SIPHON_AOT=0 run_ms ./siphon image info "$WORK/disk.qcow2") "
    results[2]+="$(run_ms ./siphon -c "$URI" blockjob d vda --info) "
    results[3]+="$(run_ms qemu-img info "$WORK/disk.qcow2") "
done
qemu=$(echo "${results[3]}" | tr ' ' '\n' | grep . | median)
echo "runs: $RUNS; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for i in 0 1 2 3; do
    m=$(echo "${results[$i]}" | tr ' ' '\n' | grep . | median)
    printf '%-30s median %5d ms   %6.1fx qemu-img\n' "${names[$i]}" "$m" "$(echo "$m $qemu" | awk '{ print $1 / ($2 > 0 ? $2 : 1) }')"
done
./siphon -c "$URI" destroy d >/dev/null
