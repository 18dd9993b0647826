/*
 * The `median` pruner (Optuna's MedianPruner; Golovin et al., "Google Vizier",
 * 2017, median stopping rule): stop a trial whose best intermediate value so far
 * is worse than the median, over the completed trials, of their intermediate
 * value at the same step.
 *
 * For each trial the pruner keeps its learning curve (step, value), sorted by
 * step (a step reported again replaces the earlier value). A completed trial's
 * value "at step s" is the one it reported at s, or at the nearest earlier step it
 * reported; completed trials with no report at or before s are left out. Values are
 * "lower is better" (the engine negates maximised metrics).
 *
 * report() answers CONTINUE while fewer than n_startup_trials trials completed,
 * before step n_warmup_steps, off the interval grid ((step - n_warmup_steps) %
 * interval_steps != 0), or when no completed trial has a value at that step;
 * otherwise STOP when the best value so far is greater than the median (or is
 * NaN, as in Optuna), CONTINUE if not. Completed means finished FINAL and never
 * told STOP: failed and pruned trials do not set the median (a completed trial
 * without reports counts towards n_startup_trials only). A trial that reports
 * after finishing (a multi-fidelity promotion) extends its curve.
 *
 * A report with a horizon (deterministic mode) is judged against the trials
 * completed by the first `horizon` finish() calls only, each with its curve as it
 * was when it finished.
 *
 * Pure and deterministic: the decisions depend only on the calls made.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "idmap.h"
#include "strategies.h"

static const hps_option_spec median_options[] = {
    {.name = "n_startup_trials", .type = HPS_OPT_INT, .min = 0, .max = 1000000000,
     .help = "no pruning until this many trials completed (default 5)"},
    {.name = "n_warmup_steps", .type = HPS_OPT_INT, .min = 0, .max = 1e15,
     .help = "no pruning of a trial before this step (default 0)"},
    {.name = "interval_steps", .type = HPS_OPT_INT, .min = 1, .max = 1e15,
     .help = "check every this many steps after the warm-up (default 1)"},
    {.name = NULL},
};

typedef struct pt_point {
    int64_t step;
    double value;
} pt_point;

typedef struct pt_trial {
    int64_t id;
    pt_point *c;        /* the curve, sorted by step */
    int n;
    size_t cap;
    int completed;      /* in the done set */
    int pruned;         /* told STOP: never sets the median */
    int n_at_finish;    /* points of the curve when it completed */
    int64_t finished_at; /* finish() calls before the one that completed it */
} pt_trial;

typedef struct median_state {
    long n_startup;
    int64_t warmup, interval;
    pt_trial *t;
    int nt;
    size_t capt;
    int *done;          /* indices of completed trials, in completion order */
    int ndone;
    size_t capdone;
    int64_t n_finish;   /* finish() calls so far */
    hps_idmap ids;      /* trial id -> index in t */
    double *vals;       /* scratch for the median */
    int capvals;
} median_state;

static void median_destroy(void *state)
{
    median_state *s = state;
    if (!s)
        return;
    for (int i = 0; i < s->nt; i++)
        free(s->t[i].c);
    free(s->t);
    free(s->done);
    hps_idmap_free(&s->ids);
    free(s->vals);
    free(s);
}

static int median_create(const hps_strategy_cfg *cfg, void **state, char *err, size_t errlen)
{
    *state = NULL;
    long startup = hps_strategy_cfg_int(cfg, "n_startup_trials", 5);
    long warmup = hps_strategy_cfg_int(cfg, "n_warmup_steps", 0);
    long interval = hps_strategy_cfg_int(cfg, "interval_steps", 1);
    if (startup < 0 || warmup < 0 || interval < 1) {
        if (err && errlen)
            snprintf(err, errlen, "median: n_startup_trials and n_warmup_steps must be >= 0, "
                                  "interval_steps >= 1");
        return HPS_ECONFIG;
    }
    median_state *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    s->n_startup = startup;
    s->warmup = warmup;
    s->interval = interval;
    *state = s;
    return HPS_OK;
}

/* The index of trial id, added when new; HPS_ENOMEM (< 0) on failure. */
static int get(median_state *s, int64_t id)
{
    int k = hps_idmap_get(&s->ids, id);
    if (k >= 0)
        return k;
    pt_trial *t = hps_grow(s->t, &s->capt, (size_t)s->nt + 1, sizeof *t, 32);
    if (!t)
        return HPS_ENOMEM;
    s->t = t;
    int rc = hps_idmap_put(&s->ids, id, s->nt);
    if (rc != HPS_OK)
        return rc;
    k = s->nt++;
    s->t[k] = (pt_trial){.id = id};
    return k;
}

/* Record (step, value) in t's curve, keeping it sorted by step. */
static int curve_put(pt_trial *t, int64_t step, double value)
{
    int lo = 0, hi = t->n; /* first index with step >= step */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t->c[mid].step < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->n && t->c[lo].step == step) {
        t->c[lo].value = value;
        return HPS_OK;
    }
    pt_point *c = hps_grow(t->c, &t->cap, (size_t)t->n + 1, sizeof *c, 16);
    if (!c)
        return HPS_ENOMEM;
    t->c = c;
    memmove(t->c + lo + 1, t->c + lo, sizeof *t->c * (size_t)(t->n - lo));
    t->c[lo] = (pt_point){step, value};
    t->n++;
    return HPS_OK;
}

/* t's value at step: reported there or at the nearest earlier step, among its
 * first n points; 0 if none. */
static int curve_at(const pt_trial *t, int n, int64_t step, double *value)
{
    int lo = 0, hi = n; /* first index with step > step */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t->c[mid].step <= step)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    *value = t->c[lo - 1].value;
    return 1;
}

static int median_report(void *state, const hps_observation *obs, hps_decision *decision)
{
    median_state *s = state;
    *decision = HPS_DECISION_CONTINUE;
    int k = get(s, obs->trial_id);
    if (k < 0)
        return k;
    pt_trial *t = &s->t[k];
    int rc = curve_put(t, obs->step, obs->value);
    if (rc != HPS_OK)
        return rc;
    /* the completed trials this decision may use: all, or those of the horizon
     * (done[] is in completion order, so they are a prefix) */
    int ndone = s->ndone;
    if (obs->has_horizon)
        for (ndone = 0; ndone < s->ndone && s->t[s->done[ndone]].finished_at < obs->horizon;)
            ndone++;
    if (ndone < s->n_startup || obs->step < s->warmup ||
        (obs->step - s->warmup) % s->interval != 0)
        return HPS_OK;

    /* the best value up to this step (NaN propagates: a NaN curve is pruned) */
    double best = HUGE_VAL;
    for (int i = 0; i < t->n && t->c[i].step <= obs->step; i++) {
        if (isnan(t->c[i].value)) {
            best = NAN;
            break;
        }
        best = t->c[i].value < best ? t->c[i].value : best;
    }

    if (ndone > s->capvals) {
        double *v = realloc(s->vals, sizeof *v * (size_t)ndone);
        if (!v)
            return HPS_ENOMEM;
        s->vals = v;
        s->capvals = ndone;
    }
    int m = 0;
    for (int i = 0; i < ndone; i++) {
        const pt_trial *d = &s->t[s->done[i]];
        double v;
        if (curve_at(d, obs->has_horizon ? d->n_at_finish : d->n, obs->step, &v) && !isnan(v))
            s->vals[m++] = v;
    }
    if (m == 0)
        return HPS_OK;
    qsort(s->vals, (size_t)m, sizeof *s->vals, hps_cmp_double);
    double median = m % 2 ? s->vals[m / 2] : 0.5 * (s->vals[m / 2 - 1] + s->vals[m / 2]);
    if (isnan(best) || best > median) {
        *decision = HPS_DECISION_STOP;
        t->pruned = 1;
    }
    return HPS_OK;
}

static int median_finish(void *state, const hps_observation *obs)
{
    median_state *s = state;
    int k = get(s, obs->trial_id);
    if (k < 0)
        return k;
    pt_trial *t = &s->t[k];
    int64_t call = s->n_finish++;
    if (obs->kind != HPS_OBS_FINAL || t->pruned || t->completed)
        return HPS_OK; /* only completed curves set the median, once each */
    int *d = hps_grow(s->done, &s->capdone, (size_t)s->ndone + 1, sizeof *d, 32);
    if (!d)
        return HPS_ENOMEM;
    s->done = d;
    s->done[s->ndone++] = k;
    t->completed = 1;
    t->n_at_finish = t->n;
    t->finished_at = call;
    return HPS_OK;
}

const hps_pruner_ops hps_pruner_median = {
    .version = HPS_STRATEGY_VERSION,
    .name = "median",
    .options = median_options,
    .create = median_create,
    .destroy = median_destroy,
    .report = median_report,
    .finish = median_finish,
};
