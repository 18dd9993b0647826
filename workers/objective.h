/*
 * Objectives inside hpsweep: the built-in ops tables (test functions, sleep, noop,
 * external commands, the trainer) and C plugins (plugin.c) behind the public objective API
 * (hpsweep/objective.h), and an objective instance: the ops, their state and
 * where this rank runs trials (its trial group, its GPU). Every rank that runs
 * trials opens one instance and runs each trial through hps_trial_run()
 * (trial.h).
 */
#ifndef HPS_WORKERS_OBJECTIVE_H
#define HPS_WORKERS_OBJECTIVE_H

#include <stddef.h>

#include "core/fs.h"
#include "core/objective_cfg.h"
#include "core/trial.h"
#include "group.h"
#include "hpsweep/objective.h"
#include "hpsweep/space.h"
#include "spawner.h"

/* What the objectives need from the rank they run on. */
typedef struct hps_objective_runtime {
    hps_spawner *spawner;      /* forked before MPI_Init (commands) */
    const char *sweep_dir;     /* absolute path of the sweep directory */
    const char *config_dir;    /* directory of the sweep's config file */
    const char *gpus;          /* CUDA_VISIBLE_DEVICES for this rank's commands, or NULL */
    int group_rank, group_size;
    hps_group *group;          /* this rank's trial group (NULL: a group of one without
                                  communicators, as in unit tests); borrowed */
    int threads;               /* compute threads this rank's in-process code may run
                                  without oversubscribing its node: the CPUs of its
                                  affinity mask over the trial ranks of its node whose
                                  masks overlap it, at least 1 (0: unknown, take 1) */
} hps_objective_runtime;

/* What a built-in's init() finds in hps_objective_env.internal. */
typedef struct hps_builtin_env {
    const hps_objective_cfg *cfg;
    const hps_space *space;
    const hps_objective_runtime *rt;
} hps_builtin_env;

/* Per-trial state the runner keeps between trials (see trial.c). */
struct hps_trial_ctx {
    struct hps_objective *obj;
    const hps_trial_spec *spec;
    const hps_trial_hooks *hooks;  /* NULL on ranks that do not talk to the coordinator */
    hps_outcome *out;
    int own_outcome;               /* 1: the objective filled *out itself (commands) */
    int have_result, have_metric;
    double result, last_metric;    /* hps_trial_set_result; the sweep's metric as reported */
    int stop;                      /* HPS_POLL_* once a poll said stop (agreed by the group
                                      when grouped) */
    int fatal;                     /* an error that ends the rank's work, not the trial's */
    int attempt;                   /* hps_trial_attempt() */
    int guarded;                   /* the leader wrote trials/<id>/attempt for this run */
    void *ends;                    /* the group's end-of-trial records (trial_group.c) */
    int dir_state;                 /* 0: not made yet, 1: made, -1: could not be made */
    char dir[HPS_PATH_MAX];
    char cause[HPS_CAUSE_LEN];
    hps_rec_metric own;            /* the result as the sweep's metric, when not reported */
    hps_report_line line;          /* report scratch */
    char tail[HPS_STDERR_TAIL_LEN];/* a failed command's stderr tail */
};

typedef struct hps_objective {
    const hps_objective_ops *ops;
    void *state;
    const hps_space *space;
    const char *metric;
    hps_objective_runtime rt;
    hps_builtin_env builtin;
    void *dl;                      /* a plugin's dlopen handle, else NULL */
    hps_group solo;                /* the leader's group of one when the ops lack
                                      HPS_OBJECTIVE_GROUP in a larger group */
    int count_crashes;             /* 1: count the runs the job died in (plugins: the
                                      attempt record, trial_group.c) */
    int crash_retries;             /* re-runs allowed after such deaths */
    hps_trial_ctx ctx;
} hps_objective;

/* Whether trials run on every rank of a group of more than one, in lock-step
 * (HPS_OBJECTIVE_GROUP), so the runner agrees with the group on each trial. */
static inline int hps_objective_grouped(const hps_objective *o)
{
    return o->ops && (o->ops->flags & HPS_OBJECTIVE_GROUP) && o->rt.group &&
           o->rt.group->size > 1;
}

/* The built-in ops table for cfg's kind. */
const hps_objective_ops *hps_objective_builtin(const hps_objective_cfg *cfg);

/*
 * Open the objective cfg describes on this rank: load a plugin, bind its rank to
 * its CUDA device (rt->group->device), run init(). space, metric, cfg and
 * rt->group must outlive it; rt is copied. HPS_OK, or an error with err filled
 * (the instance is then closed).
 */
int hps_objective_open(hps_objective *o, const hps_objective_cfg *cfg, const hps_space *space,
                       const char *metric, const hps_objective_runtime *rt, char *err,
                       size_t errlen);

/* fini() and free; NULL-safe, and safe on a zeroed or half-opened instance. */
void hps_objective_close(hps_objective *o);

/* The built-in tables (builtin.c, command.c, trainer_objective.c): command runs on
 * the leader, command_group on every rank of the group (launch: group), trainer on
 * every rank of the group (in-process, like a plugin). */
extern const hps_objective_ops hps_objective_testfunc, hps_objective_sleep, hps_objective_noop,
    hps_objective_command, hps_objective_command_group, hps_objective_trainer;

/*
 * Load the plugin at path (dlopen RTLD_NOW | RTLD_LOCAL, then dlsym of
 * HPS_OBJECTIVE_SYMBOL) and check its table: its API version and run(). HPS_OK
 * with *dl and *ops, or HPS_ENOENT (no file, no symbol), HPS_EVERSION or
 * HPS_EINVAL with err saying which and what to do (plugin.c).
 */
int hps_plugin_load(const char *path, void **dl, const hps_objective_ops **ops, char *err,
                    size_t errlen);

#endif
