#!/usr/bin/env python3
"""Data-parallel training with PyTorch DDP as one hpsweep trial on a group of ranks.

hpsweep starts this script on every rank of a trial group (objective.launch:
group, see ddp_sweep.yaml) with the environment torchrun would give it: RANK,
WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, and each
rank's own CUDA_VISIBLE_DEVICES. So it is a plain torchrun-style script:

    torch.distributed.init_process_group(backend)      # env:// -- nothing to pass
    model = DistributedDataParallel(model)
    DistributedSampler(train_set, seed=...)

The backend is nccl when CUDA is available, else gloo. The task is train_torch.py's
(an MLP on two-spirals data made here from --data-seed); each rank trains on its
DistributedSampler shard, DDP averages the gradients, so every rank holds the same
parameters after every step.

Each epoch every rank prints `@hpsweep step=<epoch> world_size=<n> checksum=<sum of
its parameters>` (hpsweep counts rank 0's lines only; the others go to
trials/<id>/rank<k>.stdout.log, where you can check the ranks agree), and rank 0
also prints val_loss, train_loss and val_acc. Rank 0 writes model, optimizer and
epoch to $HPSWEEP_TRIAL_DIR/checkpoint.pt (temp file, fsync, rename); when that
file exists (a promotion to a larger budget under ASHA, a retry, a re-run after an
interruption) every rank loads it and continues, and rank 0 reports
resumed_from=<epoch>.

For tests: --fail-rank R [--fail-trial T] makes rank R exit 1 at the first epoch
(of trial T only), as a crashing rank would: hpsweep stops the other ranks and
records the trial as failed with the rank named ("rank 1: exit:1").

Needs PyTorch (Debian: python3-torch).
"""

import argparse
import math
import os
import sys

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hpsweep_report as hs  # noqa: E402
from train_torch import make_model, two_spirals  # noqa: E402

CHECKPOINT = "checkpoint.pt"
MASK63 = (1 << 63) - 1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--epochs", type=float, default=None,
                   help="epochs to train to (default: $HPSWEEP_BUDGET, else --max-epochs)")
    p.add_argument("--max-epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=64, help="the global batch")
    p.add_argument("--n-train", type=int, default=1024)
    p.add_argument("--n-val", type=int, default=512)
    p.add_argument("--data-seed", type=int, default=1234)
    p.add_argument("--fail-rank", type=int, default=-1)
    p.add_argument("--fail-trial", type=int, default=-1)
    a = p.parse_args(argv)
    if a.epochs is None or a.epochs <= 0:
        b = hs.budget(0.0)
        a.epochs = b if b > 0 else a.max_epochs
    a.epochs = max(1, math.ceil(a.epochs - 1e-9))
    return a


def checksum(model):
    with torch.no_grad():
        return float(sum(p.detach().double().sum() for p in model.parameters()))


def save_checkpoint(path, state):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv):
    a = parse_args(argv)
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    backend = "nccl" if cuda else "gloo"
    if cuda:
        # Each rank sees its own GPU (CUDA_VISIBLE_DEVICES); else one per local rank.
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local % torch.cuda.device_count())
    device = torch.device("cuda" if cuda else "cpu")
    dist.init_process_group(backend)
    print(f"ddp_torch.py: rank {rank} of {world}, backend {backend}, device {device}"
          f"{' ' + torch.cuda.get_device_name() if cuda else ''}", file=sys.stderr, flush=True)
    seed = hs.seed(0) & MASK63
    trial = hs.trial_id(-1)

    g = torch.Generator().manual_seed(a.data_seed)
    x_train, y_train = two_spirals(a.n_train, g)
    x_val, y_val = two_spirals(a.n_val, g)
    x_val, y_val = x_val.to(device), y_val.to(device)
    train_set = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True,
                                 seed=seed % (1 << 31))
    per_rank = max(1, a.batch_size // world)
    loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler)

    torch.manual_seed(seed)  # the same initial weights on every rank
    model = make_model(a.layers, a.width).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()

    start = 0
    trial_dir = hs.trial_dir()
    ckpt = os.path.join(trial_dir, CHECKPOINT) if trial_dir else None
    if ckpt and os.path.exists(ckpt):
        state = torch.load(ckpt, map_location=device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start = int(state["epoch"])
        if rank == 0:
            hs.report(step=start, resumed_from=start)
    ddp = DistributedDataParallel(model)
    if start >= a.epochs and rank == 0:
        # Trained this far already (a re-run after the last checkpoint): report again.
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            hs.report(step=start, val_loss=loss_fn(logits, y_val).item(),
                      val_acc=(logits.argmax(dim=1) == y_val).float().mean().item())

    for epoch in range(start + 1, a.epochs + 1):
        if rank == a.fail_rank and (a.fail_trial < 0 or trial == a.fail_trial):
            print(f"ddp_torch.py: rank {rank} fails on purpose (--fail-rank)", file=sys.stderr,
                  flush=True)
            # At once, like a crash: no interpreter teardown, so this rank's exit comes
            # before its peer notices the lost connection and exits on its own.
            os._exit(1)
        sampler.set_epoch(epoch)
        total, count = 0.0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(ddp(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
            count += xb.shape[0]
        # The mean training loss over the whole set: every rank's share added up.
        sums = torch.tensor([total, float(count)], dtype=torch.float64, device=device)
        dist.all_reduce(sums)
        train_loss = float(sums[0] / sums[1])
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            val_loss = loss_fn(logits, y_val).item()
            val_acc = (logits.argmax(dim=1) == y_val).float().mean().item()
        model.train()
        hs.report(step=epoch, world_size=dist.get_world_size(), checksum=checksum(model))
        if rank == 0:
            hs.report(step=epoch, val_loss=val_loss, train_loss=train_loss, val_acc=val_acc)
            if ckpt:
                save_checkpoint(ckpt, {"epoch": epoch, "model": model.state_dict(),
                                       "optimizer": opt.state_dict()})
        dist.barrier()  # the checkpoint is whole before any rank could need it
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
