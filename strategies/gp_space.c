/*
 * The `gp` strategy's encoding of the search space, its initial design and its
 * pending-trial table (see gp_space.h).
 *
 * Discrete parameters are snapped with the space's own map, encode(decode(u)),
 * which returns the centre of the value's slice for every discrete type (including
 * log-scaled ints, whose slices are not of equal width).
 *
 * The initial design is point k of a Sobol sequence (Halton above 40 parameters,
 * seeded uniform draws above 1229) under a Cranley-Patterson shift drawn from the
 * seed. Point k depends only on (seed, k): the generator is rewound when an
 * earlier point is asked for.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "hpsweep/error.h"
#include "gp_space.h"

int gp_space_init(gp_space *sp, const hps_space *space, uint64_t seed)
{
    memset(sp, 0, sizeof(*sp));
    int d = space->n_params;
    sp->space = space;
    sp->d = d;
    sp->seed = seed;
    size_t dd = (size_t)(d > 0 ? d : 1);
    sp->feat = malloc(sizeof(int) * dd);
    sp->kind = malloc(sizeof(gp_pkind) * dd);
    sp->card = malloc(sizeof(long) * dd);
    sp->vals = malloc(sizeof(double) * dd);
    sp->tmp = malloc(sizeof(double) * dd);
    sp->shift = malloc(sizeof(double) * dd);
    sp->q = malloc(sizeof(double) * dd);
    if (!sp->feat || !sp->kind || !sp->card || !sp->vals || !sp->tmp || !sp->shift || !sp->q)
        goto nomem;
    int nf = 0;
    for (int i = 0; i < d; i++) {
        const hps_param *p = &space->params[i];
        sp->feat[i] = nf;
        sp->card[i] = hps_space_cardinality(space, i);
        switch (p->type) {
        case HPS_PARAM_CATEGORICAL:
            sp->kind[i] = GP_P_CAT;
            nf += sp->card[i] > 0 ? (int)sp->card[i] : 1;
            break;
        case HPS_PARAM_INT:
            sp->kind[i] = GP_P_INT;
            nf++;
            break;
        case HPS_PARAM_BOOL:
            sp->kind[i] = GP_P_BOOL;
            nf++;
            break;
        case HPS_PARAM_FLOAT:
        default:
            sp->kind[i] = GP_P_FLOAT;
            nf++;
            break;
        }
    }
    sp->n_feat = nf;
    sp->group = malloc(sizeof(int) * (size_t)(nf > 0 ? nf : 1));
    if (!sp->group)
        goto nomem;
    for (int i = 0; i < d; i++) {
        int end = i + 1 < d ? sp->feat[i + 1] : nf;
        for (int f = sp->feat[i]; f < end; f++)
            sp->group[f] = i;
    }

    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        goto nomem;
    gsl_rng_set(rng, gp_gsl_seed(seed ^ 0x494E495449414CULL));
    for (int i = 0; i < d; i++)
        sp->shift[i] = gsl_rng_uniform(rng);
    gsl_rng_free(rng);
    if (d > 0 && (unsigned)d <= gsl_qrng_sobol->max_dimension)
        sp->qtype = gsl_qrng_sobol;
    else if (d > 0 && (unsigned)d <= gsl_qrng_halton->max_dimension)
        sp->qtype = gsl_qrng_halton;
    if (sp->qtype) {
        sp->qrng = gsl_qrng_alloc(sp->qtype, (unsigned)d);
        if (!sp->qrng)
            goto nomem;
    }
    return HPS_OK;
nomem:
    gp_space_free(sp);
    return HPS_ENOMEM;
}

void gp_space_free(gp_space *sp)
{
    if (!sp)
        return;
    free(sp->feat);
    free(sp->kind);
    free(sp->card);
    free(sp->group);
    free(sp->vals);
    free(sp->tmp);
    free(sp->shift);
    free(sp->q);
    if (sp->qrng)
        gsl_qrng_free(sp->qrng);
    memset(sp, 0, sizeof(*sp));
}

void gp_space_snap(gp_space *sp, const double *u, double *out)
{
    int d = sp->d;
    hps_space_decode(sp->space, u, sp->vals);
    hps_space_encode(sp->space, sp->vals, sp->tmp);
    for (int i = 0; i < d; i++) {
        if (sp->kind[i] == GP_P_FLOAT) {
            double t = u[i];
            out[i] = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
        } else {
            out[i] = sp->tmp[i];
        }
    }
}

void gp_space_features(gp_space *sp, const double *u, double *x)
{
    int d = sp->d;
    hps_space_decode(sp->space, u, sp->vals);
    hps_space_encode(sp->space, sp->vals, sp->tmp);
    for (int i = 0; i < d; i++) {
        int f = sp->feat[i];
        switch (sp->kind[i]) {
        case GP_P_FLOAT: {
            double t = u[i];
            x[f] = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
            break;
        }
        case GP_P_INT:
        case GP_P_BOOL:
            x[f] = sp->tmp[i];
            break;
        case GP_P_CAT: {
            long k = (long)sp->vals[i];
            for (long c = 0; c < sp->card[i]; c++)
                x[f + c] = c == k ? 1.0 : 0.0;
            break;
        }
        }
    }
}

void gp_space_unfeature(gp_space *sp, const double *x, double *u)
{
    for (int i = 0; i < sp->d; i++) {
        int f = sp->feat[i];
        if (sp->kind[i] == GP_P_CAT) {
            long best = 0;
            for (long c = 1; c < sp->card[i]; c++)
                if (x[f + c] > x[f + best])
                    best = c;
            u[i] = ((double)best + 0.5) / (double)sp->card[i];
        } else {
            u[i] = x[f];
        }
    }
    gp_space_snap(sp, u, u);
}

int gp_space_initial_point(gp_space *sp, uint64_t k, double *u)
{
    int d = sp->d;
    if (d == 0)
        return HPS_OK;
    if (!sp->qrng) {
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        if (!rng)
            return HPS_ENOMEM;
        gsl_rng_set(rng, gp_gsl_seed(sp->seed ^ hps_mix64(k + 1)));
        for (int i = 0; i < d; i++)
            sp->q[i] = gsl_rng_uniform(rng);
        gsl_rng_free(rng);
    } else {
        if (k < sp->q_next) {
            gsl_qrng_init(sp->qrng);
            sp->q_next = 0;
        }
        while (sp->q_next <= k) {
            gsl_qrng_get(sp->qrng, sp->q);
            sp->q_next++;
        }
    }
    for (int i = 0; i < d; i++) {
        double t = sp->q[i] + sp->shift[i];
        u[i] = t >= 1.0 ? t - 1.0 : t;
    }
    gp_space_snap(sp, u, u);
    return HPS_OK;
}

/* ---- pending ------------------------------------------------------------------------ */

int gp_pending_add(gp_pending *p, int64_t id, const double *u, int d)
{
    p->d = d;
    for (int k = 0; k < p->n; k++)
        if (p->id[k] == id) {
            memcpy(p->u + (size_t)k * d, u, sizeof(double) * (size_t)d);
            return HPS_OK;
        }
    if (p->n == p->cap) {
        int cap = (int)hps_grow_cap((size_t)p->cap, (size_t)p->n + 1, 16);
        int64_t *ids = realloc(p->id, sizeof(int64_t) * (size_t)cap);
        if (!ids)
            return HPS_ENOMEM;
        p->id = ids;
        double *us = realloc(p->u, sizeof(double) * (size_t)cap * (size_t)(d > 0 ? d : 1));
        if (!us)
            return HPS_ENOMEM;
        p->u = us;
        p->cap = cap;
    }
    p->id[p->n] = id;
    memcpy(p->u + (size_t)p->n * d, u, sizeof(double) * (size_t)d);
    p->n++;
    return HPS_OK;
}

void gp_pending_remove(gp_pending *p, int64_t id)
{
    for (int k = 0; k < p->n; k++)
        if (p->id[k] == id) {
            int d = p->d;
            memmove(p->id + k, p->id + k + 1, sizeof(int64_t) * (size_t)(p->n - k - 1));
            memmove(p->u + (size_t)k * d, p->u + (size_t)(k + 1) * d,
                    sizeof(double) * (size_t)(p->n - k - 1) * (size_t)d);
            p->n--;
            return;
        }
}

void gp_pending_free(gp_pending *p)
{
    if (!p)
        return;
    free(p->id);
    free(p->u);
    memset(p, 0, sizeof(*p));
}
