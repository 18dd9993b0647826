/*
 * hps_report_write(): the report page for a loaded sweep. It ranks the completed
 * trials once (the order `hpsweep best` uses: the larger budget first, then the
 * better metric for the goal, then the earlier trial), then writes the page head
 * (report_html.c), the JSON document the plots are drawn from (report_data.c,
 * report_plots.c) and the scripts that draw them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "hpsweep/error.h"

typedef struct rank_key {
    double budget, score; /* score: the objective, negated when maximizing */
    int64_t index;
} rank_key;

/* hps_trial_better() as an order: larger budget, then smaller score, then index. */
static int cmp_rank(const void *a, const void *b)
{
    const rank_key *x = a, *y = b;
    if (x->budget != y->budget)
        return x->budget > y->budget ? -1 : 1;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static int rank_trials(hps_report_ctx *c)
{
    const hps_results *r = c->r;
    rank_key *keys = malloc((size_t)(r->n_trials > 0 ? r->n_trials : 1) * sizeof *keys);
    c->ranked = malloc((size_t)(r->n_trials > 0 ? r->n_trials : 1) * sizeof *c->ranked);
    if (!keys || !c->ranked) {
        free(keys);
        return HPS_ENOMEM;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < r->n_trials; i++) {
        const hps_trial *t = &r->trials[i];
        if (t->status != HPS_TRIAL_DONE || !isfinite(t->objective))
            continue;
        keys[n++] = (rank_key){t->budget, c->maximize ? -t->objective : t->objective, i};
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_rank);
    for (int64_t k = 0; k < n; k++)
        c->ranked[k] = keys[k].index;
    c->n_ranked = n;
    free(keys);
    return HPS_OK;
}

static void fill_context(hps_report_ctx *c, const hps_results *r, const hps_report_opts *opts)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    if (opts)
        c->opts = *opts;
    if (c->opts.top_k <= 0)
        c->opts.top_k = HPS_REPORT_TOP_K;
    if (c->opts.max_points <= 0)
        c->opts.max_points = HPS_REPORT_MAX_POINTS;
    if (c->opts.max_curves <= 0)
        c->opts.max_curves = HPS_REPORT_MAX_CURVES;
    c->maximize = r->goal && strcmp(r->goal, "maximize") == 0;
    c->multi_fidelity = r->n_rungs > 0;
    c->t0 = NAN;
    for (int64_t i = 0; i < r->n_trials; i++) {
        const hps_trial *t = &r->trials[i];
        if (t->rung >= 0 || t->bracket >= 0)
            c->multi_fidelity = 1;
        if (isfinite(t->start) && !(t->start >= c->t0))
            c->t0 = t->start;
    }
    if (!isfinite(c->t0))
        c->t0 = 0;
    c->metric_index = -1;
    for (int i = 0; r->metric && i < r->n_metric_names; i++)
        if (strcmp(r->metric_names[i], r->metric) == 0) {
            c->metric_index = i;
            break;
        }
}

int hps_report_write(const hps_results *r, FILE *out, const hps_report_opts *opts, char *err,
                     size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!r || !out) {
        if (err)
            snprintf(err, errlen, "report: no results or no output");
        return HPS_EINVAL;
    }
    hps_report_ctx c;
    fill_context(&c, r, opts);
    int rc = rank_trials(&c);
    if (rc == HPS_OK) {
        hps_json w;
        hps_json_init(&w, out, 1);
        hps_report_page_begin(&c, out);
        hps_report_data(&c, &w);
        hps_report_page_end(&c, out);
        rc = c.rc;
    }
    if (rc == HPS_OK && (fflush(out) != 0 || ferror(out)))
        rc = HPS_EIO;
    if (rc != HPS_OK && err)
        snprintf(err, errlen, "report: %s", rc == HPS_EIO ? "write failed" : hps_strerror(rc));
    free(c.ranked);
    return rc;
}
