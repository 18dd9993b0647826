/*
 * Private to strategies/: the Parzen estimators of the `tpe` strategy (tpe.c), on
 * unit coordinates. Two kinds:
 *
 *   tpe_parzen  one numeric parameter: a mixture of normals truncated to [0,1], one
 *               per observation (bandwidth from the gaps to its sorted neighbours)
 *               plus a prior component N(0.5, 1): the univariate TPE of Bergstra et
 *               al. and Optuna's default.
 *   tpe_mv      every parameter at once: one product kernel per observation (a
 *               truncated normal per numeric parameter, all of one bandwidth that
 *               shrinks as n^(-1/(d+4)), and a smoothed one-hot distribution per
 *               categorical one) plus a uniform-ish prior kernel: the multivariate
 *               TPE of Falkner et al. (BOHB) as Optuna's multivariate=True builds it.
 *               Its draws keep the parameters of one observation together, which is
 *               what lets it follow a valley that is not aligned with the axes.
 *
 * Both draw candidates from the good density and score them by log l(x) - log g(x)
 * in tpe.c. Everything is deterministic given the generator.
 */
#ifndef HPS_TPE_PARZEN_H
#define HPS_TPE_PARZEN_H

#include <gsl/gsl_rng.h>

/* A value and its weight, for sorting (tpe_parzen_build's scratch). */
typedef struct tpe_mv_pair {
    double v;
    double w;
} tpe_mv_pair;

typedef struct tpe_parzen {
    int m;                      /* components (points + prior) */
    double *mu, *sigma, *logw;  /* log weight minus log truncation mass */
} tpe_parzen;

/* Build from values x[k] with weights w[k] plus the prior of weight prior_w; with
 * by_bandwidth, each component's weight is also multiplied by its bandwidth (the prior's
 * is 1). buf: 4*(k+1) doubles, sort: k+1 entries (the estimator points into buf). */
void tpe_parzen_build(tpe_parzen *p, int k, const double *x, const double *w, double prior_w,
                      int by_bandwidth, double *buf, tpe_mv_pair *sort);
double tpe_parzen_logpdf(const tpe_parzen *p, double x);
double tpe_parzen_sample(const tpe_parzen *p, gsl_rng *rng);

/* The multivariate estimator over d parameters: kind[i] is 0 for a numeric parameter
 * and K >= 2 for a categorical one with K choices (a point's coordinate then selects
 * choice floor(u K)). */
typedef struct tpe_mv {
    int m, d;                /* components (k points + prior), parameters */
    const long *kind;        /* [d] */
    const double *x;         /* [k][d] the points (not owned) */
    double sigma;            /* bandwidth of every point's numeric kernels */
    double *logw;            /* [m] log normalised weight */
    double *lmass_pt;        /* [k][d] log truncation mass of each point's numeric kernels */
    double lmass_prior;      /* log truncation mass of N(0.5, 1) on [0,1] */
    double *lhit, *lmiss;    /* [d] categorical: log probability a point gives its own
                              * choice / any other one */
} tpe_mv;

/* Doubles tpe_mv_build needs in buf for k points in d dimensions. */
size_t tpe_mv_work(int k, int d);

/* Build from the k points x[k][d] (kept by reference) with weights w[k] plus the prior
 * of weight prior_w. */
void tpe_mv_build(tpe_mv *p, int k, int d, const long *kind, const double *x, const double *w,
                  double prior_w, double *buf);

/* log density at u[d]. */
double tpe_mv_logpdf(const tpe_mv *p, const double *u);

/* One draw into u[d] (categorical coordinates at their choice's centre). */
void tpe_mv_sample(const tpe_mv *p, gsl_rng *rng, double *u);

/* The bad group past max entries (max_bad_points): rows[nb] in trial order with their
 * weights w[nb]. Keeps the newest max/2 entries as they are and an even stride through
 * the older ones, each kept one weighing as much as the entries it stands for, so the
 * density keeps its shape and its mass against the prior's. Compacts rows and w in
 * place; returns the new count, min(nb, max). */
int tpe_cap_group(int max, int nb, int *rows, double *w);

/* For tests: the bad group's size at a `tpe` state's last model-based suggestion
 * (tpe.c). */
int tpe_state_bad_size(const void *tpe_state);

#endif
