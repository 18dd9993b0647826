#!/bin/bash
# hpsweep reproduce: a built-in-function trial (from a sweep run under mpirun)
# comes back exactly; an external-command trial with a little noise comes back
# within --tolerance and not without it (exit 5); a recorded metric changed by hand
# is refused as damage (exit 6); a changed dataset is reported by its SHA-256 and fails; the sweep's own
# trial directory (its checkpoint) is left alone; --keep keeps the scratch one; a
# trial that did not complete and a missing trial are refused (exit 2).
source "$(dirname "$0")/lib.sh"
need_mpirun
PY=/usr/bin/python3
"$PY" -c 'import h5py' 2>/dev/null || { echo "skip: no h5py"; exit 77; }

# ---- a built-in function, exactly -----------------------------------------------------
cat > hart.yaml <<'YAML'
name: hart
seed: 5
objective: {function: hartmann3, noise: 0.1}
metric: {name: loss}
space:
  a: {type: float, low: 0, high: 1}
  b: {type: float, low: 0, high: 1}
  c: {type: float, low: 0, high: 1}
strategy: {name: asha, min_resource: 1, max_resource: 9, eta: 3}
budget: {max_trials: 10}
YAML
hps_mpirun 3 "$HPS" run hart.yaml --quiet 2>/dev/null
best=$("$HPS" best runs/hart --format github | sed -n 's/^trial_id=//p')
"$HPS" reproduce runs/hart --trial "$best" > out 2>err || { cat out err; fail "reproduce of a built-in trial failed"; }
grep -q "reproduced exactly" out || { cat out; fail "the built-in trial is not reproduced exactly"; }
grep -q "budget 9" out || { cat out; fail "the promoted trial is not re-run at its last budget"; }
ok "built-in hartmann3 trial $best (promoted by asha, noise from seed and budget) reproduced exactly"

# A recorded metric changed by hand (h5py) breaks sweep.h5's seal: reproduce reads
# nothing from it and says so (exit 6), rather than judging against a forged value.
cp runs/hart/sweep.h5 tampered.h5
"$PY" - tampered.h5 "$best" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    t = f["trials"][:]
    i = int(sys.argv[2])
    t[i]["objective"] = t[i]["objective"] * 1.01
    f["trials"][...] = t
PY
expect_exit 6 "$HPS" reproduce tampered.h5 --trial "$best"
grep -q "was changed after hpsweep wrote it" "$WORK/err" || { cat "$WORK/err"; fail "the tampering is not named"; }
ok "a recorded metric changed by hand is refused as damage (exit 6)"

# ---- an external command with a dataset and a checkpoint ---------------------------------
mkdir -p proj/data
printf '1.5\n2.5\n' > proj/data/train.txt
cat > proj/train.sh <<'SH'
#!/bin/sh
# loss = x * (sum of the dataset) + noise of about 1e-6 (another value each run);
# keeps a checkpoint in its trial directory.
echo "run" >> "$HPSWEEP_TRIAL_DIR/ckpt"
awk -v x="$1" -v s="$$" '{ t += $1 } END { srand(s); v = x * t + (rand() - 0.5) * 2e-6;
  printf("@hpsweep step=0 loss=%.17g acc=%.17g\n", v + 1, 0.5);
  printf("@hpsweep step=1 loss=%.17g acc=%.17g\n", v, 0.75) }' data/train.txt
SH
chmod +x proj/train.sh
cat > proj/cmd.yaml <<'YAML'
name: cmd
seed: 9
objective:
  command: [sh, train.sh, "{x}"]
metric: {name: loss}
space:
  x: {type: float, low: 1, high: 2}
datasets: [data]
budget: {max_trials: 4}
YAML
hps_mpirun 2 "$HPS" run proj/cmd.yaml --quiet 2>/dev/null
ckpt_before=$(cat runs/cmd/trials/2/ckpt)
"$HPS" reproduce runs/cmd --trial 2 --tolerance 0.1% > out 2>err || { cat out err; fail "command trial not within 0.1%"; }
grep -q "reproduced within the tolerance" out || { cat out; fail "no within-tolerance verdict"; }
grep -qE '^acc +0.75 +0.75' out || { cat out; fail "the other metric (acc) is not shown side by side"; }
[ "$(cat runs/cmd/trials/2/ckpt)" = "$ckpt_before" ] || fail "reproduce touched the sweep's own trial directory"
expect_exit 5 "$HPS" reproduce runs/cmd --trial 2
ok "command trial: within --tolerance 0.1%, not exactly (noise); the sweep's checkpoint untouched"

"$HPS" reproduce runs/cmd --trial 1 --tolerance 0.1% --keep > out 2>&1 || { cat out; fail "--keep run failed"; }
kept=$(sed -n 's/^scratch directory: \(.*\) (kept)$/\1/p' out)
[ -n "$kept" ] && [ -f "$kept/trials/1/ckpt" ] || { cat out; fail "--keep did not keep the scratch trial directory"; }
rm -rf "$kept"

# A changed dataset is reported (and moves the metric).
printf '1.5\n2.0\n' > proj/data/train.txt
expect_exit 5 "$HPS" reproduce runs/cmd --trial 2 --tolerance 0.1%
grep -q "dataset .*/proj/data/train.txt: sha256: " "$WORK/out" || { cat "$WORK/out"; fail "the changed dataset file is not reported"; }
grep -q "dataset .*/proj/data: sha256: " "$WORK/out" || { cat "$WORK/out"; fail "the dataset directory's manifest hash is not reported"; }
ok "a changed dataset is reported by its SHA-256 (file and directory) and the trial is not reproduced"

# ---- refusals ----------------------------------------------------------------------------
expect_exit 2 "$HPS" reproduce runs/cmd --trial 99
cat > fails.yaml <<'YAML'
name: fails
objective:
  command: [sh, -c, "exit 3"]
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 1, max_consecutive_failures: 0}
YAML
"$HPS" run fails.yaml --quiet 2>/dev/null || true
expect_exit 2 "$HPS" reproduce runs/fails --trial 0
grep -q "did not complete" "$WORK/err" || { cat "$WORK/err"; fail "no reason for refusing a failed trial"; }
ok "a missing trial and a failed one are refused (exit 2)"
