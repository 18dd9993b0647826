#!/bin/bash
# The GPU module (hpsweep-gpu.so, workers/trainer/gpu.h): the program links no CUDA
# library, whatever the build; a CPU-only sweep never loads the module; with the GPU
# path built, a rank that is given a GPU loads it -- next to the program (the build
# tree), from <bindir>/../<libdir>/hpsweep/ (the installed layout) or from
# $HPS_GPU_MODULE -- and where it cannot, the run ends with a clear message naming
# every path tried and dlopen's reason, and a non-zero exit, never a crash. (That the
# module resolves its table: tests/unit/test_gpu_module.c.)
# No GPU is needed: CUDA_VISIBLE_DEVICES=0 makes hpsweep give rank 0 device 0; on a
# machine without one the loaded module's cudaSetDevice then fails, cleanly.
source "$(dirname "$0")/lib.sh"

libs=$(ldd "$HPS") || fail "ldd $HPS"
if echo "$libs" | grep -Ei 'libcudart|libcublas|libnccl'; then
    fail "the program links CUDA libraries"
fi
ok "the program links no CUDA runtime, cuBLAS or NCCL"

"$HPS" dataset synth -o data/small.h5 --samples 400 --features 8 --classes 3 --seed 3 \
    >synth.out 2>&1 || { cat synth.out >&2; fail "dataset synth"; }
sweep() { cat > "$1.yaml" <<YAML
name: $1
seed: 5
objective: {trainer: mlp, dataset: data/small.h5, gpus_per_rank: $2}
metric: {name: val_accuracy, goal: maximize}
space:
  learning_rate: {type: float, low: 3.0e-3, high: 0.1, log: true}
strategy: {name: random}
budget: {max_trials: 2}
YAML
}

# A CPU sweep with a module path that does not exist: nothing asks for it.
sweep cpu 0
HPS_GPU_MODULE=$WORK/none/hpsweep-gpu.so "$HPS" run cpu.yaml --quiet 2>err ||
    { cat err >&2; fail "a CPU sweep needed the GPU module"; }
ok "a CPU-only sweep runs without the module"

if ! "$HPS" --version | grep -q 'CUDA/NCCL enabled'; then
    echo "skip: built without the GPU path (no module to load)"
    exit 77
fi
[ -f "$(dirname "$HPS")/hpsweep-gpu.so" ] || fail "no hpsweep-gpu.so next to $HPS"

# Run the GPU sweep with program $1 (more environment before it); exit status in $rc.
sweep gpu 1
gpu_run() { rm -rf runs/gpu; set +e; env CUDA_VISIBLE_DEVICES=0 "$@" run gpu.yaml --quiet \
    >out 2>err; rc=$?; set -e; }
# It ended with an exit status, not a signal, and said why.
clean_fail() { [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || { cat err >&2; fail "$1: exit $rc"; }; }

gpu_run env HPS_GPU_MODULE="$WORK/none/hpsweep-gpu.so" "$HPS"
clean_fail "a missing module"
grep -q "cannot load the GPU module hpsweep-gpu.so (tried $WORK/none/hpsweep-gpu.so: cannot open shared object file" err ||
    { cat err >&2; fail "the message does not name the path and dlopen's reason"; }
ok "HPS_GPU_MODULE naming no file: exit $rc, $(head -c 160 err)..."

printf 'not an ELF file\n' > bad.so
gpu_run env HPS_GPU_MODULE="$WORK/bad.so" "$HPS"
clean_fail "a broken module"
grep -q "cannot load the GPU module.*$WORK/bad.so" err || { cat err >&2; fail "bad.so is not named"; }
ok "a file that is no module: exit $rc"

# The program alone in a folder: both places it looks are named.
mkdir -p prefix/bin
cp "$HPS" prefix/bin/hpsweep
gpu_run env -u HPS_GPU_MODULE "$WORK/prefix/bin/hpsweep"
clean_fail "no module beside the program"
grep -q "tried $WORK/prefix/bin/hpsweep-gpu.so: .*; $WORK/prefix/bin/.*/hpsweep-gpu.so: " err ||
    { cat err >&2; fail "the two places looked in are not named"; }
ok "no module beside the program nor installed: exit $rc"

# The installed layout: the module where the message says it was looked for.
installed=$(grep -o "; $WORK/prefix/bin/[^:]*/hpsweep-gpu.so: " err | sed 's/^; //; s/: $//')
mkdir -p "$(dirname "$installed")"
cp "$(dirname "$HPS")/hpsweep-gpu.so" "$installed"
gpu_run env -u HPS_GPU_MODULE "$WORK/prefix/bin/hpsweep"
if [ "$rc" -ne 0 ]; then
    clean_fail "the installed module"
    grep -q "cannot load" err && { cat err >&2; fail "the installed module was not loaded"; }
    grep -q "module.c:[0-9]*: cudaSetDevice(device) failed: " err ||
        { cat err >&2; fail "no CUDA error from the loaded module"; }
fi
ok "the installed layout ($installed) loads the module (exit $rc: $(head -c 120 err))"
