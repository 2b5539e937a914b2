# What remote.sh and scale.sh share (sourced; they set HERE and SIZE_MIB): a work directory, the
# counting HTTP servers, the s3proxy store, and clones made without opening their template.

bench_workdir() { # name: sets WORK, removed at exit once every process in PIDS is stopped
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/siphon-$1-bench.XXXXXX")
    PIDS=()
    trap bench_cleanup EXIT
}
bench_cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

serve() { # name args...: a range_server.py; sets PORT_name
    python3 "$HERE/range_server.py" "${@:2}" >"$WORK/$1.port" &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$WORK/$1.port" ] && break; sleep 0.1; done
    eval "PORT_$1=$(cat "$WORK/$1.port")"
}
stats() { python3 -c "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())" "http://127.0.0.1:$1/$2"; }
field() { python3 -c "import json,sys;print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

clones() { # dir url count [MiB]: count clones of a template of MiB (SIZE_MIB), made without opening it (the pull alone is measured)
    rm -rf "$1"
    mkdir -p "$1"
    for i in $(seq "$3"); do
        qemu-img create -q -f qcow2 -u -b "$2" -F raw "$1/c$i.qcow2" "${4:-$SIZE_MIB}M"
    done
}

# s3proxy (org.gaul:s3proxy from Maven Central, run from its own class path; a filesystem store, no
# authentication) with bucket "templates" holding WORK/www/t.raw; sets S3PORT
s3proxy_start() {
    local dir="$WORK/s3proxy"
    mkdir -p "$dir/blobs"
    printf '%s\n' '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>' \
        '<groupId>bench</groupId><artifactId>s3proxy-runner</artifactId><version>1</version>' \
        '<dependencies><dependency><groupId>org.gaul</groupId><artifactId>s3proxy</artifactId>' \
        '<version>2.6.0</version></dependency></dependencies></project>' >"$dir/pom.xml"
    (cd "$dir" && mvn -B -ntp -q dependency:build-classpath -Dmdep.outputFile=cp.txt >/dev/null 2>&1)
    S3PORT=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
    printf 's3proxy.endpoint=http://127.0.0.1:%s\ns3proxy.authorization=none\njclouds.provider=filesystem\njclouds.filesystem.basedir=%s\n' \
        "$S3PORT" "$dir/blobs" >"$dir/s3.properties"
    java -cp "$(cat "$dir/cp.txt")" org.gaul.s3proxy.Main --properties "$dir/s3.properties" >"$dir/log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$S3PORT/" && break; sleep 0.1; done
    curl -sf -X PUT "http://127.0.0.1:$S3PORT/templates" >/dev/null
    curl -sf -X PUT --data-binary @"$WORK/www/t.raw" "http://127.0.0.1:$S3PORT/templates/t.raw" >/dev/null
}
