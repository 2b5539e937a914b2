#!/usr/bin/env bash
# docs/scale.md's simulation: N processes standing for N hosts (HOSTS, "1 2 4 8"), each host with a
# chunk cache of its own, each pulling CLONES (1) qcow2 clones of one SIZE_MIB (256) MiB random raw
# template from one s3proxy, all hosts at once. range_server.py stands in front of the store and
# counts what it serves; with RATE_MIB it is also the store's link (MiB/s over every host together,
# 0: unlimited). For each N: the bytes the store served (and per host, in templates), its requests,
# each host's time from the common start to its last pull's end (mean and max), and the store's
# aggregate rate. A host is one `siphon image pull` process per clone (its clones share its cache
# directory, so the host fetches each chunk once).
# Usage: siphon-bench/scripts/scale.sh   (HOSTS, CLONES, SIZE_MIB, RATE_MIB from the environment)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
HOSTS=${HOSTS:-1 2 4 8}
CLONES=${CLONES:-1}
SIZE_MIB=${SIZE_MIB:-256}
RATE_MIB=${RATE_MIB:-0}
HERE=siphon-bench/scripts
. "$HERE/remote-lib.sh"
bench_workdir scale

./siphon --help >/dev/null # builds the command line when needed
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$WORK/www"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/www/t.raw"
s3proxy_start
serve store --rate "$RATE_MIB" --upstream "$S3PORT"
export SIPHON_S3_ENDPOINT="http://127.0.0.1:$PORT_store" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
    AWS_REGION=us-east-1
echo "$CLONES clone(s) per host of a $SIZE_MIB MiB template in s3proxy; store link: $([ "$RATE_MIB" = 0 ] && echo unlimited || echo "$RATE_MIB MiB/s")"
printf '%5s %14s %14s %9s %10s %10s %12s\n' hosts store-bytes per-host-tmpl requests mean-s max-s store-MiB/s
for n in $HOSTS; do
    for h in $(seq "$n"); do
        clones "$WORK/h$h" s3://templates/t.raw "$CLONES"
    done
    stats "$PORT_store" __reset >/dev/null
    times=$(python3 - "$WORK" "$n" <<'EOF'
import glob, os, subprocess, sys, time
work, n = sys.argv[1], int(sys.argv[2])
start = time.monotonic()
host_of = {}
for h in range(1, n + 1):
    cache = "%s/h%d/cache" % (work, h)
    for c in sorted(glob.glob("%s/h%d/c*.qcow2" % (work, h))):
        p = subprocess.Popen(["./siphon", "image", "pull", "--allow-remote-backing", "--cache-dir", cache, c])
        host_of[p.pid] = h
end = {}
for _ in range(len(host_of)):
    pid, status = os.wait()  # each process as it ends, whichever host it stands for
    if status != 0:
        sys.exit("a pull failed")
    end[host_of[pid]] = time.monotonic() - start  # a host ends with its last pull
ends = list(end.values())
print("%.2f %.2f" % (sum(ends) / n, max(ends)))
EOF
    )
    out=$(stats "$PORT_store" __stats)
    bytes=$(field "$out" bytes)
    read -r mean max <<<"$times"
    printf '%5d %14d %14.2f %9d %10s %10s %12.1f\n' "$n" "$bytes" \
        "$(awk -v b="$bytes" -v n="$n" -v s="$SIZE_MIB" 'BEGIN {print b / n / (s * 1048576)}')" \
        "$(field "$out" requests)" "$mean" "$max" "$(awk -v b="$bytes" -v t="$max" 'BEGIN {print b / 1048576 / t}')"
    qemu-img compare -q "$WORK/h1/c1.qcow2" "$WORK/www/t.raw"
    for h in $(seq "$n"); do rm -rf "$WORK/h$h"; done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
