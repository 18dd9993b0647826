/*
 * The `tpe` strategy: a tree-structured Parzen estimator (Bergstra et al., "Algorithms
 * for hyper-parameter optimization", 2011), with Optuna-like defaults.
 *
 * After n_startup random trials, the observations are split by value: the best
 * gamma(n) = min(ceil(gamma * n), 25) form the "good" group, the rest (plus, with
 * constant_liar, the pending trials and, always, the failed ones, counted as worse
 * than everything) the "bad" group. Each parameter is then chosen independently
 * (univariate TPE): n_ei_candidates draws from the good density l are scored by
 * log l(x) - log g(x), g being the bad density, and the best draw is taken. With
 * multivariate, whole points are drawn from a joint l and scored by joint densities.
 *
 * Densities (tpe_parzen.c), on the unit coordinate:
 *   float, int   a mixture of normals truncated to [0,1], one per observation plus a
 *                prior component N(0.5, 1) of weight prior_weight. An observation's
 *                bandwidth is the larger gap to its sorted neighbours (the prior's mean
 *                included), clipped to [1/min(100, n+1), 1] (Optuna's "magic clip").
 *                Ints are modelled at their slice centres and their draws snapped.
 *   categorical, bool   smoothed counts: prior_weight/K per choice plus the weights
 *                of the observations that chose it.
 * Observation weights: 1 for the 25 most recent of a group, a linear ramp from 1/n
 * to 1 for older ones (Optuna's default_weights). With bad_weights: bandwidth, each
 * kernel of g (numeric parameters, univariate) is also weighted by its bandwidth.
 * TPE's samples crowd where it has already looked, and most of them are "bad" by
 * the quantile split, so an unweighted g is high there mostly because that is where
 * the samples are; a kernel's bandwidth is about the inverse of the local sample
 * density, so the weighted g counts a crowd of bad points about once for the region
 * it covers. Optuna 3.1 weights both densities this way by accident (its truncated
 * normal's log-density lacks the -log(sigma) term, optuna/samplers/_tpe/
 * _truncnorm.py), which is why it beat our unweighted TPE on Hartmann6 and Levy;
 * weighting only g does better than weighting both (the README has the figures).
 *
 * A suggestion's draws come from a generator seeded by (seed, trial_id), so the
 * same observations and pending trials give the same suggestion bit for bit (which
 * the engine's replay-based resume relies on). A draw that lands within
 * 1e-3 of a pending trial is redrawn (up to 8 times).
 *
 * Cost per suggestion: O(n + p) to form the groups (observe keeps the finals sorted
 * by value) plus O(d * n_ei_candidates * b log b) for the densities, b the bad
 * group's size. With many workers and many results b is what grows (10,000 pending
 * trials are 10,000 bad points), so past max_bad_points it keeps its newest half (the
 * newest pending trials, which the liar most needs to spread new suggestions) and an
 * even stride through the older entries, each weighted as the entries it stands for
 * (tpe_cap_group): a suggestion then costs O(n + p) plus a constant. Below the cap the
 * groups, their order and so the suggestions are as they were, bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "hpsweep/error.h"
#include "strategies.h"
#include "tpe_parzen.h"

#define TPE_MIN_SEP 1e-3
#define TPE_RETRIES 8

static const char *const bad_weight_names[] = {"bandwidth", "equal", NULL};

static const hps_option_spec tpe_options[] = {
    {.name = "n_startup", .type = HPS_OPT_INT, .min = 1, .max = 100000,
     .help = "random trials before the estimator is used (default 10)"},
    {.name = "gamma", .type = HPS_OPT_FLOAT, .min = 0.01, .max = 0.5,
     .help = "fraction of the observations in the good group, at most 25 of them "
             "(default 0.1)"},
    {.name = "n_ei_candidates", .type = HPS_OPT_INT, .min = 1, .max = 10000,
     .help = "draws from the good density scored per parameter (default 24)"},
    {.name = "prior_weight", .type = HPS_OPT_FLOAT, .min = 0.0, .max = 100.0,
     .help = "weight of the uniform-ish prior component in every density (default 1)"},
    {.name = "bad_weights", .type = HPS_OPT_ENUM, .choices = bad_weight_names,
     .help = "bandwidth (default): each kernel of the bad density (numeric parameters, "
             "univariate) weighs in proportion to its bandwidth, so a crowd of bad points "
             "counts about once for its region; equal: all weigh the same (Bergstra et al.)"},
    {.name = "multivariate", .type = HPS_OPT_BOOL,
     .help = "one joint kernel per observation over all parameters instead of one density "
             "per parameter (Falkner et al.; Optuna's multivariate=True) (default false)"},
    {.name = "constant_liar", .type = HPS_OPT_BOOL,
     .help = "count pending trials as bad observations, spreading parallel suggestions "
             "(default true)"},
    {.name = "max_bad_points", .type = HPS_OPT_INT, .min = 50, .max = 10000000,
     .help = "the bad density is built from at most this many points: past it, the newest "
             "half of them (pending trials first) and an even stride through the older "
             "ones, each standing for the points it skips (default 1000). Keeps a "
             "suggestion's cost from growing with the results and the worker count"},
    {.name = NULL},
};

typedef struct tpe_state {
    const hps_space *space;
    int d;
    long *card;          /* [d] 0 for floats */
    int *categ;          /* [d] categorical or bool */
    uint64_t seed;
    int n_startup, n_ei, liar, multivariate, bw_bad;
    long *kind;          /* [d] K for a categorical or bool, 0 for a numeric parameter */
    double gamma, prior_weight;
    int max_bad;         /* the bad group's size cap (max_bad_points) */
    int last_nb;         /* the bad group's size at the last suggestion (for tests) */

    int n, cap;          /* observations (finals and failures) */
    double *u;           /* [cap][d] */
    double *y;           /* [cap] */
    int *failed;         /* [cap] */
    int n_final;
    struct iv *by_value; /* [cap] the finals by (value, row): kept sorted by observe */
    unsigned char *mark; /* [cap] scratch: rows in the good group */

    int np, capp;        /* pending */
    int64_t *pid;
    double *pu;          /* [capp][d] */

    double *vals, *tmp;  /* [d] scratch */
} tpe_state;

static void tpe_destroy(void *state)
{
    tpe_state *s = state;
    if (!s)
        return;
    free(s->card);
    free(s->categ);
    free(s->kind);
    free(s->u);
    free(s->y);
    free(s->failed);
    free(s->by_value);
    free(s->mark);
    free(s->pid);
    free(s->pu);
    free(s->vals);
    free(s->tmp);
    free(s);
}

static int tpe_create(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                      void **state, char *err, size_t errlen)
{
    *state = NULL;
    tpe_state *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    int d = space->n_params;
    size_t dd = (size_t)(d > 0 ? d : 1);
    s->space = space;
    s->d = d;
    s->seed = seed;
    s->card = malloc(sizeof(long) * dd);
    s->categ = malloc(sizeof(int) * dd);
    s->vals = malloc(sizeof(double) * dd);
    s->tmp = malloc(sizeof(double) * dd);
    s->kind = malloc(sizeof(long) * dd);
    if (!s->card || !s->categ || !s->vals || !s->tmp || !s->kind) {
        tpe_destroy(s);
        return HPS_ENOMEM;
    }
    for (int i = 0; i < d; i++) {
        s->card[i] = hps_space_cardinality(space, i);
        s->categ[i] = space->params[i].type == HPS_PARAM_CATEGORICAL ||
                      space->params[i].type == HPS_PARAM_BOOL;
        s->kind[i] = s->categ[i] ? (s->card[i] > 1 ? s->card[i] : 2) : 0;
    }
    s->n_startup = (int)hps_strategy_cfg_int(cfg, "n_startup", 10);
    s->gamma = hps_strategy_cfg_double(cfg, "gamma", 0.1);
    s->n_ei = (int)hps_strategy_cfg_int(cfg, "n_ei_candidates", 24);
    s->prior_weight = hps_strategy_cfg_double(cfg, "prior_weight", 1.0);
    s->liar = hps_strategy_cfg_bool(cfg, "constant_liar", 1);
    s->multivariate = hps_strategy_cfg_bool(cfg, "multivariate", 0);
    s->bw_bad = strcmp(hps_strategy_cfg_str(cfg, "bad_weights", "bandwidth"), "equal") != 0;
    s->max_bad = (int)hps_strategy_cfg_int(cfg, "max_bad_points", 1000);
    if (s->n_startup < 1 || !(s->gamma > 0.0) || s->n_ei < 1 || !(s->prior_weight >= 0.0) ||
        s->max_bad < 50) {
        if (err && errlen)
            snprintf(err, errlen, "tpe: option out of range");
        tpe_destroy(s);
        return HPS_ECONFIG;
    }
    *state = s;
    return HPS_OK;
}

/* ---- bookkeeping ---------------------------------------------------------------------- */

typedef struct iv {
    double v;
    int i;
} iv;

/* Insert final row r of value v into by_value (rows arrive in increasing order, so it
 * goes after every equal value): ordered by value, ties by row. */
static void by_value_insert(tpe_state *s, double v, int r)
{
    int lo = 0, hi = s->n_final;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (s->by_value[mid].v <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(s->by_value + lo + 1, s->by_value + lo, sizeof(iv) * (size_t)(s->n_final - lo));
    s->by_value[lo] = (iv){v, r};
}

static void pending_remove(tpe_state *s, int64_t id)
{
    for (int k = 0; k < s->np; k++)
        if (s->pid[k] == id) {
            memmove(s->pid + k, s->pid + k + 1, sizeof(int64_t) * (size_t)(s->np - k - 1));
            memmove(s->pu + (size_t)k * s->d, s->pu + (size_t)(k + 1) * s->d,
                    sizeof(double) * (size_t)(s->np - k - 1) * (size_t)s->d);
            s->np--;
            return;
        }
}

static int pending_add(tpe_state *s, int64_t id, const double *u)
{
    pending_remove(s, id);
    if (s->np == s->capp) {
        int cap = (int)hps_grow_cap((size_t)s->capp, (size_t)s->np + 1, 16);
        int64_t *pid = realloc(s->pid, sizeof(int64_t) * (size_t)cap);
        if (!pid)
            return HPS_ENOMEM;
        s->pid = pid;
        double *pu = realloc(s->pu, sizeof(double) * (size_t)cap * (size_t)(s->d > 0 ? s->d : 1));
        if (!pu)
            return HPS_ENOMEM;
        s->pu = pu;
        s->capp = cap;
    }
    s->pid[s->np] = id;
    memcpy(s->pu + (size_t)s->np * s->d, u, sizeof(double) * (size_t)s->d);
    s->np++;
    return HPS_OK;
}

static int tpe_observe(void *state, const hps_observation *obs, hps_decision *decision)
{
    tpe_state *s = state;
    if (decision)
        *decision = HPS_DECISION_CONTINUE;
    if (obs->kind == HPS_OBS_INTERMEDIATE)
        return HPS_OK;
    pending_remove(s, obs->trial_id);
    if (s->n == s->cap) {
        int cap = (int)hps_grow_cap((size_t)s->cap, (size_t)s->n + 1, 64);
        double *u = realloc(s->u, sizeof(double) * (size_t)cap * (size_t)(s->d > 0 ? s->d : 1));
        if (!u)
            return HPS_ENOMEM;
        s->u = u;
        double *y = realloc(s->y, sizeof(double) * (size_t)cap);
        if (!y)
            return HPS_ENOMEM;
        s->y = y;
        int *f = realloc(s->failed, sizeof(int) * (size_t)cap);
        if (!f)
            return HPS_ENOMEM;
        s->failed = f;
        iv *bv = realloc(s->by_value, sizeof(iv) * (size_t)cap);
        if (!bv)
            return HPS_ENOMEM;
        s->by_value = bv;
        unsigned char *mk = realloc(s->mark, (size_t)cap);
        if (!mk)
            return HPS_ENOMEM;
        s->mark = mk;
        s->cap = cap;
    }
    int failed = obs->kind == HPS_OBS_FAILED || !isfinite(obs->value);
    /* store the snapped point: what the space would run */
    hps_space_decode(s->space, obs->u, s->vals);
    hps_space_encode(s->space, s->vals, s->u + (size_t)s->n * s->d);
    for (int i = 0; i < s->d; i++)
        if (s->card[i] == 0) {
            double t = obs->u[i];
            s->u[(size_t)s->n * s->d + i] = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
        }
    s->y[s->n] = failed ? 0.0 : obs->value;
    s->failed[s->n] = failed;
    s->mark[s->n] = 0;
    if (!failed)
        by_value_insert(s, obs->value, s->n);
    s->n++;
    s->n_final += !failed;
    return HPS_OK;
}

/* ---- suggest ------------------------------------------------------------------------------ */

/* Optuna's default_weights for a group of k points in trial order. */
static void ramp_weights(int k, double *w)
{
    if (k < 25) {
        for (int i = 0; i < k; i++)
            w[i] = 1.0;
        return;
    }
    int r = k - 25;
    for (int i = 0; i < r; i++)
        w[i] = r > 1 ? 1.0 / k + (1.0 - 1.0 / k) * (double)i / (double)(r - 1) : 1.0 / k;
    for (int i = r; i < k; i++)
        w[i] = 1.0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int far_from_pending(const tpe_state *s, const double *u)
{
    for (int k = 0; k < s->np; k++) {
        double t = 0.0;
        for (int i = 0; i < s->d; i++) {
            double e = u[i] - s->pu[(size_t)k * s->d + i];
            t += e * e;
        }
        if (t < TPE_MIN_SEP * TPE_MIN_SEP)
            return 0;
    }
    return 1;
}

/* One draw of the whole point by univariate TPE. Groups: rows good[ng], bad[nb]
 * (indices >= s->n are pending trials). */
static void tpe_draw(tpe_state *s, gsl_rng *rng, const int *good, int ng, const int *bad, int nb,
                     const double *wg, const double *wb, double *work, tpe_mv_pair *sort, double *u)
{
    int d = s->d, nmax = ng > nb ? ng : nb;
    double *xs = work, *bufl = xs + nmax, *bufg = bufl + 4 * (size_t)(nmax + 1);
    double *catl = bufg + 4 * (size_t)(nmax + 1);
    for (int i = 0; i < d; i++) {
        if (s->categ[i]) {
            long K = s->card[i];
            double *cg = catl + K, sl = 0.0, sgd = 0.0;
            for (long c = 0; c < K; c++)
                catl[c] = cg[c] = s->prior_weight / (double)K;
            for (int k = 0; k < ng; k++) {
                long c = (long)floor(s->u[(size_t)good[k] * d + i] * (double)K);
                catl[c < K ? c : K - 1] += wg[k];
            }
            for (int k = 0; k < nb; k++) {
                const double *row = bad[k] < s->n ? s->u + (size_t)bad[k] * d
                                                  : s->pu + (size_t)(bad[k] - s->n) * d;
                long c = (long)floor(row[i] * (double)K);
                cg[c < K ? c : K - 1] += wb[k];
            }
            for (long c = 0; c < K; c++)
                sl += catl[c], sgd += cg[c];
            double best = -HUGE_VAL;
            long bc = 0;
            for (int e = 0; e < s->n_ei; e++) {
                double r = gsl_rng_uniform(rng) * sl, acc = 0.0;
                long c = K - 1;
                for (long j = 0; j < K; j++) {
                    acc += catl[j];
                    if (r < acc) {
                        c = j;
                        break;
                    }
                }
                double sc = log(catl[c] / sl) - log(cg[c] / sgd);
                if (sc > best) {
                    best = sc;
                    bc = c;
                }
            }
            u[i] = ((double)bc + 0.5) / (double)K;
            continue;
        }
        tpe_parzen l, g;
        for (int k = 0; k < ng; k++)
            xs[k] = s->u[(size_t)good[k] * d + i];
        tpe_parzen_build(&l, ng, xs, wg, s->prior_weight, 0, bufl, sort);
        for (int k = 0; k < nb; k++)
            xs[k] = bad[k] < s->n ? s->u[(size_t)bad[k] * d + i]
                                  : s->pu[(size_t)(bad[k] - s->n) * d + i];
        tpe_parzen_build(&g, nb, xs, wb, s->prior_weight, s->bw_bad, bufg, sort);
        double best = -HUGE_VAL, bx = 0.5;
        for (int e = 0; e < s->n_ei; e++) {
            double x = tpe_parzen_sample(&l, rng);
            double sc = tpe_parzen_logpdf(&l, x) - tpe_parzen_logpdf(&g, x);
            if (sc > best) {
                best = sc;
                bx = x;
            }
        }
        u[i] = bx;
    }
    /* snap ints to their slice centres */
    hps_space_decode(s->space, u, s->vals);
    hps_space_encode(s->space, s->vals, s->tmp);
    for (int i = 0; i < d; i++)
        if (s->card[i] > 0)
            u[i] = s->tmp[i];
}

/* The rows of a group as one [k][d] array (pending rows from pu). */
static void gather(const tpe_state *s, const int *rows, int k, double *x)
{
    int d = s->d;
    for (int r = 0; r < k; r++) {
        const double *row = rows[r] < s->n ? s->u + (size_t)rows[r] * d
                                           : s->pu + (size_t)(rows[r] - s->n) * d;
        memcpy(x + (size_t)r * d, row, sizeof(double) * (size_t)d);
    }
}

/* One draw of the whole point by multivariate TPE: n_ei joint draws from l, the best
 * by log l - log g. xs: (ng + nb) * d doubles; buf: tpe_mv_work(ng) + tpe_mv_work(nb)
 * + 2 d doubles. */
static void tpe_draw_mv(tpe_state *s, gsl_rng *rng, const int *good, int ng, const int *bad,
                        int nb, const double *wg, const double *wb, double *xs, double *buf,
                        double *u)
{
    int d = s->d;
    double *xg = xs, *xb = xs + (size_t)ng * d;
    gather(s, good, ng, xg);
    gather(s, bad, nb, xb);
    tpe_mv l, g;
    double *bl = buf, *bg = bl + tpe_mv_work(ng, d), *cand = bg + tpe_mv_work(nb, d);
    tpe_mv_build(&l, ng, d, s->kind, xg, wg, s->prior_weight, bl);
    tpe_mv_build(&g, nb, d, s->kind, xb, wb, s->prior_weight, bg);
    double best = -HUGE_VAL;
    for (int e = 0; e < s->n_ei; e++) {
        tpe_mv_sample(&l, rng, cand);
        double sc = tpe_mv_logpdf(&l, cand) - tpe_mv_logpdf(&g, cand);
        if (sc > best || e == 0) {
            best = sc;
            memcpy(u, cand, sizeof(double) * (size_t)d);
        }
    }
    hps_space_decode(s->space, u, s->vals);
    hps_space_encode(s->space, s->vals, s->tmp);
    for (int i = 0; i < d; i++)
        if (s->card[i] > 0)
            u[i] = s->tmp[i];
}

static int tpe_suggest(void *state, hps_suggestion *out)
{
    tpe_state *s = state;
    out->promotion = 0;
    out->budget = 0.0;
    out->bracket = -1;
    out->rung = -1;
    int d = s->d;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        return HPS_ENOMEM;
    gsl_rng_set(rng, hps_fold32(hps_mix64(s->seed ^ (HPS_GOLDEN * (uint64_t)(out->trial_id + 1)))));

    int rc = HPS_OK;
    if (s->n_final < s->n_startup) {
        for (int tries = 0; tries <= TPE_RETRIES; tries++) {
            for (int i = 0; i < d; i++)
                out->u[i] = gsl_rng_uniform(rng);
            hps_space_decode(s->space, out->u, s->vals);
            hps_space_encode(s->space, s->vals, s->tmp);
            for (int i = 0; i < d; i++)
                if (s->card[i] > 0)
                    out->u[i] = s->tmp[i];
            if (far_from_pending(s, out->u))
                break;
        }
        gsl_rng_free(rng);
        return pending_add(s, out->trial_id, out->u);
    }

    /* split: the best n_good finals vs the rest (+ failures, + pending) */
    int n = s->n, np = s->liar ? s->np : 0;
    int nmax = n + np;
    int *good = malloc(sizeof(int) * (size_t)(nmax + 1));
    int *bad = malloc(sizeof(int) * (size_t)(nmax + 1));
    double *wg = malloc(sizeof(double) * (size_t)(nmax + 1));
    double *wb = malloc(sizeof(double) * (size_t)(nmax + 1));
    long kmax = 2;
    for (int i = 0; i < d; i++)
        kmax = s->card[i] > kmax ? s->card[i] : kmax;
    size_t nw = 9 * (size_t)(nmax + 1) + 2 * (size_t)kmax + 4;
    if (s->multivariate)
        nw = (size_t)(nmax + 1) * (size_t)(d > 0 ? d : 1) + tpe_mv_work(nmax, d) * 2 +
             2 * (size_t)d + 4;
    double *work = malloc(sizeof(double) * nw);
    tpe_mv_pair *sort = malloc(sizeof(tpe_mv_pair) * (size_t)(nmax + 1));
    if (!good || !bad || !wg || !wb || !work || !sort) {
        rc = HPS_ENOMEM;
        goto out;
    }
    /* good: the best ng finals (by_value is kept sorted); bad: every other row
     * (failures included) in trial order, then the pending trials in dispatch order */
    int nf = s->n_final;
    int ng = (int)ceil(s->gamma * (double)nf);
    ng = ng > 25 ? 25 : ng < 1 ? 1 : ng;
    int nb = 0;
    for (int k = 0; k < ng; k++) {
        good[k] = s->by_value[k].i;
        s->mark[good[k]] = 1;
    }
    for (int r = 0; r < n; r++)
        if (!s->mark[r])
            bad[nb++] = r;
    for (int k = 0; k < ng; k++)
        s->mark[good[k]] = 0;
    for (int k = 0; k < np; k++)
        bad[nb++] = n + k;
    /* trial order within each group, for the recency weights */
    qsort(good, (size_t)ng, sizeof(int), cmp_int);
    ramp_weights(ng, wg);
    ramp_weights(nb, wb);
    nb = tpe_cap_group(s->max_bad, nb, bad, wb);
    s->last_nb = nb;

    for (int tries = 0; tries <= TPE_RETRIES; tries++) {
        if (s->multivariate)
            tpe_draw_mv(s, rng, good, ng, bad, nb, wg, wb, work,
                        work + (size_t)(nmax + 1) * (size_t)(d > 0 ? d : 1), out->u);
        else
            tpe_draw(s, rng, good, ng, bad, nb, wg, wb, work, sort, out->u);
        if (far_from_pending(s, out->u))
            break;
    }
    rc = pending_add(s, out->trial_id, out->u);
out:
    gsl_rng_free(rng);
    free(good);
    free(bad);
    free(wg);
    free(wb);
    free(work);
    free(sort);
    return rc;
}

int tpe_state_bad_size(const void *state)
{
    return ((const tpe_state *)state)->last_nb;
}

const hps_strategy_ops hps_strategy_tpe = {
    .version = HPS_STRATEGY_VERSION,
    .name = "tpe",
    .options = tpe_options,
    .create = tpe_create,
    .destroy = tpe_destroy,
    .suggest = tpe_suggest,
    .observe = tpe_observe,
    .flags = HPS_STRATEGY_ADAPTIVE | HPS_STRATEGY_NO_PROMOTION,
};
