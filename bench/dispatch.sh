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
# 4. The peer: Optuna's in-memory random search, no-op trials per second, measured
#    in this run (bench/optuna_rate.py with /usr/bin/python3 and python3-optuna;
#    "not measured" without it).
# Prints the figures, their ratios against Optuna and the floor, and RESULT lines
# (figure|value|peer or floor|ratio|target|met) for bench/run-all.
set -euo pipefail
BUILD=${1:-build}
TRIALS=${2:-200000}
HPS=$(realpath "$BUILD/hpsweep")
PP=$(realpath "$BUILD/bench/bench_pingpong")
SRC=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
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
rate() { # ranks -> trials/s (median of 3 runs); a failed run's output goes to stderr
    for _ in 1 2 3; do
        rm -rf runs
        "${MPIRUN[@]}" -np "$1" "$HPS" run noop.yaml --quiet > sweep.out 2>&1 ||
            { cat sweep.out >&2; return 1; }
        sed -n 's/.*(\([0-9]*\) trials\/s).*/\1/p' sweep.out
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

OPTUNA=$(/usr/bin/python3 "$SRC/bench/optuna_rate.py" noop 5000 2>/dev/null) || OPTUNA=
optuna_version=$(/usr/bin/python3 -c 'import optuna; print(optuna.__version__)' 2>/dev/null) || true

printf '\nhpsweep dispatch benchmark (%s no-op trials, journal fsync on, HDF5 on)\n' "$TRIALS"
printf '  MPI ping-pong round trip          %10.2f us  (floor: %s trials/s per worker)\n' "$rtt" "$floor"
if [ -n "$OPTUNA" ]; then
    printf '  Optuna %s in-memory random search  %6s no-op trials/s (measured in this run)\n' \
        "$optuna_version" "$OPTUNA"
else
    echo "  Optuna: not measured (python3-optuna is not installed)"
fi
for row in "1 worker:$r1" "3 workers:$r3"; do
    name=${row%%:*}; r=${row#*:}
    vs_optuna="not measured"
    [ -z "$OPTUNA" ] || vs_optuna=$(awk -v a="$r" -v b="$OPTUNA" 'BEGIN{printf "%.1fx Optuna", a/b}')
    printf '  %-33s %10s trials/s   %s (target 100x)   %5.2fx the ping-pong floor (target >= 0.33x)\n' \
        "no-op trials, $name" "$r" "$vs_optuna" "$(awk -v a="$r" -v b="$floor" 'BEGIN{print a/b}')"
done
printf '  coordinator CPU, 3 workers busy   %s\n' "$idle"

for row in "1 worker:$r1" "3 workers:$r3"; do
    name=${row%%:*}; r=${row#*:}
    if [ -n "$OPTUNA" ]; then
        echo "RESULT|no-op trials/s, $name|$r|Optuna $optuna_version random, in memory: $OPTUNA (this run)|$(awk -v a="$r" -v b="$OPTUNA" 'BEGIN{printf "%.0fx", a/b}')|>= 100x|$(awk -v a="$r" -v b="$OPTUNA" 'BEGIN{print (a >= 100 * b ? "met" : "not met")}')"
    else
        echo "RESULT|no-op trials/s, $name|$r|Optuna not measured|-|>= 100x|-"
    fi
    echo "RESULT|no-op trials/s against the MPI floor, $name|$r|ping-pong 1/rtt: $floor (this run)|$(awk -v a="$r" -v b="$floor" 'BEGIN{printf "%.2fx", a/b}')|>= 0.33x|$(awk -v a="$r" -v b="$floor" 'BEGIN{print (a >= 0.33 * b ? "met" : "not met")}')"
done
echo "RESULT|coordinator CPU, 3 workers on 0.2 s sleep trials|$idle|-|-|~0|-"
