#!/bin/bash
# mkrootfs-debian.sh - build the Debian bookworm container tree (systemd as init) that jspawn's boot
# tests and benchmarks use.
#
# Usage: mkrootfs-debian.sh DIR
#
# The tree: debootstrap --variant=minbase --include=systemd-sysv,dbus,iproute2,login,passwd,procps,
# util-linux bookworm; root password "jspawn" (ROOTPW), etc/hostname "jspawn-debian", an empty
# etc/machine-id (systemd makes a transient one at boot, as under systemd-nspawn), no
# var/lib/dbus/machine-id, apt lists and caches removed, and DIR/.jspawn-rootfs-stamp.
# Nothing else is added: systemd in a container reaches multi-user.target with only these (see
# "State under systemd-nspawn" below). Tests that need more install it into their own copy.
#
# Cache: the tree is built once with debootstrap and kept as a tarball, CACHE (default
# /var/tmp/jspawn-test/cache/debian-bookworm.tar.gz) with CACHE.stamp next to it; later runs
# (another DIR, or DIR deleted) extract the tarball. The tarball is rebuilt when it is missing or its
# stamp differs (FORMAT, suite or package list changed). FORCE=1 rebuilds it anyway.
# Idempotent: when DIR/.jspawn-rootfs-stamp matches, nothing is done. DIR is built in DIR.tmp and
# renamed into place, so it is never seen half-built; concurrent runs are serialized by flock on
# .#NAME.lck beside DIR (and on CACHE.lock for the tarball). Owners, modes, xattrs (file capabilities, e.g.
# ping's) are kept: tar --numeric-owner --xattrs --xattrs-include='*' -p.
# debootstrap mounts proc, sys (and dev/pts) inside its target while it runs: an EXIT trap
# unmounts everything under the build directory, also when debootstrap fails or is interrupted.
#
# Timing on the project VM (2 vCPU, shared, ext4, deb.debian.org), 2026-11-29: debootstrap 75 s
# (download included; every build appends its time to CACHE.time), chroot set-up and writing the
# 62 MB tarball 9 s, so a first run takes about 1 min 27 s. Extracting the tarball into DIR takes
# 1.3-2.4 s; the tree is 164 MB, ~8400 entries. A run that finds DIR current takes 0.06 s.
#
# State under systemd-nspawn 252 here (systemd-nspawn --register=no --keep-unit -b -D DIR, host
# without systemd as PID 1, hybrid cgroups, no pty), checked 2026-11-29 on a copy of the tree with a
# Type=exec unit After=multi-user.target running `systemctl is-system-running --wait`,
# `systemctl --failed` and `systemctl poweroff`: "running", no failed unit; the guest runs
# systemd-journald, dbus, systemd-logind and console-getty, and boots and powers off in about 0.9 s.
# The guest prints "Failed to create symlink /sys/fs/cgroup/{net_prio,net_cls,cpuacct,cpu}"
# (nspawn's read-only cgroup v1 tree; harmless). Details: bench/README.md, "boot-time.sh".
#
# Environment:
#   CACHE    tarball path (default /var/tmp/jspawn-test/cache/debian-bookworm.tar.gz)
#   MIRROR   Debian mirror (default http://deb.debian.org/debian); point it at
#            snapshot.debian.org/archive/debian/<stamp> to pin package versions. The package list
#            of each build is kept in CACHE.packages.
#   ROOTPW   root password (default jspawn)
#   FORCE=1  re-run debootstrap even if the tarball is current
# Needs: root, debootstrap, tar, gzip, flock (util-linux).
set -euo pipefail

# Bump FORMAT when the recipe changes: trees and tarballs of another format are rebuilt.
FORMAT=1
SUITE=bookworm
INCLUDE=systemd-sysv,dbus,iproute2,login,passwd,procps,util-linux
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ROOTPW=${ROOTPW:-jspawn}
CACHE=${CACHE:-/var/tmp/jspawn-test/cache/debian-$SUITE.tar.gz}
STAMP=.jspawn-rootfs-stamp

[ $# = 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=${1%/}
[ -n "$DIR" ] && [ "$DIR" != / ] || { echo "mkrootfs-debian.sh: refusing to build at '/'" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "mkrootfs-debian.sh: must run as root (debootstrap, file owners)" >&2; exit 1; }
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac

log() { printf '[mkrootfs-debian %s] %s\n' "$(date +%T)" "$*" >&2; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# The root password is part of the stamp only as a hash of itself, never in clear.
want=$(printf 'format=%s\nsuite=%s\ninclude=%s\nrootpw_sha256=%s\n' "$FORMAT" "$SUITE" "$INCLUDE" \
    "$(printf '%s' "$ROOTPW" | sha256sum | cut -d' ' -f1)")

mkdir -p "$(dirname "$DIR")" "$(dirname "$CACHE")"
# the lock is a hidden file beside the tree (.#NAME.lck, as nspawn names its own): a tree built in
# /var/lib/machines must not bring a stray NAME.lock into the image list
exec 9>"$(dirname "$DIR")/.#$(basename "$DIR").lck"
rm -f "$DIR.lock" # left by earlier versions
flock 9
if [ -z "${FORCE:-}" ] && [ -f "$DIR/$STAMP" ] && [ "$(cat "$DIR/$STAMP")" = "$want" ]; then
    exit 0
fi

# Everything mounted at or below a directory, deepest first (mountinfo field 5; octal escapes kept,
# they are undone by printf %b).
mounts_under() {
    local d=$1
    awk -v d="$d" '{ m = $5; if (m == d || index(m, d "/") == 1) print m }' /proc/self/mountinfo \
        | sort -r | while IFS= read -r m; do printf '%b\n' "$m"; done
}
unmount_under() {
    local d=$1 m tries
    for tries in 1 2 3; do
        [ -n "$(mounts_under "$d")" ] || return 0
        mounts_under "$d" | while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    done
    if [ -n "$(mounts_under "$d")" ]; then
        log "warning: still mounted under $d: $(mounts_under "$d" | tr '\n' ' ')"
        return 1
    fi
}

BUILD=                     # debootstrap target while a build runs
T=$DIR.tmp
cleanup() {
    local rc=$?
    if [ -n "$BUILD" ]; then unmount_under "$BUILD" || true; rm -rf "$BUILD"; fi
    unmount_under "$T" || true
    rm -rf "$T" "$CACHE.tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

build_tarball() {
    command -v debootstrap >/dev/null || { echo "mkrootfs-debian.sh: debootstrap missing (apt-get install debootstrap)" >&2; exit 1; }
    BUILD=$CACHE.build
    unmount_under "$BUILD" || true
    rm -rf "$BUILD"; mkdir -p "$BUILD"
    log "debootstrap --variant=minbase --include=$INCLUDE $SUITE $MIRROR (log: $CACHE.log)"
    local t0; t0=$(date +%s.%N)
    if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$BUILD" "$MIRROR" > "$CACHE.log" 2>&1; then
        tail -20 "$CACHE.log" >&2
        echo "mkrootfs-debian.sh: debootstrap failed (full log: $CACHE.log)" >&2
        exit 1
    fi
    unmount_under "$BUILD"    # debootstrap unmounts on success; make sure
    printf '%s debootstrap %s s\n' "$(date -u +%FT%TZ)" "$(elapsed "$t0")" >> "$CACHE.time"
    log "debootstrap done in $(elapsed "$t0") s"

    # Configuration with chroot only: chpasswd and apt-get clean mount nothing.
    printf 'root:%s\n' "$ROOTPW" | chroot "$BUILD" chpasswd
    echo jspawn-debian > "$BUILD/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tjspawn-debian\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$BUILD/etc/hosts"
    : > "$BUILD/etc/machine-id"
    rm -f "$BUILD/var/lib/dbus/machine-id"
    chroot "$BUILD" apt-get clean
    rm -rf "$BUILD"/var/lib/apt/lists/* "$BUILD"/var/cache/apt/*.bin "$BUILD"/var/cache/debconf/*-old \
        "$BUILD"/var/log/bootstrap.log
    chroot "$BUILD" dpkg-query -W -f '${Package} ${Version}\n' > "$CACHE.packages"
    printf '%s\n' "$want" > "$BUILD/$STAMP"
    [ -z "$(mounts_under "$BUILD")" ] || { echo "mkrootfs-debian.sh: mounts left under $BUILD" >&2; exit 1; }

    log "writing $CACHE"
    tar -C "$BUILD" --numeric-owner --xattrs --xattrs-include='*' -czpf "$CACHE.tmp" .
    mv "$CACHE.tmp" "$CACHE"
    printf '%s\n' "$want" > "$CACHE.stamp"
    rm -rf "$BUILD"; BUILD=
    log "tarball $CACHE: $(du -h "$CACHE" | cut -f1)"
}

# The tarball, under its own lock (several DIRs may share one cache). Not in a subshell: the EXIT
# trap must see BUILD.
exec 8>"$CACHE.lock"
flock 8
if [ -n "${FORCE:-}" ] || [ ! -s "$CACHE" ] || [ ! -f "$CACHE.stamp" ] || [ "$(cat "$CACHE.stamp")" != "$want" ]; then
    build_tarball
fi
flock -u 8

unmount_under "$T" || { echo "mkrootfs-debian.sh: cannot unmount what is mounted under $T" >&2; exit 1; }
rm -rf "$T"; mkdir -p "$T"
log "extracting $CACHE into $DIR"
t0=$(date +%s.%N)
tar -C "$T" --numeric-owner --xattrs --xattrs-include='*' -xzpf "$CACHE"
[ "$(cat "$T/$STAMP" 2>/dev/null)" = "$want" ] || { echo "mkrootfs-debian.sh: $CACHE has a stale stamp" >&2; exit 1; }
if [ -e "$DIR" ] || [ -L "$DIR" ]; then
    unmount_under "$DIR" || { echo "mkrootfs-debian.sh: something is mounted under $DIR; not replacing it" >&2; exit 1; }
    mv "$DIR" "$DIR.old.$$"
    mv "$T" "$DIR"
    rm -rf "$DIR.old.$$"
else
    mv "$T" "$DIR"
fi
log "extracted in $(elapsed "$t0") s: $DIR ($(du -sh "$DIR" | cut -f1))"
