#!/usr/bin/python3
"""The peer for bench/quality_engine.sh: Optuna's TPE on the same test functions,
domains, seeds and trial count, so the ratio it prints is measured in the same run.

    optuna_peer.py FUNCTION DIM TRIALS MODE SEED...

MODE: "default" (TPESampler(seed=SEED), Optuna's defaults) or "multivariate"
(TPESampler(seed=SEED, multivariate=True)). Prints one regret per seed, one a line.
The functions are written out as in workers/testfuncs.c (SFU definitions)."""
import math
import sys
import warnings

import optuna

H6_A = [[10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0]]
H6_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
H6_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    return -sum(H6_ALPHA[i] * math.exp(-sum(H6_A[i][j] * (x[j] - H6_P[i][j]) ** 2
                                              for j in range(6))) for i in range(4))


def levy(x):
    d = len(x)
    w = [1.0 + (v - 1.0) / 4.0 for v in x]
    s = math.sin(math.pi * w[0]) ** 2
    for i in range(d - 1):
        s += (w[i] - 1.0) ** 2 * (1.0 + 10.0 * math.sin(math.pi * w[i] + 1.0) ** 2)
    return s + (w[-1] - 1.0) ** 2 * (1.0 + math.sin(2.0 * math.pi * w[-1]) ** 2)


def styblinski_tang(x):
    return 0.5 * sum(v ** 4 - 16.0 * v * v + 5.0 * v for v in x)


FUNCS = {  # function, domain, minimum(d)
    "hartmann6": (hartmann6, (0.0, 1.0), lambda d: -3.32236801141551),
    "levy": (levy, (-10.0, 10.0), lambda d: 0.0),
    "styblinski_tang": (styblinski_tang, (-5.0, 5.0), lambda d: -39.16616570377142 * d),
}


def main():
    name, dim, trials, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    fn, (lo, hi), fmin = FUNCS[name]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    for seed in (int(s) for s in sys.argv[5:]):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=(mode == "multivariate"))
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: fn([t.suggest_float("x%d" % (i + 1), lo, hi)
                                     for i in range(dim)]), n_trials=trials)
        print("%.17g" % (study.best_value - fmin(dim)), flush=True)


if __name__ == "__main__":
    main()
