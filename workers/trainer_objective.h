/*
 * The built-in trainer as an objective (`objective: {trainer: mlp, dataset: ...}`):
 * its ops table, hps_objective_trainer (objective.h), runs the data-parallel MLP
 * of workers/trainer/ on every rank of a trial group through the public objective
 * API alone, as a plugin would; and the rules that turn a sweep into trainer
 * parameters, shared by that table (each trial) and by the checks engine/cli makes
 * before a sweep is written (trainer_check.c there), so both read a space and its
 * options the same way.
 *
 * A trial's parameters: the table's defaults (hps_train_param_table), then the
 * config's `options` in order, then every space parameter named like a trainer
 * parameter; categorical trainer parameters take a categorical's choice text (or
 * a bool's true/false), the others a number. The budget is epochs: a
 * multi-fidelity budget is rounded to a whole number (at least 1), a promotion
 * continues from prev_budget's epochs, and the cosine schedule's horizon is the
 * strategy's max_resource (objective.max_epochs) unless set; other strategies run
 * `epochs` from the space, the options or the default. hpsweep sets seed (the
 * trial's), prev_epochs and device (the rank's GPU), so neither a space nor
 * options may.
 */
#ifndef HPS_WORKERS_TRAINER_OBJECTIVE_H
#define HPS_WORKERS_TRAINER_OBJECTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/objective_cfg.h"
#include "hpsweep/space.h"
#include "trainer/trainer.h"

/* The epochs of a budget: 0 for 0 (no multi-fidelity budget), else the budget
 * rounded to the nearest whole number, at least 1. */
int64_t hps_trainer_epochs(double budget);

/* Why a space or options may not name trainer parameter `name` (hpsweep sets it),
 * or NULL when they may. */
const char *hps_trainer_reserved(const char *name);

/*
 * Defaults, then cfg's options in order, into *p; threads takes default_threads
 * (>= 1) unless an option sets it. HPS_OK, or HPS_ECONFIG with *bad the index of
 * the option at fault and err saying why (an unknown name with a did-you-mean, a
 * reserved name, a value out of range, not one of the choices). bad may be NULL.
 */
int hps_trainer_params_base(hps_train_params *p, const hps_objective_cfg *cfg,
                            int default_threads, int *bad, char *err, size_t errlen);

/*
 * Whether space parameter sp can set the trainer parameter of its name: a known,
 * unreserved name, a type that converts (a float trainer parameter takes float,
 * int or categorical numbers; an int one int or whole categorical numbers; a
 * categorical one categorical choices among its own, or a bool for a true/false
 * one) and every value the space can give within the parameter's range (both
 * bounds, every choice). HPS_OK, or HPS_ECONFIG with err saying why and where[]
 * the key of the space entry at fault ("" the parameter itself, "type", "low",
 * "high", "choices[2]").
 */
int hps_trainer_check_param(const hps_param *sp, char *where, size_t wherelen, char *err,
                            size_t errlen);

/* The metrics the trainer reports for task (hps_train_task): 3 names, the last
 * val_accuracy or val_rmse; goals[i] 1 when names[i] is maximized. */
void hps_trainer_metrics(int task, const char *names[3], int goals[3]);

/*
 * Whether the sweep's metric is one the trainer reports for task, with the goal
 * that makes sense (val_accuracy is maximized, losses and RMSE minimized).
 * HPS_OK, or HPS_ECONFIG with err naming the metrics and goals; *goal_wrong 1
 * when the name is right and only the goal is not (goal_wrong may be NULL).
 */
int hps_trainer_check_metric(const char *metric, int maximize, int task, int *goal_wrong,
                             char *err, size_t errlen);

#endif
