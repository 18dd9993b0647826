/*
 * Speed benchmark of the model-based strategies (issue 4): wall time per suggest()
 * at n = 100, 500 and 1000 observations in d = 6 and d = 20, for gp and tpe.
 *
 * A state is brought to n observations of random points on a smooth test function
 * (Levy, on the unit cube mapped to [-10, 10]^d) by observe() calls alone, which
 * run the hyper-parameter refits on their schedule; then `reps` cycles of
 * suggest + observe are timed. Reported: median suggest time, mean observe time
 * (which carries the amortised refits), and the ratio to the targets
 * (gp: <= 50 ms at n=500, d=6 and <= 300 ms at n=1000, d=20; Optuna's TPE took 46 ms
 * per trial at n<=1000, d=6 on the same machine).
 *
 *   bench_gp_speed          all sizes, max(7, n/20) timed cycles each (so that the
 *                           observe mean includes one scheduled refit)
 *   bench_gp_speed quick    n = 100 and 500 only, max(3, n/20) cycles
 *
 * OpenBLAS threading: set OPENBLAS_NUM_THREADS=1 on a shared machine; the
 * matrices here are small enough that threads mostly add system time.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpsweep/error.h"
#include "hpsweep/testfunc.h"
#include "hpsweep/space.h"
#include "hpsweep/strategy.h"

#define MAXD 20

static hps_param params[MAXD];
static char names[MAXD][8];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double levy_u(const hps_testfunc *tf, const double *u, int d)
{
    double x[MAXD];
    for (int i = 0; i < d; i++)
        x[i] = -10.0 + 20.0 * u[i];
    return tf->fn(x, d);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Returns 0 on success; *sug_ms = median suggest, *obs_ms = mean observe,
 * *setup_s = time to reach n observations. */
static int measure(const char *name, int d, int n, int reps, double *sug_ms, double *obs_ms,
                   double *setup_s)
{
    const hps_strategy_ops *ops = hps_strategy_find(name);
    const hps_testfunc *tf = hps_testfunc_find("levy");
    if (!ops || !tf)
        return -1;
    hps_space sp = {d, params};
    void *st = NULL;
    if (ops->create(&sp, NULL, 12345, &st, NULL, 0) != HPS_OK)
        return -1;
    uint64_t z = 88172645463325252ULL;
    double u[MAXD], t0 = now();
    for (int t = 0; t < n; t++) {
        for (int i = 0; i < d; i++) {
            z ^= z << 13, z ^= z >> 7, z ^= z << 17;
            u[i] = (double)(z >> 11) * 0x1.0p-53;
        }
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = u,
                             .value = levy_u(tf, u, d)};
        if (ops->observe(st, &o, NULL) != HPS_OK)
            return -1;
    }
    *setup_s = now() - t0;
    double ts[64], obs_total = 0.0;
    if (reps > 64)
        reps = 64;
    for (int r = 0; r < reps; r++) {
        hps_suggestion s = {.u = u, .trial_id = n + r, .bracket = -1, .rung = -1};
        double a = now();
        if (ops->suggest(st, &s) != HPS_OK)
            return -1;
        double b = now();
        hps_observation o = {.trial_id = n + r, .kind = HPS_OBS_FINAL, .u = u,
                             .value = levy_u(tf, u, d)};
        if (ops->observe(st, &o, NULL) != HPS_OK)
            return -1;
        obs_total += now() - b;
        ts[r] = (b - a) * 1e3;
    }
    qsort(ts, (size_t)reps, sizeof(double), cmp_double);
    *sug_ms = ts[reps / 2];
    *obs_ms = obs_total / reps * 1e3;
    ops->destroy(st);
    return 0;
}

/* bench/run-all's table: figure|value|peer or floor|ratio|target|met. The issue's
 * targets for gp; for tpe at d = 6 the peer is Optuna's TPESampler measured in the
 * same run by bench/run-all (OPTUNA_TPE_MS, ms per ask + tell at the same n), or
 * none. */
static void result_line(const char *strat, int d, int n, double ms)
{
    const char *optuna = getenv("OPTUNA_TPE_MS");
    if (strcmp(strat, "gp") == 0 && ((d == 6 && n == 500) || (d == 20 && n == 1000))) {
        double target = d == 6 ? 50.0 : 300.0;
        printf("RESULT|gp suggest + observe, n = %d, d = %d|%.1f ms|-|-|<= %.0f ms|%s\n", n, d,
               ms, target, ms <= target ? "met" : "not met");
    } else if (strcmp(strat, "tpe") == 0 && d == 6 && n == 500) {
        if (optuna && atof(optuna) > 0)
            printf("RESULT|tpe suggest + observe, n = %d, d = %d|%.2f ms|Optuna TPE %.1f ms "
                   "(this run)|%.0fx faster|-|-\n", n, d, ms, atof(optuna), atof(optuna) / ms);
        else
            printf("RESULT|tpe suggest + observe, n = %d, d = %d|%.2f ms|Optuna TPE not "
                   "measured|-|-|-\n", n, d, ms);
    }
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    int reps = quick ? 3 : 7;
    int ns_full[] = {100, 500, 1000}, ns_quick[] = {100, 500};
    int *ns = quick ? ns_quick : ns_full, n_ns = quick ? 2 : 3;
    int ds[] = {6, 20};
    const char *strats[] = {"gp", "tpe"};
    for (int i = 0; i < MAXD; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        params[i] = (hps_param){.name = names[i], .type = HPS_PARAM_FLOAT, .low = 0, .high = 1};
    }
    const char *thr = getenv("OPENBLAS_NUM_THREADS");
    printf("time per suggest (median of max(%d, n/20)), observe (mean, incl. amortised refits); "
           "OPENBLAS_NUM_THREADS=%s\n",
           reps, thr ? thr : "(unset)");
    printf("%-5s %3s %5s %12s %12s %10s %12s\n", "strat", "d", "n", "suggest ms", "observe ms",
           "setup s", "vs target");
    for (int si = 0; si < 2; si++)
        for (int di = 0; di < 2; di++)
            for (int ni = 0; ni < n_ns; ni++) {
                double sm, om, ss;
                /* enough cycles to include one scheduled refit (every n/20) */
                int r = ns[ni] / 20 > reps ? ns[ni] / 20 : reps;
                if (measure(strats[si], ds[di], ns[ni], r, &sm, &om, &ss) != 0) {
                    printf("%-5s %3d %5d failed\n", strats[si], ds[di], ns[ni]);
                    continue;
                }
                char target[32] = "";
                if (strcmp(strats[si], "gp") == 0 && ds[di] == 6 && ns[ni] == 500)
                    snprintf(target, sizeof target, "%.2fx of 50", (sm + om) / 50.0);
                else if (strcmp(strats[si], "gp") == 0 && ds[di] == 20 && ns[ni] == 1000)
                    snprintf(target, sizeof target, "%.2fx of 300", (sm + om) / 300.0);
                else if (ds[di] == 6)
                    snprintf(target, sizeof target, "%.2fx Optuna", (sm + om) / 46.0);
                printf("%-5s %3d %5d %12.2f %12.2f %10.1f %12s\n", strats[si], ds[di], ns[ni], sm,
                       om, ss, target);
                result_line(strats[si], ds[di], ns[ni], sm + om);
                fflush(stdout);
            }
    printf("(vs target: (suggest + observe) / target; <1 meets it. Optuna TPE: 46 ms/trial at "
           "n<=1000, d=6)\n");
    return 0;
}
