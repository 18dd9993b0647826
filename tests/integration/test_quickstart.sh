#!/bin/bash
# The README's quick start, as its first code block writes it, in a copy of the tree's
# layout: the `dataset synth` line works twice (the second run keeps the file), the
# sweep of configs/quickstart.yaml runs under mpirun -np 4 (with a shorter budget:
# --max-trials 24) and reaches a validation accuracy well above chance (5 classes:
# 20%), `hpsweep best` shows the configuration and its val_accuracy, and the run
# line pasted again finds the sweep done.
source "$(dirname "$0")/lib.sh"
need_mpirun
# The first ```sh block of the README, comments cut.
block=$(awk '/^```sh$/{n++; next} /^```$/{if (n == 1) exit} n == 1' "$SRC/README.md" |
        sed 's/ *#.*$//')
synth=$(echo "$block" | grep -m1 '^hpsweep dataset synth ' || true)
run=$(echo "$block" | grep -m1 'hpsweep run configs/quickstart.yaml' || true)
[ -n "$synth" ] || fail "the README's first block has no 'hpsweep dataset synth' line"
[ -n "$run" ] || fail "the README's first block does not run configs/quickstart.yaml"
echo "$run" | grep -q -- '-np 4 hpsweep run configs/quickstart.yaml --resume$' ||
    fail "the README's run line changed: $run (update this test)"
mkdir -p tree/configs
cp "$SRC/configs/quickstart.yaml" tree/configs/
cd tree
# shellcheck disable=SC2086 # the README's words
"$HPS" ${synth#hpsweep } >synth1.out 2>&1 || { cat synth1.out >&2; fail "$synth"; }
sum1=$(cksum <data/quickstart.h5)
# shellcheck disable=SC2086
"$HPS" ${synth#hpsweep } >synth2.out 2>&1 || { cat synth2.out >&2; fail "$synth, pasted again"; }
grep -q 'already holds this synthetic set' synth2.out || fail "the second synth did not keep the file"
[ "$(cksum <data/quickstart.h5)" = "$sum1" ] || fail "the second synth changed the file"
ok "the README's '$synth' works twice, keeping the file"

hps_mpirun 4 "$HPS" run configs/quickstart.yaml --resume --max-trials 24 2>run.err ||
    { cat run.err >&2; fail "the quick start's sweep failed"; }
summary=$(grep '^hpsweep: completed: ' run.err | tail -1)
echo "$summary" | grep -q 'best val_accuracy = ' ||
    fail "the summary line shows no best val_accuracy: $summary (run.err: $(tail -3 run.err))"
"$HPS" best runs/quickstart >best.json || fail "hpsweep best runs/quickstart"
acc=$(awk -F': ' '/"val_accuracy"/{gsub(/,/,"",$2); print $2}' best.json)
grep -q '"learning_rate"' best.json && grep -q '"optimizer"' best.json ||
    fail "best shows no configuration: $(cat best.json)"
awk -v a="$acc" 'BEGIN{exit !(a > 0.6)}' || fail "best val_accuracy $acc is not well above chance (0.2)"
[ "$(status_count runs/quickstart failed)" = 0 ] || fail "quick start trials failed"
ok "the quick start (24 trials): best val_accuracy $acc, chance 0.2; ${summary#hpsweep: }"
hps_mpirun 4 "$HPS" run configs/quickstart.yaml --resume --max-trials 24 2>again.err ||
    { cat again.err >&2; fail "the quick start pasted again"; }
ok "the run line pasted again finds the sweep done"
