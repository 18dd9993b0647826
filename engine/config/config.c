/*
 * The sweep config: validate the top-level keys of the YAML document (loaded by
 * config_load.c) into hps_config. The
 * `space:`, `objective:` and `strategy:` sections live in config_space.c,
 * config_objective.c (with config_command.c for external commands) and
 * config_strategy.c, the node helpers in yaml_util.c, hps_config_diff in
 * config_diff.c, reading the file and the YAML document in config_load.c.
 * Durations, counts and text scalars shared by several sections are read here.
 *
 * Sections are validated in a fixed order (name, seed, space, objective,
 * metric, strategy, budget, parallelism, deterministic, ranks_per_trial, output) after the
 * top-level keys themselves; the objective and the strategy refer to
 * parameters, so the space comes first. The first problem found is reported.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "core/grow.h"
#include "hpsweep/error.h"

static const char *const top_keys[] = {"name", "seed", "objective", "metric", "space",
                                       "strategy", "budget", "parallelism", "ranks_per_trial",
                                       "output", "deterministic", "datasets", NULL};
enum { K_NAME, K_SEED, K_OBJECTIVE, K_METRIC, K_SPACE, K_STRATEGY, K_BUDGET, K_PARALLELISM,
       K_RANKS, K_OUTPUT, K_DETERMINISTIC, K_DATASETS, K_COUNT };

static const char *const metric_keys[] = {"name", "goal", NULL};
static const char *const goal_names[] = {"minimize", "maximize", NULL};
static const char *const budget_keys[] = {"max_trials", "max_time", "max_consecutive_failures",
                                          "max_resource", NULL};

/* budget.max_consecutive_failures when absent. */
#define DEFAULT_MAX_CONSECUTIVE_FAILURES 10

/* ---- durations -------------------------------------------------------------------- */

int hps_parse_duration(const char *text, double *seconds)
{
    if (!text || !*text || !seconds)
        return HPS_EINVAL;
    char num[64];
    size_t n = strlen(text);
    double scale = 1.0;
    switch (text[n - 1]) {
    case 's': scale = 1.0; n--; break;
    case 'm': scale = 60.0; n--; break;
    case 'h': scale = 3600.0; n--; break;
    case 'd': scale = 86400.0; n--; break;
    default: break;
    }
    if (n == 0 || n >= sizeof num)
        return HPS_EINVAL;
    memcpy(num, text, n);
    num[n] = '\0';
    double v;
    if (hps_yaml_parse_number(num, &v) != HPS_OK || !isfinite(v) || v < 0)
        return HPS_EINVAL;
    v *= scale;
    if (!isfinite(v))
        return HPS_EINVAL;
    *seconds = v;
    return HPS_OK;
}

/* ---- small sections ------------------------------------------------------------- */

/* A sweep name becomes a directory: no '/', not "." or "..", no control characters. */
static int valid_name(const char *s)
{
    if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
        return 0;
    for (; *s; s++)
        if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* The default name: the source's file name without its extension ("sweep" if
 * that leaves nothing usable). */
static char *default_name(const char *source)
{
    const char *base = strrchr(source, '/');
    base = base ? base + 1 : source;
    char *name = hps_yaml_strdup(base);
    if (!name)
        return NULL;
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    if (!valid_name(name)) {
        free(name);
        name = hps_yaml_strdup("sweep");
    }
    return name;
}

static int parse_name(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    if (!node) {
        cfg->name = default_name(cfg->source);
        return cfg->name ? HPS_OK : HPS_ENOMEM;
    }
    int rc = hps_yaml_get_string(ctx, node, "name", &cfg->name);
    if (rc != HPS_OK)
        return rc;
    if (!valid_name(cfg->name))
        return hps_yaml_error(ctx, node, "name: '%s' is not a valid sweep name (it names a "
                                         "directory: not empty, no '/', not '.' or '..', no "
                                         "control characters)", cfg->name);
    return HPS_OK;
}

static int parse_seed(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    if (!node)
        return HPS_OK;
    hps_yaml_kind kind = hps_yaml_scalar_kind(node);
    const char *text = hps_yaml_text(node);
    if (node->type == YAML_SCALAR_NODE && kind == HPS_YAML_INT) {
        if (text[0] == '-')
            return hps_yaml_error(ctx, node, "seed: must be a non-negative integer, got %s", text);
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno == ERANGE || !end || *end)
            return hps_yaml_error(ctx, node, "seed: %s is out of range (0 to %llu)", text,
                                  (unsigned long long)UINT64_MAX);
        cfg->seed = (uint64_t)v;
        cfg->seed_given = 1;
        return HPS_OK;
    }
    int64_t v;
    int rc = hps_yaml_get_int64(ctx, node, "seed", &v);
    if (rc != HPS_OK)
        return rc;
    if (v < 0)
        return hps_yaml_error(ctx, node, "seed: must be a non-negative integer, got %s", text);
    cfg->seed = (uint64_t)v;
    cfg->seed_given = 1;
    return HPS_OK;
}

/* A positive integer that fits an int (parallelism, ranks_per_trial). */
static int parse_positive_int(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                              int *out)
{
    int64_t v;
    int rc = hps_yaml_get_int64(ctx, node, path, &v);
    if (rc != HPS_OK)
        return rc;
    if (v <= 0 || v > INT_MAX)
        return hps_yaml_error(ctx, node, "%s: must be a positive integer (at most %d), got %s",
                              path, INT_MAX, hps_yaml_text(node));
    *out = (int)v;
    return HPS_OK;
}

static int parse_metric(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    yaml_node_t *v[3] = {NULL, NULL, NULL};
    int rc;
    if (node && (rc = hps_yaml_map_fields(ctx, node, "metric", NULL, metric_keys, v)) != HPS_OK)
        return rc;
    if (v[0]) {
        if ((rc = hps_yaml_get_string(ctx, v[0], "metric.name", &cfg->metric)) != HPS_OK)
            return rc;
        if (!*cfg->metric)
            return hps_yaml_error(ctx, v[0], "metric.name: must not be empty");
    } else if (!(cfg->metric = hps_yaml_strdup("objective"))) {
        return HPS_ENOMEM;
    }
    if (!v[1])
        return HPS_OK;
    char *goal = NULL;
    if ((rc = hps_yaml_get_string(ctx, v[1], "metric.goal", &goal)) != HPS_OK)
        return rc;
    if (!strcmp(goal, "minimize") || !strcmp(goal, "maximize")) {
        cfg->maximize = goal[1] == 'a';
        free(goal);
        return HPS_OK;
    }
    char hint[256];
    hps_yaml_suggest(goal, goal_names, NULL, "valid goals", hint, sizeof hint);
    rc = hps_yaml_error(ctx, v[1], "metric.goal: unknown goal '%s'%s", goal, hint);
    free(goal);
    return rc;
}

int hps_config_get_duration(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                            int positive, double *out)
{
    hps_yaml_kind kind = hps_yaml_scalar_kind(node);
    if (!node || node->type != YAML_SCALAR_NODE || kind == HPS_YAML_NULL || kind == HPS_YAML_BOOL) {
        char got[96];
        hps_yaml_describe(node, got, sizeof got);
        return hps_yaml_error(ctx, node, "%s: expected a duration (seconds, or a number with unit "
                                         "s, m, h or d), got %s", path, got);
    }
    const char *text = hps_yaml_text(node);
    double v;
    /* "-5s" is a well-formed duration with the wrong sign: say so rather than
     * calling it malformed. */
    if (text[0] == '-' && hps_parse_duration(text + 1, &v) == HPS_OK && v > 0)
        return hps_yaml_error(ctx, node, "%s: must be %s, got %s", path,
                              positive ? "> 0" : ">= 0", text);
    if (hps_parse_duration(text, &v) != HPS_OK)
        return hps_yaml_error(ctx, node, "%s: bad duration '%s'; expected a number of seconds or a "
                                         "number with unit s, m, h or d (90, 90s, 1.5m, 2h)",
                              path, text);
    if (positive && v <= 0)
        return hps_yaml_error(ctx, node, "%s: must be > 0, got %s", path, text);
    *out = v;
    return HPS_OK;
}

int hps_config_get_text(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, char **out)
{
    *out = NULL;
    hps_yaml_kind kind = hps_yaml_scalar_kind(node);
    if (!node || node->type != YAML_SCALAR_NODE || kind == HPS_YAML_NULL || kind == HPS_YAML_BOOL) {
        char got[96];
        hps_yaml_describe(node, got, sizeof got);
        return hps_yaml_error(ctx, node, "%s: expected a string or number, got %s%s", path, got,
                              node && node->type == YAML_SCALAR_NODE
                                  ? " (quote it to pass it as text)"
                                  : "");
    }
    return hps_yaml_get_string(ctx, node, path, out);
}

int hps_config_pairs_alloc(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                           const char *noun, char ***keys, char ***values, int *n)
{
    const yaml_node_pair_t *start = map->data.mapping.pairs.start;
    size_t count = (size_t)(map->data.mapping.pairs.top - start);
    if (count == 0)
        return HPS_OK;
    if (count > 100000)
        return hps_yaml_error(ctx, map, "%s: too many %s (%zu)", path, noun, count);
    *keys = calloc(count, sizeof **keys);
    *values = calloc(count, sizeof **values);
    if (!*keys || !*values)
        return HPS_ENOMEM;
    *n = (int)count;
    return HPS_OK;
}

int hps_config_get_count(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, int *out)
{
    int64_t v;
    int rc = hps_yaml_get_int64(ctx, node, path, &v);
    if (rc != HPS_OK)
        return rc;
    if (v < 0 || v > INT_MAX)
        return hps_yaml_error(ctx, node, "%s: must be a non-negative integer (at most %d), got %s",
                              path, INT_MAX, hps_yaml_text(node));
    *out = (int)v;
    return HPS_OK;
}

static int parse_budget(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    yaml_node_t *v[5];
    int rc = hps_yaml_map_fields(ctx, node, "budget", NULL, budget_keys, v);
    if (rc != HPS_OK)
        return rc;
    if (v[0]) {
        int64_t n;
        if ((rc = hps_yaml_get_int64(ctx, v[0], "budget.max_trials", &n)) != HPS_OK)
            return rc;
        if (n <= 0)
            return hps_yaml_error(ctx, v[0], "budget.max_trials: must be a positive integer, got %s",
                                  hps_yaml_text(v[0]));
        cfg->max_trials = n;
    }
    if (v[1] && (rc = hps_config_get_duration(ctx, v[1], "budget.max_time", 1, &cfg->max_time)) !=
                    HPS_OK)
        return rc;
    if (v[2] && (rc = hps_config_get_count(ctx, v[2], "budget.max_consecutive_failures",
                                           &cfg->max_consecutive_failures)) != HPS_OK)
        return rc;
    if (v[3]) {
        if ((rc = hps_yaml_get_number(ctx, v[3], "budget.max_resource", &cfg->max_resource)) !=
            HPS_OK)
            return rc;
        if (cfg->max_resource <= 0)
            return hps_yaml_error(ctx, v[3], "budget.max_resource: must be > 0, got %s",
                                  hps_yaml_text(v[3]));
    }
    return HPS_OK;
}

/* `datasets`: files or directories whose SHA-256 provenance records, as written
 * (relative to the config file's directory when not absolute). */
static int parse_datasets(hps_yaml_ctx *ctx, const yaml_node_t *list, hps_config *cfg)
{
    if (list->type != YAML_SEQUENCE_NODE) {
        char got[96];
        hps_yaml_describe(list, got, sizeof got);
        return hps_yaml_error(ctx, list, "datasets: expected a list of paths (files or "
                              "directories), got %s", got);
    }
    const yaml_node_item_t *start = list->data.sequence.items.start;
    size_t n = (size_t)(list->data.sequence.items.top - start);
    if (n > 10000)
        return hps_yaml_error(ctx, list, "datasets: too many entries (%zu)", n);
    cfg->datasets = calloc(n + 1, sizeof *cfg->datasets);
    if (!cfg->datasets)
        return HPS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = hps_yaml_node(ctx, start[i]);
        char path[48];
        snprintf(path, sizeof path, "datasets[%zu]", i);
        int rc = hps_yaml_get_string(ctx, item, path, &cfg->datasets[i]);
        if (rc != HPS_OK)
            return rc;
        cfg->n_datasets = (int)i + 1;
        if (!cfg->datasets[i][0])
            return hps_yaml_error(ctx, item, "%s: must not be empty", path);
    }
    return HPS_OK;
}

/* ---- the document ------------------------------------------------------------------ */

int hps_config_parse_root(hps_yaml_ctx *ctx, const yaml_node_t *root, hps_config *cfg)
{
    if (root->type != YAML_MAPPING_NODE) {
        char got[96];
        hps_yaml_describe(root, got, sizeof got);
        return hps_yaml_error(ctx, root, "the top level must be a mapping (objective, space, "
                                         "...), got %s", got);
    }
    yaml_node_t *v[K_COUNT + 1];
    int rc = hps_yaml_map_fields(ctx, root, "", " at the top level", top_keys, v);
    if (rc != HPS_OK)
        return rc;
    if (!v[K_OBJECTIVE])
        return hps_yaml_error(ctx, root, "missing required key 'objective'");
    if (!v[K_SPACE])
        return hps_yaml_error(ctx, root, "missing required key 'space'");
    if ((rc = parse_name(ctx, v[K_NAME], cfg)) != HPS_OK ||
        (rc = parse_seed(ctx, v[K_SEED], cfg)) != HPS_OK ||
        (rc = hps_config_space_parse(ctx, v[K_SPACE], &cfg->space)) != HPS_OK ||
        (rc = hps_config_objective_parse(ctx, v[K_OBJECTIVE], cfg)) != HPS_OK ||
        (rc = parse_metric(ctx, v[K_METRIC], cfg)) != HPS_OK ||
        (rc = hps_config_strategy_parse(ctx, v[K_STRATEGY], cfg)) != HPS_OK)
        return rc;
    if (cfg->objective.kind == HPS_OBJ_TRAINER &&
        (rc = hps_config_trainer_strategy(ctx, v[K_STRATEGY], cfg)) != HPS_OK)
        return rc;
    cfg->max_consecutive_failures = DEFAULT_MAX_CONSECUTIVE_FAILURES;
    if (v[K_BUDGET] && (rc = parse_budget(ctx, v[K_BUDGET], cfg)) != HPS_OK)
        return rc;
    if (v[K_PARALLELISM] && (rc = parse_positive_int(ctx, v[K_PARALLELISM], "parallelism",
                                                     &cfg->parallelism)) != HPS_OK)
        return rc;
    if (v[K_DETERMINISTIC] &&
        (rc = hps_yaml_get_bool(ctx, v[K_DETERMINISTIC], "deterministic", &cfg->deterministic)) !=
            HPS_OK)
        return rc;
    if (v[K_DATASETS] && (rc = parse_datasets(ctx, v[K_DATASETS], cfg)) != HPS_OK)
        return rc;
    if (cfg->deterministic && !v[K_PARALLELISM])
        return hps_yaml_error(ctx, v[K_DETERMINISTIC], "deterministic: true needs parallelism: "
                              "P, the number of trials a suggestion may not know the results "
                              "of (suggestion k sees the results of trials 0..k-P-1)");
    cfg->ranks_per_trial = 1;
    if (v[K_RANKS] &&
        (rc = parse_positive_int(ctx, v[K_RANKS], "ranks_per_trial", &cfg->ranks_per_trial)) !=
            HPS_OK)
        return rc;
    if (v[K_OUTPUT]) {
        if ((rc = hps_yaml_get_string(ctx, v[K_OUTPUT], "output", &cfg->output)) != HPS_OK)
            return rc;
        if (!*cfg->output)
            return hps_yaml_error(ctx, v[K_OUTPUT], "output: must not be empty");
    } else if (!(cfg->output = hps_yaml_strdup("runs"))) {
        return HPS_ENOMEM;
    }
    return HPS_OK;
}

void hps_config_free(hps_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->source);
    free(cfg->text);
    free(cfg->name);
    hps_config_objective_free(&cfg->objective);
    free(cfg->metric);
    hps_space_free(&cfg->space);
    free(cfg->strategy);
    for (int i = 0; i < cfg->strategy_cfg.n; i++) {
        free((char *)cfg->strategy_cfg.keys[i]);
        free((char *)cfg->strategy_cfg.values[i]);
    }
    free((void *)cfg->strategy_cfg.keys);
    free((void *)cfg->strategy_cfg.values);
    free(cfg->pruner);
    for (int i = 0; i < cfg->pruner_cfg.n; i++) {
        free((char *)cfg->pruner_cfg.keys[i]);
        free((char *)cfg->pruner_cfg.values[i]);
    }
    free((void *)cfg->pruner_cfg.keys);
    free((void *)cfg->pruner_cfg.values);
    free(cfg->output);
    for (int i = 0; cfg->datasets && i < cfg->n_datasets; i++)
        free(cfg->datasets[i]);
    free(cfg->datasets);
    hps_config_marks_free(cfg);
    memset(cfg, 0, sizeof *cfg);
}
