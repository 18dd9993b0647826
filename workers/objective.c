/*
 * Objective instances and the table of built-in objectives (see objective.h).
 */
#include <stdio.h>
#include <string.h>

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
        return &hps_objective_command;
    case HPS_OBJ_PLUGIN:
        return NULL; /* not loadable yet */
    }
    return NULL;
}

int hps_objective_open(hps_objective *o, const hps_objective_cfg *cfg, const hps_space *space,
                       const char *metric, const hps_objective_runtime *rt, char *err,
                       size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->ops = hps_objective_builtin(cfg);
    o->space = space;
    o->metric = metric;
    o->rt = *rt;
    o->builtin = (hps_builtin_env){.cfg = cfg, .space = space, .rt = &o->rt};
    o->ctx.obj = o;
    if (!o->ops) {
        snprintf(err, errlen, "unknown objective kind %d", (int)cfg->kind);
        return HPS_EINVAL;
    }
    if (o->ops->version != HPS_OBJECTIVE_VERSION) {
        snprintf(err, errlen, "objective '%s' has API version %d, this hpsweep speaks %d",
                 o->ops->name, o->ops->version, HPS_OBJECTIVE_VERSION);
        return HPS_EVERSION;
    }
    hps_objective_env env = {.config_dir = rt->config_dir, .sweep_dir = rt->sweep_dir,
                             .metric = metric, .group_rank = rt->group_rank,
                             .group_size = rt->group_size, .device = -1,
                             .internal = &o->builtin};
    if (!o->ops->init)
        return HPS_OK;
    char ierr[512] = "";
    int rc = o->ops->init(&env, &o->state, ierr, sizeof ierr);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "objective '%s': %s", o->ops->name,
                 ierr[0] ? ierr : hps_strerror(rc));
        o->state = NULL;
        o->ops = NULL;
    }
    return rc;
}

void hps_objective_close(hps_objective *o)
{
    if (!o)
        return;
    if (o->ops && o->ops->fini)
        o->ops->fini(o->state);
    memset(o, 0, sizeof *o);
}
