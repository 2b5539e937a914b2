# Sourced by the launcher, the test command and CI: finds a JDK 25 and installs the
# Debian packages the tests and the demo use, when missing. Safe to source repeatedly.

siphon_find_jdk() {
    if [ -n "${JAVA_HOME:-}" ] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
        return 0
    fi
    for candidate in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/*; do
        if [ -x "$candidate/bin/javac" ] && "$candidate/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
            export JAVA_HOME="$candidate"
            export PATH="$JAVA_HOME/bin:$PATH"
            return 0
        fi
    done
    echo "siphon: no JDK 25 or newer found under /usr/lib/jvm; install one (Temurin 25) and retry" >&2
    return 1
}

# Debian packages by the command each provides.
# chromium, node and npm: the web console's browser test (Playwright drives Debian's Chromium).
SIPHON_PACKAGES="qemu-img:qemu-utils qemu-storage-daemon:qemu-system-common nbdinfo:libnbd-bin nbdkit:nbdkit fio:fio tmux:tmux mvn:maven chromium:chromium node:nodejs npm:npm"

siphon_install_packages() {
    missing=""
    for pair in $SIPHON_PACKAGES; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    [ -z "$missing" ] && return 0
    siphon_apt_install $missing
}

# Installs the Debian packages named, as root; otherwise says which are missing.
siphon_apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "siphon: missing packages: $* (run as root to install them)" >&2
        return 0
    fi
    echo "siphon: installing $*" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >&2
}

# python3-libvirt, which the Python binding's tests compare it with (for /usr/bin/python3; not
# the libvirt daemon it recommends). Without it that one test is skipped: a failed install is
# not fatal.
siphon_install_python_libvirt() {
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import libvirt' >/dev/null 2>&1 && return 0
    siphon_apt_install --no-install-recommends python3-libvirt ||
        echo "siphon: python3-libvirt could not be installed; the libvirt comparison test will be skipped" >&2
}

# The test guest (scripts/make-guest): the Debian cloud kernel and a static busybox.
siphon_install_guest_packages() {
    local missing=""
    ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || missing="$missing linux-image-cloud-amd64"
    [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || missing="$missing busybox-static"
    command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "siphon: missing packages:$missing (run as root to install them)" >&2
        return 1
    fi
    echo "siphon: installing$missing" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >&2
}

# The JVM options of a siphon command, printed on stdout: native access, and the JDK's
# ahead-of-time cache (JEP 483/514) of the classes the common commands load and link, which takes
# most of the JVM's start-up off each command. The cache CACHE for the class path CP is built on
# first use, in the background (a training run of io.siphon.cli.StartupTraining, about 20 s of CPU),
# so that the first command is not held up and the next ones start from it; it is built again when
# the JDK, the class path or its first jar changes. WORKDIR holds its lock and log. SIPHON_AOT=0
# runs without it.
siphon_java_options() {
    local cache=$1 cp=$2 workdir=$3 options="--enable-native-access=ALL-UNNAMED"
    local first_jar=${cp%%:*} stamp="$JAVA_HOME $cp"
    if [ "${SIPHON_AOT:-1}" = 0 ]; then
        echo "$options"
        return 0
    fi
    if [ -f "$cache" ] && [ ! "$first_jar" -nt "$cache" ] && [ "$(cat "$cache.stamp" 2>/dev/null)" = "$stamp" ]; then
        # a cache the JVM cannot use is skipped; its messages would only clutter a command's output
        echo "$options -XX:AOTCache=$cache -Xlog:aot=off -Xlog:cds=off"
        return 0
    fi
    if mkdir -p "$workdir" 2>/dev/null && command -v flock >/dev/null 2>&1; then
        (
            # one training run at a time; a command that finds one under way does not wait for it
            exec 8>"$workdir/.aot.lock" && flock -n 8 || exit 0
            rm -f "$cache" "$cache.stamp"
            # shellcheck disable=SC2086
            if "$JAVA_HOME/bin/java" $options -XX:AOTCacheOutput="$cache.tmp" -Xlog:aot=warning,cds=warning \
                -cp "$cp" io.siphon.cli.StartupTraining && mv "$cache.tmp" "$cache"; then
                echo "$stamp" >"$cache.stamp"
            fi
        ) </dev/null >"$workdir/aot.log" 2>&1 &
    fi
    echo "$options"
}
