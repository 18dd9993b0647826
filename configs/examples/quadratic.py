#!/usr/bin/env python3
"""The smallest external-command objective: a noisy quadratic, standard library only.

    python3 quadratic.py --x 0.5 --y -1.5 [--steps 5]

Prints one `@hpsweep step=<s> loss=<value>` line per step. The loss is
(x - 1)^2 + (y + 2)^2 plus noise that shrinks with each step (like a training
curve settling down), so the last report -- the trial's result -- is the least
noisy; the minimum is near x = 1, y = -2. The noise comes from the trial's seed
(HPSWEEP_SEED), so a trial re-run with its seed reports the same numbers.

The lines are written with plain print(): the protocol is text on stdout, and
nothing from hpsweep has to be imported (hpsweep_report.py is a convenience).
"""
import argparse
import os
import random
import time


def main():
    p = argparse.ArgumentParser(description="noisy quadratic for hpsweep")
    p.add_argument("--x", type=float, required=True)
    p.add_argument("--y", type=float, required=True)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--sleep", type=float, default=0.0, help="seconds per step (to watch it run)")
    a = p.parse_args()

    rng = random.Random(int(os.environ.get("HPSWEEP_SEED", "0")))
    base = (a.x - 1.0) ** 2 + (a.y + 2.0) ** 2
    for step in range(1, a.steps + 1):
        loss = base + rng.gauss(0.0, 0.5 / step)
        # flush=True: the line reaches hpsweep now, not when the buffer fills at exit.
        print(f"@hpsweep step={step} loss={loss!r}", flush=True)
        if a.sleep > 0:
            time.sleep(a.sleep)


if __name__ == "__main__":
    main()
