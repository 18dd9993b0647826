#!/bin/bash
# bench/million.sh — a million-trial sweep file: how quickly it is queried, what
# the journal and the coordinator cost per trial, each beside a peer or floor
# measured in the same run.
#
#   bench/million.sh [BUILD_DIR] [TRIALS]        (default: build, 1000000)
#
# 1. Runs a no-op random sweep of TRIALS trials (mpirun -np 2: a coordinator and
#    one worker), with the coordinator's own peak RSS (VmHWM) from about 1,300
#    trials in; and one of TRIALS/10 trials, so that the RSS growth per finished
#    trial is a slope, not start-up cost.
# 2. Times `hpsweep best`, `hpsweep status` and `hpsweep trials --format csv >
#    FILE` (median of 3 runs each, whole processes) against the peer: a Python
#    process that loads /trials with h5py + numpy and takes the argmin (the
#    /usr/bin/python3 that has h5py; "not measured" when none has), whole
#    process as the RESULT lines compare, and its time after start-up and imports
#    for the table; and the CSV export against the floor: the same bytes written
#    to disk with dd and fdatasync (the RESULT line), and cp of them in the page
#    cache (the table); and the export again on one core (taskset), to show how
#    it scales with the cores it is given.
# 3. Times a resume with nothing left to run (serial: replay + sweep.h5 rewrite)
#    and the growth of its peak RSS per trial (VmHWM, sampled as the
#    coordinator's, resuming the TRIALS/10 sweep too: a slope, not start-up cost),
#    against reading the journal once (cat > /dev/null).
# 4. Journal bytes per trial against sweep.h5 bytes per trial.
# Prints a table, then one line per figure:
#   RESULT|<figure>|<value>|<peer or floor>|<ratio>|<target>|<met|not met|->
# Timings are wall-clock on a shared machine: compare ratios, not seconds.
set -euo pipefail
BUILD=${1:-build}
TRIALS=${2:-1000000}
HPS=$(realpath "$BUILD/hpsweep")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
WORK=$(mktemp -d /tmp/hps-million.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

PY=
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import h5py, numpy' 2>/dev/null; then
        PY=$(command -v "$p")
        break
    fi
done

now() { date +%s.%N; }
# secs CMD... -> wall seconds of one run (stdout of CMD discarded unless redirected inside)
secs() {
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>>bench.err || { echo "bench/million.sh: $* failed:" >&2; tail -5 bench.err >&2; exit 1; }
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b - a}'
}
median3() { # CMD... -> median wall seconds of 3 runs
    { secs "$@"; echo; secs "$@"; echo; secs "$@"; echo; } | sort -g | sed -n 2p
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN{ print (a <= b) ? "met" : "not met" }'; }

# The coordinator's (rank 0's) own peak RSS, VmHWM, sampled every 50 ms until it
# exits: /usr/bin/time would report the largest child instead (the GPU probe that
# hpsweep runs at start-up loads driver libraries: ~230 MB). The peak is reset
# (clear_refs 5) once the journal JOURNAL has passed 64 KiB, about 1,300 trials in:
# whatever start-up took (libraries loaded, the probe) would otherwise be the
# peak of a short sweep and hide the growth with trials. rss.<rank> gets the peak
# and whether it was reset.
cat > rss-wrap.sh <<'SH'
#!/bin/bash
r=${OMPI_COMM_WORLD_RANK:-0}
journal=$1
shift
"$@" &
pid=$!
hwm=0
reset=no
while kill -0 "$pid" 2>/dev/null; do
    if [ "$reset" = no ] && [ "$r" = 0 ] && [ "$(stat -c %s "$journal" 2>/dev/null || echo 0)" -gt 65536 ] &&
        echo 5 2>/dev/null > "/proc/$pid/clear_refs"; then
        reset=yes
    fi
    while read -r k v _; do [ "$k" = VmHWM: ] && hwm=$v; done < "/proc/$pid/status" 2>/dev/null || true
    sleep 0.05
done
wait "$pid"
rc=$?
echo "$hwm $reset" > "rss.$r"
exit $rc
SH
chmod +x rss-wrap.sh

sweep() { # NAME TRIALS -> runs/NAME; echoes the run's wall seconds
    cat > "$1.yaml" <<YAML
name: $1
seed: 1
objective: {function: noop}
space:
  x: {type: float, low: 0, high: 1}
  y: {type: float, low: 0, high: 1}
strategy: {name: random}
budget: {max_trials: $2}
YAML
    local t0 t1
    t0=$(now)
    "${MPIRUN[@]}" -np 2 ./rss-wrap.sh "runs/$1/journal" "$HPS" run "$1.yaml" --quiet \
        2>"$1.log"
    t1=$(now)
    mv rss.0 "rss.$1"
    rm -f rss.1
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}'
}

small=$((TRIALS / 10))
t_small=$(sweep tenth "$small")
t_run=$(sweep million "$TRIALS")
DIR=runs/million
H5=$DIR/sweep.h5
read -r rss_small reset_small < rss.tenth   # KiB, reset once trials ran
read -r rss_big reset_big < rss.million
rss_slope=$(awk -v a="$rss_small" -v b="$rss_big" -v n="$small" -v m="$TRIALS" \
    'BEGIN{ printf "%.0f", (b - a) * 1024 / (m - n) }')

t_best=$(median3 "$HPS" best "$DIR")
t_status=$(median3 "$HPS" status "$DIR")
csv() { "$HPS" trials "$DIR" --format csv > trials.csv; }
t_csv=$(median3 csv)
csv_bytes=$(stat -c %s trials.csv)
# The same on one core (the first of this shell's affinity mask): the export is
# CPU-bound, its threads one per core of the mask, so this and the line above
# are how it scales with cores.
cores=$(awk '/^Cpus_allowed_list/ { n = 0; k = split($2, r, ","); for (i = 1; i <= k; i++) {
    split(r[i], ab, "-"); n += (ab[2] == "" ? 1 : ab[2] - ab[1] + 1) } print n }' /proc/self/status)
cpu0=$(awk '/^Cpus_allowed_list/ { split($2, a, /[-,]/); print a[1] }' /proc/self/status)
csv1() { taskset -c "$cpu0" "$HPS" trials "$DIR" --format csv > trials-1.csv; }
t_csv1=$(median3 csv1)
cmp -s trials.csv trials-1.csv || { echo "bench/million.sh: the one-core CSV differs" >&2; exit 1; }
rm -f trials-1.csv
cp_floor() { cp trials.csv trials-copy.csv; }
t_cp=$(median3 cp_floor)
rm -f trials-copy.csv
# the disk: the same bytes written and fdatasync'ed (what "disk speed" means here)
dd_floor() { dd if=trials.csv of=trials-disk.csv bs=1M conv=fdatasync status=none; }
t_disk=$(median3 dd_floor)
rm -f trials-disk.csv
csv_rss=$(/usr/bin/time -f %M "$HPS" trials "$DIR" --format csv 2>&1 >/dev/null | tail -1)

if [ -n "$PY" ]; then
    cat > peer.py <<'PY'
import sys
import time
import h5py
import numpy
t0 = time.perf_counter()
with h5py.File(sys.argv[1], "r") as f:
    t = f["trials"][:]
    obj = t["objective"]
    best = numpy.nanargmin(obj) if f.attrs["goal"] in (b"minimize", "minimize") else numpy.nanargmax(obj)
    print(int(t["trial_id"][best]), float(obj[best]), "%.4f" % (time.perf_counter() - t0))
PY
    t_peer=$(median3 "$PY" peer.py "$H5")
    # the same without starting Python and importing h5py and numpy
    t_peer_in=$(for _ in 1 2 3; do "$PY" peer.py "$H5" | cut -d' ' -f3; done | sort -g | sed -n 2p)
else
    t_peer=
    t_peer_in=
fi

journal_bytes=$(stat -c %s "$DIR/journal")
h5_bytes=$(stat -c %s "$H5")
j_per=$(awk -v a="$journal_bytes" -v n="$TRIALS" 'BEGIN{printf "%.1f", a / n}')
h_per=$(awk -v a="$h5_bytes" -v n="$TRIALS" 'BEGIN{printf "%.1f", a / n}')

cat_journal() { cat "$DIR/journal" > /dev/null; }
t_cat=$(median3 cat_journal)
t_resume=$(secs "$HPS" resume "$DIR" --quiet)
# a resume's own peak RSS (KiB; the one above timed it, these are sampled)
resume_peak() {
    "$HPS" resume "$1" --quiet 2>>bench.err &
    local rpid=$! hwm=0 k v
    while kill -0 "$rpid" 2>/dev/null; do
        while read -r k v _; do [ "$k" = VmHWM: ] && hwm=$v; done < "/proc/$rpid/status" 2>/dev/null || true
        sleep 0.02
    done
    wait "$rpid" || { echo "bench/million.sh: resuming $1 failed" >&2; exit 1; }
    echo "$hwm"
}
resume_rss=$(resume_peak "$DIR")
resume_rss_small=$(resume_peak runs/tenth)
resume_per=$(awk -v a="$resume_rss_small" -v b="$resume_rss" -v n="$small" -v m="$TRIALS" \
    'BEGIN{ printf "%.0f", (b - a) * 1024 / (m - n) }')

run_rate=$(awk -v t="$t_run" -v n="$TRIALS" 'BEGIN{printf "%.0f", n / t}')
printf '\nhpsweep million-trial benchmark: %s no-op trials (random, 2 float parameters), mpirun -np 2\n' "$TRIALS"
printf 'machine: %s, %s cores, load %s\n' "$(uname -m)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-38s %10s s   (%s trials/s, whole mpirun)\n' "run" "$t_run" "$run_rate"
if [ -n "$PY" ]; then
    printf '  %-38s %10s s   (%s s of it after Python has started and imported them)\n' \
        "peer: h5py + numpy load /trials, argmin" "$t_peer" "$t_peer_in"
else
    printf '  %-38s %10s\n' "peer: h5py + numpy load /trials, argmin" "not measured (no python3 with h5py)"
fi
printf '  %-38s %10s s   %sx the peer (target <= 0.5x); %sx its time after start-up\n' "hpsweep best" \
    "$t_best" "$(ratio "$t_best" "${t_peer:-0}")" "$(ratio "$t_best" "${t_peer_in:-0}")"
printf '  %-38s %10s s   %sx the peer (target <= 0.5x); %sx its time after start-up\n' "hpsweep status" \
    "$t_status" "$(ratio "$t_status" "${t_peer:-0}")" "$(ratio "$t_status" "${t_peer_in:-0}")"
printf '  %-38s %10s s   %sx writing its %s bytes to disk (dd, fdatasync: %s s), %sx cp in the page cache (%s s); peak RSS %s KiB\n' \
    "hpsweep trials --format csv > FILE" "$t_csv" "$(ratio "$t_csv" "$t_disk")" "$csv_bytes" "$t_disk" \
    "$(ratio "$t_csv" "$t_cp")" "$t_cp" "$csv_rss"
printf '  %-38s %10s s   %s cores were %sx faster; %s MB/s per core against the disk'"'"'s %s MB/s\n' \
    "the same on one core (taskset)" "$t_csv1" "$cores" "$(ratio "$t_csv1" "$t_csv")" \
    "$(awk -v b="$csv_bytes" -v t="$t_csv1" 'BEGIN{printf "%.0f", b / t / 1e6}')" \
    "$(awk -v b="$csv_bytes" -v t="$t_disk" 'BEGIN{printf "%.0f", b / t / 1e6}')"
printf '  %-38s %10s s   %sx reading the journal once (%s s); peak RSS %s KiB, %s KiB at %s trials: %s B per trial\n' \
    "resume (replay + rewrite, nothing to run)" "$t_resume" "$(ratio "$t_resume" "$t_cat")" "$t_cat" \
    "$resume_rss" "$resume_rss_small" "$small" "$resume_per"
printf '  %-38s %10s B   sweep.h5: %s B per trial (target <= 64)\n' "journal per trial" "$j_per" "$h_per"
printf '  %-38s %10s KiB at %s trials, %s KiB at %s (peaks after start-up): %s B per finished trial (target ~0)\n' \
    "coordinator peak RSS" "$rss_big" "$TRIALS" "$rss_small" "$small" "$rss_slope"
echo

if [ -n "$PY" ]; then
    echo "RESULT|million: best (s)|$t_best|$t_peer (h5py+numpy process)|$(ratio "$t_best" "$t_peer")|<= 0.5x|$(le "$(ratio "$t_best" "$t_peer")" 0.5)"
    echo "RESULT|million: status (s)|$t_status|$t_peer (h5py+numpy process)|$(ratio "$t_status" "$t_peer")|<= 0.5x|$(le "$(ratio "$t_status" "$t_peer")" 0.5)"
else
    echo "RESULT|million: best (s)|$t_best|not measured|-|<= 0.5x h5py|-"
    echo "RESULT|million: status (s)|$t_status|not measured|-|<= 0.5x h5py|-"
fi
echo "RESULT|million: trials --format csv (s)|$t_csv|$t_disk (dd to disk, same bytes)|$(ratio "$t_csv" "$t_disk")|<= 1x (disk speed)|$(le "$(ratio "$t_csv" "$t_disk")" 1)"
echo "RESULT|million: trials --format csv on one core (s)|$t_csv1|$t_csv (all $cores cores)|$(ratio "$t_csv1" "$t_csv")|-|-"
echo "RESULT|million: journal bytes per trial|$j_per|$h_per (sweep.h5)|$(ratio "$j_per" "$h_per")|<= 64 B|$(le "$j_per" 64)"
if [ "$reset_small" = yes ] && [ "$reset_big" = yes ]; then
    echo "RESULT|million: coordinator RSS growth per finished trial (B)|$rss_slope|-|-|~0 (<= 16 B)|$(le "$rss_slope" 16)"
else # a sweep ended before its journal passed 64 KiB: start-up would be the peak
    echo "RESULT|million: coordinator RSS growth per finished trial (B)|not measured (too few trials)|-|-|~0 (<= 16 B)|-"
fi
echo "RESULT|million: resume, nothing to run (s)|$t_resume|$t_cat (cat journal)|$(ratio "$t_resume" "$t_cat")|bounded replay|-"
echo "RESULT|million: resume peak RSS growth per trial (B)|$resume_per|-|-|-|-"
