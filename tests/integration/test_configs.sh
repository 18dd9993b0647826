#!/bin/bash
# Every example sweep in configs/ that runs without extra software parses and
# runs (a few trials each, under mpirun -np 3), so the examples users copy stay
# true to the config format.
source "$(dirname "$0")/lib.sh"
need_mpirun
n=0
for cfg in "$SRC"/configs/*.yaml; do
    name=$(basename "$cfg" .yaml)
    if grep -q '^  trainer:' "$cfg"; then
        # A trainer sweep: its header says how to make its dataset from the repository's
        # root. Run that in a copy of the tree's layout, so nothing is written to $SRC.
        synth=$(sed -n 's/^# *hpsweep \(dataset synth .*\)$/\1/p' "$cfg" | head -1)
        [ -n "$synth" ] || fail "$name: its header gives no 'hpsweep dataset synth' command"
        mkdir -p "$WORK/tree/configs"
        cp "$cfg" "$WORK/tree/configs/"
        # shellcheck disable=SC2086 # the command's words, as the header writes them
        (cd "$WORK/tree" && "$HPS" $synth >/dev/null 2>"$WORK/err") ||
            { cat "$WORK/err" >&2; fail "$name: hpsweep $synth failed"; }
        cfg=$WORK/tree/configs/$name.yaml
    fi
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
