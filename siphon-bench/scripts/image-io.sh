#!/usr/bin/env bash
# Image I/O: Siphon's engine vs qemu-img bench on the same files, in one run; prints medians and
# the ratio. Options go to io.siphon.bench.ImageIoBench:
#   [--dir DIR] [--size-mib N] [--runs N] [--depth N] [--threads virtual|platform] [--formats raw,qcow2]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
siphon_find_jdk
siphon_install_packages
mvn -B -q -pl siphon-bench -am package -DskipTests >&2
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    -cp "siphon-bench/target/siphon-bench-0.1.0-SNAPSHOT.jar:siphon-bench/target/lib/*" \
    io.siphon.bench.ImageIoBench "$@"
