/*
 * Time-to-target of the multi-fidelity strategies on a learning-curve benchmark
 * with a known optimum, in simulated time (no MPI, no clocks).
 *
 * The benchmark, on the unit cube [0,1]^D:
 *   final value  f(x) = 1 + |x - c|^2, c = (0.71, 0.23, 0.58, 0.36, ...): best 1;
 *   curve        y(x, b) = f(x) + a(x) * ((b / R)^-k(x) - 1), so y(x, R) = f(x);
 *                a(x) in [0.002, 0.022] and k(x) in [0.35, 0.65] vary smoothly with
 *                x, so low budgets rank configurations imperfectly.
 * Target: a configuration whose value at max_resource R (a run that reached R) is
 * within 1% of the best, f(x) <= 1.01.
 *
 * Simulation. W workers; each run of a trial from budget b0 to b costs b - b0
 * units of time and resource (a promotion continues from its checkpoint). An event
 * queue takes the earliest finishing run, observes it (FINAL at its budget) and
 * asks the strategy for the worker's next run; HPS_EAGAIN leaves the worker idle
 * until the next result. Resource = busy worker time until the target run ends.
 * Random search (the `random` strategy) runs every trial at R.
 *
 * Printed: the median over 20 seeds of resource-to-target for random, hyperband,
 * asha and bohb with 1 and 8 workers, the ratios against the targets (hyperband
 * >= 5x less resource than random; bohb <= hyperband), and worker utilisation
 * (busy time / (W * elapsed)) of asha and hyperband with 8 workers.
 *
 * Usage: bench_hyperband [max_resource [dim]]   (defaults 81 and 4)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "hpsweep/space.h"
#include "hpsweep/strategy.h"

#define MAXD 8
#define MAXW 8
#define SEEDS 20
#define RESOURCE_CAP 5e6

static int D = 4;
static double R = 81.0;

static double final_value(const double *x)
{
    static const double c[MAXD] = {0.71, 0.23, 0.58, 0.36, 0.64, 0.42, 0.27, 0.81};
    double s = 1.0;
    for (int i = 0; i < D; i++)
        s += (x[i] - c[i]) * (x[i] - c[i]);
    return s;
}

static double curve(const double *x, double b)
{
    double a = 0.012 + 0.01 * sin(5.0 * x[0] + 3.0 * x[1 % D]);
    double k = 0.5 + 0.15 * cos(4.0 * x[D - 1] - 2.0 * x[0]);
    return final_value(x) + a * (pow(b / R, -k) - 1.0);
}

typedef struct run {
    int64_t id;
    double u[MAXD];
    double b0, b;   /* from budget b0 to b */
    double end;     /* simulated time */
    int busy;
} run;

typedef struct result {
    double resource;  /* to target, or RESOURCE_CAP */
    double util;      /* busy / (W * elapsed) at the end */
    int hit;
} result;

/* One simulated sweep. */
static result simulate(const char *name, const char *sampler, int W, uint64_t seed)
{
    static hps_param params[MAXD];
    static char names[MAXD][8];
    for (int i = 0; i < D; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        params[i] = (hps_param){.name = names[i], .type = HPS_PARAM_FLOAT, .low = 0, .high = 1};
    }
    hps_space space = {D, params};
    const hps_strategy_ops *ops = hps_strategy_find(name);
    char rbuf[32];
    snprintf(rbuf, sizeof rbuf, "%g", R);
    const char *keys[2] = {"max_resource", "sampler"}, *vals[2] = {rbuf, sampler};
    hps_strategy_cfg cfg = {sampler ? 2 : 1, keys, vals};
    int is_random = strcmp(name, "random") == 0;
    void *st = NULL;
    char err[256] = "";
    int rc = ops->create(&space, is_random ? NULL : &cfg, seed, &st, err, sizeof err);
    if (rc != HPS_OK) {
        fprintf(stderr, "%s: create: %s (%s)\n", name, hps_err_name(rc), err);
        exit(1);
    }
    /* the budget each trial has reached so far (ids are dense) */
    size_t cap = 1024;
    double *reached = calloc(cap, sizeof *reached);
    if (!reached) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    run w[MAXW];
    memset(w, 0, sizeof w);
    int64_t next_id = 0;
    double now = 0.0, busy = 0.0;
    result res = {.resource = RESOURCE_CAP};
    for (;;) {
        /* every idle worker asks for work */
        for (int k = 0; k < W; k++) {
            if (w[k].busy)
                continue;
            hps_suggestion s = {.u = w[k].u, .trial_id = next_id, .bracket = -1, .rung = -1};
            rc = ops->suggest(st, &s);
            if (rc == HPS_EAGAIN)
                continue;
            if (rc != HPS_OK) {
                fprintf(stderr, "%s: suggest: %s\n", name, hps_err_name(rc));
                exit(1);
            }
            if (!s.promotion)
                next_id++;
            if ((size_t)s.trial_id >= cap) {
                double *r2 = realloc(reached, 2 * cap * sizeof *r2);
                if (!r2) {
                    fprintf(stderr, "out of memory\n");
                    exit(1);
                }
                memset(r2 + cap, 0, cap * sizeof *r2);
                reached = r2;
                cap *= 2;
            }
            w[k].id = s.trial_id;
            w[k].b0 = s.promotion ? reached[s.trial_id] : 0.0;
            w[k].b = is_random ? R : s.budget;
            w[k].end = now + (w[k].b - w[k].b0);
            w[k].busy = 1;
        }
        int k = -1;
        for (int j = 0; j < W; j++)
            if (w[j].busy && (k < 0 || w[j].end < w[k].end))
                k = j;
        if (k < 0) {
            fprintf(stderr, "%s: every worker idle\n", name);
            exit(1);
        }
        /* advance time to the run's end; count the busy time of every worker */
        for (int j = 0; j < W; j++)
            if (w[j].busy)
                busy += w[k].end - now;
        now = w[k].end;
        w[k].busy = 0;
        reached[w[k].id] = w[k].b;
        double y = curve(w[k].u, w[k].b);
        hps_observation o = {.trial_id = w[k].id, .kind = HPS_OBS_FINAL, .u = w[k].u, .value = y,
                             .resource = w[k].b};
        rc = ops->observe(st, &o, NULL);
        if (rc != HPS_OK) {
            fprintf(stderr, "%s: observe: %s\n", name, hps_err_name(rc));
            exit(1);
        }
        if (w[k].b >= R * (1 - 1e-12) && final_value(w[k].u) <= 1.01) {
            res.resource = busy;
            res.hit = 1;
            break;
        }
        if (busy >= RESOURCE_CAP)
            break;
    }
    res.util = now > 0 ? busy / ((double)W * now) : 1.0;
    free(reached);
    ops->destroy(st);
    return res;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        R = atof(argv[1]);
    if (argc > 2)
        D = atoi(argv[2]);
    if (!(R >= 1.0) || D < 2 || D > MAXD) {
        fprintf(stderr, "usage: %s [max_resource >= 1 [dim 2..%d]]\n", argv[0], MAXD);
        return 2;
    }
    const struct {
        const char *label, *name, *sampler;
    } strat[] = {
        {"random (full budget)", "random", NULL},
        {"hyperband", "hyperband", NULL},
        {"asha", "asha", NULL},
        {"bohb (tpe)", "bohb", NULL},
    };
    const int nstrat = 4, workers[2] = {1, 8};
    double med[4][2], util[4][2];
    printf("learning-curve benchmark: D = %d, min_resource 1, max_resource %g, eta 3; "
           "target f(x) <= 1.01 at max_resource; median of %d seeds\n\n", D, R, SEEDS);
    printf("%-22s %8s %14s %8s %12s\n", "strategy", "workers", "resource", "hits", "utilisation");
    for (int i = 0; i < nstrat; i++)
        for (int wi = 0; wi < 2; wi++) {
            double r[SEEDS], u[SEEDS];
            int h = 0;
            for (int sd = 0; sd < SEEDS; sd++) {
                result x = simulate(strat[i].name, strat[i].sampler, workers[wi],
                                    1000 + (uint64_t)sd);
                r[sd] = x.resource;
                u[sd] = x.util;
                h += x.hit;
            }
            med[i][wi] = median(r, SEEDS);
            util[i][wi] = median(u, SEEDS);
            printf("%-22s %8d %14.0f %5d/%d %11.1f%%\n", strat[i].label, workers[wi], med[i][wi],
                   h, SEEDS, 100.0 * util[i][wi]);
        }
    printf("\nratios (median resource):\n");
    for (int wi = 0; wi < 2; wi++) {
        double hb_gain = med[0][wi] / med[1][wi];
        printf("  %d worker(s): random / hyperband = %.2fx (target >= 5x: %s); "
               "random / asha = %.2fx; bohb / hyperband = %.2f (target <= 1: %s)\n",
               workers[wi], hb_gain, hb_gain >= 5.0 ? "met" : "NOT met", med[0][wi] / med[2][wi],
               med[3][wi] / med[1][wi], med[3][wi] <= med[1][wi] ? "met" : "NOT met");
    }
    printf("  asha utilisation with 8 workers: %.1f%% (target >= 95%%: %s)\n",
           100.0 * util[2][1], util[2][1] >= 0.95 ? "met" : "NOT met");
    /* bench/run-all's table: figure|value|peer or floor|ratio|target|met */
    for (int wi = 0; wi < 2; wi++) {
        double hb_gain = med[0][wi] / med[1][wi];
        printf("RESULT|hyperband resource to target, %d worker%s (simulated)|%.0f|random search "
               "%.0f (this run)|%.2fx less|>= 5x less|%s\n",
               workers[wi], wi ? "s" : "", med[1][wi], med[0][wi], hb_gain,
               hb_gain >= 5.0 ? "met" : "not met");
        printf("RESULT|bohb resource to target, %d worker%s (simulated)|%.0f|hyperband %.0f "
               "(this run)|%.2f|<= 1|%s\n",
               workers[wi], wi ? "s" : "", med[3][wi], med[1][wi], med[3][wi] / med[1][wi],
               med[3][wi] <= med[1][wi] ? "met" : "not met");
    }
    printf("RESULT|asha worker utilisation, 8 workers (simulated)|%.1f%%|-|-|>= 95%%|%s\n",
           100.0 * util[2][1], util[2][1] >= 0.95 ? "met" : "not met");
    return 0;
}
