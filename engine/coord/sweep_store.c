/*
 * The sweep-level records (see sweep.h) — STATUS, METRIC_NAME, BUDGET and RUN —
 * and writing sweep.h5 from the state: the trial tables as applied, the mode
 * (deterministic, parallelism) and every run's provenance from its RUN records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int hps_sweep_write_store(const hps_sweep *s, const char *h5_path, char *err, size_t errlen)
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
        .runs = s->runs, .n_runs = s->n_runs, .facts = &facts,
    };
    int rc = hps_store_write(h5_path, &meta, s->trials, s->n_trials, s->metrics, s->n_metrics,
                             (const char *const *)s->metric_names, s->n_metric_names, s->rungs,
                             s->n_rungs, err, errlen);
    free(kv);
    return rc;
}
