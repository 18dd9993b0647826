#!/bin/bash
# The README and the program agree: each subcommand's row in the README's command
# table names exactly the options its --help lists, every --help states the exit
# codes, and the README's exit-code paragraph names every code the CLI defines.
# (So a help text and the README cannot drift apart unnoticed.)
source "$(dirname "$0")/lib.sh"
README=$SRC/README.md
# The options (--name, and -o) in a text, sorted and unique.
flags() { { grep -oE -- '(^|[[ (|])--?[a-z][a-z-]*' || true; } | sed -E 's/^[[ (|]//' | { grep -vx -e '-h' -e '-np' || true; } | sort -u; }
for cmd in run resume status best trials report show check compare reproduce "dataset synth" \
           "dataset check"; do
    # shellcheck disable=SC2086 # "dataset synth" is two words
    help=$("$HPS" $cmd --help)
    row=$(grep -E "^\| \`hpsweep $cmd " "$README" | head -1)
    [ -n "$row" ] || fail "README: no row for hpsweep $cmd"
    synopsis=$(echo "$row" | sed -E 's/^\| `([^`]*)`.*/\1/')   # the row's code span
    want=$(echo "$help" | sed -n '1,/^$/p' | flags)      # the usage lines
    got=$(echo "$synopsis" | flags)
    [ "$want" = "$got" ] || fail "hpsweep $cmd: --help's usage names [$(echo $want)], README's row [$(echo $got)]"
    echo "$help" | grep -q '^Exit codes:' || fail "hpsweep $cmd --help states no exit codes"
done
ok "README command rows match each --help usage line; every --help states its exit codes"
# --quiet keeps the summary line, as the README says.
"$HPS" run --help | grep -- '--quiet' | grep -q 'summary line stays' || fail "run --help: --quiet wording"
grep -q -- '`--quiet` keeps only that line' "$README" || fail "README: --quiet wording"
# Every named exit code of the CLI is in the README's exit-code paragraph.
for code in $(sed -n 's/.*HPS_EXIT_[A-Z_]* = \([0-9]*\).*/\1/p' "$SRC/engine/cli/cli.h"); do
    sed -n '/^Every subcommand takes `--help`. Exit codes:/,/^$/p' "$README" | grep -qE "(^|[ *])$code " ||
        fail "README's exit-code paragraph lacks $code"
done
ok "the README names every exit code engine/cli/cli.h defines"
