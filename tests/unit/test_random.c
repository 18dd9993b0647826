/*
 * The `random` strategy beyond the contract: the uniform sampler's distribution,
 * the low discrepancy of the shifted Sobol and Halton samplers (with the uniform
 * sampler failing the same checks, so they measure something), the shift and the
 * seed mixing, and the dimension limits.
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

/* A space of n floats on [0,1] (names are not used by the strategy). */
static hps_space *unit_space(int n)
{
    hps_space *sp = calloc(1, sizeof *sp);
    assert_non_null(sp);
    sp->n_params = n;
    sp->params = calloc((size_t)n, sizeof *sp->params);
    assert_non_null(sp->params);
    for (int i = 0; i < n; i++)
        sp->params[i] = (hps_param){.name = (char *)"x", .type = HPS_PARAM_FLOAT, .high = 1.0};
    return sp;
}

static void free_space(hps_space *sp)
{
    free(sp->params);
    free(sp);
}

static void *make(const hps_space *sp, const char *sampler, uint64_t seed)
{
    const hps_strategy_ops *ops = hps_strategy_find("random");
    assert_non_null(ops);
    const char *k[] = {"sampler"}, *v[] = {sampler};
    hps_strategy_cfg cfg = {1, k, v};
    void *st = NULL;
    char err[256] = "";
    int rc = ops->create(sp, sampler ? &cfg : NULL, seed, &st, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("create(%s): %s: %s", sampler ? sampler : "default", hps_err_name(rc), err);
    return st;
}

/* n points of dimension d, row-major. */
static double *draw(const char *sampler, uint64_t seed, int d, int n)
{
    const hps_strategy_ops *ops = hps_strategy_find("random");
    hps_space *sp = unit_space(d);
    void *st = make(sp, sampler, seed);
    double *pts = malloc((size_t)n * (size_t)d * sizeof *pts);
    assert_non_null(pts);
    for (int i = 0; i < n; i++) {
        hps_suggestion s = {.u = pts + (size_t)i * d, .trial_id = i};
        assert_int_equal(ops->suggest(st, &s), HPS_OK);
        assert_int_equal(s.promotion, 0);
        assert_int_equal(s.bracket, -1);
        assert_int_equal(s.rung, -1);
    }
    ops->destroy(st);
    free_space(sp);
    return pts;
}

static void test_uniform_moments(void **state)
{
    const int n = 10000, d = 3;
    double *p = draw("uniform", 12345, d, n);
    for (int j = 0; j < d; j++) {
        double sum = 0, sum2 = 0, lo = 1, hi = 0;
        int bins[10] = {0};
        for (int i = 0; i < n; i++) {
            double u = p[i * d + j];
            assert_true(u >= 0.0 && u < 1.0);
            sum += u;
            sum2 += u * u;
            lo = u < lo ? u : lo;
            hi = u > hi ? u : hi;
            bins[(int)(u * 10)]++;
        }
        double mean = sum / n, var = sum2 / n - mean * mean;
        assert_true(fabs(mean - 0.5) < 0.01);      /* sd of the mean: 0.0029 */
        assert_true(fabs(var - 1.0 / 12) < 0.004); /* sd of the variance: 0.0007 */
        assert_true(lo < 0.005 && hi > 0.995);
        for (int b = 0; b < 10; b++)
            assert_true(bins[b] > 880 && bins[b] < 1120); /* sd 30 */
    }
    free(p);
}

/* Largest |count - n/bins| over `bins` equal slabs of coordinate j. */
static double marginal_dev(const double *p, int d, int n, int j, int bins)
{
    int *c = calloc((size_t)bins, sizeof *c);
    assert_non_null(c);
    for (int i = 0; i < n; i++)
        c[(int)(p[i * d + j] * bins)]++;
    double worst = 0;
    for (int b = 0; b < bins; b++) {
        double dev = fabs(c[b] - (double)n / bins);
        worst = dev > worst ? dev : worst;
    }
    free(c);
    return worst;
}

/* Pearson chi-square of the first two coordinates over a k x k grid of cells. */
static double chi2_2d(const double *p, int d, int n, int k)
{
    int *c = calloc((size_t)(k * k), sizeof *c);
    assert_non_null(c);
    for (int i = 0; i < n; i++)
        c[(int)(p[i * d] * k) * k + (int)(p[i * d + 1] * k)]++;
    double e = (double)n / (k * k), chi2 = 0;
    for (int i = 0; i < k * k; i++)
        chi2 += (c[i] - e) * (c[i] - e) / e;
    free(c);
    return chi2;
}

/*
 * A shifted low-discrepancy sequence fills every slab evenly: 256 points put
 * 16 +- 2 in each of 16 slabs of every coordinate (a shifted lattice of 1/256 for
 * Sobol's first coordinates; Halton's bases 2 and 3 come close), and 4096 points
 * over 8x8 cells give a chi-square far below a uniform sample's (about 63; seen
 * below 3 for Sobol and 6 for Halton over 300 seeds). Fewer points per cell are
 * not enough: a rotated net can resonate with the cells (1024 points on 8x8 gave
 * up to 56 for one Sobol seed in 300).
 */
static void check_low_discrepancy(const char *sampler)
{
    const int d = 4;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        double *p = draw(sampler, seed, d, 4096);
        for (int j = 0; j < 2; j++)
            if (marginal_dev(p, d, 256, j, 16) > 2.0)
                fail_msg("%s seed %d coordinate %d: uneven slabs", sampler, (int)seed, j);
        double chi2 = chi2_2d(p, d, 4096, 8);
        if (!(chi2 < 10.0))
            fail_msg("%s seed %d: chi-square %g", sampler, (int)seed, chi2);
        free(p);
    }
}

static void test_sobol_discrepancy(void **state)
{
    check_low_discrepancy("sobol");
}

static void test_halton_discrepancy(void **state)
{
    check_low_discrepancy("halton");
}

/* The same checks on the uniform sampler fail: they tell the two apart. */
static void test_uniform_fails_discrepancy_checks(void **state)
{
    const int d = 4;
    int uneven = 0, lumpy = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        double *p = draw("uniform", seed, d, 4096);
        uneven += marginal_dev(p, d, 256, 0, 16) > 2.0;
        lumpy += chi2_2d(p, d, 4096, 8) > 20.0;
        free(p);
    }
    assert_int_equal(uneven, 5);
    assert_int_equal(lumpy, 5);
}

/*
 * The shift is a rotation: consecutive Sobol points differ (mod 1) exactly as
 * GSL's unshifted ones do, (1/2,1/2) -> (3/4,1/4) -> (1/4,3/4). That also pins
 * the start: the first point is GSL's (1/2,1/2), not the all-zero one.
 */
static void test_sobol_shift(void **state)
{
    double *a = draw("sobol", 77, 2, 3), *b = draw("sobol", 78, 2, 3);
    const double want[2][2] = {{0.25, 0.75}, {0.5, 0.5}};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double da = fmod(a[(i + 1) * 2 + j] - a[i * 2 + j] + 1.0, 1.0);
            double db = fmod(b[(i + 1) * 2 + j] - b[i * 2 + j] + 1.0, 1.0);
            assert_true(fabs(da - want[i][j]) < 1e-12);
            assert_true(fabs(db - want[i][j]) < 1e-12);
        }
    /* Different seeds, different shifts. */
    assert_true(a[0] != b[0] && a[1] != b[1]);
    free(a);
    free(b);
}

/* Every bit of the 64-bit seed matters (the mix to GSL's 32 bits keeps them). */
static void test_seed_bits(void **state)
{
    const uint64_t seeds[] = {0, 1, UINT64_C(1) << 32, UINT64_C(1) << 63, UINT64_MAX};
    double first[5][4];
    for (int i = 0; i < 5; i++) {
        double *p = draw("uniform", seeds[i], 4, 1);
        memcpy(first[i], p, sizeof first[i]);
        free(p);
    }
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            assert_memory_not_equal(first[i], first[j], sizeof first[i]);
}

/* Observations do not change what comes next. */
static void test_observe_ignored(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("random");
    hps_space *sp = unit_space(3);
    const char *samplers[] = {"uniform", "sobol", "halton"};
    for (int k = 0; k < 3; k++) {
        void *a = make(sp, samplers[k], 9), *b = make(sp, samplers[k], 9);
        for (int i = 0; i < 50; i++) {
            double ua[3], ub[3];
            hps_suggestion sa = {.u = ua, .trial_id = i}, sb = {.u = ub, .trial_id = i};
            assert_int_equal(ops->suggest(a, &sa), HPS_OK);
            assert_int_equal(ops->suggest(b, &sb), HPS_OK);
            assert_memory_equal(ua, ub, sizeof ua);
            hps_observation obs = {.trial_id = i, .kind = (hps_obs_kind)(i % 3), .u = ua,
                                   .value = ua[0]};
            hps_decision dec = HPS_DECISION_STOP;
            assert_int_equal(ops->observe(a, &obs, &dec), HPS_OK);
            assert_int_equal(dec, HPS_DECISION_CONTINUE);
        }
        ops->destroy(a);
        ops->destroy(b);
    }
    free_space(sp);
}

static void test_dimension_limits(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("random");
    const struct {
        const char *sampler;
        int ok, too_many;
    } lim[] = {{"sobol", 40, 41}, {"halton", 1229, 1230}};
    for (int k = 0; k < 2; k++) {
        hps_space *ok = unit_space(lim[k].ok), *big = unit_space(lim[k].too_many);
        void *st = make(ok, lim[k].sampler, 3);
        double *u = malloc((size_t)lim[k].ok * sizeof *u);
        assert_non_null(u);
        hps_suggestion s = {.u = u};
        assert_int_equal(ops->suggest(st, &s), HPS_OK);
        for (int i = 0; i < lim[k].ok; i++)
            assert_true(u[i] >= 0.0 && u[i] < 1.0);
        free(u);
        ops->destroy(st);

        const char *key[] = {"sampler"}, *val[] = {lim[k].sampler};
        hps_strategy_cfg cfg = {1, key, val};
        char err[256] = "";
        st = (void *)1;
        assert_int_equal(ops->create(big, &cfg, 3, &st, err, sizeof err), HPS_ECONFIG);
        assert_null(st);
        assert_non_null(strstr(err, lim[k].sampler));
        free_space(ok);
        free_space(big);
    }
    /* uniform has no limit */
    hps_space *big = unit_space(2000);
    ops->destroy(make(big, "uniform", 3));
    free_space(big);
}

static void test_unknown_sampler(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("random");
    hps_space *sp = unit_space(2);
    const char *key[] = {"sampler"}, *val[] = {"latin"};
    hps_strategy_cfg cfg = {1, key, val};
    void *st = (void *)1;
    char err[128] = "";
    assert_int_equal(ops->create(sp, &cfg, 1, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
    assert_non_null(strstr(err, "sampler"));
    free_space(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_moments),
        cmocka_unit_test(test_sobol_discrepancy),
        cmocka_unit_test(test_halton_discrepancy),
        cmocka_unit_test(test_uniform_fails_discrepancy_checks),
        cmocka_unit_test(test_sobol_shift),
        cmocka_unit_test(test_seed_bits),
        cmocka_unit_test(test_observe_ignored),
        cmocka_unit_test(test_dimension_limits),
        cmocka_unit_test(test_unknown_sampler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
