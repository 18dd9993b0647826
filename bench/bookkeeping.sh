#!/bin/bash
# bench/bookkeeping.sh — the bookkeeping-overhead test in the form Ray Tune publishes
# it (10,000 one-second trials on 16 CPUs: 715 s against a 625 s ideal, 14.4%
# overhead), scaled to this machine: TRIALS trials of the built-in `sleep`
# objective (0.2 s, in-process: no fork per trial) on WORKERS oversubscribed worker
# ranks (mpirun -np WORKERS+1; waiting ranks sleep, they do not spin).
#
#   bench/bookkeeping.sh [BUILD_DIR] [TRIALS] [WORKERS]   (default: build, 2000, 16)
#
# The sweep is written under $TMPDIR (default /tmp); TMPDIR=/dev/shm puts its
# journal on tmpfs, where fsync costs nothing, to see what the disk adds.
#
# The ideal makespan is TRIALS x 0.2 s / WORKERS (25 s by default). Figures:
#   total          the coordinator loop's wall time (the sweep's own summary line:
#                  start-up, the first dispatch, ..., the final store write)
#   after start-up from the first trial's start to the last trial's end (the
#                  trials' own start and end times in sweep.h5)
# and where the excess after start-up goes, exactly: WORKERS x makespan = the sum
# of trial durations + the gaps between one worker's trial end and its next trial
# start (dispatch latency: result message, commit, suggest, send, the worker's
# probe) + each worker's wait for its first trial + each worker's idle time after
# its last trial (the last round's tail). Gaps over 5 ms are counted apart: the
# coordinator was busy elsewhere (the periodic sweep.h5 rewrite, the journal's
# fsync, or the machine's scheduler on oversubscribed cores).
# Ray Tune's 14.4% is a published figure (not measured here), printed as such.
set -euo pipefail
BUILD=${1:-build}
TRIALS=${2:-2000}
WORKERS=${3:-16}
SECONDS_PER_TRIAL=0.2
HPS=$(realpath "$BUILD/hpsweep")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hps-bench-bookkeeping.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

cat > sleep.yaml <<YAML
name: bookkeeping
seed: 1
objective: {function: sleep, seconds: $SECONDS_PER_TRIAL}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: $TRIALS}
YAML

t0=$(date +%s.%N)
summary=$("${MPIRUN[@]}" -np $((WORKERS + 1)) "$HPS" run sleep.yaml --quiet 2>&1 | grep 'trials ended in')
t1=$(date +%s.%N)
loop_s=$(sed -n 's/.* trials ended in \([0-9.]*\) s.*/\1/p' <<<"$summary")
cpu=$(sed -n 's/.*coordinator CPU \([0-9.]*\) s.*/\1/p' <<<"$summary")
"$HPS" trials runs/bookkeeping --format csv > trials.csv

# One line of figures from the trials: after-start-up makespan and its parts.
read -r n span sum_dur sum_gap n_gap med_gap p99_gap max_gap sum_head sum_tail n_long sum_long \
    tail_round < <(
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
             $col["status"] == "done" {
                 print $col["worker"], $col["start"], $col["end"] }' trials.csv |
        sort -k1,1n -k2,2g |
        awk -v W="$WORKERS" '
        { w = $1; s = $2; e = $3; n++; dur += e - s
          if (n == 1 || s < first) first = s
          if (n == 1 || e > last) last = e
          if (s > last_start) last_start = s
          if (w in prev_end) { g = s - prev_end[w]; gaps[++ng] = g; sg += g
                               if (g > 0.005) { nl++; sl += g } }
          else first_start[w] = s
          prev_end[w] = e }
        END {
          for (w in first_start) head += first_start[w] - first
          nw = 0; for (w in prev_end) { tail += last - prev_end[w]; nw++ }
          # a worker that never ran a trial idled the whole span
          head += (W - nw) * (last - first)
          # sort the gaps (insertion sort is fine for a few thousand)
          for (i = 2; i <= ng; i++) { v = gaps[i]; j = i - 1
              while (j > 0 && gaps[j] > v) { gaps[j + 1] = gaps[j]; j-- } gaps[j + 1] = v }
          med = ng ? gaps[int((ng + 1) / 2)] : 0
          p99 = ng ? gaps[int(0.99 * (ng - 1)) + 1] : 0
          mx = ng ? gaps[ng] : 0
          printf "%d %.6f %.6f %.6f %d %.6f %.6f %.6f %.6f %.6f %d %.6f %.6f\n", n, last - first,
                 dur, sg, ng, med, p99, mx, head, tail, nl + 0, sl + 0, last - last_start }')

ideal=$(awk -v n="$TRIALS" -v s="$SECONDS_PER_TRIAL" -v w="$WORKERS" 'BEGIN{print n * s / w}')
pct() { awk -v a="$1" -v i="$ideal" 'BEGIN{printf "%.2f", 100 * (a - i) / i}'; }
share() { awk -v a="$1" -v w="$WORKERS" -v i="$ideal" 'BEGIN{printf "%.2f", 100 * a / w / i}'; }
over_total=$(pct "$loop_s")
over_after=$(pct "$span")
launch=$(awk -v a="$t0" -v b="$t1" -v l="$loop_s" 'BEGIN{printf "%.2f", b - a - l}')
excess_dur=$(awk -v d="$sum_dur" -v n="$n" -v s="$SECONDS_PER_TRIAL" 'BEGIN{printf "%.6f", d - n * s}')
load=$(cut -d' ' -f1-3 /proc/loadavg)

printf '\nhpsweep bookkeeping overhead: %s sleep trials of %s s (built-in sleep objective, in-process), %s worker ranks (mpirun -np %s, oversubscribed on %s cores; load average now %s)\n' \
    "$TRIALS" "$SECONDS_PER_TRIAL" "$WORKERS" $((WORKERS + 1)) "$(nproc)" "$load"
printf '  trials done                        %8d\n' "$n"
printf '  ideal makespan                     %8.2f s   (%s x %s s / %s)\n' "$ideal" "$TRIALS" "$SECONDS_PER_TRIAL" "$WORKERS"
printf '  total (coordinator loop)           %8.2f s   overhead %s%%   (+ %s s mpirun launch and shutdown outside it)\n' "$loop_s" "$over_total" "$launch"
printf '  after start-up (first trial start  %8.2f s   overhead %s%%   (target <= 1%%)\n' "$span" "$over_after"
printf '    to last trial end)\n'
printf '  where the excess after start-up goes (worker-seconds, and %% of the ideal):\n'
printf '    trials longer than %s s (sleep overshoot) %8.3f s  %5s%%\n' "$SECONDS_PER_TRIAL" "$excess_dur" "$(share "$excess_dur")"
printf '    dispatch gaps (%d; median %.2f ms, p99 %.2f ms, max %.1f ms) %8.3f s  %5s%%\n' \
    "$n_gap" "$(awk -v g="$med_gap" 'BEGIN{print g * 1e3}')" "$(awk -v g="$p99_gap" 'BEGIN{print g * 1e3}')" \
    "$(awk -v g="$max_gap" 'BEGIN{print g * 1e3}')" "$sum_gap" "$(share "$sum_gap")"
printf '      of which gaps > 5 ms (%d: store rewrite, fsync or scheduler) %8.3f s  %5s%%\n' "$n_long" "$sum_long" "$(share "$sum_long")"
printf '    waiting for the first trial (start-up stagger) %8.3f s  %5s%%\n' "$sum_head" "$(share "$sum_head")"
printf "    the last round's tail (idle after a worker's last trial; last start to end %.3f s) %8.3f s  %5s%%\n" \
    "$tail_round" "$sum_tail" "$(share "$sum_tail")"
printf '  coordinator CPU                    %8s s\n' "$cpu"
printf '  Ray Tune: 14.4%% (10,000 x 1 s trials on 16 CPUs, 715 s vs 625 s): published, not measured here\n'

RAY=14.4
ratio=$(awk -v r="$RAY" -v o="$over_after" 'BEGIN{ if (o > 0) printf "%.1fx less than the published figure", r / o; else print "-" }')
met=$(awk -v o="$over_after" 'BEGIN{print (o <= 1.0 ? "met" : "not met")}')
echo "RESULT|bookkeeping overhead after start-up ($TRIALS x ${SECONDS_PER_TRIAL} s, $WORKERS ranks)|${over_after}%|Ray Tune 14.4% (published, not measured here)|$ratio|<= 1%|$met"
echo "RESULT|bookkeeping overhead total ($TRIALS x ${SECONDS_PER_TRIAL} s, $WORKERS ranks)|${over_total}%|ideal ${ideal} s (floor)|-|-|-"
echo "RESULT|bookkeeping dispatch gap median / p99|$(awk -v a="$med_gap" -v b="$p99_gap" 'BEGIN{printf "%.2f / %.2f ms", a * 1e3, b * 1e3}')|-|-|-|-"
