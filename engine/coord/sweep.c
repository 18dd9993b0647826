/*
 * Applying journal records to the in-memory sweep (see sweep.h). This is the one
 * place that interprets records and the one place the strategy and the pruner are
 * fed, used alike by the running coordinator (hps_sweep_commit), resume,
 * `hpsweep status` and the HDF5 rebuild (hps_sweep_replay).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/grow.h"
#include "core/seed.h"
#include "hpsweep/error.h"
#include "sweep.h"

void hps_sweep_init(hps_sweep *s, unsigned flags)
{
    memset(s, 0, sizeof *s);
    s->flags = flags;
    s->best_id = -1;
    snprintf(s->status, sizeof s->status, "running");
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
    for (int64_t i = 0; i < s->n_trials; i++)
        free(s->trials[i].stderr_tail);
    free(s->trials);
    free(s->u);
    free(s->values);
    free(s->metrics);
    for (int i = 0; i < s->n_metric_names; i++)
        free(s->metric_names[i]);
    free(s->metric_names);
    free(s->u_scratch);
    free(s->u_check);
    free(s->m_scratch);
    free(s->rungs);
    hps_buf_free(&s->rec);
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

static int fail(char *err, size_t errlen, int code, const char *what, const hps_record *rec)
{
    if (err)
        snprintf(err, errlen, "journal record %llu (trial %lld): %s",
                 (unsigned long long)rec->seq, (long long)rec->trial_id, what);
    return code;
}

/* Make room for `want` trials (ids are dense; a SUGGEST adds the next one). */
static int grow_trials(hps_sweep *s, int64_t want)
{
    size_t cap = hps_grow_cap(s->cap_trials, (size_t)want, 1024);
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
    for (int64_t i = 0; i < s->n_trials; i++)
        s->trials[i].values = s->values + (size_t)i * d;
    s->cap_trials = cap;
    return HPS_OK;
}

static int add_metric(hps_sweep *s, int64_t trial_id, const hps_rec_metric *m)
{
    hps_metric *p = hps_grow(s->metrics, &s->cap_metrics, (size_t)s->n_metrics + 1, sizeof *p, 1024);
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

static void set_status(hps_sweep *s, hps_trial *t, int status)
{
    count_status(s, t->status, -1);
    t->status = status;
    count_status(s, status, +1);
}

static void update_best(hps_sweep *s, const hps_trial *t)
{
    if (t->status != HPS_TRIAL_DONE || isnan(t->objective))
        return;
    if (s->best_id < 0 || hps_trial_better(t, &s->trials[s->best_id], s->cfg.maximize))
        s->best_id = t->trial_id;
}

/* The best trial was touched (promoted, re-dispatched, or ended again): find the
 * best among all done trials from scratch. O(n), only when the best itself moves. */
static void recompute_best(hps_sweep *s)
{
    s->best_id = -1;
    for (int64_t i = 0; i < s->n_trials; i++)
        update_best(s, &s->trials[i]);
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
        return fail(err, errlen, HPS_ECORRUPT, "a second HEADER record", rec);
    if (hps_rec_decode_header(rec->payload, rec->len, &h) != HPS_OK)
        return fail(err, errlen, HPS_ECORRUPT, "malformed HEADER", rec);
    if (h.version != HPS_JOURNAL_FORMAT)
        return fail(err, errlen, HPS_EVERSION, "unsupported journal format version", rec);
    char source[1024];
    snprintf(source, sizeof source, "%.*s", (int)h.source_len, h.source);
    int rc = hps_config_parse(h.config_text, h.config_len, source, &s->cfg, err, errlen);
    if (rc != HPS_OK)
        return rc;
    s->seed = h.seed;
    s->created = h.created;
    s->d = s->cfg.space.n_params;
    s->have_header = 1;
    size_t d = (size_t)(s->d > 0 ? s->d : 1);
    s->u_scratch = malloc(sizeof(double) * d);
    s->u_check = malloc(sizeof(double) * d);
    if (!s->u_scratch || !s->u_check)
        return HPS_ENOMEM;
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
        if (out.trial_id < 0 || out.trial_id >= s->n_trials ||
            s->trials[out.trial_id].status != HPS_TRIAL_DONE ||
            !(out.budget > s->trials[out.trial_id].budget)) {
            if (err)
                snprintf(err, errlen, "strategy '%s' promoted trial %lld, which is not a "
                         "completed trial with a smaller budget", s->ops->name,
                         (long long)out.trial_id);
            return HPS_EINVAL;
        }
        sg->seed = s->trials[out.trial_id].seed;
        memcpy(u_buf, s->u + (size_t)out.trial_id * (size_t)s->d, sizeof(double) * (size_t)s->d);
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
            return fail(err, errlen, HPS_EINVAL, "a live SUGGEST without a strategy", rec);
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
            return fail(err, errlen, HPS_ECORRUPT, "malformed SUGGEST", rec);
        if (sg.promotion) {
            if (id < 0 || id >= s->n_trials)
                return fail(err, errlen, HPS_ECORRUPT, "promotion of an unknown trial", rec);
            if (s->trials[id].status == HPS_TRIAL_RUNNING)
                return fail(err, errlen, HPS_ECORRUPT, "promotion of a running trial", rec);
        } else if (id != s->n_trials) {
            return fail(err, errlen, HPS_ECORRUPT, "trial ids out of order", rec);
        }
        if (s->strategy)
            check_replayed(s, &sg, id);
    }
    if (!sg.promotion) {
        if ((rc = grow_trials(s, id + 1)) != HPS_OK)
            return rc;
        s->n_trials = id + 1;
        hps_trial *t = &s->trials[id];
        memset(t, 0, sizeof *t);
        t->trial_id = id;
        t->status = -1;
        t->exit_code = -1;
        t->values = s->values + (size_t)id * (size_t)s->d;
        memcpy(s->u + (size_t)id * (size_t)s->d, sg.u, sizeof(double) * (size_t)s->d);
        hps_space_decode(&s->cfg.space, sg.u, t->values);
    }
    hps_trial *t = &s->trials[id];
    if (sg.promotion && t->status == HPS_TRIAL_RUNNING)
        return fail(err, errlen, HPS_ECORRUPT, "promotion of a running trial", rec);
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
    set_status(s, t, HPS_TRIAL_RUNNING);
    if (id == s->best_id)
        recompute_best(s);
    if (out) {
        out->trial_id = id;
        out->promotion = sg.promotion;
    }
    return HPS_OK;
}

static int apply_dispatch(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    int32_t worker;
    double start;
    if (hps_rec_decode_dispatch(rec->payload, rec->len, &worker, &start) != HPS_OK)
        return fail(err, errlen, HPS_ECORRUPT, "malformed DISPATCH", rec);
    if (rec->trial_id < 0 || rec->trial_id >= s->n_trials)
        return fail(err, errlen, HPS_ECORRUPT, "DISPATCH of an unknown trial", rec);
    hps_trial *t = &s->trials[rec->trial_id];
    t->worker = worker;
    t->start = start;
    t->end = NAN;
    t->objective = NAN;
    t->cause[0] = '\0';
    set_status(s, t, HPS_TRIAL_RUNNING);
    if (rec->trial_id == s->best_id)
        recompute_best(s);
    return HPS_OK;
}

/* ---- REPORT and RESULT: metrics, and what the strategy and pruner learn ----------- */

/* Room to decode every metric a payload of len bytes can hold. */
static int metric_scratch(hps_sweep *s, uint32_t len)
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

/* Every metric names a known metric (checked before anything is added). */
static int metrics_known(const hps_sweep *s, const hps_record *rec, const hps_rec_metric *m,
                         uint32_t n, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < n; i++)
        if (m[i].name_index < 0 || m[i].name_index >= s->n_metric_names)
            return fail(err, errlen, HPS_ECORRUPT, "metric with an unknown name index", rec);
    return HPS_OK;
}

static int add_metrics(hps_sweep *s, const hps_record *rec, const hps_rec_metric *m, uint32_t n)
{
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
                           .u = s->u + (size_t)rec->trial_id * (size_t)s->d,
                           .value = hps_sweep_oriented(s, m->value), .resource = m->resource,
                           .step = m->step};
    hps_decision mine = HPS_DECISION_CONTINUE;
    int rc = s->ops->observe(s->strategy, &obs, &mine);
    if (rc != HPS_OK)
        return fail(err, errlen, rc, "the strategy refused an intermediate report", rec);
    if (mine == HPS_DECISION_CONTINUE && s->pruner &&
        (rc = s->pruner_ops->report(s->pruner, &obs, &mine)) != HPS_OK)
        return fail(err, errlen, rc, "the pruner refused an intermediate report", rec);
    if (mine > *d)
        *d = mine;
    return HPS_OK;
}

static int apply_report(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                        size_t errlen)
{
    uint32_t n;
    int rc = metric_scratch(s, rec->len);
    if (rc != HPS_OK)
        return rc;
    if (hps_rec_decode_report(rec->payload, rec->len, s->m_scratch, s->m_cap, &n) != HPS_OK)
        return fail(err, errlen, HPS_ECORRUPT, "malformed REPORT", rec);
    if (rec->trial_id < 0 || rec->trial_id >= s->n_trials ||
        s->trials[rec->trial_id].status != HPS_TRIAL_RUNNING)
        return fail(err, errlen, HPS_ECORRUPT, "REPORT for a trial that is not running", rec);
    if ((rc = metrics_known(s, rec, s->m_scratch, n, err, errlen)) != HPS_OK ||
        (rc = add_metrics(s, rec, s->m_scratch, n)) != HPS_OK)
        return rc;
    hps_decision d = HPS_DECISION_CONTINUE;
    for (uint32_t i = 0; s->strategy && i < n; i++)
        if ((rc = observe_report(s, rec, &s->m_scratch[i], &d, err, errlen)) != HPS_OK)
            return rc;
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

static int apply_result(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                        size_t errlen)
{
    hps_outcome r;
    int rc = metric_scratch(s, rec->len);
    if (rc != HPS_OK)
        return rc;
    if (hps_rec_decode_result(rec->payload, rec->len, &r, s->m_scratch, s->m_cap) != HPS_OK)
        return fail(err, errlen, HPS_ECORRUPT, "malformed RESULT", rec);
    if (rec->trial_id < 0 || rec->trial_id >= s->n_trials)
        return fail(err, errlen, HPS_ECORRUPT, "RESULT for an unknown trial", rec);
    if (r.status < HPS_TRIAL_DONE || r.status > HPS_TRIAL_PRUNED)
        return fail(err, errlen, HPS_ECORRUPT, "RESULT with an invalid status", rec);
    hps_trial *t = &s->trials[rec->trial_id];
    if (t->status != HPS_TRIAL_RUNNING)
        return fail(err, errlen, HPS_ECORRUPT, "RESULT for a trial that is not running", rec);
    if ((rc = metrics_known(s, rec, r.metrics, r.n_metrics, err, errlen)) != HPS_OK ||
        (rc = add_metrics(s, rec, r.metrics, r.n_metrics)) != HPS_OK)
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
    set_status(s, t, r.status);
    if (t->trial_id == s->best_id)
        recompute_best(s);
    else
        update_best(s, t);
    if (t->rung >= 0 && (rc = add_rung(s, t)) != HPS_OK)
        return rc;
    if (out)
        out->trial_id = t->trial_id;
    if (!s->strategy)
        return HPS_OK;
    hps_observation obs = {
        .trial_id = t->trial_id,
        .kind = r.status == HPS_TRIAL_DONE ? HPS_OBS_FINAL : HPS_OBS_FAILED,
        .u = s->u + (size_t)t->trial_id * (size_t)s->d,
        .value = r.status == HPS_TRIAL_DONE ? hps_sweep_oriented(s, r.objective) : NAN,
        .resource = t->budget,
        .step = 0,
    };
    if ((rc = s->ops->observe(s->strategy, &obs, NULL)) != HPS_OK)
        return fail(err, errlen, rc, "the strategy refused an observation", rec);
    if (s->pruner && (rc = s->pruner_ops->finish(s->pruner, &obs)) != HPS_OK)
        return fail(err, errlen, rc, "the pruner refused an observation", rec);
    return HPS_OK;
}

static int apply_interrupt(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    double when;
    if (hps_rec_decode_interrupt(rec->payload, rec->len, &when) != HPS_OK)
        return fail(err, errlen, HPS_ECORRUPT, "malformed INTERRUPT", rec);
    if (rec->trial_id < 0 || rec->trial_id >= s->n_trials ||
        s->trials[rec->trial_id].status != HPS_TRIAL_RUNNING)
        return fail(err, errlen, HPS_ECORRUPT, "INTERRUPT of a trial that is not running", rec);
    hps_trial *t = &s->trials[rec->trial_id];
    t->end = when;
    snprintf(t->cause, sizeof t->cause, "interrupted");
    set_status(s, t, HPS_TRIAL_INTERRUPTED);
    return HPS_OK;
}

static int apply_string(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    int32_t index;
    const char *str;
    uint32_t len;
    if (hps_rec_decode_string(rec->payload, rec->len, &index, &str, &len) != HPS_OK)
        return fail(err, errlen, HPS_ECORRUPT, "malformed string record", rec);
    if (rec->type == HPS_REC_STATUS) {
        snprintf(s->status, sizeof s->status, "%.*s", (int)len, str);
        return HPS_OK;
    }
    if (index != s->n_metric_names)
        return fail(err, errlen, HPS_ECORRUPT, "metric names out of order", rec);
    char **names = hps_grow(s->metric_names, &s->cap_metric_names, (size_t)index + 1,
                            sizeof *names, 8);
    if (!names)
        return HPS_ENOMEM;
    s->metric_names = names;
    char *copy = malloc(len + 1);
    if (!copy)
        return HPS_ENOMEM;
    memcpy(copy, str, len);
    copy[len] = '\0';
    s->metric_names[s->n_metric_names++] = copy;
    return HPS_OK;
}

static int apply(hps_sweep *s, const hps_record *rec, const hps_rec_suggest *draft,
                 hps_apply_out *out, char *err, size_t errlen)
{
    if (out)
        *out = (hps_apply_out){.trial_id = -1, .decision = HPS_DECISION_CONTINUE};
    if (rec->type != HPS_REC_HEADER && !s->have_header)
        return fail(err, errlen, HPS_ECORRUPT, "the journal does not start with a HEADER", rec);
    switch (rec->type) {
    case HPS_REC_HEADER:
        return apply_header(s, rec, err, errlen);
    case HPS_REC_SUGGEST:
        return apply_suggest(s, rec, draft, out, err, errlen);
    case HPS_REC_DISPATCH:
        return apply_dispatch(s, rec, err, errlen);
    case HPS_REC_RESULT:
        return apply_result(s, rec, out, err, errlen);
    case HPS_REC_INTERRUPT:
        return apply_interrupt(s, rec, err, errlen);
    case HPS_REC_METRIC_NAME:
    case HPS_REC_STATUS:
        return apply_string(s, rec, err, errlen);
    case HPS_REC_REPORT:
        return apply_report(s, rec, out, err, errlen);
    default:
        return fail(err, errlen, HPS_ECORRUPT, "unknown record type", rec);
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
    int rc = apply(s, &rec, NULL, out, err, errlen);
    return rc == HPS_OK ? append(j, &rec, err, errlen) : rc;
}

int hps_sweep_commit_suggest(hps_sweep *s, hps_journal *j, int32_t worker, double start,
                             hps_apply_out *out, char *err, size_t errlen)
{
    hps_apply_out mine;
    hps_rec_suggest draft = {.worker = worker, .start = start};
    hps_record rec = {.seq = hps_journal_last_seq(j) + 1, .type = HPS_REC_SUGGEST,
                      .trial_id = s->n_trials};
    int rc = apply(s, &rec, &draft, out ? out : &mine, err, errlen);
    if (rc != HPS_OK)
        return rc;
    rec.trial_id = (out ? out : &mine)->trial_id;
    rec.payload = s->rec.data;
    rec.len = (uint32_t)s->rec.len;
    return append(j, &rec, err, errlen);
}

typedef struct replay_ctx {
    hps_sweep *s;
    char *err;
    size_t errlen;
} replay_ctx;

static int replay_one(void *ctx, const hps_record *rec)
{
    replay_ctx *c = ctx;
    return hps_sweep_apply(c->s, rec, NULL, c->err, c->errlen);
}

int hps_sweep_replay(hps_sweep *s, hps_journal *j, char *err, size_t errlen)
{
    replay_ctx c = {s, err, errlen};
    int rc = hps_journal_replay(j, replay_one, &c);
    if (rc == HPS_OK && !s->have_header) {
        if (err)
            snprintf(err, errlen, "the journal holds no sweep (no HEADER record)");
        return HPS_ECORRUPT;
    }
    return rc;
}

int hps_sweep_write_store(const hps_sweep *s, const char *h5_path, const hps_kv *prov,
                          int n_prov, char *err, size_t errlen)
{
    char created[40], updated[40];
    hps_iso_time(s->created, created, sizeof created);
    hps_iso_time(hps_wall(), updated, sizeof updated);
    hps_store_meta meta = {
        .name = s->cfg.name, .seed = s->seed, .strategy = s->cfg.strategy,
        .objective = s->cfg.objective.function, .metric = s->cfg.metric,
        .goal = s->cfg.maximize ? "maximize" : "minimize", .status = s->status,
        .created = created, .updated = updated, .config_text = s->cfg.text,
        .space = &s->cfg.space, .n_provenance = n_prov, .provenance = prov,
    };
    return hps_store_write(h5_path, &meta, s->trials, s->n_trials, s->metrics, s->n_metrics,
                           (const char *const *)s->metric_names, s->n_metric_names, s->rungs,
                           s->n_rungs, err, errlen);
}
