/*
 * Private to strategies/: the `gp` strategy's view of the search space (the
 * feature encoding of unit points, the quasi-random initial design), its table of
 * pending trials, and the acquisition optimiser that turns a fitted model into the
 * next unit point (gp_optimize.c).
 */
#ifndef HPS_GP_SPACE_H
#define HPS_GP_SPACE_H

#include <stdint.h>

#include <gsl/gsl_qrng.h>

#include "hpsweep/space.h"
#include "gp_acq.h"
#include "gp_model.h"

typedef enum gp_pkind {
    GP_P_FLOAT = 0, /* one free feature: the unit coordinate */
    GP_P_INT = 1,   /* one feature at its slice centre; relaxed while refining */
    GP_P_BOOL = 2,  /* one feature at its slice centre (0.25 or 0.75) */
    GP_P_CAT = 3    /* a one-hot block of card features */
} gp_pkind;

typedef struct gp_space {
    const hps_space *space;
    int d;              /* parameters */
    int n_feat;         /* features */
    int *feat;          /* [d] first feature of each parameter */
    gp_pkind *kind;     /* [d] */
    long *card;         /* [d] values of a discrete parameter (0 for floats) */
    int *group;         /* [n_feat] parameter of each feature */
    double *vals, *tmp; /* [d] scratch */
    /* initial design: point k of a shifted Sobol/Halton sequence (uniform above) */
    const gsl_qrng_type *qtype;
    gsl_qrng *qrng;
    uint64_t q_next;    /* index of the point the generator returns next */
    double *shift, *q;  /* [d] */
    uint64_t seed;
} gp_space;

/* HPS_OK, HPS_ENOMEM. */
int gp_space_init(gp_space *sp, const hps_space *space, uint64_t seed);
void gp_space_free(gp_space *sp);

/* Snap u[d] to valid values (slice centres for discrete parameters) into out[d]. */
void gp_space_snap(gp_space *sp, const double *u, double *out);

/* Features x[n_feat] of the (snapped) unit point u[d]. */
void gp_space_features(gp_space *sp, const double *u, double *x);

/* The valid unit point of features x (ints snapped, categoricals by largest feature). */
void gp_space_unfeature(gp_space *sp, const double *x, double *u);

/* Point k of the initial design, snapped, into u[d]. HPS_OK or HPS_ENOMEM. */
int gp_space_initial_point(gp_space *sp, uint64_t k, double *u);

/* ---- pending trials --------------------------------------------------------------- */

typedef struct gp_pending {
    int n, cap, d;
    int64_t *id;
    double *u;          /* [cap][d] */
} gp_pending;

/* Add (or replace) trial id at u[d]. HPS_OK or HPS_ENOMEM. */
int gp_pending_add(gp_pending *p, int64_t id, const double *u, int d);
/* Remove trial id if pending (order of the rest kept). */
void gp_pending_remove(gp_pending *p, int64_t id);
void gp_pending_free(gp_pending *p);

/* ---- acquisition optimisation -------------------------------------------------------- */

#define GP_REFINE_ITERS 20 /* projected-gradient steps per refined candidate by default */

typedef struct gp_optimize_opts {
    gp_acq_kind acq;
    double beta;
    double xi;          /* EI: improvement sought beyond the best (standardised units) */
    double kappa;       /* pending trials believed at mean + kappa sd (gp_model_push_fantasy) */
    int n_candidates;
    int n_refine;
    int refine_iters;   /* projected-gradient steps per refined candidate (0: GP_REFINE_ITERS) */
    uint64_t seed;
    const double *tabu_u; /* NULL, or a unit point whose ball of radius tabu_r is avoided */
    double tabu_r;
    int max_fantasies;  /* > 0: only the newest this many pending trials become fantasies
                           (all of them are still kept at a distance) */
} gp_optimize_opts;

/* The next point u[d] for a factored model with at least one observation, given the
 * pending trials (pushed as fantasies for the duration of the call). HPS_OK or
 * HPS_ENOMEM. */
int gp_optimize(gp_space *sp, gp_model *m, const gp_pending *pend, const gp_optimize_opts *o,
                double *u);

/* A 32-bit GSL seed from a 64-bit one. */
static inline unsigned long gp_gsl_seed(uint64_t seed)
{
    uint64_t z = hps_mix64(seed + 0x9E3779B97F4A7C15ULL);
    return (unsigned long)((z ^ (z >> 32)) & 0xFFFFFFFFULL);
}

#endif
