/*
 * The `space:` section: a mapping from parameter name to its definition, in the
 * order written (that order is the order of the unit-hypercube coordinates).
 *
 *   float / int   {type, low, high, log}   low < high; log needs low > 0; int
 *                                           bounds must be integers
 *   categorical   {type, choices}          a non-empty list of distinct strings
 *                                           (without line breaks), numbers and
 *                                           booleans
 *   bool          {type}
 *
 * The keys each type accepts are checked only after `type` is known, so `log`
 * on a categorical parameter is reported as a key that type does not take.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "core/strset.h"
#include "hpsweep/error.h"

static const char *const type_names[] = {"float", "int", "categorical", "bool", NULL};
static const char *const numeric_keys[] = {"type", "low", "high", "log", NULL};
static const char *const categorical_keys[] = {"type", "choices", NULL};
static const char *const bool_keys[] = {"type", NULL};

enum { NUM_TYPE, NUM_LOW, NUM_HIGH, NUM_LOG };
enum { CAT_TYPE, CAT_CHOICES };

/* Integers beyond this are not exact doubles. */
#define MAX_EXACT_INT 9007199254740992.0

const char *hps_config_type_name(hps_param_type type)
{
    return (type >= HPS_PARAM_FLOAT && type <= HPS_PARAM_BOOL) ? type_names[type] : "unknown";
}

static const char *param_at(const void *ctx, size_t i)
{
    const hps_space *space = ctx;
    return i < (size_t)space->n_params ? space->params[i].name : NULL;
}

const char **hps_config_param_names(const hps_space *space)
{
    return hps_yaml_names(param_at, space);
}

static int parse_bound(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                       const char *key, hps_param_type type, double *out)
{
    char kpath[HPS_CONFIG_PATH_MAX + 16];
    snprintf(kpath, sizeof kpath, "%s.%s", path, key);
    int rc = hps_yaml_get_number(ctx, node, kpath, out);
    if (rc != HPS_OK)
        return rc;
    if (type == HPS_PARAM_INT && (*out != floor(*out) || fabs(*out) > MAX_EXACT_INT))
        return hps_yaml_error(ctx, node, "%s: an int parameter needs integer bounds, got %s", kpath,
                              hps_yaml_text(node));
    return HPS_OK;
}

static int parse_numeric(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                         hps_param *p)
{
    yaml_node_t *v[5];
    char what[48];
    snprintf(what, sizeof what, " for %s %s parameter", p->type == HPS_PARAM_INT ? "an" : "a",
             hps_config_type_name(p->type));
    int rc = hps_yaml_map_fields(ctx, map, path, what, numeric_keys, v);
    if (rc != HPS_OK)
        return rc;
    if (!v[NUM_LOW])
        return hps_yaml_error(ctx, map, "%s: missing required key 'low'", path);
    if (!v[NUM_HIGH])
        return hps_yaml_error(ctx, map, "%s: missing required key 'high'", path);
    if ((rc = parse_bound(ctx, v[NUM_LOW], path, "low", p->type, &p->low)) != HPS_OK ||
        (rc = parse_bound(ctx, v[NUM_HIGH], path, "high", p->type, &p->high)) != HPS_OK)
        return rc;
    if (v[NUM_LOG]) {
        char kpath[HPS_CONFIG_PATH_MAX + 16];
        snprintf(kpath, sizeof kpath, "%s.log", path);
        if ((rc = hps_yaml_get_bool(ctx, v[NUM_LOG], kpath, &p->log)) != HPS_OK)
            return rc;
    }
    if (p->low >= p->high)
        return hps_yaml_error(ctx, v[NUM_HIGH], "%s: empty range: low (%s) must be below high (%s)",
                              path, hps_yaml_text(v[NUM_LOW]), hps_yaml_text(v[NUM_HIGH]));
    if (p->log && p->low <= 0)
        return hps_yaml_error(ctx, v[NUM_LOW],
                              "%s: a log-scale parameter needs low > 0, got low = %s", path,
                              hps_yaml_text(v[NUM_LOW]));
    return HPS_OK;
}

/* One choice: its kind, canonical text (malloc'd into c->text) and value. */
static int parse_choice(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                        hps_choice *c)
{
    char got[96];
    char num[40];
    const char *text = NULL;
    hps_yaml_kind kind = hps_yaml_scalar_kind(node);
    if (!node || node->type != YAML_SCALAR_NODE || kind == HPS_YAML_NULL) {
        hps_yaml_describe(node, got, sizeof got);
        return hps_yaml_error(ctx, node, "%s: expected a string, number or boolean choice, got %s",
                              path, got);
    }
    switch (kind) {
    case HPS_YAML_BOOL: {
        int b = 0;
        int rc = hps_yaml_get_bool(ctx, node, path, &b);
        if (rc != HPS_OK)
            return rc;
        c->kind = HPS_CHOICE_BOOL;
        c->number = b;
        text = b ? "true" : "false";
        break;
    }
    case HPS_YAML_INT:
    case HPS_YAML_FLOAT: {
        int rc = hps_yaml_get_number(ctx, node, path, &c->number);
        if (rc != HPS_OK)
            return rc;
        c->kind = HPS_CHOICE_NUMBER;
        hps_yaml_format_number(c->number, num, sizeof num);
        text = num;
        break;
    }
    default:
        text = hps_yaml_text(node);
        if (strlen(text) != node->data.scalar.length)
            return hps_yaml_error(ctx, node, "%s: a choice contains a NUL character", path);
        if (!*text)
            return hps_yaml_error(ctx, node, "%s: a choice must not be an empty string", path);
        if (strchr(text, '\n'))
            return hps_yaml_error(ctx, node, "%s: a choice must not contain a line break "
                                             "(sweep.h5 lists choices one per line)", path);
        c->kind = HPS_CHOICE_STRING;
        c->number = 0;
        break;
    }
    c->text = hps_yaml_strdup(text);
    return c->text ? HPS_OK : HPS_ENOMEM;
}

static int parse_categorical(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                             hps_param *p)
{
    yaml_node_t *v[3];
    int rc = hps_yaml_map_fields(ctx, map, path, " for a categorical parameter", categorical_keys, v);
    if (rc != HPS_OK)
        return rc;
    char cpath[HPS_CONFIG_PATH_MAX + 16];
    snprintf(cpath, sizeof cpath, "%s.choices", path);
    const yaml_node_t *list = v[CAT_CHOICES];
    if (!list)
        return hps_yaml_error(ctx, map, "%s: missing required key 'choices'", path);
    if (list->type != YAML_SEQUENCE_NODE) {
        char got[96];
        hps_yaml_describe(list, got, sizeof got);
        return hps_yaml_error(ctx, list, "%s: expected a list, got %s", cpath, got);
    }
    const yaml_node_item_t *start = list->data.sequence.items.start;
    size_t n = (size_t)(list->data.sequence.items.top - start);
    if (n == 0)
        return hps_yaml_error(ctx, list, "%s: empty list; a categorical parameter needs at least one "
                                         "choice", cpath);
    if (n > 1000000)
        return hps_yaml_error(ctx, list, "%s: too many choices (%zu)", cpath, n);
    p->choices = calloc(n, sizeof *p->choices);
    if (!p->choices)
        return HPS_ENOMEM;
    hps_strset seen = {0}; /* the choices so far, tagged with their index */
    for (size_t i = 0; i < n && rc == HPS_OK; i++) {
        const yaml_node_t *item = hps_yaml_node(ctx, start[i]);
        if ((rc = parse_choice(ctx, item, cpath, &p->choices[i])) != HPS_OK)
            break;
        p->n_choices = (int)i + 1;
        size_t j;
        int added = hps_strset_add(&seen, p->choices[i].text, strlen(p->choices[i].text), i, &j);
        if (added < 0) {
            rc = HPS_ENOMEM;
        } else if (added == 0) {
            const yaml_node_t *first = hps_yaml_node(ctx, start[j]);
            rc = hps_yaml_error(ctx, item, "%s: duplicate choice '%s' (first at line %lu, column "
                                "%lu)", cpath, p->choices[i].text,
                                (unsigned long)first->start_mark.line + 1,
                                (unsigned long)first->start_mark.column + 1);
        }
    }
    hps_strset_free(&seen);
    return rc;
}

static int parse_type(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                      hps_param_type *type)
{
    const yaml_node_t *node = hps_yaml_map_get(ctx, map, "type", NULL);
    if (!node)
        return hps_yaml_error(ctx, map, "%s: missing required key 'type' (float, int, categorical "
                                        "or bool)", path);
    char tpath[HPS_CONFIG_PATH_MAX + 16];
    snprintf(tpath, sizeof tpath, "%s.type", path);
    char *name = NULL;
    int rc = hps_yaml_get_string(ctx, node, tpath, &name);
    if (rc != HPS_OK)
        return rc;
    for (int i = 0; type_names[i]; i++) {
        if (!strcmp(type_names[i], name)) {
            *type = (hps_param_type)i;
            free(name);
            return HPS_OK;
        }
    }
    char hint[256];
    hps_yaml_suggest(name, type_names, NULL, "valid types", hint, sizeof hint);
    rc = hps_yaml_error(ctx, node, "%s: unknown parameter type '%s'%s", tpath, name, hint);
    free(name);
    return rc;
}

static int parse_param(hps_yaml_ctx *ctx, const yaml_node_t *key, const yaml_node_t *val,
                       hps_param *p)
{
    int rc = hps_yaml_get_string(ctx, key, "space", &p->name);
    if (rc != HPS_OK)
        return rc;
    if (!*p->name)
        return hps_yaml_error(ctx, key, "space: a parameter name must not be empty");
    char path[HPS_CONFIG_PATH_MAX];
    snprintf(path, sizeof path, "space.%s", p->name);
    /* Duplicate keys first, then the type, then the keys that type accepts. */
    if ((rc = hps_yaml_map_fields(ctx, val, path, NULL, NULL, NULL)) != HPS_OK)
        return rc;
    if ((rc = parse_type(ctx, val, path, &p->type)) != HPS_OK)
        return rc;
    switch (p->type) {
    case HPS_PARAM_FLOAT:
    case HPS_PARAM_INT:
        return parse_numeric(ctx, val, path, p);
    case HPS_PARAM_CATEGORICAL:
        return parse_categorical(ctx, val, path, p);
    case HPS_PARAM_BOOL: {
        yaml_node_t *v[2];
        rc = hps_yaml_map_fields(ctx, val, path, " for a bool parameter", bool_keys, v);
        if (rc == HPS_OK) {
            p->low = 0;
            p->high = 1;
        }
        return rc;
    }
    }
    return hps_yaml_error(ctx, val, "%s: unknown parameter type", path);
}

int hps_config_space_parse(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_space *space)
{
    int rc = hps_yaml_map_fields(ctx, node, "space", NULL, NULL, NULL);
    if (rc != HPS_OK)
        return rc;
    const yaml_node_pair_t *start = node->data.mapping.pairs.start;
    size_t n = (size_t)(node->data.mapping.pairs.top - start);
    if (n == 0)
        return hps_yaml_error(ctx, node, "space: no parameters; define at least one, e.g. "
                                         "x: {type: float, low: 0, high: 1}");
    if (n > 100000)
        return hps_yaml_error(ctx, node, "space: too many parameters (%zu)", n);
    space->params = calloc(n, sizeof *space->params);
    if (!space->params)
        return HPS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        /* Counted before it is filled so that hps_space_free() releases a half-built one. */
        space->n_params = (int)i + 1;
        rc = parse_param(ctx, hps_yaml_node(ctx, start[i].key), hps_yaml_node(ctx, start[i].value),
                         &space->params[i]);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}
