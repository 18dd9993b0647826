#!/bin/bash
# Damaged files, end to end, with the real binary (serial: no mpirun needed).
# A flipped byte inside the journal (a RESULT, a SUGGEST, the HEADER) is refused
# by resume and run --resume (exit 6) and reported by status, leaving the file as
# it was; `resume --salvage` keeps every record that verifies, saves the original,
# reports the loss, and the finished sweep equals an uninterrupted one. A torn or
# zero-filled tail is still cut without asking. A damaged sweep.h5 is reported by
# best/trials (exit 6) and written again by resume.
source "$(dirname "$0")/lib.sh"
cat > d.yaml <<'YAML'
name: dmg
seed: 7
objective: {function: branin}
space:
  x1: {type: float, low: -5, high: 10}
  x2: {type: float, low: 0, high: 15}
strategy: {name: random, sampler: sobol}
budget: {max_trials: 40}
YAML
"$HPS" run d.yaml --output ref --quiet 2>/dev/null
trial_keys ref/dmg > ref.keys
[ "$(wc -l < ref.keys)" = 40 ] || fail "reference run incomplete"

# Where the n-th record (1-based) of a type lies in a journal, from its layout
# (engine/store/journal.h): "OFFSET COUNT", the offset of the physical record that
# holds it and how many records that one holds. 16-byte file header, then per
# physical record u32 length, u32 type, u64 seq, i64 trial id (layout 2: the count
# of records in the pack), payload, u32 CRC; a layout-2 pack's payload is its
# records, each a varint size, then a varint (type << 1 | compact), ...
record_at() { python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
want, nth, off, seen = int(sys.argv[2]), int(sys.argv[3]), 16, 0
layout = struct.unpack_from('<I', data, 8)[0]
def uv(o):
    v = s = 0
    while True:
        b = data[o]; o += 1; v |= (b & 0x7f) << s; s += 7
        if b < 0x80: return v, o
while off + 28 <= len(data):
    n, t, seq, count = struct.unpack_from('<IIQq', data, off)
    types, p = [t], off + 24
    if layout == 2:
        types = []
        for _ in range(count):
            size, q = uv(p)
            types.append(uv(q)[0] >> 1)
            p = q + size
    for ty in types:
        if ty == want:
            seen += 1
            if seen == nth:
                print(off, len(types)); sys.exit(0)
    off += 28 + n
PY
}
flip() { python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^0x20]))" "$1" "$2"; }

# 1. A RESULT in the middle: refused everywhere, nothing changed. (A flipped byte
#    makes the whole pack it lies in fail to verify: n records.)
cp -r ref a
read -r at n < <(record_at a/dmg/journal 4 17)
flip a/dmg/journal $((at + 26))
cp a/dmg/journal damaged.copy
expect_exit 6 "$HPS" resume a/dmg --quiet
grep -q "is damaged: record [0-9]* (at byte $at) does not verify, yet [0-9]* records after it verify" "$WORK/err" || { cat "$WORK/err"; fail "resume: no damage message"; }
grep -q -- "--salvage" "$WORK/err" || fail "resume: no pointer to --salvage"
cmp -s a/dmg/journal damaged.copy || fail "resume changed a damaged journal"
expect_exit 6 "$HPS" run d.yaml --output a --resume --quiet
expect_exit 6 "$HPS" status a/dmg
grep -q "^status *DAMAGED journal" "$WORK/out" || fail "status does not say the journal is damaged"
grep -q "done" "$WORK/out" && fail "status printed counts for a damaged journal"
cmp -s a/dmg/journal damaged.copy || fail "status or run changed a damaged journal"
ok "a damaged RESULT: resume, run --resume and status refuse with exit 6; the file is unchanged"

expect_exit 0 "$HPS" resume a/dmg --salvage --quiet
grep -q "salvaged a/dmg/journal" "$WORK/err" || { cat "$WORK/err"; fail "no salvage report"; }
grep -q "lost *$n damaged records\? (record" "$WORK/err" || { cat "$WORK/err"; fail "salvage: wrong loss"; }
copy=$(ls a/dmg/journal.damaged-*)
cmp -s "$copy" damaged.copy || fail "the original was not kept as journal.damaged-*"
trial_keys a/dmg > a.keys
diff -q ref.keys a.keys >/dev/null || { diff ref.keys a.keys | head; fail "after salvage: trial set differs"; }
[ "$(status_count a/dmg done)" = 40 ] && [ "$(status_count a/dmg running)" = 0 ] || fail "after salvage: not 40 done"
ok "salvage: the $n records of the damaged pack lost, their trials re-run, 40 trials as in the uninterrupted run, original kept"

# 2. A SUGGEST: the strategy is asked for it again when it was the only record
#    lost (a pack of its own) with all before it intact; in a pack with others, those
#    are lost with it and the trials whose records were lost run again.
cp -r ref b
read -r at n < <(record_at b/dmg/journal 2 9)
flip b/dmg/journal $((at + 26))
expect_exit 0 "$HPS" resume b/dmg --salvage --quiet
if [ "$n" = 1 ]; then
    grep -q "re-derived the lost suggestion of trial 8" "$WORK/err" || { cat "$WORK/err"; fail "SUGGEST not re-derived"; }
    grep -q "dropped   0 records" "$WORK/err" || { cat "$WORK/err"; fail "records dropped after a re-derived SUGGEST"; }
else
    grep -q "lost *$n damaged records" "$WORK/err" || { cat "$WORK/err"; fail "salvage of a SUGGEST's pack: wrong loss"; }
fi
trial_keys b/dmg > b.keys
diff -q ref.keys b.keys >/dev/null || { diff ref.keys b.keys | head; fail "after salvage of a SUGGEST: trial set differs"; }
ok "a damaged SUGGEST ($n records in its pack) is salvaged; the sweep equals the uninterrupted one"

# 3. The HEADER record (config and seed): refused, and nothing to salvage.
cp -r ref c
flip c/dmg/journal 60
cp c/dmg/journal header.copy
expect_exit 6 "$HPS" resume c/dmg --quiet
grep -q "record 1 (at byte 16) does not verify" "$WORK/err" || { cat "$WORK/err"; fail "HEADER damage not located"; }
expect_exit 6 "$HPS" resume c/dmg --salvage --quiet
grep -q "nothing can be salvaged" "$WORK/err" || { cat "$WORK/err"; fail "HEADER salvage message"; }
cmp -s c/dmg/journal header.copy || fail "a journal with a damaged HEADER was changed"
ok "a damaged HEADER: refused with exit 6 (was: cut to 16 bytes), salvage says why it cannot help"

# 4. Torn and zero-filled tails are still cut without asking.
cp -r ref t
size=$(stat -c %s t/dmg/journal)
truncate -s $((size - 9)) t/dmg/journal
head -c 4096 /dev/zero >> t/dmg/journal
expect_exit 0 "$HPS" resume t/dmg --quiet
grep -q "cut [0-9]* bytes of torn tail" "$WORK/err" || { cat "$WORK/err"; fail "torn tail not cut"; }
trial_keys t/dmg > t.keys
diff -q ref.keys t.keys >/dev/null || fail "after a torn tail: trial set differs"
ok "a torn last record plus a zero-filled tail: cut, resumed, same trials"

# 5. A damaged sweep.h5: reported (exit 6, pointing at resume), then rebuilt.
cp -r ref h
flip h/dmg/sweep.h5 3000
for cmd in best trials report; do
    expect_exit 6 "$HPS" "$cmd" h/dmg
    grep -q "is damaged" "$WORK/err" || { cat "$WORK/err"; fail "$cmd: no damage message"; }
    grep -q "hpsweep resume" "$WORK/err" || fail "$cmd: no pointer to resume"
    grep -q "H5[A-Z]" "$WORK/err" && fail "$cmd: HDF5's internals in the message"
done
expect_exit 0 "$HPS" resume h/dmg --quiet
expect_exit 0 "$HPS" best h/dmg
trial_keys h/dmg > h.keys
diff -q ref.keys h.keys >/dev/null || fail "rebuilt sweep.h5 differs"
ok "a damaged sweep.h5: best, trials and report exit 6; resume writes it again from the journal"
