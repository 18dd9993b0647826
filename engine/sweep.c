/*
 * Applying journal records to the in-memory sweep (see sweep.h). This is the one
 * place that interprets records, used alike by the running coordinator, resume,
 * `hpsweep status` and the HDF5 rebuild.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/store.h"
#include "engine/sweep.h"
#include "hpsweep/error.h"

void hps_sweep_init(hps_sweep *s)
{
    memset(s, 0, sizeof *s);
    s->best_id = -1;
    snprintf(s->status, sizeof s->status, "running");
}

void hps_sweep_free(hps_sweep *s)
{
    if (!s)
        return;
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
    free(s->m_scratch);
    free(s->rungs);
    hps_sweep_init(s);
}

double hps_now(void)
{
    return hps_wall();
}

void hps_iso_time(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%.0f", t);
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

/* Make room for trial id `id` (ids are dense; a SUGGEST adds the next one). */
static int grow_trials(hps_sweep *s, int64_t want)
{
    if (want <= s->cap_trials)
        return HPS_OK;
    int64_t cap = s->cap_trials ? s->cap_trials : 1024;
    while (cap < want)
        cap *= 2;
    size_t d = (size_t)(s->d > 0 ? s->d : 1);
    hps_trial *t = realloc(s->trials, (size_t)cap * sizeof *t);
    if (!t)
        return HPS_ENOMEM;
    s->trials = t;
    double *u = realloc(s->u, (size_t)cap * d * sizeof *u);
    if (!u)
        return HPS_ENOMEM;
    s->u = u;
    double *v = realloc(s->values, (size_t)cap * d * sizeof *v);
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
    if (s->n_metrics == s->cap_metrics) {
        int64_t cap = s->cap_metrics ? s->cap_metrics * 2 : 1024;
        hps_metric *p = realloc(s->metrics, (size_t)cap * sizeof *p);
        if (!p)
            return HPS_ENOMEM;
        s->metrics = p;
        s->cap_metrics = cap;
    }
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

static void update_best(hps_sweep *s, const hps_trial *t);
static void recompute_best(hps_sweep *s);

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
    s->u_scratch = malloc(sizeof(double) * (size_t)(s->d > 0 ? s->d : 1));
    return s->u_scratch ? HPS_OK : HPS_ENOMEM;
}

static int apply_suggest(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_rec_suggest sg;
    if (hps_rec_decode_suggest(rec->payload, rec->len, &sg, s->u_scratch, (uint32_t)s->d) !=
            HPS_OK ||
        sg.n != (uint32_t)s->d)
        return fail(err, errlen, HPS_ECORRUPT, "malformed SUGGEST", rec);
    if (sg.promotion) {
        if (rec->trial_id < 0 || rec->trial_id >= s->n_trials)
            return fail(err, errlen, HPS_ECORRUPT, "promotion of an unknown trial", rec);
    } else if (rec->trial_id != s->n_trials) {
        return fail(err, errlen, HPS_ECORRUPT, "trial ids out of order", rec);
    }
    if (s->strategy && s->replay_strategy) {
        double *u = malloc(sizeof(double) * (size_t)(s->d > 0 ? s->d : 1));
        if (!u)
            return HPS_ENOMEM;
        hps_suggestion out = {.u = u, .trial_id = s->n_trials, .bracket = -1, .rung = -1};
        int rc = s->ops->suggest(s->strategy, &out);
        /* A promotion is checked by id and budget (its u is the trial's own). */
        if (rc != HPS_OK || out.trial_id != rec->trial_id || out.promotion != sg.promotion ||
            out.budget != sg.budget ||
            (!sg.promotion && memcmp(u, sg.u, sizeof(double) * (size_t)s->d) != 0))
            s->replay_diverged = 1;
        free(u);
    }
    int64_t id = rec->trial_id;
    if (!sg.promotion) {
        int rc = grow_trials(s, id + 1);
        if (rc != HPS_OK)
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

/* Room to decode every metric a payload of len bytes can hold (28 bytes each). */
static int metric_scratch(hps_sweep *s, uint32_t len)
{
    uint32_t nm = len / 28 + 1;
    if (nm <= s->m_cap)
        return HPS_OK;
    hps_rec_metric *m = realloc(s->m_scratch, nm * sizeof *m);
    if (!m)
        return HPS_ENOMEM;
    s->m_scratch = m;
    s->m_cap = nm;
    return HPS_OK;
}

static int add_metrics(hps_sweep *s, const hps_record *rec, const hps_rec_metric *m, uint32_t n,
                       char *err, size_t errlen)
{
    for (uint32_t i = 0; i < n; i++) {
        if (m[i].name_index < 0 || m[i].name_index >= s->n_metric_names)
            return fail(err, errlen, HPS_ECORRUPT, "metric with an unknown name index", rec);
        int rc = add_metric(s, rec->trial_id, &m[i]);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

static int apply_report(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
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
    if ((rc = add_metrics(s, rec, s->m_scratch, n, err, errlen)) != HPS_OK)
        return rc;
    if (!(s->strategy && s->replay_strategy))
        return HPS_OK;
    for (uint32_t i = 0; i < n; i++) {
        hps_observation obs;
        if (!hps_sweep_intermediate(s, rec->trial_id, &s->m_scratch[i], &obs))
            continue;
        hps_decision d = HPS_DECISION_CONTINUE;
        if ((rc = s->ops->observe(s->strategy, &obs, &d)) != HPS_OK)
            return fail(err, errlen, rc, "the strategy refused an intermediate report", rec);
        if (d == HPS_DECISION_CONTINUE && s->pruner &&
            (rc = s->pruner_ops->report(s->pruner, &obs, &d)) != HPS_OK)
            return fail(err, errlen, rc, "the pruner refused an intermediate report", rec);
    }
    return HPS_OK;
}

int hps_sweep_intermediate(const hps_sweep *s, int64_t trial_id, const hps_rec_metric *m,
                           hps_observation *obs)
{
    if (m->name_index != 0 || !isfinite(m->value))
        return 0;
    obs->trial_id = trial_id;
    obs->kind = HPS_OBS_INTERMEDIATE;
    obs->u = s->u + (size_t)trial_id * (size_t)s->d;
    obs->value = hps_sweep_oriented(s, m->value);
    obs->resource = m->resource;
    obs->step = m->step;
    return 1;
}

/* Multi-fidelity trials: every result is also a row of /rungs. */
static int add_rung(hps_sweep *s, const hps_trial *t)
{
    if (s->n_rungs == s->cap_rungs) {
        int64_t cap = s->cap_rungs ? s->cap_rungs * 2 : 256;
        hps_rung *r = realloc(s->rungs, (size_t)cap * sizeof *r);
        if (!r)
            return HPS_ENOMEM;
        s->rungs = r;
        s->cap_rungs = cap;
    }
    s->rungs[s->n_rungs++] = (hps_rung){.trial_id = t->trial_id, .bracket = t->bracket,
                                        .rung = t->rung, .budget = t->budget,
                                        .status = t->status, .objective = t->objective,
                                        .start = t->start, .end = t->end, .worker = t->worker};
    return HPS_OK;
}

static int apply_result(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_rec_result r;
    int mrc = metric_scratch(s, rec->len);
    if (mrc != HPS_OK)
        return mrc;
    if (hps_rec_decode_result(rec->payload, rec->len, &r, s->m_scratch, s->m_cap) != HPS_OK)
        return fail(err, errlen, HPS_ECORRUPT, "malformed RESULT", rec);
    if (rec->trial_id < 0 || rec->trial_id >= s->n_trials)
        return fail(err, errlen, HPS_ECORRUPT, "RESULT for an unknown trial", rec);
    if (r.status < HPS_TRIAL_DONE || r.status > HPS_TRIAL_PRUNED)
        return fail(err, errlen, HPS_ECORRUPT, "RESULT with an invalid status", rec);
    hps_trial *t = &s->trials[rec->trial_id];
    if (t->status != HPS_TRIAL_RUNNING)
        return fail(err, errlen, HPS_ECORRUPT, "RESULT for a trial that is not running", rec);
    int rc = add_metrics(s, rec, r.metrics, r.n_metrics, err, errlen);
    if (rc != HPS_OK)
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
    if (s->strategy && s->replay_strategy) {
        hps_observation obs = {
            .trial_id = t->trial_id,
            .kind = r.status == HPS_TRIAL_DONE ? HPS_OBS_FINAL : HPS_OBS_FAILED,
            .u = s->u + (size_t)t->trial_id * (size_t)s->d,
            .value = r.status == HPS_TRIAL_DONE ? hps_sweep_oriented(s, r.objective) : NAN,
            .resource = t->budget,
            .step = 0,
        };
        rc = s->ops->observe(s->strategy, &obs, NULL);
        if (rc != HPS_OK)
            return fail(err, errlen, rc, "the strategy refused an observation", rec);
        if (s->pruner && (rc = s->pruner_ops->finish(s->pruner, &obs)) != HPS_OK)
            return fail(err, errlen, rc, "the pruner refused an observation", rec);
    }
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
    char **names = realloc(s->metric_names, sizeof(char *) * (size_t)(index + 1));
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

int hps_sweep_apply(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    if (rec->type != HPS_REC_HEADER && !s->have_header)
        return fail(err, errlen, HPS_ECORRUPT, "the journal does not start with a HEADER", rec);
    switch (rec->type) {
    case HPS_REC_HEADER:
        return apply_header(s, rec, err, errlen);
    case HPS_REC_SUGGEST:
        return apply_suggest(s, rec, err, errlen);
    case HPS_REC_DISPATCH:
        return apply_dispatch(s, rec, err, errlen);
    case HPS_REC_RESULT:
        return apply_result(s, rec, err, errlen);
    case HPS_REC_INTERRUPT:
        return apply_interrupt(s, rec, err, errlen);
    case HPS_REC_METRIC_NAME:
    case HPS_REC_STATUS:
        return apply_string(s, rec, err, errlen);
    case HPS_REC_REPORT:
        return apply_report(s, rec, err, errlen);
    default:
        return fail(err, errlen, HPS_ECORRUPT, "unknown record type", rec);
    }
}

typedef struct replay_ctx {
    hps_sweep *s;
    char *err;
    size_t errlen;
} replay_ctx;

static int replay_one(void *ctx, const hps_record *rec)
{
    replay_ctx *c = ctx;
    return hps_sweep_apply(c->s, rec, c->err, c->errlen);
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

void hps_sweep_store_meta(const hps_sweep *s, hps_store_meta *meta, const char *created,
                          const char *updated)
{
    memset(meta, 0, sizeof *meta);
    meta->name = s->cfg.name;
    meta->seed = s->seed;
    meta->strategy = s->cfg.strategy;
    meta->objective = s->cfg.objective.function;
    meta->metric = s->cfg.metric;
    meta->goal = s->cfg.maximize ? "maximize" : "minimize";
    meta->status = s->status;
    meta->created = created;
    meta->updated = updated;
    meta->config_text = s->cfg.text;
    meta->space = &s->cfg.space;
}
