#!/bin/bash
# A coordinator does not hold every finished trial: once sweep.h5 holds them it
# lets go of the finished ones (before its oldest unfinished trial) and copies
# their rows from the file at each later rewrite. A sweep of 150,000 quick trials
# (more than the 65,536 rows that make a rewrite come sooner) must say it held
# fewer trials than it ran, and its sweep.h5 must read exactly as the one a resume
# rebuilds from the journal: every /trials row (the CSV), the best trials (the
# stored ranking) and the status summary. That resume's replay lets go of trials
# too (into a file of its own; test_sweep_spill compares it with a replay that
# keeps everything); one that stops before it writes leaves sweep.h5 as it was.
source "$(dirname "$0")/lib.sh"
need_mpirun

N=150000
cat > many.yaml <<YAML
name: many
seed: 3
objective: {function: sphere}
space:
  a: {type: float, low: -2, high: 2}
  b: {type: int, low: -3, high: 3}
budget: {max_trials: $N}
YAML
hps_mpirun 2 "$HPS" run many.yaml --quiet 2> run.err || { cat run.err >&2; fail "the sweep failed"; }
held=$(sed -n 's/.*at most \([0-9]*\) trials held.*/\1/p' run.err)
[ -n "$held" ] || { cat run.err >&2; fail "the summary line does not say how many trials were held"; }
[ "$held" -lt "$N" ] || fail "the coordinator held all $held trials: none was let go of"
ok "the coordinator held at most $held of $N trials"

dir=runs/many
snap() { # NAME: what the sweep.h5 of $dir says, in files NAME.*
    "$HPS" trials "$dir" --format csv > "$1.csv"
    "$HPS" best "$dir" --top 64 --format args --with-seed > "$1.best"
    "$HPS" status "$dir" | grep -v -i "updated\|ago\|elapsed" > "$1.status"
}
snap spilled
[ "$(wc -l < spilled.csv)" = $((N + 1)) ] || fail "sweep.h5 has $(($(wc -l < spilled.csv) - 1)) trials, not $N"
rm "$dir/sweep.h5"
"$HPS" resume "$dir" --quiet 2> resume.err || { cat resume.err >&2; fail "the resume failed"; }
snap replayed
cmp -s spilled.csv replayed.csv || fail "/trials differs from the journal's (diff spilled.csv replayed.csv)"
cmp -s spilled.best replayed.best || { diff spilled.best replayed.best >&2; fail "the best trials differ"; }
cmp -s spilled.status replayed.status ||
    { diff spilled.status replayed.status >&2; fail "the status summary differs"; }
ok "sweep.h5 written with trials let go of reads as the journal's: trials, best, status"
rheld=$(sed -n 's/.*at most \([0-9]*\) trials held.*/\1/p' resume.err)
[ -n "$rheld" ] && [ "$rheld" -lt "$N" ] || { cat resume.err >&2; fail "the resume held every trial"; }
[ ! -e "$dir/sweep.h5.resume" ] || fail "the resume left its replay's file behind"
ok "the resume held at most $rheld of $N trials"

cp "$dir/sweep.h5" kept.h5
sed 's/^seed: 3$/seed: 4/' many.yaml > other.yaml
if "$HPS" run other.yaml --resume --quiet 2> other.err; then
    fail "a resume with another seed than the recorded one ran"
fi
grep -q "differs from the config" other.err || { cat other.err >&2; fail "no mismatch message"; }
cmp -s kept.h5 "$dir/sweep.h5" || fail "a resume that stopped after its replay changed sweep.h5"
[ ! -e "$dir/sweep.h5.resume" ] || fail "a resume that stopped left its replay's file behind"
ok "a resume that stops after its replay leaves sweep.h5 as it was and nothing else"
