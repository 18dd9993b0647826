#!/usr/bin/env python3
"""PyTorch peer of bench/gpu/trainer_gpu.c's epoch times, on the same GPU: the same
784-256-256-10 ReLU MLP, SGD with momentum 0.9 (lr 0.01), softmax cross-entropy, TF32
off, on ROWS synthetic rows (Gaussian features, random labels) held on the GPU. Each
epoch draws a permutation on the GPU and takes batches by index, the last short batch
kept, as the trainer does. For each batch size it prints one line:

    batch=<B> epoch_seconds=<median> samples_per_second=<f> epochs=<s1,s2,...>

The data live on the GPU before the clock starts: PyTorch's fastest way to feed a
model this small, so the comparison is against its best case (the trainer copies each
batch from the host).

Usage: trainer_torch_gpu.py [--device cuda:0] [--rows N] [--epochs N] [--warmup N]
                            [--batches 128,1024]
"""
import argparse
import statistics
import sys
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--rows", type=int, default=56000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batches", default="128,1024")
    a = ap.parse_args()

    dev = torch.device(a.device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit("trainer_torch_gpu.py: PyTorch sees no CUDA device")
        torch.cuda.set_device(dev)
        print(f"pytorch {torch.__version__} on {torch.cuda.get_device_name(dev)}",
              file=sys.stderr, flush=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    n = a.rows
    X = torch.randn(n, 784, device=dev)
    y = torch.randint(0, 10, (n,), device=dev)
    loss_fn = torch.nn.CrossEntropyLoss()
    for b in (int(v) for v in a.batches.split(",")):
        model = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 10)).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def epoch():
            perm = torch.randperm(n, device=dev)
            for k in range(0, n, b):
                idx = perm[k:k + b]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), y[idx])
                loss.backward()
                opt.step()

        for _ in range(a.warmup):
            epoch()
        times = []
        for _ in range(a.epochs):
            sync()
            t = time.perf_counter()
            epoch()
            sync()
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        print(f"batch={b} epoch_seconds={med:.6f} samples_per_second={n / med:.1f} "
              f"epochs={','.join(f'{s:.4f}' for s in times)}", flush=True)


if __name__ == "__main__":
    main()
