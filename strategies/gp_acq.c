/*
 * Acquisition functions for the `gp` strategy (see gp_acq.h).
 *
 * log-EI. With z = (best - mu)/sigma, EI = sigma h(z), h(z) = phi(z) + z Phi(z).
 * Written directly, h underflows to 0 for z below about -38 and loses all relative
 * precision well before, which flattens the acquisition (and its gradient) exactly
 * where a well-fitted model sends it. So log h is evaluated in three regimes:
 *   z > -1          log(phi(z) + z Phi(z)) directly (no cancellation);
 *   -30 <= z <= -1  with t = -z: log phi(t) + log1p(-t / hazard(t)), where
 *                   hazard(t) = phi(t)/Q(t) is GSL's inverse Mills ratio, so
 *                   h(z) = phi(t) (1 - t Q(t)/phi(t));
 *   z < -30         log phi(t) + log(1/t^2 - 3/t^4 + 15/t^6 - 105/t^8 + 945/t^10),
 *                   the asymptotic series of 1 - t Q(t)/phi(t).
 * Its derivative d log h/dz = Phi(z)/h(z) is computed as exp(log Phi(z) - log h(z))
 * with log Phi from gsl_sf_log_erfc, so it too stays finite (it tends to -z).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_erf.h>

#include "hpsweep/error.h"
#include "gp_acq.h"

#define LOG_SQRT_2PI 0.91893853320467274178
#define SQRT1_2 0.70710678118654752440
#define VAR_FLOOR 1e-20
#define SCORE_CHUNK 256

static double log_phi(double z)
{
    return -0.5 * z * z - LOG_SQRT_2PI;
}

double gp_log_h(double z)
{
    if (z > -1.0) {
        double phi = exp(log_phi(z)), Phi = 0.5 * gsl_sf_erfc(-z * SQRT1_2);
        return log(phi + z * Phi);
    }
    double t = -z;
    if (t <= 30.0)
        return log_phi(t) + log1p(-t / gsl_sf_hazard(t));
    double u = 1.0 / (t * t);
    return log_phi(t) + log(u * (1.0 + u * (-3.0 + u * (15.0 + u * (-105.0 + u * 945.0)))));
}

double gp_dlog_h(double z)
{
    double log_Phi = gsl_sf_log_erfc(-z * SQRT1_2) - 0.69314718055994530942;
    return exp(log_Phi - gp_log_h(z));
}

double gp_acq_value(const gp_acq *a, double mu, double var, double *dmu, double *dvar)
{
    double v = var > VAR_FLOOR ? var : VAR_FLOOR;
    double s = sqrt(v);
    double value, d_mu, d_s;
    if (a->kind == GP_ACQ_UCB) {
        double sb = sqrt(a->beta);
        value = -mu + sb * s;
        d_mu = -1.0, d_s = sb;
    } else {
        double z = (a->best - mu) / s;
        value = log(s) + gp_log_h(z);
        if (dmu) {
            double dl = gp_dlog_h(z);
            d_mu = -dl / s;
            d_s = (1.0 - z * dl) / s;
        } else {
            d_mu = d_s = 0.0;
        }
    }
    if (dmu) {
        *dmu = d_mu;
        *dvar = var > VAR_FLOOR ? d_s / (2.0 * s) : 0.0;
    }
    return value;
}

int gp_acq_score(const gp_model *m, const gp_acq *a, int nc, const double *xc, double *score)
{
    int chunk = nc < SCORE_CHUNK ? nc : SCORE_CHUNK;
    if (chunk <= 0)
        return HPS_OK;
    size_t nt = (size_t)(m->n_tot > 0 ? m->n_tot : 1);
    double *work = malloc(sizeof(double) * (nt * (size_t)chunk + 2 * (size_t)chunk));
    if (!work)
        return HPS_ENOMEM;
    double *mu = work + nt * (size_t)chunk, *var = mu + chunk;
    for (int j0 = 0; j0 < nc; j0 += chunk) {
        int b = nc - j0 < chunk ? nc - j0 : chunk;
        gp_model_predict(m, b, xc + (size_t)j0 * m->dim, mu, var, work);
        for (int j = 0; j < b; j++)
            score[j0 + j] = gp_acq_value(a, mu[j], var[j], NULL, NULL);
    }
    free(work);
    return HPS_OK;
}

double gp_acq_eval(const gp_model *m, const gp_acq *a, const double *x, double *grad, double *work)
{
    int D = m->dim;
    double *dmu = work + 3 * (size_t)m->n_tot, *dvar = dmu + D;
    double mu, var;
    gp_model_predict_grad(m, x, &mu, &var, grad ? dmu : NULL, grad ? dvar : NULL, work);
    double am, av;
    double value = gp_acq_value(a, mu, var, grad ? &am : NULL, grad ? &av : NULL);
    if (grad)
        for (int f = 0; f < D; f++)
            grad[f] = am * dmu[f] + av * dvar[f];
    return value;
}

/* Spectral projected gradient (Barzilai-Borwein steps, monotone Armijo
 * backtracking) ascent on the free features, box [0,1]. */
double gp_acq_refine(const gp_model *m, const gp_acq *a, double *x, int n_free, const int *free_f,
                     int max_iter)
{
    int D = m->dim;
    size_t wn = 3 * (size_t)m->n_tot + 2 * (size_t)D;
    double *buf = malloc(sizeof(double) * (wn + 4 * (size_t)D + 1));
    if (!buf)
        return -HUGE_VAL;
    double *work = buf, *g = buf + wn, *gn = g + D, *xn = gn + D, *d = xn + D;
    double f = gp_acq_eval(m, a, x, g, work);
    double step = 0.0;
    for (int k = 0; k < n_free; k++)
        step = fmax(step, fabs(g[free_f[k]]));
    step = step > 0.0 ? 0.05 / step : 1.0;
    for (int it = 0; it < max_iter && isfinite(f); it++) {
        double slope = 0.0, dmax = 0.0;
        for (int k = 0; k < n_free; k++) {
            int i = free_f[k];
            double t = x[i] + step * g[i];
            t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
            d[i] = t - x[i];
            slope += g[i] * d[i];
            dmax = fmax(dmax, fabs(d[i]));
        }
        if (dmax < 1e-9 || slope <= 0.0)
            break;
        double lam = 1.0, fn = -HUGE_VAL;
        memcpy(xn, x, sizeof(double) * (size_t)D);
        for (int ls = 0; ls < 20; ls++) {
            for (int k = 0; k < n_free; k++)
                xn[free_f[k]] = x[free_f[k]] + lam * d[free_f[k]];
            fn = gp_acq_eval(m, a, xn, gn, work);
            if (fn >= f + 1e-4 * lam * slope)
                break;
            lam *= 0.5;
        }
        if (!(fn >= f + 1e-4 * lam * slope))
            break;
        double ss = 0.0, sy = 0.0;
        for (int k = 0; k < n_free; k++) {
            int i = free_f[k];
            double s = xn[i] - x[i], y = gn[i] - g[i];
            ss += s * s;
            sy += s * y;
        }
        memcpy(x, xn, sizeof(double) * (size_t)D);
        memcpy(g, gn, sizeof(double) * (size_t)D);
        double gain = fn - f;
        f = fn;
        /* ascent: curvature is negative along s, so -sy > 0 */
        step = sy < 0.0 ? ss / -sy : step * 4.0;
        step = step < 1e-8 ? 1e-8 : step > 1e3 ? 1e3 : step;
        if (gain < 1e-10 * (1.0 + fabs(f)))
            break;
    }
    free(buf);
    return f;
}
