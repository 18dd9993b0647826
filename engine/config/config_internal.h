/*
 * Private seams of the config parser, shared by engine/config.c (the document
 * and the top-level keys), engine/config_space.c (`space:`),
 * engine/config_objective.c (`objective:`), engine/config_command.c (its
 * external-command form), engine/config_strategy.c
 * (`strategy:`) and engine/config_diff.c (hps_config_diff). Not the API.
 */
#ifndef HPS_CONFIG_CONFIG_INTERNAL_H
#define HPS_CONFIG_CONFIG_INTERNAL_H

#include "config.h"
#include "yaml_util.h"

/* Longest dotted path used in messages ("space.<name>.choices"); longer names are
 * cut in messages only. */
#define HPS_CONFIG_PATH_MAX 256

/* Validate the document's root (config.c) into cfg. */
int hps_config_parse_root(hps_yaml_ctx *ctx, const yaml_node_t *root, hps_config *cfg);

/* Parse the `space:` mapping (node non-NULL) into space, which must be zeroed. On
 * failure space holds what was built so far (free it with hps_space_free). */
int hps_config_space_parse(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_space *space);

/* Parse `objective:` (node non-NULL) into cfg->objective; cfg->space must be
 * parsed first (test-function dimensions, seconds_param). */
int hps_config_objective_parse(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg);

/* Free what an objective owns (function name, argv, workdir, env) and zero it. */
void hps_config_objective_free(hps_objective_cfg *obj);

/* The keys of `objective:` that an external command takes, in the order
 * config_objective.c lists them right after function, seconds, seconds_param
 * (retries, gpus_per_rank and share_gpus are also a plugin's). */
enum {
    HPS_CMD_COMMAND,
    HPS_CMD_WORKDIR,
    HPS_CMD_ENV,
    HPS_CMD_TIMEOUT,
    HPS_CMD_RETRIES,
    HPS_CMD_GPUS_PER_TRIAL,
    HPS_CMD_KILL_GRACE,
    HPS_CMD_LAUNCH,
    HPS_CMD_GPUS_PER_RANK,
    HPS_CMD_SHARE_GPUS,
    HPS_CMD_COUNT
};

/* Parse the external-command form of `objective:` (it has `command` and no
 * `function`) into cfg->objective; cfg->source fixes the directory a relative
 * workdir is joined to, cfg->space the valid placeholders. vals[HPS_CMD_*] are
 * the nodes of those keys (NULL when absent). */
int hps_config_command_parse(hps_yaml_ctx *ctx, yaml_node_t *const *vals, hps_config *cfg);

/* Parse the plugin form of `objective:` (it has `plugin`): the library's path
 * (joined to the config file's directory), its `options`, `retries`,
 * `gpus_per_rank` and `share_gpus`. plugin and options are those keys' nodes
 * (options may be NULL), cmd_vals[HPS_CMD_*] the command keys' (a command-only
 * key given is an error). */
int hps_config_plugin_parse(hps_yaml_ctx *ctx, const yaml_node_t *plugin,
                            const yaml_node_t *options, yaml_node_t *const *cmd_vals,
                            hps_config *cfg);

/* Re-runs of an in-process objective's trial (plugin, trainer) during which the job
 * died, when `retries` is absent: one kill of the job does not fail the trials it
 * was running; code that crashes again on the same trial does. */
#define HPS_CONFIG_CRASH_RETRIES 1

/* The error for the first command-only key (workdir, env, timeout, gpus_per_trial,
 * kill_grace, launch) given in cmd_vals with another form of objective, named by
 * form ("objective.plugin"); HPS_OK when there is none. */
int hps_config_refuse_command_keys(hps_yaml_ctx *ctx, yaml_node_t *const *cmd_vals,
                                   const char *form);

/* `objective.options` (map non-NULL): a mapping name -> string, number or boolean,
 * into obj->option_keys/option_values as text, in the order written. */
int hps_config_options_parse(hps_yaml_ctx *ctx, const yaml_node_t *map, hps_objective_cfg *obj);

/* A required, non-empty path at node (reported under path; what says what it names:
 * "a shared library, e.g. build/libm.so"), joined to the config file's directory,
 * into *out (malloc'd). */
int hps_config_get_path(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                        const char *what, const hps_config *cfg, char **out);

/* The keys every in-process objective (plugin, trainer) takes after its own:
 * `options` (options may be NULL), `retries` (default HPS_CONFIG_CRASH_RETRIES),
 * `gpus_per_rank` and `share_gpus`. */
int hps_config_in_process_keys(hps_yaml_ctx *ctx, const yaml_node_t *options,
                               yaml_node_t *const *cmd_vals, hps_objective_cfg *obj);

/* Parse the trainer form of `objective:` (it has `trainer`): the trainer's name (one
 * of hps_trainer_names()), `dataset` (joined to the config file's directory),
 * `options`, `retries`, `gpus_per_rank` and `share_gpus` (config_trainer.c). trainer,
 * dataset and options are those keys' nodes (dataset and options may be NULL; node is
 * the section, for a missing dataset), cmd_vals[HPS_CMD_*] the command keys'. */
int hps_config_trainer_parse(hps_yaml_ctx *ctx, const yaml_node_t *node,
                             const yaml_node_t *trainer, const yaml_node_t *dataset,
                             const yaml_node_t *options, yaml_node_t *const *cmd_vals,
                             hps_config *cfg);

/* What a trainer needs from the strategy, once it is parsed (strategy is its node,
 * NULL for the default): a multi-fidelity strategy's budget is epochs, so its
 * min_resource and max_resource must be whole numbers; max_resource becomes
 * cfg->objective.max_epochs. */
int hps_config_trainer_strategy(hps_yaml_ctx *ctx, const yaml_node_t *strategy,
                                hps_config *cfg);

/* gpus_per_rank and share_gpus (cmd_vals[HPS_CMD_GPUS_PER_RANK], [HPS_CMD_SHARE_GPUS])
 * of an objective that runs on every rank of a group. */
int hps_config_gpus_parse(hps_yaml_ctx *ctx, yaml_node_t *const *cmd_vals,
                          hps_objective_cfg *obj);

/* written (may be NULL: the directory itself) joined to the directory of the
 * config file cfg->source, unless absolute: "a/b/c.yaml" with "x" gives "a/b/x",
 * with NULL "a/b"; a source without '/' counts as ".". malloc'd, NULL when out of
 * memory. */
char *hps_config_resolve(const hps_config *cfg, const char *written);

/* A duration (hps_parse_duration) at node: > 0 when positive, else >= 0; errors
 * are reported under path ("budget.max_time: must be > 0, got 0s"). */
int hps_config_get_duration(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                            int positive, double *out);

/* A string or a number scalar (a number keeps its text) at node, copied into *out;
 * null, booleans, lists and mappings are reported under path ("expected a string
 * or number, got ..."). */
int hps_config_get_text(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, char **out);

/* For a mapping of names to values (objective.env, objective.options) whose fields
 * hps_yaml_map_fields checked: *keys and *values, zeroed arrays of one string per
 * pair for the caller to fill, and *n the pairs; nothing when the mapping is empty;
 * more than 100,000 pairs are reported under path ("objective.env: too many
 * variables (N)", noun "variables"). */
int hps_config_pairs_alloc(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                           const char *noun, char ***keys, char ***values, int *n);

/* An integer from 0 to INT_MAX at node (retries, max_consecutive_failures). */
int hps_config_get_count(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, int *out);

/* Parse `strategy:` (node may be NULL: the default, random) into cfg->strategy,
 * cfg->strategy_ops and cfg->strategy_cfg, and its `pruner` into cfg->pruner,
 * cfg->pruner_ops and cfg->pruner_cfg; a `points` mapping sets
 * cfg->space.params[i].grid_points, so cfg->space must be parsed first. */
int hps_config_strategy_parse(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg);

/* Index every key and list item under root into cfg->marks (config_marks.c), once
 * the document is valid. HPS_OK or HPS_ENOMEM. */
int hps_config_marks_record(hps_yaml_ctx *ctx, const yaml_node_t *root, hps_config *cfg);

/* Free cfg->marks; NULL-safe on the array. */
void hps_config_marks_free(hps_config *cfg);

/* A NULL-terminated array of the space's parameter names (for suggestions); the
 * names are borrowed. NULL when out of memory. Free the array with free(). */
const char **hps_config_param_names(const hps_space *space);

/* The name of a parameter type ("float", "int", "categorical", "bool"). */
const char *hps_config_type_name(hps_param_type type);

#endif
