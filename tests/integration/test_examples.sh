#!/bin/bash
# The command example users copy, run as written under mpirun:
# configs/examples/command_sweep.yaml (python3 quadratic.py, stdlib only) on 3
# ranks: every trial done, one stdout.log per trial with its @hpsweep lines, the
# recorded objective equal to the last loss the script printed, `best` works, and
# re-running the best trial by hand, as the README shows (`best --format env` for
# its seed, `--format args` for its parameters), reproduces its recorded value.
# The PyTorch example has its own test (test_torch_example.sh), which skips.
source "$(dirname "$0")/lib.sh"
need_mpirun
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
EX=$SRC/configs/examples
# The trials import hpsweep_report.py from the source tree: leave no __pycache__ there.
export PYTHONDONTWRITEBYTECODE=1

hps_mpirun 3 "$HPS" run "$EX/command_sweep.yaml" --output "$WORK/runs" --quiet 2>"$WORK/err" ||
    { cat "$WORK/err" >&2; fail "command_sweep.yaml under mpirun -np 3 failed"; }
D=$WORK/runs/command_sweep
all_done "$D" 12
[ "$(status_count "$D" failed)" = 0 ] || fail "command_sweep: failed trials"
# Each trial's stdout.log holds its 5 report lines, and the recorded objective is the
# last loss printed (compared as doubles: the two sides may print different digits).
"$HPS" trials "$D" --format csv | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
    {print $c["trial_id"], $c["objective"]}' > objectives
while read -r id obj; do
    td=$(trial_dir_of "$D" "$id") || fail "command_sweep: no directory for trial $id"
    [ -f "$td/stdout.log" ] || fail "command_sweep: no $td/stdout.log"
    [ -f "$td/stderr.log" ] || fail "command_sweep: no $td/stderr.log"
    n=$(grep -c '^@hpsweep step=[0-9]* loss=' "$td/stdout.log" || true)
    [ "$n" = 5 ] || fail "command_sweep: trial $id: $n report lines in stdout.log, expected 5"
    last=$(grep '^@hpsweep ' "$td/stdout.log" | tail -1 | sed 's/.*loss=//')
    awk -v a="$obj" -v b="$last" 'BEGIN{d=a-b; if(d<0)d=-d; m=(b<0?-b:b); exit !(d<=1e-12*(m>1?m:1))}' ||
        fail "command_sweep: trial $id recorded $obj, its last report was $last"
done < objectives
"$HPS" best "$D" --format json > best.json || fail "best on command_sweep"
for key in loss x y; do
    grep -q "\"$key\"" best.json || { cat best.json >&2; fail "best: no \"$key\""; }
done
ok "command_sweep: 12 trials done on 3 ranks, stdout.log per trial, objective = last report, best $(tr -d ' \n' < best.json | sed 's/.*"loss":\([^,]*\).*/loss=\1/')"


# Re-run the best trial by hand, as the README says: the seed comes with the env
# format, the parameters with the args format; the value is the recorded one.
recorded=$(sed -n 's/^ *"loss": *\([^,]*\),*$/\1/p' best.json)
(
    cd "$EX"
    set -a; eval "$("$HPS" best "$D" --format env)"; set +a
    eval "python3 quadratic.py $("$HPS" best "$D" --format args) --steps 5"
) > rerun.out || fail "re-running the best trial by hand failed"
again=$(tail -1 rerun.out | sed 's/.*loss=//')
awk -v a="$recorded" -v b="$again" 'BEGIN{d=a-b; if(d<0)d=-d; m=(b<0?-b:b); exit !(d<=1e-12*(m>1?m:1))}' ||
    fail "the best trial re-run by hand gave loss $again, recorded $recorded"
ok "the best trial re-run by hand (env for the seed, args for the parameters): loss $again, as recorded"
