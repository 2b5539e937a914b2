#!/usr/bin/env bash
# Block pull benchmark: Siphon's stream job against qemu-storage-daemon's block-stream (QMP over a
# unix socket) on the same files, in one run. Prints medians and the Siphon/QEMU time ratio for:
#   1. a full pull of a SIZE_MIB (1024) MiB random-data qcow2 base under an empty qcow2 top;
#   2. a 1 TiB virtual template holding 64 MiB of data;
#   3. Siphon's rate accuracy at 10 and 100 MiB/s over 10 s while 4 guest threads read the disk
#      (flat out, and paced to 200 MiB/s together).
# Usage: siphon-bench/scripts/pull.sh [RUNS]   (RUNS >= 5, default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
RUNS=${1:-5}
SIZE_MIB=${SIZE_MIB:-1024}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-pull-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

mvn -B -q -ntp -pl siphon-bench -am package -DskipTests >&2
CP="siphon-bench/target/classes:siphon-bench/target/lib/*"

# Siphon's time runs from the job's start to its end: the data is durable (flushed) before the
# backing link changes, as the crash test requires.
siphon_pull() { # image -> ms
    java --enable-native-access=ALL-UNNAMED -cp "$CP" io.siphon.bench.PullBench pull "$1" 2>/dev/null \
        | sed -n 's/^ms=\([0-9]*\).*/\1/p'
}

# QEMU's time runs from block-stream to the daemon's exit after quit: the job's event comes before
# the copied data is durable (QEMU flushes when the node closes), Siphon's after.
qemu_pull() { # image -> ms
    local sock="$WORK/qmp.sock" pid ms
    rm -f "$sock"
    qemu-storage-daemon --chardev "socket,path=$sock,server=on,wait=off,id=qmp0" --monitor chardev=qmp0 \
        --blockdev "{\"driver\":\"qcow2\",\"node-name\":\"top\",\"file\":{\"driver\":\"file\",\"filename\":\"$1\"}}" &
    pid=$!
    if ! ms=$(python3 siphon-bench/scripts/qmp_stream.py "$sock" | sed -n 's/^ms=[0-9]* durable_ms=//p') || [ -z "$ms" ]; then
        kill "$pid" 2>/dev/null
        echo "qemu-storage-daemon block-stream failed" >&2
        exit 1
    fi
    wait "$pid" 2>/dev/null || true
    echo "$ms"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

fresh_top() { # base top
    rm -f "$2"
    qemu-img create -q -f qcow2 -b "$(basename "$1")" -F qcow2 "$2"
}

require_pulled() { # top reference
    if qemu-img info "$1" | grep -q '^backing file'; then
        echo "pull left a backing link on $1" >&2; exit 1
    fi
}

bench_pair() { # label base runs
    local label=$1 base=$2 runs=$3 top="$WORK/top.qcow2" s=() q=() i
    for ((i = 1; i <= runs; i++)); do
        # alternate who goes first so that page-cache warmth favours neither
        if ((i % 2)); then order="siphon qemu"; else order="qemu siphon"; fi
        for who in $order; do
            fresh_top "$base" "$top"
            sync # start each timed pull with no dirty pages of an earlier round left to write back
            if [ "$who" = siphon ]; then s+=("$(siphon_pull "$top")"); else q+=("$(qemu_pull "$top")"); fi
            echo "  run $i $who: $([ "$who" = siphon ] && echo "${s[-1]}" || echo "${q[-1]}") ms" >&2
            require_pulled "$top"
            if ((i == 1)); then qemu-img compare -q "$base" "$top" || { echo "$who: content differs" >&2; exit 1; }; fi
        done
    done
    local sm qm
    sm=$(echo "${s[*]}" | median)
    qm=$(echo "${q[*]}" | median)
    echo "$label: siphon ms [${s[*]}] median $sm; qemu ms [${q[*]}] median $qm; ratio siphon/qemu $(awk "BEGIN {printf \"%.2f\", $sm / $qm}")"
}

echo "== building a ${SIZE_MIB} MiB random-data qcow2 base"
head -c "${SIZE_MIB}M" /dev/urandom > "$WORK/base.raw"
qemu-img convert -f raw -O qcow2 "$WORK/base.raw" "$WORK/base.qcow2"
rm "$WORK/base.raw"
bench_pair "full pull ${SIZE_MIB} MiB" "$WORK/base.qcow2" "$RUNS"

echo "== building a 1 TiB template with 64 MiB of data"
qemu-img create -q -f qcow2 "$WORK/sparse.qcow2" 1T
cmds=()
for ((k = 0; k < 64; k++)); do cmds+=(-c "write -P $((k + 1)) $((k * 16))G 1M"); done
qemu-io -f qcow2 "${cmds[@]}" "$WORK/sparse.qcow2" >/dev/null
bench_pair "1 TiB template, 64 MiB data" "$WORK/sparse.qcow2" 3

echo "== rate accuracy over 10 s, 4 guest threads reading the disk at GUEST MiB/s together (0 = flat out)"
for guest in 0 200; do
    for mib in 10 100; do
        fresh_top "$WORK/base.qcow2" "$WORK/top.qcow2"
        echo "limit ${mib} MiB/s, guest ${guest}: $(java --enable-native-access=ALL-UNNAMED -cp "$CP" \
            io.siphon.bench.PullBench rate "$WORK/top.qcow2" $((mib << 20)) 10 $((guest << 20)) 2>/dev/null)"
    done
done
