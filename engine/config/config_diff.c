/*
 * hps_config_diff: does a config describe the same sweep as the recorded one?
 *
 * Both configs are flattened from the parsed structs (not the YAML text, so
 * layout, quoting, comments and number spelling such as 1e-5 vs 0.00001 do not
 * count) into dotted keys with canonical scalar text, then compared key by key.
 * The keys a resume may change (budget.*, output, parallelism) are never
 * produced, except a deterministic sweep's parallelism: the P of its rule, which
 * fixes what each suggestion knows ("deterministic" is a key too). Parameter
 * order matters (it fixes the unit-hypercube coordinates), so it is a key of its
 * own: "space" = "x1, lr, ...". The `datasets` list is one key.
 *
 * A test function contributes its noise; a pruner its name ("strategy.pruner")
 * and each option given ("strategy.pruner.<option>").
 *
 * An external command contributes its argv (one key, a list, since inserting an
 * argument shifts the rest), workdir as written (the resolved path depends on
 * where the config file was read from, which a resume may change), each env
 * variable, timeout, retries, gpus_per_trial, kill_grace and launch. A plugin
 * contributes its path as written, each option and retries; a trainer its name,
 * its dataset's path as written, each option and retries; an objective on every
 * rank of a group (plugin, trainer, launch: group) gpus_per_rank and share_gpus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config_internal.h"
#include "core/grow.h"
#include "hpsweep/error.h"

typedef struct flat_entry {
    char *key;
    char *value;
} flat_entry;

typedef struct flat {
    flat_entry *e;
    int n;
    size_t cap;
    int oom;
} flat;

static void flat_free(flat *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->e[i].key);
        free(f->e[i].value);
    }
    free(f->e);
    memset(f, 0, sizeof *f);
}

static void put(flat *f, const char *key, const char *value)
{
    if (f->oom)
        return;
    flat_entry *e = hps_grow(f->e, &f->cap, (size_t)f->n + 1, sizeof *e, 32);
    if (!e) {
        f->oom = 1;
        return;
    }
    f->e = e;
    char *k = hps_yaml_strdup(key);
    char *v = hps_yaml_strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        f->oom = 1;
        return;
    }
    f->e[f->n].key = k;
    f->e[f->n].value = v;
    f->n++;
}

static void put_number(flat *f, const char *key, double v)
{
    char buf[40];
    hps_yaml_format_number(v, buf, sizeof buf);
    put(f, key, buf);
}

/* A growing text buffer for list-valued keys; sets *oom on failure. */
static char *join_append(char *acc, const char *s, int *oom)
{
    if (*oom)
        return acc;
    size_t a = acc ? strlen(acc) : 0, b = strlen(s);
    char *r = realloc(acc, a + b + 1);
    if (!r) {
        *oom = 1;
        return acc;
    }
    memcpy(r + a, s, b + 1);
    return r;
}

/* Append s in double quotes, with '"' and '\' escaped, so list items stay
 * unambiguous. */
static char *quote_append(char *acc, const char *s, int *oom)
{
    acc = join_append(acc, "\"", oom);
    for (const char *p = s; *p; p++) {
        char one[3] = {0, 0, 0};
        if (*p == '"' || *p == '\\') {
            one[0] = '\\';
            one[1] = *p;
        } else {
            one[0] = *p;
        }
        acc = join_append(acc, one, oom);
    }
    return join_append(acc, "\"", oom);
}

/* objective.<key> as written in c->text (dflt when absent); resolved (the parsed
 * path) when there is no text to read. NULL when out of memory. */
static char *written_path(const hps_config *c, const char *key, const char *resolved,
                          const char *dflt)
{
    if (!c->text)
        return hps_yaml_strdup(resolved ? resolved : dflt);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return NULL;
    yaml_parser_set_input_string(&parser, (const unsigned char *)c->text, c->text_len);
    char *out = NULL;
    if (yaml_parser_load(&parser, &doc)) {
        hps_yaml_ctx ctx = {.doc = &doc, .source = "", .err = NULL, .errlen = 0};
        const yaml_node_t *obj =
            hps_yaml_map_get(&ctx, yaml_document_get_root_node(&doc), "objective", NULL);
        const char *text = hps_yaml_text(hps_yaml_map_get(&ctx, obj, key, NULL));
        out = hps_yaml_strdup(text ? text : dflt);
        yaml_document_delete(&doc);
    } else {
        out = hps_yaml_strdup(resolved ? resolved : dflt);
    }
    yaml_parser_delete(&parser);
    return out;
}

static void put_command(flat *f, const hps_config *c)
{
    const hps_objective_cfg *o = &c->objective;
    char key[HPS_CONFIG_PATH_MAX + 32];
    char buf[48];
    char *list = join_append(NULL, "[", &f->oom);
    for (int i = 0; i < o->argc; i++) {
        if (i)
            list = join_append(list, ", ", &f->oom);
        list = quote_append(list, o->argv[i] ? o->argv[i] : "", &f->oom);
    }
    list = join_append(list, "]", &f->oom);
    if (!f->oom)
        put(f, "objective.command", list);
    free(list);
    char *workdir = written_path(c, "workdir", o->workdir, ".");
    if (workdir)
        put(f, "objective.workdir", workdir);
    else
        f->oom = 1;
    free(workdir);
    for (int i = 0; i < o->n_env; i++) {
        snprintf(key, sizeof key, "objective.env.%s", o->env_keys[i]);
        put(f, key, o->env_values[i]);
    }
    put_number(f, "objective.timeout", o->timeout);
    snprintf(buf, sizeof buf, "%d", o->retries);
    put(f, "objective.retries", buf);
    snprintf(buf, sizeof buf, "%d", o->gpus_per_trial);
    put(f, "objective.gpus_per_trial", buf);
    put_number(f, "objective.kill_grace", o->kill_grace);
    put(f, "objective.launch", o->launch == HPS_LAUNCH_GROUP ? "group" : "leader");
}

/* Where a group's ranks run (plugins, launch: group). */
static void put_gpus(flat *f, const hps_objective_cfg *o)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%d", o->gpus_per_rank);
    put(f, "objective.gpus_per_rank", o->gpus_per_rank < 0 ? "default" : buf);
    put(f, "objective.share_gpus", o->share_gpus ? "true" : "false");
}

/* An in-process objective (plugin, trainer): its path key as written (plugin,
 * dataset), each option and retries. */
static void put_in_process(flat *f, const hps_config *c, const char *path_key,
                           const char *resolved)
{
    const hps_objective_cfg *o = &c->objective;
    char key[HPS_CONFIG_PATH_MAX + 32];
    char buf[48];
    char *written = written_path(c, path_key, resolved, "");
    snprintf(key, sizeof key, "objective.%s", path_key);
    if (written)
        put(f, key, written);
    else
        f->oom = 1;
    free(written);
    for (int i = 0; i < o->n_options; i++) {
        snprintf(key, sizeof key, "objective.options.%s", o->option_keys[i]);
        put(f, key, o->option_values[i]);
    }
    snprintf(buf, sizeof buf, "%d", o->retries);
    put(f, "objective.retries", buf);
}

static void put_param(flat *f, const hps_param *p)
{
    char key[HPS_CONFIG_PATH_MAX + 32];
#define PKEY(suffix) (snprintf(key, sizeof key, "space.%s." suffix, p->name), key)
    put(f, PKEY("type"), hps_config_type_name(p->type));
    if (p->type == HPS_PARAM_FLOAT || p->type == HPS_PARAM_INT) {
        put_number(f, PKEY("low"), p->low);
        put_number(f, PKEY("high"), p->high);
        put(f, PKEY("log"), p->log ? "true" : "false");
        if (p->grid_points > 0)
            put_number(f, PKEY("grid_points"), p->grid_points);
    }
    if (p->type == HPS_PARAM_CATEGORICAL) {
        /* A flow list; strings quoted so the string "0.5" differs from the number 0.5. */
        char *list = join_append(NULL, "[", &f->oom);
        for (int k = 0; k < p->n_choices; k++) {
            const hps_choice *c = &p->choices[k];
            if (k)
                list = join_append(list, ", ", &f->oom);
            if (c->kind == HPS_CHOICE_STRING)
                list = join_append(list, "\"", &f->oom);
            list = join_append(list, c->text, &f->oom);
            if (c->kind == HPS_CHOICE_STRING)
                list = join_append(list, "\"", &f->oom);
        }
        list = join_append(list, "]", &f->oom);
        if (!f->oom)
            put(f, PKEY("choices"), list);
        free(list);
    }
#undef PKEY
}

static void flatten(const hps_config *c, flat *f)
{
    char key[HPS_CONFIG_PATH_MAX + 32];
    char buf[48];
    put(f, "name", c->name ? c->name : "");
    if (c->seed_given) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)c->seed);
        put(f, "seed", buf);
    }
    put(f, "objective.function", c->objective.function ? c->objective.function : "");
    if (c->objective.kind == HPS_OBJ_SLEEP) {
        int i = c->objective.sleep_param;
        if (i >= 0 && i < c->space.n_params)
            put(f, "objective.seconds_param", c->space.params[i].name);
        else
            put_number(f, "objective.seconds", c->objective.sleep_seconds);
    }
    if (c->objective.kind == HPS_OBJ_TESTFUNC)
        put_number(f, "objective.noise", c->objective.noise);
    if (c->objective.kind == HPS_OBJ_COMMAND)
        put_command(f, c);
    if (c->objective.kind == HPS_OBJ_PLUGIN)
        put_in_process(f, c, "plugin", c->objective.plugin);
    if (c->objective.kind == HPS_OBJ_TRAINER) {
        put(f, "objective.trainer", c->objective.trainer ? c->objective.trainer : "");
        put_in_process(f, c, "dataset", c->objective.dataset);
    }
    if (hps_objective_cfg_every_rank(&c->objective))
        put_gpus(f, &c->objective);
    put(f, "metric.name", c->metric ? c->metric : "");
    put(f, "metric.goal", c->maximize ? "maximize" : "minimize");

    char *order = NULL;
    for (int i = 0; i < c->space.n_params; i++) {
        if (i)
            order = join_append(order, ", ", &f->oom);
        order = join_append(order, c->space.params[i].name, &f->oom);
    }
    if (!f->oom)
        put(f, "space", order ? order : "");
    free(order);
    for (int i = 0; i < c->space.n_params; i++)
        put_param(f, &c->space.params[i]);

    put(f, "strategy.name", c->strategy ? c->strategy : "");
    for (int i = 0; i < c->strategy_cfg.n; i++) {
        snprintf(key, sizeof key, "strategy.%s", c->strategy_cfg.keys[i]);
        put(f, key, c->strategy_cfg.values[i]);
    }
    if (c->pruner) {
        put(f, "strategy.pruner", c->pruner);
        for (int i = 0; i < c->pruner_cfg.n; i++) {
            snprintf(key, sizeof key, "strategy.pruner.%s", c->pruner_cfg.keys[i]);
            put(f, key, c->pruner_cfg.values[i]);
        }
    }
    snprintf(buf, sizeof buf, "%d", c->ranks_per_trial);
    put(f, "ranks_per_trial", buf);
    char *sets = NULL;
    for (int i = 0; i < c->n_datasets; i++) {
        if (i)
            sets = join_append(sets, ", ", &f->oom);
        sets = join_append(sets, c->datasets[i], &f->oom);
    }
    if (!f->oom && sets)
        put(f, "datasets", sets);
    free(sets);
    /* A deterministic sweep's parallelism is the P of its rule: it may not change. */
    put(f, "deterministic", c->deterministic ? "true" : "false");
    if (c->deterministic) {
        snprintf(buf, sizeof buf, "%d", c->parallelism);
        put(f, "parallelism", buf);
    }
}

static const char *lookup(const flat *f, const char *key)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->e[i].key, key))
            return f->e[i].value;
    return NULL;
}

/* Append one "key: 'a' -> 'b'" line (NULL value: "(absent)") to buf. */
typedef struct report_buf {
    char *buf;
    size_t len, used;
} report_buf;

static void report(void *ctx, const char *key, const char *a, const char *b)
{
    report_buf *r = ctx;
    if (!r->buf || r->len == 0 || r->used + 1 >= r->len)
        return;
    char qa[16] = "(absent)", qb[16] = "(absent)";
    int n = snprintf(r->buf + r->used, r->len - r->used, "%s: %s%s%s -> %s%s%s\n", key,
                     a ? "'" : "", a ? a : qa, a ? "'" : "", b ? "'" : "", b ? b : qb,
                     b ? "'" : "");
    if (n > 0)
        r->used += (size_t)n < r->len - r->used ? (size_t)n : r->len - r->used - 1;
}

int hps_config_diff_each(const hps_config *recorded, const hps_config *now,
                         void (*each)(void *ctx, const char *key, const char *a, const char *b),
                         void *ctx)
{
    if (!recorded || !now)
        return HPS_EINVAL;
    flat a = {0}, b = {0};
    flatten(recorded, &a);
    flatten(now, &b);
    if (a.oom || b.oom) {
        flat_free(&a);
        flat_free(&b);
        return HPS_ENOMEM;
    }
    int count = 0;
    for (int i = 0; i < a.n; i++) {
        const char *other = lookup(&b, a.e[i].key);
        if (other && !strcmp(other, a.e[i].value))
            continue;
        each(ctx, a.e[i].key, a.e[i].value, other);
        count++;
    }
    for (int i = 0; i < b.n; i++) {
        if (lookup(&a, b.e[i].key))
            continue;
        each(ctx, b.e[i].key, NULL, b.e[i].value);
        count++;
    }
    flat_free(&a);
    flat_free(&b);
    return count;
}

int hps_config_diff(const hps_config *recorded, const hps_config *now, char *buf, size_t len)
{
    report_buf r = {buf, len, 0};
    if (buf && len)
        buf[0] = '\0';
    return hps_config_diff_each(recorded, now, report, &r);
}
