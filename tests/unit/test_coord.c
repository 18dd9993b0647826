/*
 * The coordinator core (engine/coord/coord.c) driven through the simulated
 * transport: no MPI, no sleeping, time is simulated. A scripted runner decides
 * each trial's outcome, reports and (through the duration callback) how long it
 * takes. Checked: budgets (max_trials exactly, max_time in simulated seconds),
 * batching of fast trials and one trial in flight for adaptive strategies,
 * parallelism caps, re-running interrupted trials first in id order, a signal
 * and a worker's own interruption, the failure limit, pruning by the median
 * pruner, that replaying the journal gives the same sweep and strategy, and
 * that the metric rows written to sweep.h5 leave memory with the file still whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "coord/coord.h"
#include "coord/transport_sim.h"
#include "hpsweep/error.h"
#include "store/record.h"

#define MAX_CALLS 4096

typedef struct world {
    char dir[64], journal[96];
    hps_journal *j;
    hps_sweep s;
    hps_transport *t;
    volatile sig_atomic_t signalled;
    /* the script */
    double duration;            /* seconds per trial */
    int fail_all;               /* every trial fails */
    int64_t signal_at;          /* set signalled when this trial runs (-1: never) */
    int64_t interrupt_at;       /* this trial comes back INTERRUPTED (-1: never) */
    int reports;                /* intermediate reports per trial */
    /* what happened */
    int n_calls;
    int64_t ids[MAX_CALLS];     /* trial ids in the order they ran */
    int groups[MAX_CALLS];      /* the group each ran on */
    int cur_group;
    hps_rec_metric own;
} world;

static double duration(void *ctx, int g, const hps_trial_spec *spec)
{
    world *w = ctx;
    (void)spec;
    w->cur_group = g;
    return w->duration;
}

/* The runner: value x (the first parameter); reports x * (k + 1) at steps k. */
static int runner(void *ctx, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                  hps_outcome *out)
{
    world *w = ctx;
    if (w->n_calls < MAX_CALLS) {
        w->ids[w->n_calls] = spec->trial_id;
        w->groups[w->n_calls] = w->cur_group;
    }
    w->n_calls++;
    if (spec->trial_id == w->signal_at)
        w->signalled = SIGTERM;
    hps_outcome_init(out);
    double x = spec->values[0];
    for (int k = 0; k < w->reports; k++) {
        hps_report_line line = {.step = k, .resource = k, .n = 1};
        snprintf(line.names[0], sizeof line.names[0], "loss");
        line.values[0] = x * (k + 1);
        hooks->report(hooks->ctx, spec->trial_id, &line);
    }
    if (spec->trial_id == w->interrupt_at) {
        out->status = HPS_TRIAL_INTERRUPTED;
        snprintf(out->cause, sizeof out->cause, "interrupted");
    } else if (w->fail_all) {
        snprintf(out->cause, sizeof out->cause, "exit:1");
        out->attempts = 1;
    } else {
        out->status = HPS_TRIAL_DONE;
        out->objective = x * w->reports;
        w->own = (hps_rec_metric){.name_index = 0, .resource = spec->budget, .value = x};
        out->metrics = &w->own;
        out->n_metrics = w->reports ? 0 : 1;
    }
    return HPS_OK;
}

static const char *yaml_base =
    "name: coordtest\n"
    "seed: 7\n"
    "objective: {function: noop}\n"
    "metric: {name: loss}\n"
    "space:\n"
    "  x: {type: float, low: 0, high: 1}\n"
    "  y: {type: float, low: 0, high: 1}\n";

/* A fresh sweep whose config is yaml_base + extra, its journal under a temp dir. */
static void make_sweep(world *w, const char *extra)
{
    snprintf(w->dir, sizeof w->dir, "/tmp/hps-coord-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->journal, sizeof w->journal, "%s/journal", w->dir);
    assert_int_equal(hps_journal_open(w->journal, HPS_JOURNAL_CREATE, &w->j), HPS_OK);
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s", yaml_base, extra);
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = 7, .created = 1.7e9,
                        .config_text = yaml, .config_len = (uint32_t)strlen(yaml),
                        .source = "coord.yaml", .source_len = 10};
    char err[512] = "";
    hps_sweep_init(&w->s, HPS_SWEEP_STRATEGY);
    if (hps_sweep_commit_start(&w->s, w->j, &h, "loss", err, sizeof err) != HPS_OK)
        fail_msg("header: %s", err);
}

static void make_transport(world *w, int groups)
{
    hps_sim_opts o = {.n_groups = groups, .run = runner, .runner = w, .duration = duration,
                      .ctx = w};
    assert_int_equal(hps_transport_sim_create(&o, &w->t), HPS_OK);
}

/* Run the sweep with this budget (committed as a BUDGET record when it differs
 * from the config's, as a run with --max-trials does). */
static int run(world *w, int64_t max_trials, double max_time, int parallelism, char *err,
               size_t errlen)
{
    hps_rec_budget g = w->s.budget;
    g.max_trials = max_trials;
    g.max_time = max_time;
    g.parallelism = parallelism;
    assert_int_equal(hps_sweep_commit_budget(&w->s, w->j, &g, err, errlen), HPS_OK);
    hps_coord_opts o = {.quiet = 1, .signalled = &w->signalled};
    return hps_coordinator_run(&w->s, w->j, w->t, &o, err, errlen);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->duration = 10.0;
    w->signal_at = w->interrupt_at = -1;
    *state = w;
    return 0;
}

static void close_world(world *w)
{
    hps_transport_destroy(w->t);
    w->t = NULL;
    hps_sweep_free(&w->s);
    hps_journal_close(w->j);
    w->j = NULL;
}

static int teardown(void **state)
{
    world *w = *state;
    close_world(w);
    if (hps_rm_tree(w->dir) != 0)
        return -1;
    free(w);
    return 0;
}

/* Replay the journal into a fresh sweep with its strategy: the same trials, the
 * same suggestions (the strategy agrees with every recorded one). */
static void check_replay(world *w)
{
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    hps_journal *j;
    assert_int_equal(hps_journal_open(w->journal, HPS_JOURNAL_READ, &j), HPS_OK);
    hps_sweep r;
    char err[512] = "";
    hps_sweep_init(&r, HPS_SWEEP_STRATEGY);
    int rc = hps_sweep_replay(&r, j, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("replay: %s", err);
    assert_int_equal(r.replay_diverged, 0);
    assert_int_equal(r.n_trials, w->s.n_trials);
    assert_int_equal(r.n_done, w->s.n_done);
    assert_int_equal(r.n_pruned, w->s.n_pruned);
    assert_int_equal(r.best_id, w->s.best_id);
    assert_string_equal(r.status, w->s.status);
    for (int64_t i = 0; i < r.n_trials; i++) {
        assert_int_equal(r.trials[i].status, w->s.trials[i].status);
        assert_memory_equal(r.u + i * r.d, w->s.u + i * r.d, sizeof(double) * (size_t)r.d);
    }
    hps_sweep_free(&r);
    hps_journal_close(j);
}

/* max_trials is exact, every trial is done, the groups share the work. */
static void test_max_trials(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: random\n");
    make_transport(w, 3);
    char err[512] = "";
    assert_int_equal(run(w, 25, 0, 0, err, sizeof err), HPS_OK);
    assert_int_equal(w->s.n_trials, 25);
    assert_int_equal(w->s.n_done, 25);
    assert_string_equal(w->s.status, "completed");
    int used[3] = {0};
    for (int i = 0; i < w->n_calls; i++)
        used[w->groups[i]]++;
    assert_true(used[0] > 0 && used[1] > 0 && used[2] > 0);
    hps_sim_stats st;
    hps_transport_sim_stats(w->t, &st);
    /* 25 trials of 10 s on 3 groups: 9 rounds. */
    assert_true(st.now >= 90.0 - 1e-9 && st.now <= 90.0 + 1e-9);
    assert_true(fabs(st.busy - 250.0) < 1e-9);
    check_replay(w);
}

/* max_time counts simulated seconds: nothing starts once it is spent. */
static void test_max_time(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: random\n");
    make_transport(w, 2);
    char err[512] = "";
    assert_int_equal(run(w, 0, 100.0, 0, err, sizeof err), HPS_OK);
    /* Two groups start trials at 0, 10, ..., 90: 20 trials; at 100 the time is up. */
    assert_int_equal(w->s.n_trials, 20);
    assert_int_equal(w->s.n_done, 20);
}

/* Fast trials go out in batches (group commit amortises the fsync); an adaptive
 * strategy gets one trial per group in flight. */
static void test_batching(void **state)
{
    world *w = *state;
    w->duration = 1e-4;
    make_sweep(w, "strategy: random\n");
    make_transport(w, 2);
    char err[512] = "";
    assert_int_equal(run(w, 2000, 0, 0, err, sizeof err), HPS_OK);
    hps_sim_stats st;
    hps_transport_sim_stats(w->t, &st);
    assert_int_equal(st.trials, 2000);
    assert_true(st.batches * 10 < st.trials); /* more than 10 trials a batch on average */
    check_replay(w);
}

static void test_adaptive_one_in_flight(void **state)
{
    world *w = *state;
    w->duration = 1e-4;
    make_sweep(w, "strategy: {name: tpe, n_startup: 5}\n");
    make_transport(w, 2);
    char err[512] = "";
    assert_int_equal(run(w, 30, 0, 0, err, sizeof err), HPS_OK);
    hps_sim_stats st;
    hps_transport_sim_stats(w->t, &st);
    assert_int_equal(st.trials, 30);
    assert_int_equal(st.batches, 30);
    check_replay(w);
}

/* parallelism caps the groups in use. */
static void test_parallelism(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: random\n");
    make_transport(w, 4);
    char err[512] = "";
    assert_int_equal(run(w, 12, 0, 2, err, sizeof err), HPS_OK);
    assert_int_equal(w->s.n_done, 12);
    for (int i = 0; i < w->n_calls; i++)
        assert_true(w->groups[i] < 2);
}

/* A signal stops dispatching: running trials are journaled interrupted, the sweep
 * too; the next run re-runs them first, in id order, with their seeds. */
static void test_signal_and_requeue(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: random\n");
    make_transport(w, 3);
    w->signal_at = 4;
    char err[512] = "";
    assert_int_equal(run(w, 20, 0, 0, err, sizeof err), HPS_EINTR);
    assert_string_equal(w->s.status, "interrupted");
    assert_int_equal(w->s.n_running, 0);
    int64_t interrupted[8], n_int = 0;
    for (int64_t i = 0; i < w->s.n_trials; i++)
        if (w->s.trials[i].status == HPS_TRIAL_INTERRUPTED)
            interrupted[n_int++] = i;
    assert_true(n_int >= 1 && n_int <= 3);
    uint64_t seed0 = w->s.trials[interrupted[0]].seed;
    check_replay(w);

    /* Resume: replay into a fresh sweep, run again. */
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    close_world(w);
    assert_int_equal(hps_journal_open(w->journal, HPS_JOURNAL_WRITE, &w->j), HPS_OK);
    hps_sweep_init(&w->s, HPS_SWEEP_STRATEGY);
    assert_int_equal(hps_sweep_replay(&w->s, w->j, err, sizeof err), HPS_OK);
    make_transport(w, 3);
    w->signalled = 0;
    w->signal_at = -1;
    w->n_calls = 0;
    assert_int_equal(run(w, 20, 0, 0, err, sizeof err), HPS_OK);
    for (int64_t k = 0; k < n_int; k++)
        assert_int_equal(w->ids[k], interrupted[k]);
    assert_true(w->s.trials[interrupted[0]].seed == seed0);
    assert_int_equal(w->s.n_trials, 20);
    assert_int_equal(w->s.n_done, 20);
    assert_string_equal(w->s.status, "completed");
    check_replay(w);
}

/* A worker that was itself stopped returns INTERRUPTED: journaled as such, and
 * the coordinator stops too. */
static void test_worker_interrupted(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: random\n");
    make_transport(w, 1);
    w->interrupt_at = 3;
    char err[512] = "";
    assert_int_equal(run(w, 20, 0, 0, err, sizeof err), HPS_EINTR);
    assert_int_equal(w->s.trials[3].status, HPS_TRIAL_INTERRUPTED);
    assert_int_equal(w->s.n_done, 3);
    assert_int_equal(w->s.n_trials, 4);
}

/* budget.max_consecutive_failures stops the sweep with status failed. */
static void test_failure_limit(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: random\nbudget: {max_trials: 50, max_consecutive_failures: 4}\n");
    make_transport(w, 1);
    w->fail_all = 1;
    char err[512] = "";
    assert_int_equal(run(w, 50, 0, 0, err, sizeof err), HPS_EFAILURES);
    assert_string_equal(w->s.status, "failed");
    assert_int_equal(w->s.n_failed, 4);
    assert_non_null(strstr(err, "4 failed attempts in a row"));
}

/* The median pruner stops trials whose reports are worse than the median of the
 * completed ones; a pruned trial ends when it is stopped, not at its full time. */
static void test_pruning(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: {name: random, pruner: {name: median, n_startup_trials: 3}}\n");
    make_transport(w, 1);
    w->reports = 4;
    char err[512] = "";
    assert_int_equal(run(w, 30, 0, 0, err, sizeof err), HPS_OK);
    assert_true(w->s.n_pruned > 0);
    assert_int_equal(w->s.n_pruned + w->s.n_done, 30);
    hps_sim_stats st;
    hps_transport_sim_stats(w->t, &st);
    assert_int_equal(st.pruned, w->s.n_pruned);
    assert_true(st.now < 30 * 10.0); /* the pruned trials were cut short */
    for (int64_t i = 0; i < w->s.n_trials; i++) {
        const hps_trial *t = &w->s.trials[i];
        if (t->status == HPS_TRIAL_PRUNED) {
            assert_string_equal(t->cause, "pruned");
            assert_true(t->end - t->start < 10.0);
        }
    }
    check_replay(w);
}

/*
 * The coordinator writes sweep.h5 as it goes, and after each write lets go of the
 * metric rows written: at the end it holds none, yet sweep.h5 has every row, the
 * same as a write from a replay of the journal (which keeps them all).
 */
static void test_spill_to_store(void **state)
{
    world *w = *state;
    make_sweep(w, "strategy: random\n");
    make_transport(w, 2);
    w->reports = 2;
    char err[512] = "", h5[128], h5_replay[128];
    snprintf(h5, sizeof h5, "%s/sweep.h5", w->dir);
    snprintf(h5_replay, sizeof h5_replay, "%s/replayed.h5", w->dir);
    hps_rec_budget g = w->s.budget;
    g.max_trials = 40;
    assert_int_equal(hps_sweep_commit_budget(&w->s, w->j, &g, err, sizeof err), HPS_OK);
    hps_coord_opts o = {.quiet = 1, .signalled = &w->signalled, .h5_path = h5};
    int rc = hps_coordinator_run(&w->s, w->j, w->t, &o, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("run: %s", err);
    assert_int_equal(w->s.n_done, 40);
    assert_int_equal(w->s.metrics_spilled, 80);
    assert_int_equal(w->s.n_metrics, 0);
    assert_null(w->s.metrics);

    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    hps_sweep r;
    hps_sweep_init(&r, 0);
    assert_int_equal(hps_sweep_replay(&r, w->j, err, sizeof err), HPS_OK);
    assert_int_equal(hps_sweep_write_store(&r, h5_replay, err, sizeof err), HPS_OK);
    assert_int_equal(r.n_metrics, 80);
    hps_results a, b;
    assert_int_equal(hps_results_open(h5, &a, err, sizeof err), HPS_OK);
    assert_int_equal(hps_results_open(h5_replay, &b, err, sizeof err), HPS_OK);
    assert_int_equal(a.n_metrics, 80);
    assert_int_equal(b.n_metrics, 80);
    for (int64_t i = 0; i < a.n_metrics; i++) {
        assert_int_equal(a.metrics[i].trial_id, r.metrics[i].trial_id);
        assert_int_equal(a.metrics[i].step, r.metrics[i].step);
        assert_true(a.metrics[i].value == r.metrics[i].value);
        assert_memory_equal(&a.metrics[i], &b.metrics[i], sizeof a.metrics[i]);
    }
    assert_int_equal(a.n_trials, 40);
    assert_int_equal(b.n_trials, 40);
    for (int64_t i = 0; i < a.n_trials; i++) {
        assert_int_equal(a.trials[i].status, b.trials[i].status);
        assert_true(a.trials[i].objective == b.trials[i].objective);
        assert_true(a.trials[i].values[0] == b.trials[i].values[0]);
    }
    hps_results_free(&a);
    hps_results_free(&b);
    hps_sweep_free(&r);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_max_trials),        T(test_max_time),          T(test_batching),
        T(test_adaptive_one_in_flight), T(test_parallelism), T(test_signal_and_requeue),
        T(test_worker_interrupted), T(test_failure_limit),    T(test_pruning),
        T(test_spill_to_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
