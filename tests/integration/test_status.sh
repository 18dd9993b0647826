#!/usr/bin/env bash
# `hpsweep status` on a sweep while it writes: the text and --json forms, read in a
# tight loop while the coordinator appends, never fail and always parse; their
# counts add up and agree with `hpsweep trials` at the end; failures are counted by
# cause; --watch redraws in place on a terminal and leaves it clean on Ctrl-C, and
# ends by itself when the sweep does.
. "$(dirname "$0")/lib.sh"
need_mpirun
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "skip: no python3"; exit 77; }

cat > s.yaml <<'EOF'
name: st
seed: 5
objective:
  # every trial whose x starts 0.1 or 0.3 fails with exit status 3
  command: [sh, -c, 'sleep 0.05; case {x} in 0.1*|0.3*) echo broke >&2; exit 3;; esac; echo "@hpsweep loss={x}"']
metric: {name: loss}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 150, max_consecutive_failures: 0}
output: runs
EOF
hps_mpirun 3 "$HPS" run s.yaml > run.log 2>&1 &
RUN=$!

# Read it as fast as we can while it runs: every reading must succeed and parse.
reads=0
while kill -0 $RUN 2>/dev/null; do
    if [ -f runs/st/journal ]; then
        "$HPS" status runs/st > text.out 2>text.err || { cat text.err; fail "status failed while the sweep ran"; }
        grep -Eq '^(trials |status +starting$)' text.out || { cat text.out; fail "status text has no trials line"; }
        "$HPS" status --json runs/st > json.out 2>json.err || { cat json.err; fail "status --json failed while the sweep ran"; }
        "$PY" - json.out <<'EOF' || { cat json.out; fail "status --json did not parse or did not add up"; }
import json, sys
d = json.load(open(sys.argv[1]))
if d["status"] == "starting":    # the coordinator has not written its first record
    sys.exit(0)
t = d["trials"]
assert t["total"] == t["done"] + t["running"] + t["failed"] + t["interrupted"] + t["pruned"], t
assert len(d["running"]) == t["running"], d["running"]
assert sum(d["failures"]["by_cause"].values()) == t["failed"], d["failures"]
assert d["budget"]["max_trials"] == 150
EOF
        reads=$((reads + 1))
    fi
done
wait $RUN || { cat run.log; fail "the sweep failed"; }
[ "$reads" -ge 5 ] || fail "only $reads readings while the sweep ran"
ok "$reads readings of status and status --json while the sweep wrote: all parsed and added up"

"$HPS" status --json runs/st > final.json
"$HPS" trials runs/st --format csv > trials.csv
"$PY" - final.json trials.csv <<'EOF' || fail "final status --json disagrees with hpsweep trials"
import csv, json, sys
d = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
failed = [r for r in rows if r["status"] == "failed"]
done = [r for r in rows if r["status"] == "done"]
assert d["status"] == "completed" and not d["coordinator_running"], d["status"]
assert d["trials"]["total"] == len(rows) == 150
assert d["trials"]["done"] == len(done) and d["trials"]["failed"] == len(failed) > 0
assert d["failures"]["by_cause"] == {"exit:3": len(failed)}, d["failures"]["by_cause"]
recent = d["failures"]["recent"]
assert recent and recent[0]["trial_id"] == max(int(r["trial_id"]) for r in failed)
assert recent[0]["exit_code"] == 3 and "broke" in recent[0]["stderr_tail"]
best = min(done, key=lambda r: float(r["objective"]))
assert d["best"]["trial_id"] == int(best["trial_id"]), (d["best"], best)
assert d["best"]["params"]["x"] == float(best["x"])
assert d["running"] == [] and d["seconds_left"] is None
assert d["trials_per_hour"] > 0
EOF
"$HPS" status runs/st | grep -Eq "^failures +$(grep -c ',failed,' trials.csv) exit:3$" ||
    { "$HPS" status runs/st; fail "failures by cause"; }
ok "final status --json agrees with hpsweep trials (counts, failures by cause, best)"

# --watch on a terminal: start a slower sweep, watch it in a pseudo-terminal, Ctrl-C.
sed -e 's/name: st/name: slow/' -e 's/sleep 0.05/sleep 0.5/' -e 's/max_trials: 150/max_trials: 40/' s.yaml > slow.yaml
hps_mpirun 3 "$HPS" run slow.yaml > slow.log 2>&1 &
SLOW=$!
"$PY" - "$HPS" runs/slow <<'EOF' || fail "--watch on a terminal"
import os, pty, signal, sys, time
hps, d = sys.argv[1], sys.argv[2]
for _ in range(100):
    if os.path.exists(os.path.join(d, "journal")): break
    time.sleep(0.1)
pid, fd = pty.fork()
if pid == 0:
    os.execv(hps, [hps, "status", "--watch=0.2", d])
out = b""
import select
end = time.time() + 2.0
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try: out += os.read(fd, 65536)
        except OSError: break
os.kill(pid, signal.SIGINT)          # what Ctrl-C sends
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk: break
    out += chunk
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
frames = out.count(b"\x1b[H")
assert frames >= 4, frames                      # redrawn several times ...
assert out.count(b"\x1b[2J") == 1, out.count(b"\x1b[2J")   # ... cleared once, not per frame
assert out.startswith(b"\x1b[?25l"), out[:20]   # cursor hidden while drawing
assert out.rstrip(b"\r\n").endswith(b"\x1b[?25h"), out[-40:]   # and back after Ctrl-C
assert b"trials " in out and b"running    trial" in out, out[-2000:]
print("ok: --watch: %d frames, one clear, cursor restored after Ctrl-C" % frames)
EOF
# Without a terminal, --watch prints whole frames and ends when the sweep does.
timeout 120 "$HPS" status --watch=0.5 runs/slow > watch.log || fail "--watch did not end with the sweep"
wait $SLOW || { cat slow.log; fail "the slow sweep failed"; }
grep -q $'\033' watch.log && fail "--watch wrote terminal controls into a file"
[ "$(grep -c '^sweep ' watch.log)" -ge 2 ] || fail "--watch printed fewer than two frames"
tail -n 20 watch.log | grep -q '^status *completed' || fail "--watch's last frame is not the completed sweep"
ok "--watch without a terminal: plain frames, ends with the sweep"

# Before a sweep exists, --watch waits for it; status alone says there is none.
expect_exit 2 "$HPS" status runs/none
grep -q 'no sweep here' "$WORK/err" || fail "status of a missing sweep"
timeout -s INT 2 "$HPS" status --watch=0.5 runs/none > wait.log || [ $? = 124 ] || fail "--watch of a missing sweep"
grep -q 'waiting for a sweep in runs/none' wait.log || fail "--watch does not say it waits"
expect_exit 2 "$HPS" status runs/st --watch=0
ok "status of a missing sweep, --watch waiting for one, bad --watch refused"
