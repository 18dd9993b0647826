#!/usr/bin/python3
"""Optuna's speed, measured on this machine in the same run as ours (bench/dispatch.sh
and bench/run-all call it), so no Optuna figure is copied in from elsewhere.

    optuna_rate.py noop TRIALS        in-memory RandomSampler, a no-op objective with
                                      two float parameters: prints trials per second
    optuna_rate.py tpe N DIM          TPESampler(seed=1) on a cheap objective in DIM
                                      dimensions: prints the mean milliseconds per
                                      trial (ask + tell) over trials N-10 .. N-1

Prints one number. Exits 3 when optuna cannot be imported."""
import sys
import time
import warnings

try:
    import optuna
except ImportError:
    sys.exit(3)


def noop(trials):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    t0 = time.perf_counter()
    study.optimize(lambda t: t.suggest_float("x", 0, 1) * 0 + t.suggest_float("y", 0, 1) * 0,
                   n_trials=trials)
    return trials / (time.perf_counter() - t0)


def tpe(n, dim):
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    dists = {"x%d" % i: optuna.distributions.FloatDistribution(0, 1) for i in range(dim)}
    spent = 0.0
    for k in range(n):
        t0 = time.perf_counter()
        trial = study.ask(dists)
        value = sum((trial.params[p] - 0.3) ** 2 for p in dists)
        study.tell(trial, value)
        if k >= n - 10:
            spent += time.perf_counter() - t0
    return spent / 10 * 1e3


def main():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if sys.argv[1] == "noop":
        print("%.0f" % noop(int(sys.argv[2])))
    elif sys.argv[1] == "tpe":
        print("%.2f" % tpe(int(sys.argv[2]), int(sys.argv[3])))
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
