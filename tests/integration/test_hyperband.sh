#!/bin/bash
# Multi-fidelity sweeps under mpirun -np 4 with an external command that
# checkpoints to HPSWEEP_TRIAL_DIR:
# (a) hyperband promotes trials, and a promoted trial continues from its checkpoint
#     (the script reports resumed_from=<epoch>; /rungs shows every rung);
# (b) a median-stopping pruner stops trials early and records them as pruned;
# (c) kill -9 during a hyperband sweep, then resume: no completed rung is run
#     again, and the final (trial, rung) records equal an uninterrupted run.
source "$(dirname "$0")/lib.sh"
need_mpirun
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
cat > curve.py <<'PY'
# A training run in miniature: loss falls with epochs; checkpoint every epoch;
# a promoted run (HPSWEEP_RESUME=1) continues from its checkpoint.
import os, sys, time
x, slow = float(sys.argv[1]), float(sys.argv[2])
# The budget: a multi-fidelity strategy's, else (0 = full) the third argument.
budget = int(float(os.environ["HPSWEEP_BUDGET"])) or int(sys.argv[3])
tdir = os.environ["HPSWEEP_TRIAL_DIR"]
ckpt = os.path.join(tdir, "epoch")
start = 0
if os.environ.get("HPSWEEP_RESUME") == "1" and os.path.exists(ckpt):
    start = int(open(ckpt).read())
    print(f"@hpsweep step={start} resumed_from={start}", flush=True)
    if start >= budget:
        # Killed after its last epoch but before hpsweep recorded the result: the
        # checkpoint already holds the answer, so report it again.
        print(f"@hpsweep step={start} loss={(x - 0.3) ** 2 + 1.0 / start!r}", flush=True)
with open(os.path.join(tdir, "runs.log"), "a") as log:
    log.write(f"start {budget} from {start}\n")
for epoch in range(start + 1, budget + 1):
    time.sleep(slow)
    loss = (x - 0.3) ** 2 + 1.0 / epoch
    print(f"@hpsweep step={epoch} loss={loss!r}", flush=True)
    with open(ckpt + ".tmp", "w") as f:
        f.write(str(epoch))
    os.replace(ckpt + ".tmp", ckpt)
with open(os.path.join(tdir, "runs.log"), "a") as log:
    log.write(f"done {budget}\n")
PY
cat > hb.yaml <<YAML
name: hb
seed: 21
objective:
  command: [python3, curve.py, "{x}", "0.0", "9"]
metric: {name: loss}
space:
  x: {type: float, low: 0, high: 1}
strategy: {name: hyperband, resource: epochs, min_resource: 1, max_resource: 9, eta: 3}
budget: {max_resource: 120}
YAML
hps_mpirun 4 "$HPS" run hb.yaml 2>hb.log
"$HPS" status runs/hb | grep -q '^status *completed' || fail "hyperband sweep did not complete"
# Progress lines say which rung of a trial ended (a trial ends once per rung).
grep -Eq '^trial [0-9]+ rung [1-9] \(budget [0-9.]+\) done loss=' hb.log ||
    { head -20 hb.log; fail "progress lines do not name the rung and budget"; }
resumed=$(cat runs/hb/trials/*/stdout.log | grep -c 'resumed_from=' || true)
[ "$resumed" -ge 1 ] || fail "no promoted trial resumed from its checkpoint"
# A promoted trial's runs.log: the second run started from the first run's budget.
promoted=$(grep -l "from [1-9]" runs/hb/trials/*/runs.log | head -1)
[ -n "$promoted" ] || fail "no run started from a checkpoint"
ok "hyperband: $resumed promoted runs continued from their checkpoints ($(head -2 "$promoted" | tr '\n' ' '))"
if /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
    /usr/bin/python3 - runs/hb/sweep.h5 <<'PYEOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
r = f["rungs"][:]
assert len(r) > len(f["trials"]), (len(r), len(f["trials"]))
assert set(r["rung"]) >= {0, 1}, set(r["rung"])
print("ok: /rungs has", len(r), "rows for", len(f["trials"]), "trials")
PYEOF
fi

# (b) median stopping: the bad half of the curves is stopped early.
cat > med.yaml <<YAML
name: med
seed: 5
objective:
  command: [python3, curve.py, "{x}", "0.01", "10"]
metric: {name: loss}
space:
  x: {type: float, low: 0, high: 1}
strategy: {name: random, pruner: {name: median, n_startup_trials: 3, n_warmup_steps: 2}}
budget: {max_trials: 16}
YAML
hps_mpirun 4 "$HPS" run med.yaml --quiet 2>/dev/null
pruned=$(status_count runs/med pruned)
[ "$pruned" -ge 1 ] || { "$HPS" status runs/med; fail "median stopping pruned nothing"; }
"$HPS" trials runs/med --format csv | awk -F, '$2=="pruned" && $11!="pruned"{exit 1}' || fail "pruned trials lack the cause"
ok "median pruner: $pruned of 16 trials stopped early and recorded as pruned"

# (c) kill -9 mid-sweep, resume; compare with an uninterrupted run. Both use one
# worker: with one trial in flight the order of results, and so every promotion,
# is fixed.
sed 's/"0.0", "9"\]/"0.03", "9"]/' hb.yaml > hbk.yaml
hps_mpirun 2 "$HPS" run hbk.yaml --output ref --quiet 2>/dev/null
setsid mpirun --allow-run-as-root --oversubscribe -np 2 "$HPS" run hbk.yaml --output killed --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 300); do [ "$(ls killed/hb/trials 2>/dev/null | wc -l)" -ge 6 ] && break; sleep 0.05; done
sleep 0.5
kill -9 -- "-$pid"; wait "$pid" 2>/dev/null || true
for _ in $(seq 100); do pgrep -f "$HPS run hbk" >/dev/null || break; sleep 0.1; done
hps_mpirun 2 "$HPS" resume killed/hb --quiet 2>/dev/null
"$HPS" status killed/hb | grep -q '^status *completed' || fail "resumed hyperband sweep did not complete"
# A rung counts as completed once its result is in the journal; the one a worker
# had finished but not yet reported (durably) when it was killed runs again. So
# with one worker, the script's completions exceed the recorded rungs by at most 1.
script_done=$(cat killed/hb/trials/*/runs.log | grep -c '^done')
recorded=$("$HPS" trials killed/hb --rungs --format csv | awk -F, 'NR>1 && $5=="done"' | wc -l)
ref_recorded=$("$HPS" trials ref/hb --rungs --format csv | awk -F, 'NR>1 && $5=="done"' | wc -l)
[ "$recorded" = "$ref_recorded" ] || fail "killed run recorded $recorded rungs, uninterrupted $ref_recorded"
[ "$((script_done - recorded))" -le 1 ] ||
    fail "completed rungs ran again: $script_done script completions for $recorded recorded rungs"
for log in killed/hb/trials/*/runs.log; do
    d=$(grep '^done' "$log" | sort | uniq -c | awk '$1 > 2')
    [ -z "$d" ] || fail "$log: a rung completed more than twice ($d)"
done
keys() { "$HPS" trials "$1" --format csv | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
         {print $c["trial_id"], $c["seed"], $c["rung"], $c["budget"], $c["x"]}'; }
diff <(keys ref/hb) <(keys killed/hb) >/dev/null || { diff <(keys ref/hb) <(keys killed/hb) | head; fail "(trial, rung) records differ from the uninterrupted run"; }
ok "hyperband killed and resumed: no recorded rung re-run ($script_done runs for $recorded rungs); same (trial, rung) records as an uninterrupted run"
