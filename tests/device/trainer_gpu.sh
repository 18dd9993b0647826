#!/bin/bash
# The trainer's GPU check, for a machine with an NVIDIA GPU (an H100/H200) -- not part of CI.
#
#   here, on the build machine (the CUDA toolkit and NCCL, no GPU needed):
#     cmake -S . -B build -DHPS_WERROR=ON && cmake --build build -j2 --target bench_trainer_gpu
#     ../shared/tools/device-bundle .device build/bench/bench_trainer_gpu build/hpsweep-gpu.so
#   (the GPU module, which holds the CUDA backend, beside the program in .device/bin)
#   there, carrying .device (MPI, HDF5, GSL and OpenBLAS come from the bundle; CUDA 13's
#   cuBLAS and NCCL from the machine), in one call of about 2-4 minutes:
#     source .device/activate && bash tests/device/trainer_gpu.sh OUTDIR
#   or, where the toolkit, cmake and the -dev packages are installed, with a build folder:
#     bash tests/device/trainer_gpu.sh OUTDIR BUILD_DIR      # builds bench_trainer_gpu if needed
#
# It runs bench_trainer_gpu (bench/gpu/trainer_gpu.c) on device ${DEVICE:-0}:
#   1. the CUDA backend against the CPU backend on the same inputs: dropout masks bit for bit,
#      one forward/backward pass for four shapes, the four optimisers, one epoch of hps_train_run
#      on a synthetic set (train_loss and val_loss within 1e-3 relative), checkpoints resumed
#      across the two backends, the same GPU run twice identical, TF32's difference;
#   2. epoch times of the 784-256-256-10 ReLU MLP (SGD momentum 0.9, batches 128 and 1024)
#      beside bench/gpu/trainer_torch_gpu.py on the same GPU (skipped when ${PYTHON:-python3}
#      has no CUDA PyTorch);
#   3. what ncclAllReduce of the gradient buffer on one rank adds to a step (target < 2%).
# The table goes to stdout and OUTDIR/trainer_gpu.txt (with nvidia-smi's view of the machine).
# Exit status: the program's -- 0 every check passed, 1 one failed, 2 it could not run.
set -u
out=${1:?usage: trainer_gpu.sh OUTDIR [BUILD_DIR]}
build=${2:-build}
mkdir -p "$out"
repo=$(pwd)
log="$out/trainer_gpu.txt"
: > "$log"
say() { echo "$@" | tee -a "$log"; }

say "== machine"
{ nvidia-smi --query-gpu=name,driver_version,memory.total,pci.bus_id --format=csv,noheader ||
    echo "nvidia-smi failed"; head -1 /proc/driver/nvidia/version; } 2>&1 | tee -a "$log"

bin=$(command -v bench_trainer_gpu || true)
if [ -z "$bin" ]; then
  bin="$build/bench/bench_trainer_gpu"
  if [ ! -x "$bin" ]; then
    say "== building bench_trainer_gpu in $build"
    { cmake -S "$repo" -B "$build" -DHPS_BENCH=ON &&
      cmake --build "$build" -j"$(nproc)" --target bench_trainer_gpu; } 2>&1 |
      tail -20 | tee -a "$log"
  fi
fi
if [ ! -x "$bin" ]; then
  say "trainer_gpu.sh: no bench_trainer_gpu (carry .device from device-bundle, or build it)"
  exit 2
fi
# The CUDA backend is in the GPU module: beside the program (a bundle), else the build's.
if [ -z "${HPS_GPU_MODULE:-}" ] && [ ! -e "$(dirname "$bin")/hpsweep-gpu.so" ] &&
   [ -e "$build/hpsweep-gpu.so" ]; then
  export HPS_GPU_MODULE=$(cd "$build" && pwd)/hpsweep-gpu.so
fi
missing=$(ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
if [ -n "$missing" ]; then
  say "trainer_gpu.sh: $bin cannot load: $missing(this build needs CUDA 13's libraries)"
  exit 2
fi

py=${PYTHON:-python3}
torch_arg=(--torch "$repo/bench/gpu/trainer_torch_gpu.py" --python "$py")
if ! "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  say "== $py has no PyTorch with CUDA: the PyTorch column is skipped"
  torch_arg=(--torch none)
fi

work=$(mktemp -d)
timeout "${TIMEOUT:-540}" "$bin" --device "${DEVICE:-0}" "${torch_arg[@]}" --work "$work" \
  ${QUICK:+--quick} 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
rm -rf "$work"
say "trainer_gpu.sh: rc=$rc (0: every check passed; 1: a check failed; 2: it could not run;" \
    "124: timed out)"
exit "$rc"
