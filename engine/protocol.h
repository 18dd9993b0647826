/*
 * The coordinator <-> worker message protocol (MPI point-to-point on
 * MPI_COMM_WORLD; rank 0 is the coordinator, each trial group's lowest rank is
 * its leader and the only rank that talks to the coordinator).
 *
 *   tag TRIALS   coordinator -> leader: a batch of trials to run, in order
 *                  u32 count, u32 d, then per trial:
 *                  i64 trial_id, u64 seed, f64 budget, f64 prev_budget (> 0: a
 *                  promotion that continues from that budget's checkpoint),
 *                  f64 values[d]
 *   tag RESULTS  leader -> coordinator: the outcomes of one whole batch
 *                  u32 count, f64 eval_seconds (time spent evaluating the batch),
 *                  then per trial: i64 trial_id, i32 status (hps_trial_status),
 *                  f64 objective, f64 start, f64 end, u8 cause_len, cause bytes,
 *                  i32 exit_code, i32 attempts, u16 stderr_len, stderr bytes
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
 *
 * Nobody blocks inside MPI while waiting: Open MPI's blocking calls spin a core,
 * so every wait is hps_wait_*: test, then sleep with exponential backoff
 * (20 us doubling to 1 ms), which keeps idle ranks near 0% CPU.
 */
#ifndef HPS_ENGINE_PROTOCOL_H
#define HPS_ENGINE_PROTOCOL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/record.h"

enum {
    HPS_TAG_TRIALS = 101,
    HPS_TAG_RESULTS = 102,
    HPS_TAG_STOP = 103,
    HPS_TAG_BYE = 104,
    HPS_TAG_REPORT = 105,
    HPS_TAG_PRUNE = 106
};

#define HPS_METRIC_NAME_MAX 255

/* One trial as sent to a worker. values points into the message buffer. */
typedef struct hps_wire_trial {
    int64_t trial_id;
    uint64_t seed;
    double budget;
    double prev_budget;
    const double *values;
} hps_wire_trial;

typedef struct hps_wire_result {
    int64_t trial_id;
    int32_t status;
    double objective;
    double start, end;
    char cause[HPS_CAUSE_LEN];
    int32_t exit_code;                    /* -1: none */
    int32_t attempts;
    char stderr_tail[HPS_STDERR_TAIL_LEN];
} hps_wire_result;

/* Reset r for trial_id without touching all of stderr_tail (cheap per trial). */
static inline void hps_wire_result_init(hps_wire_result *r, int64_t trial_id)
{
    r->trial_id = trial_id;
    r->status = 0;
    r->objective = 0.0;
    r->start = r->end = 0.0;
    r->cause[0] = '\0';
    r->exit_code = -1;
    r->attempts = 0;
    r->stderr_tail[0] = '\0';
}

/* One metric of a REPORT; name points into the message (name_len bytes). */
typedef struct hps_wire_metric {
    int64_t step;
    double resource;
    const char *name;
    uint32_t name_len;
    double value;
} hps_wire_metric;

/* Encoding (b is reset first). */
void hps_proto_trials_begin(hps_buf *b, uint32_t d);
void hps_proto_trials_add(hps_buf *b, int64_t trial_id, uint64_t seed, double budget,
                          double prev_budget, const double *values, uint32_t d);
void hps_proto_results_begin(hps_buf *b, double eval_seconds);
void hps_proto_results_add(hps_buf *b, const hps_wire_result *r);

void hps_proto_report_begin(hps_buf *b, int64_t trial_id);
void hps_proto_report_add(hps_buf *b, int64_t step, double resource, const char *name,
                          double value);

/* Decoding: count of items, then item i. HPS_OK or HPS_ECORRUPT. */
int hps_proto_trials_count(const void *msg, size_t len, uint32_t *count, uint32_t *d);
/* Iterate: *off starts at 0; fills t and advances *off. */
int hps_proto_trials_next(const void *msg, size_t len, size_t *off, uint32_t d, hps_wire_trial *t);
int hps_proto_results_count(const void *msg, size_t len, uint32_t *count, double *eval_seconds);
int hps_proto_results_next(const void *msg, size_t len, size_t *off, hps_wire_result *r);
int hps_proto_report_count(const void *msg, size_t len, int64_t *trial_id, uint32_t *count);
int hps_proto_report_next(const void *msg, size_t len, size_t *off, hps_wire_metric *m);

/*
 * Receive the message st describes (from MPI_Iprobe) into *buf, growing it
 * (*cap bytes; at least 64) as needed; *len gets its size. An allocation failure
 * aborts the job (a rank cannot go on without its messages).
 */
void hps_proto_recv(const MPI_Status *st, unsigned char **buf, size_t *cap, int *len);

/* Backoff state for cheap waiting. */
typedef struct hps_backoff {
    long ns;
} hps_backoff;

void hps_backoff_reset(hps_backoff *b);
/* Sleep for the current interval, then double it (capped at 1 ms). */
void hps_backoff_sleep(hps_backoff *b);

/* Wait for req to complete without spinning. Returns the MPI error code. If
 * stop_flag becomes non-zero while waiting, returns MPI_SUCCESS with *done = 0. */
int hps_wait_request(MPI_Request *req, volatile int *stop_flag, int *done);

/* Report an MPI error (file, line, message) and MPI_Abort. */
void hps_mpi_fail(int rc, const char *what, const char *file, int line);
#define mpiCheck(call)                                                       \
    do {                                                                     \
        int mpi_rc_ = (call);                                                \
        if (mpi_rc_ != MPI_SUCCESS)                                          \
            hps_mpi_fail(mpi_rc_, #call, __FILE__, __LINE__);                \
    } while (0)

#endif
