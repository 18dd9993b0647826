#!/usr/bin/env bash
# Every config key in the README's reference tables is accepted by the parser, and
# every key the parser accepts (asked through `hpsweep run`'s own "valid keys"
# messages) is in a table: the reference cannot drift from the code.
. "$(dirname "$0")/lib.sh"
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "skip: no python3"; exit 77; }
"$PY" "$SRC/tests/integration/config_keys.py" "$HPS" "$SRC/README.md" "$WORK" ||
    fail "the README's config reference and the parser disagree (above)"
