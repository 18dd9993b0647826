/*
 * Unit tests of the `tpe` strategy: it beats random search on a sphere over seeds
 * (univariate and multivariate), keeps pending suggestions apart, handles mixed spaces
 * and failures, and a replay of the observations alone gives the same next
 * suggestion (both estimators). The Parzen estimators (tpe_parzen.c): each density
 * integrates to 1 on the unit interval / square, and weighting the bad density's
 * kernels by their bandwidths makes a crowd of points count less against an isolated
 * one. (The shared strategy contract suite covers determinism, bounds and
 * call-sequence replay under both bad_weights choices.)
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

#include <gsl/gsl_rng.h>

#include "hpsweep/error.h"
#include "hpsweep/space.h"
#include "hpsweep/strategy.h"
#include "strategies/tpe_parzen.h"

static hps_param params[8];
static char names[8][8];

static hps_space unit_space(int d)
{
    for (int i = 0; i < d; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        params[i] = (hps_param){.name = names[i], .type = HPS_PARAM_FLOAT, .low = 0, .high = 1};
    }
    return (hps_space){d, params};
}

static double sphere(const double *u, int d)
{
    double s = 0.0;
    for (int i = 0; i < d; i++)
        s += (u[i] - 0.3) * (u[i] - 0.3);
    return s;
}

static const char *mv_keys[] = {"multivariate"}, *mv_true[] = {"true"};
static const hps_strategy_cfg mv_cfg = {1, mv_keys, mv_true};

static double best_of_cfg(const char *name, const hps_strategy_cfg *cfg, int d, int n,
                          uint64_t seed)
{
    const hps_strategy_ops *ops = hps_strategy_find(name);
    assert_non_null(ops);
    hps_space sp = unit_space(d);
    void *st = NULL;
    assert_int_equal(ops->create(&sp, cfg, seed, &st, NULL, 0), HPS_OK);
    double u[8], best = HUGE_VAL;
    for (int t = 0; t < n; t++) {
        hps_suggestion s = {.u = u, .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(ops->suggest(st, &s), HPS_OK);
        double v = sphere(u, d);
        best = v < best ? v : best;
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = u, .value = v};
        assert_int_equal(ops->observe(st, &o, NULL), HPS_OK);
    }
    ops->destroy(st);
    return best;
}

/* Over 10 seeds TPE's best after 60 trials on a 4-D sphere beats random's on at least 8
 * (measured: 10 of 10, univariate and multivariate), and its mean log best is lower by
 * more than a factor 2 a seed. */
static void beats_random(const hps_strategy_cfg *cfg)
{
    int wins = 0;
    double lt = 0.0, lr = 0.0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        double t = best_of_cfg("tpe", cfg, 4, 60, seed);
        double r = best_of_cfg("random", NULL, 4, 60, seed);
        wins += t < r;
        lt += log(t);
        lr += log(r);
    }
    if (wins < 8 || !(lt < lr - 10 * log(2.0)))
        fail_msg("tpe won %d of 10 seeds; mean log best %g vs random %g", wins, lt / 10, lr / 10);
}

static void test_beats_random(void **state)
{
    beats_random(NULL);
}

static void test_beats_random_multivariate(void **state)
{
    beats_random(&mv_cfg);
}

static void test_pending_distinct(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("tpe");
    hps_space sp = unit_space(3);
    void *st = NULL;
    assert_int_equal(ops->create(&sp, NULL, 3, &st, NULL, 0), HPS_OK);
    double u[30][8];
    int t = 0;
    for (; t < 20; t++) {
        hps_suggestion s = {.u = u[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(ops->suggest(st, &s), HPS_OK);
        hps_observation o = {.trial_id = t, .kind = t % 6 == 2 ? HPS_OBS_FAILED : HPS_OBS_FINAL,
                             .u = u[t], .value = t % 6 == 2 ? NAN : sphere(u[t], 3)};
        assert_int_equal(ops->observe(st, &o, NULL), HPS_OK);
    }
    for (; t < 28; t++) {
        hps_suggestion s = {.u = u[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(ops->suggest(st, &s), HPS_OK);
        for (int k = 20; k < t; k++) {
            double dd = 0.0;
            for (int i = 0; i < 3; i++)
                dd += (u[k][i] - u[t][i]) * (u[k][i] - u[t][i]);
            if (!(sqrt(dd) > 1e-3))
                fail_msg("pending %d and %d are %g apart", k, t, sqrt(dd));
        }
    }
    ops->destroy(st);
}

static hps_choice opts3[] = {
    {.kind = HPS_CHOICE_STRING, .text = (char *)"a"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"b"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"c"},
};

static void mixed_and_replay(const hps_strategy_cfg *cfg)
{
    hps_param ps[4] = {
        {.name = (char *)"lr", .type = HPS_PARAM_FLOAT, .low = 1e-4, .high = 1.0, .log = 1},
        {.name = (char *)"n", .type = HPS_PARAM_INT, .low = 1, .high = 9},
        {.name = (char *)"c", .type = HPS_PARAM_CATEGORICAL, .n_choices = 3, .choices = opts3},
        {.name = (char *)"b", .type = HPS_PARAM_BOOL},
    };
    hps_space sp = {4, ps};
    const hps_strategy_ops *ops = hps_strategy_find("tpe");
    void *a = NULL, *b = NULL;
    assert_int_equal(ops->create(&sp, cfg, 11, &a, NULL, 0), HPS_OK);
    assert_int_equal(ops->create(&sp, cfg, 11, &b, NULL, 0), HPS_OK);
    double u[60][4], v[4], u2[4], best = HUGE_VAL;
    double val[60];
    for (int t = 0; t < 60; t++) {
        hps_suggestion s = {.u = u[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(ops->suggest(a, &s), HPS_OK);
        hps_space_decode(&sp, u[t], v);
        hps_space_encode(&sp, v, u2);
        for (int i = 1; i < 4; i++)
            assert_true(fabs(u[t][i] - u2[i]) < 1e-12);
        val[t] = pow(log10(v[0]) + 2, 2) + pow(v[1] - 3, 2) / 10 + (v[2] == 1 ? 0 : 1) +
                 (v[3] == 0 ? 0 : 0.5);
        best = val[t] < best ? val[t] : best;
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = u[t], .value = val[t]};
        assert_int_equal(ops->observe(a, &o, NULL), HPS_OK);
    }
    assert_true(best < 0.5);
    for (int t = 0; t < 60; t++) {
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = u[t], .value = val[t]};
        assert_int_equal(ops->observe(b, &o, NULL), HPS_OK);
    }
    double ua[4], ub[4];
    hps_suggestion sa = {.u = ua, .trial_id = 60, .bracket = -1, .rung = -1}, sb = sa;
    sb.u = ub;
    assert_int_equal(ops->suggest(a, &sa), HPS_OK);
    assert_int_equal(ops->suggest(b, &sb), HPS_OK);
    assert_memory_equal(ua, ub, sizeof ua);
    ops->destroy(a);
    ops->destroy(b);
}

static void test_mixed_and_replay(void **state)
{
    mixed_and_replay(NULL);
}

static void test_mixed_and_replay_multivariate(void **state)
{
    mixed_and_replay(&mv_cfg);
}

/* ---- the estimators ---------------------------------------------------------------- */

static const double pts[6] = {0.10, 0.11, 0.12, 0.13, 0.14, 0.80};
static const double ones[6] = {1, 1, 1, 1, 1, 1};

/* Each univariate density integrates to 1 on [0,1] (midpoint rule), with and without
 * bandwidth weights; with them, the isolated point at 0.8 gains against the crowd. */
static void test_parzen_density(void **state)
{
    double buf[2][4 * 7];
    tpe_mv_pair sort[7];
    tpe_parzen p[2];
    for (int bw = 0; bw < 2; bw++) {
        tpe_parzen_build(&p[bw], 6, pts, ones, 1.0, bw, buf[bw], sort);
        double integral = 0.0;
        for (int k = 0; k < 20000; k++)
            integral += exp(tpe_parzen_logpdf(&p[bw], (k + 0.5) / 20000.0)) / 20000.0;
        assert_true(fabs(integral - 1.0) < 1e-6);
    }
    double equal = tpe_parzen_logpdf(&p[0], 0.8) - tpe_parzen_logpdf(&p[0], 0.12);
    double by_bw = tpe_parzen_logpdf(&p[1], 0.8) - tpe_parzen_logpdf(&p[1], 0.12);
    assert_true(by_bw > equal + 0.5);
    /* draws stay inside and follow the density: most near the crowd without weights */
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int near = 0;
    for (int k = 0; k < 2000; k++) {
        double x = tpe_parzen_sample(&p[0], rng);
        assert_true(x >= 0.0 && x <= 1.0);
        near += x < 0.3;
    }
    gsl_rng_free(rng);
    assert_true(near > 1000 && near < 1900);
}

/* The multivariate density on [0,1] x {3 choices} integrates to 1, and its draws keep
 * an observation's coordinates together: near (0.1, choice 0) or (0.8, choice 2). */
static void test_mv_density(void **state)
{
    const long kind[2] = {0, 3};
    const double x[4] = {0.1, 1.0 / 6.0, 0.8, 5.0 / 6.0};
    const double w[2] = {1.0, 1.0};
    double buf[64];
    assert_true(tpe_mv_work(2, 2) <= 64);
    tpe_mv p;
    tpe_mv_build(&p, 2, 2, kind, x, w, 1.0, buf);
    double integral = 0.0;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 20000; k++) {
            double u[2] = {(k + 0.5) / 20000.0, (c + 0.5) / 3.0};
            integral += exp(tpe_mv_logpdf(&p, u)) / 20000.0;
        }
    assert_true(fabs(integral - 1.0) < 1e-6);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int together = 0;
    for (int k = 0; k < 2000; k++) {
        double u[2];
        tpe_mv_sample(&p, rng, u);
        assert_true(u[0] >= 0.0 && u[0] <= 1.0);
        int c = (int)(u[1] * 3.0);
        together += (u[0] < 0.45 && c == 0) || (u[0] > 0.45 && c == 2);
    }
    gsl_rng_free(rng);
    assert_true(together > 950); /* independent parameters: about 800 */
}

/* ---- the bad group's cap (max_bad_points) ------------------------------------------ */

/* Past the cap: the newest half kept as it is, an even stride through the older
 * entries standing for them (the total weight kept to within a stride's worth);
 * at or below it nothing moves. */
static void test_cap_group(void **state)
{
    (void)state;
    enum { NB = 5003, MAX = 1000 };
    static int rows[NB];
    static double w[NB];
    double total = 0.0;
    for (int i = 0; i < NB; i++) {
        rows[i] = 2 * i;
        w[i] = 1.0 + (i % 3);
        total += w[i];
    }
    assert_int_equal(tpe_cap_group(NB, NB, rows, w), NB);
    assert_int_equal(rows[NB - 1], 2 * (NB - 1));
    assert_int_equal(tpe_cap_group(MAX, NB, rows, w), MAX);
    double kept = 0.0;
    for (int j = 0; j < MAX; j++) {
        if (j > 0)
            assert_true(rows[j] > rows[j - 1]);
        kept += w[j];
    }
    assert_int_equal(rows[0], 0);
    for (int j = 0; j < MAX / 2; j++) {
        int i = NB - MAX / 2 + j;
        assert_int_equal(rows[MAX / 2 + j], 2 * i);
        assert_true(w[MAX / 2 + j] == 1.0 + (i % 3));
    }
    double stride = (double)(NB - MAX / 2) / (MAX / 2);
    assert_true(fabs(kept - total) < 3.0 * stride);
}

/* A parallel tpe (40 pending) with max_bad_points = 60: the bad group stays at 60
 * once it would be larger, the search still closes in on the minimum, and the same
 * seed gives the same suggestions. */
static double capped_run(double (*us)[3], int n)
{
    enum { K = 40 };
    const hps_strategy_ops *ops = hps_strategy_find("tpe");
    const char *k[] = {"max_bad_points"}, *v[] = {"60"};
    hps_strategy_cfg cfg = {1, k, v};
    hps_space sp = unit_space(3);
    void *st = NULL;
    assert_int_equal(ops->create(&sp, &cfg, 21, &st, NULL, 0), HPS_OK);
    double best = HUGE_VAL;
    for (int t = 0; t < n; t++) {
        hps_suggestion s = {.u = us[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(ops->suggest(st, &s), HPS_OK);
        int nb = tpe_state_bad_size(st);
        assert_true(nb <= 60);
        if (t > 100)
            assert_int_equal(nb, 60);
        if (t >= K - 1) { /* the oldest pending trial reports */
            int r = t - (K - 1);
            double val = sphere(us[r], 3);
            best = val < best ? val : best;
            hps_observation o = {.trial_id = r, .kind = HPS_OBS_FINAL, .u = us[r], .value = val};
            assert_int_equal(ops->observe(st, &o, NULL), HPS_OK);
        }
    }
    ops->destroy(st);
    return best;
}

static void test_bounded_bad_group(void **state)
{
    (void)state;
    enum { N = 400 };
    static double a[N][3], b[N][3];
    double best = capped_run(a, N);
    if (!(best < 2e-3))
        fail_msg("best %g after %d trials", best, N);
    assert_true(capped_run(b, N) == best);
    assert_memory_equal(a, b, sizeof a);
}

/* max_bad_points below its range is refused. */
static void test_max_bad_option(void **state)
{
    (void)state;
    const hps_strategy_ops *ops = hps_strategy_find("tpe");
    const char *k[] = {"max_bad_points"}, *v[] = {"10"};
    hps_strategy_cfg cfg = {1, k, v};
    hps_space sp = unit_space(2);
    void *st = NULL;
    char err[128] = "";
    assert_int_equal(ops->create(&sp, &cfg, 1, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
    assert_non_null(strstr(err, "tpe"));
    int found = 0;
    for (const hps_option_spec *o = ops->options; o->name; o++)
        if (!strcmp(o->name, "max_bad_points")) {
            found = 1;
            assert_true(o->type == HPS_OPT_INT && o->min == 50);
        }
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_beats_random),
        cmocka_unit_test(test_beats_random_multivariate),
        cmocka_unit_test(test_pending_distinct),
        cmocka_unit_test(test_mixed_and_replay),
        cmocka_unit_test(test_mixed_and_replay_multivariate),
        cmocka_unit_test(test_parzen_density),
        cmocka_unit_test(test_mv_density),
        cmocka_unit_test(test_cap_group),
        cmocka_unit_test(test_bounded_bad_group),
        cmocka_unit_test(test_max_bad_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
