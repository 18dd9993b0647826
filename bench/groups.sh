#!/bin/bash
# bench/groups.sh — what trial groups cost: bootstrap and per-trial overhead.
#
#   bench/groups.sh [BUILD_DIR] [TRIALS]        (default: build, 20000)
#
# 1. bench_groups under mpirun -np 2 (one group of 2): making a group (split +
#    hps_group_init) against a bare MPI_Comm_split; the NCCL communicator when
#    built with CUDA on a node with a GPU per rank; a no-op trial through the
#    runner on the group of 2 (with and without a plugin's attempt record)
#    against the same trial on a rank alone.
# 2. End to end: a sweep of TRIALS no-op trials of a data-parallel plugin on one
#    group of 2 (mpirun -np 3) against the built-in `noop` on one worker
#    (mpirun -np 2): trials per second and their ratio (median of 3 runs each).
# Last, RESULT|figure|value|peer or floor|ratio|target|met lines for bench/run-all.
set -euo pipefail
BUILD=${1:-build}
TRIALS=${2:-20000}
HPS=$(realpath "$BUILD/hpsweep")
BG=$(realpath "$BUILD/bench/bench_groups")
PLUGIN=$(realpath "$BUILD/bench/libnoop_plugin.so")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
WORK=$(mktemp -d /tmp/hps-bench-groups.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

echo "== runner and bootstrap (bench_groups, mpirun -np 2)"
"${MPIRUN[@]}" -np 2 "$BG" "$TRIALS" | tee bg.out

cat > builtin.yaml <<YAML
name: builtin
seed: 1
objective: {function: noop}
space: {x: {type: float, low: 0, high: 1}}
budget: {max_trials: $TRIALS}
YAML
cat > plugin.yaml <<YAML
name: plugin
seed: 1
objective: {plugin: $PLUGIN, gpus_per_rank: 0}
space: {x: {type: float, low: 0, high: 1}}
ranks_per_trial: 2
budget: {max_trials: $TRIALS}
YAML
rate() { # NP CONFIG -> trials/s (median of 3)
    for _ in 1 2 3; do
        rm -rf runs
        "${MPIRUN[@]}" -np "$1" "$HPS" run "$2" --quiet 2>&1 |
            sed -n 's/.*(\([0-9]*\) trials\/s).*/\1/p'
    done | sort -n | sed -n 2p
}
b=$(rate 2 builtin.yaml)
p=$(rate 3 plugin.yaml)
echo "== end to end ($TRIALS no-op trials, journal fsync and HDF5 on)"
printf '  built-in noop, 1 worker            %8s trials/s\n' "$b"
printf '  noop plugin, 1 group of 2 ranks    %8s trials/s   %.1fx slower per trial\n' "$p" \
    "$(awk -v a="$b" -v b="$p" 'BEGIN{print a/b}')"
boot=$(awk '/^group_bootstrap_us/{print $2}' bg.out)
split=$(sed -n 's/^group_bootstrap_us.*MPI_Comm_split of \([0-9.]*\) us.*/\1/p' bg.out)
alone=$(awk '/^trial_alone_us/{print $2}' bg.out)
grouped=$(awk '/^trial_group[0-9]*_us/{print $2}' bg.out)
echo "RESULT|trial group bootstrap (split + hps_group_init)|$boot us|bare MPI_Comm_split $split us (this run)|$(awk -v a="$boot" -v b="$split" 'BEGIN{printf "%.1fx", a/b}')|-|-"
echo "RESULT|no-op trial on a group of 2|$grouped us|the same trial on a rank alone: $alone us (this run)|$(awk -v a="$grouped" -v b="$alone" 'BEGIN{printf "%.0fx", a/b}')|-|-"
echo "RESULT|noop plugin on 1 group of 2, trials/s|$p|built-in noop on 1 worker: $b (this run)|$(awk -v a="$b" -v b="$p" 'BEGIN{printf "%.1fx slower", a/b}')|-|-"
