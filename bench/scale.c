/*
 * Simulated scale: the real coordinator core (strategy, trial table, journal with
 * its fsync group commit, sweep.h5 writer, scheduling and batching) driving 100,
 * 1,000 and 10,000 virtual trial groups through the simulated transport: no MPI,
 * no sleeping. A run's duration is drawn from (seed, trial id, budget):
 *
 *   lognormal   log-normal, mean 60 s, sigma 1 (median 36 s)
 *   pareto      Pareto, alpha 1.5, mean 60 s (x_m = 20 s, infinite variance)
 *
 * Every dispatched run (a promotion too) takes one such draw, whatever its budget.
 * The simulated clock jumps to the next event when the coordinator idles and moves
 * on by the coordinator's own real time while it works (HPS_SIM_CHARGE_OWN: wall
 * time less the time other processes held the CPU, so a shared machine does not
 * count against it), so suggest, observe, journal append + fdatasync and sweep.h5
 * rewrites idle the virtual workers exactly as long as they took here.
 *
 * Figures per case:
 *   coord us/run   the coordinator's own time per dispatched run (suggest, observe,
 *                  journal, fsync, store, its loop), and the share of it spent in
 *                  suggest+observe, fdatasync and sweep.h5 rewrites
 *   coord busy     that time over the simulated makespan (1 = saturated)
 *   utilisation    1 - idle group-seconds / (groups x time of the last dispatch):
 *                  idle counted only while work remained (the drain at the end of
 *                  a finite sweep is not idleness)
 * The floor is one fdatasync of a small append in the same directory, measured in
 * the same run: coord us/run is printed as a multiple of it.
 *
 * A second part times one sweep.h5 rewrite (hps_sweep_write_store) of a sweep with
 * 10k, 100k and 1M ended trials and the share of the coordinator's time it takes
 * under the rewrite interval coord.c uses (the longer of 2 s and 20x the last
 * rewrite's cost).
 *
 * knee: the group count at which suggest + observe alone would keep the coordinator
 * busy (mean run time / their time per run): past it, suggestions idle workers.
 * regret: the best objective the sweep saw less hartmann6's minimum (the virtual
 * runs evaluate hartmann6 on the 6 parameters; under asha, hyperband and bohb a
 * short run's value carries a penalty, so theirs is an upper bound), so that a
 * cheaper suggestion's cost in search quality shows beside its gain in time.
 *
 * Usage: [BENCH_SCALE_SEED=N] bench_scale [quick|store] [STRATEGY...]
 *        bench_scale one STRATEGY GROUPS TRIALS [lognormal|pareto]   (one case,
 *                                                    log-normal by default)
 *   quick: 2 rounds instead of 3, 10,000 groups only for the targets (random and
 *   asha, log-normal), store up to 100k; store: only the second part. Temp files go to $TMPDIR (default /tmp).
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord/coord.h"
#include "coord/transport_sim.h"
#include "core/clock.h"
#include "core/seed.h"
#include "hpsweep/error.h"
#include "hpsweep/testfunc.h"
#include "store/record.h"
#include "sim_sweep.h"

#define MEAN_SECONDS 60.0
#define DIM 6
#define MAX_RESOURCE 27

enum { DIST_LOGNORMAL, DIST_PARETO, N_DIST };
static const char *dist_name[N_DIST] = {"lognormal", "pareto"};

typedef struct sim {
    uint64_t seed;
    int dist;
    double constant;            /* > 0: every run takes this long (the store part) */
    const hps_testfunc *tf;
    hps_rec_metric own;
} sim;

static double unit(uint64_t x)
{
    return ((double)(x >> 11) + 0.5) * 0x1.0p-53;
}

static double duration(void *ctx, int g, const hps_trial_spec *spec)
{
    sim *s = ctx;
    (void)g;
    if (s->constant > 0)
        return s->constant;
    uint64_t a = hps_mix64(s->seed * 0x9E3779B97F4A7C15ull + (uint64_t)spec->trial_id * 64 +
                           (uint64_t)spec->budget);
    uint64_t b = hps_mix64(a ^ 0xD1B54A32D192ED03ull);
    if (s->dist == DIST_PARETO) /* alpha 1.5, x_m = mean (alpha - 1) / alpha */
        return MEAN_SECONDS / 3.0 * pow(unit(a), -1.0 / 1.5);
    double z = sqrt(-2.0 * log(unit(a))) * cos(2.0 * M_PI * unit(b));
    return MEAN_SECONDS * exp(z - 0.5); /* sigma 1: mean = e^(mu + 1/2) */
}

/* Hartmann6, plus a term that shrinks with the budget (multi-fidelity). */
static int runner(void *ctx, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                  hps_outcome *out)
{
    sim *s = ctx;
    (void)hooks;
    hps_outcome_init(out);
    double f = s->tf->fn(spec->values, DIM);
    if (spec->budget > 0)
        f += 0.5 * (1.0 + spec->values[0]) / spec->budget;
    out->status = HPS_TRIAL_DONE;
    out->objective = f;
    s->own = (hps_rec_metric){.name_index = 0, .resource = spec->budget, .value = f};
    out->metrics = &s->own;
    out->n_metrics = 1;
    return HPS_OK;
}

static void die(const char *what, int rc, const char *err)
{
    fprintf(stderr, "bench_scale: %s: %s (%s)\n", what, hps_err_name(rc), err);
    exit(1);
}

typedef struct workdir {
    char dir[512], journal[600], h5[600];
} workdir;

static void workdir_make(workdir *w)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(w->dir, sizeof w->dir, "%s/hps-bench-scale-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(w->dir))
        die("mkdtemp", HPS_EIO, w->dir);
    snprintf(w->journal, sizeof w->journal, "%s/journal", w->dir);
    snprintf(w->h5, sizeof w->h5, "%s/sweep.h5", w->dir);
}

static void workdir_remove(workdir *w)
{
    unlink(w->journal);
    unlink(w->h5);
    rmdir(w->dir);
}

/* The floor: one small append + fdatasync in the bench's directory (median of 101). */
static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double fsync_floor(void)
{
    workdir w;
    workdir_make(&w);
    int fd = open(w.journal, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die("opening the fsync probe", HPS_EIO, w.journal);
    double t[101];
    char rec[96] = {0};
    for (int i = 0; i < 101; i++) {
        double t0 = hps_own_seconds();
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec || fdatasync(fd) != 0)
            die("fsync probe", HPS_EIO, w.journal);
        t[i] = hps_own_seconds() - t0;
    }
    close(fd);
    workdir_remove(&w);
    qsort(t, 101, sizeof *t, by_value);
    return t[50];
}

/* The seed of the sweep and of the run durations: BENCH_SCALE_SEED, 1 by default. */
static uint64_t bench_seed(void)
{
    const char *v = getenv("BENCH_SCALE_SEED");
    char *end;
    unsigned long long n = v && *v ? strtoull(v, &end, 10) : 1;
    if (v && *v && (*end || n == 0)) {
        fprintf(stderr, "bench_scale: BENCH_SCALE_SEED is a positive integer, not %s\n", v);
        exit(2);
    }
    return (uint64_t)n;
}

typedef struct result {
    int64_t configs, runs;
    double coord, suggest, sync, store, store_max; /* own seconds, whole run */
    int64_t store_writes;
    double makespan, last_send, idle, util, busy;
    double regret; /* the best objective seen less hartmann6's minimum (NaN: none) */
} result;

/* One simulated sweep: `strategy` (a YAML mapping), `groups` virtual groups,
 * max_trials `trials`. keep: leave the sweep in *keep (caller frees it). */
static result run(const char *strategy, int groups, int trials, int dist, double constant,
                  int write_h5, hps_sweep *keep)
{
    sim s = {.seed = bench_seed(), .dist = dist, .constant = constant,
             .tf = hps_testfunc_find("hartmann6")};
    workdir w;
    workdir_make(&w);
    char yaml[2048], err[1024] = "";
    int n = snprintf(yaml, sizeof yaml, "name: scale\nseed: %llu\nobjective: {function: noop}\n"
                     "metric: {name: loss}\nspace:\n", (unsigned long long)s.seed);
    for (int i = 0; i < DIM; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n,
                      "  x%d: {type: float, low: 0, high: 1}\n", i);
    snprintf(yaml + n, sizeof yaml - (size_t)n, "strategy: %s\nbudget: {max_trials: %d}\n",
             strategy, trials);
    hps_journal *j;
    int rc = hps_journal_open(w.journal, HPS_JOURNAL_CREATE, &j);
    if (rc != HPS_OK)
        die("journal", rc, w.journal);
    hps_sweep sw;
    hps_sweep_init(&sw, HPS_SWEEP_STRATEGY);
    if ((rc = bench_sweep_start(&sw, j, yaml, 1, "scale.yaml", err, sizeof err)) != HPS_OK)
        die("header", rc, err);
    hps_transport *t;
    hps_sim_opts o = {.n_groups = groups, .run = runner, .runner = &s, .duration = duration,
                      .ctx = &s, .charge = constant > 0 ? HPS_SIM_CHARGE_NONE : HPS_SIM_CHARGE_OWN};
    if ((rc = hps_transport_sim_create(&o, &t)) != HPS_OK)
        die("transport", rc, "");
    volatile sig_atomic_t signalled = 0;
    hps_coord_stats cs = {.clock = hps_own_seconds};
    hps_coord_opts co = {.quiet = 1, .signalled = &signalled, .stats = &cs,
                         .h5_path = write_h5 ? w.h5 : NULL};
    rc = bench_coordinator_run_quiet(&sw, j, t, &co, err, sizeof err);
    if (rc != HPS_OK)
        die("run", rc, err);
    hps_sim_stats st;
    hps_transport_sim_stats(t, &st);
    result r = {.configs = sw.n_trials, .runs = st.trials, .coord = st.charged,
                .suggest = cs.suggest + cs.result, .sync = cs.sync, .store = cs.store,
                .store_max = cs.store_max, .store_writes = cs.store_writes,
                .makespan = st.now, .last_send = st.last_send, .idle = st.idle};
    r.util = st.last_send > 0 ? 1.0 - st.idle / ((double)groups * st.last_send) : NAN;
    r.busy = st.now > 0 ? st.charged / st.now : NAN;
    r.regret = sw.best_id >= 0 ? hps_sweep_best(&sw)->objective - s.tf->minimum(DIM) : NAN;
    hps_transport_destroy(t);
    hps_journal_close(j);
    if (keep)
        *keep = sw;
    else
        hps_sweep_free(&sw);
    workdir_remove(&w);
    return r;
}

/* ---- part 1: the grid ------------------------------------------------------------- */

typedef struct strat {
    const char *name, *yaml;
    int model;          /* model-based: runs capped (suggest grows with n) */
} strat;

static const strat strats[] = {
    {"random", "{name: random}", 0},
    {"asha", "{name: asha, min_resource: 1, max_resource: 27, eta: 3}", 0},
    {"hyperband", "{name: hyperband, min_resource: 1, max_resource: 27, eta: 3}", 0},
    {"tpe", "{name: tpe}", 1},
    {"gp", "{name: gp}", 1},
    {"bohb", "{name: bohb, min_resource: 1, max_resource: 27, eta: 3}", 1},
};
#define N_STRATS ((int)(sizeof strats / sizeof strats[0]))

static const int worker_counts[] = {100, 1000, 10000};

/* max_trials for a case: a few rounds of the groups, capped for model-based
 * strategies whose suggestion cost grows with the observations: tpe and bohb at
 * 20,000 configs, gp at 2,000 (O(n^2) per scored candidate, O(n^3) fits on at most
 * fit_max_points; at 1,000 groups that is 2 rounds, and 10,000 groups are skipped). */
static int case_trials(const strat *st, int groups, int quick)
{
    int rounds = quick ? 2 : 3;
    int n = rounds * groups;
    int cap = !strcmp(st->name, "gp") ? 2000 : st->model ? 20000 : n;
    return n < cap ? n : cap;
}

/* The target a case is held to ("-": none). */
static const char *case_target(const strat *st, int groups, int dist, double *min)
{
    if (dist != DIST_LOGNORMAL)
        return "-";
    if (groups == 10000 && (!strcmp(st->name, "random") || !strcmp(st->name, "asha"))) {
        *min = 0.99;
        return ">= 99%";
    }
    if (groups == 1000 && (!strcmp(st->name, "gp") || !strcmp(st->name, "tpe"))) {
        *min = 0.95;
        return ">= 95%";
    }
    return "-";
}

static int selected(const strat *st, int argc, char **argv, int first)
{
    if (first >= argc)
        return 1;
    for (int i = first; i < argc; i++)
        if (!strcmp(argv[i], st->name))
            return 1;
    return 0;
}

static void header(void)
{
    printf("%-9s %6s %-9s %7s %7s %9s %8s %6s %6s %6s %7s %8s %-7s %-7s %7s %9s\n", "strategy",
           "groups", "duration", "configs", "runs", "coord", "x floor", "s+o", "fsync", "h5",
           "busy", "util", "target", "", "knee", "regret");
    printf("%-9s %6s %-9s %7s %7s %9s %8s %6s %6s %6s\n", "", "", "", "", "", "us/run", "",
           "share", "share", "share");
}

/* One case: a row of the table and its RESULT lines. */
static void one_case(const strat *st, int groups, int trials, int d, double floor)
{
    double t0 = hps_monotonic();
    result r = run(st->yaml, groups, trials, d, 0, 1, NULL);
    double real = hps_monotonic() - t0;
    double us = 1e6 * r.coord / (double)r.runs, min = 0;
    double so = r.suggest / (double)r.runs;
    const char *target = case_target(st, groups, d, &min);
    const char *met = *target == '-' ? "" : r.util >= min ? "met" : "not met";
    printf("%-9s %6d %-9s %7lld %7lld %9.1f %8.2f %5.0f%% %5.0f%% %5.0f%% %6.1f%% %7.2f%% "
           "%-7s %-7s %7.0f %9.2e  (%.0f s here)\n", st->name, groups, dist_name[d],
           (long long)r.configs, (long long)r.runs, us, us / (1e6 * floor),
           100 * r.suggest / r.coord, 100 * r.sync / r.coord, 100 * r.store / r.coord,
           100 * r.busy, 100 * r.util, target, met, MEAN_SECONDS / so, r.regret, real);
    printf("RESULT|scale %s %d groups %s utilisation %%|%.2f|-|-|%s|%s\n", st->name, groups,
           dist_name[d], 100 * r.util, target, *target == '-' ? "-" : met);
    printf("RESULT|scale %s %d groups %s coordinator us per run|%.1f|fdatasync %.1f us|%.2f|"
           "-|-\n", st->name, groups, dist_name[d], us, 1e6 * floor, us / (1e6 * floor));
    printf("RESULT|scale %s %d groups %s hartmann6 regret|%.3g|-|-|-|-\n", st->name, groups,
           dist_name[d], r.regret);
    fflush(stdout);
}

static void grid(int quick, double floor, int argc, char **argv, int first)
{
    header();
    for (int si = 0; si < N_STRATS; si++) {
        const strat *st = &strats[si];
        if (!selected(st, argc, argv, first))
            continue;
        for (int wi = 0; wi < 3; wi++) {
            int groups = worker_counts[wi];
            for (int d = 0; d < N_DIST; d++) {
                double min;
                if (quick && groups > 1000 && *case_target(st, groups, d, &min) == '-')
                    continue; /* quick: 10,000 groups only where a target is */
                int trials = case_trials(st, groups, quick);
                if (trials < 2 * groups)
                    printf("%-9s %6d %-9s skipped: capped at %d configs, under 2 rounds\n",
                           st->name, groups, dist_name[d], trials);
                else
                    one_case(st, groups, trials, d, floor);
            }
        }
    }
}

/* ---- part 2: the sweep.h5 rewrite ---------------------------------------------------- */

static void store_part(int quick)
{
    static const int sizes[] = {10000, 100000, 1000000};
    int n_sizes = quick ? 2 : 3;
    printf("\nsweep.h5 rewrite (hps_sweep_write_store of a sweep of N ended random trials; "
           "interval max(2 s, 20 x cost)). The first write has every row in memory; the "
           "later ones (a live sweep's) copy the rows it then let go of from the file\n");
    printf("%9s %10s %10s %12s %10s %10s\n", "trials", "rewrite s", "us/trial", "interval s",
           "share", "first s");
    for (int k = 0; k < n_sizes; k++) {
        hps_sweep sw;
        (void)run("{name: random}", 1000, sizes[k], DIST_LOGNORMAL, 60.0, 0, &sw);
        workdir w;
        workdir_make(&w);
        char err[512] = "";
        double best = INFINITY, first = 0;
        for (int rep = 0; rep < 4; rep++) {
            double t0 = hps_own_seconds();
            int rc = hps_sweep_write_store(&sw, w.h5, err, sizeof err);
            double dt = hps_own_seconds() - t0;
            if (rc != HPS_OK)
                die("writing sweep.h5", rc, err);
            if (rep == 0)
                first = dt;
            else
                best = fmin(best, dt);
        }
        hps_sweep_free(&sw);
        workdir_remove(&w);
        double interval = fmax(2.0, 20.0 * best);
        printf("%9d %10.3f %10.2f %12.1f %9.1f%% %10.3f\n", sizes[k], best,
               1e6 * best / sizes[k], interval, 100 * best / (interval + best), first);
        printf("RESULT|sweep.h5 first write %d trials (all rows in memory) s|%.3f|-|-|-|-\n",
               sizes[k], first);
        printf("RESULT|sweep.h5 rewrite %d trials s|%.3f|-|-|-|-\n", sizes[k], best);
        printf("RESULT|sweep.h5 rewrite %d trials share of coordinator time %%|%.2f|-|-|"
               "<= 5%%|%s\n", sizes[k], 100 * best / (interval + best),
               best / (interval + best) <= 0.05 ? "met" : "not met");
        fflush(stdout);
    }
}

/* OpenBLAS's own (libopenblas). */
void openblas_set_num_threads(int num_threads);

int main(int argc, char **argv)
{
    /* As `hpsweep run` sets up the coordinator (engine/cli/run.c): one BLAS thread
     * unless the user's variable says otherwise. */
    if (!getenv("OPENBLAS_NUM_THREADS"))
        openblas_set_num_threads(1);
    int quick = argc > 1 && !strcmp(argv[1], "quick");
    int store_only = argc > 1 && !strcmp(argv[1], "store");
    int first = quick || store_only ? 2 : 1;
    double floor = fsync_floor();
    printf("simulated scale: real coordinator, journal (fdatasync group commit), sweep.h5; "
           "virtual groups; runs of mean %.0f s\nfloor: one small append + fdatasync here = "
           "%.1f us (median of 101)\n\n", MEAN_SECONDS, 1e6 * floor);
    printf("RESULT|scale fdatasync floor us|%.1f|-|-|-|-\n", 1e6 * floor);
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "one")) {
        int dist = argc == 6 && !strcmp(argv[5], dist_name[DIST_PARETO]) ? DIST_PARETO
                                                                         : DIST_LOGNORMAL;
        if (argc == 6 && dist != DIST_PARETO && strcmp(argv[5], dist_name[DIST_LOGNORMAL])) {
            fprintf(stderr, "bench_scale: one: the distribution is lognormal or pareto, "
                            "not %s\n", argv[5]);
            return 2;
        }
        for (int si = 0; si < N_STRATS; si++)
            if (!strcmp(strats[si].name, argv[2])) {
                header();
                one_case(&strats[si], atoi(argv[3]), atoi(argv[4]), dist, floor);
                return 0;
            }
        fprintf(stderr, "bench_scale: no strategy %s\n", argv[2]);
        return 2;
    }
    if (!store_only)
        grid(quick, floor, argc, argv, first);
    if (first >= argc || store_only)
        store_part(quick);
    return 0;
}
