/*
 * The `grid` strategy: every point of a Cartesian product, once, in a fixed order
 * (the last parameter varies fastest), then HPS_EDONE forever.
 *
 * Each parameter contributes a list of unit coordinates:
 *   float        `points` evenly spaced values, ends included: u = k/(n-1), which
 *                the space decodes to exactly low and high (and to geometric
 *                spacing when log); n == 1 gives the middle, u = 0.5.
 *   int          every integer when there are at most `points` of them, else
 *                `points` evenly spaced integers (in log space when log), rounded,
 *                duplicates dropped; each is encoded by the space to its slice
 *                centre so that decoding gives the integer back.
 *   categorical  every choice, at its slice centre u = (k+0.5)/K; bool likewise.
 * A parameter's own grid_points (> 0) overrides the `points` option for it.
 *
 * The product is never materialised: the n-th suggestion is n written in the
 * mixed radix of the per-parameter counts. Products above 2^53 points are
 * refused at create (HPS_ECONFIG): no sweep could run them, and the count must
 * stay exact in a double. The grid ignores the seed and its observations: the
 * same space and options always give the same sequence.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "strategies.h"

#define GRID_POINTS_DEFAULT 5
#define GRID_POINTS_MAX 100000
#define GRID_MAX_TOTAL (UINT64_C(1) << 53)

static const hps_option_spec grid_options[] = {
    {.name = "points",
     .type = HPS_OPT_INT,
     .min = 1,
     .max = GRID_POINTS_MAX,
     .help = "evenly spaced values per float parameter, and the most per int parameter "
             "(default 5; a parameter's grid_points overrides it)"},
    {.name = NULL},
};

typedef struct grid_state {
    int dim;
    long *count;      /* [dim] values of parameter i */
    double **u;       /* [dim][count[i]] unit coordinates of parameter i */
    uint64_t total;   /* product of count[] */
    uint64_t next;    /* index of the next point to suggest */
} grid_state;

static void grid_destroy(void *state)
{
    grid_state *s = state;
    if (!s)
        return;
    if (s->u)
        for (int i = 0; i < s->dim; i++)
            free(s->u[i]);
    free(s->u);
    free(s->count);
    free(s);
}

/* Parameter i's k-th of n evenly spaced integer targets, rounded (geometric
 * spacing when log; n == 1 gives the middle). */
static double int_target(const hps_param *p, long k, long n)
{
    double t = n == 1 ? 0.5 : (double)k / (double)(n - 1);
    double v;
    if (p->log && p->low > 0)
        v = exp(log(p->low) + t * (log(p->high) - log(p->low)));
    else
        v = p->low + t * (p->high - p->low);
    v = floor(v + 0.5);
    if (v < p->low)
        v = p->low;
    return v > p->high ? p->high : v;
}

/*
 * Fill s->u[i] and s->count[i] for int parameter i. vals and uu are scratch
 * vectors of the space's dimension, holding a valid value for every parameter, so
 * that hps_space_encode() can be asked for coordinate i alone.
 */
static int grid_int_axis(grid_state *s, const hps_space *space, int i, long points,
                         double *vals, double *uu)
{
    const hps_param *p = &space->params[i];
    long card = hps_space_cardinality(space, i);
    long n = card <= points ? card : points;
    if (n < 1)
        n = 1;
    double *u = malloc((size_t)n * sizeof *u);
    if (!u)
        return HPS_ENOMEM;
    long m = 0;
    double prev = 0.0;
    for (long k = 0; k < n; k++) {
        double v = card <= points ? p->low + (double)k : int_target(p, k, n);
        if (m > 0 && v == prev)
            continue; /* rounding merged two log-spaced targets */
        vals[i] = v;
        hps_space_encode(space, vals, uu);
        u[m++] = uu[i];
        prev = v;
    }
    vals[i] = p->low;
    s->u[i] = u;
    s->count[i] = m;
    return HPS_OK;
}

static int grid_create(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                       void **state, char *err, size_t errlen)
{
    *state = NULL;
    long points = hps_strategy_cfg_int(cfg, "points", GRID_POINTS_DEFAULT);
    if (points < 1 || points > GRID_POINTS_MAX) {
        if (err && errlen > 0)
            snprintf(err, errlen, "grid: option points must be in 1..%d, got %ld",
                     GRID_POINTS_MAX, points);
        return HPS_ECONFIG;
    }

    int rc = HPS_ENOMEM;
    double *vals = NULL, *uu = NULL;
    grid_state *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    s->dim = space->n_params;
    if (s->dim > 0) {
        s->count = calloc((size_t)s->dim, sizeof *s->count);
        s->u = calloc((size_t)s->dim, sizeof *s->u);
        vals = malloc((size_t)s->dim * sizeof *vals);
        uu = malloc((size_t)s->dim * sizeof *uu);
        if (!s->count || !s->u || !vals || !uu)
            goto fail;
    }
    for (int i = 0; i < s->dim; i++) {
        const hps_param *p = &space->params[i];
        vals[i] = p->type == HPS_PARAM_FLOAT || p->type == HPS_PARAM_INT ? p->low : 0.0;
    }

    s->total = 1;
    for (int i = 0; i < s->dim; i++) {
        const hps_param *p = &space->params[i];
        long n = p->grid_points > 0 ? p->grid_points : points;
        if (p->type == HPS_PARAM_INT) {
            if ((rc = grid_int_axis(s, space, i, n, vals, uu)) != HPS_OK)
                goto fail;
        } else {
            if (p->type == HPS_PARAM_FLOAT && p->high == p->low)
                n = 1;
            else if (p->type != HPS_PARAM_FLOAT)
                n = hps_space_cardinality(space, i);
            if (n < 1) {
                if (err && errlen > 0)
                    snprintf(err, errlen, "grid: parameter %s has no values", p->name);
                rc = HPS_ECONFIG;
                goto fail;
            }
            rc = HPS_ENOMEM;
            if (!(s->u[i] = malloc((size_t)n * sizeof *s->u[i])))
                goto fail;
            for (long k = 0; k < n; k++) {
                if (p->type != HPS_PARAM_FLOAT)
                    s->u[i][k] = ((double)k + 0.5) / (double)n;
                else
                    s->u[i][k] = n == 1 ? 0.5 : (double)k / (double)(n - 1);
            }
            s->count[i] = n;
        }
        if ((uint64_t)s->count[i] > GRID_MAX_TOTAL / s->total) {
            if (err && errlen > 0)
                snprintf(err, errlen,
                         "grid: the product of the parameters' point counts exceeds 2^53 "
                         "(at parameter %s); lower `points` or grid_points",
                         p->name);
            rc = HPS_ECONFIG;
            goto fail;
        }
        s->total *= (uint64_t)s->count[i];
    }
    free(vals);
    free(uu);
    *state = s;
    return HPS_OK;
fail:
    free(vals);
    free(uu);
    grid_destroy(s);
    return rc;
}

static int grid_suggest(void *state, hps_suggestion *out)
{
    grid_state *s = state;
    if (s->next >= s->total)
        return HPS_EDONE;
    uint64_t idx = s->next++;
    for (int i = s->dim - 1; i >= 0; i--) {
        uint64_t c = (uint64_t)s->count[i];
        out->u[i] = s->u[i][idx % c];
        idx /= c;
    }
    out->promotion = 0;
    out->budget = 0.0;
    out->bracket = -1;
    out->rung = -1;
    return HPS_OK;
}

static int grid_observe(void *state, const hps_observation *obs, hps_decision *decision)
{
    if (decision)
        *decision = HPS_DECISION_CONTINUE;
    return HPS_OK;
}

const hps_strategy_ops hps_strategy_grid = {
    .version = HPS_STRATEGY_VERSION,
    .name = "grid",
    .options = grid_options,
    .create = grid_create,
    .destroy = grid_destroy,
    .suggest = grid_suggest,
    .observe = grid_observe,
    .flags = HPS_STRATEGY_FINITE | HPS_STRATEGY_NO_PROMOTION,
};
