#!/bin/bash
# Bayesian optimisation with 4 workers (mpirun -np 5) escapes a settled basin. On
# `decoy` (2-D, workers/testfuncs.c) a broad decoy basin at (0.7, 0.7) faces, at
# (0.2, 0.2), a basin as broad but shallower whose narrow well holds the global
# minimum, 0.45 lower. A search that settles in the decoy sees the other basin only as
# worse, and with every worker's trial in the same basin it rarely leaves: before the
# explore share (strategies/gp_explore.c) 2-3 of these 10 seeds got below the decoy's
# -1.0017 within 40 trials (three runs of this test). Now a share of the suggestions
# searches outside the incumbent's basin while the best point there beats the median.
# Loose bound: at least 6 of 10 seeds below -1.1 (measured: 9 of 10, three runs).
source "$(dirname "$0")/lib.sh"
need_mpirun
export OPENBLAS_NUM_THREADS=1
escaped=0
results=""
for seed in 1 2 3 4 5 6 7 8 9 10; do
    printf 'name: decoy\nseed: %s\nobjective: {function: decoy}\nspace:\n  x1: {type: float, low: 0, high: 1}\n  x2: {type: float, low: 0, high: 1}\nstrategy: gp\nbudget: {max_trials: 40}\n' \
        "$seed" > decoy.yaml
    rm -rf runs
    hps_mpirun 5 "$HPS" run decoy.yaml --quiet 2>/dev/null
    [ "$(status_count runs/decoy done)" = 40 ] || fail "seed $seed: not 40 trials done"
    best=$("$HPS" best runs/decoy --format json | awk -F': ' '/"objective"/{gsub(/,/,"",$2); print $2}')
    results="$results $best"
    awk -v b="$best" 'BEGIN{exit !(b < -1.1)}' && escaped=$((escaped + 1))
done
[ "$escaped" -ge 6 ] || fail "gp with 4 workers left the decoy basin in $escaped of 10 seeds (best:$results)"
ok "gp with 4 workers on decoy: $escaped of 10 seeds below the decoy basin (best:$results)"
