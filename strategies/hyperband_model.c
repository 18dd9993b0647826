/*
 * Where the multi-fidelity strategies' new configurations come from (option
 * sampler):
 *
 *   random  uniform in the unit cube, hashed from (seed, trial id): splitmix64 of
 *           the seed, the id and the coordinate, 53 bits per coordinate.
 *   sobol   GSL's Sobol sequence, one point per new configuration, shifted by a
 *           seed-dependent Cranley-Patterson rotation (uniform past 2^30 points).
 *   tpe/gp  BOHB's scheme (Falkner et al. 2018): with probability random_fraction,
 *           or while no budget level has min_points_in_model successful results, a
 *           uniform point as above; otherwise the point the tpe (or gp) strategy
 *           suggests, fitted on the results at the largest budget that has enough.
 *
 * Models. Each budget level j keeps its results (FINAL values and failures, in
 * observation order) and, once asked for a suggestion, an inner tpe/gp state built
 * through that strategy's ops table and fed every result of the level, then each
 * new one as it arrives. The inner strategy tracks its own suggestions as pending
 * until they are observed at that level; a configuration that is eliminated at a
 * lower budget never is, so it would stay pending for good. When such idle
 * pending configurations outnumber max(16, results at the level), the inner state
 * is rebuilt from the level's results (amortised: one rebuild per that many
 * suggestions). The inner seed is the sweep seed; its suggestions are seeded by
 * trial id, so rebuilding at the same point of a replay gives the same state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "hyperband.h"

/* One step of SplitMix64: advance by the golden increment, then mix. */
static uint64_t mix64(uint64_t z)
{
    return hps_mix64(z + HPS_GOLDEN);
}

/* A uniform double in [0,1) for (seed, trial id, stream, index). */
static double hashed_uniform(uint64_t seed, int64_t id, uint64_t stream, uint64_t i)
{
    uint64_t z = mix64(seed ^ mix64((uint64_t)id ^ (stream << 56)));
    z = mix64(z ^ (i * 0xD1B54A32D192ED03ull));
    return (double)(z >> 11) * 0x1.0p-53;
}

static void uniform_point(const hb_state *s, int64_t id, double *u)
{
    for (int i = 0; i < s->d; i++)
        u[i] = hashed_uniform(s->seed, id, 2, (uint64_t)i);
}

static int level_feed(hb_state *s, hb_level *lv, int k)
{
    hps_observation obs = {.trial_id = lv->id[k],
                           .kind = lv->failed[k] ? HPS_OBS_FAILED : HPS_OBS_FINAL,
                           .u = lv->u + (size_t)k * s->d,
                           .value = lv->failed[k] ? NAN : lv->y[k]};
    return s->model_ops->observe(lv->inner, &obs, NULL);
}

/* The inner model of level j, (re)built when missing or holding too many stale
 * pending suggestions. */
static int level_model(hb_state *s, int j)
{
    hb_level *lv = &s->levels[j];
    if (lv->inner) {
        int stale = 0;
        for (int t = 0; t < s->nt; t++)
            stale += s->t[t].model_level == j && !s->t[t].running;
        if (stale <= (lv->n > 16 ? lv->n : 16))
            return HPS_OK;
        s->model_ops->destroy(lv->inner);
        lv->inner = NULL;
    }
    for (int t = 0; t < s->nt; t++)
        if (s->t[t].model_level == j)
            s->t[t].model_level = -1; /* not pending in the new state */
    int rc = s->model_ops->create(s->space, &s->model_cfg, s->seed, &lv->inner, NULL, 0);
    if (rc != HPS_OK)
        return rc;
    for (int k = 0; k < lv->n && rc == HPS_OK; k++)
        rc = level_feed(s, lv, k);
    if (rc != HPS_OK) {
        s->model_ops->destroy(lv->inner);
        lv->inner = NULL;
    }
    return rc;
}

int hb_sample(hb_state *s, hps_suggestion *out, int *model_level)
{
    *model_level = -1;
    int j = -1;
    if (s->model_ops && hashed_uniform(s->seed, out->trial_id, 1, 0) >= s->random_fraction)
        for (int l = 0; l <= s->s_max && j < 0; l++)
            if (s->levels[l].n_final >= s->min_points)
                j = l;
    if (j >= 0) {
        int rc = level_model(s, j);
        if (rc != HPS_OK)
            return rc;
        hps_suggestion in = {.u = out->u, .trial_id = out->trial_id, .bracket = -1, .rung = -1};
        rc = s->model_ops->suggest(s->levels[j].inner, &in);
        if (rc == HPS_OK) {
            for (int i = 0; i < s->d; i++)
                out->u[i] = out->u[i] < 0.0 ? 0.0 : out->u[i] > 1.0 ? 1.0 : out->u[i];
            *model_level = j;
            return HPS_OK;
        }
        if (rc != HPS_EAGAIN && rc != HPS_EDONE)
            return rc;
        /* a model with nothing to say: fall through to a uniform point */
    }
    if (s->qrng && gsl_qrng_get(s->qrng, s->q) == 0) {
        for (int i = 0; i < s->d; i++) {
            double u = s->q[i] + s->shift[i];
            out->u[i] = u >= 1.0 ? u - 1.0 : u;
        }
        return HPS_OK;
    }
    uniform_point(s, out->trial_id, out->u);
    return HPS_OK;
}

int hb_level_add(hb_state *s, int j, int t, double value, int failed)
{
    hb_level *lv = &s->levels[j];
    if (lv->n == lv->cap) {
        int cap = (int)hps_grow_cap((size_t)lv->cap, (size_t)lv->n + 1, 32);
        int64_t *id = realloc(lv->id, sizeof *id * (size_t)cap);
        if (!id)
            return HPS_ENOMEM;
        lv->id = id;
        double *u = realloc(lv->u, sizeof(double) * (size_t)cap * (size_t)(s->d > 0 ? s->d : 1));
        if (!u)
            return HPS_ENOMEM;
        lv->u = u;
        double *y = realloc(lv->y, sizeof *y * (size_t)cap);
        if (!y)
            return HPS_ENOMEM;
        lv->y = y;
        unsigned char *f = realloc(lv->failed, (size_t)cap);
        if (!f)
            return HPS_ENOMEM;
        lv->failed = f;
        lv->cap = cap;
    }
    int k = lv->n++;
    lv->id[k] = s->t[t].id;
    memcpy(lv->u + (size_t)k * s->d, s->us + (size_t)t * s->d, sizeof(double) * (size_t)s->d);
    lv->y[k] = failed ? 0.0 : value;
    lv->failed[k] = (unsigned char)(failed != 0);
    lv->n_final += !failed;
    if (s->t[t].model_level == j)
        s->t[t].model_level = -1; /* resolved: the inner state saw it */
    return lv->inner ? level_feed(s, lv, k) : HPS_OK;
}

void hb_levels_free(hb_state *s)
{
    if (!s->levels)
        return;
    for (int j = 0; j <= s->s_max; j++) {
        hb_level *lv = &s->levels[j];
        if (lv->inner)
            s->model_ops->destroy(lv->inner);
        free(lv->id);
        free(lv->u);
        free(lv->y);
        free(lv->failed);
    }
    free(s->levels);
    s->levels = NULL;
}
