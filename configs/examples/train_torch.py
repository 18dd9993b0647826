#!/usr/bin/env python3
"""Train a small MLP on a synthetic two-spirals problem; an hpsweep objective.

Everything it needs is made here (no downloads): the data set is drawn from
--data-seed (the same for every trial, so trials are compared on one problem);
the trial's seed (HPSWEEP_SEED) drives the weight initialisation and the
mini-batch order, so one trial is reproducible bit for bit on the CPU.

Each epoch it prints `@hpsweep step=<epoch> val_loss=... train_loss=... val_acc=...`
and writes model + optimizer + epoch to $HPSWEEP_TRIAL_DIR/checkpoint.pt (a temp
file, fsynced, then renamed, so a kill never leaves half a checkpoint). When that
checkpoint exists -- a retry after a crash, a re-run after an interruption, or a
promotion to a larger budget -- or HPSWEEP_RESUME=1, it continues from it and
prints `@hpsweep step=<epoch> resumed_from=<epoch>` first; because the batch
order of each epoch comes from (seed, epoch), a resumed run ends with the same
numbers as one that never stopped.

By hand:  python3 train_torch.py --lr 0.01 --layers 2 --width 32 --epochs 20
In hpsweep: see torch_sweep.yaml next to it. Needs PyTorch (Debian: python3-torch).
"""

import argparse
import math
import os
import sys
import time

# Deterministic cuBLAS if someone runs it with --device cuda; must precede the import.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hpsweep_report as hs  # noqa: E402

CHECKPOINT = "checkpoint.pt"
MASK63 = (1 << 63) - 1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    p.add_argument("--layers", type=int, default=2, help="hidden layers (>= 1)")
    p.add_argument("--width", type=int, default=32, help="units per hidden layer")
    p.add_argument("--epochs", type=float, default=None,
                   help="epochs to train to (the sweep's budget; fractions round up); "
                        "0 or absent: $HPSWEEP_BUDGET, and if that is 0 or unset, --max-epochs")
    p.add_argument("--max-epochs", type=int, default=20, help="the full budget, in epochs")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--n-train", type=int, default=1024)
    p.add_argument("--n-val", type=int, default=512)
    p.add_argument("--data-seed", type=int, default=1234,
                   help="seed of the data set (fixed across trials)")
    p.add_argument("--seed", type=int, default=None, help="default: $HPSWEEP_SEED, else 0")
    p.add_argument("--trial-dir", default=None,
                   help="checkpoint directory; default: $HPSWEEP_TRIAL_DIR, else no checkpoints")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    a = p.parse_args(argv)
    if a.layers < 1 or a.width < 1 or a.batch_size < 1 or a.max_epochs < 1:
        p.error("--layers, --width, --batch-size and --max-epochs must be >= 1")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        p.error("--lr must be a positive number")
    if a.epochs is None or a.epochs <= 0:
        b = hs.budget(0.0)
        a.epochs = b if b > 0 else a.max_epochs
    a.epochs = max(1, math.ceil(a.epochs - 1e-9))
    if a.seed is None:
        a.seed = hs.seed(0)
    if a.trial_dir is None:
        a.trial_dir = hs.trial_dir()
    return a


def two_spirals(n, generator, noise=0.25, turns=1.75):
    """n points on two interleaved spirals (labels 0/1), roughly in [-1, 1]^2."""
    t = torch.sqrt(torch.rand(n, generator=generator)) * turns * 2 * math.pi
    label = torch.randint(0, 2, (n,), generator=generator)
    sign = 1.0 - 2.0 * label.to(torch.float32)                 # class 1 is class 0 turned by pi
    xy = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) * sign[:, None]
    xy = xy + noise * torch.randn(n, 2, generator=generator)
    return xy / (turns * 2 * math.pi), label


def make_model(layers, width):
    mods, d = [], 2
    for _ in range(layers):
        mods += [nn.Linear(d, width), nn.Tanh()]
        d = width
    mods.append(nn.Linear(d, 2))
    return nn.Sequential(*mods)


def evaluate(model, x, y, loss_fn):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = loss_fn(logits, y).item()
        acc = (logits.argmax(dim=1) == y).to(torch.float32).mean().item()
    model.train()
    return loss, acc


def save_checkpoint(path, state):
    """Write atomically: temp file in the same directory, fsync, rename over."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv):
    a = parse_args(argv)
    torch.use_deterministic_algorithms(True)
    device = torch.device(a.device)
    config = {"lr": a.lr, "layers": a.layers, "width": a.width, "batch_size": a.batch_size,
              "n_train": a.n_train, "n_val": a.n_val, "data_seed": a.data_seed, "seed": a.seed}

    g = torch.Generator().manual_seed(a.data_seed)
    x_train, y_train = two_spirals(a.n_train, g)
    x_val, y_val = two_spirals(a.n_val, g)
    x_train, y_train, x_val, y_val = (t.to(device) for t in (x_train, y_train, x_val, y_val))

    torch.manual_seed(a.seed)  # the trial's seed: initial weights
    model = make_model(a.layers, a.width).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()

    start_epoch = 0
    ckpt_path = None
    if a.trial_dir:
        os.makedirs(a.trial_dir, exist_ok=True)
        ckpt_path = os.path.join(a.trial_dir, CHECKPOINT)
    if ckpt_path and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location=device)
        if ckpt.get("config") != config:
            sys.exit(f"train_torch.py: {ckpt_path} was written for {ckpt.get('config')}, "
                     f"not {config}; remove it or use another trial directory")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        start_epoch = int(ckpt["epoch"])
        hs.report(step=start_epoch, resumed_from=start_epoch)
    elif os.environ.get("HPSWEEP_RESUME") == "1":
        print(f"train_torch.py: HPSWEEP_RESUME=1 but no checkpoint in {a.trial_dir}; "
              "starting from epoch 0", file=sys.stderr)

    if start_epoch >= a.epochs:
        # Already trained this far (e.g. re-run after the last checkpoint was written):
        # report the result again so this run has one.
        val_loss, val_acc = evaluate(model, x_val, y_val, loss_fn)
        hs.report(step=start_epoch, val_loss=val_loss, val_acc=val_acc)
        return 0

    t0 = time.process_time()
    n = x_train.shape[0]
    for epoch in range(start_epoch + 1, a.epochs + 1):
        # The batch order of each epoch depends only on (seed, epoch): resumable exactly.
        order_gen = torch.Generator().manual_seed((a.seed + 0x9E3779B97F4A7C15 * epoch) & MASK63)
        perm = torch.randperm(n, generator=order_gen).to(device)
        total = 0.0
        for i in range(0, n, a.batch_size):
            idx = perm[i:i + a.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        train_loss = total / n
        val_loss, val_acc = evaluate(model, x_val, y_val, loss_fn)
        hs.report(step=epoch, val_loss=val_loss, train_loss=train_loss, val_acc=val_acc)
        if not (math.isfinite(val_loss) and math.isfinite(train_loss)):
            # Diverged: hpsweep records the NaN/inf as the trial's failure; no point going on.
            print(f"train_torch.py: loss is not finite at epoch {epoch}; stopping", file=sys.stderr)
            return 0
        if ckpt_path:
            save_checkpoint(ckpt_path, {"epoch": epoch, "model": model.state_dict(),
                                        "optimizer": opt.state_dict(), "config": config,
                                        "val_loss": val_loss})
    print(f"train_torch.py: epochs {start_epoch + 1}..{a.epochs}, val_loss {val_loss:.6f}, "
          f"val_acc {val_acc:.4f}, {time.process_time() - t0:.2f} s CPU training",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
