/*
 * The built-in trainer's checks before a sweep is written (see trainer_check.h).
 * The rules themselves -- which names, types and values make trainer parameters,
 * which metrics the trainer reports -- are the objective's own
 * (workers/trainer_objective.h), so a sweep this accepts runs its trials the same
 * way; this file adds the positions in the YAML (hps_config_error_at), the
 * dataset's check and the resume's dataset identity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "store/prov.h"
#include "trainer_check.h"
#include "workers/trainer_objective.h"

#define PROV_SHA "dataset_sha256"

static int check_options(const hps_config *cfg, char *err, size_t errlen)
{
    const hps_objective_cfg *o = &cfg->objective;
    hps_train_params p;
    char why[1024], path[512];
    int bad = -1;
    if (hps_trainer_params_base(&p, o, 1, &bad, why, sizeof why) == HPS_OK) {
        for (int i = 0; i < o->n_options; i++) {
            if (hps_space_find(&cfg->space, o->option_keys[i]) < 0)
                continue;
            snprintf(path, sizeof path, "objective.options.%s", o->option_keys[i]);
            return hps_config_error_at(cfg, path, 0, err, errlen,
                                       "%s: also a parameter of the space, whose values would "
                                       "replace this one; keep one of them", path);
        }
        return HPS_OK;
    }
    if (bad < 0 || bad >= o->n_options)
        return hps_config_error_at(cfg, "objective.options", 0, err, errlen,
                                   "objective.options: %s", why);
    const char *key = o->option_keys[bad];
    snprintf(path, sizeof path, "objective.options.%s", key);
    /* A bad name is the key's fault, a bad value the value's. */
    int at_value = hps_train_param_find(key) && !hps_trainer_reserved(key) &&
                   strcmp(key, "epochs") != 0;
    return hps_config_error_at(cfg, path, at_value, err, errlen, "%s: %s", path, why);
}

static int check_space(const hps_config *cfg, char *err, size_t errlen)
{
    char why[1024], where[64], path[512];
    for (int i = 0; i < cfg->space.n_params; i++) {
        const hps_param *sp = &cfg->space.params[i];
        int rc = hps_trainer_check_param(sp, where, sizeof where, why, sizeof why);
        if (rc == HPS_OK && cfg->objective.max_epochs > 0 && strcmp(sp->name, "epochs") == 0) {
            snprintf(where, sizeof where, "%s", "");
            snprintf(why, sizeof why, "a multi-fidelity strategy (%s) gives every trial its "
                     "epochs as its budget: remove this parameter and set the strategy's "
                     "min_resource and max_resource", cfg->strategy);
            rc = HPS_ECONFIG;
        }
        if (rc == HPS_OK)
            continue;
        if (rc != HPS_ECONFIG) {
            snprintf(err, errlen, "space.%s: %s", sp->name, why);
            return rc;
        }
        snprintf(path, sizeof path, "space.%s%s%s", sp->name, where[0] ? "." : "", where);
        return hps_config_error_at(cfg, path, where[0] != 0, err, errlen, "space.%s: %s",
                                   sp->name, why);
    }
    return HPS_OK;
}

static int check_dataset(const hps_config *cfg, hps_trainer_data *d, char *err, size_t errlen)
{
    char why[1024];
    int rc = hps_dataset_check(cfg->objective.dataset, &d->info, why, sizeof why);
    if (rc == HPS_OK)
        return HPS_OK;
    if (rc == HPS_ENOENT || rc == HPS_ECORRUPT)
        return hps_config_error_at(cfg, "objective.dataset", 1, err, errlen,
                                   "objective.dataset: %s%s", why,
                                   rc == HPS_ENOENT ? " (a relative path is relative to the "
                                                      "config file; `hpsweep dataset synth "
                                                      "-o FILE` makes a synthetic set)"
                                                    : "");
    snprintf(err, errlen, "objective.dataset: %s", why);
    return rc;
}

static int check_metric(const hps_config *cfg, const hps_trainer_data *d, char *err,
                        size_t errlen)
{
    char why[1024];
    int goal_wrong = 0;
    if (hps_trainer_check_metric(cfg->metric, cfg->maximize, d->info.task, &goal_wrong, why,
                                 sizeof why) == HPS_OK)
        return HPS_OK;
    const char *path = goal_wrong ? "metric.goal" : "metric.name";
    int line, col;
    if (hps_config_where(cfg, path, 1, &line, &col) != HPS_OK)
        path = "metric.name"; /* a default goal: point at the name */
    if (hps_config_where(cfg, path, 1, &line, &col) != HPS_OK) /* no metric: at the trainer */
        return hps_config_error_at(cfg, "objective.trainer", 1, err, errlen,
                                   "metric.name: not given, so the sweep's metric is '%s': %s",
                                   cfg->metric, why);
    return hps_config_error_at(cfg, path, 1, err, errlen, "%s: %s", path, why);
}

/* A resume: the dataset must be the one the sweep's trials trained on. */
/* The dataset's SHA-256 in the sweep's latest run that recorded one (its RUN
 * records, replayed from the journal into s), or NULL. */
static const char *recorded_sha(const hps_sweep *s)
{
    for (int r = s->n_runs - 1; r >= 0; r--) {
        const char *v = hps_prov_get(&s->runs[r], HPS_PROV_RUN, 0, PROV_SHA);
        if (v)
            return v;
    }
    return NULL;
}

static int check_same_dataset(const hps_trainer_data *d, const hps_sweep *s, char *err,
                              size_t errlen)
{
    const char *recorded = recorded_sha(s);
    if (!recorded) {
        if (s->n_trials > 0)
            fprintf(stderr, "hpsweep: warning: the journal of this sweep records no dataset "
                    "(its first run stopped before it began): the dataset cannot be checked "
                    "against the one its trials used\n");
        return HPS_OK;
    }
    if (strcmp(recorded, d->info.sha256) == 0)
        return HPS_OK;
    snprintf(err, errlen, "the dataset %s has changed since this sweep's trials trained on it "
             "(SHA-256 %s now, %s recorded in its journal): resuming would mix two datasets "
             "in one sweep. Restore the file, or start a new sweep (another name or output)",
             d->path, d->info.sha256, recorded);
    return HPS_EMISMATCH;
}

int hps_trainer_prepare(const hps_config *cfg, const hps_sweep *s, hps_trainer_data *d,
                        char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (cfg->objective.kind != HPS_OBJ_TRAINER)
        return HPS_OK;
    snprintf(d->path, sizeof d->path, "%s", cfg->objective.dataset);
    int rc = check_options(cfg, err, errlen);
    if (rc == HPS_OK)
        rc = check_space(cfg, err, errlen);
    if (rc == HPS_OK)
        rc = check_dataset(cfg, d, err, errlen);
    if (rc == HPS_OK)
        rc = check_metric(cfg, d, err, errlen);
    if (rc == HPS_OK && s)
        rc = check_same_dataset(d, s, err, errlen);
    d->have = rc == HPS_OK;
    return rc;
}

int hps_trainer_provenance(const hps_trainer_data *d, hps_prov *p)
{
    if (!d->have)
        return HPS_OK;
    char shape[256], task[64], bytes[32], abs[HPS_PATH_MAX];
    const char *path = realpath(d->path, abs) ? abs : d->path;
    snprintf(shape, sizeof shape, "train %lld x %lld, val %lld x %lld",
             (long long)d->info.n_train, (long long)d->info.features, (long long)d->info.n_val,
             (long long)d->info.features);
    if (d->info.task == HPS_TASK_REGRESS)
        snprintf(task, sizeof task, "regression");
    else
        snprintf(task, sizeof task, "classification, %d classes", d->info.classes);
    struct stat st;
    snprintf(bytes, sizeof bytes, "%lld", stat(path, &st) == 0 ? (long long)st.st_size : -1LL);
    int file = hps_prov_count(p, HPS_PROV_FILE);
    int rc = hps_prov_add(p, HPS_PROV_RUN, 0, "dataset", path);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_RUN, 0, PROV_SHA, d->info.sha256);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_RUN, 0, "dataset_shape", shape);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_RUN, 0, "dataset_task", task);
    /* A fingerprinted file too, as `datasets` entries are: `reproduce` and `compare`
     * name it when it changes. */
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_FILE, file, "role", "dataset");
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_FILE, file, "path", path);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_FILE, file, "sha256", d->info.sha256);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_FILE, file, "bytes", bytes);
    return rc;
}
