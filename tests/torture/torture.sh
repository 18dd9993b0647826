#!/bin/bash
# Torture: kill -9 a sweep again and again, resume it each time, and check that
# nothing committed is lost or duplicated.
#
#   torture.sh HPSWEEP LIBHPSFI [KILLS] [SEED] [--mpi]   (CI: 12 kills; standalone: 100+)
#
# Each round starts the sweep (run, or resume once it exists) for a few more trials
# (so that runs also end and rewrite sweep.h5) and kills it with SIGKILL at a
# random moment, one of two kinds, alternating:
#   - at the k-th I/O call on the sweep directory, k random (the fault shim's KILL
#     mode: the process dies just before that write, fsync, rename or open), aimed
#     in turn at any call, at the journal's and at the sweep.h5 rewrite's, so kills
#     land inside journal appends, group-commit fsyncs and sweep.h5 rewrites;
#   - after a random delay (0-400 ms), wherever the sweep happens to be.
# After every kill: the journal is not damaged (status exits 0, or 2 when not one
# record was committed yet), the durable done count never went down, sweep.h5 (if
# any) is intact and h5dump opens it. When a sweep completes before the kills run
# out, a new one starts (same seed). At the end of each sweep (after a resume with
# nothing left to run, which writes sweep.h5 from the journal if the kill came
# before the last rewrite): every trial done exactly once, none running, and the
# trial set equals an uninterrupted run.
# --mpi: run under mpirun -np 3 (the KILL mode then kills rank 0, and mpirun the
# rest; delay kills take the whole job's process group).
set -uo pipefail
HPS=$(readlink -f "$1")
SHIM=$(readlink -f "$2")
KILLS=${3:-100}
SEED=${4:-1}
MPI=0
for a in "${@:3}"; do [ "$a" = --mpi ] && MPI=1; done
[[ $KILLS =~ ^[0-9]+$ ]] || KILLS=100
[[ $SEED =~ ^[0-9]+$ ]] || SEED=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d /tmp/hps-torture.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
RANDOM=$SEED

cat > t.yaml <<'YAML'
name: t
seed: 11
objective: {function: sleep, seconds_param: dur}
space:
  dur: {type: float, low: 0.002, high: 0.02}
  width: {type: int, low: 1, high: 512, log: true}
  act: {type: categorical, choices: [relu, tanh, 0.5]}
strategy: {name: random, sampler: halton}
budget: {max_trials: 150}
YAML
keys() { "$HPS" trials "$1" --format csv | cut -d, -f1-3,11,14-; }
# launch [VAR=value ...] -- hpsweep arguments: start the job in a session of its
# own (so that a kill reaches every process of it), in the background.
launch() {
    local vars=()
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    if [ "$MPI" = 1 ]; then
        local x=()
        for v in "${vars[@]}"; do x+=(-x "$v"); done
        setsid mpirun --allow-run-as-root --oversubscribe -np 3 "${x[@]}" "$HPS" "$@" \
            > /dev/null 2> last.err &
    else
        setsid env "${vars[@]}" "$HPS" "$@" > /dev/null 2> last.err &
    fi
}
"$HPS" run t.yaml --output ref --quiet 2> /dev/null || fail "reference run"
keys ref/t > ref.keys
[ "$(wc -l < ref.keys)" = 151 ] || fail "reference run incomplete"

status_field() { awk -v k="$2" '/^trials/{for(i=1;i<=NF;i++) if($(i+1) ~ "^"k) {gsub(/[,:]/,"",$i); print $i; exit}}' "$1"; }

kills=0 io_kills=0 delay_kills=0 sweeps=0 prev_done=0 round=0
dir=runs/t
while [ "$kills" -lt "$KILLS" ]; do
    round=$((round + 1))
    # Small steps (a few trials per run) so that runs also end, and rewrite
    # sweep.h5 as they do, between kills.
    if [ -f $dir/journal ] && "$HPS" status $dir > st 2>/dev/null; then
        n=$(awk '/^trials/{print $2; exit}' st)
        step=$((n + RANDOM % 12 + 4)); [ "$step" -le 150 ] || step=150
        cmd=(resume $dir --max-trials $step --quiet)
    else
        cmd=(run t.yaml --output runs --max-trials $((RANDOM % 12 + 4)) --quiet)
    fi
    if [ $((round % 2)) = 1 ]; then
        # Aim in turn at any I/O call, the journal, and the sweep.h5 rewrite.
        case $((round / 2 % 3)) in
            0) match= ; k=$((RANDOM % 40 + 1)) ;;
            1) match=journal; k=$((RANDOM % 30 + 1)) ;;
            2) match=sweep.h5; k=$((RANDOM % 6 + 1)) ;;
        esac
        launch HPS_FI_DIR=$dir HPS_FI_AT=$k HPS_FI_MODE=KILL HPS_FI_MATCH="$match" \
            HPS_FI_REPORT="$WORK/kills" LD_PRELOAD="$SHIM" -- "${cmd[@]}"
        pid=$!
        { wait "$pid"; } 2> /dev/null; rc=$?  # (no "Killed" notice from bash)
        kind=io
    else
        launch -- "${cmd[@]}"
        pid=$!
        sleep "0.$(printf '%03d' $((RANDOM % 400)))"
        kill -9 -- "-$pid" 2> /dev/null
        { wait "$pid"; } 2> /dev/null; rc=$?  # (no "Killed" notice from bash)
        kind=delay
    fi
    # Every process of the job is gone (the kernel has dropped the lock).
    for _ in $(seq 100); do pgrep -s "$pid" > /dev/null || break; sleep 0.05; done
    if [ "$rc" = 0 ]; then
        : # it finished (the kill came after its last I/O, or too late): no kill this round
    elif [ "$rc" != 137 ] && { [ "$MPI" = 0 ] || ! grep -q "signal 9\|Killed\|killed" last.err; }; then
        cat last.err; fail "round $round ($kind): exit $rc, not a kill (${cmd[*]})"
    else
        kills=$((kills + 1))
        [ "$kind" = io ] && io_kills=$((io_kills + 1)) || delay_kills=$((delay_kills + 1))
    fi
    [ -f $dir/journal ] || continue
    "$HPS" status $dir > st 2> st.err; s=$?
    [ "$s" = 0 ] || [ "$s" = 2 ] || { cat st st.err; fail "round $round ($kind): status exits $s"; }
    done_now=$(status_field st done); done_now=${done_now:-0}
    [ "$done_now" -ge "$prev_done" ] || fail "round $round ($kind): done went down $prev_done -> $done_now"
    prev_done=$done_now
    if [ -f $dir/sweep.h5 ]; then
        "$HPS" best $dir > /dev/null 2> b.err; b=$?
        [ "$b" = 0 ] || [ "$b" = 3 ] || { cat b.err; fail "round $round ($kind): sweep.h5 unreadable ($b)"; }
        if command -v h5dump > /dev/null; then
            h5dump $dir/sweep.h5 > /dev/null 2>&1 || fail "round $round ($kind): h5dump cannot open sweep.h5"
        fi
    fi
    if [ "$done_now" = 150 ]; then
        # Every trial is in the journal; sweep.h5 may lag it (the kill came before
        # the final rewrite): a resume with nothing left to run writes it again.
        "$HPS" resume $dir --quiet 2> /dev/null || fail "sweep $sweeps: the closing resume failed"
        keys $dir > got.keys
        dups=$(cut -d, -f1 got.keys | sort | uniq -d | wc -l)
        [ "$dups" = 0 ] || fail "sweep $sweeps: $dups duplicated trials"
        [ "$(status_field st running)" = 0 ] || fail "sweep $sweeps: trials stuck running"
        cmp -s ref.keys got.keys || { diff ref.keys got.keys | head; fail "sweep $sweeps: trials differ"; }
        sweeps=$((sweeps + 1))
        rm -rf runs
        prev_done=0
    fi
done
# Finish the last sweep without kills (its recorded budget is the last round's
# --max-trials: give it the whole 150 back).
if [ -f $dir/journal ] && "$HPS" status $dir > /dev/null 2>&1; then
    "$HPS" resume $dir --max-trials 150 --quiet 2> /dev/null || fail "final resume"
else
    rm -rf runs
    "$HPS" run t.yaml --output runs --quiet 2> /dev/null || fail "final run"
fi
keys $dir > got.keys
cmp -s ref.keys got.keys || { diff ref.keys got.keys | head; fail "final sweep: trials differ"; }
"$HPS" status $dir > st
[ "$(status_field st running)" = 0 ] || fail "final sweep: trials stuck running"
sweeps=$((sweeps + 1))
# Where the I/O kills landed, by file and call.
if [ -f kills ]; then
    echo "I/O kills by place:"
    awk '$1 == "KILL" { f = $3; sub(/.*\//, "", f); if (f == "t") f = "the directory"; n[$2 " " f]++ }
         END { for (w in n) printf "  %3d  %s\n", n[w], w }' kills | sort -rn
fi
echo "ok: $kills kills ($io_kills at an I/O call, $delay_kills after a delay) in $round rounds over $sweeps sweeps: no committed trial lost or duplicated, nothing left running, every sweep.h5 intact, each sweep equal to the uninterrupted run"
