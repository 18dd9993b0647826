/*
 * Deterministic mode (engine/coord/sweep_det.c) through the coordinator core and
 * the simulated transport: the same config and seed give the same trial table —
 * every trial's configuration, seed, budget, bracket, rung, status and value, and
 * the suggestion order — with 1, 2 and 5 trial groups whose trial durations are
 * drawn at random (log-normal, a different draw per run), for random, grid, gp,
 * tpe, hyperband, asha, bohb and the median pruner. Each run's journal replays to
 * the same table, with the strategy (no divergence) and without it (statuses from
 * the PRUNE records), and a sweep interrupted and resumed on another group count
 * equals one that never stopped. A spy strategy checks the rule itself: suggestion k is made
 * knowing exactly the results of runs 0..k-P-1; a spy that waits for one more
 * result than the rule gives gets it through FEED records, exactly too. And the
 * default asynchronous mode does differ across group counts (so these checks can
 * fail).
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
#include "core/seed.h"
#include "hpsweep/error.h"
#include "store/record.h"

#define P 3
#define MAX_TRIALS 24

typedef struct world {
    char dir[64], journal[96];
    hps_journal *j;
    hps_sweep s;
    hps_transport *t;
    volatile sig_atomic_t signalled;
    uint64_t dur_seed;      /* this run's durations */
    int reports;            /* intermediate reports per trial */
    int64_t signal_at;      /* set signalled when this trial runs (0: never) */
    hps_rec_metric own;
} world;

/* A log-normal duration (median 10 s, sigma 1) drawn from (dur_seed, trial, budget). */
static double duration(void *ctx, int g, const hps_trial_spec *spec)
{
    world *w = ctx;
    (void)g;
    uint64_t a = hps_mix64(w->dur_seed ^ hps_mix64((uint64_t)spec->trial_id * 2654435761u +
                                                   (uint64_t)(spec->budget * 1000.0)));
    uint64_t b = hps_mix64(a + 0x9E3779B97F4A7C15ull);
    double u1 = ((double)(a >> 11) + 0.5) * 0x1.0p-53, u2 = (double)(b >> 11) * 0x1.0p-53;
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    return 10.0 * exp(z);
}

/* f(x, y) plus a fidelity term; with reports, a decreasing curve that ends at f. */
static int runner(void *ctx, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                  hps_outcome *out)
{
    world *w = ctx;
    hps_outcome_init(out);
    if (w->signal_at > 0 && spec->trial_id == w->signal_at)
        w->signalled = SIGTERM;
    double x = spec->values[0], y = spec->values[1];
    double f = (x - 0.3) * (x - 0.3) + (y - 0.7) * (y - 0.7) + 1.0 / (1.0 + spec->budget);
    for (int k = 0; k < w->reports; k++) {
        hps_report_line line = {.step = k, .resource = k, .n = 1};
        snprintf(line.names[0], sizeof line.names[0], "loss");
        line.values[0] = f + (double)(w->reports - k) * (0.05 + 0.2 * x);
        hooks->report(hooks->ctx, spec->trial_id, &line);
    }
    out->status = HPS_TRIAL_DONE;
    out->objective = f;
    w->own = (hps_rec_metric){.name_index = 0, .resource = spec->budget, .value = f};
    out->metrics = &w->own;
    out->n_metrics = 1;
    return HPS_OK;
}

static const char *yaml_base =
    "name: dettest\n"
    "seed: 11\n"
    "objective: {function: noop}\n"
    "metric: {name: loss}\n"
    "space:\n"
    "  x: {type: float, low: 0, high: 1}\n"
    "  y: {type: float, low: 0, high: 1}\n";

static void make_sweep(world *w, const char *extra)
{
    snprintf(w->dir, sizeof w->dir, "/tmp/hps-det-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->journal, sizeof w->journal, "%s/journal", w->dir);
    assert_int_equal(hps_journal_open(w->journal, HPS_JOURNAL_CREATE, &w->j), HPS_OK);
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s", yaml_base, extra);
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = 11, .created = 1.7e9,
                        .config_text = yaml, .config_len = (uint32_t)strlen(yaml),
                        .source = "det.yaml", .source_len = 8};
    char err[512] = "";
    hps_sweep_init(&w->s, HPS_SWEEP_STRATEGY);
    if (hps_sweep_commit_start(&w->s, w->j, &h, "loss", err, sizeof err) != HPS_OK)
        fail_msg("header: %s", err);
}

static int run_world_rc(world *w, int groups)
{
    hps_sim_opts o = {.n_groups = groups, .run = runner, .runner = w, .duration = duration,
                      .ctx = w};
    assert_int_equal(hps_transport_sim_create(&o, &w->t), HPS_OK);
    hps_coord_opts co = {.quiet = 1, .signalled = &w->signalled};
    char err[1024] = "";
    int rc = hps_coordinator_run(&w->s, w->j, w->t, &co, err, sizeof err);
    if (rc != HPS_OK && rc != HPS_EINTR)
        fail_msg("run: %s (%s)", hps_err_name(rc), err);
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    return rc;
}

static void run_world(world *w, int groups)
{
    assert_int_equal(run_world_rc(w, groups), HPS_OK);
}

static void close_world(world *w)
{
    hps_transport_destroy(w->t);
    w->t = NULL;
    hps_sweep_free(&w->s);
    hps_journal_close(w->j);
    w->j = NULL;
    assert_int_equal(hps_rm_tree(w->dir), 0);
}

/* What must not depend on the rank count: every trial's row (times and worker
 * aside) and the suggestion order (trial and budget of every run). */
typedef struct table {
    int64_t n, n_runs;
    hps_trial rows[4 * MAX_TRIALS];
    double u[4 * MAX_TRIALS][2];
    int64_t run_trial[64 * MAX_TRIALS];
    double run_budget[64 * MAX_TRIALS];
} table;

static void capture(const hps_sweep *s, table *t)
{
    assert_true(s->n_trials <= 4 * MAX_TRIALS);
    t->n = s->n_trials;
    for (int64_t i = 0; i < s->n_trials; i++) {
        t->rows[i] = s->trials[i];
        memcpy(t->u[i], s->u + i * s->d, sizeof t->u[i]);
    }
    assert_true(s->det.n_runs <= 64 * MAX_TRIALS);
    t->n_runs = s->det.n_runs;
    for (int64_t r = 0; r < s->det.n_runs; r++) {
        t->run_trial[r] = s->det.runs[r].trial_id;
        t->run_budget[r] = s->det.runs[r].budget;
    }
}

/* 1 when a and b agree in every row (bit for bit), else 0 (a message when loud). */
static int same(const table *a, const table *b, int loud)
{
    if (a->n != b->n || a->n_runs != b->n_runs) {
        if (loud)
            print_message("trials %lld vs %lld, runs %lld vs %lld\n", (long long)a->n,
                          (long long)b->n, (long long)a->n_runs, (long long)b->n_runs);
        return 0;
    }
    for (int64_t i = 0; i < a->n; i++) {
        const hps_trial *x = &a->rows[i], *y = &b->rows[i];
        if (x->status != y->status || x->seed != y->seed || x->budget != y->budget ||
            x->bracket != y->bracket || x->rung != y->rung ||
            memcmp(&x->objective, &y->objective, sizeof x->objective) != 0 ||
            strcmp(x->cause, y->cause) != 0 || memcmp(a->u[i], b->u[i], sizeof a->u[i]) != 0) {
            if (loud)
                print_message("trial %lld: status %d/%d objective %.17g/%.17g budget %g/%g\n",
                              (long long)i, x->status, y->status, x->objective, y->objective,
                              x->budget, y->budget);
            return 0;
        }
    }
    for (int64_t r = 0; r < a->n_runs; r++)
        if (a->run_trial[r] != b->run_trial[r] || a->run_budget[r] != b->run_budget[r]) {
            if (loud)
                print_message("run %lld: trial %lld/%lld\n", (long long)r,
                              (long long)a->run_trial[r], (long long)b->run_trial[r]);
            return 0;
        }
    return 1;
}

/* Replay w's journal with the strategy (it agrees with every record) and without
 * it (the same statuses): both give the table t. */
static void check_replays(world *w, const table *t)
{
    for (int with = 1; with >= 0; with--) {
        hps_journal *j;
        assert_int_equal(hps_journal_open(w->journal, HPS_JOURNAL_READ, &j), HPS_OK);
        hps_sweep r;
        char err[512] = "";
        hps_sweep_init(&r, with ? HPS_SWEEP_STRATEGY : 0);
        int rc = hps_sweep_replay(&r, j, err, sizeof err);
        if (rc != HPS_OK)
            fail_msg("replay: %s", err);
        assert_int_equal(r.replay_diverged, 0);
        table *mine = calloc(1, sizeof *mine);
        assert_non_null(mine);
        capture(&r, mine);
        if (!same(t, mine, 1))
            fail_msg("replay %s the strategy differs from the run", with ? "with" : "without");
        free(mine);
        hps_sweep_free(&r);
        hps_journal_close(j);
    }
}

/* Run the sweep yaml_base + extra with 1, 2 and 5 groups (durations drawn anew
 * each time); det: whether all three tables must agree. Returns whether they did. */
static int across_groups(const char *extra, int reports, int det)
{
    static const int groups[] = {1, 2, 5};
    table *first = calloc(1, sizeof *first), *t = calloc(1, sizeof *t);
    assert_true(first && t);
    int all_same = 1;
    for (int k = 0; k < 3; k++) {
        world w = {.dur_seed = 1000u + (uint64_t)k * 7919u, .reports = reports};
        make_sweep(&w, extra);
        run_world(&w, groups[k]);
        assert_string_equal(w.s.status, "completed");
        capture(&w.s, k == 0 ? first : t);
        if (det)
            check_replays(&w, k == 0 ? first : t);
        if (k > 0 && !same(first, t, det)) {
            all_same = 0;
            if (det)
                fail_msg("%s: %d groups differ from 1", extra, groups[k]);
        }
        close_world(&w);
    }
    free(first);
    free(t);
    return all_same;
}

#define DET "deterministic: true\nparallelism: 3\nbudget: {max_trials: 24}\n"
#define MF "min_resource: 1, max_resource: 9, eta: 3"

static void test_random(void **state)
{
    (void)state;
    across_groups(DET "strategy: {name: random, sampler: sobol}\n", 0, 1);
}

static void test_grid(void **state)
{
    (void)state;
    across_groups("deterministic: true\nparallelism: 3\nstrategy: {name: grid, points: 4}\n", 0,
                  1);
}

static void test_gp(void **state)
{
    (void)state;
    across_groups(DET "strategy: {name: gp, n_initial: 4}\n", 0, 1);
}

static void test_tpe(void **state)
{
    (void)state;
    across_groups(DET "strategy: {name: tpe, n_startup: 4}\n", 0, 1);
}

typedef struct counter {
    uint32_t type;
    int n;
} counter;

static int count_one(void *ctx, const hps_record *rec)
{
    counter *c = ctx;
    c->n += rec->type == c->type;
    return HPS_OK;
}

/* Records of type in w's journal. */
static int count_records(world *w, uint32_t type)
{
    hps_journal *j;
    assert_int_equal(hps_journal_open(w->journal, HPS_JOURNAL_READ, &j), HPS_OK);
    counter c = {type, 0};
    assert_int_equal(hps_journal_replay(j, count_one, &c), HPS_OK);
    hps_journal_close(j);
    return c.n;
}

static void test_hyperband(void **state)
{
    (void)state;
    const char *cfg = DET "strategy: {name: hyperband, " MF "}\n";
    across_groups(cfg, 0, 1);
    world w = {.dur_seed = 3};
    make_sweep(&w, cfg);
    run_world(&w, 2);
    assert_true(w.s.det.n_runs > w.s.n_trials); /* promotions are runs too */
    close_world(&w);
}

static void test_asha(void **state)
{
    (void)state;
    across_groups(DET "strategy: {name: asha, " MF "}\n", 0, 1);
}

static void test_bohb(void **state)
{
    (void)state;
    across_groups(DET "strategy: {name: bohb, " MF ", min_points_in_model: 3}\n", 0, 1);
}

/* The median pruner: some trials pruned, the same ones with any group count. */
static void test_median_pruner(void **state)
{
    (void)state;
    const char *cfg = DET "strategy: {name: random, pruner: {name: median, n_startup_trials: 3}}\n";
    across_groups(cfg, 5, 1);
    world w = {.dur_seed = 5, .reports = 5};
    make_sweep(&w, cfg);
    run_world(&w, 2);
    assert_true(w.s.n_pruned > 0);
    assert_true(w.s.n_done > 0);
    /* every stop is journaled once, and stopped trials are pruned however far they ran */
    assert_int_equal(count_records(&w, HPS_REC_PRUNE), w.s.n_pruned);
    close_world(&w);
}

/* Without deterministic: true, tpe's trials depend on the order results come in. */
static void test_async_differs(void **state)
{
    (void)state;
    int same_tables = across_groups("parallelism: 3\nbudget: {max_trials: 24}\n"
                                    "strategy: {name: tpe, n_startup: 4}\n", 0, 0);
    assert_false(same_tables);
}

/* ---- the rule itself, seen by a spy strategy ---------------------------------------- */

typedef struct spy {
    int extra;              /* wait for this many results beyond the rule's */
    int64_t n_suggested;
    int64_t observed[4 * MAX_TRIALS]; /* trial ids seen FINAL/FAILED, in order */
    int64_t n_observed;
    int64_t seen_at[4 * MAX_TRIALS];  /* n_observed when suggestion k was made */
} spy;

static spy g_spy;

static int spy_create(const hps_space *sp, const hps_strategy_cfg *cfg, uint64_t seed,
                      void **state, char *err, size_t errlen)
{
    (void)sp, (void)cfg, (void)seed, (void)err, (void)errlen;
    *state = &g_spy;
    return HPS_OK;
}

static void spy_destroy(void *state)
{
    (void)state;
}

static int spy_suggest(void *state, hps_suggestion *out)
{
    spy *s = state;
    int64_t k = s->n_suggested;
    if (s->extra && k - P + s->extra > s->n_observed)
        return HPS_EAGAIN;
    for (int i = 0; i < 2; i++)
        out->u[i] = (double)(hps_mix64((uint64_t)k * 2 + (uint64_t)i) >> 11) * 0x1.0p-53;
    s->seen_at[k] = s->n_observed;
    s->n_suggested++;
    return HPS_OK;
}

static int spy_observe(void *state, const hps_observation *obs, hps_decision *d)
{
    spy *s = state;
    if (d)
        *d = HPS_DECISION_CONTINUE;
    if (obs->kind != HPS_OBS_INTERMEDIATE)
        s->observed[s->n_observed++] = obs->trial_id;
    return HPS_OK;
}

static const hps_strategy_ops spy_ops = {
    .version = HPS_STRATEGY_VERSION, .name = "spy", .create = spy_create,
    .destroy = spy_destroy, .suggest = spy_suggest, .observe = spy_observe,
};

/* Run a sweep driven by the spy (installed in place of the config's strategy). */
static void spy_run(world *w, int groups, int extra)
{
    memset(&g_spy, 0, sizeof g_spy);
    g_spy.extra = extra;
    make_sweep(w, DET "strategy: random\n");
    w->s.ops->destroy(w->s.strategy);
    w->s.ops = &spy_ops;
    w->s.strategy = &g_spy;
    run_world(w, groups);
}

static void test_rule(void **state)
{
    (void)state;
    for (int groups = 1; groups <= 5; groups += 2) {
        world w = {.dur_seed = 77u + (uint64_t)groups};
        spy_run(&w, groups, 0);
        assert_int_equal(g_spy.n_suggested, MAX_TRIALS);
        /* suggestion k knew exactly runs 0..k-P-1, in order */
        for (int64_t k = 0; k < MAX_TRIALS; k++)
            assert_int_equal(g_spy.seen_at[k], k - P > 0 ? k - P : 0);
        for (int64_t i = 0; i < g_spy.n_observed; i++)
            assert_int_equal(g_spy.observed[i], i);
        close_world(&w);
    }
}

/* Replaying a journal with the spy in place of the config's strategy. */
typedef struct spy_replay {
    hps_sweep *s;
    int n_feed;
    char err[512];
} spy_replay;

static int spy_replay_one(void *ctx, const hps_record *rec)
{
    spy_replay *c = ctx;
    int rc = hps_sweep_apply(c->s, rec, NULL, c->err, sizeof c->err);
    if (rc == HPS_OK && rec->type == HPS_REC_HEADER) {
        c->s->ops->destroy(c->s->strategy);
        c->s->ops = &spy_ops;
        c->s->strategy = &g_spy;
    }
    c->n_feed += rec->type == HPS_REC_FEED;
    return rc;
}

/* A strategy that waits for one result more than the rule gives is shown the next
 * run (FEED records), the same way with any group count, and a replay agrees. */
static void test_feed(void **state)
{
    (void)state;
    for (int groups = 1; groups <= 5; groups += 2) {
        world w = {.dur_seed = 99u + (uint64_t)groups};
        spy_run(&w, groups, 1);
        assert_int_equal(g_spy.n_suggested, MAX_TRIALS);
        for (int64_t k = 0; k < MAX_TRIALS; k++)
            assert_int_equal(g_spy.seen_at[k], k - P + 1 > 0 ? k - P + 1 : 0);
        int64_t seen[MAX_TRIALS];
        memcpy(seen, g_spy.seen_at, sizeof seen);
        memset(&g_spy, 0, sizeof g_spy);
        g_spy.extra = 1;
        hps_journal *j;
        assert_int_equal(hps_journal_open(w.journal, HPS_JOURNAL_READ, &j), HPS_OK);
        hps_sweep r;
        hps_sweep_init(&r, HPS_SWEEP_STRATEGY);
        spy_replay c = {.s = &r};
        int rc = hps_journal_replay(j, spy_replay_one, &c);
        if (rc != HPS_OK)
            fail_msg("replay: %s", c.err);
        assert_int_equal(r.replay_diverged, 0);
        assert_int_equal(c.n_feed, MAX_TRIALS - P); /* one per suggestion from k = P on */
        for (int64_t k = 0; k < MAX_TRIALS; k++)
            assert_int_equal(g_spy.seen_at[k], seen[k]);
        hps_sweep_free(&r);
        hps_journal_close(j);
        close_world(&w);
    }
}

/* Interrupted (running trials journaled as interrupted), then resumed with another
 * group count: the same table as a sweep that never stopped. */
static void test_interrupt_resume(void **state)
{
    (void)state;
    const char *cfg = DET "strategy: {name: tpe, n_startup: 4, pruner: {name: median, "
                          "n_startup_trials: 3}}\n";
    table *whole = calloc(1, sizeof *whole), *resumed = calloc(1, sizeof *resumed);
    assert_true(whole && resumed);
    world a = {.dur_seed = 21, .reports = 5};
    make_sweep(&a, cfg);
    run_world(&a, 3);
    capture(&a.s, whole);
    close_world(&a);

    world b = {.dur_seed = 22, .reports = 5, .signal_at = 11};
    make_sweep(&b, cfg);
    assert_int_equal(run_world_rc(&b, 2), HPS_EINTR);
    assert_true(b.s.n_interrupted > 0);
    hps_transport_destroy(b.t);
    b.t = NULL;
    hps_sweep_free(&b.s);
    hps_journal_close(b.j);
    assert_int_equal(hps_journal_open(b.journal, HPS_JOURNAL_WRITE, &b.j), HPS_OK);
    hps_sweep_init(&b.s, HPS_SWEEP_STRATEGY);
    char err[512] = "";
    assert_int_equal(hps_sweep_replay(&b.s, b.j, err, sizeof err), HPS_OK);
    b.signalled = 0;
    b.signal_at = 0;
    b.dur_seed = 23;
    run_world(&b, 5);
    capture(&b.s, resumed);
    if (!same(whole, resumed, 1))
        fail_msg("an interrupted and resumed sweep differs from one that never stopped");
    check_replays(&b, resumed);
    close_world(&b);
    free(whole);
    free(resumed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),       cmocka_unit_test(test_feed),
        cmocka_unit_test(test_random),     cmocka_unit_test(test_grid),
        cmocka_unit_test(test_gp),         cmocka_unit_test(test_tpe),
        cmocka_unit_test(test_hyperband),  cmocka_unit_test(test_asha),
        cmocka_unit_test(test_bohb),       cmocka_unit_test(test_median_pruner),
        cmocka_unit_test(test_async_differs),
        cmocka_unit_test(test_interrupt_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
