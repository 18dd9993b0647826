/*
 * The strategy contract: one suite run over every strategy in hps_strategy_list()
 * (so a strategy is covered the moment it is registered), under its default
 * options and under every choice of each of its ENUM options, on three spaces
 * (1-D float; 5-D float/log-float/int/categorical/bool; 12-D floats).
 *
 * Each (strategy, options, space) gets its own cmocka test per property:
 *   determinism    same seed + same calls => bit-identical suggestions (>= 60)
 *   seeds          different seeds => different suggestions (seed-dependent ones)
 *   bounds_counts  every u in [0,1]; at least 100 suggestions or HPS_EDONE, and
 *                  HPS_EDONE for good once returned (grid: exactly its product)
 *   replay         a fresh state fed a recorded, irregular sequence of calls
 *                  reproduces every suggestion and the next one bit for bit
 *   pending        8 outstanding suggestions are pairwise distinct (not grid)
 * plus table-wide checks (registry, ops and option tables, destroy(NULL), bad
 * configurations failing cleanly).
 *
 * The calls come from the driver in strategy_driver.h, which makes the calls the
 * engine makes (pending trials, out-of-order and failed results, intermediate
 * reports, promotions).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hpsweep/error.h"
#include "hpsweep/space.h"
#include "hpsweep/strategy.h"
#include "strategy_driver.h"

/* ---- spaces ------------------------------------------------------------------- */

static hps_choice optimizers[] = {
    {.kind = HPS_CHOICE_STRING, .text = (char *)"adam"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"sgd"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"rmsprop"},
};

static hps_param params_1d[] = {
    {.name = (char *)"x", .type = HPS_PARAM_FLOAT, .low = -5.0, .high = 10.0},
};

static hps_param params_mixed[] = {
    {.name = (char *)"lr", .type = HPS_PARAM_FLOAT, .low = 1e-5, .high = 1e-1, .log = 1},
    {.name = (char *)"dropout", .type = HPS_PARAM_FLOAT, .low = 0.0, .high = 0.5},
    {.name = (char *)"layers", .type = HPS_PARAM_INT, .low = 1, .high = 8},
    {.name = (char *)"optimizer", .type = HPS_PARAM_CATEGORICAL, .n_choices = 3,
     .choices = optimizers},
    {.name = (char *)"bias", .type = HPS_PARAM_BOOL},
};

static hps_param params_12d[12];
static hps_param params_41d[41];
static char param_names[41][16];

typedef struct space_case {
    const char *label;
    hps_space space;
    uint64_t grid_total; /* what grid with default options must enumerate */
} space_case;

static space_case spaces[] = {
    {.label = "1d", .space = {1, params_1d}, .grid_total = 5},
    {.label = "mixed5", .space = {5, params_mixed}, .grid_total = 5 * 5 * 5 * 3 * 2},
    {.label = "floats12", .space = {12, params_12d}, .grid_total = 244140625ull /* 5^12 */},
};
#define N_SPACES (sizeof spaces / sizeof spaces[0])

static hps_space space_41d = {41, params_41d};

static void init_spaces(void)
{
    for (int i = 0; i < 41; i++) {
        snprintf(param_names[i], sizeof param_names[i], "x%d", i);
        params_41d[i] = (hps_param){.name = param_names[i], .type = HPS_PARAM_FLOAT,
                                    .low = 0.0, .high = 1.0};
        if (i < 12)
            params_12d[i] = (hps_param){.name = param_names[i], .type = HPS_PARAM_FLOAT,
                                        .low = -1.0 - i, .high = 2.0 + i};
    }
}

/* ---- cases: (strategy, options, space) ---------------------------------------- */

typedef struct strat_case {
    const hps_strategy_ops *ops;
    const char *key;      /* the one option set, or NULL for the defaults */
    const char *value;
    hps_strategy_cfg cfg; /* points at key/value */
    const space_case *sp;
    char label[128];
} strat_case;

static const hps_strategy_cfg *case_cfg(const strat_case *c)
{
    return c->key ? &c->cfg : NULL;
}

/* Strategies whose suggestions do not depend on the seed (by design). */
static int seed_independent(const hps_strategy_ops *ops)
{
    return strcmp(ops->name, "grid") == 0;
}

static void *create_or_fail(const strat_case *c, uint64_t seed)
{
    void *st = NULL;
    char err[256] = "";
    int rc = c->ops->create(&c->sp->space, case_cfg(c), seed, &st, err, sizeof err);
    if (rc != HPS_OK) {
        print_error("%s: create failed: %s (%s)\n", c->label, hps_err_name(rc), err);
        fail();
    }
    assert_non_null(st);
    return st;
}

/* ---- properties ------------------------------------------------------------------- */

static void run_trace(const strat_case *c, uint64_t seed, long want, trace *t, long *n_ok,
                      int *done)
{
    void *st = create_or_fail(c, seed);
    driver dr;
    driver_init(&dr, c->ops, st, c->sp->space.n_params, 3, 1);
    driver_run_until(&dr, want, 20 * want, t, NULL);
    *n_ok = dr.n_ok;
    *done = dr.done;
    /* A strategy that says it never promotes (the engine then lets go of its ended
     * trials) must not. */
    if ((c->ops->flags & HPS_STRATEGY_NO_PROMOTION) && dr.n_promotions > 0)
        fail_msg("%s: flagged HPS_STRATEGY_NO_PROMOTION but promoted %ld times", c->label,
                 dr.n_promotions);
    c->ops->destroy(st);
}

static void test_determinism(void **state)
{
    const strat_case *c = *state;
    const uint64_t seeds[] = {42, 0xDEADBEEFCAFEBABEull};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        trace a = {0}, b = {0};
        long na, nb;
        int done_a, done_b;
        run_trace(c, seeds[k], 60, &a, &na, &done_a);
        run_trace(c, seeds[k], 60, &b, &nb, &done_b);
        assert_true(na >= 60 || done_a);
        assert_int_equal(done_a, done_b);
        assert_int_equal(na, nb);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.buf, b.buf, a.len);
        free(a.buf);
        free(b.buf);
    }
}

/* The first n suggested points, concatenated, with one trial observed per point. */
static double *first_points(const strat_case *c, uint64_t seed, int n)
{
    int d = c->sp->space.n_params;
    double *pts = calloc((size_t)n * (size_t)d, sizeof *pts);
    assert_non_null(pts);
    void *st = create_or_fail(c, seed);
    for (int i = 0; i < n; i++) {
        hps_suggestion s = {.u = pts + (size_t)i * d, .trial_id = i, .bracket = -1, .rung = -1};
        assert_int_equal(c->ops->suggest(st, &s), HPS_OK);
        hps_observation obs = {.trial_id = i, .kind = HPS_OBS_FINAL, .u = s.u,
                               .value = objective(s.u, d)};
        assert_int_equal(c->ops->observe(st, &obs, NULL), HPS_OK);
    }
    c->ops->destroy(st);
    return pts;
}

static void test_seeds(void **state)
{
    const strat_case *c = *state;
    if (seed_independent(c->ops))
        skip();
    const int n = 5;
    int d = c->sp->space.n_params;
    const uint64_t seeds[] = {1, 2, 0x8000000000000001ull, 0x8000000000000002ull};
    double *pts[4];
    for (int k = 0; k < 4; k++)
        pts[k] = first_points(c, seeds[k], n);
    /* Seeds differing in one bit, low or high, give different sequences. */
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            if (memcmp(pts[a], pts[b], (size_t)n * d * sizeof(double)) == 0)
                fail_msg("%s: seeds %d and %d gave the same %d suggestions", c->label, a, b, n);
    for (int k = 0; k < 4; k++)
        free(pts[k]);
}

static void test_bounds_counts(void **state)
{
    const strat_case *c = *state;
    const long want = 100;
    int is_grid = strcmp(c->ops->name, "grid") == 0;
    for (int batch = 1; batch <= 4; batch += 3) {
        void *st = create_or_fail(c, 7);
        driver dr;
        driver_init(&dr, c->ops, st, c->sp->space.n_params, batch, batch > 1);
        long limit = is_grid && c->sp->grid_total <= 10000 ? (long)c->sp->grid_total + 1 : want;
        driver_run_until(&dr, limit, 40 * limit, NULL, NULL);
        assert_int_equal(dr.n_oob, 0);
        if (is_grid && c->sp->grid_total <= 10000) {
            assert_true(dr.done);
            assert_int_equal(dr.n_ok, (long)c->sp->grid_total);
        } else {
            assert_true(dr.n_ok >= want || dr.done);
        }
        if (dr.done) {
            double u[MAXD];
            for (int i = 0; i < 5; i++) {
                hps_suggestion s = {.u = u, .trial_id = dr.next_id, .bracket = -1, .rung = -1};
                assert_int_equal(c->ops->suggest(st, &s), HPS_EDONE);
            }
        }
        c->ops->destroy(st);
    }
}

/* Feed a fresh state the recorded calls: every suggestion must come out as
 * recorded, and so must the one after. */
static void test_replay(void **state)
{
    const strat_case *c = *state;
    int d = c->sp->space.n_params;
    void *a = create_or_fail(c, 2024);
    driver da;
    driver_init(&da, c->ops, a, d, 4, 1);
    event_log lg = {0};
    driver_run_until(&da, 45, 1000, NULL, &lg);
    assert_true(lg.n > 0);

    void *b = create_or_fail(c, 2024);
    double u[MAXD];
    int64_t next_id = 0; /* what the engine presets: the next new trial's id */
    for (size_t i = 0; i < lg.n; i++) {
        event *e = &lg.ev[i];
        if (e->is_suggest) {
            hps_suggestion s = {.u = u, .trial_id = next_id, .bracket = -1, .rung = -1};
            int rc = c->ops->suggest(b, &s);
            assert_int_equal(rc, e->rc);
            if (rc == HPS_OK) {
                if (!s.promotion)
                    next_id++;
                assert_memory_equal(u, e->u, (size_t)d * sizeof(double));
                assert_int_equal(s.trial_id, e->sug.trial_id);
                assert_int_equal(s.promotion, e->sug.promotion);
                assert_memory_equal(&s.budget, &e->sug.budget, sizeof s.budget);
            }
        } else {
            hps_observation obs = e->obs;
            obs.u = e->u;
            hps_decision dec;
            assert_int_equal(c->ops->observe(b, &obs, obs.kind == HPS_OBS_INTERMEDIATE ? &dec : NULL),
                             HPS_OK);
        }
    }
    double ua[MAXD], ub[MAXD];
    assert_int_equal(next_id, da.next_id);
    hps_suggestion sa = {.u = ua, .trial_id = da.next_id, .bracket = -1, .rung = -1};
    hps_suggestion sb = sa;
    sb.u = ub;
    int ra = c->ops->suggest(a, &sa), rb = c->ops->suggest(b, &sb);
    assert_int_equal(ra, rb);
    if (ra == HPS_OK) {
        assert_memory_equal(ua, ub, (size_t)d * sizeof(double));
        assert_int_equal(sa.trial_id, sb.trial_id);
        assert_memory_equal(&sa.budget, &sb.budget, sizeof sa.budget);
    }
    free(lg.ev);
    c->ops->destroy(a);
    c->ops->destroy(b);
}

static void test_pending(void **state)
{
    const strat_case *c = *state;
    if (strcmp(c->ops->name, "grid") == 0)
        skip(); /* a 1-D grid has fewer than 8 points; distinctness is test_grid's */
    int d = c->sp->space.n_params;
    double u[8][MAXD];
    void *st = create_or_fail(c, 5);
    for (int i = 0; i < 8; i++) {
        hps_suggestion s = {.u = u[i], .trial_id = i, .bracket = -1, .rung = -1};
        int rc = c->ops->suggest(st, &s);
        if (rc != HPS_OK)
            fail_msg("%s: suggestion %d of 8 outstanding returned %s", c->label, i,
                     hps_err_name(rc));
    }
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++)
            if (memcmp(u[i], u[j], (size_t)d * sizeof(double)) == 0)
                fail_msg("%s: outstanding suggestions %d and %d are identical", c->label, i, j);
    c->ops->destroy(st);
}

/* ---- table-wide checks --------------------------------------------------------------- */

static void test_registry(void **state)
{
    const hps_strategy_ops *const *list = hps_strategy_list();
    assert_non_null(list);
    assert_non_null(list[0]);
    assert_non_null(hps_strategy_find("random"));
    assert_non_null(hps_strategy_find("grid"));
    assert_null(hps_strategy_find("no-such-strategy"));
    assert_null(hps_strategy_find(""));
    assert_null(hps_strategy_find(NULL));
    for (size_t i = 0; list[i]; i++) {
        const hps_strategy_ops *ops = list[i];
        assert_int_equal(ops->version, HPS_STRATEGY_VERSION);
        assert_non_null(ops->name);
        assert_ptr_equal(hps_strategy_find(ops->name), ops);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(list[j]->name, ops->name);
        assert_non_null(ops->create);
        assert_non_null(ops->destroy);
        assert_non_null(ops->suggest);
        assert_non_null(ops->observe);
        assert_non_null(ops->options);
        for (const hps_option_spec *o = ops->options; o->name; o++) {
            assert_non_null(o->help);
            assert_true(o->type >= HPS_OPT_INT && o->type <= HPS_OPT_STRING);
            if (o->type == HPS_OPT_ENUM) {
                assert_non_null(o->choices);
                assert_non_null(o->choices[0]);
            }
            if (o->type == HPS_OPT_INT || o->type == HPS_OPT_FLOAT)
                assert_true(o->min <= o->max);
        }
    }
}

static void test_destroy_null(void **state)
{
    for (const hps_strategy_ops *const *p = hps_strategy_list(); *p; p++)
        (*p)->destroy(NULL);
}

/* Every strategy either accepts a 41-D space or refuses it with HPS_ECONFIG and a
 * message; a refusal must not leak (ASan) or leave a state behind. */
static void test_bad_configs(void **state)
{
    for (const hps_strategy_ops *const *p = hps_strategy_list(); *p; p++) {
        void *st = (void *)1;
        char err[256] = "";
        int rc = (*p)->create(&space_41d, NULL, 1, &st, err, sizeof err);
        if (rc == HPS_OK) {
            assert_non_null(st);
            (*p)->destroy(st);
        } else {
            assert_int_equal(rc, HPS_ECONFIG);
            assert_null(st);
            assert_true(err[0] != '\0');
        }
    }

    /* Known refusals. */
    const char *sk[] = {"sampler"}, *sv[] = {"sobol"};
    hps_strategy_cfg sobol = {1, sk, sv};
    void *st = (void *)1;
    char err[256] = "";
    const hps_strategy_ops *random = hps_strategy_find("random");
    assert_int_equal(random->create(&space_41d, &sobol, 1, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
    assert_non_null(strstr(err, "40"));

    const char *gk[] = {"points"}, *gv[] = {"100000"};
    hps_strategy_cfg big = {1, gk, gv};
    const hps_strategy_ops *grid = hps_strategy_find("grid");
    err[0] = '\0';
    st = (void *)1;
    assert_int_equal(grid->create(&spaces[2].space, &big, 1, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
    assert_non_null(strstr(err, "2^53"));
    /* err may be NULL. */
    assert_int_equal(grid->create(&spaces[2].space, &big, 1, &st, NULL, 0), HPS_ECONFIG);
}

/* ---- the test list, built from the registry ---------------------------------------------- */

static const struct {
    const char *name;
    CMUnitTestFunction fn;
} properties[] = {
    {"determinism", test_determinism}, {"seeds", test_seeds},
    {"bounds_counts", test_bounds_counts},
    {"replay", test_replay}, {"pending", test_pending},
};
#define N_PROPS (sizeof properties / sizeof properties[0])

int main(void)
{
    init_spaces();

    /* Options per strategy: the defaults, then every choice of every ENUM option. */
    size_t n_cases = 0, cap = 16;
    strat_case *cases = calloc(cap, sizeof *cases);
    assert_non_null(cases);
    for (const hps_strategy_ops *const *p = hps_strategy_list(); *p; p++) {
        const char *keys[64] = {NULL}, *vals[64] = {NULL};
        size_t nopt = 1;
        for (const hps_option_spec *o = (*p)->options; o && o->name; o++)
            if (o->type == HPS_OPT_ENUM)
                for (const char *const *ch = o->choices; *ch && nopt < 64; ch++) {
                    keys[nopt] = o->name;
                    vals[nopt++] = *ch;
                }
        for (size_t k = 0; k < nopt; k++)
            for (size_t s = 0; s < N_SPACES; s++) {
#ifdef HPS_SANITIZED
                /* Under the sanitizers the model fits run ~15x slower: each option
                 * variant runs on the mixed space only (the defaults on all three);
                 * the plain build runs every variant on every space. */
                if (k > 0 && s != 1)
                    continue;
#endif
                if (n_cases == cap) {
                    cap *= 2;
                    strat_case *nc = realloc(cases, cap * sizeof *cases);
                    assert_non_null(nc);
                    cases = nc;
                }
                strat_case *c = &cases[n_cases++];
                memset(c, 0, sizeof *c);
                c->ops = *p;
                c->key = keys[k];
                c->value = vals[k];
                c->sp = &spaces[s];
                if (c->key)
                    snprintf(c->label, sizeof c->label, "%s(%s=%s)/%s", (*p)->name, c->key,
                             c->value, spaces[s].label);
                else
                    snprintf(c->label, sizeof c->label, "%s/%s", (*p)->name, spaces[s].label);
            }
    }
    /* cfg points into the case itself: set it once the array stops moving. */
    for (size_t i = 0; i < n_cases; i++)
        cases[i].cfg = (hps_strategy_cfg){1, &cases[i].key, &cases[i].value};

    size_t n_tests = 3 + n_cases * N_PROPS;
    struct CMUnitTest *tests = calloc(n_tests, sizeof *tests);
    char **names = calloc(n_tests, sizeof *names);
    assert_non_null(tests);
    assert_non_null(names);
    tests[0] = (struct CMUnitTest)cmocka_unit_test(test_registry);
    tests[1] = (struct CMUnitTest)cmocka_unit_test(test_destroy_null);
    tests[2] = (struct CMUnitTest)cmocka_unit_test(test_bad_configs);
    size_t t = 3;
    for (size_t i = 0; i < n_cases; i++)
        for (size_t k = 0; k < N_PROPS; k++, t++) {
            size_t len = strlen(cases[i].label) + strlen(properties[k].name) + 3;
            names[t] = malloc(len);
            assert_non_null(names[t]);
            snprintf(names[t], len, "%s: %s", cases[i].label, properties[k].name);
            tests[t] = (struct CMUnitTest){.name = names[t], .test_func = properties[k].fn,
                                           .initial_state = &cases[i]};
        }

    int failed = _cmocka_run_group_tests("strategy_contract", tests, n_tests, NULL, NULL);
    for (size_t i = 0; i < n_tests; i++)
        free(names[i]);
    free(names);
    free(tests);
    free(cases);
    return failed;
}
