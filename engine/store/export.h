/*
 * Export formats for `hpsweep best` and `hpsweep trials` (see export.c). Every
 * function returns HPS_OK, HPS_EINVAL (a format the call does not write) or
 * HPS_EIO (writing failed).
 */
#ifndef HPS_STORE_EXPORT_H
#define HPS_STORE_EXPORT_H

#include <stdio.h>

#include "hpsweep/results.h"

typedef enum hps_export_format {
    HPS_EXPORT_JSON = 0,
    HPS_EXPORT_YAML = 1,
    HPS_EXPORT_ENV = 2,   /* NAME=value lines, shell-quoted, names upper-cased */
    HPS_EXPORT_ARGS = 3,  /* --name value ... on one line, shell-quoted */
    HPS_EXPORT_CSV = 4
} hps_export_format;

/* "json" -> HPS_EXPORT_JSON, ...; HPS_EINVAL for an unknown name. */
int hps_export_parse_format(const char *s, hps_export_format *out);

/* hps_export_best flags */
enum {
    HPS_EXPORT_WITH_SEED = 1u << 0 /* args: also --seed SEED (and --budget B when > 0) */
};

/*
 * The best trial t of r in fmt: json and yaml give trial_id, seed, budget (when a
 * multi-fidelity trial has one), the metric and params; env gives NAME=value per
 * parameter plus HPSWEEP_SEED (and HPSWEEP_BUDGET), what the trial's command got;
 * args gives --name value per parameter (and --seed/--budget with
 * HPS_EXPORT_WITH_SEED).
 */
int hps_export_best(FILE *f, const hps_results *r, const hps_trial *t, hps_export_format fmt,
                    unsigned flags);

/* Every trial of r, one row/object each, in fmt (csv, json). */
int hps_export_trials(FILE *f, const hps_results *r, hps_export_format fmt);

/* Every rung of r (/rungs), one row/object each, in fmt (csv, json). */
int hps_export_rungs(FILE *f, const hps_results *r, hps_export_format fmt);

/* One value of parameter i in YAML syntax. */
void hps_export_value_yaml(FILE *f, const hps_space *sp, int i, double v);

/* A parameter name as an environment variable name (upper case, [A-Z0-9_]). */
void hps_export_env_name(FILE *f, const char *name);

#endif
