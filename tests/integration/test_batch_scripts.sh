#!/bin/bash
# The PBS and Slurm batch scripts (configs/pbs/sweep.pbs, configs/slurm/sweep.sbatch),
# run for real with mpirun and a real sweep, the scheduler's commands (qsub,
# scontrol, squeue) replaced by stand-ins that log their calls. Checked: a qdel
# (SIGTERM) long before a short walltime never resubmits the job; the walltime
# timer still works when the walltime is shorter than STOP_BEFORE, and the
# resubmission uses the script the job ran (a per-sweep copy), not the original;
# Slurm requeues on the time-limit warning, not on scancel, and not when the time
# limit is too short for the warning to mean the end of a long run.
source "$(dirname "$0")/lib.sh"
need_mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p stubs
for cmd in qsub qrerun scontrol; do
    printf '#!/bin/sh\necho "%s $*" >> "%s/calls.log"\necho 1234.fake\n' "$cmd" "$WORK" > stubs/$cmd
done
printf '#!/bin/sh\necho "${FAKE_LEFT:-UNLIMITED}"\n' > stubs/squeue
chmod +x stubs/*
export PATH="$WORK/stubs:$PATH"
cat > slow.yaml <<'YAML'
name: slow
seed: 5
objective: {function: sleep, seconds: 0.3}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 400}
YAML
cp "$SRC/configs/pbs/sweep.pbs" mine.pbs

# Run a batch script in the background, send it sig after delay seconds (none:
# let its own timer act), wait, and leave its exit status in $rc and output in run.log.
run_script() { # delay sig script args...
    local delay=$1 sig=$2; shift 2
    rm -f calls.log
    "$@" > run.log 2>&1 &
    local pid=$!
    if [ "$sig" != none ]; then sleep "$delay"; kill -s "$sig" "$pid"; fi
    set +e; wait "$pid"; rc=$?; set -e
}
common=(CONFIG=slow.yaml HPSWEEP="$HPS" NP=2 MPIRUN_ARGS=--oversubscribe SWEEP_DIR=runs/slow)

# PBS, qdel 3 s into a 100 s walltime (shorter than STOP_BEFORE=300): not resubmitted.
rm -rf runs
run_script 3 TERM env "${common[@]}" WALLTIME=100 bash mine.pbs
[ "$rc" = 75 ] || { cat run.log; fail "pbs qdel: exit $rc, expected 75"; }
[ ! -s calls.log ] || { cat run.log calls.log; fail "pbs: a qdel'ed job was resubmitted"; }
if grep -q "resubmit:\|submitted" run.log; then cat run.log; fail "pbs: tried to resubmit a qdel'ed job"; fi
grep -q "not requeuing" run.log || { cat run.log; fail "pbs qdel: no word on not requeuing"; }
ok "pbs: SIGTERM 3 s into a 100 s walltime is a qdel: exit 75, not resubmitted"

# PBS, a 10 s walltime: the timer stops the sweep 2 s before it, and the job
# resubmits the script it ran, without pinning SELF for the next job.
rm -rf runs
run_script 0 none env "${common[@]}" WALLTIME=10 bash mine.pbs
[ "$rc" = 75 ] || { cat run.log; fail "pbs timer: exit $rc, expected 75"; }
grep -q "^qsub .* mine.pbs$" calls.log || { cat run.log calls.log; fail "pbs: mine.pbs was not resubmitted"; }
if grep -q "SELF=" calls.log; then cat calls.log; fail "pbs: SELF pinned for the next job"; fi
grep -q "REQUEUE_COUNT=1" calls.log || { cat calls.log; fail "pbs: the requeue count was not passed on"; }
"$HPS" status runs/slow | grep -q '^status *interrupted' || fail "pbs timer: sweep not interrupted"
ok "pbs: a 10 s walltime still gets its timer; the job resubmits itself ($(cut -d' ' -f1 calls.log) ... mine.pbs)"

# Slurm (LAUNCHER=mpirun): the warning requeues; scancel does not; a time limit
# too short for the warning does not.
scommon=(CONFIG=slow.yaml HPSWEEP="$HPS" LAUNCHER=mpirun SLURM_NTASKS=2 SLURM_JOB_ID=42
         MPIRUN_ARGS=--oversubscribe)
for case in "1:00:00 USR1 yes" "1:00:00 TERM no" "01:30 USR1 no"; do
    read -r left sig want <<< "$case"
    rm -rf runs
    run_script 3 "$sig" env "${scommon[@]}" FAKE_LEFT="$left" bash "$SRC/configs/slurm/sweep.sbatch"
    [ "$rc" = 75 ] || { cat run.log; fail "slurm $left $sig: exit $rc, expected 75"; }
    if [ "$want" = yes ]; then
        grep -q "^scontrol requeue 42$" calls.log || { cat run.log; fail "slurm $left $sig: not requeued"; }
    else
        [ ! -s calls.log ] || { cat run.log calls.log; fail "slurm $left $sig: requeued"; }
    fi
    ok "slurm: $left left, SIG$sig: exit 75, requeued: $want"
done
