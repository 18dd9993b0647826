#!/bin/bash
# Every example sweep in configs/ that runs without extra software parses and
# runs (a few trials each, under mpirun -np 3), so the examples users copy stay
# true to the config format.
source "$(dirname "$0")/lib.sh"
need_mpirun
n=0
for cfg in "$SRC"/configs/*.yaml; do
    name=$(basename "$cfg" .yaml)
    extra=(--max-trials 6)
    case "$name" in
        hyperband|asha|bohb) extra=(--max-trials 20) ;;
    esac
    hps_mpirun 3 "$HPS" run "$cfg" --output "$WORK/runs" "${extra[@]}" --quiet 2>"$WORK/err" ||
        { cat "$WORK/err" >&2; fail "$name: the example sweep failed"; }
    done_n=$(status_count "$WORK/runs/$name" done)
    [ "$done_n" -ge 1 ] || fail "$name: no trial done"
    n=$((n + 1))
done
ok "$n example sweeps in configs/ ran"
