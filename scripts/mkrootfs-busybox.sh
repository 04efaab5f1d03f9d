#!/bin/bash
# mkrootfs-busybox.sh - build the busybox container tree that jspawn's tests and benchmarks use.
#
# Usage: mkrootfs-busybox.sh DIR [PROBE]
#
# DIR gets: bin/busybox (Debian's busybox-static) and one symlink per applet at its canonical place
# (bin/sh, bin/true, sbin/init, usr/bin/env, ...; relative links); etc/passwd (root, jspawn 1000, nobody),
# etc/group, etc/os-release (ID=busybox), an empty etc/machine-id, etc/hostname, and the usual
# empty directories (proc sys dev tmp run var/tmp root home/jspawn). With PROBE (a static binary,
# normally target/test-classes/jspawn-probe) it is installed as usr/bin/jspawn-probe.
#
# Idempotent: DIR/.jspawn-rootfs-stamp records the format, the busybox version and checksum and the
# probe's checksum; when it matches nothing is done. Otherwise the tree is built in DIR.tmp and
# renamed into place, so DIR is never seen half-built. Concurrent runs are serialized by flock on
# .#NAME.lck beside DIR.
# Needs: root to install busybox-static with apt-get when /bin/busybox is missing (a tree can be
# built as any user when it is there; files then belong to that user).
set -euo pipefail

# Bump FORMAT when the layout changes: trees with another format are rebuilt (Fixtures.java reads it).
FORMAT=2
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DIR [PROBE]" >&2; exit 2; }
DIR=${1%/}
PROBE=${2:-}
[ -n "$DIR" ] && [ "$DIR" != / ] || { echo "mkrootfs-busybox.sh: refusing to build at '/'" >&2; exit 2; }
if [ -n "$PROBE" ] && [ ! -x "$PROBE" ]; then echo "mkrootfs-busybox.sh: probe $PROBE is not an executable" >&2; exit 1; fi

log() { printf '[mkrootfs-busybox] %s\n' "$*" >&2; }

BB=/bin/busybox
if [ ! -x "$BB" ]; then
    [ "$(id -u)" = 0 ] || { echo "mkrootfs-busybox.sh: $BB missing; install busybox-static (as root: apt-get install busybox-static)" >&2; exit 1; }
    log "installing busybox-static"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q busybox-static >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q busybox-static >/dev/null; }
fi
# The dynamically linked `busybox` package would not run inside the tree, which has no libc.
if LC_ALL=C ldd "$BB" >/dev/null 2>&1; then
    echo "mkrootfs-busybox.sh: $BB is dynamically linked; install busybox-static instead of busybox" >&2
    exit 1
fi

version=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null || "$BB" 2>&1 | head -1)
stamp_text() {
    printf 'format=%s\nbusybox=%s\nbusybox_sha256=%s\nprobe_sha256=%s\n' "$FORMAT" "$version" \
        "$(sha256sum "$BB" | cut -d' ' -f1)" "$([ -n "$PROBE" ] && sha256sum "$PROBE" | cut -d' ' -f1 || echo none)"
}
want=$(stamp_text)

mkdir -p "$(dirname "$DIR")"
# the lock is a hidden file beside the tree (.#NAME.lck, as nspawn names its own): a tree built in
# /var/lib/machines must not bring a stray NAME.lock into the image list
exec 9>"$(dirname "$DIR")/.#$(basename "$DIR").lck"
rm -f "$DIR.lock" # left by earlier versions
command -v flock >/dev/null && flock 9

if [ -f "$DIR/.jspawn-rootfs-stamp" ] && [ "$(cat "$DIR/.jspawn-rootfs-stamp")" = "$want" ]; then
    exit 0
fi

T=$DIR.tmp
rm -rf "$T"
mkdir -p "$T"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,var/tmp,root,home/jspawn,lib}
chmod 1777 "$T/tmp" "$T/var/tmp"
chmod 0700 "$T/root"
install -m 0755 "$BB" "$T/bin/busybox"
# Relative links (usr/bin/env -> ../../bin/busybox): they resolve the same inside the container and
# never point out of the tree when the host looks at it.
for a in $("$T/bin/busybox" --list-full); do
    [ "$a" = bin/busybox ] && continue
    [ -e "$T/$a" ] || [ -L "$T/$a" ] || { up=${a//[!\/]/}; ln -s "${up//\//../}bin/busybox" "$T/$a"; }
done
cat > "$T/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
jspawn:x:1000:1000:jspawn test user:/home/jspawn:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$T/etc/group" <<'EOF'
root:x:0:
tty:x:5:
jspawn:x:1000:
nogroup:x:65534:
EOF
printf 'ID=busybox\nNAME="BusyBox test rootfs"\nPRETTY_NAME="BusyBox test rootfs (jspawn)"\nVERSION_ID=%s\n' \
    "$(v=${version#*:}; v=${v%%-*}; printf '%s' "${v//[^A-Za-z0-9.]/_}")" > "$T/etc/os-release"
: > "$T/etc/machine-id"
echo busybox > "$T/etc/hostname"
[ "$(id -u)" = 0 ] && chown 1000:1000 "$T/home/jspawn"
[ -n "$PROBE" ] && install -m 0755 "$PROBE" "$T/usr/bin/jspawn-probe"
printf '%s\n' "$want" > "$T/.jspawn-rootfs-stamp"

if [ -e "$DIR" ] || [ -L "$DIR" ]; then
    mv "$DIR" "$DIR.old.$$"
    mv "$T" "$DIR"
    rm -rf "$DIR.old.$$"
else
    mv "$T" "$DIR"
fi
log "built $DIR (busybox $version, $(find "$DIR" -mindepth 1 | wc -l) entries${PROBE:+, probe $PROBE})"
