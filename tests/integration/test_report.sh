#!/bin/bash
# hpsweep report, rendered in a real browser (headless Chromium, driven by
# report_check.py over the DevTools protocol):
# (a) a random sweep under mpirun -np 3 of a command that reports val_loss every
#     epoch, over float/log/int/categorical/bool parameters (one choice is
#     "</script><b>x</b>"), with a median pruner and failing trials that leave a
#     stderr tail;
# (b) a gp sweep (built-in Branin, serial);
# (c) an ASHA sweep under mpirun -np 3 of a command that trains for {budget} epochs;
# (d) a 100,000-trial random sweep: the report is written in seconds, stays small,
#     says it shows a sample, and renders within a generous budget.
# Each page: no console error or exception, no network request or http(s)
# reference, charts with data and drawn canvases, no horizontal overflow at 1280
# and 390 px, the top-trials table's first row and the "hpsweep best" block equal
# `hpsweep best --format json`. Screenshots (1280 px and 390 px wide) stay in
# <build>/report-artifacts/ for CI. Also: bad input gives a clear message and exit code.
source "$(dirname "$0")/lib.sh"
need_mpirun
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROMIUM" ] || { echo "skip: no chromium (scripts/setup-debian.sh --browser installs it)"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CHECK="$SRC/tests/integration/report_check.py"
ART="$(cd "$(dirname "$HPS")" && pwd)/report-artifacts"
mkdir -p "$ART"

# render NAME SWEEP_DIR HTML [report_check options]: check at 1280 and 390 px, keep
# the screenshots.
render() {
    local name=$1 dir=$2 html=$3; shift 3
    "$HPS" best "$dir" --format json > "best-$name.json"
    "$PY" "$CHECK" --chromium "$CHROMIUM" --html "$html" --width 1280 \
        --screenshot "$ART/$name.png" --best "best-$name.json" "$@" || fail "$name: the page at 1280 px"
    "$PY" "$CHECK" --chromium "$CHROMIUM" --html "$html" --width 390 \
        --screenshot "$ART/$name-phone.png" --best "best-$name.json" "$@" || fail "$name: the page at 390 px"
    ok "$name: rendered; screenshots $ART/$name.png and $ART/$name-phone.png"
}

# ---- (a) a command sweep with curves, every parameter type, pruning and failures ----
cat > train.py <<'PY'
# A training run in miniature: val_loss falls with the epochs towards a floor set
# by the parameters; rmsprop with a large lr "diverges" (exit 3, a traceback).
import math, os, random, sys
lr, layers, opt, dropout = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
epochs = int(float(os.environ.get("HPSWEEP_BUDGET", "0"))) or 8
# A promoted trial (ASHA) continues from the epoch its checkpoint holds.
ckpt = os.path.join(os.environ["HPSWEEP_TRIAL_DIR"], "epoch")
start = int(open(ckpt).read()) if os.environ.get("HPSWEEP_RESUME") == "1" and os.path.exists(ckpt) else 0
rng = random.Random(int(os.environ["HPSWEEP_SEED"]) + start)
if opt == "rmsprop" and lr > 0.1:
    print("Traceback (most recent call last):\n  File \"train.py\", line 9, in <module>\n"
          "FloatingPointError: loss diverged at lr=%g" % lr, file=sys.stderr)
    sys.exit(3)
floor = 0.3 * (math.log10(lr) + 2.5) ** 2 + 0.05 * abs(layers - 4) + (0.2 if opt == "sgd" else 0) + 0.1 * dropout
for epoch in range(start + 1, epochs + 1):
    print(f"@hpsweep step={epoch} val_loss={floor + 2.0 / epoch + rng.gauss(0, 0.02)!r}", flush=True)
    with open(ckpt, "w") as f:
        f.write(str(epoch))
PY
cat > mixed.yaml <<'YAML'
name: mixed
seed: 3
objective:
  command: [python3, train.py, "{lr}", "{layers}", "{optimizer}", "{dropout}"]
metric: {name: val_loss, goal: minimize}
space:
  lr: {type: float, low: 1.0e-5, high: 1, log: true}
  layers: {type: int, low: 1, high: 8}
  optimizer: {type: categorical, choices: [adam, sgd, "</script><b>x</b>", rmsprop]}
  dropout: {type: float, low: 0, high: 0.5}
  batchnorm: {type: bool}
strategy: {name: random, pruner: {name: median, n_startup_trials: 5, n_warmup_steps: 2}}
budget: {max_trials: 40, max_consecutive_failures: 0}
YAML
hps_mpirun 3 "$HPS" run mixed.yaml --quiet 2>/dev/null
"$HPS" report runs/mixed 2>err || { cat err; fail "report of the mixed sweep"; }
[ -s runs/mixed/report.html ] || fail "no runs/mixed/report.html (the default output)"
failed=$(status_count runs/mixed failed)
[ "$failed" -ge 1 ] || fail "the mixed sweep has no failed trial to show"
render mixed runs/mixed runs/mixed/report.html --min-charts 9 --expect-text "</script><b>x</b>" \
    --expect-text "FloatingPointError: loss diverged" --expect-text "exit:3" \
    --expect-text "Parallel coordinates" --expect-text "adjusted η²" --expect-legend "pruned"

# ---- (b) a gp sweep --------------------------------------------------------------------
cat > gp.yaml <<'YAML'
name: gp
seed: 5
objective: {function: branin}
space:
  x1: {type: float, low: -5, high: 10}
  x2: {type: float, low: 0, high: 15}
strategy: {name: gp, n_initial: 8}
budget: {max_trials: 30}
YAML
OPENBLAS_NUM_THREADS=1 "$HPS" run gp.yaml --quiet 2>/dev/null
"$HPS" report runs/gp/sweep.h5 -o gp.html --title "GP on Branin" 2>/dev/null || fail "report of the gp sweep"
render gp runs/gp gp.html --min-charts 6 --expect-text "GP on Branin" --expect-text "gp search"

# ---- (c) an ASHA sweep with learning curves coloured by rung ---------------------------
cat > asha.yaml <<'YAML'
name: asha
seed: 11
objective:
  command: [python3, train.py, "{lr}", "{layers}", adam, "0.1"]
metric: {name: val_loss}
space:
  lr: {type: float, low: 1.0e-4, high: 1, log: true}
  layers: {type: int, low: 1, high: 8}
strategy: {name: asha, resource: epochs, min_resource: 1, max_resource: 9, eta: 3}
budget: {max_resource: 150}
YAML
hps_mpirun 3 "$HPS" run asha.yaml --quiet 2>/dev/null
"$HPS" report runs/asha -o asha.html 2>/dev/null || fail "report of the asha sweep"
render asha runs/asha asha.html --min-charts 6 --expect-legend "budget 9 (rung 2)" --expect-legend "budget 1 (rung 0)" \
    --expect-text "Learning curves"

# ---- (d) 100,000 trials --------------------------------------------------------------------
cat > big.yaml <<'YAML'
name: big
seed: 7
objective: {function: hartmann6}
space:
  x1: {type: float, low: 0, high: 1}
  x2: {type: float, low: 0, high: 1}
  x3: {type: float, low: 0, high: 1}
  x4: {type: float, low: 0, high: 1}
  x5: {type: float, low: 0, high: 1}
  x6: {type: float, low: 0, high: 1}
budget: {max_trials: 100000}
YAML
"$HPS" run big.yaml --quiet 2>/dev/null
[ "$(status_count runs/big done)" = 100000 ] || fail "the big sweep did not finish"
start=$(date +%s%N)
"$HPS" report runs/big -o big.html 2>/dev/null || fail "report of the 100,000-trial sweep"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
bytes=$(stat -c %s big.html)
# Generous bounds (measured here: about 0.7 s and 0.7 MB): a budget, not a benchmark.
[ "$ms" -lt 30000 ] || fail "the report took $ms ms"
[ "$bytes" -lt 3000000 ] || fail "the report is $bytes bytes"
ok "100,000 trials: report written in $ms ms, $bytes bytes"
render big runs/big big.html --min-charts 9 --sampled --budget-s 60

# ---- bad input ------------------------------------------------------------------------------
expect_exit 2 "$HPS" report nowhere.h5
grep -q "nowhere.h5" "$WORK/err" || fail "no message naming the missing file"
echo "not an HDF5 file" > bogus.h5
expect_exit 1 "$HPS" report bogus.h5
[ -s "$WORK/err" ] || fail "no message for a file that is not a sweep"
[ ! -e report.html ] || fail "a failed report left a file"
expect_exit 2 "$HPS" report runs/gp --top 0
expect_exit 2 "$HPS" report
expect_exit 1 "$HPS" report runs/gp -o /nonexistent/dir/report.html
"$HPS" report --help | grep -q "usage: hpsweep report" || fail "report --help"
"$HPS" --help | grep -q "report FILE|DIR" || fail "report is not in hpsweep --help"
ok "bad input: exit 2 for usage and a missing file, 1 for a file that is not a sweep"
