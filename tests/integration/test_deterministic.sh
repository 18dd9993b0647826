#!/bin/bash
# Deterministic mode under mpirun for real: for every strategy (random, grid, gp,
# tpe, hyperband, asha, bohb) and the median pruner, the same config and seed give
# the same /trials table (every column but worker, start and end: ids, statuses
# with the pruning decisions, seeds, budgets, brackets, rungs, values, parameters)
# and the same /rungs rows with mpirun -np 2, 3 and 5. The trials are a command
# that pauses a random time, so results arrive in a different order every run.
# sweep.h5 records the mode (root attributes deterministic, parallelism). A resume
# may not change a deterministic sweep's parallelism.
source "$(dirname "$0")/lib.sh"
need_mpirun
PY=/usr/bin/python3
"$PY" -c 'import h5py' 2>/dev/null || { echo "skip: no h5py"; exit 77; }

cat > obj.sh <<'SH'
#!/bin/sh
# branin(x1, x2) + 2/(1+budget), four reports that fall towards it, after a random pause.
awk -v x="$1" -v y="$2" -v b="$3" -v s="$$" 'BEGIN {
  srand(s); system("sleep " rand() * 0.06)
  pi = 3.141592653589793
  v = (y - 5.1/(4*pi*pi)*x*x + 5/pi*x - 6)^2 + 10*(1 - 1/(8*pi))*cos(x) + 10 + 2/(1+b)
  for (k = 0; k < 4; k++) printf("@hpsweep step=%d loss=%.17g\n", k, v + (4-k)*0.5*(1 + x/10))
  printf("@hpsweep step=4 loss=%.17g\n", v)
}'
SH
chmod +x obj.sh

# config NAME STRATEGY-MAPPING [BUDGET]
config() {
    cat > "$1.yaml" <<YAML
name: $1
seed: 2024
objective:
  command: [./obj.sh, "{x1}", "{x2}", "{budget}"]
metric: {name: loss}
space:
  x1: {type: float, low: -5, high: 10}
  x2: {type: float, low: 0, high: 15}
strategy: $2
budget: {${3:-max_trials: 15}}
deterministic: true
parallelism: 3
YAML
}
MF="min_resource: 1, max_resource: 9, eta: 3"
config random "{name: random, sampler: sobol}"
config grid "{name: grid, points: 4}" "max_consecutive_failures: 3"
config gp "{name: gp, n_initial: 4}"
config tpe "{name: tpe, n_startup: 4}"
config hyperband "{name: hyperband, $MF}"
config asha "{name: asha, $MF}"
config bohb "{name: bohb, $MF, min_points_in_model: 3}"
config median "{name: random, pruner: {name: median, n_startup_trials: 3}}" "max_trials: 18"

cat > same.py <<'PY'
"""Two sweep.h5 files hold the same deterministic sweep (times and workers aside)."""
import sys, h5py, numpy
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for f in (a, b):
    assert f.attrs["deterministic"] == 1 and f.attrs["parallelism"] == 3, dict(f.attrs)
    assert f.attrs["status"] == "completed", f.attrs["status"]
ta, tb = a["trials"][:], b["trials"][:]
assert len(ta) == len(tb), (len(ta), len(tb))
skip = {"worker", "start", "end"}
for col in ta.dtype.names:
    if col in skip:
        continue
    x, y = ta[col], tb[col]
    if col == "exit_code":
        # a stopped (pruned) trial may have exited by itself before the stop reached it
        keep = ta["status"] != 4
        x, y = x[keep], y[keep]
    if x.dtype.kind == "f":
        same = numpy.array_equal(x, y, equal_nan=True)
    else:
        same = numpy.array_equal(x, y)
    assert same, (col, x, y)
def rungs(f):
    r = f["rungs"][:]
    return sorted((int(t["trial_id"]), int(t["rung"]), float(t["budget"]), int(t["status"]),
                   repr(float(t["objective"]))) for t in r)
assert rungs(a) == rungs(b), (rungs(a), rungs(b))
print(len(ta), "trials,", int((ta["status"] == 4).sum()), "pruned,", len(a["rungs"]), "rungs")
PY

for name in random grid gp tpe hyperband asha bohb median; do
    for np in 2 3 5; do
        hps_mpirun "$np" "$HPS" run "$name.yaml" --output "np$np" --quiet 2>"$WORK/err" ||
            { cat "$WORK/err" >&2; fail "$name: mpirun -np $np failed"; }
    done
    for np in 3 5; do
        out=$("$PY" same.py "np2/$name/sweep.h5" "np$np/$name/sweep.h5") ||
            fail "$name: mpirun -np $np gives another sweep than -np 2"
    done
    ok "$name: the same sweep with mpirun -np 2, 3 and 5 ($out)"
done
pruned=$("$PY" -c 'import h5py,sys; print(int((h5py.File(sys.argv[1])["trials"]["status"] == 4).sum()))' np2/median/sweep.h5)
[ "$pruned" -gt 0 ] || fail "the median pruner pruned nothing: the pruning check checked nothing"

# A resume may not change the P of a deterministic sweep.
sed 's/^parallelism: 3/parallelism: 4/' random.yaml > random4.yaml
expect_exit 2 "$HPS" resume np2/random --config random4.yaml
grep -q "parallelism" "$WORK/err" || { cat "$WORK/err"; fail "the refusal does not name parallelism"; }
ok "a resume that changes a deterministic sweep's parallelism is refused"
