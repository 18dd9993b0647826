# Shared helpers for the integration tests (sourced, not run). Each test gets the
# hpsweep binary as $1 and the source tree as $2, works in its own temp dir and
# exits 0 (pass), 1 (fail) or 77 (skip).
set -euo pipefail
HPS=$1
SRC=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Keep Open MPI quiet and local in containers without a network.
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d /tmp/hps-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

need_mpirun() { command -v mpirun >/dev/null || { echo "skip: no mpirun"; exit 77; }; }

# mpirun with root and oversubscription allowed.
hps_mpirun() { local np=$1; shift; mpirun --allow-run-as-root --oversubscribe -np "$np" "$@"; }

# trial_id,status,seed and the parameter columns (drops times/worker) from a sweep.
trial_keys() { "$HPS" trials "$1" --format csv | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
  {printf "%s,%s,%s", $c["trial_id"], $c["status"], $c["seed"];
   for(i=c["attempts"]+1;i<=NF;i++) printf ",%s", $i; printf "\n"}'; }

# A field of `hpsweep status` ("trials" line parsing): done/running/failed/interrupted.
status_count() { "$HPS" status "$1" | awk -v k="$2" '/^trials/{for(i=1;i<=NF;i++) if($(i+1) ~ "^"k) {gsub(/[,:]/,"",$i); print $i; exit}}'; }

expect_exit() { local want=$1; shift; set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local got=$?; set -e
  [ "$got" = "$want" ] || { cat "$WORK/err" >&2; fail "'$*' exited $got, expected $want"; }; }

# The directory of trial ID in sweep directory DIR (trials/<id>, zero-padded or not).
trial_dir_of() { local d n
    for d in "$1"/trials/*/; do
        d=${d%/}; n=${d##*/}
        [[ $n =~ ^[0-9]+$ ]] && [ "$((10#$n))" = "$2" ] && { echo "$d"; return 0; }
    done
    return 1; }

# Every trial of DIR is `done`, and there are N of them.
all_done() { local dir=$1 n=$2 csv
    csv=$("$HPS" trials "$dir" --format csv)
    [ "$(echo "$csv" | awk -F, 'NR>1' | wc -l)" = "$n" ] || { echo "$csv" >&2; fail "$dir: expected $n trials"; }
    echo "$csv" | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
        $c["status"]!="done"{bad=1; print > "/dev/stderr"} END{exit bad}' ||
        fail "$dir: trials not done (above; see their stderr.log)"; }
