#!/bin/bash
# `hpsweep best` reads the best rows that sweep.h5 names (the /trials attributes
# ranked_rows and best_rows) instead of every trial: what it prints must be what a
# scan of the whole table gives. --top beyond the stored rows scans, so the first
# lines of `--top 65` are the scan's answer to compare with; a file written before
# the ranking existed (made here with h5unjam and h5py: no attributes, no
# seal) still gives the same best; h5py finds the same best row itself; and
# check, which reads the best row alone too, says what it says on the old file.
source "$(dirname "$0")/lib.sh"

for goal in minimize maximize; do
    cat > "$goal.yaml" <<YAML
name: $goal
seed: 5
objective: {function: sphere}
metric: {name: loss, goal: $goal}
space:
  a: {type: float, low: -2, high: 2}
  b: {type: int, low: -3, high: 3}
budget: {max_trials: 300}
YAML
    "$HPS" run "$goal.yaml" --quiet 2>/dev/null
    dir=runs/$goal
    "$HPS" best "$dir" --top 65 --format args --with-seed > scan.txt
    [ "$(wc -l < scan.txt)" = 65 ] || fail "$goal: --top 65 did not give 65 trials"
    for k in 1 5 64; do
        "$HPS" best "$dir" --top "$k" --format args --with-seed > index.txt
        head -"$k" scan.txt | cmp -s - index.txt ||
            { diff <(head -"$k" scan.txt) index.txt >&2; fail "$goal: --top $k from the index differs from the scan"; }
    done
    "$HPS" best "$dir" --format args --with-seed | cmp -s - <(head -1 scan.txt) ||
        fail "$goal: best differs from the scan's first"
    ok "$goal: best and --top 1, 5, 64 from the stored ranking equal a scan's"
done

PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import h5py, numpy' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "skip: no python3 with h5py (the old-file check)"; exit 0; }

# h5py's own argmin over /trials names the trial best prints.
want=$("$PY" - runs/minimize/sweep.h5 <<'PY'
import sys, h5py, numpy
t = h5py.File(sys.argv[1], "r")["trials"][:]
done = numpy.where(t["status"] == 1, t["objective"], numpy.nan)
print(int(t["trial_id"][numpy.nanargmin(done)]))
PY
)
got=$("$HPS" best runs/minimize --format json | awk -F'[:,]' '/"trial_id"/{gsub(/ /,"",$2); print $2}')
[ "$want" = "$got" ] || fail "h5py's argmin is trial $want, best says $got"
ok "h5py's argmin over /trials is best's trial ($got)"

# A file from before the ranking: the user block (hpsweep's seal) taken off with
# h5unjam, then the two attributes deleted with h5py.
command -v h5unjam >/dev/null || { echo "skip: no h5unjam (the old-file check)"; exit 0; }
h5unjam -i runs/minimize/sweep.h5 -o old.h5 -u userblock.bin
"$PY" - old.h5 <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    del f["trials"].attrs["ranked_rows"]
    del f["trials"].attrs["best_rows"]
PY
"$HPS" best runs/minimize --top 65 --format args --with-seed > scan.txt
"$HPS" best old.h5 --top 5 --format args --with-seed | cmp -s - <(head -5 scan.txt) ||
    fail "best --top 5 of a file without the ranking differs"
"$HPS" best old.h5 --format json > old.json
"$HPS" best runs/minimize --format json | cmp -s - old.json || fail "best --format json differs on the old file"
ok "a file without the ranking: best scans it and gives the same trials"

# check reads the best row alone too: the same verdict and line as on the old file.
strip() { sed 's/ of [^ )]*)/)/'; }
for args in "--max 100" "--metric loss --min -1" "--baseline old.h5 --max-regression 0"; do
    a=$("$HPS" check runs/minimize $args | strip)
    b=$("$HPS" check old.h5 $args | strip)
    [ "$a" = "$b" ] || fail "check $args: '$a' from the ranking, '$b' from a scan"
done
ok "check from the ranking gives a scan's line ($a)"

