/*
 * The coordinator <-> worker messages (MPI point-to-point on MPI_COMM_WORLD; rank
 * 0 is the coordinator, each trial group's lowest rank is its leader and the only
 * rank that talks to the coordinator). The same bytes also pass through the
 * in-process and simulated transports (engine/coord/transport.h), so every mode
 * of the engine runs the same codec.
 *
 *   tag TRIALS   coordinator -> leader: a batch of trials to run, in order
 *                  u32 count, u32 d, then per trial:
 *                  i64 trial_id, u64 seed, f64 budget, f64 prev_budget (> 0: a
 *                  promotion that continues from that budget's checkpoint),
 *                  f64 values[d]
 *   tag RESULTS  leader -> coordinator: the outcomes of one whole batch
 *                  u32 count, f64 eval_seconds (time spent evaluating the batch),
 *                  then per trial: i64 trial_id, u32 len, and len bytes of the
 *                  trial's outcome in its journal encoding (core/trial.h)
 *   tag REPORT   leader -> coordinator: one intermediate report of a running trial
 *                (an `@hpsweep` line): i64 trial_id, u16 n, then per metric:
 *                i64 step, f64 resource, u8 name_len, name bytes, f64 value.
 *                Sent before the trial's RESULTS (same sender: MPI keeps order)
 *   tag PRUNE    coordinator -> leader: stop trial i64 trial_id (the strategy said
 *                STOP); it ends with status PRUNED
 *   tag STOP     coordinator -> leader: abandon any trial and leave (empty)
 *   tag BYE      leader -> coordinator: the answer to STOP, the leader's last
 *                message (empty); the coordinator drains RESULTS until every
 *                leader said BYE, so no send is left hanging at MPI_Finalize
 *
 * A leader answers every TRIALS message with exactly one RESULTS message, in the
 * order received; a trial abandoned because the worker itself got SIGTERM, SIGINT
 * or SIGUSR1 is reported with status INTERRUPTED. Inside a group, the leader
 * relays each batch (or the stop) to the other ranks with a broadcast on the
 * group's communicator: u32 count (0 = stop), u32 byte length, then the bytes.
 */
#ifndef HPS_WIRE_PROTOCOL_H
#define HPS_WIRE_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/trial.h"

enum {
    HPS_TAG_TRIALS = 101,
    HPS_TAG_RESULTS = 102,
    HPS_TAG_STOP = 103,
    HPS_TAG_BYE = 104,
    HPS_TAG_REPORT = 105,
    HPS_TAG_PRUNE = 106
};

/* Encoding (the *_begin functions reset b). */
void hps_proto_trials_begin(hps_buf *b, uint32_t d);
void hps_proto_trials_add(hps_buf *b, const hps_trial_spec *t, uint32_t d);
void hps_proto_results_begin(hps_buf *b, double eval_seconds);
/* Append one trial's outcome. */
void hps_proto_results_add(hps_buf *b, int64_t trial_id, const hps_outcome *o);
/* Overwrite the batch's eval_seconds once it is known. */
void hps_proto_results_set_seconds(hps_buf *b, double eval_seconds);
void hps_proto_report(hps_buf *b, int64_t trial_id, const hps_report_line *r);

/* Decoding: count of items, then item after item (*off starts at 0). HPS_OK or
 * HPS_ECORRUPT. */
int hps_proto_trials_count(const void *msg, size_t len, uint32_t *count, uint32_t *d);
/* values points into msg (8-byte aligned: see protocol.c). */
int hps_proto_trials_next(const void *msg, size_t len, size_t *off, uint32_t d,
                          hps_trial_spec *t);
int hps_proto_results_count(const void *msg, size_t len, uint32_t *count, double *eval_seconds);
/* The next trial's id and its encoded outcome (points into msg). */
int hps_proto_results_next(const void *msg, size_t len, size_t *off, int64_t *trial_id,
                           const void **outcome, uint32_t *outcome_len);
/* A REPORT message into r (names NUL-terminated; more than HPS_REPORT_MAX_METRICS
 * metrics is corrupt). */
int hps_proto_report_decode(const void *msg, size_t len, int64_t *trial_id, hps_report_line *r);

#endif
