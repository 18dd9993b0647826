/*
 * Unit tests of the `asha` strategy's promotion rule (Li et al. 2020): a result is
 * promoted as soon as it is in the top floor(m/eta) of the m finished runs of its
 * rung, never twice, the highest rung first; otherwise a new configuration starts
 * at rung 0. Failures count in m, rank last and are never promoted. Also: rung
 * budgets, and no HPS_EAGAIN with many runs outstanding.
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

static hps_param params[1] = {
    {.name = (char *)"x", .type = HPS_PARAM_FLOAT, .low = 0.0, .high = 1.0},
};
static hps_space space1 = {1, params};

typedef struct sug {
    int64_t id;
    int promotion;
    double budget;
    int rung;
    double u[1];
} sug;

typedef struct asha_t {
    const hps_strategy_ops *ops;
    void *st;
    int64_t next;
} asha_t;

static asha_t make(const char *max_r, const char *eta)
{
    asha_t a = {.ops = hps_strategy_find("asha")};
    assert_non_null(a.ops);
    const char *k[] = {"max_resource", "eta"}, *v[] = {max_r, eta};
    hps_strategy_cfg cfg = {2, k, v};
    char err[256] = "";
    int rc = a.ops->create(&space1, &cfg, 9, &a.st, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("create: %s (%s)", hps_err_name(rc), err);
    return a;
}

static sug next(asha_t *a)
{
    sug r = {0};
    hps_suggestion s = {.u = r.u, .trial_id = a->next, .bracket = -1, .rung = -1};
    assert_int_equal(a->ops->suggest(a->st, &s), HPS_OK);
    r.id = s.trial_id;
    r.promotion = s.promotion;
    r.budget = s.budget;
    r.rung = s.rung;
    assert_int_equal(s.bracket, 0);
    if (!s.promotion) {
        assert_int_equal(s.trial_id, a->next);
        assert_int_equal(s.rung, 0);
        a->next++;
    }
    return r;
}

static void result(asha_t *a, const sug *r, double value)
{
    int failed = isnan(value);
    hps_observation o = {.trial_id = r->id, .kind = failed ? HPS_OBS_FAILED : HPS_OBS_FINAL,
                         .u = r->u, .value = value, .resource = r->budget};
    assert_int_equal(a->ops->observe(a->st, &o, NULL), HPS_OK);
}

static void expect_new(asha_t *a, sug *out)
{
    *out = next(a);
    assert_int_equal(out->promotion, 0);
    assert_true(out->budget == 1.0);
}

static void expect_promotion(asha_t *a, int64_t id, int rung, double budget, sug *out)
{
    *out = next(a);
    assert_int_equal(out->promotion, 1);
    assert_int_equal(out->id, id);
    assert_int_equal(out->rung, rung);
    assert_true(out->budget == budget);
}

static void test_rule(void **state)
{
    asha_t a = make("81", "3");
    sug t[8], p, q;
    for (int i = 0; i < 3; i++)
        expect_new(&a, &t[i]);
    /* results 5, 4: m = 2, floor(2/3) = 0 -> nothing promotable */
    result(&a, &t[0], 5.0);
    result(&a, &t[1], 4.0);
    expect_new(&a, &t[3]);
    /* 3 results: the best (value 3, trial 2) is in the top 1 -> promoted at once */
    result(&a, &t[2], 3.0);
    expect_promotion(&a, t[2].id, 1, 3.0, &p);
    /* never twice: the top 1 is already promoted -> a new configuration */
    expect_new(&a, &t[4]);
    /* a better result: m = 4, top 1 = it -> promoted */
    result(&a, &t[3], 2.0);
    expect_promotion(&a, t[3].id, 1, 3.0, &q);
    /* two worse ones: m = 6, top 2 = {2.0, 3.0}, both promoted -> new */
    result(&a, &t[4], 10.0);
    expect_new(&a, &t[5]);
    result(&a, &t[5], 11.0);
    expect_new(&a, &t[6]);
    /* rung 1: three results promote the best to rung 2 before anything in rung 0 */
    result(&a, &p, 7.0);
    result(&a, &q, 6.0);
    result(&a, &t[6], 0.5); /* rung 0: m = 7, top 2 = {0.5, 2.0}: 0.5 is promotable */
    /* rung 1 has m = 2 so far: nothing there; rung 0's 0.5 goes up */
    sug r;
    expect_promotion(&a, t[6].id, 1, 3.0, &r);
    result(&a, &r, 1.0); /* rung 1: m = 3, top 1 = it (1.0) */
    sug top;
    expect_promotion(&a, t[6].id, 2, 9.0, &top);
    a.ops->destroy(a.st);
}

static void test_failures_never_promoted(void **state)
{
    asha_t a = make("81", "3");
    sug t[6], p;
    for (int i = 0; i < 3; i++)
        expect_new(&a, &t[i]);
    for (int i = 0; i < 3; i++)
        result(&a, &t[i], NAN);
    /* m = 3, top 1 is a failure -> new */
    expect_new(&a, &t[3]);
    expect_new(&a, &t[4]);
    expect_new(&a, &t[5]);
    result(&a, &t[3], 8.0);
    /* m = 4, top 1 = 8.0 (failures rank last) */
    expect_promotion(&a, t[3].id, 1, 3.0, &p);
    a.ops->destroy(a.st);
}

/* Rung budgets are min * eta^k up to max; the top rung runs at max_resource. */
static void test_budgets_to_the_top(void **state)
{
    asha_t a = make("9", "3"); /* rungs 1, 3, 9 */
    double want[] = {1.0, 3.0, 9.0};
    sug t[3], p;
    /* a trial that is always the best climbs every rung */
    for (int i = 0; i < 3; i++)
        expect_new(&a, &t[i]);
    result(&a, &t[1], 5.0);
    result(&a, &t[2], 6.0);
    result(&a, &t[0], 0.0);
    p = t[0];
    for (int k = 1; k <= 2; k++) {
        /* two companions in rung k-1 ... rung k needs 3 results: feed two new ones */
        expect_promotion(&a, t[0].id, k, want[k], &p);
        result(&a, &p, 0.0);
        if (k == 2)
            break;
        /* rung k has one result; fill it with two more via other trials */
        sug x[6];
        for (int j = 0; j < 6; j++)
            expect_new(&a, &x[j]);
        for (int j = 0; j < 6; j++)
            result(&a, &x[j], 1.0 + j);
        /* rung 0 now m = 9, top 3 = {0.0 (promoted), 1.0, 2.0} -> promote 1.0 then 2.0 */
        sug y, z;
        expect_promotion(&a, x[0].id, 1, 3.0, &y);
        expect_promotion(&a, x[1].id, 1, 3.0, &z);
        result(&a, &y, 3.0);
        result(&a, &z, 4.0);
    }
    /* at the top rung nothing is promoted further: next is new */
    sug n;
    expect_new(&a, &n);
    a.ops->destroy(a.st);
}

/* Many outstanding runs: never HPS_EAGAIN, always new configurations. */
static void test_outstanding(void **state)
{
    asha_t a = make("81", "3");
    for (int i = 0; i < 100; i++) {
        sug r;
        expect_new(&a, &r);
        assert_true(r.u[0] >= 0.0 && r.u[0] <= 1.0);
    }
    a.ops->destroy(a.st);
}

/* A budget range that is not a power of eta: the top rung is max_resource. */
static void test_non_power(void **state)
{
    asha_t a = make("100", "3"); /* s_max 4: 100/81, 100/27, 100/9, 100/3, 100 */
    sug r = next(&a);
    assert_true(fabs(r.budget - 100.0 / 81.0) < 1e-12);
    assert_true(r.budget >= 1.0);
    a.ops->destroy(a.st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_failures_never_promoted),
        cmocka_unit_test(test_budgets_to_the_top),
        cmocka_unit_test(test_outstanding),
        cmocka_unit_test(test_non_power),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
