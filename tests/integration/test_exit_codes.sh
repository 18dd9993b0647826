#!/bin/bash
# Exit codes and start-up, with the real binary: SIGTERM and SIGINT while the
# config is being read end the process at once (caught there with the fault
# shim's SIGSTOP, so no timing is involved) and nothing is created; a sweep in
# which no trial completed exits 3 and says so; configs that are not regular
# files exit 2 at once; env output with colliding names exits 2.
source "$(dirname "$0")/lib.sh"
SHIM=$(dirname "$HPS")/tests/libhpsfi.so

cat > ok.yaml <<'YAML'
name: ok
objective: {function: sphere}
space:
  x: {type: float, low: -1, high: 1}
budget: {max_trials: 3}
YAML

# 1. A signal during start-up (here: stopped inside the config's open).
if [ -f "$SHIM" ]; then
    for sig in TERM INT; do
        rm -rf runs
        HPS_FI_STOP_SUFFIX=ok.yaml LD_PRELOAD="$SHIM" "$HPS" run ok.yaml --quiet 2> err &
        pid=$!
        for _ in $(seq 200); do
            [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = T ] && break
            sleep 0.02
        done
        [ "$(awk '{print $3}' /proc/$pid/stat)" = T ] || fail "hpsweep did not stop at the config's open"
        kill -$sig $pid
        kill -CONT $pid
        set +e; wait $pid; rc=$?; set -e
        want=$((128 + $(kill -l $sig)))
        [ "$rc" = "$want" ] || { cat err; fail "SIG$sig during start-up: exit $rc, expected $want (killed)"; }
        [ ! -e runs ] || fail "SIG$sig during start-up: the sweep directory was created"
    done
    ok "SIGTERM and SIGINT during start-up end hpsweep at once (exit 143/130), nothing created"
else
    echo "skip: no $SHIM (the start-up signal check)"
fi

# 2. No trial completed: exit 3 and a message (was: 'best = nan (trial -1)', exit 0).
cat > fails.yaml <<'YAML'
name: fails
objective:
  command: [sh, -c, "exit 3"]
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 3, max_consecutive_failures: 0}
YAML
expect_exit 3 "$HPS" run fails.yaml --quiet
grep -q "the sweep ended without one completed trial (3 failed, 0 pruned)" "$WORK/err" || { cat "$WORK/err"; fail "no 'no trial completed' message"; }
grep -q "nan (trial -1)" "$WORK/err" && fail "the summary still prints best = nan (trial -1)"
grep -q "no trial completed" "$WORK/err" || fail "the summary does not say no trial completed"
expect_exit 3 "$HPS" best runs/fails
ok "a sweep where every trial failed exits 3 and says so; best agrees (3)"

# 3. Configs that are not regular files: exit 2 at once.
mkdir dir.yaml
ln -s /dev/zero zero.yaml
for f in dir.yaml zero.yaml; do
    expect_exit 2 timeout 10 "$HPS" run "$f"
    grep -q "not a regular file" "$WORK/err" || { cat "$WORK/err"; fail "$f: no message"; }
done
ok "a directory or a symlink to /dev/zero as the config: exit 2, 'not a regular file'"

# 4. best --format env with names that collide.
cat > env.yaml <<'YAML'
name: env
objective: {function: sphere}
space:
  lr: {type: float, low: 0, high: 1}
  LR: {type: float, low: 0, high: 1}
budget: {max_trials: 2}
YAML
"$HPS" run env.yaml --quiet 2>/dev/null
expect_exit 2 "$HPS" best runs/env --format env
grep -q "parameters 'lr' and 'LR' both become the variable LR" "$WORK/err" || { cat "$WORK/err"; fail "env collision message"; }
[ ! -s "$WORK/out" ] || fail "env output written despite the collision"
expect_exit 0 "$HPS" best runs/env --format json
ok "best --format env refuses colliding names (exit 2, nothing written); json works"

# 5. A sweep killed before its first record: status, resume and run agree on the
#    way out (run takes the directory over).
rm -rf runs
mkdir -p runs/ok
printf 'HPSJRNL\0\1\0\0\0\0\0\0\0' > runs/ok/journal
expect_exit 2 "$HPS" status runs/ok
grep -q "holds no sweep yet.*hpsweep run CONFIG" "$WORK/err" || { cat "$WORK/err"; fail "status on an empty journal"; }
expect_exit 2 "$HPS" resume runs/ok
grep -q "holds no sweep yet.*hpsweep run CONFIG" "$WORK/err" || { cat "$WORK/err"; fail "resume on an empty journal"; }
expect_exit 0 "$HPS" run ok.yaml --quiet
grep -q "held no record" "$WORK/err" || { cat "$WORK/err"; fail "run did not say it took the journal over"; }
[ "$(status_count runs/ok done)" = 3 ] || fail "run into an empty journal did not finish"
ok "a journal without a record: status and resume say 'hpsweep run' (exit 2), run takes it over"
