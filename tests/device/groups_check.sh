#!/bin/bash
# Trial groups on a machine with NVIDIA GPUs (the lent device) -- not part of CI,
# and not run where there is no GPU. One script, one call, a few minutes:
#
#   ../shared/tools/device-bundle .device build/hpsweep build/hpsweep-gpu.so \
#       build/bench/bench_groups build/tests/device/nccl_bw build/examples/liblsq.so  # here, once
# (the GPU module, hpsweep-gpu.so, lands in .device/bin beside the programs, where they look)
#   source .device/activate && bash tests/device/groups_check.sh OUTDIR      # there
#
# 1. the GPUs (nvidia-smi) and their peak figures for comparison;
# 2. NCCL communicators per trial group through hpsweep's own bootstrap
#    (nccl_bw: one per group, creation time, abort + remake) and the allreduce
#    bandwidth of a 256 MB buffer: groups of every GPU when there are several
#    (bus bandwidth, beside NVLink's), else one rank (a device copy, beside HBM);
#    the bootstrap cost from bench_groups;
# 3. the plugin example (liblsq.so, built with CUDA: ncclAllReduce when every
#    rank of the group has a GPU) as a sweep: groups of 2 when the machine has 2
#    GPUs or more, else groups of 1; every trial must record nccl=1;
# 4. the DDP example with backend nccl (ddp_torch.py, PyTorch from the machine)
#    on groups of 2 GPUs, or 1 on a one-GPU machine (NCCL refuses two ranks of
#    one communicator on one GPU).
# Each sweep directory is copied to OUTDIR.
set -u
out=${1:?usage: groups_check.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
repo=$(pwd)
bin=$(dirname "$(command -v hpsweep)")
lib=${LSQ_PLUGIN:-$bin/liblsq.so}
# nccl_bw and bench_groups make communicators through the GPU module hpsweep uses.
[ -n "${HPS_GPU_MODULE:-}" ] || export HPS_GPU_MODULE=$bin/hpsweep-gpu.so
echo "== GPUs"
nvidia-smi -L 2>&1 | head -8
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv 2>&1 | head -4
ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
[ "$ngpu" -ge 1 ] || { echo "no GPU: nothing to check"; exit 77; }
echo "peak figures for comparison: H100/H200 SXM NVLink 4 = 900 GB/s per GPU (bus bandwidth"
echo "of a large allreduce reaches ~360-480 GB/s on 8 GPUs); H200 HBM3e = 4.8 TB/s (a copy"
echo "reads and writes: at most ~2.4 TB/s of copied bytes)"

echo "== NCCL per group (nccl_bw, 256 MB)"
if [ "$ngpu" -ge 2 ]; then
  mpirun -np "$ngpu" nccl_bw "$ngpu" 256 2>&1 | tail -4
  [ "$ngpu" -ge 4 ] && mpirun -np "$ngpu" nccl_bw 2 256 2>&1 | tail -4
else
  mpirun -np 1 nccl_bw 1 256 2>&1 | tail -4
fi
echo "rc=$?"
echo "== bootstrap (bench_groups)"
g=$([ "$ngpu" -ge 2 ] && echo 2 || echo 1)
mpirun -np "$g" bench_groups 2000 "$g" 2>&1 | tail -6

# Every worker rank its own GPU: groups of 2 on ngpu/2 groups, or one rank alone.
if [ "$ngpu" -ge 2 ]; then rpt=2; np=$(( ngpu / 2 * 2 + 1 )); else rpt=1; np=2; fi
work=$(mktemp -d)
cp "$repo/configs/examples/ddp_torch.py" "$repo/configs/examples/train_torch.py" \
   "$repo/configs/examples/hpsweep_report.py" "$work/"
sed -e "s#plugin: build/liblsq.so.*#plugin: $lib#" -e "s#^ranks_per_trial: .*#ranks_per_trial: $rpt#" \
    -e "s#    data_seed: 1 .*#    data_seed: 1\n    record: true#" \
    -e "s#max_trials: 12#max_trials: 8#" "$repo/configs/examples/plugin/lsq_sweep.yaml" \
    > "$work/lsq.yaml"
sed -e "s#^ranks_per_trial: .*#ranks_per_trial: $rpt#" -e "s#max_resource: 40 .*#max_resource: 15#" \
    "$repo/configs/examples/ddp_sweep.yaml" > "$work/ddp.yaml"
cd "$work" || exit 1
for c in lsq ddp; do
  echo "== sweep $c: mpirun -np $np, ranks_per_trial $rpt"
  SECONDS=0
  mpirun -np "$np" hpsweep run "$c.yaml" 2>&1 | tail -12
  echo "rc=${PIPESTATUS[0]} wall=${SECONDS} s"
  d=runs/$( [ "$c" = lsq ] && echo lsq_sweep || echo ddp_sweep )
  hpsweep trials "$d" 2>&1 | head -12
  cp -r "$d" "$out/"
done
echo "== the plugin's trials used NCCL (seen.rank*: nccl 1)"
grep -h "nccl" runs/lsq_sweep/trials/*/seen.rank* | sort | uniq -c
echo "== the DDP trials ran on nccl with their own GPUs"
grep -h "backend" runs/ddp_sweep/trials/*/*stderr.log 2>/dev/null | sort | uniq -c
grep -h "checksum" runs/ddp_sweep/trials/*/stdout.log | tail -3
