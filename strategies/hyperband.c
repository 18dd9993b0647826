/*
 * The multi-fidelity strategies `hyperband`, `asha` and `bohb`: one state
 * (hyperband.h), two schedulers (hyperband_sched.c) and one sampler of new
 * configurations (hyperband_model.c).
 *
 *   hyperband  Li et al., "Hyperband" (JMLR 2018): brackets s = s_max..0 of
 *              successive halving, repeated for as long as the engine asks.
 *              Several brackets run at once so that no worker waits on a rung.
 *   asha       Li et al., "A System for Massively Parallel Hyperparameter Tuning"
 *              (MLSys 2020): one set of rungs, promote as soon as a result is in
 *              the top 1/eta of its rung, else start a configuration at rung 0.
 *   bohb       Falkner et al., "BOHB" (ICML 2018): hyperband whose new
 *              configurations come from TPE fitted at the largest budget with
 *              enough results, a third of them uniform (options sampler and
 *              random_fraction; hyperband and asha take the same options).
 *
 * Results. A FINAL observation closes the trial's current rung run with its value
 * (lower is better); a FAILED one, or a non-finite value, ranks it last in that
 * rung and it is never promoted. Intermediate reports are answered CONTINUE (the
 * engine runs each rung to its budget). Observations of unknown or idle trials are
 * ignored.
 *
 * Exactness. Every decision is a function of the seed and the call sequence:
 * uniform points are hashed from (seed, trial id), the Sobol sequence advances one
 * point per configuration, ranks break ties by trial id, and the models are fed in
 * observation order. The engine resumes by replay.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "hyperband.h"
#include "strategies.h"

static const char *const sampler_names[] = {"random", "sobol", "gp", "tpe", NULL};

#define HB_OPTIONS(sampler_help)                                                              \
    {.name = "resource", .type = HPS_OPT_STRING,                                              \
     .help = "name of the resource passed to the objective as its budget (default budget)"},  \
    {.name = "min_resource", .type = HPS_OPT_FLOAT, .min = 1e-12, .max = 1e15,                \
     .help = "smallest budget a configuration runs with (default 1)"},                        \
    {.name = "max_resource", .type = HPS_OPT_FLOAT, .min = 1e-12, .max = 1e15,                \
     .help = "full budget, >= min_resource (default 81)"},                                    \
    {.name = "eta", .type = HPS_OPT_INT, .min = 2, .max = 1000,                               \
     .help = "1/eta of each rung is promoted to eta times the budget (default 3)"},           \
    {.name = "sampler", .type = HPS_OPT_ENUM, .choices = sampler_names, .help = sampler_help}, \
    {.name = "random_fraction", .type = HPS_OPT_FLOAT, .min = 0.0, .max = 1.0,                \
     .help = "gp/tpe samplers: share of new configurations drawn uniformly (default 1/3)"},   \
    {.name = "min_points_in_model", .type = HPS_OPT_INT, .min = 1, .max = 1000000,            \
     .help = "gp/tpe samplers: results a budget needs before its model is used "              \
             "(default: parameters + 2)"},                                                    \
    {.name = NULL}

static const hps_option_spec hb_options[] = {HB_OPTIONS(
    "where new configurations come from: random (uniform, default), sobol (<= 40 "
    "parameters), or a gp/tpe model fitted at the largest budget with enough results")};

static const hps_option_spec bohb_options[] = {HB_OPTIONS(
    "where new configurations come from: tpe (default, as in BOHB), gp, or random/sobol "
    "(plain hyperband)")};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* ---- the trial table ------------------------------------------------------------------ */

int hb_trial_find(const hb_state *s, int64_t id)
{
    return hps_idmap_get(&s->ids, id);
}

/* Append trial id at point u; its index, or HPS_ENOMEM. */
static int trial_add(hb_state *s, int64_t id, const double *u)
{
    if (s->nt == s->capt) {
        int cap = (int)hps_grow_cap((size_t)s->capt, (size_t)s->nt + 1, 64);
        hb_trial *t = realloc(s->t, sizeof *t * (size_t)cap);
        if (!t)
            return HPS_ENOMEM;
        s->t = t;
        double *us = realloc(s->us, sizeof(double) * (size_t)cap * (size_t)(s->d > 0 ? s->d : 1));
        if (!us)
            return HPS_ENOMEM;
        s->us = us;
        s->capt = cap;
    }
    int rc = hps_idmap_put(&s->ids, id, s->nt);
    if (rc != HPS_OK)
        return rc;
    int k = s->nt++;
    s->t[k] = (hb_trial){.id = id, .bracket = -1, .rung = 0, .entry = -1, .model_level = -1};
    memcpy(s->us + (size_t)k * s->d, u, sizeof(double) * (size_t)s->d);
    return k;
}

int hb_new_trial(hb_state *s, hps_suggestion *out, hb_rung *r, int bracket, int rung)
{
    if (hb_trial_find(s, out->trial_id) >= 0)
        return HPS_EINVAL; /* the engine presets a fresh id */
    int level = -1;
    int rc = hb_sample(s, out, &level);
    if (rc != HPS_OK)
        return rc;
    int e = hb_rung_add(r, s->nt);
    if (e < 0)
        return e;
    int k = trial_add(s, out->trial_id, out->u);
    if (k < 0) {
        r->n--;
        return k;
    }
    hb_trial *t = &s->t[k];
    t->bracket = bracket;
    t->rung = rung;
    t->entry = e;
    t->running = 1;
    t->model_level = level;
    out->promotion = 0;
    return k;
}

/* ---- create / destroy ------------------------------------------------------------------ */

static void hb_destroy(void *state)
{
    hb_state *s = state;
    if (!s)
        return;
    for (int b = 0; b < s->nbr; b++) {
        for (int i = 0; i <= s->br[b].s; i++)
            free(s->br[b].rungs ? s->br[b].rungs[i].e : NULL);
        free(s->br[b].rungs);
        free(s->br[b].queue);
    }
    free(s->br);
    if (s->asha)
        for (int k = 0; k <= s->s_max; k++)
            free(s->asha[k].e);
    free(s->asha);
    hb_levels_free(s);
    if (s->qrng)
        gsl_qrng_free(s->qrng);
    free(s->shift);
    free(s->q);
    free(s->t);
    free(s->us);
    hps_idmap_free(&s->ids);
    free(s->sortbuf);
    free(s);
}

static int hb_create_kind(hb_kind kind, const char *dflt_sampler, const hps_space *space,
                          const hps_strategy_cfg *cfg, uint64_t seed, void **state, char *err,
                          size_t errlen)
{
    *state = NULL;
    const char *name = kind == HB_ASHA ? "asha" : strcmp(dflt_sampler, "tpe") == 0 ? "bohb"
                                                                                   : "hyperband";
    double min_r = hps_strategy_cfg_double(cfg, "min_resource", HPS_MIN_RESOURCE_DEFAULT);
    double max_r = hps_strategy_cfg_double(cfg, "max_resource", HPS_MAX_RESOURCE_DEFAULT);
    long eta = hps_strategy_cfg_int(cfg, "eta", 3);
    const char *sname = hps_strategy_cfg_str(cfg, "sampler", dflt_sampler);
    double frac = hps_strategy_cfg_double(cfg, "random_fraction", 1.0 / 3.0);
    long minp = hps_strategy_cfg_int(cfg, "min_points_in_model", (long)space->n_params + 2);
    int sampler = -1;
    for (int i = 0; sampler_names[i]; i++)
        if (strcmp(sname, sampler_names[i]) == 0)
            sampler = i;

    if (!(min_r > 0.0) || !isfinite(max_r)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: min_resource must be > 0 (got %g)", name, min_r);
        return HPS_ECONFIG;
    }
    if (!(max_r >= min_r)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: max_resource (%g) must be >= min_resource (%g)", name,
                     max_r, min_r);
        return HPS_ECONFIG;
    }
    if (max_r / min_r > HB_MAX_RATIO) {
        if (err && errlen)
            snprintf(err, errlen, "%s: max_resource / min_resource must be at most 2^40", name);
        return HPS_ECONFIG;
    }
    if (eta < 2 || eta > 1000) {
        if (err && errlen)
            snprintf(err, errlen, "%s: eta must be an integer >= 2 (got %ld)", name, eta);
        return HPS_ECONFIG;
    }
    if (sampler < 0) {
        set_err(err, errlen, "option sampler must be random, sobol, gp or tpe");
        return HPS_ECONFIG;
    }
    if (!(frac >= 0.0 && frac <= 1.0) || minp < 1) {
        set_err(err, errlen, "random_fraction must be in [0, 1], min_points_in_model >= 1");
        return HPS_ECONFIG;
    }
    if (sampler == HB_SOBOL && (unsigned)space->n_params > gsl_qrng_sobol->max_dimension) {
        if (err && errlen)
            snprintf(err, errlen, "%s: sampler sobol supports at most %u parameters, the space "
                     "has %d (use sampler: random)", name, gsl_qrng_sobol->max_dimension,
                     space->n_params);
        return HPS_ECONFIG;
    }

    hb_state *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    s->kind = kind;
    s->space = space;
    s->d = space->n_params;
    s->seed = seed;
    s->min_r = min_r;
    s->max_r = max_r;
    s->eta = (int)eta;
    s->s_max = hb_s_max(min_r, max_r, (int)eta);
    s->next_s = s->s_max;
    s->sampler = (hb_sampler)sampler;
    s->random_fraction = frac;
    s->min_points = (int)minp;
    s->levels = calloc((size_t)s->s_max + 1, sizeof *s->levels);
    if (!s->levels)
        goto oom;
    if (kind == HB_ASHA) {
        s->asha = calloc((size_t)s->s_max + 1, sizeof *s->asha);
        if (!s->asha)
            goto oom;
    }
    if (sampler == HB_SOBOL && s->d > 0) {
        s->qrng = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)s->d);
        s->shift = malloc(sizeof(double) * (size_t)s->d);
        s->q = malloc(sizeof(double) * (size_t)s->d);
        if (!s->qrng || !s->shift || !s->q)
            goto oom;
        /* the Cranley-Patterson shift, hashed from the seed */
        for (int i = 0; i < s->d; i++) {
            uint64_t z = hps_mix64(seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(i + 1)));
            s->shift[i] = (double)(z >> 11) * 0x1.0p-53;
        }
    }
    if (sampler == HB_TPE) {
        /* the model is only asked once a level has min_points results; TPE's own
         * random start-up is off and its good group is BOHB's top 15%; its bad density
         * keeps equal weights (bandwidth weights did worse on bench/hyperband with one
         * worker) */
        s->model_ops = &hps_strategy_tpe;
        s->model_keys[0] = "n_startup";
        s->model_keys[1] = "gamma";
        s->model_keys[2] = "bad_weights";
        snprintf(s->model_buf[0], sizeof s->model_buf[0], "1");
        snprintf(s->model_buf[1], sizeof s->model_buf[1], "0.15");
        snprintf(s->model_buf[2], sizeof s->model_buf[2], "equal");
        s->model_cfg.n = 3;
    } else if (sampler == HB_GP) {
        s->model_ops = &hps_strategy_gp;
        s->model_keys[0] = "n_initial";
        snprintf(s->model_buf[0], sizeof s->model_buf[0], "1");
        s->model_cfg.n = 1;
    }
    for (int k = 0; k < 3; k++)
        s->model_vals[k] = s->model_buf[k];
    s->model_cfg.keys = s->model_keys;
    s->model_cfg.values = s->model_vals;
    if (s->model_ops) {
        /* surface the model's own refusals (e.g. a space too large for it) now */
        void *probe = NULL;
        int rc = s->model_ops->create(space, &s->model_cfg, seed, &probe, err, errlen);
        if (rc != HPS_OK) {
            hb_destroy(s);
            return rc;
        }
        s->model_ops->destroy(probe);
    }
    *state = s;
    return HPS_OK;
oom:
    hb_destroy(s);
    return HPS_ENOMEM;
}

static int hyperband_create(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                            void **state, char *err, size_t errlen)
{
    return hb_create_kind(HB_HYPERBAND, "random", space, cfg, seed, state, err, errlen);
}

static int asha_create(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                       void **state, char *err, size_t errlen)
{
    return hb_create_kind(HB_ASHA, "random", space, cfg, seed, state, err, errlen);
}

static int bohb_create(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                       void **state, char *err, size_t errlen)
{
    return hb_create_kind(HB_HYPERBAND, "tpe", space, cfg, seed, state, err, errlen);
}

/* ---- suggest / observe ------------------------------------------------------------------ */

static int hb_suggest(void *state, hps_suggestion *out)
{
    hb_state *s = state;
    return s->kind == HB_ASHA ? hb_suggest_asha(s, out) : hb_suggest_hyperband(s, out);
}

static int hb_observe(void *state, const hps_observation *obs, hps_decision *decision)
{
    hb_state *s = state;
    if (decision)
        *decision = HPS_DECISION_CONTINUE;
    if (obs->kind == HPS_OBS_INTERMEDIATE)
        return HPS_OK;
    int k = hb_trial_find(s, obs->trial_id);
    if (k < 0 || !s->t[k].running)
        return HPS_OK;
    hb_trial *t = &s->t[k];
    hb_entry *e = hb_trial_entry(s, k);
    int failed = obs->kind == HPS_OBS_FAILED || !isfinite(obs->value);
    e->state = failed ? HB_FAILED : HB_DONE;
    e->value = failed ? HUGE_VAL : obs->value;
    t->running = 0;
    int level;
    if (s->kind == HB_ASHA) {
        s->asha[t->rung].n_done++;
        level = s->s_max - t->rung;
    } else {
        hb_bracket *b = &s->br[t->bracket];
        b->rungs[t->rung].n_done++;
        level = b->s - t->rung;
    }
    int rc = hb_level_add(s, level, k, obs->value, failed);
    if (rc != HPS_OK)
        return rc;
    return s->kind == HB_ASHA ? HPS_OK : hb_after_result(s, k);
}

const hps_strategy_ops hps_strategy_hyperband = {
    .version = HPS_STRATEGY_VERSION,
    .name = "hyperband",
    .options = hb_options,
    .create = hyperband_create,
    .destroy = hb_destroy,
    .suggest = hb_suggest,
    .observe = hb_observe,
    .flags = HPS_STRATEGY_ADAPTIVE,
};

const hps_strategy_ops hps_strategy_asha = {
    .version = HPS_STRATEGY_VERSION,
    .name = "asha",
    .options = hb_options,
    .create = asha_create,
    .destroy = hb_destroy,
    .suggest = hb_suggest,
    .observe = hb_observe,
    .flags = HPS_STRATEGY_ADAPTIVE,
};

const hps_strategy_ops hps_strategy_bohb = {
    .version = HPS_STRATEGY_VERSION,
    .name = "bohb",
    .options = bohb_options,
    .create = bohb_create,
    .destroy = hb_destroy,
    .suggest = hb_suggest,
    .observe = hb_observe,
    .flags = HPS_STRATEGY_ADAPTIVE,
};
