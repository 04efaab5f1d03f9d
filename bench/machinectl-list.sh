#!/bin/bash
# machinectl-list.sh - wall time of `jmachinectl list` with N (default 50) machines running under
# jmachined (target: <= 100 ms). The machines and the private daemon are density-jmachined.sh's; its
# summary's last column is this figure (median and min of RUNS runs, bin/jmachinectl with its AOT cache).
# Usage: bench/machinectl-list.sh [N]      Environment: RUNS (20), BENCH_DIR, as density-jmachined.sh.
exec "$(dirname "$0")/density-jmachined.sh" "${1:-50}"
