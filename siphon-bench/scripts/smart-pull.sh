#!/usr/bin/env bash
# Smart pull benchmark (issue 18), side by side in one run (see smart_pull.py for each figure):
#   pacing: guest IOPS kept and p99 against idle, and pull time, for Siphon unlimited, 100 MiB/s
#     and --pace guest, and QEMU's block-stream unlimited and at 100 MiB/s, on the same files, under
#     steady and intermittent (2 s on, 2 s off) fio 4k randread QD4 over the disk's NBD export; each
#     pull against the guest's idle runs just before and after it, REPEATS interleaved rounds, medians;
#   prefetch: time until a scripted boot's hot clusters are local, pulling in profile and in offset
#     order, and the second boot's read latency meanwhile.
# Usage: siphon-bench/scripts/smart-pull.sh   (SIZE_MIB=1024 PULL_S=40 REPEATS=3 PARTS="pacing prefetch"
#   ONLY="siphon --pace guest steady|qemu unlimited": only the pulls whose "engine label load" has a part)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
SIZE_MIB=${SIZE_MIB:-1024}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-smart-pull.XXXXXX")
DAEMON_PID=
cleanup() {
    if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in qemu-img qemu-io qemu-storage-daemon fio python3; do
    command -v "$tool" >/dev/null || { echo "siphon-bench/scripts/smart-pull.sh needs $tool" >&2; exit 1; }
done
./siphon --help >/dev/null # builds the command line when needed

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "preparing a ${SIZE_MIB} MiB qcow2 template of random data" >&2
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$WORK/random.raw"
qemu-img convert -q -f raw -O qcow2 "$WORK/random.raw" "$WORK/template.qcow2"
rm "$WORK/random.raw"

./siphon daemon --state-dir "$WORK/state" >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
python3 siphon-bench/scripts/smart_pull.py "$WORK" "$WORK/state/siphon.sock" || {
    tail -n 30 "$WORK/daemon.log" >&2
    exit 1
}
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
