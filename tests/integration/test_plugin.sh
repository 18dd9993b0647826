#!/bin/bash
# The C plugin example (configs/examples/plugin: data-parallel least squares)
# under mpirun -np 5 with ranks_per_trial: 2, and the plugin's failure paths:
# (a) every trial done; every rank of a group saw the same parameters, seed and
#     budget, a group of 2 (also through its MPI communicator); a loss per
#     epoch reached /metrics;
# (b) the model each trial trained equals a 1-rank run's (mpirun -np 2) and a
#     serial run's with the same global batch, within 1e-12 relative;
# (c) a plugin that fails on rank 1 only fails that trial ("rank 1: ..."), the
#     sweep goes on and ends with exit 0;
# (d) a missing file, a library without the ops table, another API version and
#     an init() that fails on one rank: exit 2 on every rank, a message naming the
#     problem, no hang, no sweep directory left behind;
# (e) a plugin that segfaults takes the job down; resume re-runs the trial with
#     its seed (the same model as (a)); one that crashes every time is failed
#     with cause "crash: job died in N attempts" after retries+1 crashes.
source "$(dirname "$0")/lib.sh"
need_mpirun
BUILD=$(dirname "$HPS")
LIB=$BUILD/examples/liblsq.so
[ -f "$LIB" ] || fail "the example plugin was not built ($LIB)"

# The example sweep as written, with the plugin path of this build, n smaller.
sweep() { # NAME RPT [extra option lines]
    local name=$1 rpt=$2; shift 2
    sed -e "s#^name: .*#name: $name#" -e "s#plugin: build/liblsq.so.*#plugin: $LIB#" \
        -e "s#^ranks_per_trial: .*#ranks_per_trial: $rpt#" -e "s#n: 2048 .*#n: 1024#" \
        -e "s#max_trials: 12#max_trials: 8#" \
        "$SRC/configs/examples/plugin/lsq_sweep.yaml" > "$name.yaml"
    for line in "$@"; do
        sed -i "s#^    data_seed: 1.*#    data_seed: 1\n    $line#" "$name.yaml"
    done
}
csv_field() { # DIR TRIAL FIELD
    "$HPS" trials "$1" --format csv | awk -F, -v t="$2" -v f="$3" \
        'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next} $c["trial_id"]==t{print $c[f]}'; }
models_equal() { # FILE FILE
    paste "$1" "$2" | awk 'NR==1{ if ($1 != $3 || $2 != $4) exit 1; next }
        { d=$1-$2; if (d<0) d=-d; m=($2<0?-$2:$2); if (d > 1e-12*(m>1?m:1)) exit 1 }'; }

# (a) -----------------------------------------------------------------------------
sweep lsq2 2 "record: true"
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" run lsq2.yaml --quiet \
    2>err || { cat err >&2; fail "the plugin sweep under mpirun -np 5 failed"; }
D=runs/lsq2
[ "$(status_count "$D" done)" = 8 ] || { "$HPS" trials "$D" >&2; fail "not 8 trials done"; }
for t in $(seq 0 7); do
    s0=$D/trials/$t/seen.rank0 s1=$D/trials/$t/seen.rank1
    [ -f "$s0" ] && [ -f "$s1" ] || fail "trial $t: a rank did not record what it saw"
    cmp -s "$s0" "$s1" || { cat "$s0" "$s1" >&2; fail "trial $t: ranks saw different trials"; }
    grep -q "seed $(csv_field "$D" "$t" seed) " "$s0" || fail "trial $t: not the recorded seed"
    grep -q " group 2 mpi 2 nccl 0$" "$s0" || { cat "$s0" >&2; fail "trial $t: not a group of 2"; }
done
rows=$(h5dump -H -d /metrics "$D/sweep.h5" | sed -n 's/.*DATASPACE  SIMPLE { ( \([0-9]*\) ).*/\1/p')
[ "$rows" = 48 ] || fail "/metrics holds $rows rows, expected 8 trials x 6 epochs"
ok "8 trials on 2 groups of 2: both ranks saw the same parameters and seed, 48 loss reports"

# (b) -----------------------------------------------------------------------------
sweep lsq1 1
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 2 "$HPS" run lsq1.yaml --quiet \
    2>err || { cat err >&2; fail "the 1-rank plugin sweep failed"; }
sweep lsqs 1
timeout 300 "$HPS" run lsqs.yaml --quiet 2>err || { cat err >&2; fail "the serial plugin sweep failed"; }
for t in $(seq 0 7); do
    for other in lsq1 lsqs; do
        models_equal "$D/trials/$t/model.txt" "runs/$other/trials/$t/model.txt" ||
            { paste "$D/trials/$t/model.txt" "runs/$other/trials/$t/model.txt" >&2
              fail "trial $t: the 2-rank model differs from $other's"; }
    done
done
ok "each trial's model on 2 ranks equals the 1-rank and serial ones (1e-12 relative)"

# (c) -----------------------------------------------------------------------------
sweep lsqf 2 "fail_rank: 1" "fail_trial: 2"
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" run lsqf.yaml --quiet \
    2>err || { cat err >&2; fail "a sweep with a failing trial did not end with 0"; }
[ "$(csv_field runs/lsqf 2 status)" = failed ] || fail "trial 2 did not fail"
[ "$(csv_field runs/lsqf 2 cause)" = "rank 1: injected failure on rank 1" ] ||
    fail "trial 2's cause is '$(csv_field runs/lsqf 2 cause)'"
[ "$(status_count runs/lsqf done)" = 7 ] || fail "the other trials did not all finish"
ok "a failure on rank 1 fails its trial with cause 'rank 1: injected failure on rank 1'"

# (d) -----------------------------------------------------------------------------
refused() { # NAME PLUGIN WANT [option line]
    local name=$1 plugin=$2 want=$3
    sweep "$name" 2 ${4:+"$4"}
    sed -i "s#plugin: .*#plugin: $plugin#" "$name.yaml"
    set +e
    timeout 120 mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" run "$name.yaml" \
        >out 2>err
    local rc=$?
    set -e
    [ "$rc" != 124 ] || fail "$name: the job hung"
    [ "$rc" = 2 ] || { cat err >&2; fail "$name: exit $rc, expected 2"; }
    grep -q "$want" err || { cat err >&2; fail "$name: no message '$want'"; }
    [ ! -e "runs/$name" ] || { ls -R "runs/$name" >&2; fail "$name: left a sweep directory"; }
}
refused nofile "$WORK/missing.so" "plugin $WORK/missing.so: No such file or directory"
refused nosym "$BUILD/tests/plugins/libnosym.so" "exports no 'hpsweep_objective'"
refused badversion "$BUILD/tests/plugins/libbadversion.so" \
    "has API version 99, this hpsweep speaks version 1"
refused initfail "$LIB" "init failed: lsq: init_fail_rank is 1 (this rank)" "init_fail_rank: 1"
n=$(grep -c "init_fail_rank is 1" err)
[ "$n" = 2 ] || fail "initfail: $n ranks said why, expected 2 (rank 1 of each group)"
grep -q "2 ranks could not start the objective" err || fail "initfail: no summary on rank 0"
ok "missing file, no table, API version 99, init() failing on rank 1: exit 2, no directory"

# (e) -----------------------------------------------------------------------------
crash_run() { # ARGS...: the job must die (a segfault), not hang
    set +e
    timeout 120 mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" "$@" >out 2>err
    local rc=$?
    set -e
    [ "$rc" != 124 ] || fail "a crashing job hung"
    [ "$rc" != 0 ] || { cat err >&2; fail "the job did not die with its plugin"; }
}
sweep lsqc 2 "crash_rank: 1" "crash_trial: 1" "crash_attempts: 1"
crash_run run lsqc.yaml --quiet
[ "$(cat runs/lsqc/trials/1/attempt)" = 1 ] || fail "no attempt record for the crashed trial"
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" resume runs/lsqc --quiet \
    2>err || { cat err >&2; fail "resume after a crash failed"; }
[ "$(status_count runs/lsqc done)" = 8 ] || { "$HPS" trials runs/lsqc >&2; fail "not all done"; }
[ "$(csv_field runs/lsqc 1 attempts)" = 2 ] || fail "trial 1 ran $(csv_field runs/lsqc 1 attempts) attempts, expected 2"
[ ! -e runs/lsqc/trials/1/attempt ] || fail "the attempt record outlived the trial"
models_equal "$D/trials/1/model.txt" runs/lsqc/trials/1/model.txt ||
    fail "the re-run trial trained another model than the uninterrupted one"
ok "a segfault on rank 1 took the job down; resume re-ran trial 1 (attempt 2) to the same model"

sweep lsqk 2 "crash_rank: 0" "crash_trial: 3" "crash_attempts: 99"
crash_run run lsqk.yaml --quiet
crash_run resume runs/lsqk --quiet
[ "$(cat runs/lsqk/trials/3/attempt)" = 2 ] || fail "the second crash was not counted"
timeout 300 mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" resume runs/lsqk --quiet \
    2>err || { cat err >&2; fail "the third run did not finish the sweep"; }
[ "$(csv_field runs/lsqk 3 status)" = failed ] || fail "the crashing trial was not failed"
[ "$(csv_field runs/lsqk 3 cause)" = "crash: job died in 2 attempts" ] ||
    fail "cause '$(csv_field runs/lsqk 3 cause)'"
[ "$(status_count runs/lsqk done)" = 7 ] || fail "the other trials did not all finish"
ok "a plugin that always crashes: failed after retries (1) + 1 crashes, the sweep finished"
