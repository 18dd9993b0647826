#!/bin/bash
# Provenance, complete and automatic: a command sweep run from a dirty git
# repository under mpirun -np 3, then resumed on 2 ranks, records in sweep.h5
# every run fact (non-empty), one host row per distinct host with every rank it
# held and every host fact (GPU facts say "none" explicitly on a machine without
# an NVIDIA driver, and name the GPUs on one with it), the SHA-256 of the dataset
# files and directory, of the program and of the script (equal to sha256sum's),
# the git commit with the dirty flag and the SHA-256 of `git diff --binary HEAD`,
# the allow-listed environment (and no secret), and one /provenance/runs row per
# run whose `changed` names what the resume changed. `hpsweep show` prints it.
source "$(dirname "$0")/lib.sh"
need_mpirun
PY=/usr/bin/python3
"$PY" -c 'import h5py' 2>/dev/null || { echo "skip: no h5py"; exit 77; }
command -v git >/dev/null || { echo "skip: no git"; exit 77; }
command -v sha256sum >/dev/null || { echo "skip: no sha256sum"; exit 77; }

mkdir -p repo/data/more
printf 'a\n' > repo/data/one.txt
printf 'b\n' > repo/data/more/two.txt
cat > repo/train.sh <<'SH'
#!/bin/sh
echo "@hpsweep loss=$1"
SH
cat > repo/sweep.yaml <<'YAML'
name: prov
seed: 1
objective:
  command: [sh, train.sh, "{x}"]
metric: {name: loss}
space:
  x: {type: float, low: 0, high: 1}
datasets: [data, data/one.txt]
budget: {max_trials: 6}
YAML
git -C repo init -q && git -C repo add -A &&
    git -C repo -c user.email=t@t -c user.name=t commit -qm init
echo "# a local change" >> repo/train.sh
diff_sha=$(git -C repo diff --binary HEAD | sha256sum | cut -d' ' -f1)
head=$(git -C repo rev-parse HEAD)

export SLURM_JOB_ID=4242 OMP_NUM_THREADS=1 AWS_SECRET_ACCESS_KEY=hunter2-secret
hps_mpirun 3 "$HPS" run repo/sweep.yaml --quiet 2>/dev/null
unset SLURM_JOB_ID
hps_mpirun 2 "$HPS" resume runs/prov --max-trials 9 --quiet 2>/dev/null

gpu=0
[ -d /proc/driver/nvidia/gpus ] && [ -n "$(ls /proc/driver/nvidia/gpus)" ] && gpu=1
"$PY" - runs/prov/sweep.h5 "$diff_sha" "$head" "$(realpath repo)" "$gpu" "$(command -v sh)" <<'PY'
import hashlib, os, sys, h5py
path, diff_sha, head, repo, gpu, sh = sys.argv[1:7]
gpu = gpu == "1"
f = h5py.File(path, "r")
p = f["provenance"]
s = lambda v: v.decode() if isinstance(v, bytes) else v
facts = {}
for run, key, value in p["facts"][:]:
    facts.setdefault(int(run), {})[s(key)] = s(value)
assert sorted(facts) == [0, 1], sorted(facts)
need = ["hpsweep_version", "hpsweep_commit", "build_type", "build_options", "compiler",
        "compiler_flags", "mpi_library", "hdf5", "gsl", "libyaml", "openblas", "openssl",
        "hosts", "ranks", "ranks_per_trial", "cpu_model", "command_line", "start_time",
        "end_time", "end_status", "cwd", "config_path", "hpsweep_path", "budget",
        "user_code_commit", "user_code_root", "user_code_diff_sha256", "gpus", "nvidia_driver"]
for run in (0, 1):
    for k in need:
        assert facts[run].get(k), (run, k, facts[run].get(k))
r0, r1 = facts[0], facts[1]
assert r0["user_code_commit"] == head + " (dirty)", r0["user_code_commit"]
assert r0["user_code_diff_sha256"] == diff_sha, (r0["user_code_diff_sha256"], diff_sha)
assert os.path.realpath(r0["user_code_root"]) == repo, r0["user_code_root"]
assert r0["env.SLURM_JOB_ID"] == "4242" and r0["env.OMP_NUM_THREADS"] == "1", r0
assert "env.SLURM_JOB_ID" not in r1, r1
assert r0["ranks"] == "3" and r1["ranks"] == "2", (r0["ranks"], r1["ranks"])
assert r0["end_status"] == "completed" and r1["end_status"] == "completed"
# the attributes are the latest run's
assert s(p.attrs["ranks"]) == "2" and s(p.attrs["user_code_commit"]) == head + " (dirty)"
# no secret anywhere in the file
assert b"hunter2-secret" not in open(path, "rb").read()
# hosts: one row per run for this one host, every rank it held, every fact filled in
hosts = p["hosts"][:]
assert len(hosts) == 2, hosts
assert s(hosts[0]["ranks"]) == "0,1,2" and s(hosts[1]["ranks"]) == "0,1", hosts["ranks"]
for col in hosts.dtype.names:
    if col != "run":
        assert all(s(v) for v in hosts[col]), (col, hosts[col])
h = {c: s(hosts[0][c]) for c in hosts.dtype.names if c != "run"}
if gpu:
    assert h["gpus"] != "none" and h["nvidia_driver"] != "none", h
else:
    # no GPU here: every GPU fact says so
    assert h["gpus"] == "none" and h["gpu_uuids"] == "none" and h["nvidia_driver"] == "none", h
    assert h["gpu_memory"].startswith("none"), h["gpu_memory"]
    assert h["cuda_driver"].startswith("none"), h["cuda_driver"]
for k in ("cuda_runtime", "cublas", "nccl"):
    assert h[k].startswith("none (") or h[k][0].isdigit(), (k, h[k])
assert h["cpus"].split()[0] == str(os.cpu_count()), (h["cpus"], os.cpu_count())
# files: the SHA-256 sha256sum gives
def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
files = [(int(r["run"]), s(r["role"]), s(r["path"]), s(r["sha256"]), int(r["bytes"]))
         for r in p["files"][:]]
run0 = {(role, path): (digest, n) for run, role, path, digest, n in files if run == 0}
one, two = os.path.join(repo, "data/one.txt"), os.path.join(repo, "data/more/two.txt")
assert run0[("dataset", one)] == (sha(one), 2), run0
assert run0[("dataset", two)] == (sha(two), 2), run0
manifest = "".join(f"{sha(os.path.join(repo, 'data', r))}  {r}\n" for r in ["more/two.txt", "one.txt"])
assert run0[("dataset", os.path.join(repo, "data"))][0] == hashlib.sha256(manifest.encode()).hexdigest()
script = os.path.join(repo, "train.sh")
assert run0[("script", script)][0] == sha(script), run0
prog = os.path.realpath(sh)
assert run0[("objective", prog)][0] == sha(prog), run0
# runs: one row each, the resume's says what changed
runs = p["runs"][:]
assert len(runs) == 2, runs
changed = s(runs[1]["changed"])
for word in ("ranks", "budget", "env.SLURM_JOB_ID"):
    assert word in changed, (word, changed)
assert s(runs[0]["changed"]) == ""
print("ok: /provenance complete:", len(facts[0]), "run facts,", len(hosts), "host rows,",
      len(files), "file rows; the resume changed:", changed)
PY

"$HPS" show runs/prov > show.txt
for want in "^provenance of run 1 (the latest of 2)" "^hosts (1)" "^files (" "^runs (2" \
            "changed: .*ranks" "user code .*(dirty)" "cuda_runtime"; do
    grep -q "$want" show.txt || { cat show.txt; fail "hpsweep show lacks '$want'"; }
done
ok "hpsweep show prints the runs, hosts, files and the dirty user code"
