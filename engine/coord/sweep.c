/*
 * Applying journal records to the in-memory sweep (see sweep.h). This is the one
 * place that interprets records and the one place the strategy and the pruner are
 * fed, used alike by the running coordinator (hps_sweep_commit), resume,
 * `hpsweep status` and the HDF5 rebuild (hps_sweep_replay). This file holds the
 * state, HEADER, SUGGEST and DISPATCH, the dispatcher over record types, the
 * commits and the replay; sweep_metrics.c, sweep_det.c and sweep_store.c the rest.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/grow.h"
#include "core/seed.h"
#include "hpsweep/error.h"
#include "sweep_internal.h"

void hps_sweep_init(hps_sweep *s, unsigned flags)
{
    memset(s, 0, sizeof *s);
    s->flags = flags;
    s->best_id = -1;
    s->best_spilled.trial_id = -1;
    snprintf(s->status, sizeof s->status, "running");
}

hps_trial *hps_sweep_trial(const hps_sweep *s, int64_t id)
{
    if (id < s->trials_spilled || id >= s->n_trials)
        return NULL;
    return &s->trials[id - s->trials_spilled];
}

const double *hps_sweep_unit(const hps_sweep *s, int64_t id)
{
    return s->u + (size_t)(id - s->trials_spilled) * (size_t)s->d;
}

const hps_trial *hps_sweep_best(const hps_sweep *s)
{
    if (s->best_id < 0)
        return NULL;
    return s->best_id < s->trials_spilled ? &s->best_spilled : hps_sweep_trial(s, s->best_id);
}

void hps_sweep_free(hps_sweep *s)
{
    if (!s)
        return;
    if (s->ops && s->strategy)
        s->ops->destroy(s->strategy);
    if (s->pruner_ops && s->pruner)
        s->pruner_ops->destroy(s->pruner);
    hps_config_free(&s->cfg);
    for (int64_t i = s->trials_spilled; i < s->n_trials; i++)
        free(hps_sweep_trial(s, i)->stderr_tail);
    free(s->trials);
    free(s->u);
    free(s->values);
    hps_store_index_free(&s->spilled_index);
    hps_store_pack_free(s->pack);
    free(s->best_spilled_values);
    free(s->metrics);
    for (int i = 0; i < s->n_metric_names; i++)
        free(s->metric_names[i]);
    free(s->metric_names);
    free(s->u_scratch);
    free(s->u_check);
    free(s->m_scratch);
    free(s->rungs);
    free(s->tails_spilled);
    if (s->carry_path) /* a replay's file whose rows no write of sweep.h5 took */
        unlink(s->carry_path);
    free(s->carry_path);
    hps_buf_free(&s->rec);
    hps_det_free(&s->det);
    for (int i = 0; i < s->n_runs; i++)
        hps_prov_free(&s->runs[i]);
    free(s->runs);
    hps_sweep_init(s, s->flags);
}

double hps_sweep_oriented(const hps_sweep *s, double objective)
{
    return s->cfg.maximize ? -objective : objective;
}

int hps_sweep_metric_index(const hps_sweep *s, const char *name)
{
    for (int i = 0; i < s->n_metric_names; i++)
        if (strcmp(s->metric_names[i], name) == 0)
            return i;
    return -1;
}

int hps_sweep_fail(char *err, size_t errlen, int code, const char *what, const hps_record *rec)
{
    if (err)
        snprintf(err, errlen, "journal record %llu (trial %lld): %s",
                 (unsigned long long)rec->seq, (long long)rec->trial_id, what);
    return code;
}

/* Make room for trials up to id want - 1 (ids are dense; a SUGGEST adds the next
 * one). */
static int grow_trials(hps_sweep *s, int64_t want)
{
    size_t cap = hps_grow_cap(s->cap_trials, (size_t)(want - s->trials_spilled), 1024);
    if (cap == s->cap_trials)
        return HPS_OK;
    size_t d = (size_t)(s->d > 0 ? s->d : 1);
    if (cap == 0 || cap > SIZE_MAX / (d * sizeof(double)))
        return HPS_ENOMEM;
    hps_trial *t = realloc(s->trials, cap * sizeof *t);
    if (!t)
        return HPS_ENOMEM;
    s->trials = t;
    double *u = realloc(s->u, cap * d * sizeof *u);
    if (!u)
        return HPS_ENOMEM;
    s->u = u;
    double *v = realloc(s->values, cap * d * sizeof *v);
    if (!v)
        return HPS_ENOMEM;
    s->values = v;
    for (int64_t i = 0; i < s->n_trials - s->trials_spilled; i++)
        s->trials[i].values = s->values + (size_t)i * d;
    s->cap_trials = cap;
    return HPS_OK;
}

static void count_status(hps_sweep *s, int status, int64_t delta)
{
    switch (status) {
    case HPS_TRIAL_RUNNING:
        s->n_running += delta;
        break;
    case HPS_TRIAL_DONE:
        s->n_done += delta;
        break;
    case HPS_TRIAL_FAILED:
        s->n_failed += delta;
        break;
    case HPS_TRIAL_INTERRUPTED:
        s->n_interrupted += delta;
        break;
    case HPS_TRIAL_PRUNED:
        s->n_pruned += delta;
        break;
    default:
        break;
    }
}

void hps_sweep_set_status(hps_sweep *s, hps_trial *t, int status)
{
    count_status(s, t->status, -1);
    t->status = status;
    count_status(s, status, +1);
}

void hps_sweep_update_best(hps_sweep *s, const hps_trial *t)
{
    if (t->status != HPS_TRIAL_DONE || isnan(t->objective))
        return;
    if (s->best_id < 0 || hps_trial_better(t, hps_sweep_best(s), s->cfg.maximize))
        s->best_id = t->trial_id;
}

/* The best trial was touched (promoted, re-dispatched, ended again, or pruned at
 * its deterministic turn): find the best among all done trials from scratch (the
 * spilled ones have their best kept). O(n), only when the best itself moves. */
void hps_sweep_recompute_best(hps_sweep *s)
{
    s->best_id = s->best_spilled.trial_id;
    for (int64_t i = s->trials_spilled; i < s->n_trials; i++)
        hps_sweep_update_best(s, hps_sweep_trial(s, i));
}

/* ---- HEADER: the config, and the strategy it names ------------------------------ */

static int create_strategy(hps_sweep *s, char *err, size_t errlen)
{
    char serr[512] = "";
    s->ops = s->cfg.strategy_ops;
    int rc = s->ops->create(&s->cfg.space, &s->cfg.strategy_cfg, hps_seed_strategy(s->seed),
                            &s->strategy, serr, sizeof serr);
    if (rc != HPS_OK) {
        if (err)
            snprintf(err, errlen, "strategy '%s': %s", s->ops->name,
                     serr[0] ? serr : hps_strerror(rc));
        return rc;
    }
    if (!s->cfg.pruner_ops)
        return HPS_OK;
    s->pruner_ops = s->cfg.pruner_ops;
    rc = s->pruner_ops->create(&s->cfg.pruner_cfg, &s->pruner, serr, sizeof serr);
    if (rc != HPS_OK && err)
        snprintf(err, errlen, "pruner '%s': %s", s->pruner_ops->name,
                 serr[0] ? serr : hps_strerror(rc));
    return rc;
}

static int apply_header(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_rec_header h;
    if (s->have_header)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "a second HEADER record", rec);
    if (hps_rec_decode_header(rec->payload, rec->len, &h) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed HEADER", rec);
    if (h.version < HPS_JOURNAL_FORMAT_MIN || h.version > HPS_JOURNAL_FORMAT)
        return hps_sweep_fail(err, errlen, HPS_EVERSION, "unsupported journal format version",
                              rec);
    char source[1024];
    snprintf(source, sizeof source, "%.*s", (int)h.source_len, h.source);
    int rc = hps_config_parse(h.config_text, h.config_len, source, &s->cfg, err, errlen);
    if (rc != HPS_OK)
        return rc;
    s->seed = h.seed;
    s->created = h.created;
    s->d = s->cfg.space.n_params;
    hps_sweep_config_budget(&s->cfg, &s->budget);
    s->have_header = 1;
    size_t d = (size_t)(s->d > 0 ? s->d : 1);
    s->u_scratch = malloc(sizeof(double) * d);
    s->u_check = malloc(sizeof(double) * d);
    s->best_spilled_values = malloc(sizeof(double) * d);
    if (!s->u_scratch || !s->u_check || !s->best_spilled_values)
        return HPS_ENOMEM;
    hps_store_index_init(&s->spilled_index, s->cfg.maximize);
    hps_det_init(s);
    return (s->flags & HPS_SWEEP_STRATEGY) ? create_strategy(s, err, errlen) : HPS_OK;
}

/* ---- SUGGEST: a new trial or a promotion ------------------------------------------ */

/*
 * Ask the strategy for its next suggestion as a SUGGEST record's fields (u into
 * u_buf). HPS_OK, HPS_EAGAIN, HPS_EDONE (state unchanged), HPS_EINVAL when it
 * names a trial it may not promote (err filled), or its error.
 */
static int strategy_suggest(hps_sweep *s, double *u_buf, hps_rec_suggest *sg, int64_t *id,
                            char *err, size_t errlen)
{
    hps_suggestion out = {.u = u_buf, .trial_id = s->n_trials, .bracket = -1, .rung = -1};
    int rc = s->ops->suggest(s->strategy, &out);
    if (rc != HPS_OK) {
        if (rc != HPS_EAGAIN && rc != HPS_EDONE && err)
            snprintf(err, errlen, "strategy '%s' failed to suggest: %s", s->ops->name,
                     hps_strerror(rc));
        return rc;
    }
    sg->seed = hps_seed_trial(s->seed, out.trial_id);
    if (out.promotion) {
        /* The trial keeps its id, seed and configuration; it continues from its
         * last rung's checkpoint at the larger budget. */
        const hps_trial *t = hps_sweep_trial(s, out.trial_id);
        if (out.trial_id >= 0 && out.trial_id < s->trials_spilled) {
            if (err)
                snprintf(err, errlen, "strategy '%s' promoted trial %lld, but it says it never "
                         "promotes (HPS_STRATEGY_NO_PROMOTION), so the trial is no longer "
                         "held", s->ops->name, (long long)out.trial_id);
            return HPS_EINVAL;
        }
        if (!t || t->status != HPS_TRIAL_DONE || !(out.budget > t->budget)) {
            if (err)
                snprintf(err, errlen, "strategy '%s' promoted trial %lld, which is not a "
                         "completed trial with a smaller budget", s->ops->name,
                         (long long)out.trial_id);
            return HPS_EINVAL;
        }
        sg->seed = t->seed;
        memcpy(u_buf, hps_sweep_unit(s, out.trial_id), sizeof(double) * (size_t)s->d);
    } else if (out.trial_id != s->n_trials) {
        if (err)
            snprintf(err, errlen, "strategy '%s' changed a new trial's id", s->ops->name);
        return HPS_EINVAL;
    }
    sg->budget = out.budget;
    sg->bracket = out.bracket;
    sg->rung = out.rung;
    sg->promotion = out.promotion;
    sg->n = (uint32_t)s->d;
    sg->u = u_buf;
    *id = out.trial_id;
    return HPS_OK;
}

/* A recorded suggestion that the strategy, asked again, answers differently:
 * replay goes on from the journal, and the caller is told (replay_diverged). */
static void check_replayed(hps_sweep *s, const hps_rec_suggest *sg, int64_t id)
{
    hps_rec_suggest mine;
    int64_t mine_id;
    int rc = strategy_suggest(s, s->u_check, &mine, &mine_id, NULL, 0);
    /* A promotion is checked by id and budget (its u is the trial's own). */
    if (rc != HPS_OK || mine_id != id || mine.promotion != sg->promotion ||
        mine.budget != sg->budget ||
        (!sg->promotion && memcmp(mine.u, sg->u, sizeof(double) * (size_t)s->d) != 0))
        s->replay_diverged = 1;
}

/*
 * Apply a SUGGEST. draft NULL: a recorded one (payload), checked against the
 * strategy when there is one. draft non-NULL: a live one: its worker and start are
 * given, the rest is the strategy's answer, and its payload is encoded into s->rec.
 */
static int apply_suggest(hps_sweep *s, const hps_record *rec, const hps_rec_suggest *draft,
                         hps_apply_out *out, char *err, size_t errlen)
{
    hps_rec_suggest sg;
    int64_t id = rec->trial_id;
    int rc;
    if (draft) {
        if (!s->strategy)
            return hps_sweep_fail(err, errlen, HPS_EINVAL, "a live SUGGEST without a strategy",
                                  rec);
        if ((rc = hps_det_gate(s, rec, 1, err, errlen)) != HPS_OK)
            return rc;
        if ((rc = strategy_suggest(s, s->u_scratch, &sg, &id, err, errlen)) != HPS_OK)
            return rc;
        sg.worker = draft->worker;
        sg.start = draft->start;
        if ((rc = hps_rec_encode_suggest(&s->rec, &sg)) != HPS_OK)
            return rc;
    } else {
        if (hps_rec_decode_suggest(rec->payload, rec->len, &sg, s->u_scratch, (uint32_t)s->d) !=
                HPS_OK ||
            sg.n != (uint32_t)s->d)
            return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed SUGGEST", rec);
        if (sg.promotion) {
            if (!hps_sweep_trial(s, id))
                return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "promotion of an unknown trial",
                                      rec);
            if (hps_sweep_trial(s, id)->status == HPS_TRIAL_RUNNING)
                return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "promotion of a running trial",
                                      rec);
        } else if (id != s->n_trials) {
            return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "trial ids out of order", rec);
        }
        if (s->strategy && (rc = hps_det_gate(s, rec, 0, err, errlen)) != HPS_OK)
            return rc;
        if (s->strategy)
            check_replayed(s, &sg, id);
    }
    if (!sg.promotion) {
        if ((rc = grow_trials(s, id + 1)) != HPS_OK)
            return rc;
        s->n_trials = id + 1;
        hps_trial *t = hps_sweep_trial(s, id);
        memset(t, 0, sizeof *t);
        t->trial_id = id;
        t->status = -1;
        t->exit_code = -1;
        t->values = s->values + (size_t)(id - s->trials_spilled) * (size_t)s->d;
        memcpy(s->u + (size_t)(id - s->trials_spilled) * (size_t)s->d, sg.u,
               sizeof(double) * (size_t)s->d);
        hps_space_decode(&s->cfg.space, sg.u, t->values);
    }
    hps_trial *t = hps_sweep_trial(s, id);
    if (sg.promotion && t->status == HPS_TRIAL_RUNNING)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "promotion of a running trial", rec);
    t->prev_budget = sg.promotion ? t->budget : 0.0;
    s->resource_dispatched += sg.budget - t->prev_budget;
    t->seed = sg.seed;
    t->budget = sg.budget;
    t->bracket = sg.bracket;
    t->rung = sg.rung;
    t->worker = sg.worker;
    t->start = sg.start;
    t->end = NAN;
    t->objective = NAN;
    t->cause[0] = '\0';
    hps_sweep_set_status(s, t, HPS_TRIAL_RUNNING);
    if (id == s->best_id)
        hps_sweep_recompute_best(s);
    if (out) {
        out->trial_id = id;
        out->promotion = sg.promotion;
    }
    if ((rc = hps_det_suggested(s, id, sg.budget, err, errlen)) != HPS_OK)
        return rc;
    return hps_det_advance(s, rec, err, errlen);
}

static int apply_dispatch(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    int32_t worker;
    double start;
    if (hps_rec_decode_dispatch(rec->payload, rec->len, &worker, &start) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed DISPATCH", rec);
    hps_trial *t = hps_sweep_trial(s, rec->trial_id);
    if (!t)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "DISPATCH of an unknown trial", rec);
    t->worker = worker;
    t->start = start;
    t->end = NAN;
    t->objective = NAN;
    t->cause[0] = '\0';
    hps_sweep_set_status(s, t, HPS_TRIAL_RUNNING);
    if (rec->trial_id == s->best_id)
        hps_sweep_recompute_best(s);
    hps_det_dispatched(s, rec->trial_id);
    return HPS_OK;
}

static int apply(hps_sweep *s, const hps_record *rec, const hps_rec_suggest *draft,
                 hps_apply_out *out, char *err, size_t errlen)
{
    if (out)
        *out = (hps_apply_out){.trial_id = -1, .decision = HPS_DECISION_CONTINUE};
    if (rec->type != HPS_REC_HEADER && !s->have_header)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT,
                              "the journal does not start with a HEADER", rec);
    switch (rec->type) {
    case HPS_REC_HEADER:
        return apply_header(s, rec, err, errlen);
    case HPS_REC_SUGGEST:
        return apply_suggest(s, rec, draft, out, err, errlen);
    case HPS_REC_DISPATCH:
        return apply_dispatch(s, rec, err, errlen);
    case HPS_REC_RESULT:
        return hps_sweep_apply_result(s, rec, out, err, errlen);
    case HPS_REC_INTERRUPT:
        return hps_sweep_apply_interrupt(s, rec, err, errlen);
    case HPS_REC_METRIC_NAME:
    case HPS_REC_STATUS:
        return hps_sweep_apply_string(s, rec, err, errlen);
    case HPS_REC_REPORT:
        return hps_sweep_apply_report(s, rec, out, err, errlen);
    case HPS_REC_BUDGET:
        return hps_sweep_apply_budget(s, rec, err, errlen);
    case HPS_REC_FEED:
        return hps_det_apply_feed(s, rec, err, errlen);
    case HPS_REC_PRUNE:
        return hps_det_apply_prune(s, rec, err, errlen);
    case HPS_REC_RUN:
        return hps_sweep_apply_run(s, rec, err, errlen);
    default:
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "unknown record type", rec);
    }
}

int hps_sweep_apply(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                    size_t errlen)
{
    return apply(s, rec, NULL, out, err, errlen);
}

static int append(hps_journal *j, const hps_record *rec, char *err, size_t errlen)
{
    int rc = hps_journal_append(j, rec->type, rec->trial_id, rec->payload, rec->len);
    if (rc != HPS_OK && err)
        snprintf(err, errlen, "appending to the journal: %s", hps_strerror(rc));
    return rc;
}

int hps_sweep_commit(hps_sweep *s, hps_journal *j, uint32_t type, int64_t trial_id,
                     const void *payload, uint32_t len, hps_apply_out *out, char *err,
                     size_t errlen)
{
    hps_record rec = {.seq = hps_journal_last_seq(j) + 1, .type = type, .trial_id = trial_id,
                      .payload = payload, .len = len};
    s->journal = j;
    int rc = apply(s, &rec, NULL, out, err, errlen);
    return rc == HPS_OK ? append(j, &rec, err, errlen) : rc;
}

/* Deterministic mode: the strategy waits with its window of results complete.
 * Show it the next run in suggestion order (a FEED record) when that run has
 * ended: HPS_OK, else HPS_EAGAIN (det.waiting_for: that run's trial, or -1 when
 * every run was shown and the strategy still waits). */
static int feed_next(hps_sweep *s, hps_journal *j, char *err, size_t errlen)
{
    hps_det *d = &s->det;
    if (d->fed >= d->n_runs)
        return HPS_EAGAIN;
    const hps_det_run *r = &d->runs[d->fed];
    if (!r->ended) {
        d->waiting_for = r->trial_id;
        return HPS_EAGAIN;
    }
    int rc = hps_rec_encode_feed(&s->rec, d->fed);
    if (rc != HPS_OK)
        return rc;
    /* Applying a FEED leaves s->rec alone, so it can carry the payload. */
    return hps_sweep_commit(s, j, HPS_REC_FEED, r->trial_id, s->rec.data, (uint32_t)s->rec.len,
                            NULL, err, errlen);
}

int hps_sweep_commit_suggest(hps_sweep *s, hps_journal *j, int32_t worker, double start,
                             hps_apply_out *out, char *err, size_t errlen)
{
    hps_apply_out mine;
    hps_rec_suggest draft = {.worker = worker, .start = start};
    hps_record rec = {.type = HPS_REC_SUGGEST};
    int rc;
    s->journal = j;
    for (;;) {
        rec.seq = hps_journal_last_seq(j) + 1;
        rec.trial_id = s->n_trials;
        s->det.waiting_for = -1;
        rc = apply(s, &rec, &draft, out ? out : &mine, err, errlen);
        if (rc != HPS_EAGAIN || !s->det.on || s->det.waiting_for >= 0)
            break;
        if ((rc = feed_next(s, j, err, errlen)) != HPS_OK)
            break;
    }
    if (rc != HPS_OK)
        return rc;
    rec.trial_id = (out ? out : &mine)->trial_id;
    rec.payload = s->rec.data;
    rec.len = (uint32_t)s->rec.len;
    return append(j, &rec, err, errlen);
}

int hps_sweep_commit_budget(hps_sweep *s, hps_journal *j, const hps_rec_budget *g, char *err,
                            size_t errlen)
{
    if (hps_budget_same(g, &s->budget))
        return HPS_OK;
    int rc = hps_rec_encode_budget(&s->rec, g);
    if (rc != HPS_OK)
        return rc;
    /* Applying a BUDGET leaves s->rec alone, so it can carry the payload. */
    return hps_sweep_commit(s, j, HPS_REC_BUDGET, -1, s->rec.data, (uint32_t)s->rec.len, NULL,
                            err, errlen);
}

int hps_sweep_commit_start(hps_sweep *s, hps_journal *j, const hps_rec_header *h,
                           const char *metric, char *err, size_t errlen)
{
    hps_buf b = {0};
    int rc;
    if ((rc = hps_rec_encode_header(&b, h)) == HPS_OK &&
        (rc = hps_sweep_commit(s, j, HPS_REC_HEADER, -1, b.data, (uint32_t)b.len, NULL, err,
                               errlen)) == HPS_OK &&
        (rc = hps_rec_encode_string(&b, 0, metric)) == HPS_OK)
        rc = hps_sweep_commit(s, j, HPS_REC_METRIC_NAME, -1, b.data, (uint32_t)b.len, NULL, err,
                              errlen);
    hps_buf_free(&b);
    return rc;
}

int hps_sweep_commit_run(hps_sweep *s, hps_journal *j, uint32_t phase, const hps_prov *p,
                         char *err, size_t errlen)
{
    int rc = hps_rec_encode_run(&s->rec, phase, p);
    if (rc != HPS_OK)
        return rc;
    /* Applying a RUN leaves s->rec alone, so it can carry the payload. */
    return hps_sweep_commit(s, j, HPS_REC_RUN, -1, s->rec.data, (uint32_t)s->rec.len, NULL, err,
                            errlen);
}

const hps_det_stop *hps_sweep_take_stops(hps_sweep *s, int *n)
{
    *n = s->det.n_stops;
    s->det.n_stops = 0;
    return s->det.stops;
}

int hps_sweep_commit_prune(hps_sweep *s, hps_journal *j, const hps_det_stop *stop, char *err,
                           size_t errlen)
{
    int rc = hps_rec_encode_prune(&s->rec, stop->run, stop->step);
    if (rc != HPS_OK)
        return rc;
    /* Applying a PRUNE leaves s->rec (and the stops taken) alone. */
    return hps_sweep_commit(s, j, HPS_REC_PRUNE, stop->trial_id, s->rec.data,
                            (uint32_t)s->rec.len, NULL, err, errlen);
}

typedef struct replay_ctx {
    hps_sweep *s;
    int (*after)(void *ctx);
    void *ctx;
    char *err;
    size_t errlen;
} replay_ctx;

static int replay_one(void *ctx, const hps_record *rec)
{
    replay_ctx *c = ctx;
    int rc = hps_sweep_apply(c->s, rec, NULL, c->err, c->errlen);
    if (rc == HPS_OK && c->after && (rc = c->after(c->ctx)) != HPS_OK && c->err)
        snprintf(c->err, c->errlen, "replaying the journal: %s", hps_strerror(rc));
    return rc;
}

int hps_sweep_replay(hps_sweep *s, hps_journal *j, char *err, size_t errlen)
{
    return hps_sweep_replay_then(s, j, NULL, NULL, err, errlen);
}

int hps_sweep_replay_then(hps_sweep *s, hps_journal *j, int (*after)(void *ctx), void *ctx,
                          char *err, size_t errlen)
{
    replay_ctx c = {s, after, ctx, err, errlen};
    int rc = hps_journal_replay(j, replay_one, &c);
    if (rc == HPS_OK && !s->have_header) {
        if (err)
            snprintf(err, errlen, "the journal holds no sweep (no HEADER record)");
        return HPS_ECORRUPT;
    }
    return rc;
}

