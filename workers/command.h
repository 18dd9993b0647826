/*
 * External-command trials: build the command line and environment from a trial,
 * start it through the spawner (never a shell, never a fork in this MPI process),
 * stream its stdout into trials/<id>/stdout.log while parsing `@hpsweep` report
 * lines, enforce the timeout (SIGTERM to the process group, a grace period, then
 * SIGKILL), retry crashes and timeouts with the same seed, and classify the end:
 *
 *   done         exit 0 and the sweep's metric was reported with a finite value
 *   failed       exit:<code> | signal:<NAME> | timeout | no-metric | nan | exec: <why>
 *   pruned       the coordinator asked to stop it (the strategy said STOP)
 *   interrupted  the sweep is stopping (a signal, or the coordinator's STOP)
 *
 * The trial's environment is the worker's, less the MPI launcher's variables
 * (OMPI_*, PMIX_*, PMI_*, OPAL_*, HYDRA_*: the command is not part of the MPI
 * job), plus `env` from the config, HPSWEEP_TRIAL_ID, HPSWEEP_SEED,
 * HPSWEEP_BUDGET, HPSWEEP_TRIAL_DIR, HPSWEEP_ATTEMPT, HPSWEEP_METRIC,
 * HPSWEEP_RESUME=1 and HPSWEEP_PREV_BUDGET for a promotion (continue from the
 * checkpoint in the trial directory),
 * HPSWEEP_PARAMS (a JSON object of all parameters), HPSWEEP_PARAM_<NAME> per
 * parameter, and CUDA_VISIBLE_DEVICES when the worker owns GPUs.
 */
#ifndef HPS_WORKERS_COMMAND_H
#define HPS_WORKERS_COMMAND_H

#include <stdint.h>

#include "engine/protocol.h"
#include "hpsweep/space.h"
#include "workers/objective.h"
#include "workers/spawner.h"

#define HPS_REPORT_MAX_METRICS 64

/* One parsed `@hpsweep key=value ...` line. step: the `step` key, else the count
 * of earlier reports of this attempt; resource: the `resource` key, else step. */
typedef struct hps_report_line {
    int64_t step;
    double resource;
    int n;
    char names[HPS_REPORT_MAX_METRICS][HPS_METRIC_NAME_MAX + 1];
    double values[HPS_REPORT_MAX_METRICS];
} hps_report_line;

enum { HPS_POLL_GO = 0, HPS_POLL_INTERRUPT = 1, HPS_POLL_PRUNE = 2 };

typedef struct hps_cmd_env {
    hps_spawner *spawner;
    const char *sweep_dir;     /* absolute path of the sweep directory */
    const char *metric;        /* the sweep's metric name */
    const char *gpus;          /* CUDA_VISIBLE_DEVICES value, or NULL to leave it unset */
    /* Each report line with at least one metric, as it arrives. */
    void (*report)(void *ctx, int64_t trial_id, const hps_report_line *line);
    /* Polled about every 10 ms while the command runs: HPS_POLL_*. */
    int (*poll)(void *ctx, int64_t trial_id);
    void *ctx;
} hps_cmd_env;

/*
 * Parse one stdout line. Returns 1 and fills out when the line starts with
 * "@hpsweep" and has at least one metric; tokens that are not key=number are
 * ignored (a garbage line is not an error). *auto_step numbers reports without a
 * `step` key and is advanced.
 */
int hps_report_parse(const char *line, size_t len, int64_t *auto_step, hps_report_line *out);

/*
 * Run the command of obj for one trial (all attempts) and fill out (trial_id,
 * status, objective, start, end, cause, exit_code, attempts, stderr_tail).
 * Returns HPS_OK (the outcome is in out), or an error when the trial directory
 * cannot be made or the spawner is gone.
 */
int hps_command_run(const hps_objective_cfg *obj, const hps_space *space, const hps_cmd_env *env,
                    int64_t trial_id, uint64_t seed, double budget, double prev_budget,
                    const double *values, hps_wire_result *out);

#endif
