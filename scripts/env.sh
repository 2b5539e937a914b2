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
