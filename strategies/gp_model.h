/*
 * Private to strategies/: the Gaussian-process model behind the `gp` strategy.
 *
 * A GP on feature vectors (the strategy's encoding of a unit point:
 * one feature per numeric parameter, a one-hot block per categorical), with a
 * Matern-5/2 ARD kernel whose length scales are shared within a parameter's features
 * (one per parameter), a signal variance, a Gaussian noise variance and a constant
 * mean. Outputs are standardised (mean 0, sd 1) before they reach the GP.
 *
 * The hyper-parameters live in a vector theta (see GP_TH_*): log length scales,
 * log signal variance, log noise variance (above a fixed floor) and the mean.
 * gp_model_fit() maximises the log marginal likelihood plus log priors with GSL's
 * vector_bfgs2 from several starts, with analytic gradients.
 *
 * The Cholesky factor of K + noise*I is kept up to date incrementally: adding an
 * observation appends one row in O(n^2); a refit refactorises in O(n^3) with a
 * blocked, BLAS-3 factorisation that escalates a diagonal jitter instead of failing.
 * "Fantasies" (pending points) are appended the same way and popped after a
 * suggestion. A fantasy is believed to score its posterior mean plus kappa posterior
 * standard deviations, predicted when it is pushed: kappa = 0 is the kriging
 * believer, which leaves the posterior mean unchanged (the fantasy's weight in alpha
 * is exactly 0) and only shrinks the variance around it; kappa > 0 also raises the
 * mean around it (alpha is then re-solved over all rows, O(n^2) per fantasy), which
 * spreads a batch further where the model is unsure and hardly at all where it is
 * sure.
 *
 * With warp set, the GP sees Box-Cox-warped outputs (gp_warp() below) before they
 * are standardised; ys, y_mean, y_sd and every prediction are then in warped units.
 *
 * Everything here is deterministic: no clocks, no global state.
 */
#ifndef HPS_GP_MODEL_H
#define HPS_GP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/grow.h"
#include "core/seed.h"

/* Layout of theta for a model with n_groups length scales. */
#define GP_TH_LS 0                          /* [0, g): log length scale per group */
#define GP_TH_SF2(g) (g)                    /* log signal variance */
#define GP_TH_NOISE(g) ((g) + 1)            /* log(noise variance - GP_NOISE_FLOOR) */
#define GP_TH_MEAN(g) ((g) + 2)             /* constant mean (standardised units) */
#define GP_N_THETA(g) ((g) + 3)

#define GP_NOISE_FLOOR 1e-6                 /* standardised units */

typedef struct gp_model {
    int dim;            /* feature dimension D */
    int n_groups;       /* number of length scales g */
    int *group;         /* [D] feature -> length-scale group */

    int n;              /* real observations (rows 0..n-1) */
    int n_tot;          /* n plus fantasies currently pushed */
    int cap;            /* row capacity of x, L, y, alpha */
    double *x;          /* [cap][D] features, row-major */
    double *y;          /* [cap] raw outputs (real rows only) */
    double *ys;         /* [cap] standardised (warped) outputs; fantasies' beliefs */
    double y_mean, y_sd;  /* of the (warped) outputs */
    int warp;           /* warp the outputs (gp_warp) before standardising them */
    int warp_choose;    /* choose the warp from the first this many rows (0: all) */
    double warp_lambda; /* the warp in use (1: none) */

    double *theta;      /* [GP_N_THETA(g)] current hyper-parameters */
    double *inv_ls2;    /* [g] 1/l^2, cached from theta */
    double sf2, noise;  /* cached from theta */
    double jitter;      /* extra diagonal from the last full factorisation */

    double *L;          /* [cap][cap] lower Cholesky factor of K + (noise+jitter) I, ld = cap */
    double *alpha;      /* [cap] K^-1 (ys - mean): real rows, fantasies 0 unless lied */
    int factored;       /* L, alpha valid for rows 0..n_tot-1 */
    int lied;           /* a fantasy's belief differs from the mean: alpha covers n_tot rows */
} gp_model;

/* Options of one hyper-parameter fit. */
typedef struct gp_fit_opts {
    int n_starts;       /* BFGS starts besides the warm start (>= 0) */
    int n_screen;       /* random prior draws screened for the starts */
    int max_iter;       /* BFGS iterations per start */
    int max_points;     /* fit on at most this many observations (0: all) */
    uint64_t seed;      /* draws of the starting points */
} gp_fit_opts;

/* Set up an empty model with dim features in n_groups groups (group[] is copied).
 * HPS_OK or HPS_ENOMEM. */
int gp_model_init(gp_model *m, int dim, int n_groups, const int *group);
void gp_model_free(gp_model *m);     /* NULL-safe; zeroes m */

/* Default hyper-parameters for a fresh model (written to theta[GP_N_THETA(g)]). */
void gp_default_theta(int n_groups, double *theta);

/* Replace the hyper-parameters (no refactorisation: call gp_model_factor()). */
void gp_model_set_theta(gp_model *m, const double *theta);

/* Append an observation (features x[D], raw output y). Pops fantasies first. When the
 * model is factored the factor is extended in O(n^2) and alpha recomputed.
 * HPS_OK or HPS_ENOMEM. */
int gp_model_add(gp_model *m, const double *x, double y);

/* Replace the real rows by rows idx[0..n-1] of x[][D] and y[] (the bounded model's
 * subset, gp_archive.h); fantasies dropped, hyper-parameters kept, the model left
 * unfactored: call gp_model_factor() or gp_model_fit(). HPS_OK or HPS_ENOMEM. */
int gp_model_reset(gp_model *m, int n, const double *x, const double *y, const int *idx);

/* Change the raw output of row i (used for the imputed values of failed trials);
 * call gp_model_update_alpha() afterwards. */
void gp_model_set_y(gp_model *m, int i, double y);

/* Restandardise the outputs and recompute alpha from the current factor: O(n^2). */
void gp_model_update_alpha(gp_model *m);

/* Full factorisation of the real rows with jitter escalation, then alpha. Pops
 * fantasies. HPS_OK, HPS_ENOMEM, or HPS_EINVAL when even the largest jitter fails
 * (only with non-finite inputs). */
int gp_model_factor(gp_model *m);

/* Fit the hyper-parameters (warm-started from the current ones), then factor. */
int gp_model_fit(gp_model *m, const gp_fit_opts *opts);

/* Push a fantasy at x[D] believed at mean + kappa * sd (kappa >= 0; 0: kriging
 * believer) / drop every fantasy. HPS_OK, HPS_ENOMEM. */
int gp_model_push_fantasy(gp_model *m, const double *x, double kappa);
void gp_model_pop_fantasies(gp_model *m);

/* The warped outputs z[n] of y[n]: Box-Cox of y - min(y) + 2 (median(y) - min(y))
 * with lambda in {1, 0.75, 0.5, 0.25, 0} chosen by profile likelihood over the first
 * n_choose outputs (0: all). Returns lambda; at 1, z = y. See gp_warp.c. */
double gp_warp(int n, const double *y, int n_choose, double *z);

/* Posterior (standardised units) of the latent function at nc points xc[nc][D]:
 * mean mu[nc], variance var[nc] (>= 0). work must hold n_tot*nc doubles. */
void gp_model_predict(const gp_model *m, int nc, const double *xc, double *mu, double *var,
                      double *work);

/* Posterior at one point with gradients with respect to the features (dmu, dvar may be
 * NULL together). work must hold 3*n_tot doubles. */
void gp_model_predict_grad(const gp_model *m, const double *x, double *mu, double *var,
                           double *dmu, double *dvar, double *work);

/* Negative log posterior of theta (negative log marginal likelihood of the n rows
 * xs[n][D] with standardised outputs ys[n], minus the log priors) and its gradient
 * (grad may be NULL). Returns HUGE_VAL when the matrix cannot be factored. work: see
 * gp_nlp_work_size(). Exposed for tests. */
double gp_nlp(int dim, int n_groups, const int *group, int n, const double *xs, const double *ys,
              const double *theta, double *grad, double *work);
size_t gp_nlp_work_size(int n, int n_groups);

/* Matern-5/2 kernel between two feature vectors under the model's current theta. */
double gp_model_kernel(const gp_model *m, const double *a, const double *b);

/* Blocked lower Cholesky of the n x n matrix A (leading dimension lda) in place,
 * BLAS-3. Returns 0, or the 1-based index of the first non-positive pivot. */
int gp_cholesky(double *A, int n, int lda);


#endif
