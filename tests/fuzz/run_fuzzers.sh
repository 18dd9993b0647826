#!/bin/bash
# Run the libFuzzer harnesses. usage: run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]
#
# BUILD_DIR is a build configured with CC=clang -DHPS_FUZZ=ON (CI uses its ASan
# build, -DHPS_SANITIZE=ON as well). Each harness (default: all five) runs for
# SECONDS under nice, seeded from tests/fuzz/corpus/<harness>/ (and, for the
# config loader, every config under configs/ and tests/bad_configs/;
# results_resealed shares the results seeds); new inputs go to a scratch
# directory, not the repository. CI runs 15 s each; for a long run:
#   tests/fuzz/run_fuzzers.sh build-fuzz 3600
# A crash, leak, timeout or out-of-memory stops that harness and fails the run;
# the input is saved as BUILD_DIR/fuzz-artifacts/<harness>/crash-... : reproduce it
# with BUILD_DIR/tests/fuzz/fuzz_<harness> FILE, fix it, and commit the file under
# tests/fuzz/regressions/<harness>/ so that test_fuzz_corpus replays it forever.
set -uo pipefail
BUILD=$(readlink -f "$1")
SECS=$2
shift 2
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(config journal report_line results results_resealed)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
status=0
for h in "${HARNESSES[@]}"; do
    bin=$BUILD/tests/fuzz/fuzz_$h
    [ -x "$bin" ] || { echo "no $bin: configure with CC=clang -DHPS_FUZZ=ON" >&2; exit 2; }
    scratch=$(mktemp -d /tmp/hps-fuzz-$h.XXXXXX)
    art=$BUILD/fuzz-artifacts/$h
    mkdir -p "$art"
    seeds=("$SRC/tests/fuzz/corpus/${h%_resealed}")
    [ -d "$SRC/tests/fuzz/regressions/$h" ] && seeds+=("$SRC/tests/fuzz/regressions/$h")
    dict=()
    if [ "$h" = config ]; then
        seeds+=("$SRC/configs" "$SRC/configs/examples" "$SRC/tests/bad_configs")
        dict=(-dict="$SRC/tests/fuzz/config.dict")
    fi
    # Open MPI is never started by the harnesses; LeakSanitizer stays on.
    log=$scratch/log
    nice "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/" "${dict[@]}" "$scratch" "${seeds[@]}" > "$log" 2>&1
    rc=$?
    execs=$(awk '/stat::number_of_executed_units/{print $NF}' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ "$rc" = 0 ]; then
        echo "ok: fuzz_$h: ${execs:-?} executions in ${SECS} s, $cov, no crash"
    else
        echo "FAIL: fuzz_$h (exit $rc) after ${execs:-?} executions; input in $art/" >&2
        grep -E "ERROR|SUMMARY|==[0-9]+==" "$log" | head -20 >&2
        status=1
    fi
    rm -rf "$scratch"
done
exit $status
