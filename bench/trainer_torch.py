#!/usr/bin/env python3
"""PyTorch peer of bench/trainer_cpu.c: the same 784-256-256-10 ReLU MLP, batch 128,
SGD with momentum 0.9 (lr 0.01), softmax cross-entropy, one thread, on the same kind
of in-memory synthetic data (8192 Gaussian rows, random labels, a fresh permutation
each pass, rows gathered per step). Prints one line per timed round, throughput
by wall time, by this process's CPU time, and from the 10th-percentile step time:

    samples_per_second=<f> cpu_samples_per_second=<f> p10_samples_per_second=<f>

Usage: trainer_torch.py [--steps N] [--warmup N] [--rounds N] [--batch N]
"""
import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    n = 8192
    X = torch.randn(n, 784)
    y = torch.randint(0, 10, (n,))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    b = a.batch
    per_pass = n // b
    state = {"perm": torch.randperm(n), "k": 0}

    def run(steps, times=None):
        for _ in range(steps):
            t0 = time.perf_counter()
            if state["k"] == per_pass:
                state["perm"] = torch.randperm(n)
                state["k"] = 0
            idx = state["perm"][state["k"] * b:(state["k"] + 1) * b]
            state["k"] += 1
            xb, yb = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            if times is not None:
                times.append(time.perf_counter() - t0)
        return float(loss)

    run(a.warmup)
    for _ in range(a.rounds):
        times = []
        t, c = time.perf_counter(), time.process_time()
        run(a.steps, times)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        p10 = sorted(times)[len(times) // 10]
        print(f"samples_per_second={a.steps * b / dt:.1f} "
              f"cpu_samples_per_second={a.steps * b / dc:.1f} "
              f"p10_samples_per_second={b / p10:.1f}", flush=True)


if __name__ == "__main__":
    main()
