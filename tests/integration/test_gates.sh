#!/bin/bash
# The CI commands, their outputs parsed back: best --format json/yaml (a JSON and
# a YAML parser), --top K (sorted, best first), --params-only, --format env
# (evaluated by the shell: no HPSWEEP_* with --params-only), --format github
# (parsed by GitHub's rules; a name collision refused; the heredoc form of a
# multi-line value is test_export_ci.c's); check on both sides of every gate (--max, --min, both,
# --baseline with and without --max-regression, --metric of another metric, no
# completed trial: exit 0 / 4 / 3, one line each); compare --format json.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c 'import yaml, json' 2>/dev/null || { echo "skip: no python3 yaml"; exit 77; }

# Sweep A: a command reporting loss and acc; sweep B: the same, a worse optimum.
cat > obj.sh <<'SH'
#!/bin/sh
awk -v x="$1" -v o="$2" 'BEGIN { l = (x - 0.3)^2 + o; printf("@hpsweep loss=%.17g acc=%.17g\n", l, 1 - l) }'
SH
chmod +x obj.sh
sweep() {
    cat > "$1.yaml" <<YAML
name: $1
seed: $2
objective:
  command: [./obj.sh, "{x}", "$3"]
metric: {name: loss}
space:
  x: {type: float, low: 0, high: 1}
  note: {type: categorical, choices: ["it's one", "two words"]}
budget: {max_trials: 12}
YAML
    "$HPS" run "$1.yaml" --quiet 2>/dev/null
}
sweep a 1 0
sweep b 2 0.5

# ---- best ----------------------------------------------------------------------------------
"$HPS" best runs/a --format json > best.json
"$HPS" best runs/a --format json --top 3 > top.json
"$HPS" best runs/a --format yaml --top 3 > top.yaml
"$HPS" best runs/a --format json --params-only > params.json
"$HPS" best runs/a --format yaml --params-only > params.yaml
"$HPS" trials runs/a --format json > trials.json
"$PY" - <<'PY'
import json, yaml
best = json.load(open("best.json"))
top = json.load(open("top.json"))
trials = json.load(open("trials.json"))
done = sorted((t for t in trials if t["status"] == "done"), key=lambda t: (t["objective"], t["trial_id"]))
assert [t["trial_id"] for t in top] == [t["trial_id"] for t in done[:3]], (top, done[:3])
assert top[0] == best, (top[0], best)
assert yaml.safe_load(open("top.yaml")) == top
params = json.load(open("params.json"))
assert params == best["params"] and set(params) == {"x", "note"}, params
assert yaml.safe_load(open("params.yaml")) == params
print("ok: best json/yaml, --top 3 sorted best first, --params-only parsed back")
PY

x=$("$PY" -c 'import json; print(repr(json.load(open("best.json"))["params"]["x"]))')
( set -a; eval "$("$HPS" best runs/a --format env --params-only)"; set +a
  [ -z "${HPSWEEP_SEED:-}" ] || fail "--params-only env sets HPSWEEP_SEED"
  "$PY" -c "import sys; sys.exit(float('$X') != $x)" || fail "env X=$X, json x=$x" )
( eval "$("$HPS" best runs/a --format env)"
  [ "$HPSWEEP_SEED" = "$("$PY" -c 'import json; print(json.load(open("best.json"))["seed"])')" ] ||
      fail "env HPSWEEP_SEED" )
ok "best --format env evaluated by the shell (with and without --params-only)"

# GitHub's $GITHUB_OUTPUT rules: name=value, or name<<DELIM, lines, DELIM.
"$HPS" best runs/a --format github > gh.out
"$PY" - gh.out <<'PY'
import json, sys
out, lines, i = {}, open(sys.argv[1]).read().split("\n"), 0
while i < len(lines):
    line = lines[i]
    if not line:
        i += 1; continue
    if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
        name, delim = line.split("<<", 1)
        j = lines.index(delim, i + 1)
        out[name] = "\n".join(lines[i + 1:j]); i = j + 1
    else:
        name, value = line.split("=", 1); out[name] = value; i += 1
best = json.load(open("best.json"))
assert int(out["trial_id"]) == best["trial_id"] and int(out["seed"]) == best["seed"], out
assert float(out["loss"]) == best["loss"] and float(out["x"]) == best["params"]["x"], out
assert out["note"] == best["params"]["note"], out
assert json.loads(out["params"]) == best["params"], out["params"]
print("ok: best --format github parsed by GitHub's rules:", sorted(out))
PY
"$HPS" best runs/a --format github --params-only | grep -q '^seed=' && fail "--params-only github has seed"
# a parameter that would overwrite hpsweep's own output is refused, unless --params-only
printf 'name: col\nobjective: {function: noop}\nspace:\n  seed: {type: float, low: 0, high: 1}\nbudget: {max_trials: 1}\n' > col.yaml
"$HPS" run col.yaml --quiet 2>/dev/null
expect_exit 2 "$HPS" best runs/col --format github
grep -q "'seed'" "$WORK/err" || { cat "$WORK/err"; fail "the collision is not named"; }
expect_exit 0 "$HPS" best runs/col --format github --params-only
expect_exit 2 "$HPS" best runs/a --format env --top 2
ok "github: collisions refused unless --params-only; env and github take one trial"

# ---- check: both sides of every gate ------------------------------------------------------
a_loss=$("$PY" -c 'import json; print(repr(json.load(open("best.json"))["loss"]))')
gate() { local want=$1; shift; expect_exit "$want" "$HPS" check "$@"
    [ "$(wc -l < "$WORK/out")" = 1 ] || { cat "$WORK/out"; fail "check $*: not one line"; }
    case $want in 0) grep -q '^check PASS: ' "$WORK/out" ;; *) grep -q '^check FAIL: ' "$WORK/out" ;; esac ||
        { cat "$WORK/out"; fail "check $*: wrong verdict word"; }; }
hi=$("$PY" -c "print($a_loss + 0.001)"); lo=$("$PY" -c "print($a_loss - 0.001)")
gate 0 runs/a --max "$hi";  gate 4 runs/a --max "$lo"
gate 0 runs/a --min "$lo";  gate 4 runs/a --min "$hi"
gate 0 runs/a --min "$lo" --max "$hi"; gate 4 runs/a --min "$hi" --max 100
gate 0 runs/a --metric acc --min 0.5; gate 4 runs/a --metric acc --min 1.5
grep -q "acc = " "$WORK/out" || fail "check --metric acc does not judge acc"
gate 0 runs/a --baseline runs/b                      # A is better than B
gate 4 runs/b --baseline runs/a                      # B regressed by about 0.5
gate 0 runs/b --baseline runs/a --max-regression 0.6
gate 4 runs/b --baseline runs/a --max-regression 0.4
b_share=$("$PY" -c "import json,subprocess; print('%.3f%%' % (0.5 / $a_loss * 100 * 1.5))")
gate 0 runs/b --baseline runs/a --max-regression "$b_share"
gate 4 runs/b --baseline runs/a --max-regression 1%
expect_exit 2 "$HPS" check runs/a
expect_exit 2 "$HPS" check runs/a --metric nosuch --max 1
printf 'name: none\nobjective:\n  command: [sh, -c, "exit 1"]\nspace:\n  x: {type: float, low: 0, high: 1}\nbudget: {max_trials: 2, max_consecutive_failures: 0}\n' > none.yaml
"$HPS" run none.yaml --quiet 2>/dev/null || true
gate 3 runs/none --max 1
ok "check: --max, --min, both, --metric, --baseline, --max-regression (number and %) pass and fail; no result is 3"

# ---- compare --------------------------------------------------------------------------------
"$HPS" compare runs/a runs/b --format json > cmp.json
"$PY" - "$a_loss" <<'PY'
import json, sys
c = json.load(open("cmp.json"))
a_loss = float(sys.argv[1])
assert c["a"]["best"]["value"] == a_loss and c["a"]["counts"]["done"] == 12, c["a"]
assert c["b"]["name"] == "b" and c["a"]["deterministic"] is False
assert abs(c["best_difference"] - (c["b"]["best"]["value"] - a_loss)) < 1e-12
keys = {d["key"]: (d["a"], d["b"]) for d in c["config_differences"]}
assert "name" in keys and "seed" in keys and "objective.command" in keys, keys
assert keys["seed"] == ("1", "2"), keys["seed"]
assert isinstance(c["provenance_differences"], list)
print("ok: compare --format json:", sorted(keys))
PY
"$HPS" compare runs/a runs/b > cmp.txt
grep -q "^best B - A .*B is worse" cmp.txt || { cat cmp.txt; fail "compare text: no verdict on B - A"; }
grep -q "seed: 1 -> 2" cmp.txt || { cat cmp.txt; fail "compare text: seed difference"; }
ok "compare: text and JSON"
