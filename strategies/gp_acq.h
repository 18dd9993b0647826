/*
 * Private to strategies/: acquisition functions of the `gp` strategy over a
 * gp_model (gp_model.h), in standardised output units, for minimisation.
 *
 *   log-EI  log E[max(best - f(x), 0)], computed without underflow far from the
 *           incumbent (the asymptotic branches of Ament et al., "Unexpected
 *           improvements to expected improvement for Bayesian optimization", 2023)
 *   UCB     -(mu - sqrt(beta) sigma): the lower confidence bound, negated
 *
 * Both are maximised. gp_acq_refine() improves a point with a projected
 * (spectral) gradient method inside [0,1] on a chosen set of features.
 */
#ifndef HPS_GP_ACQ_H
#define HPS_GP_ACQ_H

#include "gp_model.h"

typedef enum gp_acq_kind { GP_ACQ_EI = 0, GP_ACQ_UCB = 1 } gp_acq_kind;

typedef struct gp_acq {
    gp_acq_kind kind;
    double best;   /* incumbent (standardised units), EI only */
    double beta;   /* UCB only */
} gp_acq;

/* log h(z), h(z) = phi(z) + z Phi(z): finite for every finite z. */
double gp_log_h(double z);

/* d log h / dz = Phi(z) / h(z). */
double gp_dlog_h(double z);

/* Value of the acquisition for posterior mean mu, variance var; with the partial
 * derivatives with respect to mu and var when dmu/dvar are non-NULL. */
double gp_acq_value(const gp_acq *a, double mu, double var, double *dmu, double *dvar);

/* Score nc feature points xc[nc][D] into score[nc]. HPS_OK or HPS_ENOMEM. */
int gp_acq_score(const gp_model *m, const gp_acq *a, int nc, const double *xc, double *score);

/* Acquisition and its gradient with respect to the features at x[D] (grad may be
 * NULL). work: 3*n_tot + 2*D doubles. */
double gp_acq_eval(const gp_model *m, const gp_acq *a, const double *x, double *grad, double *work);

/* Improve x[D] in place by at most max_iter projected-gradient steps on the n_free
 * features free[] (kept in [0,1]); other features stay fixed. Returns the final
 * acquisition value. HPS_ENOMEM is reported as -HUGE_VAL with x unchanged. */
double gp_acq_refine(const gp_model *m, const gp_acq *a, double *x, int n_free, const int *free,
                     int max_iter);

#endif
