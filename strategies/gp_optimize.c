/*
 * Acquisition optimisation for the `gp` strategy: from a factored model to the next
 * unit point (see gp_space.h for the contract and gp.c for the overall algorithm).
 *
 *   1. Pending trials are pushed into the model as fantasies, believed at their
 *      posterior mean plus kappa standard deviations (gp_model_push_fantasy).
 *   2. Candidates: n_candidates points of a freshly shifted Sobol/Halton sequence
 *      plus n_candidates/4 perturbations of the five best observations, in turn
 *      Gaussian with sd 0.2, 0.05 and 0.01 (a discrete coordinate re-drawn with
 *      probability 0.2) and one coordinate re-drawn uniformly (which reaches the
 *      other basins of a separable function, e.g. Styblinski-Tang, along one axis);
 *      all snapped to valid values and scored in batches.
 *   3. The best n_refine candidates are refined: projected-gradient ascent on the
 *      float and int features (ints relaxed, then snapped), then one pass over
 *      each discrete parameter trying every other choice (categorical) or the
 *      neighbouring slices (int, bool), keeping improvements.
 *   4. The best point at least MIN_SEP away from every pending trial (and outside
 *      the tabu ball, when one is given) wins; when none is, the best-scoring
 *      candidate that is; failing that, the best point.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "hpsweep/error.h"
#include "gp_space.h"

#define MIN_SEP 1e-3
#define N_INCUMBENTS 5

typedef struct scored {
    double v;
    int i;
} scored;

/* Descending by value, then ascending index: a total order, so qsort is deterministic. */
static int cmp_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->v > y->v)
        return -1;
    if (x->v < y->v)
        return 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int far_from_pending(const gp_pending *p, const double *u, int d)
{
    for (int k = 0; k < p->n; k++) {
        const double *v = p->u + (size_t)k * d;
        double s = 0.0;
        for (int i = 0; i < d; i++)
            s += (u[i] - v[i]) * (u[i] - v[i]);
        if (s < MIN_SEP * MIN_SEP)
            return 0;
    }
    return 1;
}

/* Clear of the pending trials and outside the tabu ball, if any. */
static int allowed(const gp_pending *p, const gp_optimize_opts *o, const double *u, int d)
{
    if (o->tabu_u) {
        double s = 0.0;
        for (int i = 0; i < d; i++)
            s += (u[i] - o->tabu_u[i]) * (u[i] - o->tabu_u[i]);
        if (s < o->tabu_r * o->tabu_r)
            return 0;
    }
    return far_from_pending(p, u, d);
}

static void fill_candidates(gp_space *sp, const gp_model *m, gsl_rng *rng, int n_q, int n_loc,
                            double *cu)
{
    int d = sp->d;
    /* quasi-random part */
    gsl_qrng *q = sp->qtype ? gsl_qrng_alloc(sp->qtype, (unsigned)d) : NULL;
    double *shift = sp->q; /* scratch [d] */
    for (int i = 0; i < d; i++)
        shift[i] = gsl_rng_uniform(rng);
    for (int j = 0; j < n_q; j++) {
        double *u = cu + (size_t)j * d;
        if (q) {
            gsl_qrng_get(q, u);
            for (int i = 0; i < d; i++) {
                double t = u[i] + shift[i];
                u[i] = t >= 1.0 ? t - 1.0 : t;
            }
        } else {
            for (int i = 0; i < d; i++)
                u[i] = gsl_rng_uniform(rng);
        }
    }
    if (q)
        gsl_qrng_free(q);

    /* local part: around the best observations */
    int n = m->n, n_inc = 0;
    int inc[N_INCUMBENTS];
    /* the N_INCUMBENTS lowest values by insertion (ties: lower row first) */
    for (int r = 0; r < n; r++) {
        int pos = n_inc;
        while (pos > 0 && m->y[r] < m->y[inc[pos - 1]])
            pos--;
        if (pos >= N_INCUMBENTS)
            continue;
        int last = n_inc < N_INCUMBENTS ? n_inc : N_INCUMBENTS - 1;
        for (int k = last; k > pos; k--)
            inc[k] = inc[k - 1];
        inc[pos] = r;
        if (n_inc < N_INCUMBENTS)
            n_inc++;
    }
    static const double sds[3] = {0.2, 0.05, 0.01}; /* modes 0-2; mode 3 below */
    for (int j = 0; j < n_loc && n_inc > 0; j++) {
        double *u = cu + (size_t)(n_q + j) * d;
        gp_space_unfeature(sp, m->x + (size_t)inc[j % n_inc] * m->dim, u);
        int mode = (j / n_inc) % 4;
        if (mode == 3) { /* one coordinate redrawn: another basin along one axis */
            int i = (int)gsl_rng_uniform_int(rng, (unsigned long)d);
            u[i] = gsl_rng_uniform(rng);
            continue;
        }
        double sd = sds[mode];
        for (int i = 0; i < d; i++) {
            if (sp->kind[i] == GP_P_FLOAT || (sp->kind[i] == GP_P_INT && sp->card[i] > 16)) {
                double t = u[i] + gsl_ran_gaussian_ziggurat(rng, sd);
                u[i] = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
            } else if (gsl_rng_uniform(rng) < 0.2) {
                u[i] = gsl_rng_uniform(rng);
            }
        }
    }
    for (int j = 0; j < n_q + n_loc; j++)
        gp_space_snap(sp, cu + (size_t)j * d, cu + (size_t)j * d);
}

/* One pass over the discrete parameters of u (features x, value *val), keeping the
 * best alternative of each. */
static void discrete_pass(gp_space *sp, const gp_model *m, const gp_acq *a, double *u, double *x,
                          double *val, double *ut, double *xt, double *work)
{
    int d = sp->d;
    for (int i = 0; i < d; i++) {
        if (sp->kind[i] == GP_P_FLOAT)
            continue;
        long K = sp->card[i];
        if (K < 2)
            continue;
        double best_u = u[i];
        double cur = u[i];
        long k0 = (long)floor(cur * (double)K);
        for (int step = 0; step < (sp->kind[i] == GP_P_CAT ? (int)K : 2); step++) {
            memcpy(ut, u, sizeof(double) * (size_t)d);
            if (sp->kind[i] == GP_P_CAT) {
                if (step == k0)
                    continue;
                ut[i] = ((double)step + 0.5) / (double)K;
            } else {
                /* neighbouring value through the space's own map */
                hps_space_decode(sp->space, u, sp->vals);
                sp->vals[i] += step == 0 ? -1.0 : 1.0;
                const hps_param *p = &sp->space->params[i];
                double lo = sp->kind[i] == GP_P_BOOL ? 0.0 : p->low;
                double hi = sp->kind[i] == GP_P_BOOL ? 1.0 : p->high;
                if (sp->vals[i] < lo || sp->vals[i] > hi)
                    continue;
                hps_space_encode(sp->space, sp->vals, sp->tmp);
                ut[i] = sp->tmp[i];
            }
            gp_space_features(sp, ut, xt);
            double v = gp_acq_eval(m, a, xt, NULL, work);
            if (v > *val) {
                *val = v;
                best_u = ut[i];
            }
        }
        if (best_u != u[i]) {
            u[i] = best_u;
            gp_space_features(sp, u, x);
        }
    }
}

int gp_optimize(gp_space *sp, gp_model *m, const gp_pending *pend, const gp_optimize_opts *o,
                double *u_out)
{
    int d = sp->d, D = sp->n_feat;
    int rc = HPS_ENOMEM;
    int n_q = o->n_candidates, n_loc = o->n_candidates / 4;
    int nc = n_q + n_loc;
    int n_ref = o->n_refine < nc ? o->n_refine : nc;
    double *cu = malloc(sizeof(double) * (size_t)nc * (size_t)(d > 0 ? d : 1));
    double *cx = malloc(sizeof(double) * (size_t)nc * (size_t)(D > 0 ? D : 1));
    double *score = malloc(sizeof(double) * (size_t)nc);
    scored *order = malloc(sizeof(scored) * (size_t)nc);
    double *ru = malloc(sizeof(double) * (size_t)(n_ref + 1) * (size_t)(d > 0 ? d : 1));
    scored *rv = malloc(sizeof(scored) * (size_t)(n_ref + 1));
    double *xb = malloc(sizeof(double) * (4 * (size_t)D + (size_t)d + 1));
    double *work = NULL;
    int *free_f = malloc(sizeof(int) * (size_t)(D > 0 ? D : 1));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!cu || !cx || !score || !order || !ru || !rv || !xb || !free_f || !rng)
        goto out;
    double *x = xb, *xt = xb + D, *ut = xb + 2 * (size_t)D;
    gsl_rng_set(rng, gp_gsl_seed(o->seed));

    gp_model_pop_fantasies(m);
    /* Each fantasy costs O(n_tot^2) to push and makes every later prediction dearer:
     * with hundreds of trials pending only the newest max_fantasies are believed
     * (pending trials are kept in dispatch order). */
    int first = o->max_fantasies > 0 && pend->n > o->max_fantasies ? pend->n - o->max_fantasies : 0;
    for (int k = first; k < pend->n; k++) {
        gp_space_features(sp, pend->u + (size_t)k * d, x);
        if ((rc = gp_model_push_fantasy(m, x, o->kappa)) != HPS_OK)
            goto out;
    }
    rc = HPS_ENOMEM;
    work = malloc(sizeof(double) * (3 * (size_t)m->n_tot + 2 * (size_t)D + 1));
    if (!work)
        goto out;

    gp_acq a = {.kind = o->acq, .beta = o->beta, .best = HUGE_VAL};
    for (int i = 0; i < m->n; i++)
        if (m->ys[i] < a.best)
            a.best = m->ys[i];
    a.best -= o->xi;

    fill_candidates(sp, m, rng, n_q, n_loc, cu);
    for (int j = 0; j < nc; j++)
        gp_space_features(sp, cu + (size_t)j * d, cx + (size_t)j * D);
    if ((rc = gp_acq_score(m, &a, nc, cx, score)) != HPS_OK)
        goto out;
    for (int j = 0; j < nc; j++)
        order[j] = (scored){isfinite(score[j]) ? score[j] : -HUGE_VAL, j};
    qsort(order, (size_t)nc, sizeof(scored), cmp_desc);

    int n_free = 0;
    for (int i = 0; i < d; i++)
        if (sp->kind[i] == GP_P_FLOAT || sp->kind[i] == GP_P_INT)
            free_f[n_free++] = sp->feat[i];

    /* Refine the best n_ref candidates that are clear of the pending trials. */
    int n_done = 0;
    for (int r = 0; r < nc && n_done < n_ref; r++) {
        const double *u0 = cu + (size_t)order[r].i * d;
        if (!allowed(pend, o, u0, d))
            continue;
        double *u = ru + (size_t)n_done * d;
        memcpy(x, cx + (size_t)order[r].i * D, sizeof(double) * (size_t)D);
        if (n_free > 0)
            gp_acq_refine(m, &a, x, n_free, free_f,
                          o->refine_iters > 0 ? o->refine_iters : GP_REFINE_ITERS);
        gp_space_unfeature(sp, x, u);
        gp_space_features(sp, u, x);
        double v = gp_acq_eval(m, &a, x, NULL, work);
        if (v < order[r].v) { /* snapping lost ground: keep the candidate */
            memcpy(u, u0, sizeof(double) * (size_t)d);
            memcpy(x, cx + (size_t)order[r].i * D, sizeof(double) * (size_t)D);
            v = order[r].v;
        }
        discrete_pass(sp, m, &a, u, x, &v, ut, xt, work);
        rv[n_done] = (scored){isfinite(v) ? v : -HUGE_VAL, n_done};
        n_done++;
    }
    qsort(rv, (size_t)n_done, sizeof(scored), cmp_desc);
    int chosen = 0;
    for (int k = 0; k < n_done; k++)
        if (allowed(pend, o, ru + (size_t)rv[k].i * d, d)) {
            memcpy(u_out, ru + (size_t)rv[k].i * d, sizeof(double) * (size_t)d);
            chosen = 1;
            break;
        }
    for (int r = 0; r < nc && !chosen; r++)
        if (allowed(pend, o, cu + (size_t)order[r].i * d, d)) {
            memcpy(u_out, cu + (size_t)order[r].i * d, sizeof(double) * (size_t)d);
            chosen = 1;
        }
    if (!chosen)
        memcpy(u_out, n_done > 0 ? ru + (size_t)rv[0].i * d : cu + (size_t)order[0].i * d,
               sizeof(double) * (size_t)d);
    rc = HPS_OK;
out:
    gp_model_pop_fantasies(m);
    gsl_rng_free(rng);
    free(free_f);
    free(work);
    free(xb);
    free(rv);
    free(ru);
    free(order);
    free(score);
    free(cx);
    free(cu);
    return rc;
}
