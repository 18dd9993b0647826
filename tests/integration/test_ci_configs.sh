#!/bin/bash
# The CI configs users copy run as written (not the CI services): every `run`
# step of configs/ci/github-actions.yml and every `script` line of
# configs/ci/gitlab-ci.yml, in order, with build/hpsweep as the binary under
# test and the install and build steps left out. The GitHub job's $GITHUB_OUTPUT
# is parsed by GitHub's rules; GitLab's dotenv report feeds the train stage as
# GitLab does. Then the gate really gates: the same check against a bound the
# sweep misses fails with exit 4.
source "$(dirname "$0")/lib.sh"
need_mpirun
PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null || { echo "skip: no python3 yaml"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
export PYTHONDONTWRITEBYTECODE=1
cp -r "$SRC/configs" .
mkdir -p build && ln -s "$HPS" build/hpsweep

# The commands of a CI file as a bash script (install and build lines left out).
# kind: github (run steps of every job) or gitlab:STAGE (script lines of its jobs).
commands() {
    "$PY" - "$1" "$2" <<'PY'
import sys, yaml
path, kind = sys.argv[1:3]
doc = yaml.safe_load(open(path))
skip = ("./scripts/setup-debian.sh", "cmake ")
lines = []
if kind == "github":
    for job in doc["jobs"].values():
        for step in job["steps"]:
            run = step.get("run")
            if run and not run.startswith(skip):
                assert "${{" not in run, run
                lines.append(run)
else:
    stage = kind.split(":", 1)[1]
    for name, job in doc.items():
        if isinstance(job, dict) and job.get("stage") == stage:
            lines += [l for l in job.get("script", []) if not l.startswith(skip)]
print("set -euo pipefail")
print("\n".join(lines))
PY
}

# ---- GitHub Actions ---------------------------------------------------------------------
commands configs/ci/github-actions.yml github > github.sh
export GITHUB_OUTPUT=$WORK/github_output
: > "$GITHUB_OUTPUT"
bash github.sh > github.log 2>&1 || { cat github.log; fail "the GitHub Actions steps failed"; }
grep -q '^check PASS' github.log || { cat github.log; fail "the gate step did not pass"; }
grep -q 'reproduced' github.log || { cat github.log; fail "the reproduce step said nothing"; }
"$PY" - "$GITHUB_OUTPUT" <<'PY'
import json, sys
out, lines, i = {}, open(sys.argv[1]).read().split("\n"), 0
while i < len(lines):
    if not lines[i]:
        i += 1; continue
    name, value = lines[i].split("=", 1); out[name] = value; i += 1
assert {"trial_id", "seed", "loss", "params", "x", "y"} <= set(out), out
assert json.loads(out["params"]) == {"x": float(out["x"]), "y": float(out["y"])}, out
print("ok: $GITHUB_OUTPUT:", sorted(out))
PY
ok "configs/ci/github-actions.yml: sweep, gate, reproduce, outputs, train and show ran"
rm -rf runs

# ---- GitLab CI -----------------------------------------------------------------------------
commands configs/ci/gitlab-ci.yml gitlab:tune > tune.sh
commands configs/ci/gitlab-ci.yml gitlab:train > train.sh
bash tune.sh > tune.log 2>&1 || { cat tune.log; fail "the GitLab tune job failed"; }
grep -q '^check PASS' tune.log || { cat tune.log; fail "the GitLab gate did not pass"; }
# GitLab's dotenv report: KEY=VALUE lines, values as written
grep -qvE '^[A-Za-z_][A-Za-z0-9_]*=[^ ]*$' best.env && { cat best.env; fail "best.env is not a dotenv report"; }
(set -a; . ./best.env; set +a; bash train.sh) > train.log 2>&1 || { cat train.log; fail "the GitLab train job failed"; }
grep -q '@hpsweep step=5 loss=' train.log || { cat train.log; fail "training did not run"; }
ok "configs/ci/gitlab-ci.yml: tune (sweep, gate, reproduce, dotenv) and train ran"

# The gate refuses a regressed model: a bound the sweep misses fails the step.
expect_exit 4 "$HPS" check runs/command_sweep --max -1
ok "the CI gate fails (exit 4) when the best loss is above the bound"
