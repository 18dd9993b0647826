/*
 * Positions of a parsed config's keys (hps_config_where, hps_config_error_at):
 * once the document has been validated, every mapping key and list item is
 * recorded under its dotted path with its own and its value's position, so a
 * check that runs after parsing -- against something the parser cannot see,
 * such as the trainer's parameter table in engine/cli -- can still say
 * "sweep.yaml:12:3: ..." like the parser does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "core/grow.h"
#include "hpsweep/error.h"

/* Deeper documents than any valid config are not indexed (aliases may nest). */
#define MARKS_MAX_DEPTH 16

typedef struct marks {
    hps_config *cfg;
    size_t cap;
    int oom;
} marks;

static void add(marks *m, const char *path, const yaml_node_t *key, const yaml_node_t *value)
{
    if (m->oom)
        return;
    hps_config *c = m->cfg;
    hps_config_mark *grown = hps_grow(c->marks, &m->cap, (size_t)c->n_marks + 1, sizeof *grown,
                                      64);
    if (!grown) {
        m->oom = 1;
        return;
    }
    c->marks = grown;
    char *copy = hps_yaml_strdup(path);
    if (!copy) {
        m->oom = 1;
        return;
    }
    c->marks[c->n_marks++] = (hps_config_mark){
        .path = copy,
        .key_line = (int)key->start_mark.line + 1, .key_col = (int)key->start_mark.column + 1,
        .line = (int)value->start_mark.line + 1, .col = (int)value->start_mark.column + 1};
}

static void walk(hps_yaml_ctx *ctx, marks *m, const yaml_node_t *node, const char *path,
                 int depth)
{
    if (!node || depth > MARKS_MAX_DEPTH || m->oom)
        return;
    char sub[HPS_CONFIG_PATH_MAX * 2];
    if (node->type == YAML_MAPPING_NODE) {
        for (const yaml_node_pair_t *p = node->data.mapping.pairs.start;
             p < node->data.mapping.pairs.top; p++) {
            const yaml_node_t *k = hps_yaml_node(ctx, p->key);
            const yaml_node_t *v = hps_yaml_node(ctx, p->value);
            const char *name = hps_yaml_text(k);
            if (!k || !v || !name)
                continue;
            if (snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", name) >=
                (int)sizeof sub)
                continue;
            add(m, sub, k, v);
            walk(ctx, m, v, sub, depth + 1);
        }
    } else if (node->type == YAML_SEQUENCE_NODE) {
        int i = 0;
        for (const yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++, i++) {
            const yaml_node_t *v = hps_yaml_node(ctx, *it);
            if (!v || snprintf(sub, sizeof sub, "%s[%d]", path, i) >= (int)sizeof sub)
                continue;
            add(m, sub, v, v);
            walk(ctx, m, v, sub, depth + 1);
        }
    }
}

int hps_config_marks_record(hps_yaml_ctx *ctx, const yaml_node_t *root, hps_config *cfg)
{
    marks m = {.cfg = cfg};
    walk(ctx, &m, root, "", 0);
    return m.oom ? HPS_ENOMEM : HPS_OK;
}

void hps_config_marks_free(hps_config *cfg)
{
    for (int i = 0; cfg->marks && i < cfg->n_marks; i++)
        free(cfg->marks[i].path);
    free(cfg->marks);
    cfg->marks = NULL;
    cfg->n_marks = 0;
}

int hps_config_where(const hps_config *cfg, const char *path, int value, int *line, int *col)
{
    for (int i = 0; cfg && path && i < cfg->n_marks; i++) {
        const hps_config_mark *k = &cfg->marks[i];
        if (strcmp(k->path, path) == 0) {
            *line = value ? k->line : k->key_line;
            *col = value ? k->col : k->key_col;
            return HPS_OK;
        }
    }
    return HPS_ENOENT;
}

int hps_config_error_at(const hps_config *cfg, const char *path, int value, char *err,
                        size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return HPS_ECONFIG;
    const char *source = cfg && cfg->source ? cfg->source : "<config>";
    int line, col, n;
    if (hps_config_where(cfg, path, value, &line, &col) == HPS_OK)
        n = snprintf(err, errlen, "%s:%d:%d: ", source, line, col);
    else
        n = snprintf(err, errlen, "%s: ", source);
    if (n < 0 || (size_t)n >= errlen)
        return HPS_ECONFIG;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return HPS_ECONFIG;
}
