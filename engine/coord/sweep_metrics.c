/*
 * REPORT, RESULT and INTERRUPT records (see sweep.h): what trials measured, how
 * they ended, and what the strategy and pruner learn of it. By default a report
 * or result is shown to them as its record is applied; in deterministic mode it
 * is queued on its run and shown at the run's turn (sweep_det.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "hpsweep/error.h"
#include "sweep_internal.h"

static int add_metric(hps_sweep *s, int64_t trial_id, const hps_rec_metric *m)
{
    hps_metric *p = hps_grow(s->metrics, &s->cap_metrics, (size_t)s->n_metrics + 1, sizeof *p,
                             1024);
    if (!p)
        return HPS_ENOMEM;
    s->metrics = p;
    hps_metric *out = &s->metrics[s->n_metrics++];
    out->trial_id = trial_id;
    out->step = m->step;
    out->resource = m->resource;
    out->name_index = m->name_index;
    out->value = m->value;
    return HPS_OK;
}

int hps_sweep_metric_scratch(hps_sweep *s, uint32_t len)
{
    uint32_t nm = hps_metrics_bound(len);
    if (nm <= s->m_cap)
        return HPS_OK;
    hps_rec_metric *m = realloc(s->m_scratch, nm * sizeof *m);
    if (!m)
        return HPS_ENOMEM;
    s->m_scratch = m;
    s->m_cap = nm;
    return HPS_OK;
}

/* Add the metrics, each checked to name a known metric before the first is added:
 * a record refused as corrupt changes nothing (a salvage skips it and goes on). */
static int add_metrics(hps_sweep *s, const hps_record *rec, const hps_rec_metric *m, uint32_t n,
                       char *err, size_t errlen)
{
    for (uint32_t i = 0; i < n; i++)
        if (m[i].name_index < 0 || m[i].name_index >= s->n_metric_names)
            return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "metric with an unknown name index",
                                  rec);
    for (uint32_t i = 0; i < n; i++) {
        int rc = add_metric(s, rec->trial_id, &m[i]);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

/* Show one reported metric to the strategy and then (if it lets the trial go on)
 * to the pruner. Only the sweep's own metric (name index 0) with a finite value
 * counts. *d gets the stronger of its decision and *d. */
static int observe_report(hps_sweep *s, const hps_record *rec, const hps_rec_metric *m,
                          hps_decision *d, char *err, size_t errlen)
{
    if (m->name_index != 0 || !isfinite(m->value))
        return HPS_OK;
    hps_observation obs = {.trial_id = rec->trial_id, .kind = HPS_OBS_INTERMEDIATE,
                           .u = hps_sweep_unit(s, rec->trial_id),
                           .value = hps_sweep_oriented(s, m->value), .resource = m->resource,
                           .step = m->step};
    hps_decision mine = HPS_DECISION_CONTINUE;
    int rc = s->ops->observe(s->strategy, &obs, &mine);
    if (rc != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the strategy refused an intermediate report",
                              rec);
    if (mine == HPS_DECISION_CONTINUE && s->pruner &&
        (rc = s->pruner_ops->report(s->pruner, &obs, &mine)) != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the pruner refused an intermediate report", rec);
    if (mine > *d)
        *d = mine;
    return HPS_OK;
}

int hps_sweep_apply_report(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                           size_t errlen)
{
    uint32_t n;
    int rc = hps_sweep_metric_scratch(s, rec->len);
    if (rc != HPS_OK)
        return rc;
    if (hps_rec_decode_report(rec->payload, rec->len, s->m_scratch, s->m_cap, &n) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed REPORT", rec);
    const hps_trial *running = hps_sweep_trial(s, rec->trial_id);
    if (!running || running->status != HPS_TRIAL_RUNNING)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "REPORT for a trial that is not running",
                              rec);
    if ((rc = add_metrics(s, rec, s->m_scratch, n, err, errlen)) != HPS_OK)
        return rc;
    hps_decision d = HPS_DECISION_CONTINUE;
    if (s->det.on) {
        /* Queued on its run; shown at the run's turn, which may be now. */
        for (uint32_t i = 0; s->strategy && i < n; i++)
            if (s->m_scratch[i].name_index == 0 && isfinite(s->m_scratch[i].value) &&
                (rc = hps_det_report(s, rec->trial_id, &s->m_scratch[i], rec, err, errlen)) !=
                    HPS_OK)
                return rc;
        if ((rc = hps_det_advance(s, rec, err, errlen)) != HPS_OK)
            return rc;
    } else {
        for (uint32_t i = 0; s->strategy && i < n; i++)
            if ((rc = observe_report(s, rec, &s->m_scratch[i], &d, err, errlen)) != HPS_OK)
                return rc;
    }
    if (out) {
        out->trial_id = rec->trial_id;
        out->decision = d;
    }
    return HPS_OK;
}

/* Multi-fidelity trials: every result is also a row of /rungs. */
static int add_rung(hps_sweep *s, const hps_trial *t)
{
    hps_rung *r = hps_grow(s->rungs, &s->cap_rungs, (size_t)s->n_rungs + 1, sizeof *r, 256);
    if (!r)
        return HPS_ENOMEM;
    s->rungs = r;
    s->rungs[s->n_rungs++] = (hps_rung){.trial_id = t->trial_id, .bracket = t->bracket,
                                        .rung = t->rung, .budget = t->budget,
                                        .status = t->status, .objective = t->objective,
                                        .start = t->start, .end = t->end, .worker = t->worker};
    return HPS_OK;
}

/* Show the strategy and pruner how trial t ended (the default mode). */
static int observe_result(hps_sweep *s, const hps_record *rec, const hps_trial *t,
                          const hps_outcome *r, char *err, size_t errlen)
{
    hps_observation obs = {
        .trial_id = t->trial_id,
        .kind = r->status == HPS_TRIAL_DONE ? HPS_OBS_FINAL : HPS_OBS_FAILED,
        .u = hps_sweep_unit(s, t->trial_id),
        .value = r->status == HPS_TRIAL_DONE ? hps_sweep_oriented(s, r->objective) : NAN,
        .resource = t->budget,
        .step = 0,
    };
    int rc = s->ops->observe(s->strategy, &obs, NULL);
    if (rc != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the strategy refused an observation", rec);
    if (s->pruner && (rc = s->pruner_ops->finish(s->pruner, &obs)) != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the pruner refused an observation", rec);
    return HPS_OK;
}

int hps_sweep_apply_result(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                           size_t errlen)
{
    hps_outcome r;
    int rc = hps_sweep_metric_scratch(s, rec->len);
    if (rc != HPS_OK)
        return rc;
    if (hps_rec_decode_result(rec->payload, rec->len, &r, s->m_scratch, s->m_cap) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed RESULT", rec);
    hps_trial *t = hps_sweep_trial(s, rec->trial_id);
    if (!t)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "RESULT for an unknown trial", rec);
    if (r.status < HPS_TRIAL_DONE || r.status > HPS_TRIAL_PRUNED)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "RESULT with an invalid status", rec);
    if (t->status != HPS_TRIAL_RUNNING)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "RESULT for a trial that is not running",
                              rec);
    if ((rc = add_metrics(s, rec, r.metrics, r.n_metrics, err, errlen)) != HPS_OK)
        return rc;
    free(t->stderr_tail);
    t->stderr_tail = NULL;
    if (r.stderr_len > 0) {
        if (!(t->stderr_tail = malloc(r.stderr_len + 1)))
            return HPS_ENOMEM;
        memcpy(t->stderr_tail, r.stderr_tail, r.stderr_len);
        t->stderr_tail[r.stderr_len] = '\0';
    }
    t->exit_code = r.exit_code;
    t->attempts = r.attempts;
    t->worker = r.worker;
    t->start = r.start;
    t->end = r.end;
    t->objective = r.status == HPS_TRIAL_DONE ? r.objective : NAN;
    memcpy(t->cause, r.cause, HPS_CAUSE_LEN);
    hps_sweep_set_status(s, t, r.status);
    if (t->trial_id == s->best_id)
        hps_sweep_recompute_best(s);
    else
        hps_sweep_update_best(s, t);
    int64_t rung_row = -1;
    if (t->rung >= 0) {
        rung_row = s->n_rungs;
        if ((rc = add_rung(s, t)) != HPS_OK)
            return rc;
    }
    if (out)
        out->trial_id = t->trial_id;
    if (s->det.on) {
        /* The run ended; it is shown at its turn (and was it stopped, t is pruned). */
        hps_det_result(s, t, r.status, r.objective, rung_row);
        return s->strategy ? hps_det_advance(s, rec, err, errlen) : HPS_OK;
    }
    return s->strategy ? observe_result(s, rec, t, &r, err, errlen) : HPS_OK;
}

int hps_sweep_apply_interrupt(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    double when;
    if (hps_rec_decode_interrupt(rec->payload, rec->len, &when) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed INTERRUPT", rec);
    hps_trial *t = hps_sweep_trial(s, rec->trial_id);
    if (!t || t->status != HPS_TRIAL_RUNNING)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT,
                              "INTERRUPT of a trial that is not running", rec);
    t->end = when;
    snprintf(t->cause, sizeof t->cause, "interrupted");
    hps_sweep_set_status(s, t, HPS_TRIAL_INTERRUPTED);
    return HPS_OK;
}
