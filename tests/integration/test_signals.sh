#!/bin/bash
# SIGINT/SIGTERM to a serial sweep and SIGUSR1 through mpirun: exit code 75, the
# running trials are journaled as interrupted (not failed), sweep.h5 is written
# with status "interrupted", and resume re-runs them with their seeds and finishes.
source "$(dirname "$0")/lib.sh"
need_mpirun
cat > slow.yaml <<'YAML'
name: slow
seed: 5
objective: {function: sleep, seconds: 0.2}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 12}
YAML

# Until the sweep's first trial is in the journal, so that the coordinator is past
# start-up and a trial is under way (start-up is slow under sanitizers, and a
# signal during start-up ends the process before any trial exists).
wait_running() {
    for _ in $(seq 400); do
        [ -f runs/slow/journal ] &&
            "$HPS" status runs/slow 2>/dev/null | grep -q '^trials *[1-9]' && return 0
        sleep 0.025
    done
    fail "the sweep never started a trial"
}

for sig in INT TERM; do
    rm -rf runs
    "$HPS" run slow.yaml --quiet 2>/dev/null &
    pid=$!
    wait_running
    kill -"$sig" "$pid"
    set +e; wait "$pid"; rc=$?; set -e
    [ "$rc" = 75 ] || fail "SIG$sig: exit code $rc, expected 75"
    [ "$(status_count runs/slow interrupted)" = 1 ] || { "$HPS" status runs/slow; fail "SIG$sig: no interrupted trial"; }
    [ "$(status_count runs/slow failed)" = 0 ] || fail "SIG$sig: a trial was marked failed"
    "$HPS" status runs/slow | grep -q '^status *interrupted' || fail "SIG$sig: status is not interrupted"
    h5status=$("$HPS" trials runs/slow --format csv | awk -F, '$2=="interrupted"' | wc -l)
    [ "$h5status" = 1 ] || fail "SIG$sig: sweep.h5 does not show the interrupted trial"
    seed_before=$("$HPS" trials runs/slow --format csv | awk -F, '$2=="interrupted"{print $1","$3}')
    "$HPS" resume runs/slow --quiet 2>/dev/null
    [ "$(status_count runs/slow done)" = 12 ] || fail "SIG$sig: resume did not finish"
    id=${seed_before%%,*}
    seed_after=$("$HPS" trials runs/slow --format csv | awk -F, -v id="$id" '$1==id{print $1","$3}')
    [ "$seed_before" = "$seed_after" ] || fail "SIG$sig: the re-run used another seed"
    ok "SIG$sig: exit 75, trial $id interrupted then re-run with its seed"
done

rm -rf runs
setsid mpirun -q --allow-run-as-root --oversubscribe -np 3 "$HPS" run slow.yaml --quiet >/dev/null 2>usr1.err &
pid=$!
wait_running
kill -USR1 "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 75 ] || fail "SIGUSR1 via mpirun: exit code $rc, expected 75"
# A clean stop looks clean: rank 0 says what the status means, last; with mpirun
# -q Open MPI adds no "process returned a non-zero exit code" banner.
grep -q "interrupted by signal" usr1.err || { cat usr1.err; fail "SIGUSR1 via mpirun: no interruption message"; }
grep -q "exit status 75 (interrupted: resume it)" usr1.err || { cat usr1.err; fail "SIGUSR1 via mpirun: the status is not explained"; }
if grep -q "non-zero exit code\. Per user" usr1.err; then cat usr1.err; fail "SIGUSR1 via mpirun -q: Open MPI's banner"; fi
n=$(status_count runs/slow interrupted)
[ "$n" -ge 1 ] || fail "SIGUSR1 via mpirun: no interrupted trial"
hps_mpirun 2 "$HPS" resume runs/slow --quiet 2>/dev/null
[ "$(status_count runs/slow done)" = 12 ] || fail "resume after SIGUSR1 did not finish"
ok "SIGUSR1 via mpirun: exit 75, $n interrupted, resumed to completion"

# A refusal under mpirun: exit 2, the reason once (from rank 0 only), explained.
set +e
hps_mpirun 3 "$HPS" run slow.yaml >/dev/null 2>refuse.err
rc=$?
set -e
[ "$rc" = 2 ] || { cat refuse.err; fail "a refused run under mpirun: exit code $rc, expected 2"; }
[ "$(grep -c "already holds a sweep" refuse.err)" = 1 ] || { cat refuse.err; fail "refusal: the reason is not said once"; }
grep -q "exit status 2 (refused: nothing was written)" refuse.err || { cat refuse.err; fail "refusal: the status is not explained"; }
if grep -q "processes returned" refuse.err; then cat refuse.err; fail "refusal: several ranks returned non-zero"; fi
ok "a clean stop and a refusal under mpirun: the status from rank 0 alone, explained last; no banner with -q"
