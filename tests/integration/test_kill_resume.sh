#!/bin/bash
# kill -9 a sweep of sleep trials at several random moments, resuming each time
# (with a different rank count). At the end: no completed trial was lost (the
# durable done count never goes down), none is duplicated or stuck running, the
# trial set equals an uninterrupted run with the same seed, and h5dump reads the file.
source "$(dirname "$0")/lib.sh"
need_mpirun
cat > sleepy.yaml <<'YAML'
name: sleepy
seed: 99
objective: {function: sleep, seconds_param: dur}
space:
  dur: {type: float, low: 0.02, high: 0.06}
  width: {type: int, low: 1, high: 512, log: true}
  act: {type: categorical, choices: [relu, tanh, 0.5]}
  bn: {type: bool}
strategy: {name: random, sampler: halton}
budget: {max_trials: 300}
YAML
hps_mpirun 5 "$HPS" run sleepy.yaml --output ref --quiet 2>/dev/null
trial_keys ref/sleepy > ref.keys
[ "$(wc -l < ref.keys)" = 300 ] || fail "reference run incomplete"

RANDOM=4242
prev_done=0
ranks=(4 2 3 4 1)
for round in 0 1 2 3 4; do
    if [ "$round" = 0 ]; then args=(run sleepy.yaml --output killed --quiet); else args=(resume killed/sleepy --quiet); fi
    np=${ranks[$round]}
    setsid mpirun --allow-run-as-root --oversubscribe -np "$np" "$HPS" "${args[@]}" >/dev/null 2>&1 &
    pid=$!
    # Wait until the coordinator holds the sweep (MPI start-up takes a while),
    # then let it run a random while before the kill.
    for _ in $(seq 200); do
        [ -f killed/sleepy/journal ] && "$HPS" status killed/sleepy 2>/dev/null | grep -q '^status *running' && break
        sleep 0.05
    done
    sleep "0.$((RANDOM % 8 + 1))"
    kill -9 -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # The kernel drops the lock with the process; wait until every rank is gone.
    for _ in $(seq 100); do pgrep -f "$HPS .*killed" >/dev/null || break; sleep 0.1; done
    pkill -9 -f "$HPS .*killed" 2>/dev/null || true
    [ -f killed/sleepy/journal ] || fail "round $round: the sweep never started"
    done_now=$(status_count killed/sleepy done)
    [ "$done_now" -ge "$prev_done" ] || fail "round $round: done count went down ($prev_done -> $done_now)"
    ok "round $round (np $np): killed with $done_now trials durable"
    prev_done=$done_now
done
hps_mpirun 3 "$HPS" resume killed/sleepy --quiet 2>/dev/null
[ "$(status_count killed/sleepy done)" = 300 ] || { "$HPS" status killed/sleepy; fail "not all 300 trials done"; }
[ "$(status_count killed/sleepy running)" = 0 ] || fail "trials stuck running"
trial_keys killed/sleepy > killed.keys
dups=$(cut -d, -f1 killed.keys | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups duplicated trial ids"
diff -q ref.keys killed.keys >/dev/null || { diff ref.keys killed.keys | head; fail "trial set differs from the uninterrupted run"; }
ok "after 5 kills: 300 trials, none lost or duplicated, same as the uninterrupted run"
if command -v h5dump >/dev/null; then
    h5dump killed/sleepy/sweep.h5 >/dev/null || fail "h5dump cannot read sweep.h5"
    ok "h5dump reads sweep.h5"
fi
