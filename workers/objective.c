/*
 * Objective instances and the table of built-in objectives (see objective.h);
 * plugins are loaded by plugin.c.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devcomm.h"
#include "hpsweep/error.h"
#include "objective.h"

const hps_objective_ops *hps_objective_builtin(const hps_objective_cfg *cfg)
{
    switch (cfg->kind) {
    case HPS_OBJ_TESTFUNC:
        return &hps_objective_testfunc;
    case HPS_OBJ_SLEEP:
        return &hps_objective_sleep;
    case HPS_OBJ_NOOP:
        return &hps_objective_noop;
    case HPS_OBJ_COMMAND:
        return cfg->launch == HPS_LAUNCH_GROUP ? &hps_objective_command_group
                                               : &hps_objective_command;
    case HPS_OBJ_PLUGIN:
        return NULL; /* loaded by hps_objective_open */
    case HPS_OBJ_TRAINER:
        return &hps_objective_trainer;
    }
    return NULL;
}

int hps_objective_open(hps_objective *o, const hps_objective_cfg *cfg, const hps_space *space,
                       const char *metric, const hps_objective_runtime *rt, char *err,
                       size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->space = space;
    o->metric = metric;
    o->rt = *rt;
    o->builtin = (hps_builtin_env){.cfg = cfg, .space = space, .rt = &o->rt};
    o->ctx.obj = o;
    int plugin = cfg->kind == HPS_OBJ_PLUGIN;
    /* Code that runs inside this process (a plugin, the trainer): a crash takes the
     * job down, so its runs are counted (the crash rule), and it gets its options and
     * its rank's device. */
    int in_process = plugin || cfg->kind == HPS_OBJ_TRAINER;
    int rc;
    if (in_process) {
        o->count_crashes = 1;
        o->crash_retries = cfg->retries;
    }
    if (plugin) {
        if ((rc = hps_plugin_load(cfg->plugin, &o->dl, &o->ops, err, errlen)) != HPS_OK)
            return rc;
    } else if (!(o->ops = hps_objective_builtin(cfg))) {
        snprintf(err, errlen, "unknown objective kind %d", (int)cfg->kind);
        return HPS_EINVAL;
    } else if (o->ops->version != HPS_OBJECTIVE_VERSION) {
        snprintf(err, errlen, "objective '%s' has API version %d, this hpsweep speaks %d",
                 o->ops->name, o->ops->version, HPS_OBJECTIVE_VERSION);
        o->ops = NULL;
        return HPS_EVERSION;
    }
    int device = rt->group ? rt->group->device : -1;
    if (!(o->ops->flags & HPS_OBJECTIVE_GROUP) && rt->group && rt->group->size > 1 &&
        rt->group_rank == 0) {
        /* Trials run on the leader alone: to them the group is the leader. */
        hps_group_init_solo(&o->solo, device);
        o->rt.group = &o->solo;
        o->rt.group_size = 1;
    }
    if (in_process && o->rt.group)
        hps_devcomm_bind(o->rt.group); /* in-process code: its device is current from init() on */
    hps_objective_env env = {.config_dir = rt->config_dir, .sweep_dir = rt->sweep_dir,
                             .metric = metric, .group_rank = o->rt.group_rank,
                             .group_size = o->rt.group_size, .device = device,
                             .internal = plugin ? NULL : &o->builtin};
    if (in_process) {
        env.n_options = cfg->n_options;
        env.option_keys = (const char *const *)cfg->option_keys;
        env.option_values = (const char *const *)cfg->option_values;
    }
    if (!o->ops->init)
        return HPS_OK;
    char ierr[512] = "";
    rc = o->ops->init(&env, &o->state, ierr, sizeof ierr);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "objective '%s': init failed: %s",
                 o->ops->name ? o->ops->name : "?", ierr[0] ? ierr : hps_strerror(rc));
        if (o->state && o->ops->fini)
            o->ops->fini(o->state); /* what a failed init() set up so far */
        o->state = NULL;
        o->ops = NULL;
        hps_objective_close(o);
    }
    return rc;
}

void hps_objective_close(hps_objective *o)
{
    if (!o)
        return;
    if (o->ops && o->ops->fini)
        o->ops->fini(o->state);
    if (o->rt.group == &o->solo)
        hps_group_free(&o->solo);
    free(o->ctx.ends);
    if (o->dl && dlclose(o->dl) != 0)
        fprintf(stderr, "hpsweep: dlclose of the plugin: %s\n", dlerror());
    memset(o, 0, sizeof *o);
}
