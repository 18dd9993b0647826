/*
 * Objectives inside hpsweep: the built-in ops tables (test functions, sleep, noop,
 * external commands) behind the public objective API (hpsweep/objective.h), and an
 * objective instance: the ops, their state and where this rank runs trials. Every
 * rank that runs trials opens one instance and runs each trial through
 * hps_trial_run() (trial.h).
 */
#ifndef HPS_WORKERS_OBJECTIVE_H
#define HPS_WORKERS_OBJECTIVE_H

#include <stddef.h>

#include "core/fs.h"
#include "core/objective_cfg.h"
#include "core/trial.h"
#include "hpsweep/objective.h"
#include "hpsweep/space.h"
#include "spawner.h"

/* What the built-in objectives need from the rank they run on. */
typedef struct hps_objective_runtime {
    hps_spawner *spawner;      /* forked before MPI_Init (commands) */
    const char *sweep_dir;     /* absolute path of the sweep directory */
    const char *config_dir;    /* directory of the sweep's config file */
    const char *gpus;          /* CUDA_VISIBLE_DEVICES for this rank, or NULL */
    int group_rank, group_size;
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
    int stop;                      /* HPS_POLL_* once a poll said stop */
    int fatal;                     /* an error that ends the rank's work, not the trial's */
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
    hps_trial_ctx ctx;
} hps_objective;

/* The built-in ops table for cfg's kind. */
const hps_objective_ops *hps_objective_builtin(const hps_objective_cfg *cfg);

/*
 * Open the objective cfg describes on this rank (init() runs here). space and
 * metric must outlive it; rt is copied. HPS_OK, or an error with err filled.
 */
int hps_objective_open(hps_objective *o, const hps_objective_cfg *cfg, const hps_space *space,
                       const char *metric, const hps_objective_runtime *rt, char *err,
                       size_t errlen);

/* fini() and free; NULL-safe, and safe on a zeroed or half-opened instance. */
void hps_objective_close(hps_objective *o);

/* The built-in tables (builtin.c, command.c). */
extern const hps_objective_ops hps_objective_testfunc, hps_objective_sleep, hps_objective_noop,
    hps_objective_command;

#endif
