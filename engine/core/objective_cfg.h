/*
 * The `objective:` section of a sweep, as the config parser (engine/config) fills
 * it and the workers (workers/) run it: the contract between the two, so neither
 * depends on the other. Plain data; engine/config owns and frees it.
 */
#ifndef HPS_CORE_OBJECTIVE_CFG_H
#define HPS_CORE_OBJECTIVE_CFG_H

#include "hpsweep/testfunc.h"

typedef enum hps_objective_kind {
    HPS_OBJ_TESTFUNC = 0, /* a built-in test function on the numeric parameters */
    HPS_OBJ_SLEEP = 1,    /* sleeps, reports the duration; for overhead benchmarks */
    HPS_OBJ_NOOP = 2,     /* returns 0 at once */
    HPS_OBJ_COMMAND = 3   /* an external command (argv, never a shell) */
} hps_objective_kind;

typedef struct hps_objective_cfg {
    hps_objective_kind kind;
    char *function;                 /* name as written ("branin", "sleep", "noop"), or the
                                       objective's name ("command") */
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
    int retries;                    /* extra attempts after a crash or timeout (same seed) */
    int gpus_per_trial;             /* GPUs per trial (CUDA_VISIBLE_DEVICES); 0: none */
    double kill_grace;              /* seconds from SIGTERM to SIGKILL (default 10) */
} hps_objective_cfg;

#endif
