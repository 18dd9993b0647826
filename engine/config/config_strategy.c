/*
 * The `strategy:` section: a strategy name (`strategy: grid`) or a mapping with
 * `name` (default random), options, and optionally a `pruner`. Every option is
 * checked against the strategy's own option list (hps_option_spec) and stored
 * in cfg->strategy_cfg as canonical text, so the hps_strategy_cfg_* getters
 * cannot misread it: integers as plain digits, floats in their shortest
 * round-trip form, booleans as "true"/"false", enum values and strings as
 * written.
 *
 * `pruner` is a pruner name (`pruner: median`) or a mapping with `name` and the
 * pruner's options, validated the same way against the pruner's option list
 * into cfg->pruner_cfg. It is never passed to the strategy as an option.
 *
 * One special case: for a strategy that has an option called `points`, the
 * value may also be a mapping from parameter name to a point count; it sets
 * space.params[i].grid_points and is not stored as an option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "hpsweep/error.h"

#define DEFAULT_STRATEGY "random"

/* Names of options and of the registries, for hps_yaml_names. */
static const char *option_at(const void *ctx, size_t i)
{
    const hps_option_spec *options = ctx;
    return options ? options[i].name : NULL;
}

static const char *strategy_at(const void *ctx, size_t i)
{
    (void)ctx;
    const hps_strategy_ops *const *all = hps_strategy_list();
    return all && all[i] ? all[i]->name : NULL;
}

static const char *pruner_at(const void *ctx, size_t i)
{
    (void)ctx;
    const hps_pruner_ops *const *all = hps_pruner_list();
    return all && all[i] ? all[i]->name : NULL;
}

static int range_error(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                       const hps_option_spec *spec, const char *what)
{
    char lo[40], hi[40];
    hps_yaml_format_number(spec->min, lo, sizeof lo);
    hps_yaml_format_number(spec->max, hi, sizeof hi);
    return hps_yaml_error(ctx, node, "%s: %s is out of range; expected %s in [%s, %s]", path,
                          hps_yaml_text(node), what, lo, hi);
}

/* Validate one option value against spec; on success *out is its canonical text. */
static int option_value(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                        const hps_option_spec *spec, char **out)
{
    char buf[48];
    int rc;
    *out = NULL;
    switch (spec->type) {
    case HPS_OPT_INT: {
        int64_t v;
        if ((rc = hps_yaml_get_int64(ctx, node, path, &v)) != HPS_OK)
            return rc;
        if ((double)v < spec->min || (double)v > spec->max)
            return range_error(ctx, node, path, spec, "an integer");
        snprintf(buf, sizeof buf, "%lld", (long long)v);
        break;
    }
    case HPS_OPT_FLOAT: {
        double v;
        if ((rc = hps_yaml_get_number(ctx, node, path, &v)) != HPS_OK)
            return rc;
        if (v < spec->min || v > spec->max)
            return range_error(ctx, node, path, spec, "a number");
        hps_yaml_format_number(v, buf, sizeof buf);
        break;
    }
    case HPS_OPT_BOOL: {
        int b;
        if ((rc = hps_yaml_get_bool(ctx, node, path, &b)) != HPS_OK)
            return rc;
        snprintf(buf, sizeof buf, "%s", b ? "true" : "false");
        break;
    }
    case HPS_OPT_ENUM: {
        char *s = NULL;
        if ((rc = hps_yaml_get_string(ctx, node, path, &s)) != HPS_OK)
            return rc;
        for (int i = 0; spec->choices && spec->choices[i]; i++) {
            if (!strcmp(spec->choices[i], s)) {
                *out = s;
                return HPS_OK;
            }
        }
        char hint[512];
        hps_yaml_suggest(s, spec->choices, NULL, "valid values", hint, sizeof hint);
        rc = hps_yaml_error(ctx, node, "%s: unknown value '%s'%s", path, s, hint);
        free(s);
        return rc;
    }
    case HPS_OPT_STRING:
        if ((rc = hps_config_get_text(ctx, node, path, out)) != HPS_OK)
            return rc;
        if (!**out) {
            free(*out);
            *out = NULL;
            return hps_yaml_error(ctx, node, "%s: must not be empty", path);
        }
        return HPS_OK;
    default:
        return hps_yaml_error(ctx, node, "%s: option has an unsupported type", path);
    }
    *out = hps_yaml_strdup(buf);
    return *out ? HPS_OK : HPS_ENOMEM;
}

/* `points: {x1: 5, lr: 3}`: per-parameter grid point counts within spec's range. */
static int parse_points(hps_yaml_ctx *ctx, const yaml_node_t *map, const hps_option_spec *spec,
                        hps_space *space)
{
    int rc = hps_yaml_map_fields(ctx, map, "strategy.points", NULL, NULL, NULL);
    if (rc != HPS_OK)
        return rc;
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = hps_yaml_node(ctx, p->key);
        const yaml_node_t *v = hps_yaml_node(ctx, p->value);
        const char *name = hps_yaml_text(k);
        int i = hps_space_find(space, name);
        if (i < 0) {
            const char **names = hps_config_param_names(space);
            if (!names)
                return HPS_ENOMEM;
            char hint[512];
            hps_yaml_suggest(name, names, NULL, "parameters", hint, sizeof hint);
            free(names);
            return hps_yaml_error(ctx, k, "strategy.points: '%s' is not a parameter%s", name, hint);
        }
        char path[HPS_CONFIG_PATH_MAX + 16];
        snprintf(path, sizeof path, "strategy.points.%s", name);
        hps_param *param = &space->params[i];
        if (param->type != HPS_PARAM_FLOAT && param->type != HPS_PARAM_INT)
            return hps_yaml_error(ctx, k, "%s: grid points apply to float and int parameters only; "
                                          "'%s' is %s", path, name,
                                  hps_config_type_name(param->type));
        int64_t n;
        if ((rc = hps_yaml_get_int64(ctx, v, path, &n)) != HPS_OK)
            return rc;
        if (n <= 0)
            return hps_yaml_error(ctx, v, "%s: must be a positive integer, got %s", path,
                                  hps_yaml_text(v));
        if ((double)n < spec->min || (double)n > spec->max)
            return range_error(ctx, v, path, spec, "an integer");
        param->grid_points = (int)n;
    }
    return HPS_OK;
}

static int find_strategy(hps_yaml_ctx *ctx, const yaml_node_t *name_node, const char *path,
                         hps_config *cfg)
{
    char *name = NULL;
    if (name_node) {
        int rc = hps_yaml_get_string(ctx, name_node, path, &name);
        if (rc != HPS_OK)
            return rc;
    } else if (!(name = hps_yaml_strdup(DEFAULT_STRATEGY))) {
        return HPS_ENOMEM;
    }
    cfg->strategy = name;
    cfg->strategy_ops = hps_strategy_find(name);
    if (cfg->strategy_ops)
        return HPS_OK;
    const char **names = hps_yaml_names(strategy_at, NULL);
    if (!names)
        return HPS_ENOMEM;
    char hint[512];
    hps_yaml_suggest(name, names, NULL, "available", hint, sizeof hint);
    free(names);
    return hps_yaml_error(ctx, name_node, "%s: unknown strategy '%s'%s", path, name, hint);
}

/* The spec called key in options (terminated by {NULL}), or NULL. */
static const hps_option_spec *find_option(const hps_option_spec *options, const char *key)
{
    for (int i = 0; options && options[i].name; i++)
        if (!strcmp(options[i].name, key))
            return &options[i];
    return NULL;
}

/* "section: unknown option 'k' for <kind> 'owner'" with a suggestion among the
 * options and the section's own keys (extra). */
static int unknown_option(hps_yaml_ctx *ctx, const yaml_node_t *k, const char *section,
                          const char *kind, const char *owner, const hps_option_spec *options,
                          const char *const *extra)
{
    const char **names = hps_yaml_names(option_at, options);
    if (!names)
        return HPS_ENOMEM;
    const char *key = hps_yaml_text(k);
    char hint[512];
    char label[128];
    snprintf(label, sizeof label, "options of '%s'", owner);
    hps_yaml_suggest(key, names, extra, label, hint, sizeof hint);
    free(names);
    return hps_yaml_error(ctx, k, "%s: unknown option '%s' for %s '%s'%s", section, key, kind,
                          owner, hint);
}

/* Room for n options in sc (keys and values NULL-terminated). */
static int alloc_options(hps_strategy_cfg *sc, size_t n)
{
    sc->keys = calloc(n + 1, sizeof *sc->keys);
    sc->values = calloc(n + 1, sizeof *sc->values);
    return sc->keys && sc->values ? HPS_OK : HPS_ENOMEM;
}

static int add_option(hps_strategy_cfg *sc, const char *key, char *value)
{
    char *k = hps_yaml_strdup(key);
    if (!k) {
        free(value);
        return HPS_ENOMEM;
    }
    sc->keys[sc->n] = k;
    sc->values[sc->n] = value;
    sc->n++;
    return HPS_OK;
}

static int find_pruner(hps_yaml_ctx *ctx, const yaml_node_t *name_node, const char *path,
                       hps_config *cfg)
{
    char *name = NULL;
    int rc = hps_yaml_get_string(ctx, name_node, path, &name);
    if (rc != HPS_OK)
        return rc;
    cfg->pruner = name;
    cfg->pruner_ops = hps_pruner_find(name);
    if (cfg->pruner_ops)
        return HPS_OK;
    const char **names = hps_yaml_names(pruner_at, NULL);
    if (!names)
        return HPS_ENOMEM;
    char hint[512];
    hps_yaml_suggest(name, names, NULL, "available", hint, sizeof hint);
    free(names);
    return hps_yaml_error(ctx, name_node, "%s: unknown pruner '%s'%s", path, name, hint);
}

/* `strategy.pruner`: a name, or a mapping with `name` and the pruner's options. */
static int parse_pruner(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    hps_yaml_kind kind = hps_yaml_scalar_kind(node);
    if (node->type == YAML_SCALAR_NODE && kind != HPS_YAML_NULL && kind != HPS_YAML_BOOL)
        return find_pruner(ctx, node, "strategy.pruner", cfg);
    if (node->type != YAML_MAPPING_NODE) {
        char got[96];
        hps_yaml_describe(node, got, sizeof got);
        return hps_yaml_error(ctx, node, "strategy.pruner: expected a pruner name or a mapping "
                                         "with 'name' and options, got %s", got);
    }
    int rc = hps_yaml_map_fields(ctx, node, "strategy.pruner", NULL, NULL, NULL);
    if (rc != HPS_OK)
        return rc;
    const yaml_node_t *name_node = hps_yaml_map_get(ctx, node, "name", NULL);
    if (!name_node)
        return hps_yaml_error(ctx, node, "strategy.pruner: missing required key 'name' (the "
                                         "pruner, e.g. median)");
    if ((rc = find_pruner(ctx, name_node, "strategy.pruner.name", cfg)) != HPS_OK)
        return rc;

    const hps_pruner_ops *ops = cfg->pruner_ops;
    hps_strategy_cfg *pc = &cfg->pruner_cfg;
    if ((rc = alloc_options(pc, (size_t)(node->data.mapping.pairs.top -
                                         node->data.mapping.pairs.start))) != HPS_OK)
        return rc;
    static const char *const own_keys[] = {"name", NULL};
    for (const yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = hps_yaml_node(ctx, p->key);
        const char *key = hps_yaml_text(k);
        if (!strcmp(key, "name"))
            continue;
        const hps_option_spec *spec = find_option(ops->options, key);
        if (!spec)
            return unknown_option(ctx, k, "strategy.pruner", "pruner", ops->name, ops->options,
                                  own_keys);
        char path[HPS_CONFIG_PATH_MAX];
        snprintf(path, sizeof path, "strategy.pruner.%s", key);
        char *value = NULL;
        if ((rc = option_value(ctx, hps_yaml_node(ctx, p->value), path, spec, &value)) != HPS_OK)
            return rc;
        if ((rc = add_option(pc, key, value)) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

int hps_config_strategy_parse(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    if (!node || node->type == YAML_SCALAR_NODE)
        return find_strategy(ctx, node, "strategy", cfg);
    if (node->type != YAML_MAPPING_NODE) {
        char got[96];
        hps_yaml_describe(node, got, sizeof got);
        return hps_yaml_error(ctx, node, "strategy: expected a strategy name or a mapping, got %s",
                              got);
    }
    int rc = hps_yaml_map_fields(ctx, node, "strategy", NULL, NULL, NULL);
    if (rc != HPS_OK)
        return rc;
    if ((rc = find_strategy(ctx, hps_yaml_map_get(ctx, node, "name", NULL), "strategy.name", cfg)) !=
        HPS_OK)
        return rc;

    const hps_strategy_ops *ops = cfg->strategy_ops;
    hps_strategy_cfg *sc = &cfg->strategy_cfg;
    if ((rc = alloc_options(sc, (size_t)(node->data.mapping.pairs.top -
                                         node->data.mapping.pairs.start))) != HPS_OK)
        return rc;
    static const char *const own_keys[] = {"name", "pruner", NULL};
    for (const yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = hps_yaml_node(ctx, p->key);
        const yaml_node_t *v = hps_yaml_node(ctx, p->value);
        const char *key = hps_yaml_text(k);
        if (!strcmp(key, "name"))
            continue;
        if (!strcmp(key, "pruner")) {
            if ((rc = parse_pruner(ctx, v, cfg)) != HPS_OK)
                return rc;
            continue;
        }
        const hps_option_spec *spec = find_option(ops->options, key);
        if (!spec)
            return unknown_option(ctx, k, "strategy", "strategy", ops->name, ops->options,
                                  own_keys);
        if (!strcmp(spec->name, "points") && v->type == YAML_MAPPING_NODE) {
            if ((rc = parse_points(ctx, v, spec, &cfg->space)) != HPS_OK)
                return rc;
            continue;
        }
        char path[HPS_CONFIG_PATH_MAX];
        snprintf(path, sizeof path, "strategy.%s", key);
        char *value = NULL;
        if ((rc = option_value(ctx, v, path, spec, &value)) != HPS_OK)
            return rc;
        if ((rc = add_option(sc, key, value)) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}
