/*
 * Unit tests of the `gp` strategy and its model: kernel and likelihood gradients
 * against finite differences, the incremental Cholesky update against a full
 * refactorisation, log-EI against the direct formula (and its behaviour where the
 * direct one underflows), jitter escalation on a degenerate design, interpolation,
 * a short optimisation of Branin, pending-trial separation, failed trials, mixed
 * spaces, replay exactness, and the rule that sends a share of the suggestions outside
 * a settled basin (gp_explore.c), alone and on decoy with four trials pending. (The
 * shared strategy contract suite covers the rest.)
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
#include <gsl/gsl_sf_erf.h>

#include "hpsweep/error.h"
#include "hpsweep/testfunc.h"
#include "hpsweep/space.h"
#include "hpsweep/strategy.h"
#include "config/config.h"
#include "strategies/gp_acq.h"
#include "strategies/gp_archive.h"
#include "strategies/gp_explore.h"
#include "strategies/gp_model.h"

/* ---- helpers -------------------------------------------------------------------- */

static double test_fn(const double *x, int D)
{
    double v = 0.0;
    for (int f = 0; f < D; f++)
        v += sin(3.0 * x[f] + f) + (x[f] - 0.4) * (x[f] - 0.4);
    return v;
}

/* A model over D features in g groups (feature f in group f % g) with n random points. */
static void make_model(gp_model *m, int D, int g, int n, unsigned long seed, const double *theta)
{
    int group[16];
    for (int f = 0; f < D; f++)
        group[f] = f % g;
    assert_int_equal(gp_model_init(m, D, g, group), HPS_OK);
    if (theta)
        gp_model_set_theta(m, theta);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    gsl_rng_set(r, seed);
    double x[16];
    for (int i = 0; i < n; i++) {
        for (int f = 0; f < D; f++)
            x[f] = gsl_rng_uniform(r);
        assert_int_equal(gp_model_add(m, x, test_fn(x, D)), HPS_OK);
    }
    gsl_rng_free(r);
    assert_int_equal(gp_model_factor(m), HPS_OK);
}

static hps_param unit_params[8];
static char unit_names[8][8];

static hps_space unit_space(int d)
{
    for (int i = 0; i < d; i++) {
        snprintf(unit_names[i], sizeof unit_names[i], "x%d", i);
        unit_params[i] = (hps_param){.name = unit_names[i], .type = HPS_PARAM_FLOAT,
                                     .low = 0.0, .high = 1.0};
    }
    return (hps_space){d, unit_params};
}

static double eval_on_domain(const hps_testfunc *tf, const double *u, int d)
{
    double lo[8], hi[8], x[8];
    tf->domain(d, lo, hi);
    for (int i = 0; i < d; i++)
        x[i] = lo[i] + u[i] * (hi[i] - lo[i]);
    return tf->fn(x, d);
}

/* Serial run of strategy ops on tf for n evaluations; returns the simple regret. */
static double run_serial(const hps_strategy_ops *ops, const hps_testfunc *tf, int d, int n,
                         uint64_t seed)
{
    hps_space sp = unit_space(d);
    void *st = NULL;
    assert_int_equal(ops->create(&sp, NULL, seed, &st, NULL, 0), HPS_OK);
    double best = HUGE_VAL, u[8];
    for (int t = 0; t < n; t++) {
        hps_suggestion s = {.u = u, .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(ops->suggest(st, &s), HPS_OK);
        double v = eval_on_domain(tf, u, d);
        best = v < best ? v : best;
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = u, .value = v};
        assert_int_equal(ops->observe(st, &o, NULL), HPS_OK);
    }
    ops->destroy(st);
    return best - tf->minimum(d);
}

/* ---- kernel / model ---------------------------------------------------------------- */

static void test_predict_gradient(void **state)
{
    double theta[GP_N_THETA(2)] = {log(0.3), log(0.7), log(1.3), log(1e-4), 0.1};
    gp_model m;
    make_model(&m, 3, 2, 25, 7, theta);
    assert_int_equal(gp_model_factor(&m), HPS_OK);
    /* with a fantasy believed above its mean too, so the mean and variance paths over
     * n_tot rows are covered */
    double xf[3] = {0.5, 0.5, 0.5};
    assert_int_equal(gp_model_push_fantasy(&m, xf, 1.0), HPS_OK);
    double work[3 * 64], x[3] = {0.31, 0.62, 0.17}, mu, var, dmu[3], dvar[3];
    gp_model_predict_grad(&m, x, &mu, &var, dmu, dvar, work);
    for (int f = 0; f < 3; f++) {
        double h = 1e-6, xp[3], xm[3], mp, vp, mm, vm;
        memcpy(xp, x, sizeof x);
        memcpy(xm, x, sizeof x);
        xp[f] += h;
        xm[f] -= h;
        gp_model_predict_grad(&m, xp, &mp, &vp, NULL, NULL, work);
        gp_model_predict_grad(&m, xm, &mm, &vm, NULL, NULL, work);
        assert_true(fabs((mp - mm) / (2 * h) - dmu[f]) < 1e-5 * (1 + fabs(dmu[f])));
        assert_true(fabs((vp - vm) / (2 * h) - dvar[f]) < 1e-5 * (1 + fabs(dvar[f])));
    }
    /* batch prediction agrees with the single-point one */
    double bmu, bvar, bwork[64];
    gp_model_predict(&m, 1, x, &bmu, &bvar, bwork);
    assert_true(fabs(bmu - mu) < 1e-12 && fabs(bvar - var) < 1e-12);

    /* acquisition gradient (log-EI and UCB) */
    gp_acq acqs[2] = {{.kind = GP_ACQ_EI, .best = -0.5}, {.kind = GP_ACQ_UCB, .beta = 4.0}};
    for (int k = 0; k < 2; k++) {
        double g[3];
        gp_acq_eval(&m, &acqs[k], x, g, work);
        for (int f = 0; f < 3; f++) {
            double h = 1e-6, xp[3], xm[3];
            memcpy(xp, x, sizeof x);
            memcpy(xm, x, sizeof x);
            xp[f] += h;
            xm[f] -= h;
            double fd = (gp_acq_eval(&m, &acqs[k], xp, NULL, work) -
                         gp_acq_eval(&m, &acqs[k], xm, NULL, work)) / (2 * h);
            assert_true(fabs(fd - g[f]) < 1e-5 * (1 + fabs(g[f])));
        }
    }
    gp_model_free(&m);
}

static void test_nlp_gradient(void **state)
{
    int D = 4, g = 3, n = 30, group[4] = {0, 1, 2, 2};
    double xs[30 * 4], ys[30];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    for (int i = 0; i < n; i++) {
        for (int f = 0; f < D; f++)
            xs[i * D + f] = gsl_rng_uniform(r);
        ys[i] = test_fn(xs + i * D, D) - 1.0;
    }
    double *work = malloc(sizeof(double) * gp_nlp_work_size(n, g));
    assert_non_null(work);
    double thetas[3][GP_N_THETA(3)] = {
        {log(0.2), log(0.5), log(1.5), 0.3, log(1e-3), 0.2},
        {log(1.0), log(0.1), log(0.3), -0.5, log(0.05), -0.4},
        {log(3.0), log(2.0), log(0.05), 1.0, log(1e-6), 1.1},
    };
    for (int t = 0; t < 3; t++) {
        double grad[GP_N_THETA(3)], th[GP_N_THETA(3)];
        double f0 = gp_nlp(D, g, group, n, xs, ys, thetas[t], grad, work);
        assert_true(isfinite(f0));
        for (int k = 0; k < GP_N_THETA(g); k++) {
            double h = 1e-5;
            memcpy(th, thetas[t], sizeof th);
            th[k] += h;
            double fp = gp_nlp(D, g, group, n, xs, ys, th, NULL, work);
            th[k] -= 2 * h;
            double fm = gp_nlp(D, g, group, n, xs, ys, th, NULL, work);
            double fd = (fp - fm) / (2 * h);
            if (fabs(fd - grad[k]) > 1e-4 * (1 + fabs(grad[k])))
                fail_msg("theta set %d, component %d: analytic %g, finite difference %g", t, k,
                         grad[k], fd);
        }
    }
    free(work);
    gsl_rng_free(r);
}

static void test_incremental_cholesky(void **state)
{
    double theta[GP_N_THETA(2)] = {log(0.25), log(0.4), log(0.8), log(1e-3), 0.0};
    gp_model a, b;
    make_model(&a, 2, 2, 20, 11, theta); /* factored at 20, then rows appended */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    gsl_rng_set(r, 99);
    for (int i = 0; i < 60; i++) { /* crosses the initial capacity (32): reallocation */
        double x[2] = {gsl_rng_uniform(r), gsl_rng_uniform(r)};
        assert_int_equal(gp_model_add(&a, x, test_fn(x, 2)), HPS_OK);
    }
    gsl_rng_free(r);
    int group[2] = {0, 1};
    assert_int_equal(gp_model_init(&b, 2, 2, group), HPS_OK);
    gp_model_set_theta(&b, theta);
    for (int i = 0; i < a.n; i++)
        assert_int_equal(gp_model_add(&b, a.x + i * 2, a.y[i]), HPS_OK);
    assert_int_equal(gp_model_factor(&b), HPS_OK);
    assert_int_equal(a.n, 80);
    double maxd = 0.0;
    for (int i = 0; i < a.n; i++) {
        for (int j = 0; j <= i; j++)
            maxd = fmax(maxd, fabs(a.L[i * a.cap + j] - b.L[i * b.cap + j]));
        maxd = fmax(maxd, fabs(a.alpha[i] - b.alpha[i]) / (1 + fabs(b.alpha[i])));
    }
    assert_true(maxd < 1e-8);
    gp_model_free(&a);
    gp_model_free(&b);
}

static void test_jitter_duplicates(void **state)
{
    int group[2] = {0, 1};
    gp_model m;
    assert_int_equal(gp_model_init(&m, 2, 2, group), HPS_OK);
    double x[2] = {0.3, 0.3};
    for (int i = 0; i < 40; i++) {
        x[0] = i % 2 ? 0.3 : 0.3 + 1e-13 * i;
        assert_int_equal(gp_model_add(&m, x, i % 3), HPS_OK);
    }
    /* force a singular matrix: no noise at all, large signal variance */
    double th[GP_N_THETA(2)] = {log(2.0), log(2.0), log(25.0), log(1e-9), 0.0};
    gp_model_set_theta(&m, th);
    m.noise = 0.0;
    assert_int_equal(gp_model_factor(&m), HPS_OK);
    assert_true(m.jitter > 0.0);
    double mu, var, work[3 * 64], xq[2] = {0.7, 0.1};
    gp_model_predict_grad(&m, xq, &mu, &var, NULL, NULL, work);
    assert_true(isfinite(mu) && isfinite(var) && var >= 0.0);
    /* incremental rows on the degenerate design stay finite */
    assert_int_equal(gp_model_add(&m, x, 1.0), HPS_OK);
    assert_int_equal(gp_model_push_fantasy(&m, x, 1.0), HPS_OK);
    for (int i = 0; i < m.n_tot; i++)
        assert_true(isfinite(m.L[i * m.cap + i]) && m.L[i * m.cap + i] > 0.0);
    /* a hyper-parameter fit on it works too */
    gp_fit_opts fo = {.n_starts = 1, .n_screen = 4, .max_iter = 30, .seed = 3};
    assert_int_equal(gp_model_fit(&m, &fo), HPS_OK);
    /* the raw factorisation reports a singular matrix instead of crashing */
    double A[4] = {1.0, 1.0, 1.0, 1.0};
    assert_int_equal(gp_cholesky(A, 2, 2), 2);
    gp_model_free(&m);
}

/* A fantasy believed at mean + kappa sd: the posterior passes through its belief;
 * with kappa 0 the mean is untouched everywhere; popping restores the model. */
static void test_fantasy_belief(void **state)
{
    (void)state;
    double theta[GP_N_THETA(2)] = {log(0.3), log(0.4), 0.0, log(1e-4), 0.0};
    gp_model m;
    make_model(&m, 2, 2, 12, 11, theta);
    double xf[2] = {0.93, 0.07}, probe[3][2] = {{0.93, 0.075}, {0.5, 0.5}, {0.2, 0.8}};
    double mu0[3], var0[3], mu1[3], var1[3], work[3 * 64], fm, fv;
    gp_model_predict(&m, 3, &probe[0][0], mu0, var0, work);
    gp_model_predict_grad(&m, xf, &fm, &fv, NULL, NULL, work);
    assert_true(fv > 1e-3); /* far from the data: the belief differs from the mean */

    assert_int_equal(gp_model_push_fantasy(&m, xf, 0.0), HPS_OK);
    gp_model_predict(&m, 3, &probe[0][0], mu1, var1, work);
    for (int j = 0; j < 3; j++) {
        assert_true(fabs(mu1[j] - mu0[j]) < 1e-9);
        assert_true(var1[j] <= var0[j] + 1e-12);
    }
    assert_true(var1[0] < 0.5 * var0[0]); /* the variance collapses next to it */
    gp_model_pop_fantasies(&m);

    assert_int_equal(gp_model_push_fantasy(&m, xf, 2.0), HPS_OK);
    double bm, bv;
    gp_model_predict_grad(&m, xf, &bm, &bv, NULL, NULL, work);
    /* conditioning on the belief b with noise s2 moves the mean to mu + fv/(fv+s2)(b-mu) */
    double expect = fm + fv / (fv + m.noise + m.jitter) * 2.0 * sqrt(fv);
    assert_true(fabs(bm - expect) < 1e-6 * sqrt(fv));
    gp_model_predict(&m, 3, &probe[0][0], mu1, var1, work);
    assert_true(mu1[0] > mu0[0] + 0.1 * sqrt(fv)); /* raised around it */
    assert_true(fabs(mu1[2] - mu0[2]) < fabs(mu1[0] - mu0[0])); /* less so far away */
    gp_model_pop_fantasies(&m);
    gp_model_predict(&m, 3, &probe[0][0], mu1, var1, work);
    for (int j = 0; j < 3; j++)
        assert_true(fabs(mu1[j] - mu0[j]) < 1e-12 && fabs(var1[j] - var0[j]) < 1e-12);
    gp_model_free(&m);
}

/* The output warp: log for a long upper tail, none for a symmetric sample, chosen on
 * the first n_choose values only, and always order-preserving. */
static void test_warp(void **state)
{
    (void)state;
    enum { N = 40 };
    double y[N], z[N];
    for (int i = 0; i < N; i++)
        y[i] = exp(6.0 * ((i * 17) % N) / (double)N); /* log-uniform over 3 decades */
    assert_true(gp_warp(N, y, 0, z) == 0.0);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            assert_true((y[i] < y[j]) == (z[i] < z[j]));

    for (int i = 0; i < N; i++)
        y[i] = -exp(6.0 * ((i * 17) % N) / (double)N); /* a long lower tail (Hartmann6) */
    assert_true(gp_warp(N, y, 0, z) == 1.0);
    assert_memory_equal(y, z, sizeof y);

    /* the first 20 so, the rest a long upper tail: the choice follows n_choose */
    for (int i = 20; i < N; i++)
        y[i] = exp(0.4 * i);
    assert_true(gp_warp(N, y, 20, z) == 1.0);
    assert_true(gp_warp(N, y, 0, z) < 1.0);
    /* too few values, or all equal: left alone */
    assert_true(gp_warp(2, y, 0, z) == 1.0);
    for (int i = 0; i < N; i++)
        y[i] = 3.0;
    assert_true(gp_warp(N, y, 0, z) == 1.0);
    assert_memory_equal(y, z, sizeof y);
}

static void test_interpolates(void **state)
{
    gp_model m;
    make_model(&m, 2, 2, 25, 5, NULL);
    gp_fit_opts fo = {.n_starts = 2, .n_screen = 8, .max_iter = 100, .seed = 1};
    assert_int_equal(gp_model_fit(&m, &fo), HPS_OK);
    assert_true(m.noise < 1e-3); /* a deterministic function: little noise */
    double mu[25], var[25], work[25 * 25];
    gp_model_predict(&m, 25, m.x, mu, var, work);
    for (int i = 0; i < 25; i++) {
        double pred = m.y_mean + m.y_sd * mu[i];
        assert_true(fabs(pred - m.y[i]) < 1e-2 * m.y_sd);
        assert_true(var[i] < 1e-2);
    }
    /* and is uncertain away from the data */
    double far[2] = {1.0, 0.0}, fm, fv;
    gp_model_predict(&m, 1, far, &fm, &fv, work);
    assert_true(fv > var[0]);
    gp_model_free(&m);
}

/* ---- log-EI --------------------------------------------------------------------------- */

static void test_log_ei(void **state)
{
    /* where the direct formula is accurate, they agree */
    for (double z = -5.0; z <= 6.0; z += 0.01) {
        double phi = exp(-0.5 * z * z) / sqrt(2 * M_PI), Phi = 0.5 * gsl_sf_erfc(-z / sqrt(2.0));
        double direct = log(phi + z * Phi);
        assert_true(fabs(gp_log_h(z) - direct) < 1e-9 * (1 + fabs(direct)));
        double dz = 1e-6;
        double fd = (gp_log_h(z + dz) - gp_log_h(z - dz)) / (2 * dz);
        assert_true(fabs(fd - gp_dlog_h(z)) < 1e-5 * (1 + fabs(fd)));
    }
    /* across the branch points it is continuous */
    double b[2] = {-1.0, -30.0};
    for (int k = 0; k < 2; k++) {
        double lo = gp_log_h(b[k] - 1e-9), hi = gp_log_h(b[k] + 1e-9);
        assert_true(fabs(lo - hi) < 1e-7 * fabs(lo));
    }
    /* where the direct formula underflows: finite, increasing, slope ~ -z */
    double prev = -HUGE_VAL;
    for (double z = -1e4; z <= -5.0; z *= 0.97) {
        double v = gp_log_h(z);
        assert_true(isfinite(v));
        assert_true(v > prev);
        prev = v;
        double dl = gp_dlog_h(z);
        assert_true(isfinite(dl) && dl > 0.0);
        assert_true(fabs(dl / -z - 1.0) < 0.1);
    }
    /* the acquisition of a hopeless point is finite and ordered by sigma */
    gp_acq a = {.kind = GP_ACQ_EI, .best = 0.0};
    double v1 = gp_acq_value(&a, 50.0, 1e-4, NULL, NULL);
    double v2 = gp_acq_value(&a, 50.0, 1e-2, NULL, NULL);
    assert_true(isfinite(v1) && isfinite(v2) && v2 > v1);
}

/* ---- the strategy ---------------------------------------------------------------------- */

static void test_branin(void **state)
{
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    const hps_testfunc *br = hps_testfunc_find("branin");
    assert_non_null(gp);
    assert_non_null(br);
    /* Measured over seeds 1..30: regret after 40 evaluations has median 1.5e-4 and
     * 29 of 30 seeds are below 0.05 (seed 5 is not: 1.55); seeds 1 and 2 must be. */
    for (uint64_t seed = 1; seed <= 2; seed++) {
        double regret = run_serial(gp, br, 2, 40, seed);
        if (!(regret < 0.05))
            fail_msg("branin seed %d: regret %g after 40 evaluations", (int)seed, regret);
    }
}

static double dist(const double *a, const double *b, int d)
{
    double s = 0.0;
    for (int i = 0; i < d; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

/* With 8 trials in flight the quasi-random design goes on until n_initial (here 6)
 * results are in: the suggestions made before that are the design's points, the
 * first one made after it is the model's. */
static void test_initial_until_results(void **state)
{
    (void)state;
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    hps_space sp = unit_space(2);
    void *busy = NULL, *idle = NULL;
    assert_int_equal(gp->create(&sp, NULL, 9, &busy, NULL, 0), HPS_OK);
    assert_int_equal(gp->create(&sp, NULL, 9, &idle, NULL, 0), HPS_OK);
    double u[32][2], q[2];
    int next = 0, done = 0;
    for (; next < 8; next++) {
        hps_suggestion s = {.u = u[next], .trial_id = next, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(busy, &s), HPS_OK);
    }
    for (; done < 7; done++, next++) { /* one result in, one more suggestion out */
        hps_observation o = {.trial_id = done, .kind = HPS_OBS_FINAL, .u = u[done],
                             .value = (u[done][0] - 0.3) * (u[done][0] - 0.3) + u[done][1]};
        assert_int_equal(gp->observe(busy, &o, NULL), HPS_OK);
        hps_suggestion s = {.u = u[next], .trial_id = next, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(busy, &s), HPS_OK);
        /* a state that never sees a result suggests the design's point for this id */
        hps_suggestion d = {.u = q, .trial_id = next, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(idle, &d), HPS_OK);
        if (done + 1 < 6)
            assert_memory_equal(u[next], q, sizeof q);
        else
            assert_memory_not_equal(u[next], q, sizeof q);
    }
    gp->destroy(busy);
    gp->destroy(idle);
}

static void test_pending_distinct(void **state)
{
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    const hps_testfunc *hm = hps_testfunc_find("hartmann6");
    hps_space sp = unit_space(6);
    void *st = NULL;
    assert_int_equal(gp->create(&sp, NULL, 42, &st, NULL, 0), HPS_OK);
    double u[40][8];
    int t = 0;
    for (; t < 20; t++) {
        hps_suggestion s = {.u = u[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(st, &s), HPS_OK);
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = u[t],
                             .value = eval_on_domain(hm, u[t], 6)};
        assert_int_equal(gp->observe(st, &o, NULL), HPS_OK);
    }
    for (; t < 28; t++) {
        hps_suggestion s = {.u = u[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(st, &s), HPS_OK);
        for (int k = 20; k < t; k++)
            if (!(dist(u[k], u[t], 6) > 1e-3))
                fail_msg("pending suggestions %d and %d are %g apart", k, t, dist(u[k], u[t], 6));
    }
    /* Observing one frees it: a failure there is not suggested again. */
    hps_observation o = {.trial_id = 20, .kind = HPS_OBS_FAILED, .u = u[20], .value = NAN};
    assert_int_equal(gp->observe(st, &o, NULL), HPS_OK);
    hps_suggestion s = {.u = u[28], .trial_id = 28, .bracket = -1, .rung = -1};
    assert_int_equal(gp->suggest(st, &s), HPS_OK);
    assert_true(dist(u[28], u[20], 6) > 1e-3);
    gp->destroy(st);
}

static hps_choice colours[] = {
    {.kind = HPS_CHOICE_STRING, .text = (char *)"red"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"green"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"blue"},
    {.kind = HPS_CHOICE_STRING, .text = (char *)"grey"},
};

/* Mixed space: the optimum needs the right category, integer and flag. One run;
 * returns the best value after n trials. */
static double mixed_run(uint64_t seed, int n)
{
    hps_param ps[5] = {
        {.name = (char *)"lr", .type = HPS_PARAM_FLOAT, .low = 1e-4, .high = 1.0, .log = 1},
        {.name = (char *)"n", .type = HPS_PARAM_INT, .low = 1, .high = 20},
        {.name = (char *)"c", .type = HPS_PARAM_CATEGORICAL, .n_choices = 4, .choices = colours},
        {.name = (char *)"b", .type = HPS_PARAM_BOOL},
        {.name = (char *)"w", .type = HPS_PARAM_INT, .low = 1, .high = 1000, .log = 1},
    };
    hps_space sp = {5, ps};
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    void *st = NULL;
    assert_int_equal(gp->create(&sp, NULL, seed, &st, NULL, 0), HPS_OK);
    double u[5], v[5], u2[5], best = HUGE_VAL;
    for (int t = 0; t < n; t++) {
        hps_suggestion s = {.u = u, .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(st, &s), HPS_OK);
        hps_space_decode(&sp, u, v);
        hps_space_encode(&sp, v, u2);
        for (int i = 1; i < 5; i++) /* discrete coordinates come as slice centres */
            assert_true(fabs(u[i] - u2[i]) < 1e-12);
        double f = pow(log10(v[0]) + 2.0, 2) + pow((v[1] - 7) / 5.0, 2) +
                   (v[2] == 2 ? 0.0 : 1.0) + (v[3] == 1 ? 0.0 : 0.5) +
                   pow(log10(v[4]) - 1.5, 2);
        best = f < best ? f : best;
        hps_observation o = {.trial_id = t, .kind = t % 11 == 5 ? HPS_OBS_FAILED : HPS_OBS_FINAL,
                             .u = u, .value = t % 11 == 5 ? NAN : f};
        assert_int_equal(gp->observe(st, &o, NULL), HPS_OK);
    }
    gp->destroy(st);
    return best;
}

/* Measured over seeds 1..7 at 60 trials: 5 of 7 below 0.1 (the others keep the
 * wrong flag); at least 4 must be. */
static void test_mixed_space(void **state)
{
    int good = 0;
    double b[7];
    for (int k = 0; k < 7; k++) {
        b[k] = mixed_run((uint64_t)k + 1, 60);
        good += b[k] < 0.1;
    }
    if (good < 4)
        fail_msg("mixed space: only %d of 7 seeds below 0.1 (%g %g %g %g %g %g %g)", good, b[0],
                 b[1], b[2], b[3], b[4], b[5], b[6]);
}

/* Replaying the observations only (no suggest calls) gives the same next point. */
static void test_replay_observations(void **state)
{
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    const hps_testfunc *br = hps_testfunc_find("branin");
    hps_space sp = unit_space(2);
    void *a = NULL, *b = NULL;
    assert_int_equal(gp->create(&sp, NULL, 77, &a, NULL, 0), HPS_OK);
    assert_int_equal(gp->create(&sp, NULL, 77, &b, NULL, 0), HPS_OK);
    double us[30][2];
    for (int t = 0; t < 30; t++) {
        hps_suggestion s = {.u = us[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(a, &s), HPS_OK);
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = us[t],
                             .value = eval_on_domain(br, us[t], 2)};
        assert_int_equal(gp->observe(a, &o, NULL), HPS_OK);
    }
    for (int t = 0; t < 30; t++) {
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = us[t],
                             .value = eval_on_domain(br, us[t], 2)};
        assert_int_equal(gp->observe(b, &o, NULL), HPS_OK);
    }
    double ua[2], ub[2];
    hps_suggestion sa = {.u = ua, .trial_id = 30, .bracket = -1, .rung = -1}, sb = sa;
    sb.u = ub;
    assert_int_equal(gp->suggest(a, &sa), HPS_OK);
    assert_int_equal(gp->suggest(b, &sb), HPS_OK);
    assert_memory_equal(ua, ub, sizeof ua);
    gp->destroy(a);
    gp->destroy(b);
}

/* gp_explore.c (trials pending): exploring opens while the best point outside the ball
 * around the incumbent beats the median observation; then every second trial id
 * explores (the default share 0.5, evenly spread), two fifths of that once the outside
 * best has not improved for 10 observations, the full share again when it does; never
 * when closed or with a share of 0. */
static int explorers(const gp_explore *e, int n_ids)
{
    int c = 0, prev = 0;
    for (int64_t t = 0; t < n_ids; t++) {
        int x = gp_explore_decide(e, t);
        if (x && prev && e->share <= 0.5)
            fail_msg("ids %lld and %lld both explore at share %g", (long long)t - 1,
                     (long long)t, e->share);
        c += x;
        prev = x;
    }
    return c;
}

static void test_explore_rule(void **state)
{
    int group[2] = {0, 1};
    gp_model m;
    assert_int_equal(gp_model_init(&m, 2, 2, group), HPS_OK);
    assert_int_equal(gp_model_add(&m, (double[]){0.7, 0.7}, -1.0), HPS_OK); /* incumbent */
    for (int k = 0; k < 10; k++)
        assert_int_equal(gp_model_add(&m, (double[]){0.65 + 0.01 * k, 0.72}, -0.5), HPS_OK);
    for (int k = 0; k < 4; k++)
        assert_int_equal(gp_model_add(&m, (double[]){0.05 * k, 1.0}, 0.0), HPS_OK);
    /* outside the ball (radius 0.4 sqrt 2), worse than the median -0.5: closed */
    assert_int_equal(gp_model_add(&m, (double[]){0.1, 0.1}, -0.3), HPS_OK);
    gp_explore e = {.share = 0.5};
    assert_int_equal(gp_explore_observe(&e, &m, 0), HPS_OK);
    assert_int_equal(explorers(&e, 100), 0);
    /* a better point out there opens it: 50 of 100 ids, alternating */
    assert_int_equal(gp_model_add(&m, (double[]){0.15, 0.1}, -0.8), HPS_OK);
    assert_int_equal(gp_explore_observe(&e, &m, 0), HPS_OK);
    assert_int_equal(explorers(&e, 100), 50);
    /* ten observations without a better outside point: 20 of 100 */
    for (int k = 0; k < 10; k++) {
        assert_int_equal(gp_model_add(&m, (double[]){0.7, 0.69 - 0.001 * k}, -0.9), HPS_OK);
        assert_int_equal(gp_explore_observe(&e, &m, 0), HPS_OK);
    }
    assert_int_equal(explorers(&e, 100), 20);
    /* a better one restores the share */
    assert_int_equal(gp_model_add(&m, (double[]){0.2, 0.15}, -0.95), HPS_OK);
    assert_int_equal(gp_explore_observe(&e, &m, 0), HPS_OK);
    assert_int_equal(explorers(&e, 100), 50);
    gp_explore_free(&e);
    gp_explore none = {.share = 0.0};
    assert_int_equal(gp_explore_observe(&none, &m, 0), HPS_OK);
    assert_int_equal(explorers(&none, 100), 0);
    gp_explore_free(&none);
    gp_model_free(&m);
}

/* One run of gp on decoy (workers/testfuncs.c) with 4 trials pending, as 4 busy
 * workers would keep them; returns the best value after n trials. */
static double decoy_run(const hps_strategy_cfg *cfg, uint64_t seed, int n)
{
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    const hps_testfunc *tf = hps_testfunc_find("decoy");
    hps_space sp = unit_space(2);
    void *st = NULL;
    assert_int_equal(gp->create(&sp, cfg, seed, &st, NULL, 0), HPS_OK);
    double u[4][2], best = HUGE_VAL;
    int64_t ids[4];
    int n_out = 0, n_sug = 0;
    for (int t = 0; t < n; t++) {
        while (n_out < 4 && n_sug < n) {
            hps_suggestion s = {.u = u[n_out], .trial_id = n_sug, .bracket = -1, .rung = -1};
            assert_int_equal(gp->suggest(st, &s), HPS_OK);
            ids[n_out++] = n_sug++;
        }
        double v = tf->fn(u[0], 2);
        best = v < best ? v : best;
        hps_observation o = {.trial_id = ids[0], .kind = HPS_OBS_FINAL, .u = u[0], .value = v};
        assert_int_equal(gp->observe(st, &o, NULL), HPS_OK);
        memmove(u[0], u[1], sizeof u[0] * (size_t)(n_out - 1));
        memmove(ids, ids + 1, sizeof ids[0] * (size_t)(n_out - 1));
        n_out--;
    }
    gp->destroy(st);
    return best;
}

/* With 4 pending, the default share leaves decoy's broad basin (-1.0017) for the basin
 * of the global well (below -1.1) in at least 6 of seeds 1..10 within 40 trials; with
 * explore_share 0 the search stays in the decoy in most of them (measured: 8 of 10
 * against 1 of 10). */
static void test_explore_decoy(void **state)
{
    const char *k[] = {"explore_share"}, *v[] = {"0"};
    hps_strategy_cfg off = {1, k, v};
    int on_escaped = 0, off_escaped = 0;
    double b_on[10];
    for (int sd = 0; sd < 10; sd++) {
        b_on[sd] = decoy_run(NULL, (uint64_t)sd + 1, 40);
        on_escaped += b_on[sd] < -1.1;
        off_escaped += decoy_run(&off, (uint64_t)sd + 1, 40) < -1.1;
    }
    if (on_escaped < 6 || off_escaped > 4)
        fail_msg("decoy: %d of 10 escaped with the explore share (%g %g %g %g %g ...), %d of 10 "
                 "without", on_escaped, b_on[0], b_on[1], b_on[2], b_on[3], b_on[4], off_escaped);
}

/* A serial search settled in a basin spends some suggestions outside the ball of
 * radius 0.4 sqrt(d) around its incumbent (gp.c, "Exploring"), and those suggestions
 * replay exactly from the observations. */
static double sphere(const double *u)
{
    return (u[0] - 0.3) * (u[0] - 0.3) + (u[1] - 0.6) * (u[1] - 0.6);
}

static void test_escape(void **state)
{
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    hps_space sp = unit_space(2);
    void *a = NULL, *b = NULL;
    assert_int_equal(gp->create(&sp, NULL, 5, &a, NULL, 0), HPS_OK);
    enum { N = 70 };
    double us[N][2], best = HUGE_VAL, ub_best[2] = {0, 0};
    int first_far = -1;
    for (int t = 0; t < N; t++) {
        hps_suggestion s = {.u = us[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(a, &s), HPS_OK);
        if (t >= 20 && first_far < 0 && dist(us[t], ub_best, 2) >= 0.4 * sqrt(2.0) - 1e-9)
            first_far = t;
        double v = sphere(us[t]);
        if (v < best) {
            best = v;
            memcpy(ub_best, us[t], sizeof ub_best);
        }
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = us[t], .value = v};
        assert_int_equal(gp->observe(a, &o, NULL), HPS_OK);
    }
    if (first_far < 0)
        fail_msg("no suggestion left the incumbent's basin in %d evaluations", N);
    assert_true(best < 1e-4);
    assert_int_equal(gp->create(&sp, NULL, 5, &b, NULL, 0), HPS_OK);
    for (int t = 0; t < first_far; t++) {
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = us[t],
                             .value = sphere(us[t])};
        assert_int_equal(gp->observe(b, &o, NULL), HPS_OK);
    }
    double u[2];
    hps_suggestion s = {.u = u, .trial_id = first_far, .bracket = -1, .rung = -1};
    assert_int_equal(gp->suggest(b, &s), HPS_OK);
    assert_memory_equal(u, us[first_far], sizeof u);
    gp->destroy(a);
    gp->destroy(b);
}

static void test_options(void **state)
{
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    const char *k[] = {"acquisition", "ucb_beta", "n_initial", "refit_every", "n_candidates",
                       "output_warp", "pending_kappa", "explore_share"};
    const char *v[] = {"ucb", "2.5", "4", "3", "64", "none", "0.5", "0.25"};
    hps_strategy_cfg cfg = {8, k, v};
    hps_space sp = unit_space(3);
    void *st = NULL;
    char err[128];
    assert_int_equal(gp->create(&sp, &cfg, 1, &st, err, sizeof err), HPS_OK);
    double u[3];
    for (int t = 0; t < 15; t++) {
        hps_suggestion s = {.u = u, .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(st, &s), HPS_OK);
        for (int i = 0; i < 3; i++)
            assert_true(u[i] >= 0.0 && u[i] <= 1.0);
        hps_observation o = {.trial_id = t, .kind = HPS_OBS_FINAL, .u = u,
                             .value = u[0] * u[0] + u[1] - u[2]};
        assert_int_equal(gp->observe(st, &o, NULL), HPS_OK);
    }
    gp->destroy(st);
}

/* ---- the bounded model (max_model_points) ------------------------------------------ */

static int cmp_double(const void *p, const void *q)
{
    double x = *(const double *)p, y = *(const double *)q;
    return (x > y) - (x < y);
}

/* The subset: the initial design first, the best third of the rows that did not fail
 * (failed rows are stored at 0, below every real value here), the newest rows, then
 * seeded draws; ascending, deterministic, and a different draw for another seed. */
static void test_archive_subset(void **state)
{
    (void)state;
    enum { N = 3000, M = 1000, FIRST = 14 };
    gp_archive a = {.dim = 2};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    static double vals[N];
    int nv = 0, best = -1;
    double bv = HUGE_VAL;
    for (int i = 0; i < N; i++) {
        double x[2] = {gsl_rng_uniform(r), gsl_rng_uniform(r)};
        int failed = i % 97 == 5;
        double y = 0.01 + (x[0] - 0.3) * (x[0] - 0.3) + (x[1] - 0.7) * (x[1] - 0.7);
        if (!failed) {
            vals[nv++] = y;
            if (y < bv)
                bv = y, best = i;
        }
        assert_int_equal(gp_archive_add(&a, x, y, failed), HPS_OK);
    }
    gsl_rng_free(r);
    qsort(vals, (size_t)nv, sizeof(double), cmp_double);
    double third = vals[M / 3 - 1];

    static int idx[M], idx2[M], idx3[M];
    assert_int_equal(gp_archive_subset(&a, M, FIRST, 77, idx), M);
    int has_best = 0;
    unsigned char in[N] = {0};
    for (int k = 0; k < M; k++) {
        if (k > 0)
            assert_true(idx[k] > idx[k - 1]);
        has_best |= idx[k] == best;
        in[idx[k]] = 1;
    }
    assert_true(has_best);
    for (int i = 0; i < FIRST; i++)
        assert_int_equal(idx[i], i);
    for (int i = N - M / 6; i < N; i++)
        assert_true(in[i]);
    for (int i = 0; i < N; i++)
        if (!a.failed[i] && a.y[i] <= third)
            assert_true(in[i]);
    assert_int_equal(gp_archive_subset(&a, M, FIRST, 77, idx2), M);
    assert_memory_equal(idx, idx2, sizeof idx);
    assert_int_equal(gp_archive_subset(&a, M, FIRST, 78, idx3), M);
    assert_true(memcmp(idx, idx3, sizeof idx) != 0);
    /* at or above the row count: every row */
    static int all[N];
    assert_int_equal(gp_archive_subset(&a, N, FIRST, 77, all), N);
    for (int i = 0; i < N; i++)
        assert_int_equal(all[i], i);
    gp_archive_free(&a);
}

/* Serial gp on a shifted sphere with max_model_points = cap: every suggestion into
 * us[n][2]; every 37th trial fails. Checks the model's rows after each result. */
static double bounded_run(const char *cap, int n, double (*us)[2])
{
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    const char *k[] = {"max_model_points"};
    const char *v[] = {cap};
    hps_strategy_cfg cfg = {cap ? 1 : 0, k, v};
    hps_space sp = unit_space(2);
    void *st = NULL;
    char err[128] = "";
    assert_int_equal(gp->create(&sp, &cfg, 9, &st, err, sizeof err), HPS_OK);
    int m = cap ? atoi(cap) : 1000;
    double best = HUGE_VAL;
    for (int t = 0; t < n; t++) {
        hps_suggestion s = {.u = us[t], .trial_id = t, .bracket = -1, .rung = -1};
        assert_int_equal(gp->suggest(st, &s), HPS_OK);
        double v0 = (us[t][0] - 0.37) * (us[t][0] - 0.37) + (us[t][1] - 0.61) * (us[t][1] - 0.61);
        int failed = t % 37 == 36;
        if (!failed && v0 < best)
            best = v0;
        hps_observation o = {.trial_id = t, .kind = failed ? HPS_OBS_FAILED : HPS_OBS_FINAL,
                             .u = us[t], .value = failed ? NAN : v0};
        assert_int_equal(gp->observe(st, &o, NULL), HPS_OK);
        int rows = gp_state_model_rows(st);
        assert_int_equal(gp_state_results(st), t + 1);
        assert_true(rows <= m + m / 10);
        if (t + 1 < m + m / 10)
            assert_int_equal(rows, t + 1);
        else
            assert_true(rows >= m);
    }
    gp->destroy(st);
    return best;
}

/* Past the cap the model stays within cap + cap/10 rows and still finds the minimum;
 * the same seed gives the same suggestions; below the cap (and until the first
 * rebuild) the suggestions are those of an unbounded model, bit for bit. */
static void test_bounded_model(void **state)
{
    (void)state;
    enum { N = 330 };
    static double a[N][2], b[N][2], c[111][2];
    double best = bounded_run("100", N, a);
    assert_true(best < 1e-4);
    assert_true(bounded_run("100", N, b) == best);
    assert_memory_equal(a, b, sizeof a);
    /* suggestions 0-109 come from at most 109 results: no rebuild yet; the 110th
     * result rebuilds the model on a subset, and suggestion 110 moves */
    (void)bounded_run(NULL, 111, c);
    assert_memory_equal(a, c, sizeof(double) * 2 * 110);
    assert_true(memcmp(a[110], c[110], sizeof c[110]) != 0);
}

/* max_model_points is a validated option: its range is in the config error. */
static void test_model_points_option(void **state)
{
    (void)state;
    static const char *const head = "objective: {function: branin}\nstrategy: {name: gp, ";
    static const char *const tail = "}\nspace:\n  x1: {type: float, low: -5, high: 10}\n"
                                    "  x2: {type: float, low: 0, high: 15}\n";
    char yaml[512], err[1024] = "";
    hps_config c;
    snprintf(yaml, sizeof yaml, "%smax_model_points: 50%s", head, tail);
    assert_int_equal(hps_config_parse(yaml, strlen(yaml), "t.yaml", &c, err, sizeof err),
                     HPS_ECONFIG);
    hps_config_free(&c);
    if (!strstr(err, "strategy.max_model_points: 50 is out of range; expected an integer in [100"))
        fail_msg("unexpected message: %s", err);
    snprintf(yaml, sizeof yaml, "%smax_model_points: many%s", head, tail);
    assert_int_equal(hps_config_parse(yaml, strlen(yaml), "t.yaml", &c, err, sizeof err),
                     HPS_ECONFIG);
    hps_config_free(&c);
    if (!strstr(err, "max_model_points: expected an integer"))
        fail_msg("unexpected message: %s", err);
    snprintf(yaml, sizeof yaml, "%smax_model_points: 2500%s", head, tail);
    if (hps_config_parse(yaml, strlen(yaml), "t.yaml", &c, err, sizeof err) != HPS_OK)
        fail_msg("parse failed: %s", err);
    assert_int_equal(hps_strategy_cfg_int(&c.strategy_cfg, "max_model_points", 0), 2500);
    hps_config_free(&c);
    /* below the range straight through create (no config): refused */
    const hps_strategy_ops *gp = hps_strategy_find("gp");
    const char *k[] = {"max_model_points"};
    const char *v[] = {"10"};
    hps_strategy_cfg cfg = {1, k, v};
    hps_space sp = unit_space(2);
    void *st = NULL;
    assert_int_equal(gp->create(&sp, &cfg, 1, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predict_gradient),
        cmocka_unit_test(test_nlp_gradient),
        cmocka_unit_test(test_incremental_cholesky),
        cmocka_unit_test(test_jitter_duplicates),
        cmocka_unit_test(test_interpolates),
        cmocka_unit_test(test_fantasy_belief),
        cmocka_unit_test(test_warp),
        cmocka_unit_test(test_log_ei),
        cmocka_unit_test(test_branin),
        cmocka_unit_test(test_initial_until_results),
        cmocka_unit_test(test_pending_distinct),
        cmocka_unit_test(test_mixed_space),
        cmocka_unit_test(test_replay_observations),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_explore_rule),
        cmocka_unit_test(test_explore_decoy),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_archive_subset),
        cmocka_unit_test(test_bounded_model),
        cmocka_unit_test(test_model_points_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
