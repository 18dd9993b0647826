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

/* The best trial t of r in fmt (json, yaml, env, args). HPS_OK, or HPS_EINVAL for
 * env when two parameters map to one variable (see hps_export_env_check). */
int hps_export_best(FILE *f, const hps_results *r, const hps_trial *t, hps_export_format fmt);

/* Every trial of r, one row/object each, in fmt (csv, json). */
int hps_export_trials(FILE *f, const hps_results *r, hps_export_format fmt);

/* Every rung of r (/rungs), one row/object each, in fmt (csv, json). */
int hps_export_rungs(FILE *f, const hps_results *r, hps_export_format fmt);

/* One value of parameter i in YAML syntax. */
void hps_export_value_yaml(FILE *f, const hps_space *sp, int i, double v);

/* A parameter name as an environment variable name (core/envname.h: ASCII letters
 * upper-cased, digits kept, other bytes '_', '_' before a leading digit). */
void hps_export_env_name(FILE *f, const char *name);

/* HPS_OK when every parameter of r becomes a variable of its own with a letter or
 * digit in it; HPS_EINVAL with err naming the two that collide ("lr" and "LR") or
 * the one that keeps nothing ("学习率"). hps_export_best(HPS_EXPORT_ENV) writes
 * nothing and returns HPS_EINVAL in those cases. */
int hps_export_env_check(const hps_results *r, char *err, size_t errlen);

#endif
