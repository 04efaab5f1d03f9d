#!/bin/sh
# Runs the whole test suite: unit tests, and real-kernel tests that start containers (needs root).
# Installs the Debian packages the tests use when they are missing. Extra arguments go to Maven,
# e.g. ./test.sh -Dtest='PlannerTest'.
set -eu
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "test.sh: the kernel tests must run as root" >&2; exit 1; }
missing=
for p in busybox-static maven gcc libc6-dev systemd-container iproute2 util-linux python3 debootstrap \
         qemu-system-x86 kmod cpio e2fsprogs file; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
. ./scripts/java-home.sh
exec mvn -B -ntp verify "$@"
