#!/bin/bash
# I/O fault injection: every I/O call hpsweep makes on its sweep directory, made
# to fail in turn. usage: run_faults.sh HPSWEEP LIBHPSFI [--quick]
#
# For each scenario, a counting run finds N, the number of write/pwrite/fsync/
# fdatasync/ftruncate/rename/open calls on files under the sweep directory. Then
# for every k in 1..N and every mode (EIO, ENOSPC, SHORT: a write that writes half;
# other calls fail with EIO), call k misbehaves and the checks are:
#   - the process exits 0 (it coped: a short write is finished, a probe open may
#     fail) or 1 with the real cause in its message ("No space left on device",
#     "Input/output error"), never by a signal, never with a usage or damage code;
#   - nothing it left is damaged: status reads the journal (exit 0, or 2 when no
#     record was ever committed), best reads sweep.h5 if there is one;
#   - recovery (resume; or run again when no record was committed) ends with the
#     same trials as a run without faults, none running, and h5dump reads the file.
# Scenarios: a fresh serial sweep; the resume of a sweep killed mid-way (its journal
# with a torn tail to cut, its sweep.h5 to rebuild); with --quick only these two.
# Without --quick also a run under mpirun -np 3 with faults in the coordinator.
set -uo pipefail
HPS=$(readlink -f "$1")
SHIM=$(readlink -f "$2")
QUICK=0
for a in "${@:3}"; do [ "$a" = --quick ] && QUICK=1; done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d /tmp/hps-fi.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > s.yaml <<'YAML'
name: s
seed: 5
objective: {function: sleep, seconds: 0}
space:
  x1: {type: float, low: -5, high: 10}
  n: {type: int, low: 1, high: 64, log: true}
  act: {type: categorical, choices: [relu, tanh]}
budget: {max_trials: 6}
YAML
keys() { "$HPS" trials "$1" --format csv | cut -d, -f1-3,10-11,14-; }
"$HPS" run s.yaml --output ref --quiet 2>/dev/null || fail "reference run"
keys ref/s > ref.keys

# A sweep killed after some trials: its journal gets a torn tail, sweep.h5 is old.
# Its --max-trials 3 is recorded: a resume takes s.yaml's budget back with --config.
make_killed() {
    rm -rf "$1" && mkdir -p "$1"
    "$HPS" run s.yaml --output "$1" --max-trials 3 --quiet 2>/dev/null
    printf 'torn tail' >> "$1/s/journal"
}

# inject SCENARIO K MODE: one faulty run; then the checks above.
cases=0
inject() {
    local scen=$1 k=$2 mode=$3 np=${4:-0}
    rm -rf runs rep
    local cmd=("$HPS" run s.yaml --output runs --quiet)
    if [ "$scen" = resume ]; then make_killed runs; cmd=("$HPS" resume runs/s --config s.yaml --quiet); fi
    if [ "$np" -gt 0 ]; then
        mpirun --allow-run-as-root --oversubscribe -np "$np" -x HPS_FI_DIR=runs/s \
            -x HPS_FI_AT="$k" -x HPS_FI_MODE="$mode" -x HPS_FI_REPORT="$WORK/rep" \
            -x LD_PRELOAD="$SHIM" "${cmd[@]}" > out 2> err
    else
        HPS_FI_DIR=runs/s HPS_FI_AT=$k HPS_FI_MODE=$mode HPS_FI_REPORT="$WORK/rep" \
            LD_PRELOAD="$SHIM" "${cmd[@]}" > out 2> err
    fi
    local rc=$?
    local what; what=$(sort -n rep 2>/dev/null | tail -1 | cut -d' ' -f2-)
    local where="$scen k=$k $mode [$what]"
    case $rc in
        0) ;;
        1) if [ "$mode" = ENOSPC ]; then want="[Nn]o space left on device"; else want="[Ii]nput/output error"; fi
           grep -q "$want" err || { cat err; fail "$where: exit 1 without the cause '$want'"; } ;;
        *) cat err; fail "$where: exit $rc" ;;
    esac
    # What it left must read: the journal (or no record at all), and sweep.h5.
    "$HPS" status runs/s > /dev/null 2> st.err; local st=$?
    [ "$st" = 0 ] || [ "$st" = 2 ] || { cat st.err; fail "$where: status exits $st after the fault"; }
    if [ -f runs/s/sweep.h5 ]; then
        "$HPS" best runs/s > /dev/null 2> best.err; local b=$?
        [ "$b" = 0 ] || [ "$b" = 3 ] || { cat best.err; fail "$where: sweep.h5 unreadable ($b)"; }
    fi
    # Recovery.
    if [ "$st" = 2 ]; then
        "$HPS" run s.yaml --output runs --quiet 2> rec.err || { cat rec.err; fail "$where: run again failed"; }
    else
        "$HPS" resume runs/s --config s.yaml --quiet 2> rec.err || { cat rec.err; fail "$where: resume failed"; }
    fi
    keys runs/s > got.keys
    cmp -s ref.keys got.keys || { diff ref.keys got.keys | head -5; fail "$where: trials differ after recovery"; }
    if command -v h5dump > /dev/null; then
        h5dump runs/s/sweep.h5 > /dev/null 2>&1 || fail "$where: h5dump cannot read sweep.h5"
    fi
    cases=$((cases + 1))
}

# count SCENARIO [NP]: the number of counted I/O calls of a fault-free run.
count() {
    rm -rf runs rep
    if [ "$1" = resume ]; then
        make_killed runs
        HPS_FI_DIR=runs/s HPS_FI_REPORT="$WORK/rep" LD_PRELOAD="$SHIM" "$HPS" resume runs/s --config s.yaml --quiet 2>/dev/null
    elif [ "${2:-0}" -gt 0 ]; then
        mpirun --allow-run-as-root --oversubscribe -np "$2" -x HPS_FI_DIR=runs/s \
            -x HPS_FI_REPORT="$WORK/rep" -x LD_PRELOAD="$SHIM" "$HPS" run s.yaml --output runs --quiet 2>/dev/null
    else
        HPS_FI_DIR=runs/s HPS_FI_REPORT="$WORK/rep" LD_PRELOAD="$SHIM" "$HPS" run s.yaml --output runs --quiet 2>/dev/null
    fi
    sort -n rep | tail -1 | cut -d' ' -f1
}

for scen in run resume; do
    n=$(count "$scen")
    [ "$n" -gt 5 ] || fail "$scen: only $n I/O calls counted: is the shim loaded?"
    for mode in EIO ENOSPC SHORT; do
        for k in $(seq 1 "$n"); do inject "$scen" "$k" "$mode"; done
    done
    echo "ok: $scen: $n I/O calls x 3 modes: each ended cleanly and recovered"
done
if [ "$QUICK" = 0 ] && command -v mpirun > /dev/null; then
    n=$(count run 3)
    for mode in EIO ENOSPC; do
        for k in $(seq 1 "$n"); do inject run "$k" "$mode" 3; done
    done
    echo "ok: mpirun -np 3: $n I/O calls x 2 modes: each ended cleanly and recovered"
fi
echo "ok: $cases fault-injection cases"
