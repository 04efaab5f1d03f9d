#!/bin/bash
# density.sh - memory cost of N idle containers (busybox rootfs, `sleep` as the payload).
#
# Usage: density.sh [N ...]            (default: 20 50)
#
# For each N: makes N hard-linked copies of the busybox rootfs (cp -al; one directory per
# container, because systemd-nspawn locks its directory), samples memory, starts N spawners in
# the background at once, waits until every one has its payload running inside a new PID
# namespace, waits SETTLE seconds, samples memory again, then stops exactly the spawner PIDs it
# started (SIGTERM, SIGKILL after STOP_TIMEOUT) and reaps them.
#
# Figures per N:
#   start-all s        from the first launch until all N payloads run (a burst: N spawners at once)
#   supervisor RSS/PSS summed over the spawner processes and their descendants that stay in the
#                      host PID namespace (for systemd-nspawn: the nspawn process itself)
#   payload RSS/PSS    summed over the processes inside the containers' PID namespaces
#   memcg delta        change of rss + shmem (memory.stat) + memory.kmem.usage_in_bytes of this
#                      script's own cgroup-v1 memory cgroup, read only: anonymous, tmpfs and kernel
#                      memory (page tables, namespaces, mounts, ptys) charged to the containers;
#                      not disturbed by other processes on the machine unless they share that
#                      cgroup. The usage_in_bytes delta (which also moves with page cache) is
#                      shown beside it. Shown as n/a when the spawner moves its processes into
#                      other memory cgroups (LXC does: lxc.monitor.*, lxc.payload.*).
#   MemAvailable delta global /proc/meminfo change: includes everything else that ran meanwhile
#   stop s             from the first SIGTERM until every spawner is reaped
#
# jspawn (this copy of ../shared/bench/density.sh): jspawn puts every container in
# machine.slice/machine-NAME.scope, as machined does, so the memcg figures here add the memory cgroup
# machine.slice (rss + shmem + kmem, hierarchical) to this script's own; for systemd-nspawn
# --keep-unit that slice stays empty. DENSITY_WHO=jspawn runs
#   jspawn -q -D {rootfs} -M {name} /bin/sleep {secs}
# through the planner (the C client is the supervisor, no JVM per container; jmachined is started
# here on private paths); bench/density-jmachined.sh measures machines managed by jmachined itself.
#
# The spawner command is a template (placeholders {rootfs} = this container's copy, {name}, {i},
# {secs} = payload sleep seconds):
#   DENSITY_CMD='jspawn -D {rootfs} /bin/sleep {secs}' density.sh 20 50
# Environment: BENCH_DIR (/var/tmp/ctr-bench), DENSITY_CMD (systemd-nspawn, below), SETTLE (3),
#   STOP_SIGNAL (TERM), STOP_TIMEOUT (20), READY_TIMEOUT (120), READY_COMM (sleep), OUT
# Needs: root, python3.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/ctr-bench}
DEFAULT_CMD='systemd-nspawn --register=no --keep-unit -q -D {rootfs} /bin/sleep {secs}'
REPO=$(cd "$HERE/.." && pwd)
if [ "${DENSITY_WHO:-nspawn}" = jspawn ]; then
    DEFAULT_CMD="$REPO/bin/jspawn -q -D {rootfs} -M {name} /bin/sleep {secs}"
    JMD=$(mktemp -d /run/jspawn-bench.XXXXXX)
    export JSPAWN_SOCKET=$JMD/planner.sock
    "$REPO/bin/jmachined" "$JSPAWN_SOCKET" 2>/dev/null &
    JMD_PID=$!
    for _ in $(seq 100); do [ -S "$JSPAWN_SOCKET" ] && break; sleep 0.1; done
fi
DENSITY_CMD=${DENSITY_CMD:-$DEFAULT_CMD}
SETTLE=${SETTLE:-3}; STOP_SIGNAL=${STOP_SIGNAL:-TERM}; STOP_TIMEOUT=${STOP_TIMEOUT:-20}
READY_TIMEOUT=${READY_TIMEOUT:-120}; READY_COMM=${READY_COMM:-sleep}; SECS=3599
case ${1:-} in -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;; esac
COUNTS=("$@"); [ ${#COUNTS[@]} -gt 0 ] || COUNTS=(20 50)

[ "$(id -u)" = 0 ] || { echo "density.sh: must run as root" >&2; exit 1; }
command -v python3 >/dev/null || { echo "missing python3" >&2; exit 1; }
[ "$(stat -f -c %T /run 2>/dev/null)" = tmpfs ] || echo "warning: /run is not a tmpfs; systemd-nspawn may fail (mount -t tmpfs tmpfs /run)" >&2
ROOTFS=$BENCH_DIR/busybox-rootfs
[ -x "$ROOTFS/bin/busybox" ] || "$HERE/mkrootfs.sh" "$BENCH_DIR" busybox
OUT=${OUT:-$BENCH_DIR/results/density-$(date +%Y%m%dT%H%M%S)}
mkdir -p "$OUT"
WORK=$(mktemp -d "$BENCH_DIR/.density.XXXXXX")
PIDS=()

stop_all() {   # stop exactly the spawners this script started
    local p t0 deadline
    [ ${#PIDS[@]} -gt 0 ] || return 0
    t0=$EPOCHREALTIME
    for p in "${PIDS[@]}"; do kill -s "$STOP_SIGNAL" "$p" 2>/dev/null || true; done
    deadline=$(( $(date +%s) + STOP_TIMEOUT ))
    for p in "${PIDS[@]}"; do
        while kill -0 "$p" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] \
              && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.02; done
        kill -0 "$p" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] \
            && { echo "pid $p still running after ${STOP_TIMEOUT}s: SIGKILL" >&2; kill -KILL "$p" 2>/dev/null || true; }
        wait "$p" 2>/dev/null || true
    done
    STOP_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}')
    PIDS=()
}
cleanup() { set +e; stop_all; rm -rf "$WORK"; [ -n "${JMD_PID:-}" ] && { kill "$JMD_PID"; wait "$JMD_PID"; rm -rf "$JMD"; }; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$WORK/probe.py" <<'PYEOF'
import json, os, sys
def status(pid):
    d = {}
    try:
        for l in open(f"/proc/{pid}/status"):
            k, _, v = l.partition(":"); d[k] = v.strip()
    except OSError: pass
    return d
def kib(s, k):
    try: return int(s.get(k, "0 kB").split()[0])
    except ValueError: return 0
def rollup(pid):
    r = {}
    try:
        for l in open(f"/proc/{pid}/smaps_rollup"):
            p = l.split()
            if len(p) >= 2 and p[1].isdigit(): r[p[0].rstrip(":")] = int(p[1])
    except OSError: pass
    return r
def tree():
    kids, st = {}, {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            s = status(e)
            if s: st[int(e)] = s; kids.setdefault(int(s.get("PPid", "0")), []).append(int(e))
    return kids, st
def descendants(kids, pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out
def memcg():
    path = None
    for l in open("/proc/self/cgroup"):
        h, c, p = l.rstrip("\n").split(":", 2)
        if "memory" in c.split(","): path = "/sys/fs/cgroup/memory" + p
    if not path or not os.path.exists(path + "/memory.usage_in_bytes"): return None
    r = {"path": path}
    for f in ("memory.usage_in_bytes", "memory.kmem.usage_in_bytes"):
        try: r[f] = int(open(f"{path}/{f}").read())
        except (OSError, ValueError): pass
    try:
        for l in open(f"{path}/memory.stat"):
            k, v = l.split(); 
            if k in ("rss", "cache", "shmem", "mapped_file"): r["stat." + k] = int(v)
    except OSError: pass
    # jspawn's containers live in machine.slice (as machined places them): add it (hierarchical totals)
    ms = "/sys/fs/cgroup/memory/machine.slice"
    if os.path.isdir(ms):
        try:
            for f in ("memory.usage_in_bytes", "memory.kmem.usage_in_bytes"):
                r[f] = r.get(f, 0) + int(open(f"{ms}/{f}").read())
            for l in open(f"{ms}/memory.stat"):
                k, v = l.split()
                if k in ("total_rss", "total_cache", "total_shmem", "total_mapped_file"):
                    r["stat." + k[6:]] = r.get("stat." + k[6:], 0) + int(v)
        except OSError: pass
    return r
def meminfo():
    m = {}
    for l in open("/proc/meminfo"):
        k, v = l.split(":"); m[k] = int(v.split()[0])
    return {k: m.get(k) for k in ("MemFree", "MemAvailable", "Cached", "Slab", "SUnreclaim", "KernelStack", "PageTables", "Shmem")}
cmd, comm = sys.argv[1], sys.argv[2]; pids = [int(x) for x in sys.argv[3:]]
kids, st = tree()
ready, sup, pay = 0, [], []
for p in pids:
    got = False
    for d in descendants(kids, p):
        s = st.get(d, {})
        inner = len(s.get("NSpid", "").split()) >= 2
        (pay if inner else sup).append(d)
        if inner and s.get("Name") == comm: got = True
    ready += got
if cmd == "ready":
    print(ready); sys.exit(0)
def agg(ps):
    r = {"procs": len(ps), "rss_kib": 0, "pss_kib": 0, "uss_kib": 0}
    for p in ps:
        r["rss_kib"] += kib(st.get(p, {}), "VmRSS"); ro = rollup(p)
        r["pss_kib"] += ro.get("Pss", 0); r["uss_kib"] += ro.get("Private_Clean", 0) + ro.get("Private_Dirty", 0)
    return r
def memcg_of(pid):
    try:
        for l in open(f"/proc/{pid}/cgroup"):
            h, c, p = l.rstrip("\n").split(":", 2)
            if "memory" in c.split(","): return p
    except OSError: pass
    return None
mine = memcg_of("self"); outside = [p for p in sup + pay if memcg_of(p) is not None and not (memcg_of(p) + "/").startswith(mine.rstrip("/") + "/") and not memcg_of(p).startswith("/machine.slice/")] if mine else []
print(json.dumps({"ready": ready, "supervisor": agg(sup), "payload": agg(pay), "memcg": memcg(), "memcg_outside": len(outside), "meminfo": meminfo()}))
PYEOF
probe() { python3 "$WORK/probe.py" "$@"; }

{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) cpus, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "loadavg-before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "command: $DENSITY_CMD"
    echo "counts: ${COUNTS[*]}, settle ${SETTLE}s, stop signal $STOP_SIGNAL"
    command -v systemd-nspawn >/dev/null && echo "version systemd-nspawn: $(systemd-nspawn --version | head -1)"
} > "$OUT/meta.txt"
cat "$OUT/meta.txt" >&2

for N in "${COUNTS[@]}"; do
    rm -rf "$WORK/c"; mkdir -p "$WORK/c"
    for i in $(seq -w 1 "$N"); do cp -al "$ROOTFS" "$WORK/c/bench-c$i"; done
    sync; sleep 1
    probe sample "$READY_COMM" > "$OUT/n$N-before.json"
    t0=$EPOCHREALTIME
    for i in $(seq -w 1 "$N"); do
        c=$DENSITY_CMD; c=${c//\{rootfs\}/$WORK/c/bench-c$i}; c=${c//\{name\}/bench-c$i}; c=${c//\{i\}/$i}; c=${c//\{secs\}/$SECS}
        read -r -a words <<<"$c"
        "${words[@]}" </dev/null >>"$OUT/n$N-spawners.log" 2>&1 &
        PIDS+=($!)
    done
    deadline=$(( $(date +%s) + READY_TIMEOUT ))
    while :; do
        ready=$(probe ready "$READY_COMM" "${PIDS[@]}")
        [ "$ready" -ge "$N" ] && break
        if [ "$(date +%s)" -ge "$deadline" ]; then echo "only $ready/$N containers ready after ${READY_TIMEOUT}s" >&2; break; fi
        sleep 0.05
    done
    START_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}')
    sleep "$SETTLE"
    probe sample "$READY_COMM" "${PIDS[@]}" > "$OUT/n$N-after.json"
    alive=0; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive+1)); done
    stop_all
    # leftovers: any process whose root directory is one of our copies
    left=0
    for r in /proc/[0-9]*/root; do
        case $(readlink "$r" 2>/dev/null) in "$WORK"/c/*) left=$((left+1)) ;; esac
    done
    echo "{\"n\": $N, \"ready\": $ready, \"alive_at_sample\": $alive, \"start_s\": $START_S, \"stop_s\": $STOP_S, \"leftover_procs\": $left}" > "$OUT/n$N-times.json"
    echo "[density] N=$N ready=$ready start=${START_S}s stop=${STOP_S}s leftover processes=$left" >&2
    rm -rf "$WORK/c"
    sleep 1
done
echo "loadavg-after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/meta.txt"

python3 - "$OUT" "${COUNTS[@]}" <<'PYEOF' | tee "$OUT/summary.md"
import json, sys
out, counts = sys.argv[1], [int(x) for x in sys.argv[2:]]
mib = lambda k: f"{k/1024:.1f}"
print("# density: N idle busybox containers (payload: sleep)\n")
print("| N | ready | start-all s | supervisor procs | supervisor RSS MiB (per ctr) | supervisor PSS MiB (per ctr) | payload RSS MiB (per ctr) | payload PSS MiB | memcg anon+shmem+kmem delta MiB (per ctr) | of which kmem MiB | memcg usage delta MiB (incl. page cache) | MemAvailable drop MiB (per ctr) | Slab+PageTables+KernelStack delta MiB | stop s | leftover procs |")
print("|---:|---:|---:|---:|---|---|---|---:|---|---:|---:|---|---:|---:|---:|")
for n in counts:
    b = json.load(open(f"{out}/n{n}-before.json")); a = json.load(open(f"{out}/n{n}-after.json"))
    t = json.load(open(f"{out}/n{n}-times.json"))
    s, p = a["supervisor"], a["payload"]
    cg = ak = kd = "n/a"
    A, B = a.get("memcg") or {}, b.get("memcg") or {}
    dl = lambda k: (A[k] - B[k]) / 1024 if k in A and k in B else None
    if dl("memory.usage_in_bytes") is not None: cg = mib(dl("memory.usage_in_bytes"))
    if dl("memory.kmem.usage_in_bytes") is not None: kd = mib(dl("memory.kmem.usage_in_bytes"))
    if None not in (dl("stat.rss"), dl("stat.shmem"), dl("memory.kmem.usage_in_bytes")):
        x = dl("stat.rss") + dl("stat.shmem") + dl("memory.kmem.usage_in_bytes")
        ak = f"{mib(x)} ({mib(x/n)})"
    if a.get("memcg_outside"):   # the spawner moved processes to other memory cgroups: not comparable
        ak = cg = kd = f"n/a ({a['memcg_outside']} procs outside)"
    ma = b["meminfo"]["MemAvailable"] - a["meminfo"]["MemAvailable"]
    kern = sum(a["meminfo"][k] - b["meminfo"][k] for k in ("Slab", "PageTables", "KernelStack"))
    print(f"| {n} | {t['ready']} | {t['start_s']:.2f} | {s['procs']} | {mib(s['rss_kib'])} ({mib(s['rss_kib']/n)}) | "
          f"{mib(s['pss_kib'])} ({mib(s['pss_kib']/n)}) | {mib(p['rss_kib'])} ({mib(p['rss_kib']/n)}) | {mib(p['pss_kib'])} | "
          f"{ak} | {kd} | {cg} | {mib(ma)} ({mib(ma/n)}) | {mib(kern)} | {t['stop_s']:.2f} | {t.get('leftover_procs', 'n/a')} |")
a = json.load(open(f"{out}/n{counts[-1]}-after.json"))
if a.get("memcg"): print(f"\nmemory cgroup read: {a['memcg']['path']}")
PYEOF
echo "results in $OUT" >&2
