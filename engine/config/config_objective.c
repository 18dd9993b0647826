/*
 * The `objective:` section: which function a trial evaluates.
 *
 *   function       a built-in test function (hps_testfunc_find), "sleep" or "noop"
 *   seconds        sleep only: a constant duration >= 0 (default 0.1)
 *   seconds_param  sleep only: a float/int parameter holding the duration
 *   noise          test functions only: a number >= 0 (default 0), the scale of
 *                  the noise that shrinks with the budget (workers/objective.h)
 *   command ...    an external command instead of a function; it and its own
 *                  keys (workdir, env, timeout, retries, gpus_per_trial,
 *                  kill_grace, launch, gpus_per_rank, share_gpus) are parsed by
 *                  config_command.c
 *   plugin ...     a C plugin instead (with options, retries, gpus_per_rank,
 *                  share_gpus): config_plugin.c
 *   trainer ...    a built-in trainer instead (with dataset, options, retries,
 *                  gpus_per_rank, share_gpus): config_trainer.c
 *
 * A test function is evaluated on the parameters in space order, so the space
 * must hold only float/int parameters, as many as the function accepts; the
 * space is therefore parsed before this section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "hpsweep/error.h"

/* Function keys first, then the command keys in HPS_CMD_* order, then noise, the
 * plugin's own keys and the trainer's. */
static const char *const objective_keys[] = {
    "function",   "seconds", "seconds_param", "command",       "workdir",
    "env",        "timeout", "retries",       "gpus_per_trial", "kill_grace",
    "launch",     "gpus_per_rank", "share_gpus", "noise",       "plugin",
    "options",    "trainer", "dataset",       NULL};
enum { O_FUNCTION, O_SECONDS, O_SECONDS_PARAM, O_COMMAND, O_NOISE = O_COMMAND + HPS_CMD_COUNT,
       O_PLUGIN, O_OPTIONS, O_TRAINER, O_DATASET, O_COUNT };

/* The forms of an objective: exactly one of these keys. */
static const int form_keys[] = {O_FUNCTION, O_COMMAND, O_PLUGIN, O_TRAINER};
#define N_FORMS ((int)(sizeof form_keys / sizeof form_keys[0]))
static const char *const builtin_functions[] = {"sleep", "noop", NULL};

#define DEFAULT_SLEEP_SECONDS 0.1

static int param_by_name(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path,
                         const hps_space *space, const char *name, int *index)
{
    *index = hps_space_find(space, name);
    if (*index >= 0)
        return HPS_OK;
    const char **names = hps_config_param_names(space);
    if (!names)
        return HPS_ENOMEM;
    char hint[512];
    hps_yaml_suggest(name, names, NULL, "parameters", hint, sizeof hint);
    free(names);
    return hps_yaml_error(ctx, node, "%s: '%s' is not a parameter%s", path, name, hint);
}

static int check_testfunc(hps_yaml_ctx *ctx, const yaml_node_t *fnode, const hps_config *cfg)
{
    const hps_testfunc *tf = cfg->objective.testfunc;
    const hps_space *sp = &cfg->space;
    for (int i = 0; i < sp->n_params; i++) {
        if (sp->params[i].type != HPS_PARAM_FLOAT && sp->params[i].type != HPS_PARAM_INT)
            return hps_yaml_error(ctx, fnode, "objective.function: test function '%s' takes float "
                                              "and int parameters only, but '%s' is %s",
                                  tf->name, sp->params[i].name,
                                  hps_config_type_name(sp->params[i].type));
    }
    int d = sp->n_params;
    if (d >= tf->min_dim && (tf->max_dim == 0 || d <= tf->max_dim))
        return HPS_OK;
    char want[64];
    if (tf->max_dim == tf->min_dim)
        snprintf(want, sizeof want, "exactly %d", tf->min_dim);
    else if (tf->max_dim == 0)
        snprintf(want, sizeof want, "at least %d", tf->min_dim);
    else
        snprintf(want, sizeof want, "between %d and %d", tf->min_dim, tf->max_dim);
    return hps_yaml_error(ctx, fnode, "objective.function: test function '%s' takes %s "
                                      "parameters, the space has %d",
                          tf->name, want, d);
}

static const char *testfunc_at(const void *ctx, size_t i)
{
    (void)ctx;
    const hps_testfunc *const *all = hps_testfunc_list();
    return all && all[i] ? all[i]->name : NULL;
}

static int find_function(hps_yaml_ctx *ctx, const yaml_node_t *fnode, hps_objective_cfg *obj)
{
    const char *name = obj->function;
    if (!strcmp(name, "sleep")) {
        obj->kind = HPS_OBJ_SLEEP;
        return HPS_OK;
    }
    if (!strcmp(name, "noop")) {
        obj->kind = HPS_OBJ_NOOP;
        return HPS_OK;
    }
    obj->kind = HPS_OBJ_TESTFUNC;
    if ((obj->testfunc = hps_testfunc_find(name)))
        return HPS_OK;
    const char **names = hps_yaml_names(testfunc_at, NULL);
    if (!names)
        return HPS_ENOMEM;
    char hint[1024];
    hps_yaml_suggest(name, names, builtin_functions, "available", hint, sizeof hint);
    free(names);
    return hps_yaml_error(ctx, fnode, "objective.function: unknown function '%s'%s", name, hint);
}

void hps_config_objective_free(hps_objective_cfg *obj)
{
    if (!obj)
        return;
    free(obj->function);
    for (int i = 0; obj->argv && i < obj->argc; i++)
        free(obj->argv[i]);
    free(obj->argv);
    free(obj->workdir);
    for (int i = 0; i < obj->n_env; i++) {
        free(obj->env_keys ? obj->env_keys[i] : NULL);
        free(obj->env_values ? obj->env_values[i] : NULL);
    }
    free(obj->env_keys);
    free(obj->env_values);
    free(obj->plugin);
    for (int i = 0; i < obj->n_options; i++) {
        free(obj->option_keys ? obj->option_keys[i] : NULL);
        free(obj->option_values ? obj->option_values[i] : NULL);
    }
    free(obj->option_keys);
    free(obj->option_values);
    free(obj->trainer);
    free(obj->dataset);
    memset(obj, 0, sizeof *obj);
}

int hps_config_objective_parse(hps_yaml_ctx *ctx, const yaml_node_t *node, hps_config *cfg)
{
    yaml_node_t *v[O_COUNT + 1];
    int rc = hps_yaml_map_fields(ctx, node, "objective", NULL, objective_keys, v);
    if (rc != HPS_OK)
        return rc;
    hps_objective_cfg *obj = &cfg->objective;
    obj->sleep_param = -1;
    obj->gpus_per_rank = -1;
    /* Two forms: the message names them all, at the second one written. */
    const yaml_node_t *first = NULL, *second = NULL;
    for (int f = 0; f < N_FORMS; f++) {
        const yaml_node_t *n = v[form_keys[f]];
        if (!n)
            continue;
        if (!first || n->start_mark.index < first->start_mark.index) {
            second = first;
            first = n;
        } else if (!second || n->start_mark.index < second->start_mark.index) {
            second = n;
        }
    }
    if (second && (v[O_PLUGIN] || v[O_TRAINER]))
        return hps_yaml_error(ctx, second, "objective: give one of function (a built-in), "
                                           "command (an external program), plugin (a C "
                                           "shared library) or trainer (the built-in trainer)");
    if (!v[O_PLUGIN] && !v[O_TRAINER] && v[O_OPTIONS])
        return hps_yaml_error(ctx, v[O_OPTIONS], "objective.options: only for objective.plugin "
                                                 "(a C shared library) or objective.trainer%s",
                              v[O_COMMAND] ? "; pass a command's settings as arguments or env"
                                           : "");
    if (!v[O_TRAINER] && v[O_DATASET])
        return hps_yaml_error(ctx, v[O_DATASET], "objective.dataset: only for "
                                                 "objective.trainer (the built-in trainer)%s",
                              v[O_PLUGIN] ? "; give a plugin its data in options" : "");
    if (v[O_PLUGIN] || v[O_TRAINER]) {
        const char *form = v[O_PLUGIN] ? "objective.plugin" : "objective.trainer";
        for (int i = O_SECONDS; i <= O_SECONDS_PARAM; i++)
            if (v[i])
                return hps_yaml_error(ctx, v[i], "objective.%s: only valid with function: sleep, "
                                                 "not with %s",
                                      objective_keys[i], form);
        if (v[O_NOISE])
            return hps_yaml_error(ctx, v[O_NOISE], "objective.noise: only for test functions, "
                                                   "not with %s", form);
        if (v[O_TRAINER])
            return hps_config_trainer_parse(ctx, node, v[O_TRAINER], v[O_DATASET],
                                            v[O_OPTIONS], v + O_COMMAND, cfg);
        return hps_config_plugin_parse(ctx, v[O_PLUGIN], v[O_OPTIONS], v + O_COMMAND, cfg);
    }
    if (v[O_FUNCTION] && v[O_COMMAND]) {
        const yaml_node_t *later =
            v[O_COMMAND]->start_mark.index > v[O_FUNCTION]->start_mark.index ? v[O_COMMAND]
                                                                             : v[O_FUNCTION];
        return hps_yaml_error(ctx, later, "objective: give either function (a built-in) or "
                                          "command (an external program), not both");
    }
    if (v[O_COMMAND]) {
        for (int i = O_SECONDS; i <= O_SECONDS_PARAM; i++)
            if (v[i])
                return hps_yaml_error(ctx, v[i], "objective.%s: only valid with function: sleep, "
                                                 "not with objective.command",
                                      objective_keys[i]);
        if (v[O_NOISE])
            return hps_yaml_error(ctx, v[O_NOISE], "objective.noise: only for test functions, "
                                                   "not with objective.command (add noise in "
                                                   "the program itself)");
        return hps_config_command_parse(ctx, v + O_COMMAND, cfg);
    }
    if (!v[O_FUNCTION])
        return hps_yaml_error(ctx, node, "objective: missing required key 'function', "
                                         "'command', 'plugin' or 'trainer'");
    for (int i = O_COMMAND + 1; i < O_NOISE; i++)
        if (v[i])
            return hps_yaml_error(ctx, v[i], "objective.%s: only for objective.command (an "
                                             "external program), not with objective.function",
                                  objective_keys[i]);
    if ((rc = hps_yaml_get_string(ctx, v[O_FUNCTION], "objective.function", &obj->function)) !=
        HPS_OK)
        return rc;
    if ((rc = find_function(ctx, v[O_FUNCTION], obj)) != HPS_OK)
        return rc;
    if (obj->kind != HPS_OBJ_SLEEP) {
        for (int i = O_SECONDS; i <= O_SECONDS_PARAM; i++)
            if (v[i])
                return hps_yaml_error(ctx, v[i], "objective.%s: only valid with function: sleep",
                                      objective_keys[i]);
    }
    if (v[O_NOISE] && obj->kind != HPS_OBJ_TESTFUNC)
        return hps_yaml_error(ctx, v[O_NOISE], "objective.noise: only for test functions, not "
                                               "with function: %s", obj->function);
    if (obj->kind == HPS_OBJ_TESTFUNC) {
        if ((rc = check_testfunc(ctx, v[O_FUNCTION], cfg)) != HPS_OK)
            return rc;
        if (v[O_NOISE] &&
            (rc = hps_yaml_get_number(ctx, v[O_NOISE], "objective.noise", &obj->noise)) != HPS_OK)
            return rc;
        if (obj->noise < 0)
            return hps_yaml_error(ctx, v[O_NOISE], "objective.noise: must be >= 0, got %s",
                                  hps_yaml_text(v[O_NOISE]));
        return HPS_OK;
    }
    if (obj->kind != HPS_OBJ_SLEEP)
        return HPS_OK;
    obj->sleep_seconds = DEFAULT_SLEEP_SECONDS;
    if (v[O_SECONDS] && v[O_SECONDS_PARAM])
        return hps_yaml_error(ctx, v[O_SECONDS_PARAM],
                              "objective: give either seconds or seconds_param, not both");
    if (v[O_SECONDS]) {
        if ((rc = hps_yaml_get_number(ctx, v[O_SECONDS], "objective.seconds",
                                      &obj->sleep_seconds)) != HPS_OK)
            return rc;
        if (obj->sleep_seconds < 0)
            return hps_yaml_error(ctx, v[O_SECONDS], "objective.seconds: must be >= 0, got %s",
                                  hps_yaml_text(v[O_SECONDS]));
    }
    if (v[O_SECONDS_PARAM]) {
        char *pname = NULL;
        if ((rc = hps_yaml_get_string(ctx, v[O_SECONDS_PARAM], "objective.seconds_param",
                                      &pname)) != HPS_OK)
            return rc;
        rc = param_by_name(ctx, v[O_SECONDS_PARAM], "objective.seconds_param", &cfg->space, pname,
                           &obj->sleep_param);
        free(pname);
        if (rc != HPS_OK)
            return rc;
        const hps_param *p = &cfg->space.params[obj->sleep_param];
        if (p->type != HPS_PARAM_FLOAT && p->type != HPS_PARAM_INT)
            return hps_yaml_error(ctx, v[O_SECONDS_PARAM], "objective.seconds_param: '%s' is %s; "
                                                           "the duration must be a float or int "
                                                           "parameter",
                                  p->name, hps_config_type_name(p->type));
    }
    return HPS_OK;
}
