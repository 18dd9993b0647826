/*
 * What deterministic mode costs (`deterministic: true`, window P = the number of
 * workers), against the default asynchronous mode, in simulated time: the real
 * coordinator core, journal and strategies, the simulated transport (virtual
 * workers, no sleeping).
 *
 * Trials take log-normal times: median 60 s, sigma 1 (a 90% range of about 12 s to
 * 310 s), drawn from (seed, trial id), so a trial takes the same time in both
 * modes. Figures, over seeds 1..N (the sweep's and the durations'):
 *
 *   idle      the workers ' idle share: 1 - busy / (W * makespan), W = 8
 *   target    the simulated seconds until a trial within the target regret of the
 *             optimum has ended (hartmann6, 6-D, optimum -3.32237; target 0.3),
 *             the median over the seeds that reach it, and how many do
 *   pruning   random search with the median pruner on a learning curve (8 reports
 *             per trial, spread over its duration): group-seconds spent, trials
 *             pruned, makespan. In deterministic mode the pruner judges a report as
 *             it comes but knows only the runs the trial's suggestion knew, so it
 *             prunes later and less at the start of a sweep
 *
 * Each sweep runs asynchronously, then deterministically with P = W, 2W and 4W.
 *
 * Usage: bench_determinism [quick]   (quick: 3 seeds instead of 10)
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord/coord.h"
#include "coord/transport_sim.h"
#include "core/seed.h"
#include "hpsweep/error.h"
#include "hpsweep/testfunc.h"
#include "store/record.h"
#include "sim_sweep.h"

#define W 8
#define MEDIAN_SECONDS 60.0
#define SIGMA 1.0
#define TARGET 0.3
#define REPORTS 8

typedef struct sim {
    uint64_t seed;
    const hps_testfunc *tf;
    int d;
    int reports;
    hps_rec_metric own;
} sim;

static double duration(void *ctx, int g, const hps_trial_spec *spec)
{
    sim *s = ctx;
    (void)g;
    uint64_t a = hps_mix64(s->seed * 0x9E3779B97F4A7C15ull + (uint64_t)spec->trial_id);
    uint64_t b = hps_mix64(a ^ 0xD1B54A32D192ED03ull);
    double u1 = ((double)(a >> 11) + 0.5) * 0x1.0p-53, u2 = (double)(b >> 11) * 0x1.0p-53;
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    return MEDIAN_SECONDS * exp(SIGMA * z);
}

/* The test function; with reports, a curve that falls towards it. */
static int runner(void *ctx, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                  hps_outcome *out)
{
    sim *s = ctx;
    hps_outcome_init(out);
    double f = s->tf->fn(spec->values, s->d);
    for (int k = 0; k < s->reports; k++) {
        hps_report_line line = {.step = k, .resource = k, .n = 1};
        snprintf(line.names[0], sizeof line.names[0], "loss");
        line.values[0] = f + 2.0 * (double)(s->reports - k) / s->reports * (1.0 + spec->values[0]);
        hooks->report(hooks->ctx, spec->trial_id, &line);
    }
    out->status = HPS_TRIAL_DONE;
    out->objective = f;
    s->own = (hps_rec_metric){.name_index = 0, .resource = spec->budget, .value = f};
    out->metrics = &s->own;
    out->n_metrics = 1;
    return HPS_OK;
}

typedef struct result {
    double idle, target, busy, makespan;
    int64_t pruned;
} result;

static void die(const char *what, int rc, const char *err)
{
    fprintf(stderr, "bench_determinism: %s: %s (%s)\n", what, hps_err_name(rc), err);
    exit(1);
}

/* One simulated sweep of strategy (a YAML mapping) with max_trials: asynchronous
 * (det 0), or deterministic with window P = det. */
static result run(const char *strategy, int det, int trials, uint64_t seed, int reports)
{
    sim s = {.seed = seed, .tf = hps_testfunc_find("hartmann6"), .d = 6, .reports = reports};
    char dir[64], path[96], yaml[2048], err[1024] = "";
    snprintf(dir, sizeof dir, "/tmp/hps-bench-det-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp", HPS_EIO, dir);
    snprintf(path, sizeof path, "%s/journal", dir);
    int n = snprintf(yaml, sizeof yaml, "name: bench\nseed: %llu\nobjective: {function: noop}\n"
                     "metric: {name: loss}\nspace:\n", (unsigned long long)seed);
    for (int i = 0; i < s.d; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n,
                      "  x%d: {type: float, low: 0, high: 1}\n", i);
    snprintf(yaml + n, sizeof yaml - (size_t)n, "strategy: %s\nbudget: {max_trials: %d}\n"
             "parallelism: %d\ndeterministic: %s\n", strategy, trials, det ? det : W,
             det ? "true" : "false");
    hps_journal *j;
    int rc = hps_journal_open(path, HPS_JOURNAL_CREATE, &j);
    if (rc != HPS_OK)
        die("journal", rc, path);
    hps_sweep sw;
    hps_sweep_init(&sw, HPS_SWEEP_STRATEGY);
    if ((rc = bench_sweep_start(&sw, j, yaml, seed, "bench.yaml", err, sizeof err)) != HPS_OK)
        die("header", rc, err);
    hps_transport *t;
    hps_sim_opts o = {.n_groups = W, .run = runner, .runner = &s, .duration = duration,
                      .ctx = &s};
    if ((rc = hps_transport_sim_create(&o, &t)) != HPS_OK)
        die("transport", rc, "");
    volatile sig_atomic_t signalled = 0;
    hps_coord_opts co = {.quiet = 1, .signalled = &signalled};
    rc = bench_coordinator_run_quiet(&sw, j, t, &co, err, sizeof err);
    if (rc != HPS_OK)
        die("run", rc, err);
    hps_sim_stats st;
    hps_transport_sim_stats(t, &st);
    result r = {.idle = 1.0 - st.busy / (W * st.now), .target = INFINITY, .busy = st.busy,
                .makespan = st.now, .pruned = sw.n_pruned};
    double opt = s.tf->minimum(s.d);
    for (int64_t i = 0; i < sw.n_trials; i++) {
        const hps_trial *tr = &sw.trials[i];
        if (tr->status == HPS_TRIAL_DONE && tr->objective - opt <= TARGET &&
            tr->end - 1.7e9 < r.target)
            r.target = tr->end - 1.7e9;
    }
    hps_transport_destroy(t);
    hps_sweep_free(&sw);
    hps_journal_close(j);
    unlink(path);
    rmdir(dir);
    return r;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    if (n == 0)
        return NAN;
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const int modes[] = {0, W, 2 * W, 4 * W};
#define N_MODES ((int)(sizeof modes / sizeof modes[0]))

static void mode_name(int det, char *out, size_t len)
{
    if (det)
        snprintf(out, len, "det, P = %d", det);
    else
        snprintf(out, len, "asynchronous");
}

int main(int argc, char **argv)
{
    int seeds = argc > 1 && strcmp(argv[1], "quick") == 0 ? 3 : 10;
    struct {
        const char *label, *strategy;
        int trials;
    } cases[] = {{"random", "{name: random}", 200},
                 {"tpe", "{name: tpe}", 200},
                 {"gp", "{name: gp}", 100}};
    char name[32];
    printf("log-normal trial times (median %.0f s, sigma %.1f), %d workers, seeds 1..%d, "
           "hartmann6, target regret %.1f\n\n", MEDIAN_SECONDS, SIGMA, W, seeds, TARGET);
    printf("%-8s %-14s %8s %16s %9s %12s\n", "strategy", "mode", "idle", "time to target",
           "reached", "vs async");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double base = NAN;
        for (int m = 0; m < N_MODES; m++) {
            double idle[64], hit[64];
            int n_hit = 0;
            for (int k = 0; k < seeds; k++) {
                result r = run(cases[c].strategy, modes[m], cases[c].trials, (uint64_t)k + 1, 0);
                idle[k] = r.idle;
                if (isfinite(r.target))
                    hit[n_hit++] = r.target;
            }
            double mi = median(idle, seeds), mt = median(hit, n_hit);
            if (m == 0)
                base = mt;
            mode_name(modes[m], name, sizeof name);
            printf("%-8s %-14s %7.1f%% %14.0f s %6d/%d %11.2fx\n", cases[c].label, name,
                   100.0 * mi, mt, n_hit, seeds, mt / base);
            if (modes[m] == 2 * W && n_hit > 0) /* bench/run-all's table */
                printf("RESULT|deterministic P = %d, %s: time to target (simulated)|%.0f s "
                       "(%d/%d seeds)|asynchronous %.0f s (this run)|%.2fx|-|-\n",
                       modes[m], cases[c].label, mt, n_hit, seeds, base, mt / base);
        }
    }
    printf("\npruning (random + median pruner, %d reports per trial, 200 trials):\n", REPORTS);
    printf("%-14s %16s %12s %8s %14s %8s\n", "mode", "group-seconds", "vs async", "pruned",
           "makespan", "idle");
    double base = NAN;
    for (int m = 0; m < N_MODES; m++) {
        double busy[64], pr[64], ms[64], idle[64];
        for (int k = 0; k < seeds; k++) {
            result r = run("{name: random, pruner: {name: median, n_startup_trials: 5}}",
                           modes[m], 200, (uint64_t)k + 1, REPORTS);
            busy[k] = r.busy;
            pr[k] = (double)r.pruned;
            ms[k] = r.makespan;
            idle[k] = r.idle;
        }
        double mb = median(busy, seeds);
        if (m == 0)
            base = mb;
        mode_name(modes[m], name, sizeof name);
        printf("%-14s %16.0f %11.2fx %8.0f %12.0f s %7.1f%%\n", name, mb, mb / base,
               median(pr, seeds), median(ms, seeds), 100.0 * median(idle, seeds));
        if (modes[m] == 2 * W)
            printf("RESULT|deterministic P = %d, median pruner: group-seconds (simulated)|%.0f|"
                   "asynchronous %.0f (this run)|%.2fx|-|-\n", modes[m], mb, base, mb / base);
    }
    printf("(medians over the seeds; time to target over the seeds that reach it)\n");
    return 0;
}
