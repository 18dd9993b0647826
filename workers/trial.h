/*
 * The one way a trial runs: serial mode (the coordinator's in-process transport),
 * MPI workers and the simulated transport all call hps_trial_run(). It runs the
 * objective's run() with a trial context (the public hps_trial_* API), then turns
 * what happened into the trial's outcome:
 *
 *   the objective filled the outcome itself (external commands)   -> as filled
 *   run() returned an error                                       -> failed (its cause)
 *   a poll said stop: interrupted / pruned                        -> interrupted / pruned
 *   a result (set, else the sweep's metric as last reported)      -> done, or failed
 *                                                                    "nan" when not finite
 *   neither                                                       -> failed "no-metric"
 *
 * A done trial that never reported the sweep's metric gets its result recorded as
 * that metric (name index 0, step 0, resource = its budget), so /metrics holds
 * every result.
 *
 * Grouped objectives (HPS_OBJECTIVE_GROUP in a group of more than one) run on
 * every rank of the group at once; trial_group.c keeps the ranks in step: before
 * run() the leader's verdict (run, or skip: interrupted, pruned, crashed too
 * often) reaches every rank, and after it the group agrees on the outcome (a
 * failure on any rank fails the trial, the cause naming the rank). A plugin's
 * runs are counted in trials/<id>/attempt across job restarts (the crash rule in
 * hpsweep/objective.h).
 */
#ifndef HPS_WORKERS_TRIAL_H
#define HPS_WORKERS_TRIAL_H

#include "core/trial.h"
#include "objective.h"

/*
 * Run spec on o. hooks: the coordinator's (reports, polls), NULL on ranks that do
 * not talk to it. Fills out, whose pointers stay valid until the next run on o.
 * Returns HPS_OK (the trial's fate is in out), or an error that ends this rank's
 * work (the spawner is gone, out of memory).
 */
int hps_trial_run(hps_objective *o, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                  hps_outcome *out);

/* For built-in objectives: poll the coordinator (HPS_POLL_*; remembered once not GO).
 * This rank only; hps_trial_should_stop() is the group's answer. */
int hps_trial_poll(hps_trial_ctx *ctx);

/* This rank's poll through the hooks, remembering nothing (HPS_POLL_GO without). */
int hps_trial_poll_raw(hps_trial_ctx *ctx);

/* The runner's steps around run() (trial_group.c). begin: 1 to run, 0 to skip
 * (ctx->stop or ctx->cause say why). agree: settle the outcome with the group,
 * reset a failed group's NCCL communicator, end the attempt record. */
int hps_trial_begin(hps_trial_ctx *ctx);
void hps_trial_agree(hps_trial_ctx *ctx, int rc);

/* For built-in objectives: pass on a parsed report line (group rank 0 only). */
void hps_trial_report_line(hps_trial_ctx *ctx, const hps_report_line *line);

/* For built-in objectives: the rank cannot go on (rc); the runner returns rc. */
void hps_trial_fatal(hps_trial_ctx *ctx, int rc);

#endif
