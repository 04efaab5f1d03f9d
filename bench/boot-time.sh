#!/bin/bash
# boot-time.sh - how long jspawn takes to boot a Debian container with systemd to multi-user.target,
# and to power it off, relative to systemd-nspawn on the same tree, on the same machine, in the same
# minutes.
#
# Usage: bench/boot-time.sh [--rounds N] [--warmup N] [--only nspawn|jspawn] [--tree DIR]
#                           [--timeout S] [--out DIR]
#
# Compared commands (stdin /dev/null, stdout and stderr to a log file: no pty, console read-only):
#   nspawn: systemd-nspawn --register=no --keep-unit -b -D COPY
#   jspawn: $JSPAWN -b -D COPY
# COPY is a private copy (cp -a --reflink=auto) of the Debian tree (scripts/mkrootfs-debian.sh),
# made in the results directory, with one unit added: jspawn-bench-boot.service, WantedBy= and
# After=multi-user.target, Type=exec, which writes CLOCK_REALTIME in nanoseconds (date +%s%N) to
# /var/lib/jspawn-bench/booted and then runs `systemctl --no-block poweroff`. The script notes
# CLOCK_REALTIME ($EPOCHREALTIME, no fork) right before it starts the command and right after it
# exits, and reads the guest's stamp from COPY afterwards (no bind mount needed):
#   boot      start of the command -> multi-user.target reached (the guest's stamp)
#   poweroff  poweroff requested (the same stamp) -> the command exited
# Each round runs both commands once; the order alternates between rounds (nspawn first, then
# jspawn first, ...). Ratios jspawn/nspawn are taken per round; the overall figures are the median of
# the per-round ratios (min-max range shown) and the medians of the times.
# A run fails when the command exits non-zero, times out, or exits without the guest's stamp; a
# failed jspawn run is reported as such ("jspawn FAILED ...", with the end of its log) and left out.
# If a warm-up run fails the script stops there.
#
# Options and environment:
#   --only nspawn|jspawn  run one command only (times, no ratio); e.g. while jspawn -b is unfinished
#   JSPAWN     the jspawn command, split into words (default: `jspawn` on PATH, else the repo's
#              bin/jspawn)
#   PLANNER    on (default): the jspawn runs have jmachined, the resident planner, listening (started
#              on a private socket and stopped at the end unless one already runs); off:
#              JSPAWN_NO_PLANNER=1
#   ROUNDS (7), WARMUP (1 run of each command before round 1), TIMEOUT (60 s per run: then SIGTERM,
#   and SIGKILL 10 s later)
#   BENCH_DIR  (/var/tmp/jspawn-bench) holds the tree (debian-rootfs, built with
#              scripts/mkrootfs-debian.sh when missing or stale) and results/
#   TREE       the Debian tree to copy (default BENCH_DIR/debian-rootfs)
#   OUT        results directory (default BENCH_DIR/results/boot-time-YYYYmmddTHHMMSS)
# Output: per-run lines on stderr, a summary on stdout (also OUT/summary.md); OUT keeps meta.txt,
# runs.tsv (every run) and logs/ (each run's console output). The tree copy is deleted at the end.
#
# Clean-up (EXIT trap, also on failure or Ctrl-C): every command runs in a cgroup of its own,
# jspawn-bench-boot-PID in the name=systemd and unified hierarchies (systemd-nspawn --keep-unit puts
# its payload/ cgroups below it instead of at the root); at the end, processes left in it are
# SIGKILLed by pid and the cgroups removed, the planner stopped, the tree copy and nspawn's
# /run/systemd/nspawn/propagate/<copy name> removed. Nothing else on the host is changed.
# Needs: root, systemd-nspawn (systemd-container), debootstrap (for the tree), bash >= 5.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/jspawn-bench}
ROUNDS=${ROUNDS:-7}; WARMUP=${WARMUP:-3}; TIMEOUT=${TIMEOUT:-60}
TREE=${TREE:-$BENCH_DIR/debian-rootfs}
OUT=${OUT:-}
ONLY=
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --tree) TREE=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;;
        *) echo "boot-time.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

die() { echo "boot-time.sh: $*" >&2; exit 1; }
log() { echo "[boot-time] $*" >&2; }
case $ONLY in ''|nspawn|jspawn) ;; *) die "--only takes nspawn or jspawn, not '$ONLY'" ;; esac
[ "$(id -u)" = 0 ] || die "must run as root (both tools create namespaces and mounts)"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash >= 5 (EPOCHREALTIME)"
[ "$ONLY" = jspawn ] || command -v systemd-nspawn >/dev/null || die "systemd-nspawn missing (apt-get install systemd-container)"

NAMES=()
[ "$ONLY" = jspawn ] || NAMES+=(nspawn)
if [ "$ONLY" != nspawn ]; then
    if [ -z "${JSPAWN:-}" ]; then
        if command -v jspawn >/dev/null; then JSPAWN=jspawn
        elif [ -x "$REPO/bin/jspawn" ]; then JSPAWN=$REPO/bin/jspawn
        else die "no jspawn on PATH and no $REPO/bin/jspawn; set JSPAWN (or use --only nspawn)"
        fi
    fi
    NAMES+=(jspawn)
fi

# The tree (cached by the script: a rebuild from its tarball takes seconds, debootstrap ~ 1.5 min).
"$REPO/scripts/mkrootfs-debian.sh" "$TREE"

OUT=${OUT:-$BENCH_DIR/results/boot-time-$(date +%Y%m%dT%H%M%S)}
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
COPY=$OUT/jspawn-bench-boot-$$      # its basename is the machine name
CG=jspawn-bench-boot-$$
CGROOTS=()
for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
    [ -f "$h/cgroup.procs" ] && [ "$(stat -f -c %T "$h")" != tmpfs ] && CGROOTS+=("$h")
done
[ "${CGROOTS[0]}" = /sys/fs/cgroup ] && [ ${#CGROOTS[@]} -gt 1 ] && CGROOTS=("${CGROOTS[@]:1}")
PROPAGATE=/run/systemd/nspawn/propagate/$(basename "$COPY")
PROPAGATE_EXISTED=; [ -e "$PROPAGATE" ] && PROPAGATE_EXISTED=1
PLANNER_PID=
CHILD=

# All pids in our cgroups (any hierarchy), deepest cgroups included.
cg_pids() {
    local h
    for h in "${CGROOTS[@]}"; do
        [ -d "$h/$CG" ] && find "$h/$CG" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -un
}
cleanup() {
    local rc=$? p h i
    trap - EXIT INT TERM HUP
    [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null && sleep 1
    for i in 1 2 3 4 5 6 7 8 9 10; do
        p=$(cg_pids)
        [ -z "$p" ] && break
        [ "$i" = 1 ] && log "killing processes left in $CG: $(echo $p)"
        kill -KILL $p 2>/dev/null || true
        sleep 0.2
    done
    # Every hierarchy, not only ours: a spawner may mirror its cgroup path into v1 controllers.
    for h in /sys/fs/cgroup/$CG /sys/fs/cgroup/*/$CG; do
        [ -d "$h" ] || continue
        find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [ -d "$h" ] && log "warning: could not remove cgroup $h"
    done
    [ -n "$PLANNER_PID" ] && { kill "$PLANNER_PID" 2>/dev/null; rm -f "$JSPAWN_SOCKET"; }
    if [ -d "$COPY" ]; then
        if grep -qF " $COPY" /proc/self/mountinfo; then
            log "warning: something is mounted under $COPY; not deleting it"
        else
            rm -rf "$COPY"
        fi
    fi
    [ -z "$PROPAGATE_EXISTED" ] && rm -rf "$PROPAGATE"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for h in "${CGROOTS[@]}"; do mkdir "$h/$CG"; done

PLANNER=${PLANNER:-on}
if [ "$ONLY" != nspawn ]; then
    if [ "$PLANNER" = off ]; then
        export JSPAWN_NO_PLANNER=1
    elif [ ! -S "${JSPAWN_SOCKET:-/run/jspawn/jspawn.sock}" ]; then
        export JSPAWN_SOCKET=/run/jspawn/bench-boot-$$.sock
        mkdir -p /run/jspawn
        if command -v jmachined >/dev/null && [ "$JSPAWN" = jspawn ]; then JMD=jmachined; else JMD=$REPO/bin/jmachined; fi
        if [ -x "$JMD" ] || command -v "$JMD" >/dev/null; then
            "$JMD" "$JSPAWN_SOCKET" 2>"$OUT/jmachined.log" &
            PLANNER_PID=$!
            for _ in $(seq 100); do [ -S "$JSPAWN_SOCKET" ] && break; sleep 0.1; done
            [ -S "$JSPAWN_SOCKET" ] || log "warning: jmachined did not start (see $OUT/jmachined.log); jspawn will use its JVM path"
        else
            log "warning: no jmachined; jspawn will use its JVM path"
        fi
    fi
fi

log "copying $TREE to $COPY"
cp -a --reflink=auto "$TREE" "$COPY"
mkdir -p "$COPY/var/lib/jspawn-bench" "$COPY/etc/systemd/system/multi-user.target.wants"
# Type=exec, not oneshot: a oneshot job would be part of the boot transaction, and what it does
# must not delay the stamp. The stamp is taken first, then the poweroff is queued.
cat > "$COPY/etc/systemd/system/jspawn-bench-boot.service" <<'EOF'
[Unit]
Description=jspawn boot benchmark: note multi-user.target, then power off
After=multi-user.target

[Service]
Type=exec
ExecStart=/bin/sh -c 'date +%%s%%N > /var/lib/jspawn-bench/booted.tmp && mv /var/lib/jspawn-bench/booted.tmp /var/lib/jspawn-bench/booted; exec systemctl --no-block poweroff'

[Install]
WantedBy=multi-user.target
EOF
ln -sf ../jspawn-bench-boot.service "$COPY/etc/systemd/system/multi-user.target.wants/jspawn-bench-boot.service"

cmd_of() {
    case $1 in
        nspawn) echo "systemd-nspawn --register=no --keep-unit -b -D $COPY" ;;
        jspawn) echo "$JSPAWN -b -D $COPY" ;;
    esac
}

{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) cpus, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "loadavg-before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rounds: $ROUNDS, warmup $WARMUP per command, timeout $TIMEOUT s"
    echo "tree: $TREE ($(tr '\n' ' ' < "$TREE/.jspawn-rootfs-stamp" 2>/dev/null)), copied to $COPY"
    echo "guest systemd: $(chroot "$TREE" dpkg-query -W -f '${Version}' systemd 2>/dev/null || echo ?)"
    for n in "${NAMES[@]}"; do echo "cmd $n: $(cmd_of "$n")"; done
    command -v systemd-nspawn >/dev/null && echo "version systemd-nspawn: $(systemd-nspawn --version | head -1)"
    [ "$ONLY" != nspawn ] && echo "jspawn planner: $PLANNER${JSPAWN_SOCKET:+ ($JSPAWN_SOCKET)}${PLANNER_PID:+, started here}"
    echo "jspawn commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?)"
    echo "cgroups: $(printf '%s/'"$CG"' ' "${CGROOTS[@]}")"
} > "$OUT/meta.txt"
cat "$OUT/meta.txt" >&2

now_us() { local t=$EPOCHREALTIME; echo "${t/[.,]/}"; }

# one_run NAME LABEL: sets R_BOOT, R_POWEROFF (ms, or empty) and R_STATUS.
one_run() {
    local name=$1 label=$2 logf="$OUT/logs/$1-$2.log" t0 t1 rc booted words
    read -r -a words <<<"$(cmd_of "$name")"
    rm -f "$COPY/var/lib/jspawn-bench/booted" "$COPY/var/lib/jspawn-bench/booted.tmp"
    # The child moves itself into our cgroups, then execs timeout, which execs the command.
    t0=$(now_us)
    (
        for h in "${CGROOTS[@]}"; do echo "$BASHPID" > "$h/$CG/cgroup.procs"; done
        exec timeout -k 10 "$TIMEOUT" "${words[@]}"
    ) </dev/null >"$logf" 2>&1 &
    CHILD=$!
    rc=0; wait "$CHILD" || rc=$?
    t1=$(now_us)
    CHILD=
    R_BOOT=; R_POWEROFF=; R_STATUS=ok
    booted=$(cat "$COPY/var/lib/jspawn-bench/booted" 2>/dev/null || true)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then R_STATUS="timeout after $TIMEOUT s"
    elif [ "$rc" != 0 ]; then R_STATUS="exit status $rc"
    elif [ -z "$booted" ]; then R_STATUS="exited without reaching multi-user.target (no stamp)"
    fi
    if [ -n "$booted" ]; then
        booted=$((booted / 1000))
        R_BOOT=$(awk -v a="$t0" -v b="$booted" 'BEGIN{printf "%.1f", (b-a)/1000}')
        R_POWEROFF=$(awk -v a="$booted" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1000}')
    fi
    [ -n "$(cg_pids)" ] && { R_STATUS="$R_STATUS; processes left behind: $(echo $(cg_pids))"; kill -KILL $(cg_pids) 2>/dev/null || true; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$name" "${R_BOOT:-}" "${R_POWEROFF:-}" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1000}')" "$R_STATUS" >> "$OUT/runs.tsv"
    if [ "$R_STATUS" = ok ]; then
        log "$name $label: boot ${R_BOOT} ms, poweroff ${R_POWEROFF} ms"
    else
        log "$name FAILED ($label): $R_STATUS; command: $(cmd_of "$name"); last lines of $logf:"
        tail -n 15 "$logf" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/^/    | /' >&2
        return 1
    fi
}

printf 'run\tcmd\tboot_ms\tpoweroff_ms\ttotal_ms\tstatus\n' > "$OUT/runs.tsv"
for w in $(seq 1 "$WARMUP"); do
    for n in "${NAMES[@]}"; do
        one_run "$n" "warmup$w" || die "$n does not boot the tree: see above and $OUT/logs/$n-warmup$w.log"
    done
done
FAILED=0
for r in $(seq 1 "$ROUNDS"); do
    order=("${NAMES[@]}")
    [ ${#NAMES[@]} = 2 ] && [ $((r % 2)) = 0 ] && order=("${NAMES[1]}" "${NAMES[0]}")
    for n in "${order[@]}"; do one_run "$n" "round$r" || FAILED=$((FAILED + 1)); done
done
echo "loadavg-after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/meta.txt"

awk -F'\t' -v rounds="$ROUNDS" -v names="${NAMES[*]}" -v failed="$FAILED" '
    function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    function show(v) { return v == "" ? "FAILED" : sprintf("%.0f", v) }
    NR > 1 && $1 ~ /^round/ && $6 == "ok" { r = substr($1, 6); boot[r, $2] = $3; off[r, $2] = $4 }
    END {
        nn = split(names, N, " ")
        printf "# boot time: Debian bookworm + systemd to multi-user.target, then poweroff (%d rounds)\n\n", rounds
        if (nn == 2) {
            print "| round | nspawn boot ms | jspawn boot ms | ratio | nspawn poweroff ms | jspawn poweroff ms | ratio |"
            print "|---:|---:|---:|---:|---:|---:|---:|"
        } else {
            printf "| round | %s boot ms | %s poweroff ms |\n|---:|---:|---:|\n", N[1], N[1]
        }
        for (r = 1; r <= rounds; r++) {
            for (k = 1; k <= nn; k++) {
                if ((r, N[k]) in boot) { nb[k]++; B[k, nb[k]] = boot[r, N[k]]; P[k, nb[k]] = off[r, N[k]] }
            }
            if (nn == 2) {
                b1 = boot[r, "nspawn"]; b2 = boot[r, "jspawn"]; p1 = off[r, "nspawn"]; p2 = off[r, "jspawn"]
                rb = rp = "n/a"
                if (b1 != "" && b2 != "") { nr++; RB[nr] = b2 / b1; RP[nr] = p2 / p1; rb = sprintf("%.2f", RB[nr]); rp = sprintf("%.2f", RP[nr]) }
                printf "| %d | %s | %s | %s | %s | %s | %s |\n", r, show(b1), show(b2), rb, show(p1), show(p2), rp
            } else {
                printf "| %d | %s | %s |\n", r, show(boot[r, N[1]]), show(off[r, N[1]])
            }
        }
        print ""
        for (k = 1; k <= nn; k++) {
            if (!nb[k]) { printf "%s: no successful run\n", N[k]; continue }
            for (i = 1; i <= nb[k]; i++) { x[i] = B[k, i]; y[i] = P[k, i] }
            printf "%s: median boot %.0f ms, median poweroff %.0f ms (%d runs)\n", N[k], median(x, nb[k]), median(y, nb[k]), nb[k]
        }
        if (nn == 2) {
            if (nr) {
                mb = median(RB, nr); lb = RB[1]; hb = RB[nr]; mp = median(RP, nr); lp = RP[1]; hp = RP[nr]
                printf "\noverall jspawn/nspawn: boot %.2f (range %.2f-%.2f), poweroff %.2f (range %.2f-%.2f); medians of %d per-round ratios\n", mb, lb, hb, mp, lp, hp, nr
            } else print "\noverall: no round where both booted; no ratio"
        }
        if (failed) printf "\n%d run(s) FAILED (see runs.tsv and logs/)\n", failed
    }' "$OUT/runs.tsv" | tee "$OUT/summary.md"
log "results in $OUT"
[ "$FAILED" = 0 ]
