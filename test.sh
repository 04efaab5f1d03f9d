#!/bin/sh
# Runs the whole test suite: unit tests, and real-kernel tests that start containers (needs root).
# Installs the Debian packages the tests use when they are missing. Extra arguments go to Maven,
# e.g. ./test.sh -Dtest='PlannerTest'.
set -eu
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "test.sh: the kernel tests must run as root" >&2; exit 1; }
. ./scripts/ensure-packages.sh
ensure_packages busybox-static maven gcc libc6-dev systemd-container iproute2 util-linux python3 debootstrap \
    qemu-system-x86 kmod cpio e2fsprogs file nftables isc-dhcp-client
. ./scripts/java-home.sh
exec mvn -B -ntp verify "$@"
