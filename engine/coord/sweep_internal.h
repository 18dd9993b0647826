/*
 * What the files of the sweep state (sweep.h) share and nothing else sees: the
 * applier of each record type, the trial-table bookkeeping they all do, and the
 * deterministic mode's hooks (sweep_det.c), which the appliers call at the points
 * where a record changes what the strategy may be shown.
 */
#ifndef HPS_COORD_SWEEP_INTERNAL_H
#define HPS_COORD_SWEEP_INTERNAL_H

#include "sweep.h"

/* "journal record SEQ (trial ID): what" into err; returns code. */
int hps_sweep_fail(char *err, size_t errlen, int code, const char *what, const hps_record *rec);

/* Move t to status, keeping the counts. */
void hps_sweep_set_status(hps_sweep *s, hps_trial *t, int status);

/* t ended done: is it the new best? */
void hps_sweep_update_best(hps_sweep *s, const hps_trial *t);

/* The best trial was touched: find the best among all done trials again. */
void hps_sweep_recompute_best(hps_sweep *s);

/* Room to decode every metric a payload of len bytes can hold (s->m_scratch). */
int hps_sweep_metric_scratch(hps_sweep *s, uint32_t len);

/* The appliers of sweep_metrics.c and sweep_store.c (see record.h for each record). */
int hps_sweep_apply_report(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                           size_t errlen);
int hps_sweep_apply_result(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                           size_t errlen);
int hps_sweep_apply_interrupt(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);
int hps_sweep_apply_string(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);
int hps_sweep_apply_budget(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);
int hps_sweep_apply_run(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);

/* ---- letting go of what sweep.h5 holds (sweep_spill.c) ----------------------------- */

/* The rows just written are in sweep.h5: a live sweep lets go of its metric rows,
 * of its rung rows unless deterministic, of the final stderr tails, and of the
 * final trials before the first that is not (hps_sweep_spillable). */
void hps_sweep_spill(hps_sweep *s);

/* hps_sweep_replay, calling after(ctx) once each record is applied (its error
 * ends the replay). */
int hps_sweep_replay_then(hps_sweep *s, hps_journal *j, int (*after)(void *ctx), void *ctx,
                          char *err, size_t errlen);

/* ix (not initialised) := the /trials index of every trial, spilled and held.
 * HPS_OK or HPS_ENOMEM (ix empty). */
int hps_sweep_store_index(const hps_sweep *s, hps_store_index *ix);

/* ---- deterministic mode (sweep_det.c) --------------------------------------------- */

/* The HEADER was applied: turn the mode on when the config asks for it. */
void hps_det_init(hps_sweep *s);

/* Free the mode's tables (hps_sweep_free). */
void hps_det_free(hps_det *d);

/*
 * Before the strategy is asked for suggestion n_runs: the rule needs runs
 * 0..n_runs-P-1 shown. HPS_OK, or (they are not all in) HPS_EAGAIN live (draft)
 * with det.waiting_for set, HPS_ECORRUPT on replay with err filled.
 */
int hps_det_gate(hps_sweep *s, const hps_record *rec, int live, char *err, size_t errlen);

/* A SUGGEST of trial_id was applied (a new run). */
int hps_det_suggested(hps_sweep *s, int64_t trial_id, double budget, char *err, size_t errlen);

/* A DISPATCH re-runs trial_id's latest run: as many of the re-run's reports as
 * the interrupted attempt made will be skipped (they were taken already). */
void hps_det_dispatched(hps_sweep *s, int64_t trial_id);

/* A REPORT's metric of the sweep (finite): queue it on the trial's run for the
 * strategy, and let the pruner judge it now with the run's horizon. */
int hps_det_report(hps_sweep *s, int64_t trial_id, const hps_rec_metric *m, const hps_record *rec,
                   char *err, size_t errlen);

/*
 * A RESULT of trial t was applied: its run ended with status and objective (before
 * any stop). When the run was stopped, t becomes pruned. rung_row: the /rungs row
 * the result added, -1 none.
 */
void hps_det_result(hps_sweep *s, hps_trial *t, int32_t status, double objective,
                    int64_t rung_row);

/* Show the strategy and pruner every run the rule allows now (runs before
 * n_runs - P, whole or as far as their reports are in). */
int hps_det_advance(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);

/* The appliers of FEED and PRUNE. */
int hps_det_apply_feed(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);
int hps_det_apply_prune(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);

#endif
