/*
 * The plugin form of `objective:` (config_objective.c hands it over when the
 * section has `plugin`), and the GPU keys of every objective that runs on all
 * ranks of a trial group:
 *
 *   plugin          path of a shared library exporting the objective API's ops
 *                   table (include/hpsweep/objective.h), joined to the config
 *                   file's directory when relative; no filesystem checks here
 *                   (every rank loads it at start, and all agree before the sweep)
 *   options         a mapping name -> string, number or boolean, handed to the
 *                   plugin's init() as text in the order written
 *   retries         re-runs of a trial during which the job died (default 1;
 *                   see the README's crash rule)
 *   gpus_per_rank   GPUs per rank (default: 1 on a node with GPUs, else 0)
 *   share_gpus      true: ranks may share a GPU when the node has too few (a
 *                   warning); false (default): too few GPUs is an error
 *
 * A command's own keys (workdir, env, timeout, gpus_per_trial, kill_grace,
 * launch) are rejected with a plugin (and with a trainer, config_trainer.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "hpsweep/error.h"


static const char *const command_only[HPS_CMD_COUNT] = {
    [HPS_CMD_WORKDIR] = "workdir",   [HPS_CMD_ENV] = "env",
    [HPS_CMD_TIMEOUT] = "timeout",   [HPS_CMD_GPUS_PER_TRIAL] = "gpus_per_trial",
    [HPS_CMD_KILL_GRACE] = "kill_grace", [HPS_CMD_LAUNCH] = "launch",
};

int hps_config_gpus_parse(hps_yaml_ctx *ctx, yaml_node_t *const *cmd_vals,
                          hps_objective_cfg *obj)
{
    obj->gpus_per_rank = -1;
    int rc;
    if (cmd_vals[HPS_CMD_GPUS_PER_RANK] &&
        (rc = hps_config_get_count(ctx, cmd_vals[HPS_CMD_GPUS_PER_RANK],
                                   "objective.gpus_per_rank", &obj->gpus_per_rank)) != HPS_OK)
        return rc;
    if (cmd_vals[HPS_CMD_SHARE_GPUS] &&
        (rc = hps_yaml_get_bool(ctx, cmd_vals[HPS_CMD_SHARE_GPUS], "objective.share_gpus",
                                &obj->share_gpus)) != HPS_OK)
        return rc;
    return HPS_OK;
}

int hps_config_refuse_command_keys(hps_yaml_ctx *ctx, yaml_node_t *const *cmd_vals,
                                   const char *form)
{
    for (int k = 0; k < HPS_CMD_COUNT; k++)
        if (command_only[k] && cmd_vals[k])
            return hps_yaml_error(ctx, cmd_vals[k], "objective.%s: only for objective.command "
                                                    "(an external program), not with %s",
                                  command_only[k], form);
    return HPS_OK;
}

int hps_config_options_parse(hps_yaml_ctx *ctx, const yaml_node_t *map, hps_objective_cfg *obj)
{
    int rc = hps_yaml_expect_mapping(ctx, map, "objective.options");
    if (rc != HPS_OK || (rc = hps_yaml_map_fields(ctx, map, "objective.options", NULL, NULL,
                                                  NULL)) != HPS_OK)
        return rc;
    if ((rc = hps_config_pairs_alloc(ctx, map, "objective.options", "options", &obj->option_keys,
                                     &obj->option_values, &obj->n_options)) != HPS_OK)
        return rc;
    const yaml_node_pair_t *start = map->data.mapping.pairs.start;
    for (int i = 0; i < obj->n_options; i++) {
        const yaml_node_t *k = hps_yaml_node(ctx, start[i].key);
        const yaml_node_t *v = hps_yaml_node(ctx, start[i].value);
        const char *name = hps_yaml_text(k); /* map_fields checked: a non-empty scalar */
        if (!(obj->option_keys[i] = hps_yaml_strdup(name)))
            return HPS_ENOMEM;
        char path[HPS_CONFIG_PATH_MAX];
        snprintf(path, sizeof path, "objective.options.%s", name);
        if (v && v->type == YAML_SCALAR_NODE && hps_yaml_scalar_kind(v) == HPS_YAML_BOOL) {
            int b = 0;
            if ((rc = hps_yaml_get_bool(ctx, v, path, &b)) != HPS_OK)
                return rc;
            obj->option_values[i] = hps_yaml_strdup(b ? "true" : "false");
            if (!obj->option_values[i])
                return HPS_ENOMEM;
            continue;
        }
        if (!v || v->type != YAML_SCALAR_NODE || hps_yaml_scalar_kind(v) == HPS_YAML_NULL) {
            char got[96];
            hps_yaml_describe(v, got, sizeof got);
            return hps_yaml_error(ctx, v, "%s: expected a string, number or boolean, got %s",
                                  path, got);
        }
        if ((rc = hps_yaml_get_string(ctx, v, path, &obj->option_values[i])) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

int hps_config_get_path(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                        const char *what, const hps_config *cfg, char **out)
{
    char *written = NULL;
    int rc = hps_yaml_get_string(ctx, node, path, &written);
    if (rc != HPS_OK)
        return rc;
    if (!*written) {
        free(written);
        return hps_yaml_error(ctx, node, "%s: must not be empty (the path of %s)", path, what);
    }
    *out = hps_config_resolve(cfg, written);
    free(written);
    return *out ? HPS_OK : HPS_ENOMEM;
}

int hps_config_in_process_keys(hps_yaml_ctx *ctx, const yaml_node_t *options,
                               yaml_node_t *const *cmd_vals, hps_objective_cfg *obj)
{
    int rc;
    obj->retries = HPS_CONFIG_CRASH_RETRIES;
    if (options && (rc = hps_config_options_parse(ctx, options, obj)) != HPS_OK)
        return rc;
    if (cmd_vals[HPS_CMD_RETRIES] &&
        (rc = hps_config_get_count(ctx, cmd_vals[HPS_CMD_RETRIES], "objective.retries",
                                   &obj->retries)) != HPS_OK)
        return rc;
    return hps_config_gpus_parse(ctx, cmd_vals, obj);
}

int hps_config_plugin_parse(hps_yaml_ctx *ctx, const yaml_node_t *plugin,
                            const yaml_node_t *options, yaml_node_t *const *cmd_vals,
                            hps_config *cfg)
{
    hps_objective_cfg *obj = &cfg->objective;
    obj->kind = HPS_OBJ_PLUGIN;
    if (!(obj->function = hps_yaml_strdup("plugin")))
        return HPS_ENOMEM;
    int rc = hps_config_refuse_command_keys(ctx, cmd_vals, "objective.plugin");
    if (rc == HPS_OK)
        rc = hps_config_get_path(ctx, plugin, "objective.plugin",
                                 "a shared library, e.g. build/libmymodel.so", cfg, &obj->plugin);
    if (rc == HPS_OK)
        rc = hps_config_in_process_keys(ctx, options, cmd_vals, obj);
    return rc;
}
