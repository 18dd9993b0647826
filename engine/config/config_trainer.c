/*
 * The trainer form of `objective:` (config_objective.c hands it over when the
 * section has `trainer`):
 *
 *   trainer         a built-in trainer's name (hps_trainer_names(): "mlp")
 *   dataset         required: the HDF5 dataset's path, joined to the config file's
 *                   directory when relative; no filesystem checks here (engine/cli
 *                   checks the file before a sweep is written)
 *   options         a mapping name -> string, number or boolean: fixed values of
 *                   trainer parameters, as text in the order written
 *   retries         re-runs of a trial during which the job died (default 1, the
 *                   crash rule of in-process objectives)
 *   gpus_per_rank,  as for plugins (config_plugin.c): the trainer runs on every
 *   share_gpus      rank of its trial group
 *
 * A command's own keys are refused, as with a plugin. The names in the space and
 * in options are the trainer's parameters, but the config module does not see the
 * trainer's table: engine/cli checks them (with the positions hps_config_where
 * keeps) before anything is written.
 *
 * After the strategy is parsed, hps_config_trainer_strategy settles the epochs of
 * a multi-fidelity strategy (one whose options include max_resource): its budget is
 * epochs, so min_resource and max_resource must be whole numbers, and max_resource
 * becomes the schedule's horizon (objective.max_epochs).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "hpsweep/error.h"

int hps_config_trainer_parse(hps_yaml_ctx *ctx, const yaml_node_t *node,
                             const yaml_node_t *trainer, const yaml_node_t *dataset,
                             const yaml_node_t *options, yaml_node_t *const *cmd_vals,
                             hps_config *cfg)
{
    hps_objective_cfg *obj = &cfg->objective;
    obj->kind = HPS_OBJ_TRAINER;
    if (!(obj->function = hps_yaml_strdup("trainer")))
        return HPS_ENOMEM;
    int rc = hps_config_refuse_command_keys(ctx, cmd_vals, "objective.trainer");
    if (rc != HPS_OK)
        return rc;
    if ((rc = hps_yaml_get_string(ctx, trainer, "objective.trainer", &obj->trainer)) != HPS_OK)
        return rc;
    const char *const *names = hps_trainer_names();
    int known = 0;
    for (int i = 0; names[i] && !known; i++)
        known = strcmp(names[i], obj->trainer) == 0;
    if (!known) {
        char hint[256];
        hps_yaml_suggest(obj->trainer, names, NULL, "available", hint, sizeof hint);
        return hps_yaml_error(ctx, trainer, "objective.trainer: unknown trainer '%s'%s",
                              obj->trainer, hint);
    }
    if (!dataset)
        return hps_yaml_error(ctx, node, "objective: missing required key 'dataset' (the HDF5 "
                                         "file the trainer learns from, relative to this file; "
                                         "`hpsweep dataset synth -o FILE` makes one)");
    if ((rc = hps_config_get_path(ctx, dataset, "objective.dataset",
                                  "an HDF5 dataset, e.g. data/train.h5", cfg, &obj->dataset)) !=
        HPS_OK)
        return rc;
    return hps_config_in_process_keys(ctx, options, cmd_vals, obj);
}

/* Whether the strategy's options include `name`. */
static int has_option(const hps_strategy_ops *ops, const char *name)
{
    for (const hps_option_spec *o = ops ? ops->options : NULL; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return 1;
    return 0;
}

static int whole_epochs(hps_yaml_ctx *ctx, const yaml_node_t *strategy, const hps_config *cfg,
                        const char *key, double v)
{
    if (v == floor(v) && v >= 1 && v <= 1e15)
        return HPS_OK;
    const yaml_node_t *at = strategy && strategy->type == YAML_MAPPING_NODE
                                ? hps_yaml_map_get(ctx, strategy, key, NULL)
                                : NULL;
    return hps_yaml_error(ctx, at ? at : strategy, "strategy.%s: the trainer's budget is "
                                                   "epochs, a whole number; got %g (strategy %s)",
                          key, v, cfg->strategy);
}

int hps_config_trainer_strategy(hps_yaml_ctx *ctx, const yaml_node_t *strategy,
                                hps_config *cfg)
{
    hps_objective_cfg *obj = &cfg->objective;
    obj->max_epochs = 0;
    if (!has_option(cfg->strategy_ops, "max_resource"))
        return HPS_OK;
    double lo = hps_strategy_cfg_double(&cfg->strategy_cfg, "min_resource",
                                        HPS_MIN_RESOURCE_DEFAULT);
    double hi = hps_strategy_cfg_double(&cfg->strategy_cfg, "max_resource",
                                        HPS_MAX_RESOURCE_DEFAULT);
    int rc = whole_epochs(ctx, strategy, cfg, "min_resource", lo);
    if (rc == HPS_OK)
        rc = whole_epochs(ctx, strategy, cfg, "max_resource", hi);
    if (rc == HPS_OK)
        obj->max_epochs = (int64_t)hi;
    return rc;
}
