#!/usr/bin/env bash
# Remote templates: N (8) qcow2 clones of one SIZE_MIB (1024) MiB random raw template on an HTTP
# server, pulled at once, side by side in one run:
#   Siphon: one `siphon image pull` process per clone, sharing one chunk cache directory;
#   QEMU:   one `qemu-img rebase -b ''` per clone (a full pull through QEMU's curl driver).
# Prints, for each, the bytes the server sent (counted on the server side), its requests, the wall
# time, and the ratios. Usage: siphon-bench/scripts/remote.sh   (N=.. SIZE_MIB=.. to change)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
N=${N:-8}
SIZE_MIB=${SIZE_MIB:-1024}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-remote-bench.XXXXXX")
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

./siphon --help >/dev/null # builds the command line when needed
mkdir -p "$WORK/www"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/www/t.raw"
python3 siphon-bench/scripts/range_server.py "$WORK/www" >"$WORK/port" &
SERVER=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
URL="http://127.0.0.1:$PORT/t.raw"

stats() { python3 -c "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())" "http://127.0.0.1:$PORT/$1"; }
field() { python3 -c "import json,sys;print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

clones() { # dir: N clones of the template, made without opening it (the pull alone is measured)
    mkdir -p "$1"
    for i in $(seq "$N"); do
        qemu-img create -q -f qcow2 -u -b "$URL" -F raw "$1/c$i.qcow2" "${SIZE_MIB}M"
    done
}

run() { # name dir command... (the clone's path is appended) -> "name bytes requests ms"
    local name=$1 dir=$2 start end out
    shift 2
    stats __reset >/dev/null
    start=$(date +%s%N)
    for i in $(seq "$N"); do "$@" "$dir/c$i.qcow2" & done
    wait $(jobs -p | grep -v "^$SERVER\$")
    end=$(date +%s%N)
    out=$(stats __stats)
    echo "$name $(field "$out" bytes) $(field "$out" requests) $(((end - start) / 1000000))"
}

clones "$WORK/siphon"
clones "$WORK/qemu"
S=$(run siphon "$WORK/siphon" ./siphon image pull --allow-remote-backing --cache-dir "$WORK/cache")
Q=$(run qemu "$WORK/qemu" qemu-img rebase -f qcow2 -b '')
for f in "$WORK/siphon/c1.qcow2" "$WORK/qemu/c1.qcow2"; do
    qemu-img compare -q "$f" "$WORK/www/t.raw"
done

read -r _ sb sr sms <<<"$S"
read -r _ qb qr qms <<<"$Q"
printf '%d clones of a %d MiB template over HTTP, pulled at once\n' "$N" "$SIZE_MIB"
printf '%-8s %14s %10s %10s\n' engine bytes-served requests ms
printf '%-8s %14d %10d %10d\n' siphon "$sb" "$sr" "$sms" qemu "$qb" "$qr" "$qms"
python3 -c "import sys; sb,qb,sms,qms=map(int,sys.argv[1:]); print('bytes siphon/qemu = %.3f, time siphon/qemu = %.2f' % (sb/qb, sms/qms))" "$sb" "$qb" "$sms" "$qms"
