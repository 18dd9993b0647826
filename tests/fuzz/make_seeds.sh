#!/bin/bash
# Make the seed corpora under tests/fuzz/corpus/ from real sweeps: journals (as
# they lie on disk, and framed for the replay form, see fuzz.h), sweep.h5 files,
# report lines and configs. usage: make_seeds.sh HPSWEEP
# The committed seeds were made with it; run it again after a format change.
set -euo pipefail
HPS=$(readlink -f "$1")
OUT=$(cd "$(dirname "$0")" && pwd)/corpus
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/hps-seeds.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p "$OUT/config" "$OUT/journal" "$OUT/report_line" "$OUT/results"
cat > random.yaml <<'YAML'
name: random
seed: 1
objective: {function: branin}
space:
  x1: {type: float, low: -5, high: 10}
  x2: {type: float, low: 0, high: 15}
budget: {max_trials: 5}
YAML
cat > hb.yaml <<'YAML'
name: hb
seed: 2
objective: {function: sleep, seconds: 0}
space:
  x: {type: float, low: -1, high: 1}
  n: {type: int, low: 1, high: 8}
  c: {type: categorical, choices: [a, b, 3]}
  f: {type: bool}
strategy: {name: hyperband, min_resource: 1, max_resource: 9, eta: 3}
budget: {max_resource: 60}
YAML
cat > cmd.yaml <<'YAML'
name: cmd
seed: 3
objective:
  command: [sh, -c, 'echo "@hpsweep step=1 loss={x} acc=0.5"; echo "@hpsweep step=2 loss={x}"; [ "{trial_id}" != 2 ]']
metric: {name: loss}
space:
  x: {type: float, low: 0, high: 1}
strategy: {name: tpe, n_startup: 2}
budget: {max_trials: 4}
YAML
for s in random hb cmd; do "$HPS" run $s.yaml --quiet 2>/dev/null || true; done
# Frame a journal's records for the replay form: [type][trial i8][len u16][payload].
# (frame works on layout-1 journals, made by builds before journal format 4.)
frame() { python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out, off = bytearray(b'\x01'), 16
while off + 28 <= len(d):
    n, t, seq, trial = struct.unpack_from('<IIQq', d, off)
    if n > 65535: break
    out += struct.pack('<Bbh', t, max(-128, min(127, trial)), 0)[:2] + struct.pack('<H', n)
    out += d[off + 24: off + 24 + n]
    off += 28 + n
sys.stdout.buffer.write(bytes(out))
PY
}
# The pack form (layout 2): [count u8][len u16][pack payload] per pack.
packs() { python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out, off = bytearray(b'\x02'), 16
while off + 28 <= len(d):
    n, t, seq, count = struct.unpack_from('<IIQq', d, off)
    if n > 65535: break
    out += struct.pack('<BH', (count - 1) % 16, n) + d[off + 24: off + 24 + n]
    off += 28 + n
sys.stdout.buffer.write(bytes(out))
PY
}
# New journals have layout 2 (journal format 4): -raw2 and -packed. The -raw and
# -framed seeds are layout 1 (format 3, made by an older build) and kept as they are.
for s in random hb cmd; do
    { printf '\0'; cat runs/$s/journal; } > "$OUT/journal/$s-raw2"
    packs runs/$s/journal > "$OUT/journal/$s-packed"
done
cp runs/random/sweep.h5 "$OUT/results/random.h5"
cp runs/hb/sweep.h5 "$OUT/results/hyperband.h5"
cp runs/cmd/sweep.h5 "$OUT/results/command.h5"
printf '@hpsweep step=3 val_loss=0.231 acc=0.91' > "$OUT/report_line/plain"
printf '@hpsweep\tloss=1e999 resource=2.5 tiny=1e-999 x=nan' > "$OUT/report_line/extremes"
printf '@hpsweep = a= =b step=7 c=1x d=+.5e-3\r' > "$OUT/report_line/junk"
cp "$SRC/configs/quickstart.yaml" "$SRC/configs/hyperband.yaml" "$SRC/configs/pruning.yaml" \
   "$SRC/configs/examples/command_sweep.yaml" "$OUT/config/"
cp hb.yaml cmd.yaml "$OUT/config/"
ls -la "$OUT"/*
