#!/bin/bash
# The built-in trainer as a sweep's objective, under mpirun, on a small synthetic set
# (4 classes: chance is 25%):
#   - ASHA on trial groups of 2 (-np 5) learns (best validation accuracy well above
#     chance), promoted trials continue from their checkpoints (each epoch reported
#     once, 1..budget; the checkpoint holds the budget), /provenance records the
#     dataset's SHA-256;
#   - a group of 2 gives the metrics of a group of 1 within 1e-5 (relative), and a
#     group of 1 under mpirun the serial run's bit for bit;
#   - kill -9 in the middle of a trial, then resume: it finishes, the trial is re-run
#     (attempt 2) from its checkpoint (the epochs before it are not reported again),
#     and every result equals an uninterrupted run's bit for bit;
#   - bad input (an unknown parameter, a bad dataset, a metric the trainer does not
#     report, a dataset changed under a resume) exits 2 and writes nothing.
source "$(dirname "$0")/lib.sh"
need_mpirun
command -v h5dump >/dev/null || { echo "skip: no h5dump"; exit 77; }

"$HPS" dataset synth -o data/small.h5 --samples 3000 --features 16 --classes 4 --seed 3 \
    >synth.out 2>&1 || { cat synth.out >&2; fail "dataset synth"; }
sha=$(awk '/sha256/{print $2}' synth.out)

# /metrics as CSV rows trial_id,step,resource,name_index,value.
metrics_csv() {
    h5dump -d /metrics -y -w 400 -m %.17g -o "$WORK/m.txt" "$1" >/dev/null
    tr -d ' \n{' <"$WORK/m.txt" | tr '}' '\n' | sed 's/^,//' | grep -v '^$' || true
}
# The index of metric $2 in $1's /metric_names.
metric_index() {
    h5dump -d /metric_names -y -w 400 -o "$WORK/n.txt" "$1" >/dev/null
    tr -d ' \n' <"$WORK/n.txt" | tr ',' '\n' | grep -n "^\"$2\"$" | cut -d: -f1 | awk '{print $1 - 1}'
}
# trial_id,budget,<column> rows of `hpsweep trials` (of --rungs when $3 is given).
col_of() { "$HPS" trials "$1" --format csv ${3:+--rungs} | awk -F, -v k="$2" \
    'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} {print $c["trial_id"] "," $c["budget"] "," $c[k]}'; }

# ---- ASHA on groups of 2 ------------------------------------------------------------------
cat > asha.yaml <<'YAML'
name: asha
seed: 5
objective: {trainer: mlp, dataset: data/small.h5}
metric: {name: val_accuracy, goal: maximize}
space:
  learning_rate: {type: float, low: 3.0e-3, high: 0.1, log: true}
  hidden_units: {type: int, low: 16, high: 64}
  optimizer: {type: categorical, choices: [sgd, adam]}
  lr_schedule: {type: categorical, choices: [constant, cosine]}
strategy: {name: asha, min_resource: 1, max_resource: 9, eta: 3}
budget: {max_trials: 12}
ranks_per_trial: 2
YAML
hps_mpirun 5 "$HPS" run asha.yaml --quiet 2>err || { cat err >&2; fail "the ASHA sweep failed"; }
[ "$(status_count runs/asha done)" = 12 ] || { "$HPS" status runs/asha; fail "not 12 trials done"; }
best=$("$HPS" best runs/asha | awk -F': ' '/"val_accuracy"/{gsub(/,/,"",$2); print $2}')
awk -v b="$best" 'BEGIN{exit !(b > 0.5)}' || fail "best val_accuracy $best is not well above chance (0.25)"
ok "ASHA on groups of 2: 12 trials, best val_accuracy $best (chance 0.25)"

acc=$(metric_index runs/asha/sweep.h5 val_accuracy)
metrics_csv runs/asha/sweep.h5 >asha.metrics
promoted=$(col_of runs/asha rung | awk -F, '$3 > 0 {print $1 "," $2}')
[ -n "$promoted" ] || fail "ASHA promoted no trial"
for tb in $promoted; do
    id=${tb%,*}
    budget=${tb#*,}
    steps=$(awk -F, -v t="$id" -v n="$acc" '$1==t && $4==n {print $2}' asha.metrics | tr '\n' ' ')
    want=$(seq -s ' ' 1 "$budget")
    [ "$steps" = "$want " ] || fail "trial $id (budget $budget) reported epochs [$steps], want [$want]"
    epoch=$(h5dump -a /epoch "runs/asha/trials/$id/checkpoint.h5" | awk '/\(0\)/{print $2}')
    [ "$epoch" = "$budget" ] || fail "trial $id: the checkpoint holds epoch $epoch, not $budget"
done
ok "promoted trials continued from their checkpoints: epochs 1..budget reported once each ($(echo $promoted))"
h5dump -a /provenance/dataset_sha256 runs/asha/sweep.h5 | grep -q "\"$sha\"" ||
    fail "/provenance lacks the dataset's SHA-256 $sha"
h5dump -a /provenance/dataset_task runs/asha/sweep.h5 | grep -q '"classification, 4 classes"' ||
    fail "/provenance lacks the dataset's task"
ok "/provenance records the dataset (SHA-256, task)"

# ---- a group of 2 against a group of 1, and a group of 1 against serial -------------------
cat > same.yaml <<'YAML'
name: same
seed: 11
objective: {trainer: mlp, dataset: data/small.h5, options: {epochs: 3, threads: 1}}
metric: {name: val_loss, goal: minimize}
space:
  learning_rate: {type: float, low: 1.0e-3, high: 0.03, log: true}
  dropout: {type: float, low: 0, high: 0.3}
  batch_size: {type: categorical, choices: [32, 100]}
strategy: random
budget: {max_trials: 4}
YAML
"$HPS" run same.yaml --output serial --quiet 2>err || { cat err >&2; fail "serial run"; }
hps_mpirun 2 "$HPS" run same.yaml --output g1 --quiet 2>err || { cat err >&2; fail "group of 1"; }
sed 's/^budget:/ranks_per_trial: 2\nbudget:/' same.yaml >same2.yaml
hps_mpirun 3 "$HPS" run same2.yaml --output g2 --quiet 2>err || { cat err >&2; fail "group of 2"; }
col_of serial/same objective >serial.obj
col_of g1/same objective >g1.obj
col_of g2/same objective >g2.obj
[ "$(wc -l <g1.obj)" = 4 ] || fail "the group of 1 ran $(wc -l <g1.obj) trials, not 4"
diff serial.obj g1.obj >/dev/null || { paste -d' ' serial.obj g1.obj; fail "a group of 1 differs from serial"; }
ok "a group of 1 under mpirun gives the serial run's metrics bit for bit"
paste -d, g1.obj g2.obj | awk -F, '{d = $3 - $6; if (d < 0) d = -d; m = $3 < 0 ? -$3 : $3;
    if (m < 1) m = 1; if ($1 != $4 || d > 1e-5 * m) {print "trial " $1 ": " $3 " vs " $6; bad = 1}}
    END{exit bad}' || fail "a group of 2 differs from a group of 1 by more than 1e-5"
ok "a group of 2 gives a group of 1's val_loss within 1e-5 relative"

# ---- kill -9 and resume --------------------------------------------------------------------
cat > kill.yaml <<'YAML'
name: kill
seed: 21
objective: {trainer: mlp, dataset: data/small.h5, options: {threads: 1, batch_size: 8}}
metric: {name: val_accuracy, goal: maximize}
space:
  learning_rate: {type: float, low: 1.0e-3, high: 0.05, log: true}
  hidden_units: {type: int, low: 128, high: 256}
strategy: {name: asha, min_resource: 1, max_resource: 9, eta: 3}
budget: {max_trials: 10}
YAML
hps_mpirun 2 "$HPS" run kill.yaml --output ref --quiet 2>err || { cat err >&2; fail "reference run"; }
# The epoch in trial $1's checkpoint (empty when there is none yet).
ckpt_epoch() { { h5dump -a /epoch "killed/kill/trials/$1/checkpoint.h5" 2>/dev/null || true; } |
               awk '/\(0\)/{print $2}'; }
setsid mpirun --allow-run-as-root --oversubscribe -np 2 "$HPS" run kill.yaml --output killed \
    --quiet >/dev/null 2>&1 &
pid=$!
# Kill in the middle of a trial's top rung (9 epochs): running (its attempt record is
# there) with 4 to 7 epochs in its checkpoint, so it cannot have ended, and no later
# promotion hides its run in /trials.
victim=
for _ in $(seq 1200); do
    for rec in killed/kill/trials/*/attempt; do
        [ -f "$rec" ] || continue
        id=$(basename "$(dirname "$rec")")
        e=$(ckpt_epoch "$id")
        if [ -n "$e" ] && [ "$e" -ge 4 ] && [ "$e" -le 7 ]; then victim=$id; break 2; fi
    done
    sleep 0.02
done
# The whole job at once: mpirun and its ranks (Open MPI puts each rank in a process
# group of its own, so they are found by their parent).
ranks=$(pgrep -P "$pid" || true)
kill -9 "$pid" $ranks 2>/dev/null || true
wait "$pid" 2>/dev/null || true
for _ in $(seq 100); do kill -0 $ranks 2>/dev/null || break; sleep 0.1; done
[ -n "$victim" ] || fail "no trial was seen in the middle of its top rung (the sweep is too fast?)"
at_kill=$(ckpt_epoch "$victim")
hps_mpirun 2 "$HPS" resume killed/kill --quiet 2>err || { cat err >&2; fail "resume after kill -9"; }
[ "$(status_count killed/kill done)" = 10 ] || { "$HPS" status killed/kill; fail "not 10 trials done after resume"; }
[ "$(status_count killed/kill failed)" = 0 ] || fail "trials failed after resume"
[ "$(col_of killed/kill attempts | awk -F, -v t="$victim" '$1 == t {print $2 "," $3}')" = "9,2" ] ||
    fail "trial $victim was not re-run to 9 epochs as attempt 2 after the kill"
# Continued, not restarted: the epochs before its checkpoint were reported once.
acc=$(metric_index killed/kill/sweep.h5 val_accuracy)
metrics_csv killed/kill/sweep.h5 | awk -F, -v t="$victim" -v n="$acc" -v k="$at_kill" \
    '$1 == t && $4 == n && $2 < k {c[$2]++} END {for (s in c) if (c[s] != 1) exit 1; exit 0}' ||
    fail "trial $victim trained epochs before its checkpoint (epoch $at_kill) again"
col_of ref/kill objective 1 | sed 's/,/:/' | LC_ALL=C sort >ref.rungs
col_of killed/kill objective 1 | sed 's/,/:/' | LC_ALL=C sort >killed.rungs
common=$(LC_ALL=C join -t, -j1 ref.rungs killed.rungs)
grep -q "^$victim:9," <<<"$common" || fail "trial $victim at 9 epochs is not in both sweeps"
echo "$common" | awk -F, '$2 != $3 {print "trial:budget " $1 ": " $2 " vs " $3; bad = 1} END{exit bad}' ||
    fail "results after kill -9 + resume differ from the uninterrupted run"
ok "kill -9 with trial $victim at epoch $at_kill of 9, then resume: attempt 2 continued from the checkpoint, every result as in the uninterrupted run"

# ---- bad input: exit 2, nothing written -----------------------------------------------------
refuse() { # want-in-message, config
    expect_exit 2 "$HPS" run "$2" --output never
    grep -qF -- "$1" "$WORK/err" || { cat "$WORK/err" >&2; fail "$2: no '$1' in the message"; }
    [ ! -e never ] || fail "$2: a refused run wrote something"
}
sed 's/hidden_units:/hiden_units:/' asha.yaml >typo.yaml
refuse "typo.yaml:7:3: space.hiden_units: unknown trainer parameter 'hiden_units' (did you mean 'hidden_units'?)" typo.yaml
printf 'not an HDF5 file\n' >data/garbage.h5
sed 's#data/small.h5#data/garbage.h5#' asha.yaml >garbage.yaml
refuse "garbage.yaml:3:36: objective.dataset: ./data/garbage.h5" garbage.yaml
sed 's/name: val_accuracy, goal: maximize/name: val_rmse, goal: minimize/' asha.yaml >metric.yaml
refuse "metric.yaml:4:16: metric.name: the trainer reports no val_rmse on this dataset" metric.yaml
ok "an unknown parameter, a bad dataset and a wrong metric: exit 2, nothing written"
cp -r runs changed
"$HPS" dataset synth -o data/small.h5 --samples 3000 --features 16 --classes 4 --seed 4 \
    --force >/dev/null 2>&1 || fail "re-synth"
before=$(cksum <changed/asha/journal)
expect_exit 2 hps_mpirun 5 "$HPS" resume changed/asha --max-trials 14
grep -q "has changed since this sweep's trials trained on it" "$WORK/err" ||
    { cat "$WORK/err" >&2; fail "a resume on another dataset: no clear refusal"; }
[ "$(cksum <changed/asha/journal)" = "$before" ] || fail "the refused resume wrote to the journal"
ok "a resume whose dataset changed is refused (exit 2), the journal untouched"
