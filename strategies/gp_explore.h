/*
 * Private to strategies/: which of the `gp` strategy's suggestions explore outside the
 * basin the search has settled in while trials are pending (the explore share), and
 * the model exploring suggestions are scored on (gp_explore.c). The share's state
 * follows the observations alone (gp_explore_observe), and a suggestion's choice
 * depends on that state and its trial id, so the same observations and pending trials
 * give the same next suggestion, as everywhere else in the strategy.
 */
#ifndef HPS_GP_EXPLORE_H
#define HPS_GP_EXPLORE_H

#include <stdint.h>

#include "gp_model.h"

typedef struct gp_explore {
    double share;       /* the explore_share option: the fraction that explores */
    int open;           /* the best point outside the incumbent's ball beats the median */
    int seen;           /* open has been true once */
    int n_stall;        /* observations since the outside best last improved */
    double outside_ref; /* the outside best when it last improved */
    double *scratch;    /* [cap] */
    int cap;
} gp_explore;

void gp_explore_free(gp_explore *e); /* NULL-safe; keeps share */

/* Radius (Euclidean, features) of the ball around the incumbent that an exploring
 * suggestion avoids, for d parameters. */
double gp_explore_radius(int d);

/* Update e after an observation: m's real rows, whose incumbent is row best_row.
 * HPS_OK or HPS_ENOMEM. */
int gp_explore_observe(gp_explore *e, const gp_model *m, int best_row);

/* Whether the suggestion for trial_id explores. */
int gp_explore_decide(const gp_explore *e, int64_t trial_id);

/* A model of m's observations farther than r from xb, fitted afresh into t (which the
 * caller frees, also on failure): the landscape outside the settled basin, with its
 * own incumbent. HPS_EINVAL when fewer than two observations are outside. */
int gp_explore_model(const gp_model *m, const double *xb, double r, int max_points,
                     uint64_t seed, gp_model *t);

#endif
