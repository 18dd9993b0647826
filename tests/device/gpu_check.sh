#!/bin/bash
# GPU check, for a machine with NVIDIA GPUs (the lent device) -- not part of CI.
#
#   ../shared/tools/device-bundle .device build/hpsweep build/hpsweep-gpu.so   # here, once
#   source .device/activate && bash tests/device/gpu_check.sh OUTDIR   # there
#
# 1. what the driver reports (what provenance reads: /proc/driver/nvidia);
# 2. a command sweep with gpus_per_trial: 1 under mpirun -np 3 (two trial groups on
#    one node): each trial reports CUDA_VISIBLE_DEVICES and whether PyTorch sees a GPU;
# 3. the PyTorch example (configs/examples/train_torch.py) on --device cuda;
# 4. provenance on a GPU host: the GPU probe's output and the host facts recorded
#    (gpus, gpu_uuids, gpu_memory, nvidia_driver, cuda_driver, cuda_runtime, cublas,
#    nccl: none of them should say "none" there), and `hpsweep reproduce` of a trial;
# each sweep directory is copied to OUTDIR for reading (sweep.h5: /provenance, /trials).
set -u
out=${1:?usage: gpu_check.sh OUTDIR}
mkdir -p "$out"
repo=$(pwd)
echo "== driver"
head -1 /proc/driver/nvidia/version 2>&1
ls /proc/driver/nvidia/gpus 2>&1
nvidia-smi -L 2>&1 | head -4

work=$(mktemp -d)
cp "$repo/configs/examples/train_torch.py" "$repo/configs/examples/hpsweep_report.py" "$work/"
cat > "$work/probe.py" <<'PY'
import os, sys, time
t0 = time.time()
import torch
ok = torch.cuda.is_available()
name = torch.cuda.get_device_name(0) if ok else "none"
cvd = os.environ.get("CUDA_VISIBLE_DEVICES", "unset")
print(f"probe: trial {os.environ.get('HPSWEEP_TRIAL_ID')} CUDA_VISIBLE_DEVICES={cvd} gpu={name}",
      file=sys.stderr, flush=True)
x = float(sys.argv[1])
if ok:
    a = torch.randn(2048, 2048, device="cuda")
    s = float((a @ a).abs().mean())
print(f"@hpsweep step=1 cuda={int(ok)} cvd_set={int(cvd != 'unset')} loss={(x - 0.3) ** 2}", flush=True)
PY
cat > "$work/probe.yaml" <<'YAML'
name: gpu_probe
seed: 11
objective:
  command: [python3, probe.py, "{x}"]
  workdir: .
  gpus_per_trial: 1
metric: {name: loss, goal: minimize}
space:
  x: {type: float, low: 0.0, high: 1.0}
strategy: random
budget: {max_trials: 4}
output: runs
YAML
cat > "$work/torch.yaml" <<'YAML'
name: gpu_torch
seed: 12
objective:
  command: [python3, train_torch.py, --lr, "{lr}", --layers, "{layers}", --width, "{width}",
            --epochs, "{budget}", --max-epochs, "10", --device, cuda]
  workdir: .
  gpus_per_trial: 1
  env: {OMP_NUM_THREADS: "1"}
  timeout: 5m
metric: {name: val_loss, goal: minimize}
space:
  lr: {type: float, low: 1.0e-4, high: 0.3, log: true}
  layers: {type: int, low: 1, high: 4}
  width: {type: categorical, choices: [16, 32, 64]}
strategy: gp
budget: {max_trials: 6}
output: runs
YAML
cd "$work" || exit 1
for c in ${SWEEPS:-probe torch}; do
  echo "== sweep $c"
  SECONDS=0
  mpirun -np 3 hpsweep run "$c.yaml" 2>&1 | tail -15
  echo "rc=${PIPESTATUS[0]} wall=${SECONDS} s"
  hpsweep trials "runs/gpu_$c" 2>&1 | head -12
  grep -rh "probe:" "runs/gpu_$c/trials" 2>/dev/null | head -6
  cp -r "runs/gpu_$c" "$out/"
done
echo "== GPU probe and recorded host facts"
hpsweep __probe-gpu 2>&1
hpsweep show runs/gpu_probe 2>&1 | sed -n '/^hosts/,/^files/p'
hpsweep reproduce runs/gpu_probe --trial 0 --tolerance 1% 2>&1 | tail -12
