/*
 * Deterministic mode (`deterministic: true`, window P = `parallelism`): the order
 * in which the strategy and the pruner are shown what trials did.
 *
 * Every SUGGEST starts a run (a new trial, or a promotion of one), numbered in
 * suggestion order. The strategy is shown runs strictly in that order, each run
 * whole before the next: its reports of the sweep's metric as they came (each may
 * stop it), then how it ended; the pruner's finish() follows the same order. The
 * rule: suggestion k is made after runs 0..k-P-1 were shown and before any later
 * one is (unless the strategy itself waits: then the next run is shown, a FEED
 * record, and it is asked again). So what the strategy sees when it decides is a
 * function of the config and the seed alone, not of arrival order, timing or
 * rank count.
 *
 * A run is shown as soon as the rule allows: whenever a record is applied (a
 * SUGGEST raises the limit, a RESULT or REPORT brings what the head run waited
 * for), every run before n_runs - P is shown as far as it has arrived.
 *
 * The pruner judges each report as it arrives, with a horizon: only the runs
 * suggestion k knew (the first k - P finish() calls, which were made before k was
 * suggested), so its decision is as exact as the strategy's and comes at once.
 * A report that stops a run (STOP from the pruner, or STOP or PAUSE from the
 * strategy at the run's turn) marks it stopped: its later reports are not shown,
 * its end is shown as a failure (as a pruned trial's is), and the trial is
 * recorded as pruned however far it ran. The coordinator journals each stop as a
 * PRUNE record, so that a replay without a strategy (`hpsweep status`) records
 * the same statuses, and stops the trial if it still runs.
 *
 * All of this happens inside hps_sweep_apply, live and on replay alike, driven by
 * the records alone: the same journal makes the same calls.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "hpsweep/error.h"
#include "sweep_internal.h"

void hps_det_init(hps_sweep *s)
{
    s->det.on = s->cfg.deterministic;
    s->det.p = s->cfg.parallelism > 0 ? s->cfg.parallelism : 1;
    s->det.waiting_for = -1;
}

void hps_det_free(hps_det *d)
{
    free(d->runs);
    free(d->run_of);
    free(d->reps);
    free(d->stops);
    memset(d, 0, sizeof *d);
    d->waiting_for = -1;
}

int hps_det_gate(hps_sweep *s, const hps_record *rec, int live, char *err, size_t errlen)
{
    hps_det *d = &s->det;
    if (!d->on || d->fed >= d->n_runs - d->p)
        return HPS_OK;
    int64_t trial = d->runs[d->fed].trial_id;
    if (live) {
        d->waiting_for = trial;
        return HPS_EAGAIN;
    }
    if (err) {
        char what[160];
        snprintf(what, sizeof what, "a deterministic SUGGEST before the result of trial %lld "
                 "(run %lld) was in", (long long)trial, (long long)d->fed);
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, what, rec);
    }
    return HPS_ECORRUPT;
}

int hps_det_suggested(hps_sweep *s, int64_t trial_id, double budget, char *err, size_t errlen)
{
    hps_det *d = &s->det;
    if (!d->on)
        return HPS_OK;
    hps_det_run *runs = hps_grow(d->runs, &d->cap_runs, (size_t)d->n_runs + 1, sizeof *runs, 256);
    if (!runs)
        return HPS_ENOMEM;
    d->runs = runs;
    size_t old = d->cap_run_of;
    int64_t *of = hps_grow(d->run_of, &d->cap_run_of, (size_t)trial_id + 1, sizeof *of, 256);
    if (!of)
        return HPS_ENOMEM;
    for (size_t i = old; i < d->cap_run_of; i++)
        of[i] = -1;
    d->run_of = of;
    d->run_of[trial_id] = d->n_runs;
    d->runs[d->n_runs++] = (hps_det_run){.trial_id = trial_id, .budget = budget,
                                         .status = HPS_TRIAL_RUNNING, .objective = NAN,
                                         .rep_head = -1, .rep_tail = -1, .rung_row = -1};
    (void)err;
    (void)errlen;
    return HPS_OK;
}

static hps_det_run *run_of(hps_sweep *s, int64_t trial_id)
{
    hps_det *d = &s->det;
    if (trial_id < 0 || (size_t)trial_id >= d->cap_run_of || d->run_of[trial_id] < 0)
        return NULL;
    return &d->runs[d->run_of[trial_id]];
}

void hps_det_dispatched(hps_sweep *s, int64_t trial_id)
{
    hps_det_run *r = s->det.on ? run_of(s, trial_id) : NULL;
    if (!r)
        return;
    /* The re-run reports again from its start: the reports the interrupted attempt
     * made were taken (the same ones, with the same seed) and are skipped. */
    r->n_skip = r->n_seen;
}

/* A stopped run that has ended: its trial is pruned (when this run is the trial's
 * latest; idempotent). */
static void prune_trial(hps_sweep *s, int64_t ri)
{
    hps_det_run *r = &s->det.runs[ri];
    if (!r->ended || !r->stop || s->det.run_of[r->trial_id] != ri)
        return;
    hps_trial *t = hps_sweep_trial(s, r->trial_id);
    if (t->status == HPS_TRIAL_PRUNED)
        return;
    t->objective = NAN;
    snprintf(t->cause, sizeof t->cause, "pruned");
    hps_sweep_set_status(s, t, HPS_TRIAL_PRUNED);
    if (r->trial_id == s->best_id)
        hps_sweep_recompute_best(s);
    if (r->rung_row >= 0) {
        s->rungs[r->rung_row].status = HPS_TRIAL_PRUNED;
        s->rungs[r->rung_row].objective = NAN;
    }
}

void hps_det_result(hps_sweep *s, hps_trial *t, int32_t status, double objective,
                    int64_t rung_row)
{
    hps_det_run *r = s->det.on ? run_of(s, t->trial_id) : NULL;
    if (!r)
        return;
    r->ended = 1;
    r->status = status;
    r->objective = objective;
    r->rung_row = rung_row;
    prune_trial(s, s->det.run_of[t->trial_id]);
}

static int push_stop(hps_sweep *s, int64_t ri, int64_t step)
{
    hps_det *d = &s->det;
    hps_det_stop *st = hps_grow(d->stops, &d->cap_stops, (size_t)d->n_stops + 1, sizeof *st, 16);
    if (!st)
        return HPS_ENOMEM;
    d->stops = st;
    d->stops[d->n_stops++] = (hps_det_stop){.trial_id = d->runs[ri].trial_id, .run = ri,
                                            .step = step};
    return HPS_OK;
}

/* Run ri stops at report index k (step): the trial is pruned once it ended, and
 * the coordinator is told. */
static int stop_run(hps_sweep *s, int64_t ri, int32_t k, int64_t step)
{
    hps_det_run *r = &s->det.runs[ri];
    r->stop = 1;
    r->stop_step = step;
    r->stop_rep = k;
    prune_trial(s, ri);
    return push_stop(s, ri, step);
}

int hps_det_report(hps_sweep *s, int64_t trial_id, const hps_rec_metric *m, const hps_record *rec,
                   char *err, size_t errlen)
{
    hps_det *d = &s->det;
    hps_det_run *r = d->on ? run_of(s, trial_id) : NULL;
    if (!r)
        return HPS_OK;
    if (r->n_skip > 0) {
        r->n_skip--;
        return HPS_OK;
    }
    int64_t ri = d->run_of[trial_id];
    int32_t index = r->n_seen++;
    if (r->stop)
        return HPS_OK;
    hps_det_rep *reps = hps_grow(d->reps, &d->cap_reps, (size_t)d->n_reps + 1, sizeof *reps, 1024);
    if (!reps)
        return HPS_ENOMEM;
    d->reps = reps;
    r = &d->runs[ri];
    int64_t k = d->n_reps++;
    d->reps[k] = (hps_det_rep){.next = -1, .index = index, .step = m->step,
                               .resource = m->resource, .value = m->value};
    if (r->rep_tail >= 0)
        d->reps[r->rep_tail].next = k;
    else
        r->rep_head = k;
    r->rep_tail = k;
    if (!s->pruner)
        return HPS_OK;
    /* The pruner judges it now, knowing what this run's suggestion knew. */
    hps_observation obs = {.trial_id = trial_id, .kind = HPS_OBS_INTERMEDIATE,
                           .u = hps_sweep_unit(s, trial_id),
                           .value = hps_sweep_oriented(s, m->value), .resource = m->resource,
                           .step = m->step, .has_horizon = 1,
                           .horizon = ri - d->p > 0 ? ri - d->p : 0};
    hps_decision dec = HPS_DECISION_CONTINUE;
    int rc = s->pruner_ops->report(s->pruner, &obs, &dec);
    if (rc != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the pruner refused an intermediate report", rec);
    return dec == HPS_DECISION_CONTINUE ? HPS_OK : stop_run(s, ri, index, m->step);
}

/* Show the strategy one report of run ri at its turn; a stop marks the run. */
static int show_report(hps_sweep *s, int64_t ri, const hps_det_rep *rep, const hps_record *rec,
                       char *err, size_t errlen)
{
    hps_det_run *r = &s->det.runs[ri];
    hps_observation obs = {.trial_id = r->trial_id, .kind = HPS_OBS_INTERMEDIATE,
                           .u = hps_sweep_unit(s, r->trial_id),
                           .value = hps_sweep_oriented(s, rep->value),
                           .resource = rep->resource, .step = rep->step};
    hps_decision dec = HPS_DECISION_CONTINUE;
    int rc = s->ops->observe(s->strategy, &obs, &dec);
    if (rc != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the strategy refused an intermediate report", rec);
    if (dec == HPS_DECISION_CONTINUE || r->stop)
        return HPS_OK;
    return stop_run(s, ri, rep->index, rep->step);
}

/* Show run ri as far as it has arrived: *whole = 1 when its end was shown too. */
static int show_run(hps_sweep *s, int64_t ri, int *whole, const hps_record *rec, char *err,
                    size_t errlen)
{
    hps_det *d = &s->det;
    hps_det_run *r = &d->runs[ri];
    int rc;
    *whole = 0;
    while (r->rep_head >= 0) {
        hps_det_rep rep = d->reps[r->rep_head];
        r->rep_head = rep.next;
        if (r->rep_head < 0)
            r->rep_tail = -1;
        /* the strategy sees the reports up to the one that stopped the run */
        if ((!r->stop || rep.index <= r->stop_rep) &&
            (rc = show_report(s, ri, &rep, rec, err, errlen)) != HPS_OK)
            return rc;
        r = &d->runs[ri];
    }
    if (!r->ended)
        return HPS_OK;
    /* A stopped run ends as a pruned trial does: a failure to the strategy. */
    int done = r->status == HPS_TRIAL_DONE && !r->stop;
    hps_observation obs = {.trial_id = r->trial_id, .kind = done ? HPS_OBS_FINAL : HPS_OBS_FAILED,
                           .u = hps_sweep_unit(s, r->trial_id),
                           .value = done ? hps_sweep_oriented(s, r->objective) : NAN,
                           .resource = r->budget, .step = 0};
    if ((rc = s->ops->observe(s->strategy, &obs, NULL)) != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the strategy refused an observation", rec);
    if (s->pruner && (rc = s->pruner_ops->finish(s->pruner, &obs)) != HPS_OK)
        return hps_sweep_fail(err, errlen, rc, "the pruner refused an observation", rec);
    *whole = 1;
    return HPS_OK;
}

int hps_det_advance(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_det *d = &s->det;
    if (!d->on || !s->strategy)
        return HPS_OK;
    while (d->fed < d->n_runs - d->p) {
        int whole, rc = show_run(s, d->fed, &whole, rec, err, errlen);
        if (rc != HPS_OK)
            return rc;
        if (!whole)
            break;
        d->fed++;
    }
    return HPS_OK;
}

int hps_det_apply_feed(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_det *d = &s->det;
    int64_t run;
    if (hps_rec_decode_feed(rec->payload, rec->len, &run) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed FEED", rec);
    if (!d->on)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "FEED in a sweep that is not "
                              "deterministic", rec);
    if (run != d->fed || run >= d->n_runs || !d->runs[run].ended ||
        d->runs[run].trial_id != rec->trial_id)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "FEED of a run out of order or not "
                              "ended", rec);
    if (s->strategy) {
        int whole, rc = show_run(s, run, &whole, rec, err, errlen);
        if (rc != HPS_OK)
            return rc;
    }
    d->fed++;
    return HPS_OK;
}

int hps_det_apply_prune(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_det *d = &s->det;
    int64_t run, step;
    if (hps_rec_decode_prune(rec->payload, rec->len, &run, &step) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed PRUNE", rec);
    if (!d->on || run < 0 || run >= d->n_runs || d->runs[run].trial_id != rec->trial_id)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "PRUNE of an unknown run", rec);
    hps_det_run *r = &d->runs[run];
    /* With a strategy the stop was decided again while feeding; it must agree. A
     * replayed decision is journaled now: it leaves the stops not journaled yet
     * (what a torn tail lost, for the coordinator to journal). */
    if (s->strategy && (!r->stop || r->stop_step != step))
        s->replay_diverged = 1;
    for (int i = 0; i < d->n_stops; i++)
        if (d->stops[i].run == run) {
            memmove(&d->stops[i], &d->stops[i + 1],
                    sizeof *d->stops * (size_t)(d->n_stops - i - 1));
            d->n_stops--;
            break;
        }
    r->stop = 1;
    r->stop_step = step;
    prune_trial(s, run);
    return HPS_OK;
}
