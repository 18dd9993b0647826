/*
 * A trial as it travels: what to run (hps_trial_spec), what it reported on the
 * way (hps_report_line) and how it ended (hps_outcome).
 *
 * An outcome has one encoding, used alike for the RESULT record of the journal
 * and inside the RESULTS message a worker sends the coordinator, so a worker's
 * bytes are journaled as they arrive:
 *
 *   i32 status, i32 worker, f64 objective, f64 start, f64 end,
 *   u16 cause_len, cause bytes, i32 exit_code, i32 attempts,
 *   u16 stderr_len, stderr bytes, u32 n_metrics,
 *   then per metric: i32 name_index, i64 step, f64 resource, f64 value
 *
 * (little-endian, packed; the journal's format 1). Metric name index 0 is always
 * the sweep's own metric: the journal names it before any trial runs.
 */
#ifndef HPS_CORE_TRIAL_H
#define HPS_CORE_TRIAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hpsweep/results.h"

#define HPS_REPORT_MAX_METRICS 64
#define HPS_METRIC_NAME_MAX 255

/* One trial to run. values[d] are decoded parameter values (see hpsweep/space.h). */
typedef struct hps_trial_spec {
    int64_t trial_id;
    uint64_t seed;
    double budget;        /* 0 = full */
    double prev_budget;   /* > 0: a promotion continuing from that budget's checkpoint */
    const double *values;
} hps_trial_spec;

/* One measured value of a trial, by metric name index. */
typedef struct hps_rec_metric {
    int32_t name_index;
    int64_t step;
    double resource;
    double value;
} hps_rec_metric;

/* How a trial ended. */
typedef struct hps_outcome {
    int32_t status;             /* hps_trial_status: DONE, FAILED, PRUNED; INTERRUPTED when
                                   the worker itself was stopped (never journaled as a RESULT) */
    int32_t worker;             /* world rank of the group leader that ran it (0: in-process) */
    double objective;           /* the metric's final value (meaningful when DONE; PRUNED may
                                   carry the last value seen) */
    double start, end;          /* Unix seconds */
    char cause[HPS_CAUSE_LEN];  /* "" when done; see hpsweep/results.h for the causes */
    int32_t exit_code;          /* an external command's last exit code; -1: none */
    int32_t attempts;           /* attempts made; 0 for in-process objectives */
    const char *stderr_tail;    /* may be NULL; not NUL-terminated when decoded */
    uint32_t stderr_len;        /* bytes of stderr_tail (at most HPS_STDERR_TAIL_LEN - 1 kept) */
    uint32_t n_metrics;
    const hps_rec_metric *metrics;
} hps_outcome;

/* One intermediate report of a running trial, metrics by name: an `@hpsweep` line
 * or a call of hps_trial_report(). step: the `step` given, else the count of
 * earlier reports of this run; resource: the `resource` given, else step. */
typedef struct hps_report_line {
    int64_t step;
    double resource;
    int n;
    char names[HPS_REPORT_MAX_METRICS][HPS_METRIC_NAME_MAX + 1];
    double values[HPS_REPORT_MAX_METRICS];
} hps_report_line;

/* What polling a running trial answers: go on, stop for an interruption (the sweep
 * is stopping), or stop because the strategy or pruner stopped this trial. */
enum { HPS_POLL_GO = 0, HPS_POLL_INTERRUPT = 1, HPS_POLL_PRUNE = 2 };

/* What the one trial runner (workers/trial.h) calls back while a trial runs, on
 * the rank that talks to the coordinator. */
typedef struct hps_trial_hooks {
    /* Each report of the trial, as it comes. */
    void (*report)(void *ctx, int64_t trial_id, const hps_report_line *line);
    /* Polled while the trial runs (about every 10 ms at most): HPS_POLL_*. */
    int (*poll)(void *ctx, int64_t trial_id);
    void *ctx;
} hps_trial_hooks;

/* Reset o for a new trial: status FAILED, cause "", exit_code -1, no metrics, no tail. */
void hps_outcome_init(hps_outcome *o);

/* Append o's encoding to b (not reset first). HPS_OK or HPS_ENOMEM. */
int hps_outcome_encode(hps_buf *b, const hps_outcome *o);

/* Decode an outcome of exactly len bytes. Pointers in o point into p, metrics into
 * m_buf (room for m_cap). HPS_OK or HPS_ECORRUPT. */
int hps_outcome_decode(const void *p, size_t len, hps_outcome *o, hps_rec_metric *m_buf,
                       uint32_t m_cap);

/* The status and end time of an encoded outcome without decoding the rest.
 * HPS_OK or HPS_ECORRUPT (too short). */
int hps_outcome_peek(const void *p, size_t len, int32_t *status, double *end);

/* Overwrite the start and end times of an encoded outcome (a simulation's clock).
 * HPS_OK or HPS_ECORRUPT (too short). */
int hps_outcome_set_times(void *p, size_t len, double start, double end);

/* Metrics an encoded outcome or REPORT payload of len bytes holds at most (for sizing
 * m_buf before decoding). */
uint32_t hps_metrics_bound(size_t len);

/* Append / read the metric list (u32 n, then n metrics) shared by RESULT and REPORT. */
void hps_metrics_encode(hps_buf *b, const hps_rec_metric *m, uint32_t n);
int hps_metrics_decode(hps_cursor *c, hps_rec_metric *m_buf, uint32_t m_cap, uint32_t *n);

#endif
