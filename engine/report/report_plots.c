/*
 * The data behind the report's plots, as members of its JSON document:
 *   scatter     the trials the history and parameter plots draw: every completed
 *               trial, or at most max_points of them with the best always kept
 *               (report_sample.c); columns, not rows, to keep the page small
 *   history     the best value so far, over all completed trials (not the
 *               sample), by trial number and by end time: only where it changes
 *   parcoords   the ids of the best trials (all in the scatter sample)
 *   curves      learning curves of the sweep's metric from /metrics: the best
 *               trials' and an even sample of the others', each thinned to at most
 *               MAX_CURVE_POINTS points
 *   importance  per parameter, report_importance.c's score
 * Plot values carry 7 significant digits (a pixel is coarser); the tables get 17.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "hpsweep/error.h"

#define PLOT_DIGITS 7
#define MAX_PARCOORDS 50     /* lines in the parallel-coordinates plot */
#define MAX_CURVE_POINTS 250 /* points per learning curve */
#define MIN_IMPORTANCE_N 10  /* completed trials needed to score importance */
#define MIN_TOP_BUDGET_N 30  /* trials at the top budget to score only those */

static void number_column(hps_json *w, const char *key, const double *v, const int64_t *idx,
                          int64_t n)
{
    hps_json_key(w, key);
    hps_json_begin_array(w);
    for (int64_t j = 0; j < n; j++)
        hps_json_number(w, v[idx[j]], PLOT_DIGITS);
    hps_json_end_array(w);
}

static void write_scatter(hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    /* Keep the best tenth of the cap, and at least the top-k table's and the
     * parallel-coordinates plot's trials (both are looked up in this sample). */
    int64_t cap = c->opts.max_points, keep = cap / 10;
    if (keep < c->opts.top_k)
        keep = c->opts.top_k;
    if (keep < MAX_PARCOORDS)
        keep = MAX_PARCOORDS;
    if (keep > cap)
        keep = cap;
    int64_t *chosen = malloc((size_t)(c->n_ranked > 0 ? c->n_ranked : 1) * sizeof *chosen);
    double *col = malloc((size_t)(r->n_trials > 0 ? r->n_trials : 1) * sizeof *col);
    int64_t n = 0;
    int rc = chosen && col ? hps_report_sample(c->ranked, c->n_ranked, cap, keep, chosen, &n)
                           : HPS_ENOMEM;
    hps_json_key(w, "scatter");
    if (rc != HPS_OK) {
        c->rc = rc;
        hps_json_null(w);
        free(chosen);
        free(col);
        return;
    }
    hps_json_begin_object(w);
    hps_json_key(w, "n_total");
    hps_json_int(w, c->n_ranked);
    hps_json_key(w, "n_shown");
    hps_json_int(w, n);
    hps_json_key(w, "keep_best");
    hps_json_int(w, keep < c->n_ranked ? keep : c->n_ranked);
    hps_json_key(w, "id");
    hps_json_begin_array(w);
    for (int64_t j = 0; j < n; j++)
        hps_json_int(w, r->trials[chosen[j]].trial_id);
    hps_json_end_array(w);
    for (int64_t i = 0; i < r->n_trials; i++)
        col[i] = r->trials[i].end - c->t0;
    number_column(w, "t", col, chosen, n);
    for (int64_t i = 0; i < r->n_trials; i++)
        col[i] = r->trials[i].objective;
    number_column(w, "y", col, chosen, n);
    if (c->multi_fidelity) {
        for (int64_t i = 0; i < r->n_trials; i++)
            col[i] = r->trials[i].budget;
        number_column(w, "budget", col, chosen, n);
    }
    hps_json_key(w, "x");
    hps_json_begin_array(w);
    for (int p = 0; p < r->space.n_params; p++) {
        for (int64_t i = 0; i < r->n_trials; i++)
            col[i] = r->trials[i].values[p];
        hps_json_begin_array(w);
        for (int64_t j = 0; j < n; j++)
            hps_json_number(w, col[chosen[j]], PLOT_DIGITS);
        hps_json_end_array(w);
    }
    hps_json_end_array(w);
    hps_json_end_object(w);
    free(chosen);
    free(col);
}

typedef struct by_key {
    double key;
    int64_t index;
} by_key;

static int cmp_by_key(const void *a, const void *b)
{
    const by_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/*
 * The best-so-far steps of the completed trials taken in the order of keys (trial
 * id or end time): [key, best value, best trial id] where the best changes, and at
 * the last key.
 */
static void best_steps(const hps_report_ctx *c, by_key *keys, int64_t n, hps_json *w)
{
    const hps_results *r = c->r;
    qsort(keys, (size_t)n, sizeof *keys, cmp_by_key);
    const hps_trial *best = NULL;
    hps_json_begin_array(w);
    for (int64_t j = 0; j < n; j++) {
        const hps_trial *t = &r->trials[keys[j].index];
        int changed = !best || hps_trial_better(t, best, c->maximize);
        if (changed)
            best = t;
        if (changed || j == n - 1) {
            hps_json_begin_array(w);
            hps_json_number(w, keys[j].key, PLOT_DIGITS);
            hps_json_number(w, best->objective, PLOT_DIGITS);
            hps_json_int(w, best->trial_id);
            hps_json_end_array(w);
        }
    }
    hps_json_end_array(w);
}

static void write_history(hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    by_key *keys = malloc((size_t)(c->n_ranked > 0 ? c->n_ranked : 1) * sizeof *keys);
    hps_json_key(w, "history");
    if (!keys) {
        c->rc = HPS_ENOMEM;
        hps_json_null(w);
        return;
    }
    hps_json_begin_object(w);
    for (int64_t j = 0; j < c->n_ranked; j++)
        keys[j] = (by_key){(double)r->trials[c->ranked[j]].trial_id, c->ranked[j]};
    hps_json_key(w, "by_trial");
    best_steps(c, keys, c->n_ranked, w);
    int64_t n = 0; /* a trial without an end time has no place on this axis */
    for (int64_t j = 0; j < c->n_ranked; j++)
        if (isfinite(r->trials[c->ranked[j]].end))
            keys[n++] = (by_key){r->trials[c->ranked[j]].end - c->t0, c->ranked[j]};
    hps_json_key(w, "by_time");
    best_steps(c, keys, n, w);
    hps_json_end_object(w);
    free(keys);
}

static void write_parcoords(const hps_report_ctx *c, hps_json *w)
{
    int64_t n = c->n_ranked < MAX_PARCOORDS ? c->n_ranked : MAX_PARCOORDS;
    hps_json_key(w, "parcoords");
    hps_json_begin_array(w);
    for (int64_t j = 0; j < n; j++)
        hps_json_int(w, c->r->trials[c->ranked[j]].trial_id);
    hps_json_end_array(w);
}

/* A trial's /metrics rows of the sweep's metric: rows[first .. first+count). */
typedef struct curve {
    int64_t trial, first, count; /* trial: index into r->trials */
} curve;

typedef struct metric_row {
    int64_t trial; /* index into r->trials */
    double resource;
    int64_t step, row;
} metric_row;

static int cmp_metric_row(const void *a, const void *b)
{
    const metric_row *x = a, *y = b;
    if (x->trial != y->trial)
        return (x->trial > y->trial) - (x->trial < y->trial);
    if (x->resource != y->resource)
        return x->resource < y->resource ? -1 : 1;
    if (x->step != y->step)
        return (x->step > y->step) - (x->step < y->step);
    return (x->row > y->row) - (x->row < y->row);
}

/* Index into r->trials of trial id, by binary search in ids (sorted by key). */
static int64_t find_trial(const by_key *ids, int64_t n, int64_t id)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ids[mid].key < (double)id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo].key == (double)id ? ids[lo].index : -1;
}

static void write_curve(const hps_report_ctx *c, const metric_row *rows, const curve *cv,
                        int64_t rank, hps_json *w)
{
    const hps_results *r = c->r;
    const hps_trial *t = &r->trials[cv->trial];
    int64_t stride = (cv->count + MAX_CURVE_POINTS - 1) / MAX_CURVE_POINTS;
    hps_json_begin_object(w);
    hps_json_key(w, "id");
    hps_json_int(w, t->trial_id);
    hps_json_key(w, "status");
    hps_json_string(w, hps_trial_status_name(t->status));
    hps_json_key(w, "budget");
    hps_json_number(w, t->budget, PLOT_DIGITS);
    hps_json_key(w, "rung");
    hps_json_int(w, t->rung);
    hps_json_key(w, "rank");
    if (rank > 0)
        hps_json_int(w, rank);
    else
        hps_json_null(w);
    /* Every stride-th point, and always the last one. */
    for (int pass = 0; pass < 2; pass++) {
        hps_json_key(w, pass ? "v" : "r");
        hps_json_begin_array(w);
        for (int64_t j = 0; j < cv->count; j++) {
            if (j % stride != 0 && j != cv->count - 1)
                continue;
            const metric_row *m = &rows[cv->first + j];
            hps_json_number(w, pass ? r->metrics[m->row].value : m->resource, PLOT_DIGITS);
        }
        hps_json_end_array(w);
    }
    hps_json_end_object(w);
}

/*
 * Which of the nc curves to draw, into pick[]: those of the max_curves/5 best
 * trials, then an even sample of the others. Returns how many (-1: out of memory)
 * and sets *n_best to the number of the first kind.
 */
static int64_t choose_curves(const hps_report_ctx *c, const curve *cv, int64_t nc,
                             const int64_t *rank_of, int64_t *pick, int64_t *n_best)
{
    int64_t max = c->opts.max_curves, n_top = max / 5 > 1 ? max / 5 : 1, np = 0;
    char *taken = calloc((size_t)(nc > 0 ? nc : 1), 1);
    if (!taken)
        return -1;
    /* cv is in trial-index order, so a curve's trial is found by its rank. */
    for (int64_t k = 0; k < nc && np < n_top; k++)
        if (rank_of[cv[k].trial] > 0 && rank_of[cv[k].trial] <= n_top) {
            pick[np++] = k;
            taken[k] = 1;
        }
    *n_best = np;
    int64_t left = nc - np, room = max - np;
    if (left <= room) {
        for (int64_t k = 0; k < nc; k++)
            if (!taken[k])
                pick[np++] = k;
    } else {
        int64_t seen = 0, next = 0;
        for (int64_t k = 0; k < nc && next < room; k++) {
            if (taken[k])
                continue;
            if (seen == (int64_t)(((double)next + 0.5) * (double)left / (double)room)) {
                pick[np++] = k;
                next++;
            }
            seen++;
        }
    }
    free(taken);
    return np;
}

static void write_curves(hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    hps_json_key(w, "curves");
    if (c->metric_index < 0) {
        hps_json_null(w);
        return;
    }
    int64_t nt = r->n_trials, nm = 0;
    by_key *ids = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *ids);
    int64_t *rank_of = calloc((size_t)(nt > 0 ? nt : 1), sizeof *rank_of);
    metric_row *rows = malloc((size_t)(r->n_metrics > 0 ? r->n_metrics : 1) * sizeof *rows);
    curve *cv = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *cv);
    int64_t *pick = malloc((size_t)(c->opts.max_curves) * sizeof *pick);
    int64_t nc = 0, np = -1, n_top = 0;
    if (ids && rank_of && rows && cv && pick) {
        for (int64_t i = 0; i < nt; i++)
            ids[i] = (by_key){(double)r->trials[i].trial_id, i};
        qsort(ids, (size_t)nt, sizeof *ids, cmp_by_key);
        for (int64_t j = 0; j < c->n_ranked; j++)
            rank_of[c->ranked[j]] = j + 1;
        for (int64_t k = 0; k < r->n_metrics; k++) {
            const hps_metric *m = &r->metrics[k];
            int usable = m->name_index == c->metric_index && isfinite(m->value) &&
                         isfinite(m->resource);
            int64_t t = usable ? find_trial(ids, nt, m->trial_id) : -1;
            if (t >= 0)
                rows[nm++] = (metric_row){t, m->resource, m->step, k};
        }
        qsort(rows, (size_t)nm, sizeof *rows, cmp_metric_row);
        for (int64_t a = 0; a < nm;) {
            int64_t b = a + 1;
            while (b < nm && rows[b].trial == rows[a].trial)
                b++;
            cv[nc++] = (curve){rows[a].trial, a, b - a};
            a = b;
        }
        np = choose_curves(c, cv, nc, rank_of, pick, &n_top);
    }
    if (np < 0) {
        c->rc = HPS_ENOMEM;
        hps_json_null(w);
    } else {
        int64_t longest = 0;
        for (int64_t k = 0; k < nc; k++)
            longest = cv[k].count > longest ? cv[k].count : longest;
        hps_json_begin_object(w);
        hps_json_key(w, "n_trials");
        hps_json_int(w, nc);
        hps_json_key(w, "longest");
        hps_json_int(w, longest);
        hps_json_key(w, "n_shown");
        hps_json_int(w, np);
        hps_json_key(w, "n_top");
        hps_json_int(w, n_top);
        hps_json_key(w, "max_points");
        hps_json_int(w, MAX_CURVE_POINTS);
        hps_json_key(w, "lines");
        hps_json_begin_array(w);
        for (int64_t k = 0; k < np; k++)
            write_curve(c, rows, &cv[pick[k]], rank_of[cv[pick[k]].trial], w);
        hps_json_end_array(w);
        hps_json_end_object(w);
    }
    free(ids);
    free(rank_of);
    free(rows);
    free(cv);
    free(pick);
}

/* Is parameter i scored by value (categorical, bool, an int with <= 10 values)? */
static int discrete_param(const hps_param *p)
{
    return p->type == HPS_PARAM_CATEGORICAL || p->type == HPS_PARAM_BOOL ||
           (p->type == HPS_PARAM_INT && p->high - p->low < 10);
}

static void write_importance(hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    int np = r->space.n_params;
    /* In a multi-fidelity sweep, values at different budgets are not comparable:
     * score the trials at the largest budget when there are enough of them. */
    int64_t n = c->n_ranked, at_top = 0;
    double top_budget = n > 0 ? r->trials[c->ranked[0]].budget : 0;
    while (at_top < n && r->trials[c->ranked[at_top]].budget == top_budget)
        at_top++;
    int top_only = c->multi_fidelity && at_top >= MIN_TOP_BUDGET_N && at_top < n;
    if (top_only)
        n = at_top;
    hps_json_key(w, "importance");
    hps_json_begin_object(w);
    hps_json_key(w, "n");
    hps_json_int(w, n);
    hps_json_key(w, "top_budget_only");
    hps_json_bool(w, top_only);
    hps_json_key(w, "budget");
    hps_json_number(w, top_budget, PLOT_DIGITS);
    hps_json_key(w, "items");
    hps_json_begin_array(w);
    double *y = malloc((size_t)(n > 0 ? n : 1) * sizeof *y);
    double *yr = malloc((size_t)(n > 0 ? n : 1) * sizeof *yr);
    double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    int rc = y && yr && x ? HPS_OK : HPS_ENOMEM;
    if (rc == HPS_OK && n >= MIN_IMPORTANCE_N && np > 0) {
        for (int64_t j = 0; j < n; j++)
            y[j] = r->trials[c->ranked[j]].objective;
        rc = hps_report_ranks(y, n, yr);
        for (int p = 0; rc == HPS_OK && p < np; p++) {
            const hps_param *prm = &r->space.params[p];
            for (int64_t j = 0; j < n; j++)
                x[j] = r->trials[c->ranked[j]].values[p];
            hps_importance imp;
            int max_bins = (int)(n / 5 < 2 ? 2 : n / 5 > 10 ? 10 : n / 5);
            rc = hps_report_importance(x, yr, n, discrete_param(prm), max_bins, &imp);
            if (rc != HPS_OK)
                break;
            hps_json_begin_object(w);
            hps_json_key(w, "param");
            hps_json_int(w, p);
            hps_json_key(w, "eta2");
            hps_json_number(w, imp.eta2, 4);
            hps_json_key(w, "spearman");
            hps_json_number(w, imp.spearman, 3);
            hps_json_key(w, "groups");
            hps_json_int(w, imp.groups);
            hps_json_end_object(w);
        }
    }
    if (rc != HPS_OK)
        c->rc = rc;
    hps_json_end_array(w);
    hps_json_end_object(w);
    free(y);
    free(yr);
    free(x);
}

void hps_report_plots(hps_report_ctx *c, hps_json *w)
{
    write_scatter(c, w);
    write_history(c, w);
    write_parcoords(c, w);
    write_curves(c, w);
    write_importance(c, w);
}
