#!/bin/bash
# vm-start-latency.sh - bench/start-latency.sh run inside the test VM (scripts/vmtest/vm-run.sh): Debian's
# own kernel, systemd as PID 1, pure cgroup v2, where most users run jspawn. The guest image carries
# systemd-nspawn of the guest's own systemd version and hyperfine, so the ratio jspawn/systemd-nspawn
# is measured there exactly as on the host. Under qemu's software emulation (no usable KVM here) both
# sides run several times slower than on bare metal; the ratio is what counts.
#
# Usage: bench/vm-start-latency.sh [start-latency.sh options]   e.g. --runs 10 --rounds 4
# Environment: as start-latency.sh (PLANNER, RUNS, ROUNDS, WARMUP); VMTEST_* as vm-run.sh.
# Needs the build: ./build.sh package -DskipTests. Output: start-latency.sh's summary on stdout.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/scripts/java-home.sh"
[ -x "$REPO/target/classes/jspawn-stub" ] || { echo "vm-start-latency.sh: build first (./build.sh package -DskipTests)" >&2; exit 1; }
envs=(-e "JSPAWN_JAVA=$JAVA_HOME/bin/java" -e BENCH_DIR=/var/tmp/jspawn-bench)
for v in PLANNER RUNS ROUNDS WARMUP; do [ -n "${!v:-}" ] && envs+=(-e "$v=${!v}"); done
exec "$REPO/scripts/vmtest/vm-run.sh" --timeout 1800 --share "$REPO:ro" --share "$JAVA_HOME:ro" "${envs[@]}" \
    -- "$REPO/bench/start-latency.sh" "$@"
