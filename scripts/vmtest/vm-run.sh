#!/bin/bash
# vm-run.sh - run one command as root in a throwaway qemu VM: Debian bookworm's own kernel, systemd as
# PID 1, a pure cgroup v2 hierarchy (systemd.unified_cgroup_hierarchy=1). The VM boots once, runs
# COMMAND in the delegated cgroup of a service, powers off; vm-run.sh exits with COMMAND's status.
# Based on the reference shared/examples/kvm-run.sh (see its notes, kvm-testhost.md).
#
# Usage: vm-run.sh [options] -- COMMAND [ARG...]
#        vm-run.sh --rebuild              (only (re)build the cached image)
#   --share HOSTDIR[:ro]   HOSTDIR at the same path in the guest (virtio-9p, passthrough). Repeatable.
#   --mem SIZE             guest memory (default 2G)      --cpus N   vCPUs (default 2)
#   -e VAR=VALUE           exported to COMMAND. Repeatable.
#   --timeout SECS         kill the VM after SECS (default 600): exit status 124
#   --accel kvm|tcg|auto   auto: kvm only with kvm_intel/kvm_amd loaded. This project's host has a PVM
#                          /dev/kvm that stock kernels cannot use, so auto means TCG there (~20 s boot).
#   -v                     copy the guest's serial console to stderr
#   --keep                 keep the run directory (console.log, qemu.log)
#
# COMMAND runs through bash, cwd = the first share that contains $PWD (else /), stdin /dev/null; its
# stdout and stderr come back separately over two virtio-serial ports. Exit status: COMMAND's;
# 124 on timeout; 125 when qemu cannot start or the VM ends without a status (qemu log and console
# tail then go to stderr).
#
# Guest: kernel linux-image-<ver>-amd64 (apt-get download + dpkg -x; nothing is installed on the
# host). The rootfs is the project's Debian tree (CACHE tarball, made by scripts/mkrootfs-debian.sh
# when missing) plus the host's static busybox as /bin/busybox; no udev, no kmod: the initrd insmods
# what the guest needs (virtio, ext4, 9p, virtio_console). A pristine copy of the Debian tree is
# at $VMTEST_DEBIAN_TREE (/var/lib/jspawn-vm/debian) for boot tests. The root disk is an ext4 image
# made by mkfs.ext4 -d (no loop mount) and opened with snapshot=on: every run starts clean.
# COMMAND's cgroup is $VMTEST_CGROUP/payload, $VMTEST_CGROUP (Delegate=yes) has every controller
# enabled; the cgroup root's subtree_control has cpu io memory pids (Default*Accounting=yes).
#
# Files: $VMTEST_DIR (default /var/tmp/jspawn-test/vm): debs/ kernel/ image/ (STAMP) runs/.
# The image is rebuilt when missing, when IMAGE_REV changes, or with --rebuild.
# The host keeps nothing: no mounts, no cgroups; qemu and its readers end with this script.
# Needs (host): root, qemu-system-x86, kmod (host side modprobe --show-depends), cpio,
# busybox-static, e2fsprogs, apt (kernel download).
set -euo pipefail

IMAGE_REV=4
D=${VMTEST_DIR:-/var/tmp/jspawn-test/vm}
CACHE=${CACHE:-/var/tmp/jspawn-test/cache/debian-bookworm.tar.gz}
ACCEL=${VMTEST_ACCEL:-auto}
MEM=2G CPUS=2 TIMEOUT=600 VERBOSE=0 KEEP=0 REBUILD=0
SHARES=() ENVS=()
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

die() { echo "vm-run: $*" >&2; exit 125; }

while [ $# -gt 0 ]; do
    case $1 in
        --share) SHARES+=("$2"); shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --cpus) CPUS=$2; shift 2 ;;
        -e) ENVS+=("$2"); shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --accel) ACCEL=$2; shift 2 ;;
        -v) VERBOSE=1; shift ;;
        --keep) KEEP=1; shift ;;
        --rebuild) REBUILD=1; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ $# -gt 0 ] || [ "$REBUILD" = 1 ] || die "no COMMAND (usage: vm-run.sh [opts] -- COMMAND...)"
[ "$(id -u)" = 0 ] || die "must run as root"
if [ "$ACCEL" = auto ]; then
    if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case $ACCEL in
    kvm) ACCEL_ARGS=(-machine q35,accel=kvm -cpu host,-arch-capabilities) ;;
    # One host thread for all vCPUs (thread=single), not MTTCG: a multi-threaded TCG translates guest
    # code byte by byte while another vCPU may be rewriting it, and the guest's JVM patches its JIT code
    # live (x86 cross-modifying code). Seen: jmachined died in the guest executing a torn instruction,
    # the old stack bang's first two bytes with the new jump's next three (89 84 72 49 07 fe ff), whose
    # operand is exactly the faulting address (docs/architecture.md, "The cgroup v2 test VM").
    tcg) ACCEL_ARGS=(-machine q35 -accel "tcg,thread=${VMTEST_TCG_THREAD:-single},tb-size=256" -cpu max) ;;
    *) die "--accel wants kvm, tcg or auto" ;;
esac
command -v qemu-system-x86_64 >/dev/null ||
    die "qemu-system-x86_64 missing (apt-get install --no-install-recommends qemu-system-x86 kmod cpio)"

# ------------------------------------------------------------------ image (cached)
kernel_version() {
    local v
    v=$(ls "$D/kernel/lib/modules" 2>/dev/null | head -1)
    [ -n "$v" ] && { echo "$v"; return; }
    apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -1
}

build_image() {
    local V S I m n=0 t0=$SECONDS
    for c in modprobe depmod cpio mkfs.ext4 dpkg-deb gzip; do
        command -v $c >/dev/null || die "$c missing (apt-get install --no-install-recommends kmod cpio e2fsprogs)"
    done
    file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || die "/bin/busybox is not static (apt-get install busybox-static)"
    V=$(kernel_version); [ -n "$V" ] || die "cannot determine the Debian kernel version"
    if [ ! -f "$D/kernel/boot/vmlinuz-$V" ]; then
        echo "vm-run: fetching linux-image-$V" >&2
        mkdir -p "$D/debs"
        ls "$D/debs/linux-image-${V}_"*.deb >/dev/null 2>&1 ||
            (cd "$D/debs" && apt-get download "linux-image-$V" >/dev/null 2>&1) ||
            { apt-get update -qq && (cd "$D/debs" && apt-get download "linux-image-$V" >/dev/null); } ||
            die "apt-get download linux-image-$V failed"
        rm -rf "$D/kernel"; mkdir -p "$D/kernel"
        dpkg -x "$D/debs/linux-image-${V}_"*.deb "$D/kernel"
    fi
    [ -f "$D/kernel/lib/modules/$V/modules.dep" ] || depmod -b "$D/kernel" "$V"

    if [ ! -f "$CACHE" ]; then
        echo "vm-run: $CACHE missing, building it with mkrootfs-debian.sh" >&2
        local tmp=$D/debian-tree.$$
        CACHE=$CACHE "$REPO/scripts/mkrootfs-debian.sh" "$tmp" >&2 || die "mkrootfs-debian.sh failed"
        rm -rf "$tmp" "$D/.#debian-tree.$$.lck"
    fi
    echo "vm-run: building the guest image (kernel $V) in $D/image ..." >&2
    S=$D/build/rootfs; rm -rf "$D/build"; mkdir -p "$S"
    tar -xzf "$CACHE" -C "$S" --numeric-owner --xattrs --xattrs-include='*' -p
    [ -x "$S/lib/systemd/systemd" ] || die "$CACHE has no systemd"
    # the pristine Debian tree, for boot tests inside the guest
    mkdir -p "$S/var/lib/jspawn-vm"
    cp -a "$S" "$D/build/debian"
    rm -rf "$D/build/debian/var/lib/jspawn-vm"
    mv "$D/build/debian" "$S/var/lib/jspawn-vm/debian"
    install -m 0755 /bin/busybox "$S/bin/busybox"
    # The reference tools for side-by-side benchmarks in the guest (bench/vm-start-latency.sh):
    # systemd-nspawn of exactly the guest's systemd version, and hyperfine. Unpacked, not installed.
    local sv deb
    sv=$(awk '/^Package: systemd$/{p=1} p&&/^Version:/{print $2; exit}' "$S/var/lib/dpkg/status")
    [ -n "$sv" ] || die "cannot tell the systemd version of $CACHE"
    mkdir -p "$D/debs"
    for deb in "systemd-container=$sv" hyperfine; do
        ls "$D/debs/${deb%%=*}_"*.deb >/dev/null 2>&1 ||
            (cd "$D/debs" && apt-get download "$deb" >/dev/null 2>&1) ||
            { apt-get update -qq && (cd "$D/debs" && apt-get download "$deb" >/dev/null); } ||
            die "apt-get download $deb failed"
        # not dpkg -x: its tar would replace the merged-/usr symlinks (/lib -> usr/lib) with directories
        dpkg-deb --fsys-tarfile "$(ls "$D/debs/${deb%%=*}_"*.deb | head -1)" | tar -x --keep-directory-symlink -C "$S"
    done

    echo jspawn-vm > "$S/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 jspawn-vm\n' > "$S/etc/hosts"
    : > "$S/etc/fstab"
    tr -d - < /proc/sys/kernel/random/uuid > "$S/etc/machine-id"
    mkdir -p "$S/etc/systemd/system.conf.d" "$S/etc/systemd/journald.conf.d" "$S/etc/systemd/system/multi-user.target.wants"
    printf '[Manager]\nDefaultCPUAccounting=yes\nDefaultIOAccounting=yes\nDefaultMemoryAccounting=yes\nDefaultTasksAccounting=yes\nDefaultTimeoutStopSec=5s\n' \
        > "$S/etc/systemd/system.conf.d/vmtest.conf"
    printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' > "$S/etc/systemd/journald.conf.d/vmtest.conf"
    local u
    for u in getty@.service serial-getty@.service console-getty.service getty.target systemd-firstboot.service \
             apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service \
             fstrim.timer systemd-networkd.service systemd-networkd-wait-online.service systemd-pstore.service \
             remote-fs.target systemd-hwdb-update.service systemd-update-utmp.service \
             modprobe@.service systemd-modules-load.service systemd-timesyncd.service; do
        ln -sf /dev/null "$S/etc/systemd/system/$u"
    done
    cat > "$S/etc/systemd/system/vmtest.service" <<'EOF'
[Unit]
Description=jspawn vm-run payload
After=basic.target

[Service]
Type=exec
ExecStart=/usr/local/sbin/vmtest-guest
StandardInput=null
StandardOutput=journal+console
StandardError=journal+console
Delegate=yes
TimeoutStartSec=infinity
OOMPolicy=continue
EOF
    ln -sf ../vmtest.service "$S/etc/systemd/system/multi-user.target.wants/vmtest.service"
    install -d "$S/usr/local/sbin"
    cat > "$S/usr/local/sbin/vmtest-guest" <<'EOF'
#!/bin/bash
# vmtest-guest: mounts the control dir and the shares, moves into a payload leaf cgroup, runs the
# command, writes its exit status to the control dir and powers the VM off.
set -u
CTL=/run/vmtest
halt_now() { sync; systemctl poweroff -ff; echo o > /proc/sysrq-trigger; sleep 10; }
mkdir -p $CTL
O9=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $O9,cache=none vmtest $CTL || { echo "vmtest-guest: control mount failed"; halt_now; }
while IFS=$'\t' read -r tag path mode; do
    [ -n "$tag" ] || continue
    mkdir -p "$path"
    mount -t 9p -o "$O9,cache=mmap,$mode" "$tag" "$path" || echo "vmtest-guest: mounting $path failed" >&2
done < $CTL/mounts
OUT=/dev/console ERR=/dev/console
for i in $(seq 100); do
    for p in /sys/class/virtio-ports/vport*; do
        [ -e "$p/name" ] || continue
        case $(cat "$p/name") in vmtest.stdout) OUT=/dev/${p##*/} ;; vmtest.stderr) ERR=/dev/${p##*/} ;; esac
    done
    [ "$OUT" != /dev/console ] && [ "$ERR" != /dev/console ] && break
    sleep 0.05
done
CG=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir -p "$CG/payload" && echo $$ > "$CG/payload/cgroup.procs"
for c in $(cat "$CG/cgroup.controllers"); do echo "+$c" > "$CG/cgroup.subtree_control" 2>/dev/null; done
ip link set lo up 2>/dev/null
export HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb VMTEST_CGROUP=$CG
export VMTEST_DEBIAN_TREE=/var/lib/jspawn-vm/debian PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -f $CTL/env ] && . $CTL/env
cd "$(cat $CTL/workdir 2>/dev/null)" 2>/dev/null || cd /
/bin/bash $CTL/cmd </dev/null >"$OUT" 2>"$ERR"
echo $? > $CTL/rc
halt_now
EOF
    chmod 0755 "$S/usr/local/sbin/vmtest-guest"

    mkdir -p "$D/image"
    rm -f "$D/image/root.img.new"
    mkfs.ext4 -q -F -L vmroot -E root_owner=0:0 -d "$S" "$D/image/root.img.new" 4G >/dev/null || die "mkfs.ext4 -d failed"

    # initramfs: static busybox + the modules to mount /dev/vda and, for the guest, 9p and virtio ports,
    # and what the network checks use (the guest has no kmod to load them later): links, nftables NAT
    I=$D/build/initrd; mkdir -p "$I"/{bin,dev,proc,sys,newroot,mod}
    install -m 0755 /bin/busybox "$I/bin/busybox"
    for m in $(modprobe -d "$D/kernel" -S "$V" --show-depends -a virtio_pci virtio_blk ext4 crc32c_generic \
                   9pnet_virtio 9p virtio_console overlay veth bridge macvlan ipvlan dummy \
                   nf_tables nft_chain_nat nft_nat nft_masq nft_ct nft_fib_inet nft_fib_ipv4 nft_fib_ipv6 \
                   | awk '$1=="insmod"{print $2}' | awk '!seen[$0]++'); do
        n=$((n+1)); cp "$m" "$I/mod/$(printf %02d $n)-${m##*/}"
    done
    cat > "$I/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in /mod/*.ko; do insmod "$m" 2>/dev/null; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i+1)); done
mount -t ext4 -o rw,noatime /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; poweroff -f; }
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd "$@"
EOF
    chmod 0755 "$I/init"
    (cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) > "$D/image/initrd.img.new"
    cp "$D/kernel/boot/vmlinuz-$V" "$D/image/vmlinuz"
    mv "$D/image/initrd.img.new" "$D/image/initrd.img"
    mv "$D/image/root.img.new" "$D/image/root.img"
    echo "IMAGE_REV=$IMAGE_REV KERNEL=$V SRC=$CACHE" > "$D/image/STAMP"
    rm -rf "$D/build"
    echo "vm-run: image ready ($((SECONDS - t0)) s)" >&2
}

mkdir -p "$D/runs"
exec 9>"$D/.build.lock"
flock 9
if [ "$REBUILD" = 1 ] || ! grep -qs "^IMAGE_REV=$IMAGE_REV " "$D/image/STAMP" || [ ! -f "$D/image/root.img" ]; then
    build_image
fi
exec 9>&-
[ $# -gt 0 ] || exit 0

# ------------------------------------------------------------------ one run
RUN=$(mktemp -d "$D/runs/run.XXXXXX")
mkdir "$RUN/ctl"
QPID= CAT1= CAT2= TAILPID=
cleanup() {
    [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
    [ -n "$TAILPID" ] && kill "$TAILPID" 2>/dev/null
    { : <>"$RUN/stdout.fifo"; : <>"$RUN/stderr.fifo"; } 2>/dev/null || true
    [ -n "$CAT1" ] && wait "$CAT1" 2>/dev/null
    [ -n "$CAT2" ] && wait "$CAT2" 2>/dev/null
    if [ "$KEEP" = 1 ]; then echo "vm-run: run dir kept: $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%q ' exec "$@" > "$RUN/ctl/cmd"; echo >> "$RUN/ctl/cmd"
: > "$RUN/ctl/env"
for e in "${ENVS[@]+"${ENVS[@]}"}"; do
    [[ $e == *=* ]] || die "-e wants VAR=VALUE, got '$e'"
    printf 'export %s=%q\n' "${e%%=*}" "${e#*=}" >> "$RUN/ctl/env"
done
VIRTFS=() MOUNTS= WORKDIR= i=0
while IFS= read -r s; do
    [ -n "$s" ] || continue
    mode=rw; case $s in *:ro) mode=ro; s=${s%:ro} ;; esac
    p=$(realpath -e "$s") || die "share $s does not exist"
    case $p in *$'\t'*|*,*) die "share path $p contains a tab or comma" ;; esac
    ro=; [ $mode = ro ] && ro=,readonly=on
    VIRTFS+=(-virtfs "local,path=$p,mount_tag=s$i,security_model=passthrough,multidevs=remap$ro")
    MOUNTS+="s$i"$'\t'"$p"$'\t'"$mode"$'\n'
    if [ -z "$WORKDIR" ] && { [ "$PWD" = "$p" ] || [[ $PWD == "$p"/* ]]; }; then WORKDIR=$PWD; fi
    i=$((i+1))
done < <(for s in "${SHARES[@]+"${SHARES[@]}"}"; do printf '%s\t%s\n' "$(realpath -m "${s%:ro}" | tr -cd / | wc -c)" "$s"; done | sort -n -s -k1,1 | cut -f2-)
printf '%s' "$MOUNTS" > "$RUN/ctl/mounts"
echo "${WORKDIR:-/}" > "$RUN/ctl/workdir"

mkfifo "$RUN/stdout.fifo" "$RUN/stderr.fifo"
cat "$RUN/stdout.fifo" & CAT1=$!
cat "$RUN/stderr.fifo" >&2 & CAT2=$!
: > "$RUN/console.log"
if [ "$VERBOSE" = 1 ]; then tail -n +1 -f "$RUN/console.log" >&2 & TAILPID=$!; fi

CMDLINE="console=ttyS0 quiet loglevel=3 panic=-1 rw systemd.unified_cgroup_hierarchy=1 systemd.show_status=error"
CMDLINE+=" systemd.machine_id=$(tr -d - < /proc/sys/kernel/random/uuid) i8042.noaux i8042.nokbd"
TMPDIR=$RUN timeout "$TIMEOUT" qemu-system-x86_64 \
    -name jspawn-vmtest "${ACCEL_ARGS[@]}" -smp "$CPUS" -m "$MEM" \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$D/image/vmlinuz" -initrd "$D/image/initrd.img" -append "$CMDLINE" \
    -drive "file=$D/image/root.img,if=none,id=root,format=raw,snapshot=on,cache=unsafe" \
    -device virtio-blk-pci,drive=root \
    -serial "file:$RUN/console.log" \
    -device virtio-serial-pci,id=vser \
    -chardev "file,id=vout,path=$RUN/stdout.fifo" -device virtserialport,chardev=vout,name=vmtest.stdout \
    -chardev "file,id=verr,path=$RUN/stderr.fifo" -device virtserialport,chardev=verr,name=vmtest.stderr \
    -virtfs "local,path=$RUN/ctl,mount_tag=vmtest,security_model=none" \
    "${VIRTFS[@]+"${VIRTFS[@]}"}" \
    -nic none -device virtio-rng-pci \
    </dev/null >"$RUN/qemu.log" 2>&1 &
QPID=$!
QRC=0; wait "$QPID" || QRC=$?
QPID=
if [ -n "$TAILPID" ]; then sleep 0.2; kill "$TAILPID" 2>/dev/null; TAILPID=; fi
if [ "$QRC" = 124 ]; then
    echo "vm-run: timed out after ${TIMEOUT}s; console tail:" >&2; tail -n 30 "$RUN/console.log" >&2
    exit 124
fi
[ -s "$RUN/ctl/rc" ] && exit "$(cat "$RUN/ctl/rc")"
echo "vm-run: VM ended without an exit status (qemu rc $QRC); qemu log and console tail:" >&2
cat "$RUN/qemu.log" >&2; tail -n 30 "$RUN/console.log" >&2
exit 125
