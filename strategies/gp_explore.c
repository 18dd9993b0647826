/*
 * Exploring outside the settled basin, for the `gp` strategy (see gp_explore.h).
 *
 * A GP fitted to data that crowd one basin learns that basin's length scales (long
 * along its flat directions) and a constant mean far above the data, so its expected
 * improvement anywhere else is nil, and with several workers every pending trial
 * lands in the same basin. A share of the suggestions therefore searches outside the
 * ball of radius 0.4 sqrt(d) around the incumbent, scored on a model refitted to the
 * observations outside that ball only (a restart that keeps what is known outside).
 *
 * When. A suggestion may explore while the best observation outside the ball beats
 * the median observation: there is another region worth a look. On a bowl with
 * ripples (Levy) everything outside the incumbent's ball is worse than the median
 * and no suggestion explores; on Hartmann6 the other basins keep it open. Among the
 * trial ids, explore_share of them explore (every second one at the default 0.5),
 * evenly spread, so with k workers about k/2 of the pending trials explore at any
 * time; ids rather than a count of suggestions keep the choice a function of the
 * observations, the pending trials and the id. For every STALL_N observations in a
 * row that have not improved the outside best by STALL_EPS of the gap between the
 * median and the incumbent, the share is multiplied by STALL_FACTOR: the outside
 * region has been searched down to a basin that is worse than the incumbent's, and
 * refining it further would cost the incumbent's precision; a new outside best
 * restores the full share. (gp.c uses this rule while trials are pending; a serial
 * search keeps its stagnation rule.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "gp_explore.h"
#include "strategies.h"

#define RADIUS 0.4
#define STALL_N 10
#define STALL_EPS 0.01
#define STALL_FACTOR 0.4

void gp_explore_free(gp_explore *e)
{
    if (!e)
        return;
    free(e->scratch);
    double share = e->share;
    memset(e, 0, sizeof *e);
    e->share = share;
}

double gp_explore_radius(int d)
{
    return RADIUS * sqrt((double)d);
}

static double dist2(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int f = 0; f < n; f++)
        s += (a[f] - b[f]) * (a[f] - b[f]);
    return s;
}

int gp_explore_observe(gp_explore *e, const gp_model *m, int best_row)
{
    int n = m->n;
    e->open = 0;
    if (!(e->share > 0.0) || n < 3)
        return HPS_OK;
    if (e->cap < n) {
        int cap = 2 * e->cap > n ? 2 * e->cap : n;
        double *p = realloc(e->scratch, sizeof(double) * (size_t)cap);
        if (!p)
            return HPS_ENOMEM;
        e->scratch = p;
        e->cap = cap;
    }
    const double *xb = m->x + (size_t)best_row * m->dim;
    double r = gp_explore_radius(m->n_groups), best = m->y[best_row], outside = HUGE_VAL;
    for (int i = 0; i < n; i++)
        if (dist2(m->x + (size_t)i * m->dim, xb, m->dim) >= r * r && m->y[i] < outside)
            outside = m->y[i];
    memcpy(e->scratch, m->y, sizeof(double) * (size_t)n);
    qsort(e->scratch, (size_t)n, sizeof(double), hps_cmp_double);
    double gap = e->scratch[n / 2] - best;
    if (!(gap > 0.0) || !(outside - best < gap))
        return HPS_OK;
    e->open = 1;
    if (!e->seen || outside < e->outside_ref - STALL_EPS * gap) {
        e->seen = 1;
        e->outside_ref = outside;
        e->n_stall = 0;
    } else {
        if (outside > e->outside_ref)
            e->outside_ref = outside; /* the ball moved: a new outside region */
        e->n_stall++;
    }
    return HPS_OK;
}

int gp_explore_decide(const gp_explore *e, int64_t trial_id)
{
    if (!e->open || trial_id < 0)
        return 0;
    double f = e->share;
    for (int k = e->n_stall / STALL_N; k > 0 && f > 1e-3; k--)
        f *= STALL_FACTOR;
    /* trial ids t with floor((t + 1) f) > floor(t f): a share f of the ids, evenly spread */
    return floor((double)(trial_id + 1) * f + 1e-9) > floor((double)trial_id * f + 1e-9);
}

int gp_explore_model(const gp_model *m, const double *xb, double r, int max_points,
                     uint64_t seed, gp_model *t)
{
    int rc = gp_model_init(t, m->dim, m->n_groups, m->group);
    t->warp = m->warp;
    t->warp_choose = m->warp_choose;
    for (int i = 0; i < m->n && rc == HPS_OK; i++) {
        const double *xi = m->x + (size_t)i * m->dim;
        if (dist2(xi, xb, m->dim) >= r * r)
            rc = gp_model_add(t, xi, m->y[i]);
    }
    if (rc != HPS_OK)
        return rc;
    if (t->n < 2)
        return HPS_EINVAL;
    gp_fit_opts fo = {.n_starts = 2, .n_screen = 8, .max_iter = 100, .max_points = max_points,
                      .seed = seed};
    return gp_model_fit(t, &fo);
}
