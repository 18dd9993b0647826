/*
 * The Parzen estimators of the `tpe` strategy (see tpe_parzen.h): the univariate
 * truncated-normal mixture with neighbour-gap bandwidths, and the multivariate
 * product-kernel mixture, each with its log density and its sampler.
 *
 * Bandwidths follow Optuna 3.1 (optuna/samplers/_tpe/parzen_estimator.py) on the unit
 * interval: univariate, the larger gap to the sorted neighbours (prior mean 0.5
 * included, the end points using their inner gap); multivariate, 0.2 n^(-1/(d+4)) for
 * every point (Scott's rule with Optuna's constant); both clipped to
 * [1/min(100, n+2), 1]; the prior's is 1. Categoricals in the multivariate kernel:
 * prior_weight/(n+1) on every choice plus 1 on the point's own, normalised.
 */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "tpe_parzen.h"

#define LOG_SQRT_2PI 0.91893853320467274178

static int cmp_pair(const void *a, const void *b)
{
    const tpe_mv_pair *x = a, *y = b;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    return (x->w > y->w) - (x->w < y->w);
}

static double trunc_mass(double mu, double sigma)
{
    double mass = gsl_cdf_ugaussian_P((1.0 - mu) / sigma) - gsl_cdf_ugaussian_P((0.0 - mu) / sigma);
    return mass > 1e-300 ? mass : 1e-300;
}

/* A draw of N(mu, sigma) truncated to [0,1], by the inverse CDF. */
static double trunc_draw(double mu, double sigma, gsl_rng *rng)
{
    double a = gsl_cdf_ugaussian_P((0.0 - mu) / sigma);
    double b = gsl_cdf_ugaussian_P((1.0 - mu) / sigma);
    double q = a + gsl_rng_uniform(rng) * (b - a);
    q = q < 1e-300 ? 1e-300 : q > 1.0 - 1e-16 ? 1.0 - 1e-16 : q;
    double x = mu + sigma * gsl_cdf_ugaussian_Pinv(q);
    return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
}

/* ---- univariate --------------------------------------------------------------------------- */

void tpe_parzen_build(tpe_parzen *p, int k, const double *x, const double *w, double prior_w,
                      int by_bandwidth, double *buf, tpe_mv_pair *sort)
{
    int m = k + 1;
    p->m = m;
    p->mu = buf;
    p->sigma = buf + m;
    p->logw = buf + 2 * (size_t)m;
    double *wt = buf + 3 * (size_t)m;
    for (int i = 0; i < k; i++)
        sort[i] = (tpe_mv_pair){x[i], w[i]};
    sort[k] = (tpe_mv_pair){0.5, -1.0}; /* the prior, marked by a negative weight */
    qsort(sort, (size_t)m, sizeof(tpe_mv_pair), cmp_pair);
    double lo_clip = 1.0 / (m < 100 ? (double)m : 100.0);
    double wsum = 0.0;
    for (int i = 0; i < m; i++) {
        p->mu[i] = sort[i].v;
        int prior = sort[i].w < 0.0;
        double sg;
        if (prior) {
            sg = 1.0;
        } else {
            double left = i > 0 ? sort[i].v - sort[i - 1].v : -1.0;
            double right = i + 1 < m ? sort[i + 1].v - sort[i].v : -1.0;
            sg = left > right ? left : right;
        }
        sg = sg < lo_clip ? lo_clip : sg > 1.0 ? 1.0 : sg;
        p->sigma[i] = sg;
        wt[i] = (prior ? prior_w : sort[i].w) * (by_bandwidth ? sg : 1.0);
        wsum += wt[i];
    }
    for (int i = 0; i < m; i++)
        p->logw[i] = wt[i] > 0.0 ? log(wt[i] / wsum) - log(trunc_mass(p->mu[i], p->sigma[i]))
                                 : -HUGE_VAL;
}

double tpe_parzen_logpdf(const tpe_parzen *p, double x)
{
    double mx = -HUGE_VAL;
    for (int i = 0; i < p->m; i++) {
        double z = (x - p->mu[i]) / p->sigma[i];
        double t = p->logw[i] - 0.5 * z * z - log(p->sigma[i]) - LOG_SQRT_2PI;
        mx = t > mx ? t : mx;
    }
    if (!isfinite(mx))
        return mx;
    double s = 0.0;
    for (int i = 0; i < p->m; i++) {
        double z = (x - p->mu[i]) / p->sigma[i];
        s += exp(p->logw[i] - 0.5 * z * z - log(p->sigma[i]) - LOG_SQRT_2PI - mx);
    }
    return mx + log(s);
}

double tpe_parzen_sample(const tpe_parzen *p, gsl_rng *rng)
{
    /* component by weight (the truncation mass cancels: weights are logw + log mass) */
    double tot = 0.0;
    for (int i = 0; i < p->m; i++)
        tot += isfinite(p->logw[i]) ? exp(p->logw[i]) * trunc_mass(p->mu[i], p->sigma[i]) : 0.0;
    double r = gsl_rng_uniform(rng) * tot, acc = 0.0;
    int c = p->m - 1;
    for (int i = 0; i < p->m; i++) {
        acc += isfinite(p->logw[i]) ? exp(p->logw[i]) * trunc_mass(p->mu[i], p->sigma[i]) : 0.0;
        if (r < acc) {
            c = i;
            break;
        }
    }
    return trunc_draw(p->mu[c], p->sigma[c], rng);
}

int tpe_cap_group(int max, int nb, int *rows, double *w)
{
    if (nb <= max)
        return nb;
    int newest = max / 2, old = nb - newest, keep = max - newest;
    double stride = (double)old / (double)keep;
    for (int j = 0; j < keep; j++) { /* j <= i: in place */
        int i = (int)((double)j * stride);
        rows[j] = rows[i];
        w[j] = w[i] * stride;
    }
    for (int j = 0; j < newest; j++) {
        rows[keep + j] = rows[old + j];
        w[keep + j] = w[old + j];
    }
    return max;
}

/* ---- multivariate ------------------------------------------------------------------------- */

size_t tpe_mv_work(int k, int d)
{
    return (size_t)(k + 1) + (size_t)k * (size_t)d + 2 * (size_t)d + 1;
}

void tpe_mv_build(tpe_mv *p, int k, int d, const long *kind, const double *x, const double *w,
                  double prior_w, double *buf)
{
    int m = k + 1;
    p->m = m;
    p->d = d;
    p->kind = kind;
    p->x = x;
    p->logw = buf;
    p->lmass_pt = buf + m;
    p->lhit = p->lmass_pt + (size_t)k * d;
    p->lmiss = p->lhit + d;
    double n = k > 1 ? (double)k : 1.0;
    double sg = 0.2 * pow(n, -1.0 / ((double)d + 4.0));
    double lo_clip = 1.0 / (k + 2 < 100 ? (double)(k + 2) : 100.0);
    p->sigma = sg < lo_clip ? lo_clip : sg > 1.0 ? 1.0 : sg;
    double wsum = prior_w;
    for (int i = 0; i < k; i++)
        wsum += w[i];
    for (int i = 0; i < k; i++)
        p->logw[i] = w[i] > 0.0 ? log(w[i] / wsum) : -HUGE_VAL;
    p->logw[k] = prior_w > 0.0 ? log(prior_w / wsum) : -HUGE_VAL;
    p->lmass_prior = log(trunc_mass(0.5, 1.0));
    for (int j = 0; j < d; j++) {
        if (kind[j] > 0) {
            double K = (double)kind[j], e = prior_w / (double)(k + 1);
            p->lhit[j] = log((e + 1.0) / (K * e + 1.0));
            p->lmiss[j] = log(e / (K * e + 1.0));
        } else {
            p->lhit[j] = p->lmiss[j] = 0.0;
        }
        for (int i = 0; i < k; i++)
            p->lmass_pt[(size_t)i * d + j] =
                kind[j] > 0 ? 0.0 : log(trunc_mass(x[(size_t)i * d + j], p->sigma));
    }
}

static long choice_of(double u, long K)
{
    long c = (long)floor(u * (double)K);
    return c < 0 ? 0 : c >= K ? K - 1 : c;
}

/* log of component c's kernel at u (without its weight). */
static double component_logpdf(const tpe_mv *p, int c, const double *u)
{
    int d = p->d, prior = c == p->m - 1;
    double t = 0.0;
    for (int j = 0; j < d; j++) {
        long K = p->kind[j];
        if (K > 0) {
            if (prior)
                t -= log((double)K);
            else
                t += choice_of(u[j], K) == choice_of(p->x[(size_t)c * d + j], K) ? p->lhit[j]
                                                                                  : p->lmiss[j];
            continue;
        }
        double mu = prior ? 0.5 : p->x[(size_t)c * d + j];
        double s = prior ? 1.0 : p->sigma;
        double z = (u[j] - mu) / s;
        t += -0.5 * z * z - log(s) - LOG_SQRT_2PI -
             (prior ? p->lmass_prior : p->lmass_pt[(size_t)c * d + j]);
    }
    return t;
}

double tpe_mv_logpdf(const tpe_mv *p, const double *u)
{
    double mx = -HUGE_VAL;
    for (int c = 0; c < p->m; c++) {
        if (!isfinite(p->logw[c]))
            continue;
        double t = p->logw[c] + component_logpdf(p, c, u);
        mx = t > mx ? t : mx;
    }
    if (!isfinite(mx))
        return mx;
    double s = 0.0;
    for (int c = 0; c < p->m; c++)
        if (isfinite(p->logw[c]))
            s += exp(p->logw[c] + component_logpdf(p, c, u) - mx);
    return mx + log(s);
}

void tpe_mv_sample(const tpe_mv *p, gsl_rng *rng, double *u)
{
    double r = gsl_rng_uniform(rng), acc = 0.0;
    int c = p->m - 1;
    for (int i = 0; i < p->m; i++) {
        acc += isfinite(p->logw[i]) ? exp(p->logw[i]) : 0.0;
        if (r < acc) {
            c = i;
            break;
        }
    }
    int prior = c == p->m - 1;
    for (int j = 0; j < p->d; j++) {
        long K = p->kind[j];
        if (K > 0) {
            long k;
            if (prior) {
                k = (long)gsl_rng_uniform_int(rng, (unsigned long)K);
            } else {
                /* own choice with probability hit, else one of the others uniformly */
                long own = choice_of(p->x[(size_t)c * p->d + j], K);
                double hit = exp(p->lhit[j]);
                if (gsl_rng_uniform(rng) < hit) {
                    k = own;
                } else {
                    k = (long)gsl_rng_uniform_int(rng, (unsigned long)(K - 1));
                    k += k >= own;
                }
            }
            u[j] = ((double)k + 0.5) / (double)K;
            continue;
        }
        u[j] = prior ? trunc_draw(0.5, 1.0, rng)
                     : trunc_draw(p->x[(size_t)c * p->d + j], p->sigma, rng);
    }
}
