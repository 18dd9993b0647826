#!/bin/bash
# launch: group commands and per-rank GPUs under mpirun -np 5, ranks_per_trial 2,
# with a shell probe for a command:
# (a) every rank of a group runs the command with torchrun's variables: RANK 0/1,
#     WORLD_SIZE 2, LOCAL_RANK, LOCAL_WORLD_SIZE 2, MASTER_ADDR the leader's host,
#     one MASTER_PORT per attempt shared by both ranks; each rank its own
#     CUDA_VISIBLE_DEVICES from the job's list (3,5,7,9: no GPU is touched);
#     per-rank logs; only rank 0's @hpsweep lines count;
# (b) a timeout stops both ranks' commands (cause "timeout", no process left), and
#     so do a prune (median pruner) and a preemption (SIGUSR1: exit 75, the running
#     trials interrupted);
# (c) a node with fewer GPUs than ranks: exit 2 on every rank with the way out,
#     nothing written; with share_gpus: true a warning and both ranks share.
source "$(dirname "$0")/lib.sh"
need_mpirun
cat > probe.sh <<'SH'
#!/bin/sh
echo "rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK/$LOCAL_WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT cvd=${CUDA_VISIBLE_DEVICES-unset}"
echo $$ > "$HPSWEEP_TRIAL_DIR/pid.$RANK"
if [ "$MODE" = hang ]; then sleep 300; fi
if [ "$MODE" = steps ]; then
    i=0
    while [ $i -lt 60 ]; do echo "@hpsweep step=$i loss=$HPSWEEP_PARAM_X"; sleep 0.05; i=$((i+1)); done
fi
echo "@hpsweep step=1 loss=$(( RANK * 100 + 1 ))"
SH
chmod +x probe.sh
write() { # NAME MODE [extra objective lines]
    local name=$1 mode=$2; shift 2
    { printf 'name: %s\nseed: 4\nobjective:\n  command: [%s/probe.sh]\n  launch: group\n' \
          "$name" "$WORK"
      printf '  env: {MODE: %s}\n' "$mode"
      for l in "$@"; do printf '  %s\n' "$l"; done
      printf 'metric: {name: loss}\nspace: {x: {type: float, low: 0, high: 1}}\n'
      printf 'ranks_per_trial: 2\nbudget: {max_trials: 4}\n'; } > "$name.yaml"
}

# (a) ---------------------------------------------------------------------------
write vars run "gpus_per_rank: 1"
CUDA_VISIBLE_DEVICES=3,5,7,9 timeout 120 mpirun --allow-run-as-root --oversubscribe -np 5 \
    "$HPS" run vars.yaml --quiet 2>err || { cat err >&2; fail "launch: group sweep failed"; }
[ "$(status_count runs/vars done)" = 4 ] || fail "not 4 trials done"
host=$(hostname)
for t in 0 1 2 3; do
    d=runs/vars/trials/$t
    l0=$(head -1 "$d/stdout.log") l1=$(head -1 "$d/rank1.stdout.log")
    case "$l0" in "rank=0 world=2 local=0/2 master="*) ;; *) fail "trial $t rank 0: $l0" ;; esac
    case "$l1" in "rank=1 world=2 local=1/2 master="*) ;; *) fail "trial $t rank 1: $l1" ;; esac
    m0=${l0#*master=} m1=${l1#*master=}
    [ "${m0%% *}" = "${m1%% *}" ] || fail "trial $t: the ranks got different masters ($m0, $m1)"
    port=${m0%% *}; port=${port##*:}
    [ "$port" -gt 0 ] 2>/dev/null || fail "trial $t: MASTER_PORT '$port'"
    cvd0=${l0##*cvd=} cvd1=${l1##*cvd=}
    case "$cvd0,$cvd1" in 3,5|7,9) ;; *) fail "trial $t: CUDA_VISIBLE_DEVICES $cvd0 and $cvd1" ;; esac
done
# Rank 1 reports loss 101, rank 0 loss 1: only rank 0's count.
"$HPS" trials runs/vars --format csv | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
    $c["objective"]!=1{bad=1} END{exit bad}' || fail "a trial's result was not rank 0's"
ok "launch: group: RANK/WORLD_SIZE/LOCAL_*/MASTER_* on both ranks, GPUs 3,5 and 7,9, rank 0's metric"

# (b) ---------------------------------------------------------------------------
write hang hang "timeout: 2s" "kill_grace: 1s"
sed -i 's/max_trials: 4/max_trials: 2/' hang.yaml
# Every trial times out: the sweep ends with exit 3 (no trial completed).
set +e
timeout 120 mpirun --allow-run-as-root --oversubscribe -q -np 5 "$HPS" run hang.yaml --quiet 2>err
rc=$?
set -e
[ "$rc" = 3 ] || { cat err >&2; fail "the timeout sweep ended with $rc, not 3 (no trial completed)"; }
for t in 0 1; do
    row=$("$HPS" trials runs/hang --format csv | awk -F, -v t=$t 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
        $c["trial_id"]==t{print $c["status"] "|" $c["cause"]}')
    [ "$row" = "failed|timeout" ] || fail "trial $t: '$row', expected failed|timeout"
    for r in 0 1; do
        pid=$(cat "runs/hang/trials/$t/pid.$r")
        ! kill -0 "$pid" 2>/dev/null || fail "trial $t: rank $r's command ($pid) outlived the timeout"
    done
done
ok "a timeout stopped both ranks' commands (cause timeout, no process left)"

# (b') a prune and a preemption stop both ranks too ------------------------------
gone() { # DIR TRIAL: neither rank's command of that trial still runs
    for r in 0 1; do
        pid=$(cat "$1/trials/$2/pid.$r")
        ! kill -0 "$pid" 2>/dev/null || fail "$1 trial $2: rank $r's command ($pid) still runs"
    done; }
write prune steps
sed -i -e 's/max_trials: 4/max_trials: 6/' -e 's/^seed: 4/seed: 12/' prune.yaml
printf 'strategy: {name: random, pruner: {name: median, n_startup_trials: 2}}\n' >> prune.yaml
timeout 200 mpirun --allow-run-as-root --oversubscribe -np 3 "$HPS" run prune.yaml --quiet \
    2>err || { cat err >&2; fail "the pruning sweep failed"; }
pruned=$("$HPS" trials runs/prune --format csv | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
    $c["status"]=="pruned"{print $c["trial_id"]}')
[ -n "$pruned" ] || { "$HPS" trials runs/prune >&2; fail "no trial was pruned"; }
for t in $pruned; do
    gone runs/prune "$t"
    n=$(grep -c '^@hpsweep' "runs/prune/trials/$t/rank1.stdout.log")
    [ "$n" -lt 60 ] || fail "trial $t: rank 1 ran its 60 steps although the trial was pruned"
done
write preempt hang
setsid mpirun --allow-run-as-root --oversubscribe -np 5 "$HPS" run preempt.yaml --quiet \
    >out 2>err &
job=$!
for _ in $(seq 600); do
    [ -f runs/preempt/trials/0/pid.1 ] && [ -f runs/preempt/trials/1/pid.1 ] && break
    sleep 0.1
done
sleep 0.5
kill -USR1 "$job"
set +e
wait "$job"
rc=$?
set -e
[ "$rc" = 75 ] || { cat err >&2; fail "SIGUSR1: mpirun exited $rc, not 75"; }
[ "$(status_count runs/preempt interrupted)" = 2 ] || fail "the running trials were not interrupted"
gone runs/preempt 0
gone runs/preempt 1
ok "a prune ($(echo $pruned | wc -w) trials) and a preemption (SIGUSR1, exit 75) stopped both ranks' commands"

# (c) ---------------------------------------------------------------------------
write short run
set +e
CUDA_VISIBLE_DEVICES=0 timeout 120 mpirun --allow-run-as-root --oversubscribe -np 3 \
    "$HPS" run short.yaml --quiet >out 2>err
rc=$?
set -e
[ "$rc" = 2 ] || { cat err >&2; fail "two ranks on one GPU: exit $rc, expected 2"; }
grep -q "two ranks would share one: set objective.share_gpus: true" err ||
    { cat err >&2; fail "no message saying how to allow sharing"; }
[ ! -e runs/short ] || fail "a refused sweep left its directory"
write shared run "share_gpus: true"
CUDA_VISIBLE_DEVICES=0 timeout 120 mpirun --allow-run-as-root --oversubscribe -np 3 \
    "$HPS" run shared.yaml --quiet 2>err || { cat err >&2; fail "share_gpus: true sweep failed"; }
grep -q "warning: rank [12]: this node has fewer GPUs than its trial ranks need" err ||
    { cat err >&2; fail "no warning about shared GPUs"; }
grep -q "cvd=0$" runs/shared/trials/0/stdout.log && grep -q "cvd=0$" runs/shared/trials/0/rank1.stdout.log ||
    fail "the ranks did not both get GPU 0"
ok "too few GPUs: exit 2 with the way out; share_gpus: true shares with a warning"
