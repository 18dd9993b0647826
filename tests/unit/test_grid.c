/*
 * The `grid` strategy beyond the contract: the exact points it enumerates (decoded
 * through the space), their order, per-parameter grid_points, integer rounding
 * and de-duplication, and the 2^53 limit.
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

static hps_choice opts[] = {
    {.kind = HPS_CHOICE_STRING, .text = (char *)"adam"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"sgd"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"rmsprop"},
};

/* x: 3 points by grid_points; lr: 4 log-spaced; n: all 3 ints; m: 5 of 101 ints;
 * opt: 3 choices; flag: 2. */
static hps_param small[] = {
    {.name = (char *)"x", .type = HPS_PARAM_FLOAT, .low = 0.0, .high = 1.0, .grid_points = 3},
    {.name = (char *)"lr", .type = HPS_PARAM_FLOAT, .low = 1e-4, .high = 1e-1, .log = 1,
     .grid_points = 4},
    {.name = (char *)"n", .type = HPS_PARAM_INT, .low = 1, .high = 3},
    {.name = (char *)"m", .type = HPS_PARAM_INT, .low = 0, .high = 100},
    {.name = (char *)"opt", .type = HPS_PARAM_CATEGORICAL, .n_choices = 3, .choices = opts},
    {.name = (char *)"flag", .type = HPS_PARAM_BOOL},
};
static const hps_space small_space = {6, small};

static const hps_strategy_ops *grid(void)
{
    const hps_strategy_ops *ops = hps_strategy_find("grid");
    assert_non_null(ops);
    return ops;
}

static void *make(const hps_space *sp, const char *points, uint64_t seed)
{
    const char *k[] = {"points"}, *v[] = {points};
    hps_strategy_cfg cfg = {1, k, v};
    void *st = NULL;
    char err[256] = "";
    int rc = grid()->create(sp, points ? &cfg : NULL, seed, &st, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("create: %s: %s", hps_err_name(rc), err);
    return st;
}

/* Enumerate everything into a malloc'd [count][d] array of decoded values. */
static double *enumerate(const hps_space *sp, const char *points, long *count)
{
    int d = sp->n_params;
    void *st = make(sp, points, 1);
    size_t cap = 64, n = 0;
    double *vals = malloc(cap * (size_t)d * sizeof *vals);
    double *u = malloc((size_t)d * sizeof *u);
    assert_non_null(vals);
    assert_non_null(u);
    for (;;) {
        hps_suggestion s = {.u = u, .trial_id = (int64_t)n};
        int rc = grid()->suggest(st, &s);
        if (rc == HPS_EDONE)
            break;
        assert_int_equal(rc, HPS_OK);
        if (n == cap) {
            cap *= 2;
            double *nv = realloc(vals, cap * (size_t)d * sizeof *vals);
            assert_non_null(nv);
            vals = nv;
        }
        hps_space_decode(sp, u, vals + n * (size_t)d);
        n++;
    }
    for (int i = 0; i < 3; i++) { /* done for good */
        hps_suggestion s = {.u = u};
        assert_int_equal(grid()->suggest(st, &s), HPS_EDONE);
    }
    free(u);
    grid()->destroy(st);
    *count = (long)n;
    return vals;
}

static void test_small_space_exact(void **state)
{
    long n;
    double *v = enumerate(&small_space, NULL, &n);
    const long radix[6] = {3, 4, 3, 5, 3, 2};
    assert_int_equal(n, 3 * 4 * 3 * 5 * 3 * 2);

    const double xs[] = {0.0, 0.5, 1.0};
    const double ns[] = {1, 2, 3};
    const double ms[] = {0, 25, 50, 75, 100};
    for (long i = 0; i < n; i++) {
        long digit[6], idx = i;
        for (int j = 5; j >= 0; j--) { /* the last parameter varies fastest */
            digit[j] = idx % radix[j];
            idx /= radix[j];
        }
        const double *row = v + i * 6;
        assert_true(row[0] == xs[digit[0]]);
        if (digit[1] > 0) /* geometric: each lr is 10x the previous */
            assert_true(fabs(row[1] / v[(i - 3 * 5 * 3 * 2) * 6 + 1] - 10.0) < 1e-9);
        assert_true(row[2] == ns[digit[2]]);
        assert_true(row[3] == ms[digit[3]]);
        assert_true(row[4] == (double)digit[4]);
        assert_true(row[5] == (double)digit[5]);
    }
    free(v);
}

/* The unit coordinates themselves: k/(n-1) for floats, slice centres otherwise. */
static void test_unit_coordinates(void **state)
{
    void *st = make(&small_space, NULL, 1);
    double u[6];
    hps_suggestion s = {.u = u};
    assert_int_equal(grid()->suggest(st, &s), HPS_OK);
    assert_true(u[0] == 0.0 && u[1] == 0.0);
    assert_true(u[4] == 0.5 / 3 && u[5] == 0.25);
    assert_true(fabs(u[2] - 0.5 / 3) < 1e-15 && fabs(u[3] - 0.5 / 101) < 1e-15);
    assert_int_equal(s.promotion, 0);
    assert_int_equal(s.bracket, -1);
    assert_int_equal(s.rung, -1);
    assert_true(s.budget == 0.0);
    assert_int_equal(s.trial_id, 0);
    for (int i = 1; i < 3 * 4 * 3 * 5 * 3 * 2; i++)
        assert_int_equal(grid()->suggest(st, &s), HPS_OK);
    assert_true(u[0] == 1.0 && u[1] == 1.0 && u[4] == 2.5 / 3 && u[5] == 0.75);
    grid()->destroy(st);
}

/*
 * Float grid ends decode to exactly low and high, on linear and log scales. (This
 * is the space's promise as much as the grid's: the grid asks for u = 0 and 1.)
 */
static void test_float_ends_exact(void **state)
{
    static const double b[][2] = {{1e-4, 1e-1}, {1e-5, 1e-1}, {3e-4, 0.3}, {1.0, 1000.0},
                                  {2.0, 7.5}};
    for (int log_scale = 0; log_scale < 2; log_scale++)
        for (size_t k = 0; k < sizeof b / sizeof b[0]; k++) {
            hps_param p = {.name = (char *)"p", .type = HPS_PARAM_FLOAT, .low = b[k][0],
                           .high = b[k][1], .log = log_scale, .grid_points = 7};
            hps_space sp = {1, &p};
            long n;
            double *v = enumerate(&sp, NULL, &n);
            assert_int_equal(n, 7);
            int increasing = 1;
            for (int i = 1; i < 7; i++)
                increasing &= v[i] > v[i - 1];
            double lo = v[0], hi = v[6];
            free(v);
            assert_true(increasing);
            if (lo != p.low || hi != p.high)
                fail_msg("%s [%g, %g]: ends decode to %.17g, %.17g", log_scale ? "log" : "linear",
                         p.low, p.high, lo, hi);
        }
}

static void test_points_option_and_override(void **state)
{
    long n;
    double *v = enumerate(&small_space, "7", &n);
    /* x and lr keep their grid_points (3, 4); m gets 7; n has only 3 values. */
    assert_int_equal(n, 3 * 4 * 3 * 7 * 3 * 2);
    const double ms[] = {0, 17, 33, 50, 67, 83, 100};
    for (int k = 0; k < 7; k++)
        assert_true(v[(k * 6) * 6 + 3] == ms[k]); /* row k * (opt x flag), column m */
    free(v);
}

static void test_int_rounding(void **state)
{
    struct {
        hps_param p;
        const char *points;
        long count;
        double first, last;
    } cases[] = {
        /* every integer when there are at most `points` */
        {{.type = HPS_PARAM_INT, .low = -2, .high = 2}, NULL, 5, -2, 2},
        {{.type = HPS_PARAM_INT, .low = 7, .high = 7}, NULL, 1, 7, 7},
        {{.type = HPS_PARAM_INT, .low = 1, .high = 1000, .log = 1}, "4", 4, 1, 1000},
        /* log-spaced targets that round to the same integer count once */
        {{.type = HPS_PARAM_INT, .low = 1, .high = 20, .log = 1}, "10", 9, 1, 20},
        /* one point: the middle */
        {{.type = HPS_PARAM_INT, .low = 0, .high = 10}, "1", 1, 5, 5},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cases[c].p.name = (char *)"i";
        hps_space sp = {1, &cases[c].p};
        long n;
        double *v = enumerate(&sp, cases[c].points, &n);
        assert_int_equal(n, cases[c].count);
        assert_true(v[0] == cases[c].first);
        assert_true(v[n - 1] == cases[c].last);
        for (long i = 1; i < n; i++)
            assert_true(v[i] > v[i - 1] && v[i] == floor(v[i]));
        if (c == 2)
            assert_true(v[1] == 10 && v[2] == 100);
        free(v);
    }
}

static void test_float_single_point(void **state)
{
    hps_param ps[] = {
        {.name = (char *)"a", .type = HPS_PARAM_FLOAT, .low = -1, .high = 3, .grid_points = 1},
        {.name = (char *)"b", .type = HPS_PARAM_FLOAT, .low = 2, .high = 2},
    };
    hps_space sp = {2, ps};
    long n;
    double *v = enumerate(&sp, NULL, &n);
    assert_int_equal(n, 1);
    assert_true(v[0] == 1.0 && v[1] == 2.0);
    free(v);
}

/* The seed is unused: any seed gives the same sequence. */
static void test_seed_unused(void **state)
{
    void *a = make(&small_space, NULL, 1), *b = make(&small_space, NULL, 0xFFFFull << 40);
    for (int i = 0; i < 100; i++) {
        double ua[6], ub[6];
        hps_suggestion sa = {.u = ua}, sb = {.u = ub};
        assert_int_equal(grid()->suggest(a, &sa), HPS_OK);
        assert_int_equal(grid()->suggest(b, &sb), HPS_OK);
        assert_memory_equal(ua, ub, sizeof ua);
        hps_observation obs = {.trial_id = i, .kind = HPS_OBS_FINAL, .u = ua, .value = i};
        assert_int_equal(grid()->observe(a, &obs, NULL), HPS_OK);
    }
    grid()->destroy(a);
    grid()->destroy(b);
}

/* 2^53 points are allowed, 2^54 are not; the counter is right at the far end. */
static void test_limit(void **state)
{
    hps_param bools[54];
    for (int i = 0; i < 54; i++)
        bools[i] = (hps_param){.name = (char *)"b", .type = HPS_PARAM_BOOL};
    hps_space ok = {53, bools}, big = {54, bools};
    void *st = (void *)1;
    char err[256] = "";
    assert_int_equal(grid()->create(&big, NULL, 1, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
    assert_non_null(strstr(err, "2^53"));

    st = make(&ok, NULL, 1);
    double u[53];
    hps_suggestion s = {.u = u};
    assert_int_equal(grid()->suggest(st, &s), HPS_OK);
    for (int i = 0; i < 53; i++)
        assert_true(u[i] == 0.25);
    assert_int_equal(grid()->suggest(st, &s), HPS_OK);
    assert_true(u[52] == 0.75 && u[51] == 0.25);

    grid()->destroy(st);
}

static void test_points_out_of_range(void **state)
{
    const char *k[] = {"points"}, *v[] = {"0"};
    hps_strategy_cfg cfg = {1, k, v};
    void *st = (void *)1;
    char err[128] = "";
    assert_int_equal(grid()->create(&small_space, &cfg, 1, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
    assert_non_null(strstr(err, "points"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_space_exact),
        cmocka_unit_test(test_unit_coordinates),
        cmocka_unit_test(test_float_ends_exact),
        cmocka_unit_test(test_points_option_and_override),
        cmocka_unit_test(test_int_rounding),
        cmocka_unit_test(test_float_single_point),
        cmocka_unit_test(test_seed_unused),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_points_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
