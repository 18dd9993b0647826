/*
 * The `gp` strategy: Bayesian optimisation with a Gaussian process (gp_model.h)
 * and expected improvement (gp_acq.h).
 *
 * Encoding. A float parameter is one feature (its unit coordinate; log-scaled
 * parameters are already uniform in log space there); an int or bool is one
 * feature snapped to its value's slice centre; a categorical with K choices is a
 * one-hot block of K features. Each parameter has one length scale.
 *
 * Suggestions. Until n_initial results are in (not merely n_initial trials
 * started), trial_id takes point trial_id of a seeded, shifted Sobol sequence
 * (Halton above 40 parameters): with many workers, model-based points chosen from
 * the first handful of results would commit the search to the first basin found.
 * Afterwards the model is conditioned on the pending trials as fantasies believed
 * at their posterior mean plus pending_kappa standard deviations, so a batch
 * spreads where the model is unsure; quasi-random candidates plus perturbations of
 * the best observations are scored by the acquisition and the best refined
 * (gp_optimize.c); the best that is not within 1e-3 of a pending trial wins.
 *
 * Exploring. Some suggestions search outside the ball of radius 0.4 sqrt(d) around
 * the incumbent, scored on a model refitted to the observations outside it (a
 * restart that keeps what is known there) and kept out of the ball: inside a wide
 * basin the main model's length scales grow along the basin's flat directions and
 * its constant mean settles far above the data, so its expected improvement
 * elsewhere is nil (Hartmann6's local minimum). Which ones:
 *   - with trials pending (gp_explore.c): while the best observation outside the
 *     ball beats the median observation, explore_share of the trial ids (every
 *     second one by default), a share multiplied by 2/5 for every 10 observations
 *     in a row that do not improve that outside best. A parallel search keeps
 *     making small gains in a wrong basin, so waiting for it to stagnate (the
 *     serial rule) never triggers, and every worker's trial lands in that basin.
 *   - with nothing pending (a serial search): after 15 observations without a
 *     relative 1e-4 improvement of the best value, 7 of every 10 suggestions. The
 *     explore share serially left fewer Hartmann6 seeds in the local minimum but
 *     cost the others precision, and did no better on Levy on held-out seeds; the
 *     README has the figures.
 * The escaping suggestions of the serial rule tend to stay near the ball's surface,
 * on the settled basin's outer slope; excluding that slope from the outside model
 * or aiming at the incumbent's value instead of the outside best made it worse.
 *
 * Output warp: objectives with a large dynamic range are Box-Cox-warped
 * (gp_warp.c). Failed trials enter with the worst value seen so far, which steers
 * the search away from them without inventing a value.
 *
 * Cost: observe() appends one row to the Cholesky factor (O(n^2)); the
 * hyper-parameters are refitted (gp_fit.c) every refit_every observations, at
 * most every n/20, on at most fit_max_points of them. With many workers (more than
 * max_fantasies trials pending) a suggestion conditions on the newest
 * max_fantasies pending trials only and explores on the main model (no refit), and
 * past 1,000 results its candidates and fantasies shrink as (1000/n)^2 (and, past
 * the model's first rebuild below, the refined candidates and their gradient steps
 * too: with few candidates refining is what costs), so its cost stops growing with
 * the worker count. With more than CROWD_P (256) trials pending, the candidates,
 * fantasies, refined candidates and their steps shrink further as
 * CROWD_P/pending (down to 32 candidates, 8 fantasies and one candidate refined
 * for 5 steps): a round of suggestions, one per worker, then costs about what
 * CROWD_P suggestions do (bench/scale.c measures where the coordinator's
 * suggestions start to idle workers). Neither raises a count the user set below
 * its floor. Both rules depend only on the results and the pending trials, so a
 * replay still gives the same suggestions.
 *
 * Bounded model: every observation is kept (gp_archive.h), but past max_model_points
 * of them the model holds only a subset: once it has grown max_model_points/10 rows
 * beyond the cap it is rebuilt on a fresh one (the initial design, the best third,
 * the newest sixth, a seeded random draw from the rest; one O(cap^3) factorisation
 * per cap/10 results) with the hyper-parameters it had. So the model has at most
 * 1.1 max_model_points rows, and an observation (O(rows^2)) and a suggestion
 * (O(rows^2) per candidate) stop costing more as results arrive. Refits, the seeds
 * of the fit and of the exploring model count every result, not the model's rows;
 * below the cap the two are the same, so such sweeps are unchanged bit for bit.
 *
 * Exactness: the model after k observations depends only on them (refits and
 * rebuilds happen at fixed counts, from seeds derived from the count), so does the exploring
 * rules' state, and a suggestion's draws and whether it explores come from that
 * state, the pending trials and (seed, trial_id), so a replay gives the same
 * suggestions bit for bit.
 *
 * GSL's error handler is left alone: every GSL call here has valid sizes and
 * finite inputs, so only an allocation failure can raise, which comes back as
 * HPS_ENOMEM under a non-aborting handler. The Cholesky factorisation is our own
 * and escalates jitter, so singular matrices never reach GSL.
 *
 * The measured effect of each rule is in the README and in bench/gp_quality.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "hpsweep/error.h"
#include "gp_acq.h"
#include "gp_archive.h"
#include "gp_explore.h"
#include "gp_model.h"
#include "gp_space.h"
#include "strategies.h"

static const char *const acq_names[] = {"ei", "ucb", NULL};
static const char *const warp_names[] = {"auto", "none", NULL};

static const hps_option_spec gp_options[] = {
    {.name = "n_initial", .type = HPS_OPT_INT, .min = 0, .max = 100000,
     .help = "quasi-random (Sobol) trials before the model is used, and results needed "
             "before it is; 0 (default) picks max(6, 2*d+2) for d parameters"},
    {.name = "acquisition", .type = HPS_OPT_ENUM, .choices = acq_names,
     .help = "ei: expected improvement, computed as log-EI (default); ucb: lower "
             "confidence bound mu - sqrt(ucb_beta)*sigma"},
    {.name = "xi", .type = HPS_OPT_FLOAT, .min = 0.0, .max = 10.0,
     .help = "ei: improvement sought beyond the best value, in standard deviations of the "
             "observed values (default 0); larger trades final precision for exploration"},
    {.name = "ucb_beta", .type = HPS_OPT_FLOAT, .min = 0.0, .max = 1e6,
     .help = "exploration weight of ucb (default 4)"},
    {.name = "refit_every", .type = HPS_OPT_INT, .min = 1, .max = 100000,
     .help = "refit the kernel hyper-parameters every this many observations (default 1; "
             "at most every n/20 observations beyond that); in between, O(n^2) updates"},
    {.name = "n_candidates", .type = HPS_OPT_INT, .min = 16, .max = 1000000,
     .help = "quasi-random candidates scored per suggestion before refinement "
             "(default 1024; beyond 250 observations scaled by 250/n, to 256 at least)"},
    {.name = "n_refine", .type = HPS_OPT_INT, .min = 0, .max = 1000,
     .help = "best candidates refined by projected-gradient ascent (default 4; half "
             "beyond 250 observations)"},
    {.name = "output_warp", .type = HPS_OPT_ENUM, .choices = warp_names,
     .help = "auto (default): Box-Cox-warp the objective values before the GP sees them, "
             "lambda in {1, 0.75, 0.5, 0.25, 0} chosen on the initial design's values "
             "(1 leaves them as they are); none: never warp"},
    {.name = "pending_kappa", .type = HPS_OPT_FLOAT, .min = 0.0, .max = 10.0,
     .help = "pending trials are believed to score the posterior mean plus this many "
             "posterior standard deviations while the next point is chosen (default 0.5; "
             "0: kriging believer)"},
    {.name = "explore_share", .type = HPS_OPT_FLOAT, .min = 0.0, .max = 1.0,
     .help = "with trials pending: fraction of the suggestions that search outside the "
             "basin the search has settled in while the best point outside it beats the "
             "median (default 0.5; multiplied by 2/5 for every 10 observations that do "
             "not improve that point; 0: never)"},
    {.name = "fit_max_points", .type = HPS_OPT_INT, .min = 10, .max = 1000000,
     .help = "observations the hyper-parameter fit uses at most: the best third and an "
             "even spread of the rest (default 200)"},
    {.name = "max_fantasies", .type = HPS_OPT_INT, .min = 0, .max = 1000000,
     .help = "with many workers: only the newest this many pending trials are conditioned "
             "on as fantasies (all are still kept at a distance), and past this many pending "
             "an exploring suggestion searches outside the settled basin on the main model "
             "instead of refitting one to the observations outside it; past 256 pending "
             "the candidates, fantasies and refinement shrink as 256/pending (default 64; "
             "0: no limit and no shrinking). Keeps a suggestion's cost from growing with "
             "the worker count"},
    {.name = "max_model_points", .type = HPS_OPT_INT, .min = 100, .max = 10000000,
     .help = "past this many results the model holds this many of them, chosen anew every "
             "max_model_points/10 results: the initial design, the best third, the newest "
             "sixth and a seeded random draw from the rest (default 1000; sweeps with at "
             "most that many results are unchanged). Keeps a suggestion's and an "
             "observation's cost from growing with the results"},
    {.name = NULL},
};

typedef struct gp_state {
    gp_space sp;
    uint64_t seed;
    int n_initial, refit_every, n_candidates, n_refine, fit_max_points, max_fantasies;
    int max_model_points;
    gp_acq_kind acq;
    double beta, xi, kappa;

    gp_model model;    /* rows: the archive's, or a subset of them past max_model_points */
    gp_archive arch;   /* every observation, in order */
    int *subset;       /* [max_model_points] scratch for choosing the model's rows */
    int best_obs;      /* archive row of the best observation */
    int since_fit;     /* observations since the last refit */
    int fitted;        /* a refit has happened */
    int n_fits;        /* refits so far */
    int n_final;       /* observations with a value */
    double worst;      /* largest observed value */
    double best;       /* smallest observed value */
    int best_row;      /* its model row */
    int last_improve;  /* n_final when best last improved by a relative 1e-4 */
    int *failed_rows;  /* model rows of failed trials */
    int n_failed;
    size_t cap_failed;

    gp_pending pend;   /* pending trials (trial id + unit point) */
    gp_explore explore; /* which suggestions search outside the settled basin */
} gp_state;

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

static void gp_destroy(void *state)
{
    gp_state *s = state;
    if (!s)
        return;
    gp_model_free(&s->model);
    gp_space_free(&s->sp);
    gp_pending_free(&s->pend);
    gp_explore_free(&s->explore);
    gp_archive_free(&s->arch);
    free(s->subset);
    free(s->failed_rows);
    free(s);
}

static int gp_create(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                     void **state, char *err, size_t errlen)
{
    *state = NULL;
    gp_state *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    int rc = gp_space_init(&s->sp, space, seed);
    if (rc != HPS_OK) {
        free(s);
        if (rc == HPS_ECONFIG)
            set_err(err, errlen, "gp: the space has more parameters than the quasi-random "
                                 "initial design supports (1229)");
        return rc;
    }
    int d = space->n_params;
    s->seed = seed;
    long ni = hps_strategy_cfg_int(cfg, "n_initial", 0);
    s->n_initial = ni > 0 ? (int)ni : (2 * d + 2 > 6 ? 2 * d + 2 : 6);
    s->acq = strcmp(hps_strategy_cfg_str(cfg, "acquisition", "ei"), "ucb") == 0 ? GP_ACQ_UCB
                                                                               : GP_ACQ_EI;
    s->beta = hps_strategy_cfg_double(cfg, "ucb_beta", 4.0);
    s->xi = hps_strategy_cfg_double(cfg, "xi", 0.0);
    s->kappa = hps_strategy_cfg_double(cfg, "pending_kappa", 0.5);
    s->explore.share = hps_strategy_cfg_double(cfg, "explore_share", 0.5);
    int warp = strcmp(hps_strategy_cfg_str(cfg, "output_warp", "auto"), "none") != 0;
    s->refit_every = (int)hps_strategy_cfg_int(cfg, "refit_every", 1);
    s->n_candidates = (int)hps_strategy_cfg_int(cfg, "n_candidates", 1024);
    s->n_refine = (int)hps_strategy_cfg_int(cfg, "n_refine", 4);
    s->fit_max_points = (int)hps_strategy_cfg_int(cfg, "fit_max_points", 200);
    s->max_fantasies = (int)hps_strategy_cfg_int(cfg, "max_fantasies", 64);
    s->max_model_points = (int)hps_strategy_cfg_int(cfg, "max_model_points", 1000);
    if (s->refit_every < 1 || s->n_candidates < 1 || s->n_refine < 0 || s->fit_max_points < 2 ||
        s->max_model_points < 100) {
        gp_destroy(s);
        set_err(err, errlen, "gp: option out of range");
        return HPS_ECONFIG;
    }
    s->arch.dim = s->sp.n_feat;
    s->subset = malloc(sizeof(int) * (size_t)s->max_model_points);
    rc = s->subset ? gp_model_init(&s->model, s->sp.n_feat, d, s->sp.group) : HPS_ENOMEM;
    if (rc != HPS_OK) {
        gp_destroy(s);
        return rc;
    }
    s->model.warp = warp;
    s->model.warp_choose = s->n_initial;
    *state = s;
    return HPS_OK;
}

/* ---- observe ---------------------------------------------------------------------------- */

/* Past max_model_points results the model is rebuilt on a fresh subset whenever it has
 * grown by this many rows since the last rebuild. */
static int rebuild_step(const gp_state *s)
{
    return s->max_model_points / 10 > 1 ? s->max_model_points / 10 : 1;
}

/* The model's rows become a subset of the archive (gp_archive_subset), seeded from the
 * result count; failed rows carry the worst value as before. Leaves the model
 * unfactored, its hyper-parameters as they were. */
static int rebuild_model(gp_state *s)
{
    uint64_t seed = s->seed ^ hps_mix64((uint64_t)s->arch.n + 0x3C6EF372FE94F82BULL);
    int m = gp_archive_subset(&s->arch, s->max_model_points, s->n_initial, seed, s->subset);
    if (m < 0)
        return m;
    int rc = gp_model_reset(&s->model, m, s->arch.x, s->arch.y, s->subset);
    if (rc != HPS_OK)
        return rc;
    s->n_failed = 0;
    s->best_row = 0;
    for (int k = 0; k < m; k++) {
        int i = s->subset[k];
        if (i == s->best_obs)
            s->best_row = k;
        if (!s->arch.failed[i])
            continue;
        int *r = hps_grow(s->failed_rows, &s->cap_failed, (size_t)s->n_failed + 1, sizeof *r, 16);
        if (!r)
            return HPS_ENOMEM;
        s->failed_rows = r;
        s->failed_rows[s->n_failed++] = k;
        gp_model_set_y(&s->model, k, s->n_final > 0 ? s->worst : 0.0);
    }
    return HPS_OK;
}

static int refit_due(const gp_state *s)
{
    int n = s->arch.n;
    if (n < 2)
        return 0;
    if (!s->fitted)
        return 1;
    int every = n / 20 > s->refit_every ? n / 20 : s->refit_every;
    return s->since_fit >= every;
}

static int gp_observe(void *state, const hps_observation *obs, hps_decision *decision)
{
    gp_state *s = state;
    if (decision)
        *decision = HPS_DECISION_CONTINUE;
    if (obs->kind == HPS_OBS_INTERMEDIATE)
        return HPS_OK;
    gp_pending_remove(&s->pend, obs->trial_id);

    double *x = malloc(sizeof(double) * (size_t)(s->sp.n_feat > 0 ? s->sp.n_feat : 1));
    if (!x)
        return HPS_ENOMEM;
    gp_space_features(&s->sp, obs->u, x);
    int failed = obs->kind == HPS_OBS_FAILED || !isfinite(obs->value);
    int rc = gp_archive_add(&s->arch, x, obs->value, failed);
    if (rc != HPS_OK) {
        free(x);
        return rc;
    }
    if (failed) {
        int *r = hps_grow(s->failed_rows, &s->cap_failed, (size_t)s->n_failed + 1, sizeof *r, 16);
        if (!r) {
            free(x);
            return HPS_ENOMEM;
        }
        s->failed_rows = r;
        s->failed_rows[s->n_failed++] = s->model.n;
        rc = gp_model_add(&s->model, x, s->n_final > 0 ? s->worst : 0.0);
    } else {
        int new_worst = s->n_final == 0 || obs->value > s->worst;
        if (new_worst)
            s->worst = obs->value;
        if (s->n_final == 0 || obs->value < s->best) {
            if (s->n_final == 0 ||
                s->best - obs->value > 1e-4 * (fabs(s->best) > 1e-12 ? fabs(s->best) : 1e-12))
                s->last_improve = s->n_final + 1;
            s->best = obs->value;
            s->best_row = s->model.n;
            s->best_obs = s->arch.n - 1;
        }
        s->n_final++;
        rc = gp_model_add(&s->model, x, obs->value);
        if (rc == HPS_OK && new_worst && s->n_failed > 0) {
            for (int k = 0; k < s->n_failed; k++)
                gp_model_set_y(&s->model, s->failed_rows[k], s->worst);
            gp_model_update_alpha(&s->model);
        }
    }
    free(x);
    if (rc == HPS_OK && s->model.n >= s->max_model_points + rebuild_step(s))
        rc = rebuild_model(s);
    if (rc != HPS_OK)
        return rc;
    if (s->n_final > 0 && (rc = gp_explore_observe(&s->explore, &s->model, s->best_row)) != HPS_OK)
        return rc;
    s->since_fit++;
    if (refit_due(s)) {
        int n = s->arch.n;
        /* fresh starts early and at every 5th refit; otherwise the warm start alone */
        int fresh = s->n_fits < 10 || s->n_fits % 5 == 0;
        gp_fit_opts fo = {.n_starts = fresh ? 2 : 0,
                          .n_screen = fresh ? 8 : 0,
                          .max_iter = n < 100 ? 100 : 40,
                          .max_points = s->fit_max_points,
                          .seed = s->seed ^ hps_mix64((uint64_t)n + 0x6A09E667F3BCC909ULL)};
        rc = gp_model_fit(&s->model, &fo);
        s->fitted = 1;
        s->n_fits++;
        s->since_fit = 0;
    } else if (!s->model.factored) {
        rc = gp_model_factor(&s->model);
    }
    return rc;
}

/* ---- which suggestions explore -------------------------------------------------------- */

/* With nothing pending (a serial search): after STAG_K observations without a relative
 * 1e-4 improvement of the best value, ESC_ON of every ESC_PERIOD suggestions explore.
 * With trials pending: the explore share (gp_explore.c). */
#define STAG_K 15
#define ESC_ON 7
#define ESC_PERIOD 10

static int explores(const gp_state *s, int64_t trial_id)
{
    if (s->pend.n > 0)
        return gp_explore_decide(&s->explore, trial_id);
    int stag = s->n_final - s->last_improve;
    return stag >= STAG_K && (stag - STAG_K) % ESC_PERIOD < ESC_ON;
}

/* ---- suggest ---------------------------------------------------------------------------- */

#define CROWD_N 1000
#define CROWD_P 256

/* v scaled by factor (< 1), but not below floor, and never raised: a count the user
 * set under the floor stays as it is. */
static int shrunk(int v, double factor, int floor)
{
    return v <= floor ? v : (int)fmax((double)floor, (double)v * factor);
}

static int gp_suggest(void *state, hps_suggestion *out)
{
    gp_state *s = state;
    out->promotion = 0;
    out->budget = 0.0;
    out->bracket = -1;
    out->rung = -1;
    int rc;
    if (out->trial_id < s->n_initial || s->model.n < s->n_initial || s->n_final < 2 ||
        !s->model.factored) {
        rc = gp_space_initial_point(&s->sp, (uint64_t)(out->trial_id < 0 ? 0 : out->trial_id),
                                    out->u);
    } else {
        /* Scoring costs O(n^2) per candidate and refining O(n^2) per step: beyond 250
         * observations the candidate count shrinks as 250/n (to 256 at least) and
         * half as many candidates are refined, which keeps a suggestion near
         * O(n^2) * const instead of O(n^3). */
        int n = s->model.n, nc = s->n_candidates, nr = s->n_refine;
        if (n > 250) {
            long scaled = (long)((double)nc * 250.0 / (double)n);
            nc = scaled < 256 ? (nc < 256 ? nc : 256) : (int)scaled;
            nr = nr > 1 ? (nr + 1) / 2 : nr;
        }
        /* Many workers (more than max_fantasies pending): past CROWD_N results the
         * candidates and the fantasies shrink as (CROWD_N/results)^2. With the model
         * bounded (max_model_points) a candidate costs at most what it did at the
         * cap, and this takes a suggestion's cost further down as the sweep goes on,
         * which is what keeps 1,000 workers busy (bench/scale). Below the first
         * rebuild results and model rows are the same count. */
        int nf = s->max_fantasies, nres = s->arch.n, ni = 0;
        if (nf > 0 && s->pend.n > nf && nres > CROWD_N) {
            double f = (double)CROWD_N / (double)nres;
            nc = shrunk(nc, f * f, 32);
            nf = shrunk(nf, f * f, 8);
            /* refining dominates once the candidates are few: past the first rebuild
             * (model rows bounded) its candidates and steps shrink the same way */
            if (nres >= s->max_model_points + rebuild_step(s)) {
                nr = nr > 1 ? (int)fmax(1.0, (double)nr * f * f) : nr;
                ni = (int)fmax(5.0, 20.0 * f * f);
            }
        }
        /* Crowded (more than CROWD_P pending, so about as many workers): the
         * candidates, fantasies and refinement shrink further as CROWD_P/pending,
         * so that a round of suggestions, one per worker, costs about what CROWD_P
         * of them do, down to the floors. */
        if (nf > 0 && s->pend.n > CROWD_P) {
            double g = (double)CROWD_P / (double)s->pend.n;
            nc = shrunk(nc, g, 32);
            nf = shrunk(nf, g, 8);
            nr = shrunk(nr, g, 1);
            ni = shrunk(ni > 0 ? ni : GP_REFINE_ITERS, g, 5);
        }
        double *tu = NULL;
        gp_model tm;
        gp_model *use = &s->model;
        memset(&tm, 0, sizeof tm);
        double er = gp_explore_radius(s->sp.d);
        if (explores(s, out->trial_id)) {
            tu = malloc(sizeof(double) * (size_t)s->sp.d);
            if (!tu)
                return HPS_ENOMEM;
            const double *xb = s->model.x + (size_t)s->best_row * s->model.dim;
            gp_space_unfeature(&s->sp, xb, tu);
            /* past max_fantasies pending, no refit (about 1 s at n = 500): the main
             * model, kept out of the ball */
            int cheap = s->max_fantasies > 0 && s->pend.n > s->max_fantasies;
            rc = cheap ? HPS_EINVAL : gp_explore_model(&s->model, xb, er, s->fit_max_points,
                                  s->seed ^ hps_mix64((uint64_t)s->arch.n + 0xBB67AE8584CAA73BULL),
                                  &tm);
            if (rc == HPS_OK)
                use = &tm;
            else if (rc != HPS_EINVAL) {
                gp_model_free(&tm);
                free(tu);
                return rc;
            }
        }
        gp_optimize_opts o = {.tabu_u = tu, .tabu_r = er, .acq = s->acq,
                              .beta = s->beta,
                              .xi = s->xi,
                              .kappa = s->kappa,
                              .n_candidates = nc,
                              .n_refine = nr,
                              .max_fantasies = nf,
                              .refine_iters = ni,
                              .seed = hps_mix64(s->seed ^ hps_mix64((uint64_t)out->trial_id))};
        rc = gp_optimize(&s->sp, use, &s->pend, &o, out->u);
        gp_model_free(&tm);
        free(tu);
    }
    if (rc != HPS_OK)
        return rc;
    return gp_pending_add(&s->pend, out->trial_id, out->u, s->sp.d);
}

int gp_state_model_rows(const void *state)
{
    return ((const gp_state *)state)->model.n;
}

int gp_state_results(const void *state)
{
    return ((const gp_state *)state)->arch.n;
}

const hps_strategy_ops hps_strategy_gp = {
    .version = HPS_STRATEGY_VERSION,
    .name = "gp",
    .options = gp_options,
    .create = gp_create,
    .destroy = gp_destroy,
    .suggest = gp_suggest,
    .observe = gp_observe,
    .flags = HPS_STRATEGY_ADAPTIVE | HPS_STRATEGY_NO_PROMOTION,
};
