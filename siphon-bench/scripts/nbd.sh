#!/usr/bin/env bash
# NBD serving: Siphon's server (siphon image serve) against qemu-nbd on the same qcow2 overlay over a
# qcow2 template of random data, in one run. For each server and each run: a fresh empty overlay, then
#   fio 4k randread, QD16, RUNTIME s (reads fall through the overlay to the template)
#   fio 4k randwrite, QD16, RUNTIME s (allocates clusters in the overlay)
#   nbdcopy of the whole SIZE_MIB disk to null: (sequential read; the second of two passes)
# Prints every figure, the medians and the ratios Siphon/qemu-nbd (above 1.0: Siphon is faster).
# Usage: siphon-bench/scripts/nbd.sh [RUNS]   (default 3; SIZE_MIB=1024 RUNTIME=10 in the environment)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
RUNS=${1:-3}
SIZE_MIB=${SIZE_MIB:-1024}
RUNTIME=${RUNTIME:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-nbd-bench.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in qemu-img qemu-nbd fio nbdcopy python3; do
    command -v "$tool" >/dev/null || { echo "siphon-bench/scripts/nbd.sh needs $tool" >&2; exit 1; }
done
./siphon --help >/dev/null # builds the command line when needed

echo "preparing a ${SIZE_MIB} MiB qcow2 template of random data in $WORK" >&2
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$WORK/random.raw"
qemu-img convert -q -f raw -O qcow2 "$WORK/random.raw" "$WORK/template.qcow2"
rm "$WORK/random.raw"
SOCK="$WORK/nbd.sock"
URI="nbd+unix:///?socket=$SOCK"

fresh_overlay() {
    rm -f "$WORK/overlay.qcow2"
    qemu-img create -q -f qcow2 -b template.qcow2 -F qcow2 "$WORK/overlay.qcow2"
}

start_server() { # siphon|qemu
    rm -f "$SOCK"
    if [ "$1" = siphon ]; then
        ./siphon image serve --socket "$SOCK" "$WORK/overlay.qcow2" >"$WORK/server.out" 2>&1 &
    else
        qemu-nbd -t --shared=16 -k "$SOCK" -f qcow2 "$WORK/overlay.qcow2" >"$WORK/server.out" 2>&1 &
    fi
    SERVER_PID=$!
    for _ in $(seq 1 1200); do
        [ -S "$SOCK" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.out" >&2; exit 1; }
        sleep 0.1
    done
    echo "$1 did not start" >&2; exit 1
}

stop_server() {
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

fio_iops() { # rw -> IOPS
    fio --name="$1" --ioengine=nbd --uri="$URI" --rw="$1" --bs=4k --iodepth=16 --size="${SIZE_MIB}M" \
        --runtime="$RUNTIME" --time_based --ramp_time=1 --output-format=json 2>/dev/null \
        | python3 -c 'import json,sys; t=sys.stdin.read(); j=json.loads(t[t.index("{"):])["jobs"][0]; print(int(j["read"]["iops"] + j["write"]["iops"]))'
}

copy_ms() {
    local t0 t1
    t0=$(date +%s%N)
    nbdcopy "$URI" null:
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A R
for ((i = 1; i <= RUNS; i++)); do
    # alternate who goes first so that page-cache warmth favours neither
    if ((i % 2)); then order="siphon qemu"; else order="qemu siphon"; fi
    for who in $order; do
        fresh_overlay
        start_server "$who"
        R[$who,read]+=" $(fio_iops randread)"
        R[$who,write]+=" $(fio_iops randwrite)"
        copy_ms >/dev/null # one discarded pass: a long-running server is measured warm, both alike
        R[$who,copy]+=" $(copy_ms)"
        stop_server
        echo "run $i $who: randread${R[$who,read]##* } randwrite${R[$who,write]##* } IOPS, copy ${R[$who,copy]##* } ms" >&2
    done
done

report() { # label key unit better(higher|lower)
    local s q ratio
    s=$(echo "${R[siphon,$2]}" | median)
    q=$(echo "${R[qemu,$2]}" | median)
    if [ "$4" = higher ]; then ratio=$(awk "BEGIN {printf \"%.2f\", $s / $q}"); else ratio=$(awk "BEGIN {printf \"%.2f\", $q / $s}"); fi
    printf '%-34s siphon [%s ] median %s %s; qemu-nbd [%s ] median %s %s; ratio %sx\n' \
        "$1" "${R[siphon,$2]}" "$s" "$3" "${R[qemu,$2]}" "$q" "$3" "$ratio"
}
echo "NBD bench: ${SIZE_MIB} MiB qcow2 overlay over a qcow2 template, $RUNS runs, fio ${RUNTIME} s at QD16"
report "fio 4k randread QD16" read IOPS higher
report "fio 4k randwrite QD16" write IOPS higher
report "nbdcopy ${SIZE_MIB} MiB to null:" copy ms lower
