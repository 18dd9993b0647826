#!/usr/bin/env bash
# `hpsweep status` from the summary sweep.h5 stores (store_index.c) says exactly
# what a replay of the journal says: for a completed sweep with failures (text and
# --json), Hyperband and deterministic sweeps, one whose coordinator was killed
# with trials running, and one stopped by SIGTERM. The replay is forced by hiding sweep.h5; times relative to
# "now" (ages, elapsed) are left out of the comparison. A journal that changed
# since the summary was written (appended, or one byte changed in place) is
# replayed, never read from the summary.
. "$(dirname "$0")/lib.sh"
need_mpirun

# status of $1 (args...) with the times that depend on the reading's moment cut out.
steady() { "$HPS" status "$@" | sed -E 's/[0-9:.dhms]+ ago//g; s/ for [0-9:.dhms]+//;
    s/"read_at":"[^"]*"//; s/"elapsed":[0-9.e+-]+//g'; }
# status of $1 from the summary and from the journal (sweep.h5 hidden), compared.
same_both_ways() {
    local dir=$1 what=$2; shift 2
    steady "$dir" "$@" > summary.out
    mv "$dir/sweep.h5" hidden.h5
    steady "$dir" "$@" > replay.out
    mv hidden.h5 "$dir/sweep.h5"
    diff replay.out summary.out || fail "$what: status from the summary differs from the replay"
}

cat > f.yaml <<'EOF'
name: f
seed: 3
objective:
  # x starting 0.1 fails with exit 3, 0.2 with exit 4: two causes
  command: [sh, -c, 'case {x} in 0.1*) exit 3;; 0.2*) echo bad >&2; exit 4;; esac; echo "@hpsweep loss={x}"']
metric: {name: loss}
space:
  x: {type: float, low: 0, high: 1}
  opt: {type: categorical, choices: [adam, sgd]}
budget: {max_trials: 60, max_consecutive_failures: 0}
output: runs
EOF
hps_mpirun 3 "$HPS" run f.yaml --quiet > run.log 2>&1 || { cat run.log; fail "the sweep failed"; }
grep -q '^failures' <("$HPS" status runs/f) || fail "the sweep has no failures to show"
same_both_ways runs/f "completed with failures"
same_both_ways runs/f "completed with failures, --json" --json
ok "completed sweep with failures: the same both ways"

# Multi-fidelity (rungs and budgets) and deterministic sweeps, with the budget in force.
for cfg in hyperband deterministic; do
    hps_mpirun 3 "$HPS" run "$SRC/configs/$cfg.yaml" --output runs --quiet > run.log 2>&1 ||
        { cat run.log; fail "$cfg: the sweep failed"; }
    same_both_ways "runs/$cfg" "$cfg"
    same_both_ways "runs/$cfg" "$cfg, --json" --json
done
ok "hyperband and deterministic sweeps: the same both ways"

# A changed journal is replayed: append a byte, then restore it; change one in place.
cp -p runs/f/journal journal.bak
steady runs/f > before.out
printf 'x' >> runs/f/journal
steady runs/f > torn.out # a torn tail: the replay ignores it, so the same text
diff before.out torn.out || fail "a torn tail changed status"
cp -p journal.bak runs/f/journal # restored: same size, mtime, inode: the summary again
steady runs/f > copied.out
diff before.out copied.out || fail "a copied journal changed status"
size=$(stat -c %s runs/f/journal)
# the byte's complement: a fixed byte is sometimes the one already there (seen once)
byte=$(od -An -tu1 -j $((size / 2)) -N1 runs/f/journal | tr -d ' ')
printf "\\$(printf %03o $((255 - byte)))" |
    dd of=runs/f/journal bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s journal.bak runs/f/journal && fail "the journal was not changed"

set +e
"$HPS" status runs/f > damaged.out 2>&1
rc=$?
set -e
[ "$rc" = 6 ] && grep -q DAMAGED damaged.out || { cat damaged.out; fail "a journal damaged in place read from the summary (exit $rc)"; }
ok "changed journals are replayed"

# Killed with trials running: the summary lists them as the journal does.
cat > k.yaml <<'EOF'
name: k
seed: 4
objective: {command: [sleep, "60"]}
space:
  x: {type: float, low: 0, high: 1}
budget: {max_trials: 4}
output: runs
EOF
setsid mpirun --allow-run-as-root --oversubscribe -np 3 "$HPS" run k.yaml --quiet >/dev/null 2>&1 &
pid=$!
# The coordinator rewrites sweep.h5 at most every 2 s: wait for one that lists
# the two running trials, then past the next write so the journal is unchanged.
for _ in $(seq 300); do
    "$HPS" status runs/k 2>/dev/null | grep -q 'trials .*2 running' && break
    sleep 0.1
done
sleep 5
kill -9 -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
for _ in $(seq 100); do pgrep -f "$HPS run k.yaml" >/dev/null || break; sleep 0.1; done
"$HPS" status runs/k > killed.out; grep -Eq "^running +trial" killed.out || { cat killed.out; fail "no running trial after the kill"; }
same_both_ways runs/k "killed with trials running"
same_both_ways runs/k "killed with trials running, --json" --json
ok "killed sweep: the same both ways"

# Stopped by SIGTERM: interrupted trials.
setsid mpirun --allow-run-as-root --oversubscribe -np 3 "$HPS" resume runs/k --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 300); do
    "$HPS" status runs/k 2>/dev/null | grep -q '^status *running' && break
    sleep 0.1
done
sleep 1
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
for _ in $(seq 100); do pgrep -f "$HPS resume runs/k" >/dev/null || break; sleep 0.1; done
same_both_ways runs/k "interrupted"
same_both_ways runs/k "interrupted, --json" --json
ok "interrupted sweep: the same both ways"
