/*
 * The external-command form of `objective:` (config_objective.c hands it over
 * when the section has `command`):
 *
 *   command         a non-empty list of strings or numbers: the argv, run without
 *                   a shell. "{name}" names a parameter or one of trial_id, seed,
 *                   budget, trial_dir; "{{" and "}}" are literal braces.
 *   workdir         joined to the config file's directory when relative
 *                   (default: that directory); no filesystem checks here
 *   env             a mapping NAME -> string or number, in the order written;
 *                   HPSWEEP_* names are reserved for the variables hpsweep sets
 *   timeout         a duration > 0 per attempt (default: none)
 *   retries         extra attempts after a crash or timeout (default 0)
 *   gpus_per_trial  launch: leader only: GPUs of the command (default 0)
 *   kill_grace      a duration >= 0 from SIGTERM to SIGKILL (default 10 s)
 *   launch          leader (default: the group's leader runs the command) or
 *                   group (every rank of the group runs it, torchrun-style)
 *   gpus_per_rank,  launch: group only (config_plugin.c parses them): GPUs per
 *   share_gpus      rank, and whether ranks may share a GPU
 *
 * The templates are only validated here; the worker substitutes them. Because
 * {seed} and friends share a namespace with the parameters, a parameter named
 * like a built-in placeholder is rejected when the objective is a command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "core/envname.h"
#include "hpsweep/error.h"

static const char *const builtin_placeholders[] = {"trial_id", "seed", "budget", "trial_dir",
                                                   NULL};

#define DEFAULT_KILL_GRACE 10.0
#define RESERVED_ENV_PREFIX "HPSWEEP_"

/* Longest placeholder name quoted in a message. */
#define PLACEHOLDER_SHOWN 64

/* A parameter named like a built-in placeholder would make "{seed}" ambiguous.
 * The message points at the parameter's key under `space:`. */
static int check_param_names(hps_yaml_ctx *ctx, const hps_space *space)
{
    for (int i = 0; i < space->n_params; i++) {
        const char *name = space->params[i].name;
        for (int b = 0; builtin_placeholders[b]; b++) {
            if (strcmp(name, builtin_placeholders[b]) != 0)
                continue;
            const yaml_node_t *root = yaml_document_get_root_node(ctx->doc);
            yaml_node_t *key = NULL;
            hps_yaml_map_get(ctx, hps_yaml_map_get(ctx, root, "space", NULL), name, &key);
            return hps_yaml_error(ctx, key, "space.%s: parameter name '%s' clashes with the {%s} "
                                            "placeholder of objective.command; rename the "
                                            "parameter",
                                  name, name, name);
        }
    }
    /* Each parameter reaches the command as HPSWEEP_PARAM_<NAME>: two that map to
     * one variable would lose a value silently. */
    char why[512];
    int rc = hps_env_names_check(space, 0, 0, why, sizeof why);
    if (rc == HPS_EINVAL) {
        const yaml_node_t *root = yaml_document_get_root_node(ctx->doc);
        return hps_yaml_error(ctx, hps_yaml_map_get(ctx, root, "space", NULL),
                              "space: %s, which an external command gets as "
                              "HPSWEEP_PARAM_<NAME>; rename one of them", why);
    }
    return rc;
}

/* The placeholder name between text[start] and text[end] (exclusive) is a
 * parameter or a built-in; else report it with a suggestion. */
static int check_placeholder(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                             const hps_space *space, const char *text, size_t start, size_t end)
{
    size_t n = end - start;
    if (n == 0)
        return hps_yaml_error(ctx, node, "%s: empty placeholder '{}' in '%s'; write '{{}}' for "
                                         "literal braces",
                              path, text);
    char name[PLACEHOLDER_SHOWN + 1];
    int shown = n > PLACEHOLDER_SHOWN ? PLACEHOLDER_SHOWN : (int)n;
    memcpy(name, text + start, (size_t)shown);
    name[shown] = '\0';
    if (n <= PLACEHOLDER_SHOWN) {
        if (hps_space_find(space, name) >= 0)
            return HPS_OK;
        for (int b = 0; builtin_placeholders[b]; b++)
            if (!strcmp(name, builtin_placeholders[b]))
                return HPS_OK;
    } else {
        /* Longer than any name we show: compare in place. */
        for (int i = 0; i < space->n_params; i++) {
            const char *p = space->params[i].name;
            if (strlen(p) == n && !memcmp(p, text + start, n))
                return HPS_OK;
        }
    }
    const char **names = hps_config_param_names(space);
    if (!names)
        return HPS_ENOMEM;
    char hint[1024];
    hps_yaml_suggest(name, names, builtin_placeholders, "valid placeholders", hint, sizeof hint);
    free(names);
    return hps_yaml_error(ctx, node, "%s: unknown placeholder '{%s%s}'%s", path, name,
                          n > PLACEHOLDER_SHOWN ? "..." : "", hint);
}

/* Validate the template syntax of one argv element: "{{", "}}", "{name}". */
static int check_template(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                          const hps_space *space, const char *text)
{
    for (size_t i = 0; text[i]; i++) {
        if (text[i] == '}') {
            if (text[i + 1] != '}')
                return hps_yaml_error(ctx, node, "%s: lone '}' in '%s'; write '}}' for a literal "
                                                 "brace",
                                      path, text);
            i++;
            continue;
        }
        if (text[i] != '{')
            continue;
        if (text[i + 1] == '{') {
            i++;
            continue;
        }
        size_t end = i + 1;
        while (text[end] && text[end] != '}' && text[end] != '{')
            end++;
        if (text[end] != '}')
            return hps_yaml_error(ctx, node, "%s: unclosed '{' in '%s'; write '{name}' for a "
                                             "placeholder or '{{' for a literal brace",
                                  path, text);
        int rc = check_placeholder(ctx, node, path, space, text, i + 1, end);
        if (rc != HPS_OK)
            return rc;
        i = end;
    }
    return HPS_OK;
}

static int parse_argv(hps_yaml_ctx *ctx, const yaml_node_t *list, hps_config *cfg)
{
    hps_objective_cfg *obj = &cfg->objective;
    if (list->type != YAML_SEQUENCE_NODE) {
        char got[96];
        hps_yaml_describe(list, got, sizeof got);
        return hps_yaml_error(ctx, list, "objective.command: expected a list (the program and its "
                                         "arguments, run without a shell, e.g. [python3, train.py, "
                                         "--lr, \"{lr}\"]), got %s",
                              got);
    }
    const yaml_node_item_t *start = list->data.sequence.items.start;
    size_t n = (size_t)(list->data.sequence.items.top - start);
    if (n == 0)
        return hps_yaml_error(ctx, list, "objective.command: empty list; give the program and its "
                                         "arguments, e.g. [python3, train.py]");
    if (n > 100000)
        return hps_yaml_error(ctx, list, "objective.command: too many arguments (%zu)", n);
    obj->argv = calloc(n + 1, sizeof *obj->argv); /* NULL-terminated, as exec wants */
    if (!obj->argv)
        return HPS_ENOMEM;
    obj->argc = (int)n;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = hps_yaml_node(ctx, start[i]);
        char path[48];
        snprintf(path, sizeof path, "objective.command[%zu]", i);
        int rc = hps_config_get_text(ctx, item, path, &obj->argv[i]);
        if (rc != HPS_OK)
            return rc;
        if (i == 0 && !obj->argv[0][0])
            return hps_yaml_error(ctx, item, "%s: the program must not be empty", path);
        if ((rc = check_template(ctx, item, path, &cfg->space, obj->argv[i])) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

char *hps_config_resolve(const hps_config *cfg, const char *written)
{
    if (written && written[0] == '/')
        return hps_yaml_strdup(written);
    const char *src = cfg->source;
    const char *slash = strrchr(src, '/');
    size_t dlen = !slash ? 1 : slash == src ? 1 : (size_t)(slash - src);
    const char *dir = slash ? src : ".";
    size_t wlen = written ? strlen(written) : 0;
    char *out = malloc(dlen + 1 + wlen + 1);
    if (!out)
        return NULL;
    memcpy(out, dir, dlen);
    out[dlen] = '\0';
    if (written) {
        if (out[dlen - 1] != '/')
            strcat(out, "/");
        strcat(out, written);
    }
    return out;
}

/* workdir resolved against the directory of cfg->source: "a/b/c.yaml" with "."
 * gives "a/b/.", with no workdir "a/b"; a source without '/' counts as ".". */
static int resolve_workdir(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    char *written = NULL;
    if (node) {
        int rc = hps_yaml_get_string(ctx, node, "objective.workdir", &written);
        if (rc != HPS_OK)
            return rc;
        if (!*written) {
            free(written);
            return hps_yaml_error(ctx, node, "objective.workdir: must not be empty (leave it out "
                                             "for the config file's directory)");
        }
    }
    cfg->objective.workdir = hps_config_resolve(cfg, written);
    free(written);
    return cfg->objective.workdir ? HPS_OK : HPS_ENOMEM;
}

static const char *const launch_names[] = {"leader", "group", NULL};

/* `launch`: leader (default) or group; then the GPU keys that go with it. */
static int parse_launch(hps_yaml_ctx *ctx, yaml_node_t *const *vals, hps_objective_cfg *obj)
{
    const yaml_node_t *node = vals[HPS_CMD_LAUNCH];
    obj->gpus_per_rank = -1;
    if (node) {
        char *name = NULL;
        int rc = hps_yaml_get_string(ctx, node, "objective.launch", &name);
        if (rc != HPS_OK)
            return rc;
        if (!strcmp(name, "leader") || !strcmp(name, "group")) {
            obj->launch = name[0] == 'g' ? HPS_LAUNCH_GROUP : HPS_LAUNCH_LEADER;
            free(name);
        } else {
            char hint[256];
            hps_yaml_suggest(name, launch_names, NULL, "valid values", hint, sizeof hint);
            rc = hps_yaml_error(ctx, node, "objective.launch: unknown value '%s'%s", name, hint);
            free(name);
            return rc;
        }
    }
    if (obj->launch == HPS_LAUNCH_GROUP) {
        if (vals[HPS_CMD_GPUS_PER_TRIAL])
            return hps_yaml_error(ctx, vals[HPS_CMD_GPUS_PER_TRIAL],
                                  "objective.gpus_per_trial: with launch: group every rank gets "
                                  "its own GPUs; use gpus_per_rank (a trial then has "
                                  "gpus_per_rank x ranks_per_trial)");
        return hps_config_gpus_parse(ctx, vals, obj);
    }
    for (int k = HPS_CMD_GPUS_PER_RANK; k <= HPS_CMD_SHARE_GPUS; k++)
        if (vals[k])
            return hps_yaml_error(ctx, vals[k], "objective.%s: only with launch: group (a command "
                                                "on every rank of the group); with launch: leader "
                                                "use gpus_per_trial",
                                  k == HPS_CMD_GPUS_PER_RANK ? "gpus_per_rank" : "share_gpus");
    return HPS_OK;
}

static int valid_env_name(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int parse_env(hps_yaml_ctx *ctx, const yaml_node_t *map, hps_objective_cfg *obj)
{
    int rc = hps_yaml_map_fields(ctx, map, "objective.env", NULL, NULL, NULL);
    if (rc != HPS_OK)
        return rc;
    if ((rc = hps_config_pairs_alloc(ctx, map, "objective.env", "variables", &obj->env_keys,
                                     &obj->env_values, &obj->n_env)) != HPS_OK)
        return rc;
    const yaml_node_pair_t *start = map->data.mapping.pairs.start;
    for (int i = 0; i < obj->n_env; i++) {
        const yaml_node_t *k = hps_yaml_node(ctx, start[i].key);
        const yaml_node_t *v = hps_yaml_node(ctx, start[i].value);
        const char *name = hps_yaml_text(k); /* map_fields checked: a scalar without NUL */
        if (!valid_env_name(name))
            return hps_yaml_error(ctx, k, "objective.env: '%s' is not a valid environment "
                                          "variable name (letters, digits and '_', not starting "
                                          "with a digit)",
                                  name);
        if (!strncmp(name, RESERVED_ENV_PREFIX, strlen(RESERVED_ENV_PREFIX)))
            return hps_yaml_error(ctx, k, "objective.env.%s: names starting with %s are reserved "
                                          "for the variables hpsweep sets",
                                  name, RESERVED_ENV_PREFIX);
        if (!(obj->env_keys[i] = hps_yaml_strdup(name)))
            return HPS_ENOMEM;
        char path[HPS_CONFIG_PATH_MAX];
        snprintf(path, sizeof path, "objective.env.%s", name);
        if ((rc = hps_config_get_text(ctx, v, path, &obj->env_values[i])) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

int hps_config_command_parse(hps_yaml_ctx *ctx, yaml_node_t *const *vals, hps_config *cfg)
{
    hps_objective_cfg *obj = &cfg->objective;
    obj->kind = HPS_OBJ_COMMAND;
    obj->kill_grace = DEFAULT_KILL_GRACE;
    if (!(obj->function = hps_yaml_strdup("command")))
        return HPS_ENOMEM;
    int rc;
    if ((rc = check_param_names(ctx, &cfg->space)) != HPS_OK ||
        (rc = parse_argv(ctx, vals[HPS_CMD_COMMAND], cfg)) != HPS_OK ||
        (rc = resolve_workdir(ctx, vals[HPS_CMD_WORKDIR], cfg)) != HPS_OK ||
        (rc = parse_launch(ctx, vals, obj)) != HPS_OK)
        return rc;
    if (vals[HPS_CMD_ENV] && (rc = parse_env(ctx, vals[HPS_CMD_ENV], obj)) != HPS_OK)
        return rc;
    if (vals[HPS_CMD_TIMEOUT] && (rc = hps_config_get_duration(ctx, vals[HPS_CMD_TIMEOUT],
                                                               "objective.timeout", 1,
                                                               &obj->timeout)) != HPS_OK)
        return rc;
    if (vals[HPS_CMD_RETRIES] && (rc = hps_config_get_count(ctx, vals[HPS_CMD_RETRIES],
                                                            "objective.retries",
                                                            &obj->retries)) != HPS_OK)
        return rc;
    if (vals[HPS_CMD_GPUS_PER_TRIAL] &&
        (rc = hps_config_get_count(ctx, vals[HPS_CMD_GPUS_PER_TRIAL], "objective.gpus_per_trial",
                                   &obj->gpus_per_trial)) != HPS_OK)
        return rc;
    if (vals[HPS_CMD_KILL_GRACE] && (rc = hps_config_get_duration(ctx, vals[HPS_CMD_KILL_GRACE],
                                                                  "objective.kill_grace", 0,
                                                                  &obj->kill_grace)) != HPS_OK)
        return rc;
    return HPS_OK;
}
