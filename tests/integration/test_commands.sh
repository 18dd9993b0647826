#!/bin/bash
# External-command trials under mpirun: every way a command can end gets its
# recorded cause and the sweep finishes; arguments with shell metacharacters
# arrive literally (no shell ran); retries reuse the seed and count toward the
# failure limit, not toward max_trials; SIGTERM/SIGUSR1 to mpirun interrupt the
# sweep and resume completes it; kill -9 of the whole job leaves no trial running.
source "$(dirname "$0")/lib.sh"
need_mpirun
cat > trial.sh <<'SH'
#!/bin/sh
# A command trial that behaves as its first argument says.
case "$1" in
  ok)       echo "@hpsweep step=0 loss=3"; echo "@hpsweep step=1 loss=2 acc=0.5" ;;
  fail)     echo "@hpsweep loss=1"; echo "it broke" >&2; exit 3 ;;
  segv)     kill -SEGV $$ ;;
  hang)     echo "@hpsweep loss=1"; exec sleep 60 ;;
  nometric) echo "hello" ;;
  nan)      echo "@hpsweep loss=nan" ;;
  garbage)  echo "@hpsweep = loss= zz=1x"; echo "@hpsweeploss=1"; echo "@hpsweep loss=4.5 junk" ;;
  flood)    i=0; while [ $i -lt 20000 ]; do echo "line $i of noise to fill the pipe buffer"; i=$((i+1)); done
            echo "@hpsweep loss=0.5" ;;
  *)        printf '%s\n' "$1" > "$HPSWEEP_TRIAL_DIR/arg.txt"; echo "@hpsweep loss=0" ;;
esac
SH
chmod +x trial.sh
cat > modes.yaml <<'YAML'
name: modes
objective:
  command: [./trial.sh, "{mode}"]
  timeout: 1s
  kill_grace: 1s
metric: {name: loss}
space:
  mode: {type: categorical, choices: [ok, fail, segv, hang, nometric, nan, garbage, flood, "x; touch owned"]}
strategy: grid
YAML
hps_mpirun 4 "$HPS" run modes.yaml --quiet 2>/dev/null
"$HPS" trials runs/modes --format csv > modes.csv
cause() { awk -F, -v m="$1" 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next} $c["mode"]==m{print $c["status"]" "$c["cause"]" "$c["exit_code"]}' modes.csv; }
[ "$(cause ok)" = "done  0" ] || fail "ok: $(cause ok)"
[ "$(cause fail)" = "failed exit:3 3" ] || fail "fail: $(cause fail)"
[ "$(cause segv)" = "failed signal:SIGSEGV -1" ] || fail "segv: $(cause segv)"
[ "$(cause hang)" = "failed timeout -1" ] || fail "hang: $(cause hang)"
[ "$(cause nometric)" = "failed no-metric 0" ] || fail "nometric: $(cause nometric)"
[ "$(cause nan)" = "failed nan 0" ] || fail "nan: $(cause nan)"
[ "$(cause garbage)" = "done  0" ] || fail "garbage: $(cause garbage)"
[ "$(cause flood)" = "done  0" ] || fail "flood: $(cause flood)"
ok "every cause recorded: exit:3, signal:SIGSEGV, timeout, no-metric, nan; garbage and 800 KB of output fine"
id=$(awk -F, 'NR>1 && $2=="done" && /owned/{print $1}' modes.csv)
[ "$(cat "runs/modes/trials/$id/arg.txt")" = "x; touch owned" ] || fail "the metacharacter argument was not passed literally"
[ ! -e owned ] && [ ! -e "runs/modes/trials/$id/owned" ] || fail "a shell ran the argument"
ok "'x; touch owned' arrived as one literal argument"
grep -q "it broke" runs/modes/trials/*/stderr.log || fail "stderr.log lacks the failing trial's stderr"
[ "$(grep -c '@hpsweep' runs/modes/trials/0/stdout.log)" = 2 ] || fail "stdout.log of trial 0"
garbage_id=$(awk -F, 'NR>1 && /garbage/{print $1}' modes.csv)
best=$("$HPS" trials runs/modes --format json | grep -o '"objective": 4.5' | head -1)
[ -n "$best" ] || fail "the garbage trial's metric is not 4.5 (trial $garbage_id)"
if /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
    /usr/bin/python3 - runs/modes/sweep.h5 <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = [n.decode() if isinstance(n, bytes) else n for n in f["metric_names"][:]]
assert names[:2] == ["loss", "acc"], names
fails = f["failures"][:]
assert any(b"it broke" in r["stderr_tail"] for r in fails), fails
m = f["metrics"][:]
assert len(m) >= 3, len(m)
print("ok: /metrics has the reports, /failures the stderr tail")
PY
fi

# Retries: same seed, attempts counted, max_trials counts trials not attempts;
# max_consecutive_failures stops a broken sweep with status failed.
cat > retry.yaml <<'YAML'
name: retry
seed: 4
objective:
  command: [sh, -c, 'echo "$HPSWEEP_SEED $HPSWEEP_ATTEMPT" >> "$HPSWEEP_TRIAL_DIR/seeds"; echo boom >&2; exit 1']
  retries: 2
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 20, max_consecutive_failures: 7}
YAML
expect_exit 1 "$HPS" run retry.yaml --quiet
grep -q "stopped after [0-9]* failed attempts in a row" "$WORK/err" || { cat "$WORK/err"; fail "no failure-limit message"; }
grep -q "boom" "$WORK/err" || fail "the failure message lacks the stderr tail"
"$HPS" status runs/retry | grep -q '^status *failed' || fail "status is not failed"
[ "$(status_count runs/retry failed)" = 3 ] || fail "expected 3 failed trials (3 x 3 attempts >= 7)"
for d in runs/retry/trials/*/; do
    [ "$(wc -l < "$d/seeds")" = 3 ] || fail "$d: not 3 attempts"
    [ "$(cut -d' ' -f1 "$d/seeds" | sort -u | wc -l)" = 1 ] || fail "$d: attempts used different seeds"
    [ "$(cut -d' ' -f2 "$d/seeds" | tr '\n' ' ')" = "1 2 3 " ] || fail "$d: HPSWEEP_ATTEMPT"
done
"$HPS" trials runs/retry --format csv | awk -F, 'NR>1 && $13 != 3 {exit 1}' || fail "attempts column is not 3"
ok "retries reuse the seed (3 attempts each), the failure limit stops the sweep after 3 trials"

# SIGTERM and SIGUSR1 to mpirun while commands run; kill -9 of the whole job.
cat > slow.yaml <<'YAML'
name: slow
seed: 8
objective:
  command: [sh, -c, 'sleep 0.6 & wait; echo "@hpsweep objective={x}"']
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 24}
YAML
for sig in TERM USR1; do
    rm -rf runs/slow
    setsid mpirun --allow-run-as-root --oversubscribe -np 4 "$HPS" run slow.yaml --quiet >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 200); do [ -d runs/slow/trials/2 ] && break; sleep 0.05; done
    sleep 0.3
    kill -"$sig" "$pid"
    set +e; wait "$pid"; rc=$?; set -e
    if [ "$sig" = USR1 ]; then [ "$rc" = 75 ] || fail "SIGUSR1: mpirun exited $rc, not 75"; fi
    [ "$rc" != 0 ] || fail "SIG$sig: mpirun exited 0"
    "$HPS" status runs/slow | grep -q '^status *interrupted' || { "$HPS" status runs/slow; fail "SIG$sig: not interrupted"; }
    [ "$(status_count runs/slow interrupted)" -ge 1 ] || fail "SIG$sig: no interrupted trial"
    h5dump -H runs/slow/sweep.h5 >/dev/null 2>&1 || ! command -v h5dump >/dev/null || fail "SIG$sig: h5dump"
    sleep 0.5
    pgrep -f "sleep 0.6" >/dev/null && fail "SIG$sig: a trial's process outlived the job"
    hps_mpirun 3 "$HPS" resume runs/slow --quiet 2>/dev/null
    [ "$(status_count runs/slow done)" = 24 ] || fail "SIG$sig: resume did not finish"
    dups=$("$HPS" trials runs/slow --format csv | cut -d, -f1 | sort | uniq -d | wc -l)
    [ "$dups" = 0 ] || fail "SIG$sig: duplicated trials"
    ok "SIG$sig to mpirun (exit $rc): trials interrupted, no orphans, resume finished 24 trials"
done

rm -rf runs/slow
setsid mpirun --allow-run-as-root --oversubscribe -np 4 "$HPS" run slow.yaml --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do [ -d runs/slow/trials/4 ] && break; sleep 0.05; done
# A trial's directory exists a moment before its `sleep` starts, and the three
# groups' trials start together: wait for a sleep to be running before the kill.
for _ in $(seq 100); do pgrep -f "sleep 0.6" >/dev/null && break; sleep 0.02; done
pgrep -f "sleep 0.6" >/dev/null || fail "no trial was running when the job was killed"
kill -9 -- "-$pid"
wait "$pid" 2>/dev/null || true
sleep 1.5
if pgrep -f "sleep 0.6" >/dev/null; then pgrep -af "sleep 0.6"; fail "trial processes survived kill -9 of the job"; fi
for _ in $(seq 100); do pgrep -f "$HPS run slow" >/dev/null || break; sleep 0.1; done
hps_mpirun 3 "$HPS" resume runs/slow --quiet 2>/dev/null
[ "$(status_count runs/slow done)" = 24 ] || fail "resume after kill -9 did not finish"
ok "kill -9 of the job: no trial process survived; resume finished the sweep"
