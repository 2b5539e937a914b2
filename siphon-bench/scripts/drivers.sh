#!/usr/bin/env bash
# The two drivers side by side: the same public-API calls (siphon-bench/scripts/DriversBench.java) through
# embedded:///DIR (Siphon's engine) and qemu:///DIR (qemu-storage-daemon over QMP) on the same files,
# in one run. Prints each figure for both and the embedded/qemu ratio:
#   1. a full pull of a SIZE_MIB (1024) MiB random-data raw template under a fresh qcow2 clone
#      (median of RUNS), from blockPull to the COMPLETED event;
#   2. guest I/O during a pull at 100 MiB/s: fio (nbd engine, 4k randread, QD4) on the disk's NBD
#      export for SECONDS, IOPS and p99 latency, against the same fio without a pull (IOPS kept);
#   3. rate accuracy at 10 and 100 MiB/s: the job's own progress over SECONDS.
# Usage: siphon-bench/scripts/drivers.sh [RUNS]   (default 3; SIZE_MIB, and BENCH_SECONDS (5) for 2 and 3, from the
# environment; SIZE_MIB must hold more than (BENCH_SECONDS + 1) s at 100 MiB/s)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
RUNS=${1:-3}
SIZE_MIB=${SIZE_MIB:-1024}
SECONDS_EACH=${BENCH_SECONDS:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-drivers-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

./siphon --help >/dev/null # builds the CLI (and its class path) when it is stale
CP="siphon-cli/target/siphon-cli.jar:siphon-cli/target/lib/*"

bench() { # mode driver args... -> the program's one line
    local uri="$2://$WORK/state-$2"
    fresh_top
    java --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" \
        siphon-bench/scripts/DriversBench.java "$1" "$uri" "$WORK/top.qcow2" "${@:3}"
}

fresh_top() {
    rm -f "$WORK/top.qcow2"
    qemu-img create -q -f qcow2 -b base.raw -F raw "$WORK/top.qcow2"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { sed -n "s/.*$1=\\([-0-9.]*\\).*/\\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b == 0) ? 0 : a / b}'; }

head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/base.raw"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); QEMU $(qemu-img --version | head -1 | cut -d' ' -f3)"

echo "1. full pull of $SIZE_MIB MiB (median of $RUNS)"
for driver in embedded qemu; do
    times=""
    for _ in $(seq "$RUNS"); do
        times="$times $(bench pull "$driver" | field ms)"
    done
    eval "pull_$driver=$(echo "$times" | median)"
    echo "   $driver: $(eval echo "\$pull_$driver") ms  (runs:$times)"
done
echo "   time ratio embedded/qemu: $(ratio "$pull_embedded" "$pull_qemu")"

echo "2. fio 4k randread QD4 on the NBD export for ${SECONDS_EACH} s, alone and during a pull at 100 MiB/s"
for driver in embedded qemu; do
    alone=$(bench guest "$driver" 0 "$SECONDS_EACH")
    during=$(bench guest "$driver" 100 "$SECONDS_EACH")
    a_iops=$(echo "$alone" | field iops); d_iops=$(echo "$during" | field iops)
    eval "iops_$driver=$d_iops"; eval "p99_$driver=$(echo "$during" | field p99_us)"
    echo "   $driver: alone $a_iops IOPS p99 $(echo "$alone" | field p99_us) us;" \
        "during the pull $d_iops IOPS p99 $(echo "$during" | field p99_us) us; kept $(ratio "$d_iops" "$a_iops")"
done
echo "   IOPS ratio during the pull embedded/qemu: $(ratio "$iops_embedded" "$iops_qemu");" \
    "p99 ratio: $(ratio "$p99_embedded" "$p99_qemu")"

echo "3. rate accuracy over ${SECONDS_EACH} s"
for mib in 10 100; do
    for driver in embedded qemu; do
        echo "   $mib MiB/s $driver: $(bench rate "$driver" "$mib" "$SECONDS_EACH")"
    done
done
