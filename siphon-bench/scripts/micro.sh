#!/usr/bin/env bash
# JMH micro-benchmarks (io.siphon.bench.micro): the rate limiter, range locks, qcow2 cluster lookup
# and the NBD request codec. Arguments go to JMH: a benchmark regex and options, e.g.
#   siphon-bench/scripts/micro.sh RangeLocks -wi 1 -i 2 -f 1     (-h lists JMH's options)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
mvn -B -q -ntp -pl siphon-bench -am package -DskipTests >&2
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    -cp "siphon-bench/target/classes:siphon-bench/target/lib/*" \
    org.openjdk.jmh.Main "$@"
