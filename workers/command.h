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
 *
 * launch: group (hps_objective_command_group) starts the command on every rank of
 * the trial group, each through its own spawner, with what torchrun gives its
 * processes: RANK and WORLD_SIZE (the group rank and size), LOCAL_RANK and
 * LOCAL_WORLD_SIZE (among the group's ranks on the node), MASTER_ADDR (the
 * leader's host) and MASTER_PORT (a free port the leader picks for each attempt),
 * and each rank's own CUDA_VISIBLE_DEVICES. Rank 0's output goes to stdout.log
 * and stderr.log, rank k's to rank<k>.stdout.log and rank<k>.stderr.log; only
 * rank 0's `@hpsweep` lines count. While the commands run, the ranks agree every
 * 10 ms (command_group.c): a timeout (the leader's clock), a prune or an
 * interruption stops every rank's command, a command that fails on its own stops
 * the others, and the attempt ends when every rank's command has ended. The
 * failure that came first is the trial's, its cause naming the rank unless it
 * was rank 0's ("rank 1: exit:1"); a retry starts every rank's command again.
 */
#ifndef HPS_WORKERS_COMMAND_H
#define HPS_WORKERS_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "core/trial.h"
#include "group.h"
#include "objective.h"

/*
 * Parse one stdout line. Returns 1 and fills out when the line starts with
 * "@hpsweep" and has at least one metric; tokens that are not key=number are
 * ignored (a garbage line is not an error). *auto_step numbers reports without a
 * `step` key and is advanced.
 */
int hps_report_parse(const char *line, size_t len, int64_t *auto_step, hps_report_line *out);

/* ---- inside the command objective (command*.c) ----------------------------------- */

/* What the placeholders and HPSWEEP_* variables of one trial are made of. */
typedef struct hps_cmd_vars {
    const hps_space *space;
    const double *values;
    int64_t trial_id;
    uint64_t seed;
    double budget;
    double prev_budget;     /* > 0: a promotion continuing from this budget */
    const char *trial_dir;
} hps_cmd_vars;

/* A rank's place in a distributed job (launch: group): torchrun's variables. */
typedef struct hps_cmd_dist {
    int rank, size, local_rank, local_size;
    const char *master_addr;
    int master_port;
} hps_cmd_dist;

/* The argv with placeholders substituted (NULL-terminated), or NULL when out of
 * memory (command_env.c). */
char **hps_cmd_argv(const hps_objective_cfg *obj, const hps_cmd_vars *v);

/* The complete environment of one attempt (dist NULL: launch: leader), or NULL
 * when out of memory. */
char **hps_cmd_env(const hps_objective_cfg *obj, const hps_objective *o, const hps_cmd_vars *v,
                   int attempt, const hps_cmd_dist *dist);

/* Free a NULL-terminated vector of strings; NULL-safe. */
void hps_cmd_free_vec(char **v);

/* Agreed stops of a group's commands, most serious last (command_group.c). */
enum { HPS_CMD_STOP_NONE, HPS_CMD_STOP_TIMEOUT, HPS_CMD_STOP_PRUNE, HPS_CMD_STOP_INTERRUPT };

/* A group's running agreement about one attempt (every 10 ms at most). */
typedef struct hps_cmd_sync {
    const hps_group *g;
    hps_trial_ctx *ctx;
    double deadline;        /* the timeout, by the leader's monotonic clock */
    double next_round;
    hps_group_round round;
    int stop;               /* HPS_CMD_STOP_*: agreed, kept once set */
    int peer_failed;        /* agreed: some rank's command failed by itself */
    int all_exited;         /* agreed: every rank's command has ended */
} hps_cmd_sync;

void hps_cmd_sync_init(hps_cmd_sync *s, hps_trial_ctx *ctx, double deadline);

/* Read the last round's answer if it is in, and start the next one when due,
 * with this rank's state: its command exited, and failed by itself. */
void hps_cmd_sync_step(hps_cmd_sync *s, double now, int exited, int own_failed);

/* How one rank's command ended, as the group agrees on it. */
typedef struct hps_cmd_end {
    int32_t own_failure;    /* it failed by itself (not stopped by the group) */
    int32_t retry;          /* that failure may be retried */
    int32_t status;         /* this rank's view of the trial (hps_trial_status) */
    int32_t exit_code;
    double t_end;           /* wall time it ended */
    char cause[HPS_CAUSE_LEN];
} hps_cmd_end;

/*
 * Settle an attempt with the group (collective; all holds g->size records):
 * the failure that ended first (by each host's clock; ties to the lower rank)
 * is the attempt's: out becomes failed with its cause, "rank k: " in front
 * unless k is 0, its exit code, and *retry says whether to try again. With no
 * failure, rank 0's view stands (members copy its status and cause). Returns
 * the failing rank, or -1. The same answer on every rank.
 */
int hps_cmd_agree(const hps_group *g, const hps_cmd_end *mine, hps_cmd_end *all,
                  hps_outcome *out, int *retry);

/* The leader picks a free TCP port for MASTER_PORT (bind to port 0, read it,
 * close) and the group learns it. 0 when none could be had (the leader's err
 * says why). */
int hps_cmd_master_port(const hps_group *g, int leader, char *err, size_t errlen);

#endif
