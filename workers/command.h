/*
 * External-command trials: the `command` objective (hps_objective_command in
 * objective.h). It builds the command line and environment from a trial, starts
 * it through the spawner (never a shell, never a fork in this MPI process),
 * streams its stdout into trials/<id>/stdout.log while parsing `@hpsweep` report
 * lines, enforces the timeout (SIGTERM to the process group, a grace period, then
 * SIGKILL), retries crashes and timeouts with the same seed, and classifies the end:
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
 * checkpoint in the trial directory), HPSWEEP_PARAMS (a JSON object of all
 * parameters), HPSWEEP_PARAM_<NAME> per parameter, and CUDA_VISIBLE_DEVICES when
 * the worker owns GPUs.
 */
#ifndef HPS_WORKERS_COMMAND_H
#define HPS_WORKERS_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "core/trial.h"

/*
 * Parse one stdout line. Returns 1 and fills out when the line starts with
 * "@hpsweep" and has at least one metric; tokens that are not key=number are
 * ignored (a garbage line is not an error). *auto_step numbers reports without a
 * `step` key and is advanced.
 */
int hps_report_parse(const char *line, size_t len, int64_t *auto_step, hps_report_line *out);

#endif
