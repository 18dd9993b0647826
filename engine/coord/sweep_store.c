/*
 * The sweep-level records (see sweep.h) — STATUS, METRIC_NAME, BUDGET and RUN —
 * and writing sweep.h5 from the state: the trial tables as applied, the mode
 * (deterministic, parallelism) and every run's provenance from its RUN records.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/grow.h"
#include "hpsweep/error.h"
#include "sweep_internal.h"

int hps_sweep_apply_string(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    int32_t index;
    const char *str;
    uint32_t len;
    if (hps_rec_decode_string(rec->payload, rec->len, &index, &str, &len) != HPS_OK)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed string record", rec);
    if (rec->type == HPS_REC_STATUS) {
        snprintf(s->status, sizeof s->status, "%.*s", (int)len, str);
        return HPS_OK;
    }
    if (index != s->n_metric_names)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "metric names out of order", rec);
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

void hps_sweep_config_budget(const hps_config *cfg, hps_rec_budget *out)
{
    *out = (hps_rec_budget){.max_trials = cfg->max_trials, .max_time = cfg->max_time,
                            .max_resource = cfg->max_resource,
                            .max_consecutive_failures = cfg->max_consecutive_failures,
                            .parallelism = cfg->parallelism};
}

int hps_sweep_apply_budget(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_rec_budget g;
    if (hps_rec_decode_budget(rec->payload, rec->len, &g) != HPS_OK || g.max_trials < 0 ||
        !(g.max_time >= 0) || !(g.max_resource >= 0) || g.max_consecutive_failures < 0 ||
        g.parallelism < 0)
        return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed BUDGET", rec);
    s->budget = g;
    return HPS_OK;
}

int hps_sweep_apply_run(hps_sweep *s, const hps_record *rec, char *err, size_t errlen)
{
    hps_prov p = {0};
    uint32_t phase;
    int rc = hps_rec_decode_run(rec->payload, rec->len, &phase, &p);
    if (rc != HPS_OK) {
        hps_prov_free(&p);
        return rc == HPS_ENOMEM ? rc
                                : hps_sweep_fail(err, errlen, HPS_ECORRUPT, "malformed RUN", rec);
    }
    if (phase == 1) {
        /* The end of the current run: its facts join the run's. */
        if (s->n_runs == 0) {
            hps_prov_free(&p);
            return hps_sweep_fail(err, errlen, HPS_ECORRUPT, "the end of a run that never began",
                                  rec);
        }
        rc = hps_prov_append(&s->runs[s->n_runs - 1], &p);
        hps_prov_free(&p);
        return rc;
    }
    hps_prov *runs = hps_grow(s->runs, &s->cap_runs, (size_t)s->n_runs + 1, sizeof *runs, 4);
    if (!runs) {
        hps_prov_free(&p);
        return HPS_ENOMEM;
    }
    s->runs = runs;
    s->runs[s->n_runs++] = p;
    return HPS_OK;
}

/* The latest run's facts (the last value of each key) as /provenance attributes:
 * *kv is new (free it), its strings are the run's. */
static int latest_facts(const hps_sweep *s, hps_kv **kv, int *n)
{
    *kv = NULL;
    *n = 0;
    if (s->n_runs == 0)
        return HPS_OK;
    const hps_prov *p = &s->runs[s->n_runs - 1];
    hps_kv *out = malloc(sizeof *out * (size_t)(p->n > 0 ? p->n : 1));
    if (!out)
        return HPS_ENOMEM;
    int k = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->e[i].kind != HPS_PROV_RUN)
            continue;
        const char *value = hps_prov_get(p, HPS_PROV_RUN, 0, p->e[i].key);
        int seen = 0;
        for (int m = 0; m < k && !seen; m++)
            seen = strcmp(out[m].key, p->e[i].key) == 0;
        if (!seen)
            out[k++] = (hps_kv){.key = p->e[i].key, .value = value};
    }
    *kv = out;
    *n = k;
    return HPS_OK;
}

/* The same value: equal bits (NaN included). */
static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Are a[0..n) and b[0..n) the same metric rows? */
static int same_metrics(const hps_metric *a, const hps_metric *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (a[i].trial_id != b[i].trial_id || a[i].step != b[i].step ||
            a[i].name_index != b[i].name_index || !same_double(a[i].resource, b[i].resource) ||
            !same_double(a[i].value, b[i].value))
            return 0;
    return 1;
}

/* Are a[0..n) and b[0..n) the same rung rows? */
static int same_rungs(const hps_rung *a, const hps_rung *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (a[i].trial_id != b[i].trial_id || a[i].bracket != b[i].bracket ||
            a[i].rung != b[i].rung || a[i].status != b[i].status ||
            a[i].worker != b[i].worker || !same_double(a[i].budget, b[i].budget) ||
            !same_double(a[i].objective, b[i].objective) || !same_double(a[i].start, b[i].start) ||
            !same_double(a[i].end, b[i].end))
            return 0;
    return 1;
}

/*
 * sweep.h5 cannot supply the rows s spilled (removed or damaged since the last
 * write): write the file with every row, as a resume rebuilds it: the tables that
 * were spilled from a replay of s's journal (without the strategy: only its rows
 * are wanted), the rest from s, the spilled stderr tails lent from the replay for
 * the write. The replay's rows must be s's (those of a spilled table that s still
 * holds are compared). The spilled trials are the replay's, for the write only.
 */
static int write_from_journal(hps_sweep *s, const char *h5_path, const hps_store_meta *meta,
                              char *err, size_t errlen)
{
    hps_sweep r;
    hps_sweep_init(&r, 0);
    int rc = hps_sweep_replay(&r, s->journal, err, errlen);
    if (rc == HPS_OK &&
        (r.n_trials != s->n_trials || r.n_metrics != s->metrics_spilled + s->n_metrics ||
         !same_metrics(r.metrics + s->metrics_spilled, s->metrics, s->n_metrics) ||
         (s->rungs_spilled > 0 && (r.n_rungs != s->rungs_spilled + s->n_rungs ||
                                   !same_rungs(r.rungs + s->rungs_spilled, s->rungs,
                                               s->n_rungs))))) {
        if (err)
            snprintf(err, errlen, "rebuilding %s: the journal's trial, metric and rung rows "
                     "are not the ones the sweep applied", h5_path);
        rc = HPS_ECORRUPT;
    }
    /* The spilled tails, lent from the replay for the write. */
    for (int64_t i = 0; rc == HPS_OK && i < s->n_tails_spilled; i++) {
        int64_t id = s->tails_spilled[i];
        if (id >= r.n_trials || !r.trials[id].stderr_tail) {
            if (err)
                snprintf(err, errlen, "rebuilding %s: the journal has no stderr tail of "
                         "trial %lld", h5_path, (long long)id);
            rc = HPS_ECORRUPT;
        }
    }
    for (int64_t i = 0; rc == HPS_OK && i < s->n_tails_spilled; i++)
        hps_sweep_trial(s, s->tails_spilled[i])->stderr_tail =
            r.trials[s->tails_spilled[i]].stderr_tail;
    /* Every trial as one table: the spilled ones from the replay, the rest s's. */
    hps_trial *all = s->trials;
    if (rc == HPS_OK && s->trials_spilled > 0) {
        int64_t base = s->trials_spilled;
        if (!(all = malloc(sizeof *all * (size_t)s->n_trials))) {
            if (err)
                snprintf(err, errlen, "out of memory rebuilding %s", h5_path);
            rc = HPS_ENOMEM;
        } else {
            memcpy(all, r.trials, sizeof *all * (size_t)base);
            memcpy(all + base, s->trials, sizeof *all * (size_t)(s->n_trials - base));
        }
    }
    if (rc == HPS_OK)
        rc = hps_store_write(h5_path, meta, all, s->n_trials,
                             s->metrics_spilled ? r.metrics : s->metrics,
                             s->metrics_spilled ? r.n_metrics : s->n_metrics,
                             (const char *const *)s->metric_names, s->n_metric_names,
                             s->rungs_spilled ? r.rungs : s->rungs,
                             s->rungs_spilled ? r.n_rungs : s->n_rungs, err, errlen);
    for (int64_t i = 0; i < s->n_tails_spilled; i++)
        hps_sweep_trial(s, s->tails_spilled[i])->stderr_tail = NULL;
    if (all != s->trials)
        free(all);
    hps_sweep_free(&r);
    return rc;
}

/* Write h5_path from s, then spill. summary: with the status summary, which
 * describes the journal as it is now (not while it is being replayed). rebuild:
 * rebuild from the journal when the file the spilled rows come from cannot supply
 * them (not while the journal is being replayed: that replay is another). */
static int write_store(hps_sweep *s, const char *h5_path, int summary, int rebuild, char *err,
                       size_t errlen)
{
    char created[40], updated[40];
    hps_iso_time(s->created, created, sizeof created);
    hps_iso_time(hps_wall(), updated, sizeof updated);
    hps_kv *kv;
    int n_kv;
    if (latest_facts(s, &kv, &n_kv) != HPS_OK) {
        if (err)
            snprintf(err, errlen, "out of memory writing /provenance");
        return HPS_ENOMEM;
    }
    hps_store_sweep_facts facts = {
        .best_id = s->best_id, .max_trials = s->budget.max_trials,
        .max_time = s->budget.max_time, .max_resource = s->budget.max_resource,
        .parallelism = s->budget.parallelism};
    hps_store_meta meta = {
        .name = s->cfg.name, .seed = s->seed, .strategy = s->cfg.strategy,
        .objective = s->cfg.objective.function, .metric = s->cfg.metric,
        .goal = s->cfg.maximize ? "maximize" : "minimize", .status = s->status,
        .created = created, .updated = updated, .config_text = s->cfg.text,
        .space = &s->cfg.space, .n_provenance = n_kv, .provenance = kv,
        .deterministic = s->det.on,
        .parallelism = s->det.on ? s->det.p : s->budget.parallelism,
        .runs = s->runs, .n_runs = s->n_runs, .facts = summary ? &facts : NULL,
        .carry_from = s->carry_path, .row_seconds = &s->store_row_seconds,
    };
    int64_t packed = s->pack ? hps_store_pack_rows(s->pack) : 0;
    hps_store_carry carry = {.trials = s->trials_spilled - packed,
                             .packed = packed > 0 ? s->pack : NULL,
                             .failure_rows = s->failure_rows_spilled,
                             .metrics = s->metrics_spilled, .rungs = s->rungs_spilled,
                             .failures = s->tails_spilled, .n_failures = s->n_tails_spilled};
    hps_store_index ix;
    int rc = HPS_OK;
    if (s->trials_spilled > 0) {
        if ((rc = hps_sweep_store_index(s, &ix)) != HPS_OK) {
            if (err)
                snprintf(err, errlen, "out of memory ranking /trials");
            free(kv);
            return rc;
        }
        meta.index = &ix;
    }
    rc = hps_store_write_carry(h5_path, &meta, &carry, s->trials,
                               s->n_trials - s->trials_spilled, s->metrics, s->n_metrics,
                               (const char *const *)s->metric_names, s->n_metric_names,
                               s->rungs, s->n_rungs, err, errlen);
    if (meta.index)
        hps_store_index_free(&ix);
    meta.index = NULL;
    if ((rc == HPS_ENOENT || rc == HPS_EDAMAGED) &&
        (carry.trials > 0 || carry.metrics > 0 || carry.rungs > 0 || carry.n_failures > 0) &&
        s->journal && rebuild) {
        s->store_rebuilds++;
        rc = write_from_journal(s, h5_path, &meta, err, errlen);
    }
    free(kv);
    if (rc != HPS_OK)
        return rc;
    hps_sweep_spill(s);
    /* A replay's own file (hps_sweep_replay_spilling) has served once h5_path holds
     * its rows. */
    if (s->carry_path && strcmp(s->carry_path, h5_path) != 0) {
        unlink(s->carry_path);
        free(s->carry_path);
        s->carry_path = NULL;
    }
    return HPS_OK;
}

int hps_sweep_write_store(hps_sweep *s, const char *h5_path, char *err, size_t errlen)
{
    return write_store(s, h5_path, 1, 1, err, errlen);
}

/* A resume's replay, letting go of trials as it goes (hps_sweep_replay_spilling). */
typedef struct replay_spill {
    hps_sweep *s;
    const char *path;
    double last, fixed; /* when the last write ended, and its fixed part (as coord.c) */
    int off;            /* a write failed: hold the rest */
} replay_spill;

static int spill_while_replaying(void *ctx)
{
    replay_spill *r = ctx;
    hps_sweep *s = r->s;
    hps_sweep_pack(s);
    if (r->off || !s->ops || s->det.on || hps_sweep_held_bytes(s) < HPS_SWEEP_SPILL_BYTES)
        return HPS_OK;
    double t0 = hps_monotonic();
    if (t0 - r->last < r->fixed)
        return HPS_OK;
    /* Named before the first write, which lets go of rows: the file must be found
     * again (and removed) once it holds them. */
    char why[256];
    if ((!s->carry_path && !(s->carry_path = strdup(r->path))) ||
        write_store(s, r->path, 0, 0, why, sizeof why) != HPS_OK) {
        /* Nothing is lost: what was not written stays in memory, and the coordinator's
         * first write (which rebuilds from the journal if it must) says what fails. */
        r->off = 1;
        return HPS_OK;
    }
    r->last = hps_monotonic();
    r->fixed = fmax(0.0, r->last - t0 - s->store_row_seconds);
    return HPS_OK;
}

int hps_sweep_replay_spilling(hps_sweep *s, hps_journal *j, const char *spill_path, char *err,
                              size_t errlen)
{
    replay_spill r = {s, spill_path, hps_monotonic(), 0.0, 0};
    s->journal = j;
    return hps_sweep_replay_then(s, j, spill_while_replaying, &r, err, errlen);
}
