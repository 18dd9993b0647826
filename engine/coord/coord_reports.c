/*
 * The coordinator core's intermediate reports (see coord_internal.h): a REPORT
 * message becomes a REPORT record (metric names get their METRIC_NAME record the
 * first time); when the strategy or the pruner says stop, the group running the
 * trial is told, once per run of the trial. In deterministic mode the stops come
 * from feeding runs in order (sweep.h): each is journaled as a PRUNE record and
 * sent to its trial if that still runs.
 */
#include <stdio.h>
#include <string.h>

#include "coord_internal.h"
#include "core/grow.h"
#include "hpsweep/error.h"

/* Metric index of name, committing a METRIC_NAME record the first time. */
static int metric_index(coord *c, const char *name, int32_t *index)
{
    int i = hps_sweep_metric_index(c->s, name);
    if (i >= 0) {
        *index = i;
        return HPS_OK;
    }
    int rc = hps_rec_encode_string(&c->rec, c->s->n_metric_names, name);
    if (rc == HPS_OK)
        rc = hps_coord_commit(c, HPS_REC_METRIC_NAME, -1, &c->rec, NULL);
    *index = c->s->n_metric_names - 1;
    return rc;
}

/* Ask group g to stop trial_id (once per run of the trial). */
static int prune(coord *c, int g, int64_t trial_id)
{
    size_t need = (size_t)trial_id + 1, old = c->cap_pruning;
    unsigned char *p = hps_grow(c->pruning, &c->cap_pruning, need, 1, 1024);
    if (!p)
        return HPS_ENOMEM;
    memset(p + old, 0, c->cap_pruning - old);
    c->pruning = p;
    if (p[trial_id])
        return HPS_OK;
    p[trial_id] = 1;
    return c->t->ops->prune(c->t, g, trial_id);
}

/* The group running trial t (by the worker id its dispatch recorded), or -1. */
static int group_of(const coord *c, const hps_trial *t)
{
    for (int g = 0; g < c->t->n_groups; g++)
        if (c->t->workers[g] == t->worker)
            return g;
    return -1;
}

int hps_coord_settle_stops(coord *c, int send)
{
    hps_sweep *s = c->s;
    int n;
    const hps_det_stop *stops = hps_sweep_take_stops(s, &n);
    for (int i = 0; i < n; i++) {
        hps_det_stop st = stops[i];
        int rc = hps_sweep_commit_prune(s, c->j, &st, c->err, c->errlen);
        if (rc != HPS_OK)
            return rc;
        const hps_trial *t = hps_sweep_trial(s, st.trial_id);
        int g = group_of(c, t);
        if (send && t->status == HPS_TRIAL_RUNNING && s->det.run_of[st.trial_id] == st.run &&
            g >= 0 && (rc = prune(c, g, st.trial_id)) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}


/* An intermediate report: commit its metrics (the strategy and pruner see the
 * sweep's metric inside, or in deterministic mode at its run's turn), and stop
 * the trial if either says so. */
int hps_coord_take_report(coord *c, int g, const void *msg, size_t len)
{
    int64_t trial_id;
    hps_report_line *line = c->line;
    if (hps_proto_report_decode(msg, len, &trial_id, line) != HPS_OK) {
        snprintf(c->err, c->errlen, "malformed REPORT message from worker %d",
                 c->t->workers[g]);
        return HPS_ECORRUPT;
    }
    hps_sweep *s = c->s;
    const hps_trial *running = hps_sweep_trial(s, trial_id);
    if (!running || running->status != HPS_TRIAL_RUNNING)
        return HPS_OK; /* a late report of a trial already journaled as ended */
    hps_rec_metric m[HPS_REPORT_MAX_METRICS];
    int rc;
    for (int i = 0; i < line->n; i++) {
        if ((rc = metric_index(c, line->names[i], &m[i].name_index)) != HPS_OK)
            return rc;
        m[i].step = line->step;
        m[i].resource = line->resource;
        m[i].value = line->values[i];
    }
    hps_apply_out out;
    if ((rc = hps_rec_encode_report(&c->rec, m, (uint32_t)line->n)) != HPS_OK ||
        (rc = hps_coord_commit(c, HPS_REC_REPORT, trial_id, &c->rec, &out)) != HPS_OK ||
        (rc = hps_coord_settle_stops(c, 1)) != HPS_OK)
        return rc;
    return out.decision != HPS_DECISION_CONTINUE ? prune(c, g, trial_id) : HPS_OK;
}

