/*
 * Sweep configuration: the YAML file parsed (libyaml) and validated into
 * hps_config.
 *
 * Validation is strict and precise: every problem is reported as
 * "file:line:column: message" (unknown keys with a "did you mean" suggestion,
 * wrong types, ranges, empty ranges, log with non-positive bounds, duplicate
 * names). Nothing is written by the parser.
 */
#ifndef HPS_CONFIG_CONFIG_H
#define HPS_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/objective_cfg.h"
#include "hpsweep/space.h"
#include "hpsweep/strategy.h"

/* Where a key of the YAML and its value are (1-based), by dotted path. */
typedef struct hps_config_mark {
    char *path;                     /* "space.lr", "space.lr.type", "objective.options.k",
                                       "space.act.choices[1]" */
    int key_line, key_col;          /* the key (a list item: the item itself) */
    int line, col;                  /* its value */
} hps_config_mark;

typedef struct hps_config {
    char *source;                   /* file name used in messages */
    char *text;                     /* the YAML, verbatim */
    size_t text_len;
    char *name;                     /* default: file name without extension */
    uint64_t seed;
    int seed_given;                 /* 0: no `seed` key (the engine picks and records one) */
    hps_objective_cfg objective;
    char *metric;                   /* default "objective" */
    int maximize;                   /* goal: 0 minimize (default), 1 maximize */
    hps_space space;
    char *strategy;                 /* default "random" */
    const hps_strategy_ops *strategy_ops;
    hps_strategy_cfg strategy_cfg;  /* owns its key/value strings */
    char *pruner;                   /* strategy.pruner name, or NULL (none) */
    const hps_pruner_ops *pruner_ops;
    hps_strategy_cfg pruner_cfg;    /* the pruner's options; owns its strings */
    int64_t max_trials;             /* 0: unlimited */
    double max_time;                /* seconds; 0: unlimited */
    double max_resource;            /* budget.max_resource: stop suggesting once the
                                       resource dispatched (sum of budget increments)
                                       reaches this; 0: unlimited */
    int max_consecutive_failures;   /* budget.max_consecutive_failures: stop the sweep
                                       after this many failed attempts in a row
                                       (default 10; 0: never) */
    int parallelism;                /* max concurrent trials; 0: one per trial group. With
                                       deterministic: the P of the rule (required) */
    int deterministic;              /* deterministic: true: suggestion k knows exactly the
                                       results of trials 0..k-P-1 (sweep_det.c) */
    int ranks_per_trial;            /* default 1 */
    char *output;                   /* default "runs"; the sweep dir is output/name */
    int n_datasets;
    char **datasets;                /* `datasets`: files or directories whose SHA-256 the
                                       provenance records, as written (relative to the
                                       config file's directory unless absolute) */
    hps_config_mark *marks;         /* every key and list item of the YAML, in document
                                       order, for messages about a valid config that a
                                       later check refuses (hps_config_error_at) */
    int n_marks;
} hps_config;

/* The largest config file read (16 MiB), and the deepest YAML nesting accepted. */
#define HPS_CONFIG_MAX_BYTES (16 << 20)
#define HPS_CONFIG_MAX_DEPTH 64

/* Parse and validate the file at path. HPS_OK, HPS_ENOENT/HPS_EIO (err says why),
 * HPS_ECONFIG (err holds "file:line:column: message", or says the file is not a
 * regular file or is larger than HPS_CONFIG_MAX_BYTES). cfg is zeroed first and
 * must be freed with hps_config_free() whatever the result. */
int hps_config_load(const char *path, hps_config *cfg, char *err, size_t errlen);

/* The same for YAML text already in memory; source names it in messages. Nesting
 * deeper than HPS_CONFIG_MAX_DEPTH is refused while parsing, with its position. */
int hps_config_parse(const char *text, size_t len, const char *source, hps_config *cfg,
                     char *err, size_t errlen);

/* Free everything cfg owns and zero it; NULL-safe. */
void hps_config_free(hps_config *cfg);

/*
 * The position of the key at dotted path (see hps_config_mark): value 0 the key's,
 * 1 its value's, as 1-based *line and *col. HPS_OK, or HPS_ENOENT when the YAML has
 * no such key (a default applies).
 */
int hps_config_where(const hps_config *cfg, const char *path, int value, int *line, int *col);

/*
 * A config error found after parsing (by a check that needs more than the config,
 * such as the trainer's parameter table): "source:line:column: " + the message,
 * at path's key (value 0) or its value (1), into err; "source: " + the message
 * when the YAML has no such key (path may be NULL). Returns HPS_ECONFIG.
 */
int hps_config_error_at(const hps_config *cfg, const char *path, int value, char *err,
                        size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/*
 * Compare two configs key by key (dotted paths such as "space.lr.high"), ignoring
 * the keys a resume may change: budget.*, output, parallelism (but a deterministic
 * sweep's parallelism, its P, is a key like the others). Writes the
 * differing keys as "key: 'a' -> 'b'" lines into buf (may be NULL) and returns how
 * many keys differ (0: same sweep).
 */
int hps_config_diff(const hps_config *recorded, const hps_config *now, char *buf, size_t len);

/* The same differences, one call of each(ctx, key, a, b) per key (a or b NULL when
 * the key is absent on that side). Returns how many, or HPS_ENOMEM/HPS_EINVAL. */
int hps_config_diff_each(const hps_config *recorded, const hps_config *now,
                         void (*each)(void *ctx, const char *key, const char *a, const char *b),
                         void *ctx);

/* Parse a duration: a number of seconds, or a number with unit s, m, h, d
 * ("90", "90s", "1.5m", "2h"). Returns HPS_OK or HPS_EINVAL. */
int hps_parse_duration(const char *text, double *seconds);

#endif
