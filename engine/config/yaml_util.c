/*
 * Node helpers for the config parser: positioned error messages, YAML 1.2
 * core-schema typing of plain scalars, typed getters, mapping walks with
 * duplicate/unknown-key checks and did-you-mean suggestions.
 *
 * libyaml's loader leaves every scalar untyped (tag str); the typing here is
 * what makes `low: 1e-5` a number, `log: true` a boolean and `low: "1"` a string.
 * Numbers must match the core schema's patterns exactly, so "1.5x", "0x10" and
 * "1_000" are strings and get "expected a number" errors.
 */
#include "yaml_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strset.h"
#include "hpsweep/error.h"

/* Largest magnitude at which every integer is an exact double. */
#define HPS_YAML_MAX_EXACT 9007199254740992.0

static const char *sep(const char *path)
{
    return (path && *path) ? ": " : "";
}

static const char *nz(const char *path)
{
    return path ? path : "";
}

int hps_yaml_error(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *fmt, ...)
{
    if (!ctx->err || ctx->errlen == 0)
        return HPS_ECONFIG;
    unsigned long line = node ? (unsigned long)node->start_mark.line + 1 : 1;
    unsigned long col = node ? (unsigned long)node->start_mark.column + 1 : 1;
    int n = snprintf(ctx->err, ctx->errlen, "%s:%lu:%lu: ", ctx->source, line, col);
    if (n >= 0 && (size_t)n < ctx->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return HPS_ECONFIG;
}

yaml_node_t *hps_yaml_node(hps_yaml_ctx *ctx, int index)
{
    return yaml_document_get_node(ctx->doc, index);
}

const char *hps_yaml_text(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)node->data.scalar.value;
}

char *hps_yaml_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ---- scalar typing --------------------------------------------------------- */

static int is_int_text(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    return *s == '\0';
}

static int is_special_float(const char *s, double *out)
{
    const char *p = s;
    double sign = 1.0;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1.0 : 1.0;
        p++;
    }
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
        *out = sign * INFINITY;
        return 1;
    }
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
        *out = NAN;
        return 1;
    }
    return 0;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_float_text(const char *s)
{
    int digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    while (isdigit((unsigned char)*s)) {
        s++;
        digits++;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            s++;
            digits++;
        }
    }
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

int hps_yaml_parse_number(const char *text, double *out)
{
    if (!text || !*text)
        return HPS_EINVAL;
    if (is_special_float(text, out))
        return HPS_OK;
    if (!is_int_text(text) && !is_float_text(text))
        return HPS_EINVAL;
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (!end || *end != '\0')
        return HPS_EINVAL;
    *out = v; /* overflow gives +-HUGE_VAL (inf): callers reject non-finite values */
    return HPS_OK;
}

hps_yaml_kind hps_yaml_scalar_kind(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return HPS_YAML_STRING;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
        node->data.scalar.style != YAML_ANY_SCALAR_STYLE)
        return HPS_YAML_STRING;
    const char *s = (const char *)node->data.scalar.value;
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return HPS_YAML_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
        !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return HPS_YAML_BOOL;
    if (is_int_text(s))
        return HPS_YAML_INT;
    double dummy;
    if (is_float_text(s) || is_special_float(s, &dummy))
        return HPS_YAML_FLOAT;
    return HPS_YAML_STRING;
}

void hps_yaml_describe(const yaml_node_t *node, char *buf, size_t len)
{
    if (!node) {
        snprintf(buf, len, "nothing");
        return;
    }
    switch (node->type) {
    case YAML_MAPPING_NODE:
        snprintf(buf, len, "a mapping");
        return;
    case YAML_SEQUENCE_NODE:
        snprintf(buf, len, "a list");
        return;
    case YAML_SCALAR_NODE:
        break;
    default:
        snprintf(buf, len, "an empty node");
        return;
    }
    const char *s = (const char *)node->data.scalar.value;
    switch (hps_yaml_scalar_kind(node)) {
    case HPS_YAML_NULL:
        snprintf(buf, len, "null");
        return;
    case HPS_YAML_BOOL:
        snprintf(buf, len, "the boolean %s", s);
        return;
    case HPS_YAML_INT:
    case HPS_YAML_FLOAT:
        snprintf(buf, len, "the number %.40s", s);
        return;
    case HPS_YAML_STRING:
        break;
    }
    if (strlen(s) > 40)
        snprintf(buf, len, "the string '%.37s...'", s);
    else
        snprintf(buf, len, "the string '%s'", s);
}

/* ---- typed getters ------------------------------------------------------------ */

static int mismatch(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                    const char *expected)
{
    char got[96];
    hps_yaml_describe(node, got, sizeof got);
    return hps_yaml_error(ctx, node, "%s%sexpected %s, got %s", nz(path), sep(path), expected, got);
}

int hps_yaml_get_string(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, char **out)
{
    *out = NULL;
    if (!node || node->type != YAML_SCALAR_NODE)
        return mismatch(ctx, node, path, "a string");
    hps_yaml_kind k = hps_yaml_scalar_kind(node);
    if (k == HPS_YAML_NULL || k == HPS_YAML_BOOL)
        return mismatch(ctx, node, path, "a string");
    const char *s = (const char *)node->data.scalar.value;
    if (strlen(s) != node->data.scalar.length)
        return hps_yaml_error(ctx, node, "%s%sthe string contains a NUL character", nz(path),
                              sep(path));
    *out = hps_yaml_strdup(s);
    return *out ? HPS_OK : HPS_ENOMEM;
}

int hps_yaml_get_number(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, double *out)
{
    hps_yaml_kind k = hps_yaml_scalar_kind(node);
    if (!node || node->type != YAML_SCALAR_NODE || (k != HPS_YAML_INT && k != HPS_YAML_FLOAT))
        return mismatch(ctx, node, path, "a number");
    double v;
    if (hps_yaml_parse_number(hps_yaml_text(node), &v) != HPS_OK || !isfinite(v))
        return mismatch(ctx, node, path, "a finite number");
    *out = v;
    return HPS_OK;
}

int hps_yaml_get_int64(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, int64_t *out)
{
    hps_yaml_kind k = hps_yaml_scalar_kind(node);
    if (!node || node->type != YAML_SCALAR_NODE || (k != HPS_YAML_INT && k != HPS_YAML_FLOAT))
        return mismatch(ctx, node, path, "an integer");
    const char *s = hps_yaml_text(node);
    if (k == HPS_YAML_INT) {
        errno = 0;
        char *end = NULL;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE || !end || *end)
            return hps_yaml_error(ctx, node, "%s%sinteger %s is out of range", nz(path), sep(path),
                                  s);
        *out = (int64_t)v;
        return HPS_OK;
    }
    double v;
    if (hps_yaml_parse_number(s, &v) != HPS_OK || !isfinite(v) || v != floor(v) ||
        fabs(v) > HPS_YAML_MAX_EXACT)
        return mismatch(ctx, node, path, "an integer");
    *out = (int64_t)v;
    return HPS_OK;
}

int hps_yaml_get_bool(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, int *out)
{
    if (!node || node->type != YAML_SCALAR_NODE || hps_yaml_scalar_kind(node) != HPS_YAML_BOOL)
        return mismatch(ctx, node, path, "a boolean (true or false)");
    *out = tolower((unsigned char)hps_yaml_text(node)[0]) == 't';
    return HPS_OK;
}

int hps_yaml_expect_mapping(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path)
{
    if (!node || node->type != YAML_MAPPING_NODE)
        return mismatch(ctx, node, path, "a mapping");
    return HPS_OK;
}

/* ---- suggestions ---------------------------------------------------------------- */

#define HPS_YAML_DIST_MAX 64

int hps_yaml_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > HPS_YAML_DIST_MAX || lb > HPS_YAML_DIST_MAX)
        return (int)(la > lb ? la : lb);
    int d[HPS_YAML_DIST_MAX + 1][HPS_YAML_DIST_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* Close enough to suggest: at most 2 edits, at most 1 for words of 3 letters or
 * fewer, and never a rewrite of the whole candidate. */
static int close_enough(const char *word, const char *cand, int dist)
{
    size_t lw = strlen(word), lc = strlen(cand);
    size_t longer = lw > lc ? lw : lc;
    int limit = longer <= 3 ? 1 : 2;
    return dist <= limit && (size_t)dist < lc;
}

static void best_in(const char *word, const char *const *list, const char **best, int *best_d)
{
    for (int i = 0; list && list[i]; i++) {
        int d = hps_yaml_edit_distance(word, list[i]);
        if (d < *best_d && close_enough(word, list[i], d)) {
            *best_d = d;
            *best = list[i];
        }
    }
}

static void append(char *buf, size_t len, const char *s)
{
    size_t used = strlen(buf);
    if (used + 1 < len)
        snprintf(buf + used, len - used, "%s", s);
}

const char **hps_yaml_names(const char *(*name_at)(const void *ctx, size_t i), const void *ctx)
{
    size_t n = 0;
    while (name_at(ctx, n))
        n++;
    const char **names = calloc(n + 1, sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < n; i++)
        names[i] = name_at(ctx, i);
    return names;
}

void hps_yaml_suggest(const char *word, const char *const *candidates, const char *const *extra,
                      const char *list_label, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    const char *best = NULL;
    int best_d = 1 << 20;
    best_in(word, candidates, &best, &best_d);
    best_in(word, extra, &best, &best_d);
    if (best) {
        snprintf(buf, len, "; did you mean '%s'?", best);
        return;
    }
    if (!list_label)
        return;
    snprintf(buf, len, "; %s: ", list_label);
    int first = 1;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *list = pass ? extra : candidates;
        for (int i = 0; list && list[i]; i++) {
            if (!first)
                append(buf, len, ", ");
            append(buf, len, list[i]);
            first = 0;
        }
    }
    if (first)
        append(buf, len, "(none)");
}

/* ---- mappings -------------------------------------------------------------------- */

static int map_field(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                     const char *what, const char *const *keys, yaml_node_t **vals,
                     const yaml_node_pair_t *p, hps_strset *seen);

int hps_yaml_map_fields(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                        const char *what, const char *const *keys, yaml_node_t **vals)
{
    int rc = hps_yaml_expect_mapping(ctx, map, path);
    if (rc != HPS_OK)
        return rc;
    for (int i = 0; keys && keys[i]; i++)
        vals[i] = NULL;
    const yaml_node_pair_t *start = map->data.mapping.pairs.start;
    const yaml_node_pair_t *top = map->data.mapping.pairs.top;
    hps_strset seen = {0}; /* keys so far, tagged with their pair's index */
    for (const yaml_node_pair_t *p = start; p < top; p++) {
        rc = map_field(ctx, map, path, what, keys, vals, p, &seen);
        if (rc != HPS_OK)
            break;
    }
    hps_strset_free(&seen);
    return rc;
}

/* One pair of hps_yaml_map_fields' walk. */
static int map_field(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                     const char *what, const char *const *keys, yaml_node_t **vals,
                     const yaml_node_pair_t *p, hps_strset *seen)
{
    const yaml_node_pair_t *start = map->data.mapping.pairs.start;
    yaml_node_t *k = hps_yaml_node(ctx, p->key);
    yaml_node_t *v = hps_yaml_node(ctx, p->value);
    if (!k || !v)
        return hps_yaml_error(ctx, map, "%s%smalformed mapping", nz(path), sep(path));
    if (k->type != YAML_SCALAR_NODE || hps_yaml_scalar_kind(k) == HPS_YAML_NULL) {
        char got[96];
        hps_yaml_describe(k, got, sizeof got);
        return hps_yaml_error(ctx, k, "%s%skeys must be strings, got %s", nz(path), sep(path),
                              got);
    }
    if (strlen(hps_yaml_text(k)) != k->data.scalar.length)
        return hps_yaml_error(ctx, k, "%s%sthe key contains a NUL character", nz(path),
                              sep(path));
    size_t first;
    int added = hps_strset_add(seen, (const char *)k->data.scalar.value,
                               k->data.scalar.length, (size_t)(p - start), &first);
    if (added < 0)
        return HPS_ENOMEM;
    if (added == 0) {
        yaml_node_t *prev = hps_yaml_node(ctx, start[first].key);
        return hps_yaml_error(ctx, k, "%s%sduplicate key '%s' (first at line %lu, column %lu)",
                              nz(path), sep(path), hps_yaml_text(k),
                              (unsigned long)prev->start_mark.line + 1,
                              (unsigned long)prev->start_mark.column + 1);
    }
    if (!strcmp(hps_yaml_text(k), "<<"))
        return hps_yaml_error(ctx, k, "%s%smerge keys ('<<') are not supported; write the "
                                      "keys out", nz(path), sep(path));
    if (!keys)
        return HPS_OK;
    int found = -1;
    for (int i = 0; keys[i]; i++) {
        if (!strcmp(keys[i], hps_yaml_text(k))) {
            found = i;
            break;
        }
    }
    if (found < 0) {
        char hint[512];
        hps_yaml_suggest(hps_yaml_text(k), keys, NULL, "valid keys", hint, sizeof hint);
        return hps_yaml_error(ctx, k, "%s%sunknown key '%s'%s%s", nz(path), sep(path),
                              hps_yaml_text(k), what ? what : "", hint);
    }
    vals[found] = v;
    return HPS_OK;
}

yaml_node_t *hps_yaml_map_get(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *key,
                              yaml_node_t **key_node)
{
    if (key_node)
        *key_node = NULL;
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = hps_yaml_node(ctx, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp(hps_yaml_text(k), key)) {
            if (key_node)
                *key_node = k;
            return hps_yaml_node(ctx, p->value);
        }
    }
    return NULL;
}

/* ---- numbers as text -------------------------------------------------------------- */

void hps_yaml_format_number(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v < 0 ? "-inf" : "inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        /* "10", not "1e+01"; -0 is written as 0 (the same value for every use). */
        snprintf(buf, len, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}
