#!/usr/bin/env bash
# Remote templates, Siphon and QEMU side by side in one run. A SIZE_MIB (1024) MiB random raw
# template; N (8) qcow2 clones of it; every byte the store sends is counted on the server side
# (range_server.py, which also stands in front of s3proxy).
#   1. the N clones over HTTP, pulled at once:
#        siphon-procs   one `siphon image pull` process per clone, sharing one cache directory;
#        siphon-daemon  one `siphon daemon --allow-remote-backing`, a domain per clone, N pulls
#                       (RemotePulls.java), as QEMU's one qemu-storage-daemon would run them;
#        qemu           one `qemu-img rebase -b ''` per clone (a full pull through the curl driver);
#   2. the same over a link throttled to RATE_MIB (50) MiB/s, all connections together;
#   3. the same from S3 (s3proxy, filesystem store): Siphon through the AWS SDK (s3://), QEMU
#      through its curl driver on the same object's URL;
#   4. a guest reading a clone whose template is remote: fio 4k randread QD4 for FIO_SECONDS (10) s on
#      the NBD export (Siphon: the daemon's export, no copy-on-read; QEMU: qemu-nbd over the clone,
#      the curl driver below), cold (a fresh cache / process) then warm (the same again).
# Each row: bytes the store sent, its requests, wall time, the CPU seconds the engine's processes
# used. Each daemon first pulls N clones of another WARM_MIB (64) MiB template, untimed, as a daemon
# that has run for a while would have its copy path compiled. Usage: siphon-bench/scripts/remote.sh   (N, SIZE_MIB, RATE_MIB, WARM_MIB, FIO_SECONDS, SECTIONS="1 2 3 4")
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
N=${N:-8}
SIZE_MIB=${SIZE_MIB:-1024}
RATE_MIB=${RATE_MIB:-50}
WARM_MIB=${WARM_MIB:-64}
FIO_SECONDS=${FIO_SECONDS:-10}
SECTIONS=${SECTIONS:-1 2 3 4}
HERE=siphon-bench/scripts
. "$HERE/remote-lib.sh"
bench_workdir remote

./siphon --help >/dev/null # builds the command line when needed
CP="siphon-cli/target/siphon-cli.jar:siphon-cli/target/lib/*"
TICKS=$(getconf CLK_TCK)
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); QEMU $(qemu-img --version | head -1 | cut -d' ' -f3)"
mkdir -p "$WORK/www"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/www/t.raw"
head -c $((WARM_MIB << 20)) /dev/urandom >"$WORK/www/warm.raw"

at_once() { # dir command...: runs it on each clone at once -> "ms cpu_s" (the processes' CPU)
    python3 - "$@" <<'EOF'
import glob, resource, subprocess, sys, time
clones = sorted(glob.glob(sys.argv[1] + "/c*.qcow2"))
start = time.monotonic()
procs = [subprocess.Popen(sys.argv[2:] + [c]) for c in clones]
if any(p.wait() for p in procs):
    sys.exit("a pull failed")
ms = (time.monotonic() - start) * 1000
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%d %.1f" % (ms, u.ru_utime + u.ru_stime))
EOF
}

DAEMON=
daemon_start() { # name [env...]: a daemon with remote backings and a fresh cache
    local state="$WORK/state-$1"
    rm -rf "$state"
    mkdir -p "$state"
    env "${@:2}" ./siphon daemon --state-dir "$state" --allow-remote-backing \
        --remote-cache-size $((2 * SIZE_MIB + 64)) >"$state.log" 2>&1 &
    DAEMON=$!
    PIDS+=("$DAEMON")
    SOCK="$state/siphon.sock"
    for _ in $(seq 600); do [ -S "$SOCK" ] && break; sleep 0.1; done
    [ -S "$SOCK" ] || { cat "$state.log"; exit 1; }
    # a daemon runs for long: N pulls of another, small template first, so that the figures are
    # of a daemon whose copy path is compiled (the JIT's first minutes are in the procs row)
    clones "$WORK/warm" "http://127.0.0.1:$PORT_http/warm.raw" "$N" "$WARM_MIB"
    driver pull "$SOCK" "$WORK/warm"/c*.qcow2 >/dev/null
    rm -rf "$WORK/warm"
    stats "$PORT_http" __reset >/dev/null
}
daemon_cpu() { awk -v t="$TICKS" '{printf "%.1f", ($14 + $15) / t}' "/proc/$DAEMON/stat"; }
daemon_stop() { kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; }
driver() { java --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" "$HERE/RemotePulls.java" "$@"; }

daemon_pulls() { # dir -> "ms cpu_s" (the daemon's CPU over the pulls)
    local before after out
    before=$(daemon_cpu)
    out=$(driver pull "$SOCK" "$1"/c*.qcow2)
    after=$(daemon_cpu)
    echo "$(echo "$out" | sed -n 's/^ms=\([0-9]*\).*/\1/p') $(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.1f", a - b}')"
}

header() { printf '%-14s %14s %9s %9s %8s\n' engine bytes-served requests ms cpu-s; }
row() { # engine port "ms cpu" -> one line; the server's counters are then reset
    local out
    out=$(stats "$2" __stats)
    printf '%-14s %14d %9d %9d %8s\n' "$1" "$(field "$out" bytes)" "$(field "$out" requests)" $3
    stats "$2" __reset >/dev/null
}
same() { for f in "$@"; do qemu-img compare -q "$f" "$WORK/www/t.raw"; done; }

engine() { # engine port url command...: N fresh clones of url, the command's pulls of them, a row
    clones "$WORK/$1" "$3" "$N"
    row "$1" "$2" "$("${@:4}" "$WORK/$1")"
    same "$WORK/$1/c1.qcow2"
    rm -rf "$WORK/$1"
}
procs_pulls() { at_once "$1" ./siphon image pull --allow-remote-backing --cache-dir "$1.cache"; }
qemu_pulls() { at_once "$1" qemu-img rebase -f qcow2 -b ''; }

pulls() { # port siphon-url qemu-url [procs]: the engines on N fresh clones each
    header
    if [ "${4:-}" = procs ]; then
        engine siphon-procs "$1" "$2" procs_pulls
        rm -rf "$WORK/siphon-procs.cache"
    fi
    engine siphon-daemon "$1" "$2" daemon_pulls
    engine qemu "$1" "$3" qemu_pulls
}

fio_iops() { # uri -> IOPS of one fio run, or "stalled" when it is not done long after its time
    local out
    out=$(timeout -s KILL $((6 * FIO_SECONDS + 60)) fio --name=guest --ioengine=nbd --uri="$1" --rw=randread \
        --bs=4k --iodepth=4 --runtime="$FIO_SECONDS" --time_based --output-format=json) || { echo stalled; return; }
    # fio says "connected" before its JSON
    python3 -c "import json,sys;t=sys.argv[1];print('%.0f' % json.loads(t[t.index('{'):])['jobs'][0]['read']['iops'])" "$out"
}

serve http "$WORK/www"
URL="http://127.0.0.1:$PORT_http/t.raw"
stats "$PORT_http" __reset >/dev/null

for section in $SECTIONS; do
    case $section in
    1)
        echo
        echo "1. $N clones of a $SIZE_MIB MiB template over HTTP, pulled at once"
        daemon_start http
        pulls "$PORT_http" "$URL" "$URL" procs
        daemon_stop
        ;;
    2)
        echo
        echo "2. the same over a link of $RATE_MIB MiB/s"
        serve slow --rate "$RATE_MIB" "$WORK/www"
        daemon_start slow
        pulls "$PORT_slow" "http://127.0.0.1:$PORT_slow/t.raw" "http://127.0.0.1:$PORT_slow/t.raw"
        daemon_stop
        ;;
    3)
        echo
        echo "3. the same from S3 (s3proxy)"
        s3proxy_start
        serve s3 --upstream "$S3PORT"
        stats "$PORT_s3" __reset >/dev/null
        daemon_start s3 SIPHON_S3_ENDPOINT="http://127.0.0.1:$PORT_s3" AWS_ACCESS_KEY_ID=bench \
            AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
        pulls "$PORT_s3" s3://templates/t.raw "http://127.0.0.1:$PORT_s3/templates/t.raw"
        daemon_stop
        ;;
    4)
        echo
        echo "4. fio 4k randread QD4, $FIO_SECONDS s, on a clone whose template is on HTTP: IOPS cold, then warm"
        clones "$WORK/guest" "$URL" 1
        daemon_start guest
        mkfifo "$WORK/hold"
        driver serve "$SOCK" "$WORK/guest/c1.qcow2" <"$WORK/hold" >"$WORK/guest.uri" &
        PIDS+=($!) # on a failure, cleanup's kill ends it (it would wait for the FIFO's writer, the script)
        exec 7>"$WORK/hold"
        for _ in $(seq 600); do [ -s "$WORK/guest.uri" ] && break; sleep 0.1; done
        cold=$(fio_iops "$(cat "$WORK/guest.uri")")
        warm=$(fio_iops "$(cat "$WORK/guest.uri")")
        echo "siphon   cold $cold IOPS, warm $warm IOPS  (server: $(stats "$PORT_http" __stats))"
        stats "$PORT_http" __reset >/dev/null
        exec 7>&-
        wait $!
        daemon_stop
        qemu-nbd -r -t -f qcow2 -k "$WORK/qemu.sock" -x guest "$WORK/guest/c1.qcow2" >"$WORK/qemu-nbd.log" 2>&1 &
        QNBD=$!
        PIDS+=("$QNBD")
        for _ in $(seq 100); do [ -S "$WORK/qemu.sock" ] && break; sleep 0.1; done
        cold=$(fio_iops "nbd+unix:///guest?socket=$WORK/qemu.sock")
        warm=$(fio_iops "nbd+unix:///guest?socket=$WORK/qemu.sock")
        echo "qemu     cold $cold IOPS, warm $warm IOPS  (server: $(stats "$PORT_http" __stats))"
        stats "$PORT_http" __reset >/dev/null
        kill "$QNBD"
        ;;
    esac
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
