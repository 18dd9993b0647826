/*
 * The `objective:` section of a sweep, as the config parser (engine/config) fills
 * it and the workers (workers/) run it: the contract between the two, so neither
 * depends on the other. Plain data; engine/config owns and frees it.
 */
#ifndef HPS_CORE_OBJECTIVE_CFG_H
#define HPS_CORE_OBJECTIVE_CFG_H

#include <stdint.h>

#include "hpsweep/testfunc.h"

typedef enum hps_objective_kind {
    HPS_OBJ_TESTFUNC = 0, /* a built-in test function on the numeric parameters */
    HPS_OBJ_SLEEP = 1,    /* sleeps, reports the duration; for overhead benchmarks */
    HPS_OBJ_NOOP = 2,     /* returns 0 at once */
    HPS_OBJ_COMMAND = 3,  /* an external command (argv, never a shell) */
    HPS_OBJ_PLUGIN = 4,   /* a C shared library exporting the objective API's ops table */
    HPS_OBJ_TRAINER = 5   /* a built-in trainer (workers/trainer_objective.c) on a dataset */
} hps_objective_kind;

/* Where an external command runs: on the trial group's leader only, or on every
 * rank of the group (a torchrun-style distributed job). */
typedef enum hps_launch { HPS_LAUNCH_LEADER = 0, HPS_LAUNCH_GROUP = 1 } hps_launch;

typedef struct hps_objective_cfg {
    hps_objective_kind kind;
    char *function;                 /* name as written ("branin", "sleep", "noop"), or the
                                       objective's kind ("command", "plugin", "trainer") */
    const hps_testfunc *testfunc;   /* TESTFUNC only */
    double sleep_seconds;           /* SLEEP: option `seconds` (default 0.1) */
    int sleep_param;                /* SLEEP: index of the parameter named by option
                                       `seconds_param`, or -1 to use sleep_seconds */
    double noise;                   /* TESTFUNC: option `noise` (default 0): adds
                                       noise * z / sqrt(max(budget, 1)), z ~ N(0,1)
                                       drawn from (trial seed, budget): a fidelity
                                       that sharpens with the budget */

    /* COMMAND (objective.command etc.; see the README). */
    int argc;                       /* >= 1 */
    char **argv;                    /* templates: "{name}" is replaced by a parameter's
                                       value or by trial_id, seed, budget, trial_dir;
                                       "{{" and "}}" are literal braces */
    char *workdir;                  /* `workdir` joined to the config file's directory
                                       (default: that directory) */
    int n_env;
    char **env_keys, **env_values;  /* `env`: extra variables, values literal */
    double timeout;                 /* seconds per attempt; 0: none */
    int retries;                    /* COMMAND: extra attempts after a crash or timeout
                                       (same seed; default 0). PLUGIN, TRAINER: re-runs of a
                                       trial during which the job died (default 1) */
    int gpus_per_trial;             /* launch: leader: GPUs of the leader's command
                                       (CUDA_VISIBLE_DEVICES); 0: none */
    double kill_grace;              /* seconds from SIGTERM to SIGKILL (default 10) */
    hps_launch launch;              /* COMMAND: `launch` (default leader) */

    /* PLUGIN (objective.plugin, objective.options). */
    char *plugin;                   /* the library's path, joined to the config file's
                                       directory when relative */
    int n_options;
    char **option_keys, **option_values;  /* `options` (PLUGIN, TRAINER), in the order
                                             written, as text */

    /* TRAINER (objective.trainer, objective.dataset, objective.options). The names in
     * the space and in options are checked against the trainer's parameters where
     * both are visible (engine/cli), not by the parser. */
    char *trainer;                  /* the trainer's name as written ("mlp") */
    char *dataset;                  /* the dataset's path, joined to the config file's
                                       directory when relative */
    int64_t max_epochs;             /* a multi-fidelity strategy's max_resource (a whole
                                       number): the schedule's horizon of every rung, so a
                                       promoted trial follows the curve of one that never
                                       stopped; 0 for other strategies */

    /* Objectives that run on every rank of a group (PLUGIN, TRAINER, launch: group). */
    int gpus_per_rank;              /* GPUs per rank; -1: the default, 1 on a node with
                                       GPUs and 0 elsewhere */
    int share_gpus;                 /* 1: ranks may share a GPU when the node has too few
                                       (with a warning); 0: too few GPUs is an error */
} hps_objective_cfg;

/* The built-in trainers `objective.trainer` may name, NULL-terminated: the config
 * refuses others, workers/trainer_objective.c runs these. */
static inline const char *const *hps_trainer_names(void)
{
    static const char *const names[] = {"mlp", NULL};
    return names;
}

/* Whether the objective's code runs on every rank of a trial group (a plugin, a
 * trainer, a command with launch: group) rather than on the group's leader only. A
 * plugin whose ops lack HPS_OBJECTIVE_GROUP still runs on the leader only, but its
 * ranks are placed (GPUs) as if it did not. */
static inline int hps_objective_cfg_every_rank(const hps_objective_cfg *c)
{
    return c->kind == HPS_OBJ_PLUGIN || c->kind == HPS_OBJ_TRAINER ||
           (c->kind == HPS_OBJ_COMMAND && c->launch == HPS_LAUNCH_GROUP);
}

#endif
