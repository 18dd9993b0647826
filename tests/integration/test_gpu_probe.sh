#!/bin/bash
# The GPU probe (hpsweep __probe-gpu, engine/cli/prov_probe.c) reads NVIDIA's
# libraries through dlopen: on a machine without them it says so for each
# fact; with stand-in libnvidia-ml.so.1, libcuda.so.1 and libnccl.so.2 (built
# here, found through LD_LIBRARY_PATH as the real ones would be) it reports
# their GPUs, UUIDs, memory and versions as a GPU host's would look. (The real
# libraries are checked by hand on a GPU machine: tests/device/gpu_check.sh.)
source "$(dirname "$0")/lib.sh"
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "skip: no C compiler"; exit 77; }

# Without the libraries (an empty library path first, so a stand-in is not found).
out=$(LD_LIBRARY_PATH=$WORK "$HPS" __probe-gpu)
for key in gpu_memory cuda_driver cuda_runtime cublas nccl; do
    line=$(echo "$out" | grep "^$key=") || fail "the probe says nothing of $key: $out"
    v=${line#*=}
    [ -n "$v" ] || fail "$key is empty"
    case $v in none\ \(*|unknown\ \(*|[0-9]*) ;; *) fail "$key: '$v' is neither a version nor a reason" ;; esac
done
[ -e /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1 ] || [ -d /proc/driver/nvidia ] ||
    echo "$out" | grep -q '^gpu_memory=none (libnvidia-ml.so.1 not found)$' || fail "no NVML: $out"
ok "without NVIDIA's libraries every fact says why it is missing"

mkdir fake
cat > fake/nvml.c <<'C'
#include <string.h>
typedef struct { unsigned long long total, free, used; } mem;
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned *n) { *n = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **h) { *h = (void *)(long)(i + 1); return 0; }
int nvmlDeviceGetName(void *h, char *s, unsigned n) { strncpy(s, "Fake H200", n); return 0; }
int nvmlDeviceGetUUID(void *h, char *s, unsigned n) {
    strncpy(s, (long)h == 1 ? "GPU-aaaa" : "GPU-bbbb", n); return 0; }
int nvmlDeviceGetMemoryInfo(void *h, mem *m) { m->total = 143771ull << 20; return 0; }
int nvmlSystemGetDriverVersion(char *s, unsigned n) { strncpy(s, "580.159.04", n); return 0; }
C
printf 'int cuDriverGetVersion(int *v) { *v = 13000; return 0; }\n' > fake/cuda.c
printf 'int ncclGetVersion(int *v) { *v = 22803; return 0; }\n' > fake/nccl.c
"$CC" -shared -fPIC -o fake/libnvidia-ml.so.1 fake/nvml.c
"$CC" -shared -fPIC -o fake/libcuda.so.1 fake/cuda.c
"$CC" -shared -fPIC -o fake/libnccl.so.2 fake/nccl.c
out=$(LD_LIBRARY_PATH=$WORK/fake "$HPS" __probe-gpu)
want() { echo "$out" | grep -qxF "$1" || fail "probe output lacks '$1': $out"; }
want "nvml_driver=580.159.04"
want "nvml_gpus=Fake H200, Fake H200"
want "nvml_uuids=GPU-aaaa, GPU-bbbb"
want "gpu_memory=143771 MiB, 143771 MiB"
want "cuda_driver=13.0 (libcuda.so.1)"
want "nccl=2.28.3 (libnccl.so.2)"
ok "with stand-in NVML, libcuda and libnccl: GPUs, UUIDs, memory, driver and versions read"
