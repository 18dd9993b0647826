/*
 * The `random` strategy: independent points in the unit hypercube, from one of
 * three samplers (option `sampler`):
 *
 *   uniform  pseudo-random, GSL's MT19937.
 *   sobol    GSL's Sobol sequence (at most 40 parameters), randomly shifted.
 *   halton   GSL's Halton sequence (at most 1229 parameters), randomly shifted.
 *
 * Seeding. GSL generators take a 32-bit seed, so the 64-bit sweep seed is mixed
 * down: the splitmix64 finaliser, then the high half XORed into the low half.
 * Every bit of the sweep seed affects the result; two sweep seeds collide with
 * probability 2^-32.
 *
 * The quasi-random samplers apply a Cranley-Patterson rotation: a shift vector s
 * drawn once from the seeded MT19937 at create, and u = frac(q + s). A shift keeps
 * the sequence's low discrepancy (any 2^m consecutive aligned Sobol points still
 * fill every slab of width 2^-k in each coordinate evenly), while different seeds
 * give different point sets. GSL's Sobol generator already starts after the
 * all-zero point (its first point is (1/2, ..., 1/2)), so nothing is skipped here;
 * GSL's Halton starts at index 1 for the same reason.
 *
 * Observations are accepted and ignored. suggest() never returns HPS_EDONE except
 * when Sobol runs out of points (after 2^30 - 1, GSL's limit); the engine stops
 * the sweep at max_trials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>

#include "hpsweep/error.h"
#include "strategies.h"

enum sampler { SAMPLER_UNIFORM = 0, SAMPLER_SOBOL = 1, SAMPLER_HALTON = 2 };

static const char *const sampler_names[] = {"uniform", "sobol", "halton", NULL};

static const hps_option_spec random_options[] = {
    {.name = "sampler",
     .type = HPS_OPT_ENUM,
     .choices = sampler_names,
     .help = "uniform (pseudo-random, default), sobol (<= 40 parameters) or halton "
             "(<= 1229 parameters); the quasi-random ones are randomly shifted by the seed"},
    {.name = NULL},
};

typedef struct random_state {
    int dim;
    enum sampler sampler;
    gsl_rng *rng;      /* uniform draws; for sobol/halton only used for the shift */
    gsl_qrng *qrng;    /* sobol/halton only (NULL when dim == 0) */
    double *shift;     /* [dim] sobol/halton only */
    double *q;         /* [dim] scratch for the raw quasi-random point */
    uint64_t count;    /* points suggested so far */
} random_state;

/* The 64-bit sweep seed mixed down to the 32 bits a GSL generator uses. */
static unsigned long mix_seed(uint64_t seed)
{
    return hps_fold32(hps_mix64(seed + HPS_GOLDEN));
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen > 0) {
        strncpy(err, msg, errlen - 1);
        err[errlen - 1] = '\0';
    }
}

static void random_destroy(void *state)
{
    random_state *s = state;
    if (!s)
        return;
    gsl_rng_free(s->rng);
    if (s->qrng)
        gsl_qrng_free(s->qrng);
    free(s->shift);
    free(s->q);
    free(s);
}

static int random_create(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                         void **state, char *err, size_t errlen)
{
    *state = NULL;
    const char *name = hps_strategy_cfg_str(cfg, "sampler", "uniform");
    int sampler = -1;
    for (int i = 0; sampler_names[i]; i++)
        if (strcmp(name, sampler_names[i]) == 0)
            sampler = i;
    if (sampler < 0) {
        set_err(err, errlen, "random: option sampler must be uniform, sobol or halton");
        return HPS_ECONFIG;
    }

    /* gsl_qrng_alloc() does not check the dimension itself, so check it here. */
    const gsl_qrng_type *qtype = sampler == SAMPLER_SOBOL    ? gsl_qrng_sobol
                                 : sampler == SAMPLER_HALTON ? gsl_qrng_halton
                                                             : NULL;
    if (qtype && (unsigned)space->n_params > qtype->max_dimension) {
        if (err && errlen > 0)
            snprintf(err, errlen,
                     "random: sampler %s supports at most %u parameters, the space has %d "
                     "(use sampler: %s)",
                     name, qtype->max_dimension, space->n_params,
                     sampler == SAMPLER_SOBOL ? "halton or uniform" : "uniform");
        return HPS_ECONFIG;
    }

    random_state *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    s->dim = space->n_params;
    s->sampler = (enum sampler)sampler;
    s->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->rng)
        goto oom;
    gsl_rng_set(s->rng, mix_seed(seed));

    if (qtype && s->dim > 0) {
        s->qrng = gsl_qrng_alloc(qtype, (unsigned)s->dim);
        s->shift = malloc((size_t)s->dim * sizeof *s->shift);
        s->q = malloc((size_t)s->dim * sizeof *s->q);
        if (!s->qrng || !s->shift || !s->q)
            goto oom;
        for (int i = 0; i < s->dim; i++)
            s->shift[i] = gsl_rng_uniform(s->rng);
    }
    *state = s;
    return HPS_OK;
oom:
    random_destroy(s);
    return HPS_ENOMEM;
}

static int random_suggest(void *state, hps_suggestion *out)
{
    random_state *s = state;
    if (s->sampler == SAMPLER_UNIFORM) {
        for (int i = 0; i < s->dim; i++)
            out->u[i] = gsl_rng_uniform(s->rng);
    } else if (s->dim > 0) {
        if (gsl_qrng_get(s->qrng, s->q) != 0)
            return HPS_EDONE; /* Sobol exhausted its 2^30 - 1 points */
        for (int i = 0; i < s->dim; i++) {
            double u = s->q[i] + s->shift[i];
            out->u[i] = u >= 1.0 ? u - 1.0 : u;
        }
    }
    out->promotion = 0;
    out->budget = 0.0;
    out->bracket = -1;
    out->rung = -1;
    s->count++;
    return HPS_OK;
}

static int random_observe(void *state, const hps_observation *obs, hps_decision *decision)
{
    if (decision)
        *decision = HPS_DECISION_CONTINUE;
    return HPS_OK;
}

const hps_strategy_ops hps_strategy_random = {
    .version = HPS_STRATEGY_VERSION,
    .name = "random",
    .options = random_options,
    .create = random_create,
    .destroy = random_destroy,
    .suggest = random_suggest,
    .observe = random_observe,
    .flags = HPS_STRATEGY_NO_PROMOTION,
};
