/*
 * The GP model of the `gp` strategy: kernel, Cholesky factor (blocked, incremental,
 * with jitter escalation) and posterior predictions. The hyper-parameter objective
 * and its fit live in gp_fit.c. See gp_model.h for the model itself.
 *
 * Storage is row-major with a leading dimension equal to the row capacity, so that a
 * row can be appended to the factor without moving anything; GSL matrix views with
 * that tda hand the blocks to (Open)BLAS.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "hpsweep/error.h"
#include "gp_model.h"

#define SQRT5 2.23606797749978969641
#define CHOL_BLOCK 64
#define JITTER_FIRST 1e-9 /* relative to the signal variance */
#define JITTER_MAX 1e-1
#define ROW_FLOOR 1e-8    /* smallest new pivot^2 of an appended row, relative to sf2 */

/* ---- kernel ------------------------------------------------------------------------ */

static double scaled_r2(const gp_model *m, const double *a, const double *b)
{
    double r2 = 0.0;
    for (int f = 0; f < m->dim; f++) {
        double t = a[f] - b[f];
        r2 += t * t * m->inv_ls2[m->group[f]];
    }
    return r2;
}

static double matern52(double sf2, double r2)
{
    double r = sqrt(r2);
    return sf2 * (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * exp(-SQRT5 * r);
}

double gp_model_kernel(const gp_model *m, const double *a, const double *b)
{
    return matern52(m->sf2, scaled_r2(m, a, b));
}

/* ---- set-up ------------------------------------------------------------------------- */

void gp_default_theta(int n_groups, double *theta)
{
    for (int k = 0; k < n_groups; k++)
        theta[GP_TH_LS + k] = log(0.3 * sqrt((double)n_groups));
    theta[GP_TH_SF2(n_groups)] = 0.0;
    theta[GP_TH_NOISE(n_groups)] = log(1e-3);
    theta[GP_TH_MEAN(n_groups)] = 0.0;
}

void gp_model_set_theta(gp_model *m, const double *theta)
{
    int g = m->n_groups;
    memcpy(m->theta, theta, sizeof(double) * (size_t)GP_N_THETA(g));
    for (int k = 0; k < g; k++)
        m->inv_ls2[k] = exp(-2.0 * theta[GP_TH_LS + k]);
    m->sf2 = exp(theta[GP_TH_SF2(g)]);
    m->noise = GP_NOISE_FLOOR + exp(theta[GP_TH_NOISE(g)]);
    m->factored = 0;
}

int gp_model_init(gp_model *m, int dim, int n_groups, const int *group)
{
    memset(m, 0, sizeof(*m));
    m->dim = dim;
    m->n_groups = n_groups;
    m->group = malloc(sizeof(int) * (size_t)(dim > 0 ? dim : 1));
    m->theta = malloc(sizeof(double) * (size_t)GP_N_THETA(n_groups));
    m->inv_ls2 = malloc(sizeof(double) * (size_t)(n_groups > 0 ? n_groups : 1));
    if (!m->group || !m->theta || !m->inv_ls2) {
        gp_model_free(m);
        return HPS_ENOMEM;
    }
    if (dim > 0)
        memcpy(m->group, group, sizeof(int) * (size_t)dim);
    m->y_sd = 1.0;
    double *th = malloc(sizeof(double) * (size_t)GP_N_THETA(n_groups));
    if (!th) {
        gp_model_free(m);
        return HPS_ENOMEM;
    }
    gp_default_theta(n_groups, th);
    gp_model_set_theta(m, th);
    free(th);
    return HPS_OK;
}

void gp_model_free(gp_model *m)
{
    if (!m)
        return;
    free(m->group);
    free(m->x);
    free(m->y);
    free(m->ys);
    free(m->theta);
    free(m->inv_ls2);
    free(m->L);
    free(m->alpha);
    memset(m, 0, sizeof(*m));
}

/* Make room for at least rows rows, keeping the factor (its leading dimension changes). */
static int reserve(gp_model *m, int rows)
{
    if (rows <= m->cap)
        return HPS_OK;
    int cap = (int)hps_grow_cap((size_t)m->cap, (size_t)rows, 32);
    double *x = realloc(m->x, sizeof(double) * (size_t)cap * (size_t)(m->dim > 0 ? m->dim : 1));
    if (!x)
        return HPS_ENOMEM;
    m->x = x;
    double *y = realloc(m->y, sizeof(double) * (size_t)cap);
    if (!y)
        return HPS_ENOMEM;
    m->y = y;
    double *ys = realloc(m->ys, sizeof(double) * (size_t)cap);
    if (!ys)
        return HPS_ENOMEM;
    m->ys = ys;
    double *alpha = realloc(m->alpha, sizeof(double) * (size_t)cap);
    if (!alpha)
        return HPS_ENOMEM;
    m->alpha = alpha;
    double *L = malloc(sizeof(double) * (size_t)cap * (size_t)cap);
    if (!L)
        return HPS_ENOMEM;
    for (int i = 0; i < m->n_tot; i++)
        memcpy(L + (size_t)i * (size_t)cap, m->L + (size_t)i * (size_t)m->cap,
               sizeof(double) * (size_t)(i + 1));
    free(m->L);
    m->L = L;
    m->cap = cap;
    return HPS_OK;
}

/* ---- Cholesky ---------------------------------------------------------------------------- */

int gp_cholesky(double *A, int n, int lda)
{
    for (int k = 0; k < n; k += CHOL_BLOCK) {
        int b = n - k < CHOL_BLOCK ? n - k : CHOL_BLOCK;
        for (int j = k; j < k + b; j++) {
            double *rj = A + (size_t)j * (size_t)lda;
            double s = rj[j];
            for (int p = k; p < j; p++)
                s -= rj[p] * rj[p];
            if (!(s > 0.0) || !isfinite(s))
                return j + 1;
            double d = sqrt(s);
            rj[j] = d;
            for (int i = j + 1; i < k + b; i++) {
                double *ri = A + (size_t)i * (size_t)lda;
                double t = ri[j];
                for (int p = k; p < j; p++)
                    t -= ri[p] * rj[p];
                ri[j] = t / d;
            }
        }
        int rest = n - k - b;
        if (rest > 0) {
            gsl_matrix_view L11 = gsl_matrix_view_array_with_tda(A + (size_t)k * lda + k, b, b, lda);
            gsl_matrix_view A21 =
                gsl_matrix_view_array_with_tda(A + (size_t)(k + b) * lda + k, rest, b, lda);
            gsl_matrix_view A22 =
                gsl_matrix_view_array_with_tda(A + (size_t)(k + b) * lda + k + b, rest, rest, lda);
            gsl_blas_dtrsm(CblasRight, CblasLower, CblasTrans, CblasNonUnit, 1.0, &L11.matrix,
                           &A21.matrix);
            gsl_blas_dsyrk(CblasLower, CblasNoTrans, -1.0, &A21.matrix, 1.0, &A22.matrix);
        }
    }
    return 0;
}

/* Solve L z = b (trans 0) or L^T z = b (trans 1) in place, L = the first n rows. */
static void tri_solve(const gp_model *m, int n, int trans, double *b)
{
    if (n == 0)
        return;
    gsl_matrix_const_view Lv = gsl_matrix_const_view_array_with_tda(m->L, n, n, m->cap);
    gsl_vector_view bv = gsl_vector_view_array(b, n);
    gsl_blas_dtrsv(CblasLower, trans ? CblasTrans : CblasNoTrans, CblasNonUnit, &Lv.matrix,
                   &bv.vector);
}

/* alpha = ys - mean over the first rows rows, then K^-1 times that once factored. */
static void set_alpha(gp_model *m, int rows)
{
    double c = m->theta[GP_TH_MEAN(m->n_groups)];
    for (int i = 0; i < rows; i++)
        m->alpha[i] = m->ys[i] - c;
    if (!m->factored)
        return;
    tri_solve(m, rows, 0, m->alpha);
    tri_solve(m, rows, 1, m->alpha);
}

void gp_model_update_alpha(gp_model *m)
{
    int n = m->n;
    double mean = 0.0, ss = 0.0;
    double *z = m->ys; /* the outputs the GP sees, standardised in place below */
    if (m->warp) {
        m->warp_lambda = gp_warp(n, m->y, m->warp_choose, z);
    } else {
        m->warp_lambda = 1.0;
        memcpy(z, m->y, sizeof(double) * (size_t)n);
    }
    for (int i = 0; i < n; i++)
        mean += z[i];
    mean = n > 0 ? mean / n : 0.0;
    for (int i = 0; i < n; i++)
        ss += (z[i] - mean) * (z[i] - mean);
    double sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    if (!(sd > 1e-12 * (1.0 + fabs(mean))))
        sd = 1.0;
    m->y_mean = mean;
    m->y_sd = sd;
    for (int i = 0; i < n; i++)
        m->ys[i] = (z[i] - mean) / sd;
    set_alpha(m, n);
    if (m->factored)
        for (int i = n; i < m->n_tot; i++)
            m->alpha[i] = 0.0;
}

int gp_model_factor(gp_model *m)
{
    int n = m->n;
    m->n_tot = n;
    m->factored = 0;
    m->lied = 0;
    double *diag = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!diag)
        return HPS_ENOMEM;
    /* K in both triangles: the factorisation only writes the lower one, so a failed
     * attempt is undone from the strict upper triangle and diag. */
    for (int i = 0; i < n; i++) {
        double *ri = m->L + (size_t)i * m->cap;
        const double *xi = m->x + (size_t)i * m->dim;
        for (int j = 0; j < i; j++) {
            double k = matern52(m->sf2, scaled_r2(m, xi, m->x + (size_t)j * m->dim));
            ri[j] = k;
            m->L[(size_t)j * m->cap + i] = k;
        }
        diag[i] = m->sf2 + m->noise;
    }
    double jitter = 0.0;
    int rc = HPS_EINVAL;
    for (;;) {
        for (int i = 0; i < n; i++)
            m->L[(size_t)i * m->cap + i] = diag[i] + jitter;
        if (gp_cholesky(m->L, n, m->cap) == 0) {
            rc = HPS_OK;
            break;
        }
        jitter = jitter == 0.0 ? JITTER_FIRST * m->sf2 : jitter * 10.0;
        if (jitter > JITTER_MAX * m->sf2)
            break;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                m->L[(size_t)i * m->cap + j] = m->L[(size_t)j * m->cap + i];
    }
    free(diag);
    if (rc != HPS_OK)
        return rc;
    m->jitter = jitter;
    m->factored = 1;
    gp_model_update_alpha(m);
    return HPS_OK;
}

/* Append row r = n_tot of the factor for features x (already stored at row r). */
static void append_row(gp_model *m)
{
    int r = m->n_tot;
    double *row = m->L + (size_t)r * m->cap;
    const double *x = m->x + (size_t)r * m->dim;
    for (int i = 0; i < r; i++)
        row[i] = matern52(m->sf2, scaled_r2(m, m->x + (size_t)i * m->dim, x));
    tri_solve(m, r, 0, row);
    double s = 0.0;
    for (int i = 0; i < r; i++)
        s += row[i] * row[i];
    double d2 = m->sf2 + m->noise + m->jitter - s;
    double floor = ROW_FLOOR * m->sf2 + m->jitter;
    if (!(d2 > floor))
        d2 = floor;
    row[r] = sqrt(d2);
    m->n_tot = r + 1;
}

int gp_model_add(gp_model *m, const double *x, double y)
{
    gp_model_pop_fantasies(m);
    int rc = reserve(m, m->n + 1);
    if (rc != HPS_OK)
        return rc;
    int r = m->n;
    memcpy(m->x + (size_t)r * m->dim, x, sizeof(double) * (size_t)m->dim);
    m->y[r] = y;
    if (m->factored) {
        append_row(m);
    } else {
        m->n_tot = r + 1;
    }
    m->n = r + 1;
    gp_model_update_alpha(m);
    return HPS_OK;
}

int gp_model_reset(gp_model *m, int n, const double *x, const double *y, const int *idx)
{
    m->n = m->n_tot = 0; /* nothing of the old factor is worth copying */
    m->factored = 0;
    m->lied = 0;
    int rc = reserve(m, n);
    if (rc != HPS_OK)
        return rc;
    for (int k = 0; k < n; k++) {
        memcpy(m->x + (size_t)k * m->dim, x + (size_t)idx[k] * m->dim,
               sizeof(double) * (size_t)m->dim);
        m->y[k] = y[idx[k]];
    }
    m->n = m->n_tot = n;
    return HPS_OK;
}

void gp_model_set_y(gp_model *m, int i, double y)
{
    if (i >= 0 && i < m->n)
        m->y[i] = y;
}

int gp_model_push_fantasy(gp_model *m, const double *x, double kappa)
{
    int rc = reserve(m, m->n_tot + 1);
    if (rc != HPS_OK)
        return rc;
    int r = m->n_tot;
    if (!m->factored) {
        memcpy(m->x + (size_t)r * m->dim, x, sizeof(double) * (size_t)m->dim);
        m->n_tot = r + 1;
        return HPS_OK;
    }
    if (!(kappa > 0.0) && !m->lied) {
        /* believed at the mean: every other row's alpha stays as it is, this one's is 0 */
        memcpy(m->x + (size_t)r * m->dim, x, sizeof(double) * (size_t)m->dim);
        append_row(m);
        m->alpha[r] = 0.0;
        return HPS_OK;
    }
    double mu, var;
    double *work = malloc(sizeof(double) * (3 * (size_t)r + 1));
    if (!work)
        return HPS_ENOMEM;
    gp_model_predict_grad(m, x, &mu, &var, NULL, NULL, work);
    free(work);
    memcpy(m->x + (size_t)r * m->dim, x, sizeof(double) * (size_t)m->dim);
    append_row(m);
    m->ys[r] = mu + (kappa > 0.0 ? kappa * sqrt(var) : 0.0);
    set_alpha(m, m->n_tot);
    m->lied = 1;
    return HPS_OK;
}

void gp_model_pop_fantasies(gp_model *m)
{
    m->n_tot = m->n;
    if (m->lied) { /* the real rows' outputs are as they were: re-solve, no restandardising */
        m->lied = 0;
        set_alpha(m, m->n);
    }
}

/* ---- prediction -------------------------------------------------------------------------- */

void gp_model_predict(const gp_model *m, int nc, const double *xc, double *mu, double *var,
                      double *work)
{
    int nt = m->n_tot, n = m->n;
    double c = m->theta[GP_TH_MEAN(m->n_groups)];
    if (nt == 0 || !m->factored) {
        for (int j = 0; j < nc; j++) {
            mu[j] = c;
            var[j] = m->sf2;
        }
        return;
    }
    /* B[i][j] = k(x_i, xc_j), n_tot x nc. */
    for (int i = 0; i < nt; i++) {
        const double *xi = m->x + (size_t)i * m->dim;
        double *bi = work + (size_t)i * nc;
        for (int j = 0; j < nc; j++)
            bi[j] = matern52(m->sf2, scaled_r2(m, xi, xc + (size_t)j * m->dim));
    }
    for (int j = 0; j < nc; j++)
        mu[j] = c;
    if (m->lied)
        n = nt; /* fantasies carry weight in alpha */
    if (n > 0) {
        gsl_matrix_view Bn = gsl_matrix_view_array(work, n, nc);
        gsl_vector_const_view av = gsl_vector_const_view_array(m->alpha, n);
        gsl_vector_view muv = gsl_vector_view_array(mu, nc);
        gsl_blas_dgemv(CblasTrans, 1.0, &Bn.matrix, &av.vector, 1.0, &muv.vector);
    }
    gsl_matrix_const_view Lv = gsl_matrix_const_view_array_with_tda(m->L, nt, nt, m->cap);
    gsl_matrix_view B = gsl_matrix_view_array(work, nt, nc);
    gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, &Lv.matrix, &B.matrix);
    for (int j = 0; j < nc; j++)
        var[j] = m->sf2;
    for (int i = 0; i < nt; i++) {
        const double *bi = work + (size_t)i * nc;
        for (int j = 0; j < nc; j++)
            var[j] -= bi[j] * bi[j];
    }
    for (int j = 0; j < nc; j++)
        if (!(var[j] > 0.0))
            var[j] = 0.0;
}

void gp_model_predict_grad(const gp_model *m, const double *x, double *mu, double *var,
                           double *dmu, double *dvar, double *work)
{
    int nt = m->n_tot, n = m->lied ? m->n_tot : m->n, D = m->dim;
    double c = m->theta[GP_TH_MEAN(m->n_groups)];
    if (dmu)
        for (int f = 0; f < D; f++)
            dmu[f] = dvar[f] = 0.0;
    if (nt == 0 || !m->factored) {
        *mu = c;
        *var = m->sf2;
        return;
    }
    double *k = work, *q = work + nt, *v = work + 2 * (size_t)nt;
    double mean = c;
    for (int i = 0; i < nt; i++) {
        double r2 = scaled_r2(m, m->x + (size_t)i * D, x);
        double r = sqrt(r2), e = exp(-SQRT5 * r);
        k[i] = m->sf2 * (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e;
        /* dk/dx_f = q_i (x_f - x_if) / l_f^2 */
        q[i] = -m->sf2 * (5.0 / 3.0) * (1.0 + SQRT5 * r) * e;
        if (i < n)
            mean += m->alpha[i] * k[i];
    }
    memcpy(v, k, sizeof(double) * (size_t)nt);
    tri_solve(m, nt, 0, v);
    double s = 0.0;
    for (int i = 0; i < nt; i++)
        s += v[i] * v[i];
    double vv = m->sf2 - s;
    *mu = mean;
    *var = vv > 0.0 ? vv : 0.0;
    if (!dmu)
        return;
    tri_solve(m, nt, 1, v); /* v = K^-1 k */
    for (int i = 0; i < nt; i++) {
        const double *xi = m->x + (size_t)i * D;
        double a = (i < n ? m->alpha[i] : 0.0) * q[i];
        double w = -2.0 * v[i] * q[i];
        for (int f = 0; f < D; f++) {
            double t = (x[f] - xi[f]) * m->inv_ls2[m->group[f]];
            dmu[f] += a * t;
            dvar[f] += w * t;
        }
    }
    if (!(vv > 0.0))
        for (int f = 0; f < D; f++)
            dvar[f] = 0.0;
}
