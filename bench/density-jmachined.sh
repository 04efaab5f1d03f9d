#!/bin/bash
# density-jmachined.sh - extra host memory per idle busybox machine when one jmachined manages N of
# them, next to systemd-nspawn's figure from the judged bench/density.sh (../shared/bench/density.sh).
#
# Usage: bench/density-jmachined.sh [N]           (default 50)
#
# A private jmachined (every path under a work directory in BENCH_DIR, nothing of the host's
# /run/jspawn, /var/lib/machines or /var/log/jspawn is touched) starts N copies of the busybox tree
# as managed machines (`jmachinectl start`, the systemd-nspawn@.service options: --boot -U ...); each
# boots busybox init, whose only job is `sleep`. Memory is sampled before and after (SETTLE seconds
# after all N run):
#   machine.slice memcg   rss + shmem + kmem of the cgroup-v1 memory cgroup machine.slice, which holds
#                         every machine: its processes, its monitor (jspawn-stub) and the kernel memory
#                         charged to them (page tables, namespaces, mounts, ptys)
#   daemon RSS            growth of the jmachined JVM (threads, registry) while it supervises N machines;
#                         one machine is started and stopped before the first sample, so the JVM's
#                         one-time warm-up (classes, compiled code), paid once per host, is not
#                         divided among the N
#   per machine           (memcg delta + daemon RSS delta) / N: what one more machine costs the host
#   MemAvailable delta    global, includes everything else that ran meanwhile
# Also times `jmachinectl list` with the N machines (RUNS runs, median and min).
# Environment: BENCH_DIR (/var/tmp/ctr-bench), SETTLE (3), RUNS (20), READY_TIMEOUT (180), OUT.
# Needs: root, python3, a build of the repository (./build.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
N=${1:-50}
BENCH_DIR=${BENCH_DIR:-/var/tmp/ctr-bench}
SETTLE=${SETTLE:-3}; RUNS=${RUNS:-20}; READY_TIMEOUT=${READY_TIMEOUT:-180}
[ "$(id -u)" = 0 ] || { echo "density-jmachined.sh: must run as root" >&2; exit 1; }
ROOTFS=$BENCH_DIR/busybox-rootfs
[ -x "$ROOTFS/bin/busybox" ] || "$REPO/scripts/mkrootfs-busybox.sh" "$ROOTFS" >/dev/null
OUT=${OUT:-$BENCH_DIR/results/density-jmachined-$(date +%Y%m%dT%H%M%S)}
mkdir -p "$OUT"
W=$(mktemp -d "$BENCH_DIR/.jmd.XXXXXX")
export JSPAWN_MACHINE_SOCKET=$W/api.sock JSPAWN_SOCKET=$W/planner.sock JSPAWN_MACHINES_STATE=$W/state \
    JSPAWN_IMAGES=$W/images JSPAWN_LOG_DIR=$W/log JSPAWN_ENABLED=$W/enabled JSPAWN_NSPAWN_DIRS=$W/nspawn
# Managed machines get --network-veth by default (as systemd-nspawn@.service); the systemd-nspawn side of
# this comparison runs without a network, and a bench must not make links in the host's namespace: none.
export JSPAWN_MANAGED_NETWORK=${JSPAWN_MANAGED_NETWORK:-no}
CTL=$REPO/bin/jmachinectl
DAEMON=
names=()
cleanup() {
    set +e
    if [ -n "$DAEMON" ]; then
        for n in "${names[@]}"; do "$CTL" terminate "$n" >/dev/null 2>&1; done
        for _ in $(seq 100); do [ "$("$CTL" list --no-legend 2>/dev/null | wc -l)" = 0 ] && break; sleep 0.1; done
        kill "$DAEMON"; wait "$DAEMON" 2>/dev/null
    fi
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$W/images" "$W/nspawn"
cp -a "$ROOTFS" "$W/images/warmup"
printf '::respawn:/bin/sleep 3599\n' > "$W/images/warmup/etc/inittab"
printf '[Exec]\nKillSignal=SIGUSR2\n' > "$W/nspawn/warmup.nspawn"
for i in $(seq -w 1 "$N"); do
    n=bench-m$i; names+=("$n")
    cp -a "$ROOTFS" "$W/images/$n"
    printf '::respawn:/bin/sleep 3599\n' > "$W/images/$n/etc/inittab"
    printf '[Exec]\nKillSignal=SIGUSR2\n' > "$W/nspawn/$n.nspawn"
done
sample() {   # memcg of machine.slice (0 when absent), daemon RSS (kB), MemAvailable (kB)
    python3 - "$DAEMON" <<'PY'
import json, os, sys
cg = "/sys/fs/cgroup/memory/machine.slice"
r = {"rss": 0, "shmem": 0, "kmem": 0, "usage": 0}
if os.path.isdir(cg):
    for l in open(cg + "/memory.stat"):
        k, v = l.split()
        if k in ("total_rss", "total_shmem"): r[k[6:]] = int(v)
    r["kmem"] = int(open(cg + "/memory.kmem.usage_in_bytes").read())
    r["usage"] = int(open(cg + "/memory.usage_in_bytes").read())
rss = 0
for l in open(f"/proc/{sys.argv[1]}/status"):
    if l.startswith("VmRSS:"): rss = int(l.split()[1])
avail = [int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemAvailable:")][0]
print(json.dumps({"memcg": r, "daemon_rss_kib": rss, "mem_available_kib": avail}))
PY
}
"$REPO/bin/jmachined" 2>"$OUT/jmachined.log" &
DAEMON=$!
for _ in $(seq 100); do [ -S "$JSPAWN_SOCKET" ] && break; sleep 0.1; done
"$CTL" list >/dev/null   # the AOT cache is made on the first run after a build
"$CTL" start warmup
for _ in $(seq 100); do "$CTL" show warmup >/dev/null 2>&1 && break; sleep 0.1; done
sleep 1; "$CTL" terminate warmup
for _ in $(seq 100); do "$CTL" show warmup >/dev/null 2>&1 || break; sleep 0.1; done
sync; sleep 3
sample > "$OUT/before.json"
t0=$EPOCHREALTIME
"$CTL" start "${names[@]}"
deadline=$(( $(date +%s) + READY_TIMEOUT ))
while :; do
    ready=$(for p in $("$CTL" list --no-legend | awk '{print $1}'); do "$CTL" show -p Leader --value "$p"; done \
        | while read -r l; do pgrep -P "$l" -x sleep >/dev/null && echo x; done | wc -l)
    [ "$ready" -ge "$N" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && { echo "only $ready/$N machines ready" >&2; break; }
    sleep 0.5
done
START_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
sleep "$SETTLE"
sample > "$OUT/after.json"
for i in $(seq "$RUNS"); do
    a=$EPOCHREALTIME; "$CTL" list >/dev/null; awk -v a="$a" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f\n", (b-a)*1000}'
done > "$OUT/list-ms.txt"
{
    echo "date: $(date -u +%FT%TZ), host: $(uname -srm), $(nproc) cpus, loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?)"
} > "$OUT/meta.txt"
python3 - "$OUT" "$N" "$ready" "$START_S" <<'PY' | tee "$OUT/summary.md"
import json, statistics, sys
out, n, ready, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
b, a = json.load(open(f"{out}/before.json")), json.load(open(f"{out}/after.json"))
mib = lambda x: x / 1048576
d = {k: a["memcg"][k] - b["memcg"][k] for k in a["memcg"]}
cg = d["rss"] + d["shmem"] + d["kmem"]
dr = (a["daemon_rss_kib"] - b["daemon_rss_kib"]) * 1024
ms = [float(x) for x in open(f"{out}/list-ms.txt")]
print(f"# density under jmachined: {n} idle busybox machines (busybox init + sleep)\n")
print("| N | ready | start-all s | machine.slice rss+shmem+kmem MiB (per machine) | of which kmem MiB | daemon RSS delta MiB (per machine) | per machine MiB | MemAvailable drop MiB (per machine) | jmachinectl list ms median (min) |")
print("|---:|---:|---:|---|---:|---|---:|---|---|")
ma = (b["mem_available_kib"] - a["mem_available_kib"]) * 1024
print(f"| {n} | {ready} | {start} | {mib(cg):.1f} ({mib(cg/n):.2f}) | {mib(d['kmem']):.1f} | {mib(dr):.1f} ({mib(dr/n):.2f}) | "
      f"{mib((cg+dr)/n):.2f} | {mib(ma):.1f} ({mib(ma/n):.2f}) | {statistics.median(ms):.0f} ({min(ms):.0f}) |")
PY
echo "results in $OUT" >&2
