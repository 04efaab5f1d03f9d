#!/bin/bash
# network-start.sh - how long jspawn takes to start a container with a veth link (created, addressed,
# removed again) that runs /bin/true, relative to systemd-nspawn --network-veth on the same busybox tree,
# on the same machine, in the same minutes. Both run inside a throwaway network namespace
# (jst-bench-PID, deleted at the end), so the machine's own links are never touched.
#
# Usage: bench/network-start.sh [--runs N] [--rounds N] [--warmup N] [--tree DIR] [--out DIR]
#
# Compared commands (hyperfine -N: no intermediate shell):
#   nspawn: nsenter --net=NETNS systemd-nspawn --register=no --keep-unit -q --network-veth -D TREE /bin/true
#   jspawn: nsenter --net=NETNS $JSPAWN -q --network-veth -D TREE /bin/true
# Note the work is not the same: jspawn also allocates a subnet and addresses both sides (what networkd
# would do on a systemd host), nspawn only creates the veth pair.
# Each round runs both commands (RUNS timed runs each after WARMUP untimed ones); the order
# alternates from one round to the next. The ratio jspawn/nspawn of the two medians is taken per
# round, so that load from other processes on a shared machine hits both sides of each ratio alike;
# the overall figure is the median of the per-round ratios (and the min-max range is shown).
#
# Environment:
#   JSPAWN     the jspawn command, split into words (default: `jspawn` on PATH, else the repo's
#              bin/jspawn), e.g. JSPAWN='java -XX:TieredStopAtLevel=1 -jar target/jspawn.jar'
#   PLANNER    on (default): the jspawn row runs with jmachined, the resident planner, listening
#              (started here on a private socket and stopped at the end unless one already runs);
#              off: JSPAWN_NO_PLANNER=1, every start runs its own JVM (the fallback path)
#   RUNS (20), ROUNDS (4), WARMUP (3)
#   BENCH_DIR  (/var/tmp/jspawn-bench) holds the tree (busybox-rootfs, built with
#              scripts/mkrootfs-busybox.sh when missing) and results/
#   OUT        results directory (default BENCH_DIR/results/network-start-YYYYmmddTHHMMSS)
# Output: a summary on stdout (also OUT/summary.md); OUT keeps meta.txt and each round's
# hyperfine CSV, JSON and text output.
# Needs: root, hyperfine, systemd-nspawn (systemd-container), busybox-static. Changes nothing on
# the host beyond BENCH_DIR: no sysctl, no mount, no service.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/jspawn-bench}
RUNS=${RUNS:-20}; ROUNDS=${ROUNDS:-4}; WARMUP=${WARMUP:-3}
TREE=${TREE:-$BENCH_DIR/busybox-rootfs}
OUT=${OUT:-}
while [ $# -gt 0 ]; do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --tree) TREE=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;;
        *) echo "network-start.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

die() { echo "network-start.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (both tools create namespaces and mounts)"
command -v hyperfine >/dev/null || die "hyperfine missing (apt-get install hyperfine)"
command -v systemd-nspawn >/dev/null || die "systemd-nspawn missing (apt-get install systemd-container)"

if [ -z "${JSPAWN:-}" ]; then
    if command -v jspawn >/dev/null; then JSPAWN=jspawn
    elif [ -x "$REPO/bin/jspawn" ]; then JSPAWN=$REPO/bin/jspawn
    else die "no jspawn on PATH and no $REPO/bin/jspawn; set JSPAWN"
    fi
fi

[ -x "$TREE/bin/busybox" ] || "$REPO/scripts/mkrootfs-busybox.sh" "$TREE"

PLANNER=${PLANNER:-on}
PLANNER_PID=
if [ "$PLANNER" = off ]; then
    export JSPAWN_NO_PLANNER=1
elif [ ! -S "${JSPAWN_SOCKET:-/run/jspawn/jspawn.sock}" ]; then
    export JSPAWN_SOCKET=/run/jspawn/bench-$$.sock
    if command -v jmachined >/dev/null && [ "$JSPAWN" = jspawn ]; then JMD=jmachined; else JMD=$REPO/bin/jmachined; fi
    "$JMD" "$JSPAWN_SOCKET" 2>"$BENCH_DIR/jmachined.log" &
    PLANNER_PID=$!
    trap 'kill $PLANNER_PID 2>/dev/null; rm -f "$JSPAWN_SOCKET"' EXIT
    for _ in $(seq 100); do [ -S "$JSPAWN_SOCKET" ] && break; sleep 0.1; done
    [ -S "$JSPAWN_SOCKET" ] || die "jmachined did not start (see $BENCH_DIR/jmachined.log)"
fi
NETNS=jst-bench-$$
ip netns add "$NETNS" || die "cannot create network namespace $NETNS"
ip -n "$NETNS" link set lo up
trap 'ip netns delete "$NETNS" 2>/dev/null; [ -n "$PLANNER_PID" ] && kill $PLANNER_PID 2>/dev/null; [ -n "$PLANNER_PID" ] && rm -f "$JSPAWN_SOCKET"; true' EXIT
IN="nsenter --net=/run/netns/$NETNS"
OUT=${OUT:-$BENCH_DIR/results/network-start-$(date +%Y%m%dT%H%M%S)}
mkdir -p "$OUT"

NAMES=(nspawn jspawn)
CMDS=("$IN systemd-nspawn --register=no --keep-unit -q --network-veth -D $TREE /bin/true"
      "$IN $JSPAWN -q --network-veth -D $TREE /bin/true")

# Both must work before anything is timed; hyperfine would otherwise time failures.
for i in 0 1; do
    read -r -a words <<<"${CMDS[$i]}"
    if ! msg=$(timeout 60 "${words[@]}" </dev/null 2>&1 >/dev/null); then
        die "${NAMES[$i]} does not run: ${CMDS[$i]}"$'\n'"$msg"
    fi
done

{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) cpus, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "loadavg-before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "runs: $RUNS per command per round, $ROUNDS rounds, warmup $WARMUP per command per round"
    echo "tree: $TREE ($(grep -h '^busybox=' "$TREE/.jspawn-rootfs-stamp" 2>/dev/null || echo 'busybox ?'))"
    for i in 0 1; do echo "cmd ${NAMES[$i]}: ${CMDS[$i]}"; done
    echo "version systemd-nspawn: $(systemd-nspawn --version | head -1)"
    echo "version hyperfine: $(hyperfine --version)"
    echo "jspawn planner: $PLANNER${JSPAWN_SOCKET:+ ($JSPAWN_SOCKET)}"
    echo "jspawn commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?)"
} > "$OUT/meta.txt"
cat "$OUT/meta.txt" >&2

for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order=(0 1); else order=(1 0); fi
    args=()
    for i in "${order[@]}"; do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
    echo "[network-start] round $r/$ROUNDS: ${NAMES[${order[0]}]} first" >&2
    hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
        --export-csv "$OUT/round$r.csv" --export-json "$OUT/round$r.json" "${args[@]}" \
        > "$OUT/round$r.txt" 2>&1 || { cat "$OUT/round$r.txt" >&2; die "hyperfine failed in round $r"; }
done
echo "loadavg-after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/meta.txt"

# Per round: medians from hyperfine's CSV (command,mean,stddev,median,user,system,min,max).
awk -F, -v rounds="$ROUNDS" -v runs="$RUNS" '
    function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    FNR == 1 { r++; next }
    { med[r, $1] = $4; lo[r, $1] = $7 }
    END {
        printf "# start latency with --network-veth: /bin/true in the busybox tree (%d runs per command per round)\n\n", runs
        print "| round | nspawn median ms | jspawn median ms | ratio jspawn/nspawn |"
        print "|---:|---:|---:|---:|"
        for (i = 1; i <= rounds; i++) {
            ratio[i] = med[i, "jspawn"] / med[i, "nspawn"]
            n_ms[i] = med[i, "nspawn"] * 1000; j_ms[i] = med[i, "jspawn"] * 1000
            printf "| %d | %.1f | %.1f | %.2f |\n", i, n_ms[i], j_ms[i], ratio[i]
        }
        for (i = 1; i <= rounds; i++) { s[i] = ratio[i]; a[i] = n_ms[i]; b[i] = j_ms[i] }
        m = median(s, rounds); mn = s[1]; mx = s[rounds]
        printf "\noverall: jspawn/nspawn = %.2f (median of %d per-round ratios; range %.2f-%.2f); " \
               "median of round medians: nspawn %.1f ms, jspawn %.1f ms\n", m, rounds, mn, mx, median(a, rounds), median(b, rounds)
    }' $(for r in $(seq 1 "$ROUNDS"); do echo "$OUT/round$r.csv"; done) | tee "$OUT/summary.md"
echo "results in $OUT" >&2
