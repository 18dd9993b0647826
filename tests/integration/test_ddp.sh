#!/bin/bash
# The PyTorch DDP example (configs/examples/ddp_sweep.yaml + ddp_torch.py) with
# gloo under mpirun -np 5, ranks_per_trial: 2, launch: group:
# (a) ASHA: every trial done; each reports world_size=2, and both ranks' parameter
#     checksums are equal after every epoch (rank 0's stdout.log against
#     rank1.stdout.log); at least one trial is promoted and resumes from the
#     checkpoint its rank 0 wrote (resumed_from=<epoch>, then later epochs);
# (b) a rank that exits 1 (--fail-rank 1, trial 0 only) fails its trial with cause
#     "rank 1: exit:1"; the group then runs the next trial to the end.
# Skipped (77) when no python3 can import torch.
source "$(dirname "$0")/lib.sh"
need_mpirun
TORCH_PY=
for py in python3 /usr/bin/python3; do
    exe=$(command -v "$py") || continue
    if "$exe" -c 'import torch, torch.distributed as d; assert d.is_gloo_available()' \
        >/dev/null 2>&1; then TORCH_PY=$exe; break; fi
done
[ -n "$TORCH_PY" ] || { echo "skip: no python3 with torch (and gloo)"; exit 77; }
mkdir pybin
printf '#!/bin/sh\nexec "%s" "$@"\n' "$TORCH_PY" > pybin/python3
chmod +x pybin/python3
export PATH="$WORK/pybin:$PATH"
EX=$SRC/configs/examples
export PYTHONDONTWRITEBYTECODE=1

# The example as written, run from its directory's files; a smaller budget.
sed -e "s#^  workdir: .*#  workdir: $EX#" -e "s#^  max_resource: 40 .*#  max_resource: 12#" \
    "$EX/ddp_sweep.yaml" > ddp.yaml
timeout 500 mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" run ddp.yaml --quiet \
    2>err || { cat err >&2; fail "the DDP sweep under mpirun -np 5 failed"; }
D=runs/ddp_sweep
n=$("$HPS" trials "$D" --format csv | awk -F, 'NR>1' | wc -l)
[ "$n" -ge 4 ] || fail "only $n trials"
[ "$(status_count "$D" done)" = "$n" ] || { "$HPS" trials "$D" >&2; fail "not every trial done"; }
promoted=0
for td in "$D"/trials/*/; do
    out=$td/stdout.log r1=$td/rank1.stdout.log
    [ -f "$out" ] && [ -f "$r1" ] || fail "$td: no per-rank logs"
    grep -q '^@hpsweep step=[0-9]* world_size=2 ' "$out" || fail "$td: no world_size=2 report"
    diff <(grep -o 'step=[0-9]* world_size=2 checksum=.*' "$out") \
         <(grep -o 'step=[0-9]* world_size=2 checksum=.*' "$r1") >/dev/null ||
        { paste "$out" "$r1" >&2; fail "$td: the ranks' parameters differ"; }
    if grep -q '^@hpsweep step=[0-9]* resumed_from=' "$out"; then
        from=$(sed -n 's/^@hpsweep step=[0-9]* resumed_from=\([0-9]*\).*/\1/p' "$out" | tail -1)
        grep -q "^@hpsweep step=$((from + 1)) val_loss=" "$out" ||
            fail "$td: resumed from epoch $from but did not train on from there"
        promoted=$((promoted + 1))
    fi
done
[ "$promoted" -ge 1 ] || fail "ASHA promoted no trial (or none resumed from its checkpoint)"
ok "$n DDP trials on groups of 2 (gloo): world_size 2, equal checksums on both ranks, $promoted promoted from a checkpoint"

cat > fail.yaml <<YAML
name: ddp_fail
seed: 5
objective:
  command: [python3, ddp_torch.py, --epochs, "2", --fail-rank, "1", --fail-trial, "0"]
  launch: group
  workdir: $EX
  env: {OMP_NUM_THREADS: "1"}
metric: {name: val_loss, goal: minimize}
space:
  lr: {type: float, low: 1.0e-3, high: 0.1, log: true}
ranks_per_trial: 2
budget: {max_trials: 2}
YAML
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 3 "$HPS" run fail.yaml --quiet \
    2>err || { cat err >&2; fail "the sweep with a failing rank did not end with 0"; }
F=runs/ddp_fail
row0=$("$HPS" trials "$F" --format csv | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
    $c["trial_id"]==0{print $c["status"] "|" $c["cause"]}')
[ "$row0" = "failed|rank 1: exit:1" ] || fail "trial 0: '$row0', expected 'failed|rank 1: exit:1'"
grep -q "fails on purpose" "$F/trials/0/rank1.stderr.log" || fail "rank 1's stderr was not kept"
[ "$(status_count "$F" done)" = 1 ] || fail "the group did not run the next trial to the end"
ok "rank 1 exiting 1 failed trial 0 with 'rank 1: exit:1'; the group then finished trial 1"
