#!/bin/bash
# bench/dispatch.sh — coordinator throughput and idle cost, beside the MPI floor.
#
#   bench/dispatch.sh [BUILD_DIR] [TRIALS]        (default: build, 200000)
#
# 1. The MPI floor: ping-pong round trip between two ranks (bench_pingpong); one
#    trial per round trip would give 1/rtt trials/s per worker.
# 2. No-op trials per second through the whole path (suggest -> MPI -> evaluate ->
#    journal with fsync -> HDF5), 1 coordinator + 1 worker and + 3 workers, from
#    the sweep's own summary line.
# 3. The coordinator's CPU while 3 workers run 0.2 s sleep trials (should be ~0).
# Prints the figures and the ratios against Optuna 3.1's in-memory random search
# on this machine (about 1,400 no-op trials/s) and against the floor.
set -euo pipefail
BUILD=${1:-build}
TRIALS=${2:-200000}
HPS=$(realpath "$BUILD/hpsweep")
PP=$(realpath "$BUILD/bench/bench_pingpong")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
OPTUNA=1400
WORK=$(mktemp -d /tmp/hps-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

rtt=$("${MPIRUN[@]}" -np 2 "$PP" 200000 | awk '/pingpong_rtt_us/{print $2}')
floor=$(awk -v r="$rtt" 'BEGIN{printf "%.0f", 1e6 / r}')

cat > noop.yaml <<YAML
name: noop
seed: 1
objective: {function: noop}
space:
  x: {type: float, low: 0, high: 1}
  y: {type: float, low: 0, high: 1}
budget: {max_trials: $TRIALS}
YAML
rate() { # ranks -> trials/s (median of 3 runs)
    for _ in 1 2 3; do
        rm -rf runs
        "${MPIRUN[@]}" -np "$1" "$HPS" run noop.yaml --quiet 2>&1 |
            sed -n 's/.*(\([0-9]*\) trials\/s).*/\1/p'
    done | sort -n | sed -n 2p
}
r1=$(rate 2)
r3=$(rate 4)

cat > sleep.yaml <<'YAML'
name: idle
seed: 1
objective: {function: sleep, seconds: 0.2}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 30}
YAML
rm -rf runs
idle=$("${MPIRUN[@]}" -np 4 "$HPS" run sleep.yaml --quiet 2>&1 | sed -n 's/.*coordinator CPU \([0-9.]* s (.*of one core)\).*/\1/p')

printf '\nhpsweep dispatch benchmark (%s no-op trials, journal fsync on, HDF5 on)\n' "$TRIALS"
printf '  MPI ping-pong round trip          %10.2f us  (floor: %s trials/s per worker)\n' "$rtt" "$floor"
for row in "1 worker:$r1" "3 workers:$r3"; do
    name=${row%%:*}; r=${row#*:}
    printf '  %-33s %10s trials/s   %6.1fx Optuna 3.1 (target 100x)   %5.2fx the ping-pong floor (target >= 0.33x)\n' \
        "no-op trials, $name" "$r" "$(awk -v a="$r" -v b="$OPTUNA" 'BEGIN{print a/b}')" \
        "$(awk -v a="$r" -v b="$floor" 'BEGIN{print a/b}')"
done
printf '  coordinator CPU, 3 workers busy   %s\n' "$idle"
