#!/usr/bin/env bash
# VM figures (issue 12, item 6), both drivers side by side in one run:
#   1. time from `siphon start` to the guest's first console line, booting from a thin qcow2 clone
#      of the template and from a full copy of it;
#   2. the guest's own read throughput (O_DIRECT, 128 MiB chunks around its disk) with no pull,
#      while its clone is pulled at 100 MiB/s, and while it is pulled unlimited.
# Each driver runs in its own `siphon daemon --driver D`. The guest is scripts/make-guest's; the
# accelerator is the probe's unless SIPHON_ACCEL says otherwise (figures under TCG measure QEMU's
# emulation as much as the storage). Prints medians over RUNS boots.
# Usage: siphon-bench/scripts/vm.sh [RUNS]   (default 3; SIZE_MIB=512 sets the template's size, DRIVERS="embedded qemu"
# the drivers)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. scripts/env.sh
siphon_find_jdk
RUNS=${1:-3}
SIZE_MIB=${SIZE_MIB:-512}
DRIVERS=${DRIVERS:-embedded qemu}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-vm-bench.XXXXXX")
daemons=()
cleanup() {
    for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

CHUNK_MIB=128
cat >"$WORK/guest.sh" <<GUEST
dev=\$1
echo "guest: up"
size=\$(( \$(blockdev --getsize64 \$dev) >> 20 ))
k=0
while [ "\$(dd if=/dev/vdb bs=512 count=1 iflag=direct 2>/dev/null | head -c 4)" != "ssss" ]; do
    t0=\$(cut -d' ' -f1 /proc/uptime)
    dd if=\$dev of=/dev/null bs=1M count=$CHUNK_MIB skip=\$(( (k * $CHUNK_MIB) % size )) iflag=direct 2>/dev/null
    t1=\$(cut -d' ' -f1 /proc/uptime)
    echo "guest: chunk \$(echo "\$t0 \$t1" | awk '{printf "%.3f", \$2 - \$1}')"
    k=\$((k + 1))
done
GUEST
scripts/make-guest "$WORK/guest" "$WORK/guest.sh" >/dev/null
./siphon --help >/dev/null # builds the CLI once, before anything is timed

echo "template: $SIZE_MIB MiB of random data" >&2
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/template.raw"
qemu-img convert -O qcow2 "$WORK/template.raw" "$WORK/full.qcow2"

now_ms() { date +%s%3N; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

start_daemon() { # driver -> uri
    local state=$WORK/state-$1
    mkdir -p "$state"
    ./siphon daemon --state-dir "$state" --driver "$1" >"$state/daemon.out" 2>&1 &
    daemons+=($!)
    for _ in $(seq 600); do
        [ -S "$state/siphon.sock" ] && { echo "siphon+unix://$state/siphon.sock"; return; }
        sleep 0.1
    done
    echo "daemon --driver $1 did not start: $(tail -3 "$state/daemon.out")" >&2; exit 1
}

domain_xml() { # name disk console control
    cat <<XML
<domain type='kvm'><name>$1</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type>hvm</type><kernel>$WORK/guest/vmlinuz</kernel><initrd>$WORK/guest/initrd.img</initrd>
<cmdline>console=ttyS0 panic=-1 quiet</cmdline></os><devices>
<disk type='file'><driver type='qcow2'/><source file='$2'/><target dev='vda' bus='virtio'/></disk>
<disk type='file'><driver type='raw'/><source file='$4'/><target dev='vdb' bus='virtio'/></disk>
<serial type='file'><source path='$3'/></serial></devices></domain>
XML
}

await_line() { # console pattern
    for _ in $(seq 3000); do
        grep -qa "$2" "$1" 2>/dev/null && return
        sleep 0.05
    done
    echo "no '$2' on $1" >&2; exit 1
}

# boots NAME from DISK; prints the ms from `start` to the first console line
boot() { # uri name disk
    local console=$WORK/$2.console control=$WORK/$2.control
    rm -f "$console"
    head -c 1048576 /dev/zero >"$control"
    domain_xml "$2" "$3" "$console" "$control" >"$WORK/$2.xml"
    ./siphon -c "$1" define "$WORK/$2.xml" >/dev/null
    local t0 t1
    t0=$(now_ms)
    ./siphon -c "$1" start "$2" >/dev/null
    await_line "$console" "guest: "
    t1=$(now_ms)
    echo $((t1 - t0))
}

chunks() { grep -a "guest: chunk" "$1" | awk '{print $3}'; }

# MiB/s over the chunks read between line counts FROM and TO
throughput() { # console from to
    chunks "$1" | sed -n "$(($2 + 1)),$3p" | awk -v mib="$CHUNK_MIB" '{s += $1; n++} END {if (n && s > 0) printf "%.1f", mib * n / s; else print "n/a"}'
}

stop() { # uri name
    printf 'ssss' | dd of="$WORK/$2.control" conv=notrunc 2>/dev/null || true
    ./siphon -c "$1" destroy "$2" >/dev/null 2>&1 || true
    ./siphon -c "$1" undefine "$2" >/dev/null
}

# reads while DISK's pull runs at BANDWIDTH (MiB/s, 0 = unlimited); prints the guest's MiB/s
read_during_pull() { # uri name bandwidth
    local clone=$WORK/$2.qcow2 console=$WORK/$2.console
    rm -f "$clone"
    qemu-img create -q -f qcow2 -b template.raw -F raw "$clone"
    boot "$1" "$2" "$clone" >/dev/null
    await_line "$console" "guest: chunk"
    local from to
    from=$(chunks "$console" | wc -l)
    if [ "$3" = 0 ]; then
        ./siphon -c "$1" blockpull "$2" vda --wait >/dev/null
    else
        ./siphon -c "$1" blockpull "$2" vda --bandwidth "$3" --wait >/dev/null
    fi
    to=$(chunks "$console" | wc -l)
    if [ "$to" -le "$from" ]; then # the pull ended within one chunk: count the chunk it overlapped
        await_line "$console" "guest: chunk"
        to=$((from + 1))
    fi
    throughput "$console" "$from" "$to"
    stop "$1" "$2"
}

# reads with no pull, from the full copy: MiB/s over 4 chunks
read_alone() { # uri name
    local console=$WORK/$2.console
    boot "$1" "$2" "$WORK/full.qcow2" >/dev/null
    for _ in $(seq 600); do [ "$(chunks "$console" | wc -l)" -ge 5 ] && break; sleep 0.1; done
    throughput "$console" 1 5
    stop "$1" "$2"
}

declare -A result
for driver in $DRIVERS; do
    uri=$(start_daemon "$driver")
    thin=() full=() alone=() limited=() unlimited=()
    for run in $(seq "$RUNS"); do
        rm -f "$WORK/thin.qcow2"
        qemu-img create -q -f qcow2 -b template.raw -F raw "$WORK/thin.qcow2"
        thin+=("$(boot "$uri" thin "$WORK/thin.qcow2")"); stop "$uri" thin
        full+=("$(boot "$uri" full "$WORK/full.qcow2")"); stop "$uri" full
        alone+=("$(read_alone "$uri" alone)")
        limited+=("$(read_during_pull "$uri" pull100 100)")
        unlimited+=("$(read_during_pull "$uri" pullmax 0)")
        echo "$driver run $run: boot thin ${thin[-1]} ms, full ${full[-1]} ms; guest reads ${alone[-1]} MiB/s alone, ${limited[-1]} during a 100 MiB/s pull, ${unlimited[-1]} during an unlimited pull" >&2
    done
    result[$driver,thin]=$(echo "${thin[*]}" | median)
    result[$driver,full]=$(echo "${full[*]}" | median)
    result[$driver,alone]=$(echo "${alone[*]}" | median)
    result[$driver,limited]=$(echo "${limited[*]}" | median)
    result[$driver,unlimited]=$(echo "${unlimited[*]}" | median)
done

accel=${SIPHON_ACCEL:-auto}
echo
echo "VM figures: $SIZE_MIB MiB random-data template, medians of $RUNS, accelerator $accel"
printf '%-48s %12s %12s\n' "" embedded qemu
printf '%-48s %12s %12s\n' "start -> first console line, thin clone (ms)" "${result[embedded,thin]:-}" "${result[qemu,thin]:-}"
printf '%-48s %12s %12s\n' "start -> first console line, full copy (ms)" "${result[embedded,full]:-}" "${result[qemu,full]:-}"
printf '%-48s %12s %12s\n' "guest read MiB/s, no pull (full copy)" "${result[embedded,alone]:-}" "${result[qemu,alone]:-}"
printf '%-48s %12s %12s\n' "guest read MiB/s, during a 100 MiB/s pull" "${result[embedded,limited]:-}" "${result[qemu,limited]:-}"
printf '%-48s %12s %12s\n' "guest read MiB/s, during an unlimited pull" "${result[embedded,unlimited]:-}" "${result[qemu,unlimited]:-}"
