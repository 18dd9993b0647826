#!/bin/bash
# The command line's refusals and messages: bad configs (exit 2, file:line:col,
# nothing written), running into an existing sweep, a second coordinator (lock),
# a resume whose config differs (the keys are named), extending a sweep's budget,
# status while a sweep runs, --help on every subcommand and --version.
source "$(dirname "$0")/lib.sh"

cat > good.yaml <<'YAML'
name: cli
seed: 11
objective: {function: sphere}
space:
  a: {type: float, low: -2, high: 2}
  b: {type: float, low: -2, high: 2}
budget: {max_trials: 20}
YAML

# A bad config: exit 2, a positioned message, and nothing written.
sed 's/high: 2}/hihg: 2}/' good.yaml > bad.yaml
expect_exit 2 "$HPS" run bad.yaml
grep -q "bad.yaml:5:[0-9]*:.*did you mean 'high'" "$WORK/err" || { cat "$WORK/err"; fail "no positioned did-you-mean message"; }
[ ! -e runs ] || fail "a bad config created files"
ok "bad config: exit 2, '$(head -1 "$WORK/err")'"

"$HPS" run good.yaml --quiet 2>/dev/null
[ "$(status_count runs/cli done)" = 20 ] || fail "the sweep did not finish"

# Running into a directory that holds a sweep is refused; the data stays.
before=$(md5sum runs/cli/journal)
expect_exit 2 "$HPS" run good.yaml
grep -q "already holds a sweep" "$WORK/err" || fail "no 'already holds a sweep' message"
[ "$(md5sum runs/cli/journal)" = "$before" ] || fail "the refused run changed the journal"
ok "run into an existing sweep: refused, journal untouched"

# A resume whose config differs in a search key is refused and names the key.
sed 's/a: {type: float, low: -2, high: 2}/a: {type: float, low: -3, high: 2}/' good.yaml > changed.yaml
expect_exit 2 "$HPS" resume runs/cli --config changed.yaml
grep -q "space.a.low" "$WORK/err" || { cat "$WORK/err"; fail "the differing key is not named"; }
ok "resume with a changed space: refused, names space.a.low"

# Budget changes are allowed: run --resume with a larger budget continues.
sed 's/max_trials: 20/max_trials: 30/' good.yaml > more.yaml
"$HPS" run more.yaml --resume --quiet 2>/dev/null
[ "$(status_count runs/cli done)" = 30 ] || fail "run --resume did not extend the sweep to 30"
"$HPS" resume runs/cli --max-trials 35 --quiet 2>/dev/null
[ "$(status_count runs/cli done)" = 35 ] || fail "resume --max-trials did not extend the sweep to 35"
ok "budget extended with run --resume and resume --max-trials"

# A second coordinator on the same directory is refused while the first runs.
cat > long.yaml <<'YAML'
name: long
objective: {function: sleep, seconds: 0.05}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 60}
YAML
"$HPS" run long.yaml --quiet 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -f runs/long/journal ] && break; sleep 0.05; done
sleep 0.3
expect_exit 2 "$HPS" resume runs/long
grep -q "in use by another coordinator" "$WORK/err" || { cat "$WORK/err"; fail "no lock message"; }
"$HPS" status runs/long | grep -q '^status *running' || fail "status does not say running"
wait "$pid"
"$HPS" status runs/long | grep -q '^status *completed' || fail "status does not say completed"
ok "second coordinator refused; status works while the sweep runs"
# No seed in the config: one is drawn, recorded and reported.
"$HPS" status runs/long | grep -Eq '^seed +[0-9]+$' || fail "no recorded seed"

# Resume of a directory without a sweep; best of a missing file.
expect_exit 2 "$HPS" resume nowhere
grep -q "holds no sweep" "$WORK/err" || fail "no 'holds no sweep' message"
expect_exit 2 "$HPS" best nowhere.h5
expect_exit 2 "$HPS" best runs/cli --format xml
"$HPS" trials runs/cli --format json | grep -c '"trial_id"' | grep -qx 35 || fail "trials json lacks rows"

for cmd in run resume status best trials; do
    "$HPS" "$cmd" --help | grep -q "usage: hpsweep $cmd" || fail "$cmd --help"
done
"$HPS" --help | grep -q "usage: hpsweep" || fail "--help"
v=$("$HPS" --version)
for lib in hpsweep MPI HDF5 GSL libyaml; do
    echo "$v" | grep -q "$lib" || fail "--version lacks $lib"
done
expect_exit 2 "$HPS" frobnicate
ok "--help for every subcommand, --version names MPI, HDF5, GSL, libyaml"

# ---- the first hour (issue 16) -----------------------------------------------------

# A refused config writes nothing, so adding the budget is all it takes.
grep -v '^budget' good.yaml | sed 's/name: cli/name: nobudget/' > nobudget.yaml
expect_exit 2 "$HPS" run nobudget.yaml
grep -q "has no budget" "$WORK/err" || { cat "$WORK/err"; fail "no 'no budget' message"; }
[ ! -e runs/nobudget ] || fail "a config without a budget left runs/nobudget behind"
echo "budget: {max_trials: 3}" >> nobudget.yaml
"$HPS" run nobudget.yaml --quiet 2>/dev/null || fail "run refused after the budget was added"
ok "a refused config writes nothing; adding the budget is enough"

# run --max-trials is recorded: a plain resume after an interruption goes on to it,
# and status counts against it.
cat > over.yaml <<'YAML'
name: over
seed: 2
objective: {function: sleep, seconds: 0.05}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 12}
YAML
"$HPS" run over.yaml --max-trials 40 --quiet 2>/dev/null &
pid=$!
for _ in $(seq 200); do [ "$(status_count runs/over done 2>/dev/null)" -ge 15 ] 2>/dev/null && break; sleep 0.05; done
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 75 ] || fail "--max-trials run: exit $rc after SIGINT, expected 75"
"$HPS" status runs/over | grep -Eq '^trials +[0-9]+ of 40:' || { "$HPS" status runs/over; fail "status does not count against 40"; }
"$HPS" resume runs/over 2>resume.err >/dev/null
grep -q "resuming sweep over in runs/over: .* to re-run first" resume.err || { cat resume.err; fail "resume's first line does not say what was restored"; }
grep -q "budget: max_trials 40" resume.err || { cat resume.err; fail "resume does not say its budget"; }
[ "$(status_count runs/over done)" = 40 ] || { "$HPS" status runs/over; fail "resume forgot --max-trials 40"; }
"$HPS" status runs/over | grep -Eq '^trials +40 of 40:' || fail "status after resume"
ok "run --max-trials 40, SIGINT, plain resume: 40 trials; the resume says what it restored"

# status accepts the sweep's files too.
"$HPS" status runs/over/sweep.h5 | grep -q '^sweep *over' || fail "status of sweep.h5 did not use its directory"
ok "status DIR/sweep.h5 reports the sweep in DIR"

# A serial run says so; an all-failed sweep says no trial completed.
"$HPS" run good.yaml --output serialrun 2>serial.err >/dev/null
grep -q "serial (trials run in this process)" serial.err || { cat serial.err; fail "serial run not named"; }
grep -q "process CPU" serial.err || { cat serial.err; fail "serial summary should say process CPU"; }
cat > allfail.yaml <<'YAML'
name: allfail
objective: {command: ["false"]}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 3, max_consecutive_failures: 0}
YAML
"$HPS" run allfail.yaml --quiet 2>allfail.err || true
grep -q "no trial completed" allfail.err || { cat allfail.err; fail "an all-failed sweep did not say so"; }
if grep -q "(trial -1)" allfail.err; then cat allfail.err; fail "'trial -1' in the summary"; fi
ok "serial runs and all-failed sweeps are worded plainly"
