#!/bin/bash
# The PyTorch example users copy, run as written under mpirun:
# configs/examples/torch_sweep.yaml with --max-trials 4 when some python3 can
# `import torch`: every trial done, stdout.log with val_loss lines and a checkpoint
# per trial, and train_torch.py resumes the best trial's checkpoint with the
# parameters `best --format args` prints. Without PyTorch it exits 77, which ctest
# reports as skipped (not passed).
source "$(dirname "$0")/lib.sh"
need_mpirun
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
EX=$SRC/configs/examples
# The trials import hpsweep_report.py from the source tree: leave no __pycache__ there.
export PYTHONDONTWRITEBYTECODE=1

# The first python3 that has torch: PATH's, then Debian's /usr/bin/python3 (which
# python3-torch installs into, while PATH may lead to a pyenv/venv python first).
TORCH_PY=
for py in python3 /usr/bin/python3; do
    exe=$(command -v "$py") || continue
    if "$exe" -c 'import torch' >/dev/null 2>&1; then TORCH_PY=$exe; break; fi
done
if [ -z "$TORCH_PY" ]; then
    echo "skip: python3-torch not installed (torch_sweep.yaml not run)"
    exit 77
fi
# Put that python first in PATH as `python3`, which the sweep's command names.
mkdir pybin
printf '#!/bin/sh\nexec "%s" "$@"\n' "$TORCH_PY" > pybin/python3
chmod +x pybin/python3
export PATH="$WORK/pybin:$PATH"

hps_mpirun 3 "$HPS" run "$EX/torch_sweep.yaml" --output "$WORK/runs" --max-trials 4 --quiet 2>"$WORK/err" ||
    { cat "$WORK/err" >&2; fail "torch_sweep.yaml --max-trials 4 under mpirun -np 3 failed"; }
T=$WORK/runs/torch_sweep
all_done "$T" 4
for id in 0 1 2 3; do
    td=$(trial_dir_of "$T" "$id") || fail "torch_sweep: no directory for trial $id"
    [ -f "$td/stdout.log" ] || fail "torch_sweep: no $td/stdout.log"
    n=$(grep -c '^@hpsweep step=[0-9]* val_loss=' "$td/stdout.log" || true)
    [ "$n" = 20 ] || fail "torch_sweep: trial $id: $n val_loss lines in stdout.log, expected 20 (one per epoch)"
    [ -f "$td/checkpoint.pt" ] || fail "torch_sweep: trial $id wrote no checkpoint in HPSWEEP_TRIAL_DIR"
done
"$HPS" best "$T" --format json > best.json || fail "best on torch_sweep"
grep -q '"val_loss"' best.json || { cat best.json >&2; fail "best: no val_loss"; }

# Continue the best trial to 22 epochs from its checkpoint, as a promotion will:
# the parameters `best --format args` prints are the flags train_torch.py takes,
# and they must be the values the trial trained with (else the checkpoint is refused).
best_id=$(sed -n 's/^ *"trial_id": *\([0-9]*\).*/\1/p' best.json)
best_seed=$(sed -n 's/^ *"seed": *\([0-9]*\).*/\1/p' best.json)
td=$(trial_dir_of "$T" "$best_id") || fail "torch_sweep: no directory for the best trial $best_id"
# `args` prints shell words (quoted where needed), hence eval.
best_args=()
eval "best_args=($("$HPS" best "$T" --format args))"
HPSWEEP_SEED=$best_seed HPSWEEP_TRIAL_DIR=$td HPSWEEP_RESUME=1 OMP_NUM_THREADS=1 \
    python3 "$EX/train_torch.py" "${best_args[@]}" --epochs 22 > resumed.out 2>"$WORK/err" ||
    { cat "$WORK/err" >&2; fail "train_torch.py did not resume trial $best_id with: ${best_args[*]}"; }
grep -q '^@hpsweep step=20 resumed_from=20$' resumed.out || { cat resumed.out >&2; fail "no resumed_from=20 report"; }
grep -q '^@hpsweep step=22 val_loss=' resumed.out || { cat resumed.out >&2; fail "no epoch-22 report after resuming"; }
ok "torch_sweep ($TORCH_PY): 4 trials done, 20 val_loss reports and a checkpoint each; best trial $best_id resumed from epoch 20 to 22"
