#!/bin/bash
# configs/examples/hpsweep_h5.py, the README's pandas reader: /trials of a sweep
# with a categorical, a bool and failing trials comes back with status names,
# choice texts and cause strings (not codes and bytes), row for row as
# `hpsweep trials --format csv` prints them.
source "$(dirname "$0")/lib.sh"
PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import h5py, pandas' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "skip: no python3 with h5py and pandas"; exit 77; }
cat > mixed.yaml <<'YAML'
name: mixed
seed: 4
objective:
  command: [sh, -c, 'if [ "$1" = bad ]; then exit 3; fi; echo "@hpsweep loss=$2"', sh, "{opt}", "{x}"]
metric: {name: loss}
space:
  opt: {type: categorical, choices: [good, bad, "spaced name"]}
  flag: {type: bool}
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 24, max_consecutive_failures: 0}
YAML
"$HPS" run mixed.yaml --quiet 2>/dev/null
"$HPS" trials runs/mixed --format csv > trials.csv
PYTHONPATH="$SRC/configs/examples" PYTHONDONTWRITEBYTECODE=1 "$PY" - runs/mixed/sweep.h5 trials.csv <<'PYEOF'
import csv, sys
import hpsweep_h5
df = hpsweep_h5.table(sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(df) == len(rows) == 24, (len(df), len(rows))
assert set(df["status"]) == {"done", "failed"}, set(df["status"])
assert set(df["opt"]) <= {"good", "bad", "spaced name"} and "bad" in set(df["opt"]), set(df["opt"])
assert df["flag"].dtype == bool, df["flag"].dtype
failed = df[df["status"] == "failed"]
assert (failed["opt"] == "bad").all() and set(failed["cause"]) == {"exit:3"}, failed[["opt", "cause"]]
assert all(isinstance(c, str) for c in df["cause"]), df["cause"].map(type).unique()
for (_, t), r in zip(df.iterrows(), rows):
    assert int(t["trial_id"]) == int(r["trial_id"]) and t["status"] == r["status"], (t, r)
    assert t["opt"] == r["opt"] and t["cause"] == r["cause"], (t, r)
print("ok: hpsweep_h5.table: %d trials, status names, choice texts, cause strings" % len(df))
PYEOF
