/*
 * A sweep of the built-in trainer, checked on rank 0 before anything is written
 * (hps_prepare, for `run` and `resume`): the checks that need both the config
 * and the trainer (its parameter table, its dataset reader), which only the cli
 * module sees together. Every refusal is a config error (exit 2) that names the
 * place in the YAML, as the parser's do.
 */
#ifndef HPS_CLI_TRAINER_CHECK_H
#define HPS_CLI_TRAINER_CHECK_H

#include <stddef.h>

#include "config/config.h"
#include "core/fs.h"
#include "coord/sweep.h"
#include "store/prov.h"
#include "trainer/trainer.h"

/* The dataset a trainer sweep learns from, as checked. */
typedef struct hps_trainer_data {
    int have;                   /* 1: the sweep's objective is a trainer */
    char path[HPS_PATH_MAX];    /* objective.dataset (resolved) */
    hps_dataset_info info;      /* shape, task, classes, SHA-256 */
} hps_trainer_data;

/*
 * Check a trainer sweep (nothing to do for other objectives: d->have stays 0):
 *
 *   - every option and every space parameter names a trainer parameter that a
 *     sweep may set (did-you-mean for a typo), with a type and values the
 *     parameter takes (hps_trainer_params_base, hps_trainer_check_param); no name
 *     both in options and in the space; no `epochs` with a multi-fidelity
 *     strategy (its budget is the epochs);
 *   - the dataset passes hps_dataset_check (layout, types, values; its SHA-256);
 *   - the sweep's metric is one the trainer reports for the dataset's task, with
 *     the goal that makes sense (hps_trainer_check_metric);
 *   - on resume (s: the sweep replayed from its journal, NULL for a new sweep),
 *     the dataset's SHA-256 is the one its latest run recorded (RUN records), so
 *     a sweep's trials never mix two datasets (a sweep whose first run stopped
 *     before it began records none: a warning says so).
 *
 * HPS_OK with *d filled, or HPS_ECONFIG (bad config or dataset: "file:line:col:"
 * when the YAML has the key), HPS_EMISMATCH (another dataset than the sweep's),
 * HPS_EIO or HPS_ENOMEM, with err saying why.
 */
int hps_trainer_prepare(const hps_config *cfg, const hps_sweep *s, hps_trainer_data *d,
                        char *err, size_t errlen);

/* The dataset's provenance: run facts dataset (its path), dataset_sha256,
 * dataset_shape ("train 16000 x 32, val 4000 x 32") and dataset_task
 * ("classification, 5 classes" or "regression"), and a file entry (role dataset)
 * as `datasets` entries get. Nothing when !d->have. HPS_OK or HPS_ENOMEM. */
int hps_trainer_provenance(const hps_trainer_data *d, hps_prov *p);

#endif
