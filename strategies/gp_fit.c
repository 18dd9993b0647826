/*
 * Hyper-parameter fitting for the GP model (gp_model.h): the negative log posterior
 * of theta with its analytic gradient, and a multi-start maximum-a-posteriori fit
 * with GSL's vector_bfgs2.
 *
 * Objective: -log p(ys | theta) - log p(theta) with independent normal priors on
 * the log length scales (centred on 0.3*sqrt(g), so longer in more dimensions),
 * the log signal variance (centred on 1: outputs are standardised), the log noise
 * variance (centred on 1e-3, wide: deterministic objectives push it to the floor,
 * noisy ones up) and the constant mean. theta is confined to a box by evaluating
 * at the clamped point plus a quadratic penalty outside, so BFGS (unconstrained)
 * stays well defined.
 *
 * Gradient: d(-log L)/dtheta_k = -1/2 tr((alpha alpha^T - K^-1) dK/dtheta_k); K^-1
 * comes from the Cholesky factor with BLAS-3 (dtrsm, dsyrk), the trace from one
 * O(n^2 D) pass over the pairs. For a Matern-5/2 kernel
 *   dk/dlog l_g = sf2 (5/3) (1 + sqrt5 r) exp(-sqrt5 r) * sum_{f in g} (dx_f / l_g)^2,
 * which has no singularity at r = 0.
 *
 * Large data sets are fitted on a deterministic subset (the best third by value
 * plus an even stride through the rest), which bounds a refit's cost; the model
 * then conditions on every observation with the fitted theta.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "hpsweep/error.h"
#include "gp_model.h"

#define SQRT5 2.23606797749978969641
#define LOG_2PI 1.83787706640934548356
#define PENALTY 100.0
#define BAD_VALUE 1e100


static void theta_box(int g, int k, double *lo, double *hi)
{
    if (k < g) {
        *lo = log(0.005), *hi = log(30.0);
    } else if (k == GP_TH_SF2(g)) {
        *lo = log(0.01), *hi = log(30.0);
    } else if (k == GP_TH_NOISE(g)) {
        *lo = log(1e-9), *hi = log(1.0);
    } else {
        *lo = -4.0, *hi = 4.0;
    }
}

static void theta_prior(int g, int k, double *mu, double *sd)
{
    if (k < g) {
        *mu = log(0.3 * sqrt((double)g)), *sd = 1.0;
    } else if (k == GP_TH_SF2(g)) {
        *mu = 0.0, *sd = 1.0;
    } else if (k == GP_TH_NOISE(g)) {
        *mu = log(1e-3), *sd = 3.0;
    } else {
        *mu = 0.0, *sd = 1.0;
    }
}

size_t gp_nlp_work_size(int n, int n_groups)
{
    return 3 * (size_t)n * (size_t)n + 2 * (size_t)n + 2 * (size_t)n_groups +
           (size_t)GP_N_THETA(n_groups) + 1;
}

double gp_nlp(int dim, int g, const int *group, int n, const double *xs, const double *ys,
              const double *theta, double *grad, double *work)
{
    int nth = GP_N_THETA(g);
    double *A = work, *Z = A + (size_t)n * n, *E = Z + (size_t)n * n, *diag = E + (size_t)n * n;
    double *al = diag + n;
    double *ils = al + n, *dg = ils + g, *th = dg + g;
    double value = 0.0;

    for (int k = 0; k < nth; k++) {
        double lo, hi;
        theta_box(g, k, &lo, &hi);
        th[k] = theta[k] < lo ? lo : theta[k] > hi ? hi : theta[k];
        double ex = theta[k] - th[k];
        value += 0.5 * PENALTY * ex * ex;
        if (grad)
            grad[k] = 0.0;
    }
    for (int k = 0; k < g; k++)
        ils[k] = exp(-2.0 * th[k]);
    double sf2 = exp(th[GP_TH_SF2(g)]), en = exp(th[GP_TH_NOISE(g)]);
    double noise = GP_NOISE_FLOOR + en, c = th[GP_TH_MEAN(g)];

    for (int i = 0; i < n; i++) {
        const double *xi = xs + (size_t)i * dim;
        for (int j = 0; j < i; j++) {
            const double *xj = xs + (size_t)j * dim;
            double r2 = 0.0;
            for (int f = 0; f < dim; f++)
                r2 += (xi[f] - xj[f]) * (xi[f] - xj[f]) * ils[group[f]];
            double r = sqrt(r2), e = exp(-SQRT5 * r);
            A[(size_t)i * n + j] = A[(size_t)j * n + i] =
                sf2 * (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e;
            E[(size_t)i * n + j] = sf2 * (5.0 / 3.0) * (1.0 + SQRT5 * r) * e;
        }
        diag[i] = sf2 + noise;
    }
    double jitter = 0.0;
    for (;;) {
        for (int i = 0; i < n; i++)
            A[(size_t)i * n + i] = diag[i] + jitter;
        if (gp_cholesky(A, n, n) == 0)
            break;
        jitter = jitter == 0.0 ? 1e-9 * sf2 : jitter * 10.0;
        if (jitter > 1e-1 * sf2) {
            if (grad) {
                double *d0 = malloc(sizeof(double) * (size_t)nth);
                if (d0) {
                    gp_default_theta(g, d0);
                    for (int k = 0; k < nth; k++)
                        grad[k] = theta[k] - d0[k];
                    free(d0);
                }
            }
            return BAD_VALUE;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                A[(size_t)i * n + j] = A[(size_t)j * n + i];
    }

    gsl_matrix_view Lv = gsl_matrix_view_array(A, n, n);
    for (int i = 0; i < n; i++)
        al[i] = ys[i] - c;
    double logdet = 0.0;
    for (int i = 0; i < n; i++)
        logdet += 2.0 * log(A[(size_t)i * n + i]);
    if (n > 0) {
        gsl_vector_view av = gsl_vector_view_array(al, n);
        gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lv.matrix, &av.vector);
        double quad = 0.0;
        for (int i = 0; i < n; i++)
            quad += al[i] * al[i];
        gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, &Lv.matrix, &av.vector);
        value += 0.5 * quad + 0.5 * logdet + 0.5 * n * LOG_2PI;
    }
    for (int k = 0; k < nth; k++) {
        double mu, sd;
        theta_prior(g, k, &mu, &sd);
        double z = (th[k] - mu) / sd;
        value += 0.5 * z * z;
    }
    if (!grad)
        return value;

    double *gl = malloc(sizeof(double) * (size_t)nth);
    if (!gl)
        return BAD_VALUE;
    memset(gl, 0, sizeof(double) * (size_t)nth);
    if (n > 0) {
        /* Z = L^-1, then K^-1 = Z^T Z into A's lower triangle (L is no longer needed). */
        memset(Z, 0, sizeof(double) * (size_t)n * n);
        for (int i = 0; i < n; i++)
            Z[(size_t)i * n + i] = 1.0;
        gsl_matrix_view Zv = gsl_matrix_view_array(Z, n, n);
        gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, &Lv.matrix,
                       &Zv.matrix);
        gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0, &Zv.matrix, 0.0, &Lv.matrix);

        double gsf = 0.0, gno = 0.0, gmean = 0.0;
        for (int i = 0; i < n; i++) {
            const double *xi = xs + (size_t)i * dim;
            const double *Ki = A + (size_t)i * n, *Ei = E + (size_t)i * n;
            for (int j = 0; j < i; j++) {
                const double *xj = xs + (size_t)j * dim;
                double W = al[i] * al[j] - Ki[j];
                double fac = W * Ei[j];
                gsf += W * A[(size_t)j * n + i]; /* K_ij, kept in the upper triangle */
                for (int f = 0; f < dim; f++)
                    gl[group[f]] += fac * (xi[f] - xj[f]) * (xi[f] - xj[f]);
            }
            double Wii = al[i] * al[i] - Ki[i];
            gsf += 0.5 * Wii * sf2;
            gno += 0.5 * Wii * en;
            gmean += al[i];
        }
        for (int k = 0; k < g; k++)
            gl[k] *= ils[k];
        gl[GP_TH_SF2(g)] = gsf;
        gl[GP_TH_NOISE(g)] = gno;
        gl[GP_TH_MEAN(g)] = gmean;
    }
    for (int k = 0; k < nth; k++) {
        double lo, hi, mu, sd;
        theta_box(g, k, &lo, &hi);
        theta_prior(g, k, &mu, &sd);
        grad[k] += PENALTY * (theta[k] - th[k]);
        if (theta[k] >= lo && theta[k] <= hi)
            grad[k] += -gl[k] + (th[k] - mu) / (sd * sd);
    }
    free(gl);
    return value;
}

/* ---- the fit ------------------------------------------------------------------------- */

typedef struct fit_problem {
    int dim, g, n;
    const int *group;
    const double *xs, *ys;
    double *work;
} fit_problem;

static double fp_f(const gsl_vector *v, void *params)
{
    fit_problem *P = params;
    return gp_nlp(P->dim, P->g, P->group, P->n, P->xs, P->ys, v->data, NULL, P->work);
}

static void fp_fdf(const gsl_vector *v, void *params, double *f, gsl_vector *df)
{
    fit_problem *P = params;
    *f = gp_nlp(P->dim, P->g, P->group, P->n, P->xs, P->ys, v->data, df->data, P->work);
}

static void fp_df(const gsl_vector *v, void *params, gsl_vector *df)
{
    double f;
    fp_fdf(v, params, &f, df);
}

typedef struct idx_val {
    double v;
    int i;
} idx_val;

static int cmp_idx_val(const void *a, const void *b)
{
    const idx_val *x = a, *y = b;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Rows to fit on: all, or the best third plus an even stride through the rest. */
static int choose_subset(const gp_model *m, int max_points, int *idx)
{
    int n = m->n;
    if (max_points <= 0 || n <= max_points) {
        for (int i = 0; i < n; i++)
            idx[i] = i;
        return n;
    }
    idx_val *iv = malloc(sizeof(idx_val) * (size_t)n);
    if (!iv)
        return -1;
    for (int i = 0; i < n; i++)
        iv[i] = (idx_val){m->y[i], i};
    qsort(iv, (size_t)n, sizeof(idx_val), cmp_idx_val);
    int best = max_points / 3, rest = max_points - best, k = 0;
    for (int i = 0; i < best; i++)
        idx[k++] = iv[i].i;
    for (int j = 0; j < rest; j++) {
        int i = best + (int)((double)j * (double)(n - best) / (double)rest);
        idx[k++] = iv[i].i;
    }
    free(iv);
    return k;
}

/* Minimise from x0 (overwritten with the result); returns the final value. */
static double run_bfgs(gsl_multimin_fdfminimizer *s, gsl_multimin_function_fdf *F,
                       gsl_vector *x0, int max_iter)
{
    if (gsl_multimin_fdfminimizer_set(s, F, x0, 0.1, 0.1) != GSL_SUCCESS)
        return fp_f(x0, F->params);
    double prev = gsl_multimin_fdfminimizer_minimum(s);
    int slow = 0;
    for (int it = 0; it < max_iter; it++) {
        if (gsl_multimin_fdfminimizer_iterate(s) != GSL_SUCCESS)
            break;
        if (gsl_multimin_test_gradient(gsl_multimin_fdfminimizer_gradient(s), 1e-3) == GSL_SUCCESS)
            break;
        /* three steps in a row that gain less than 1e-6 relative: converged enough */
        double f = gsl_multimin_fdfminimizer_minimum(s);
        slow = prev - f < 1e-6 * (1.0 + fabs(f)) ? slow + 1 : 0;
        if (slow >= 3)
            break;
        prev = f;
    }
    gsl_vector_memcpy(x0, gsl_multimin_fdfminimizer_x(s));
    return gsl_multimin_fdfminimizer_minimum(s);
}

int gp_model_fit(gp_model *m, const gp_fit_opts *o)
{
    gp_model_pop_fantasies(m);
    int g = m->n_groups, nth = GP_N_THETA(g), n = m->n;
    if (n < 2)
        return gp_model_factor(m);
    m->factored = 0;
    gp_model_update_alpha(m); /* standardise ys */

    int rc = HPS_ENOMEM;
    int *idx = malloc(sizeof(int) * (size_t)n);
    int ns = idx ? choose_subset(m, o->max_points, idx) : -1;
    int n_cand = 2 + (o->n_screen > 0 ? o->n_screen : 0);
    double *xs = malloc(sizeof(double) * (size_t)n * (size_t)m->dim + 1);
    double *ys = malloc(sizeof(double) * (size_t)n);
    double *work = malloc(sizeof(double) * gp_nlp_work_size(ns > 0 ? ns : 1, g));
    double *cand = malloc(sizeof(double) * (size_t)n_cand * (size_t)nth);
    idx_val *score = malloc(sizeof(idx_val) * (size_t)n_cand);
    gsl_vector *x0 = gsl_vector_alloc((size_t)nth);
    gsl_vector *best = gsl_vector_alloc((size_t)nth);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_multimin_fdfminimizer *s =
        gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, (size_t)nth);
    if (ns < 0 || !xs || !ys || !work || !cand || !score || !x0 || !best || !rng || !s)
        goto out;
    for (int k = 0; k < ns; k++) {
        memcpy(xs + (size_t)k * m->dim, m->x + (size_t)idx[k] * m->dim,
               sizeof(double) * (size_t)m->dim);
        ys[k] = m->ys[idx[k]];
    }
    fit_problem P = {m->dim, g, ns, m->group, xs, ys, work};
    gsl_multimin_function_fdf F = {.f = fp_f, .df = fp_df, .fdf = fp_fdf, .n = (size_t)nth,
                                   .params = &P};

    /* Candidates: the warm start, the default, and draws from the prior. */
    uint64_t sd = hps_mix64(o->seed);
    gsl_rng_set(rng, (unsigned long)(sd ^ (sd >> 32)));
    memcpy(cand, m->theta, sizeof(double) * (size_t)nth);
    gp_default_theta(g, cand + nth);
    for (int c = 2; c < n_cand; c++)
        for (int k = 0; k < nth; k++) {
            double mu, sdv, lo, hi;
            theta_prior(g, k, &mu, &sdv);
            theta_box(g, k, &lo, &hi);
            double t = mu + sdv * gsl_ran_gaussian_ziggurat(rng, 1.0);
            cand[(size_t)c * nth + k] = t < lo ? lo : t > hi ? hi : t;
        }
    for (int c = 0; c < n_cand; c++) {
        gsl_vector_view v = gsl_vector_view_array(cand + (size_t)c * nth, (size_t)nth);
        score[c] = (idx_val){fp_f(&v.vector, &P), c};
    }
    /* Start from the warm start and the best n_starts of the others. */
    qsort(score + 1, (size_t)(n_cand - 1), sizeof(idx_val), cmp_idx_val);
    int n_runs = 1 + (o->n_starts < n_cand - 1 ? o->n_starts : n_cand - 1);
    double best_f = HUGE_VAL;
    for (int r = 0; r < n_runs; r++) {
        memcpy(x0->data, cand + (size_t)score[r].i * nth, sizeof(double) * (size_t)nth);
        double f = run_bfgs(s, &F, x0, o->max_iter);
        if (f < best_f && isfinite(f)) {
            best_f = f;
            gsl_vector_memcpy(best, x0);
        }
    }
    if (isfinite(best_f)) {
        for (int k = 0; k < nth; k++) {
            double lo, hi, t = best->data[k];
            theta_box(g, k, &lo, &hi);
            best->data[k] = t < lo ? lo : t > hi ? hi : t;
        }
        gp_model_set_theta(m, best->data);
    }
    rc = gp_model_factor(m);
out:
    gsl_multimin_fdfminimizer_free(s);
    gsl_rng_free(rng);
    gsl_vector_free(best);
    gsl_vector_free(x0);
    free(score);
    free(cand);
    free(work);
    free(ys);
    free(xs);
    free(idx);
    return rc;
}
