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
    HPS_EXPORT_CSV = 4,
    HPS_EXPORT_GITHUB = 5 /* name=value lines for $GITHUB_OUTPUT (export_ci.c) */
} hps_export_format;

/* "json" -> HPS_EXPORT_JSON, ...; HPS_EINVAL for an unknown name. */
int hps_export_parse_format(const char *s, hps_export_format *out);

/* hps_export_best flags */
enum {
    HPS_EXPORT_WITH_SEED = 1u << 0,  /* args: also --seed SEED (and --budget B when > 0) */
    HPS_EXPORT_PARAMS_ONLY = 1u << 1, /* the parameters alone: no trial id, seed, budget or
                                         metric (env: no HPSWEEP_* lines) */
    HPS_EXPORT_LIST = 1u << 2         /* hps_export_best_many: a list even of one trial */
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

/*
 * The trials t[0..n) of r, best first (export_ci.c): json an array of objects
 * (with HPS_EXPORT_LIST or n > 1; else one object, as hps_export_best), yaml a
 * list, args one line per trial, env and github one trial only. With
 * HPS_EXPORT_PARAMS_ONLY each trial is its parameters alone (json: the params
 * object). github: GitHub Actions' $GITHUB_OUTPUT lines, name=value (a value
 * with a line break in the name<<DELIMITER form): trial_id, seed, budget (when
 * > 0), the metric by its name, params (one-line JSON), then one per parameter;
 * names keep [A-Za-z0-9_-], other characters become '_'. HPS_OK, HPS_EIO, or
 * HPS_EINVAL with err filled (a format that takes one trial given more; github
 * names that collide).
 */
int hps_export_best_many(FILE *f, const hps_results *r, const hps_trial *const *t, int n,
                         hps_export_format fmt, unsigned flags, char *err, size_t errlen);

/* Every trial of r, one row/object each, in fmt (csv, json). */
int hps_export_trials(FILE *f, const hps_results *r, hps_export_format fmt);

/*
 * The same in pieces, for a table read block by block: the head (the CSV header
 * row, JSON's "["), the trials t[0..n) whose first is row first of the table
 * (r gives the space), and the tail after total rows. HPS_ENOMEM from the rows
 * when the CSV buffer cannot be allocated.
 */
int hps_export_trials_head(FILE *f, const hps_results *r, hps_export_format fmt);
int hps_export_trials_rows(FILE *f, const hps_results *r, const hps_trial *t, int64_t n,
                           int64_t first, hps_export_format fmt);
int hps_export_trials_tail(FILE *f, int64_t total, hps_export_format fmt);

/* Text in memory: data[0..len) of cap bytes (malloc'd; free data). */
typedef struct hps_export_text {
    char *data;
    size_t len, cap;
} hps_export_text;

/* hps_export_trials_rows into out (emptied first, its memory reused) rather than
 * a file: touches nothing else, so blocks may be turned into text on several
 * threads at once. HPS_OK, HPS_ENOMEM (out holds a part) or HPS_EINVAL. */
int hps_export_trials_text(const hps_results *r, const hps_trial *t, int64_t n, int64_t first,
                           hps_export_format fmt, hps_export_text *out);

/* How far hps_export_trials_stream got. */
typedef struct hps_export_progress {
    int head_done;             /* the head is written */
    int64_t rows;              /* rows written */
    int write_rc;              /* f's first failure (HPS_OK: none), told apart from the
                                  reader's */
} hps_export_progress;

/*
 * The head and every row of the /trials of sweep.h5 at path to f in fmt (csv,
 * json; the tail is the caller's), read block rows at a time as
 * hps_results_each_trials reads them, each block turned into text on the thread
 * that read it (so formatting runs on every core too) and written here in order.
 * p (zeroed first) says how far it got; out is as hps_results_each_trials leaves
 * it. Returns what hps_results_each_trials returns, or p->write_rc.
 */
int hps_export_trials_stream(const char *path, int64_t block, FILE *f, hps_export_format fmt,
                             hps_export_progress *p, hps_results *out, char *err,
                             size_t errlen);

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
