/*
 * Journal record types and their payloads.
 *
 * The journal (journal.h) stores opaque payloads; this module defines what the
 * engine puts in them. Payloads are packed little-endian fields in the order
 * listed; decode() checks every length and returns HPS_ECORRUPT on a short or
 * inconsistent payload. Replaying the records in order rebuilds the sweep:
 *
 *   HEADER       first record: format version, sweep seed, created time, YAML text,
 *                the config file's path (it names the sweep when the YAML has no name)
 *   SUGGEST      the strategy suggested trial_id (one strategy.suggest() call):
 *                seed, budget, bracket, rung, promotion, worker, start, u[d]
 *   DISPATCH     a re-run of a known trial (after resume) started on worker at start
 *   RESULT       the trial ended (done/failed/pruned): its outcome (core/trial.h)
 *   REPORT       an intermediate report of a running trial: metrics (each with its
 *                step and resource), the metric list of core/trial.h
 *   INTERRUPT    the trial was running when the sweep was interrupted
 *   METRIC_NAME  metric name index i is called name
 *   STATUS       the sweep's status changed ("completed", "interrupted", ...)
 *   BUDGET       the budget in force from here on (a run's --max-trials/--max-time, a
 *                resume's --config): max_trials, max_time, max_resource,
 *                max_consecutive_failures, parallelism; before the first, the
 *                config's. Journal format 2 (format 1 journals have none).
 *   FEED         deterministic mode: the strategy waited (HPS_EAGAIN) with its window
 *                of results complete, so the next run in suggestion order is shown to
 *                it now: run (i64), the run's index in suggestion order
 *   PRUNE        deterministic mode: feeding trial_id's reports, the strategy or the
 *                pruner stopped it: run (i64), step (i64) of the report that decided
 *   RUN          a run of the sweep began (phase 0: the first run, then one per
 *                resume) or ended (phase 1): its provenance (prov.h) as entries of
 *                kind (i32), index (i32), key and value (u32 length + bytes each).
 *                FEED, PRUNE and RUN: journal format 3.
 *
 * Format 4 changes no payload above: it is the journal file's layout 2 (journal.h),
 * where each group commit is one pack and the hot payloads lie in it in a compact
 * form (hps_rec_compact below) that expands back to exactly these bytes. Replay
 * always sees the payloads above.
 */
#ifndef HPS_STORE_RECORD_H
#define HPS_STORE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/trial.h"
#include "prov.h"

enum {
    HPS_REC_HEADER = 1,
    HPS_REC_SUGGEST = 2,
    HPS_REC_DISPATCH = 3,
    HPS_REC_RESULT = 4,
    HPS_REC_INTERRUPT = 5,
    HPS_REC_METRIC_NAME = 6,
    HPS_REC_STATUS = 7,
    HPS_REC_REPORT = 8,
    HPS_REC_BUDGET = 9,
    HPS_REC_FEED = 10,
    HPS_REC_PRUNE = 11,
    HPS_REC_RUN = 12
};

/* The HEADER's format: 2 since BUDGET records, 3 since FEED, PRUNE and RUN, 4 since
 * the compact journal layout (journal file layout 2); replay reads 1 to 4. */
#define HPS_JOURNAL_FORMAT 4
#define HPS_JOURNAL_FORMAT_MIN 1

typedef struct hps_rec_header {
    uint32_t version;
    uint64_t seed;
    double created;             /* Unix time */
    const char *config_text;    /* not NUL-terminated when decoded: use config_len */
    uint32_t config_len;
    const char *source;         /* the config file's path; not NUL-terminated when decoded */
    uint32_t source_len;
} hps_rec_header;

typedef struct hps_rec_suggest {
    uint64_t seed;
    double budget;
    int32_t bracket, rung, promotion, worker;
    double start;
    uint32_t n;                 /* number of coordinates */
    const double *u;            /* decode: points into a caller buffer (see below) */
} hps_rec_suggest;

/* A sweep's budget: what stops it (0: no limit of that kind). */
typedef struct hps_rec_budget {
    int64_t max_trials;
    double max_time;            /* seconds per run */
    double max_resource;
    int32_t max_consecutive_failures;
    int32_t parallelism;        /* trial groups busy at once; 0: all */
} hps_rec_budget;

/* Whether two budgets are the same in every field. */
int hps_budget_same(const hps_rec_budget *a, const hps_rec_budget *b);

/* Encoders: reset b, then write the payload. Return HPS_OK or HPS_ENOMEM. */
int hps_rec_encode_header(hps_buf *b, const hps_rec_header *h);
int hps_rec_encode_suggest(hps_buf *b, const hps_rec_suggest *s);
int hps_rec_encode_dispatch(hps_buf *b, int32_t worker, double start);
int hps_rec_encode_result(hps_buf *b, const hps_outcome *r);
int hps_rec_encode_interrupt(hps_buf *b, double when);
int hps_rec_encode_report(hps_buf *b, const hps_rec_metric *m, uint32_t n);
int hps_rec_encode_string(hps_buf *b, int32_t index, const char *s);
int hps_rec_encode_budget(hps_buf *b, const hps_rec_budget *g);
int hps_rec_encode_feed(hps_buf *b, int64_t run);
int hps_rec_encode_prune(hps_buf *b, int64_t run, int64_t step);
/* RUN: phase 0 (a run began) or 1 (it ended) and the facts of p. */
int hps_rec_encode_run(hps_buf *b, uint32_t phase, const hps_prov *p);

/* Decoders. Pointers in the output point into payload (or into u_buf / m_buf,
 * which must hold n doubles / as many metrics as the record has: the decoder
 * copies into them so the result is aligned; hps_metrics_bound(len) metrics always
 * suffice). Return HPS_OK or HPS_ECORRUPT. */
int hps_rec_decode_header(const void *p, uint32_t len, hps_rec_header *h);
int hps_rec_decode_suggest(const void *p, uint32_t len, hps_rec_suggest *s, double *u_buf,
                           uint32_t u_cap);
int hps_rec_decode_dispatch(const void *p, uint32_t len, int32_t *worker, double *start);
int hps_rec_decode_result(const void *p, uint32_t len, hps_outcome *r, hps_rec_metric *m_buf,
                          uint32_t m_cap);
int hps_rec_decode_interrupt(const void *p, uint32_t len, double *when);
/* REPORT: *n metrics copied into m_buf (capacity m_cap). */
int hps_rec_decode_report(const void *p, uint32_t len, hps_rec_metric *m_buf, uint32_t m_cap,
                          uint32_t *n);
/* index and a pointer to the (not NUL-terminated) string of length *slen. */
int hps_rec_decode_string(const void *p, uint32_t len, int32_t *index, const char **s,
                          uint32_t *slen);
int hps_rec_decode_budget(const void *p, uint32_t len, hps_rec_budget *g);
int hps_rec_decode_feed(const void *p, uint32_t len, int64_t *run);
int hps_rec_decode_prune(const void *p, uint32_t len, int64_t *run, int64_t *step);
/* RUN: *phase, and its facts appended to out (copies; on an error out may hold some
 * of them). HPS_OK, HPS_ECORRUPT or HPS_ENOMEM. */
int hps_rec_decode_run(const void *p, uint32_t len, uint32_t *phase, hps_prov *out);

/*
 * The compact forms of journal layout 2 (engine/store/journal_pack.c). Integers are
 * LEB128 varints (signed ones zigzag-coded), fields at their usual values are flag
 * bits, doubles are kept bit for bit: 8 bytes, 4 when a float holds the value
 * exactly (SUGGEST's coordinates), and times as a varint of their bits XOR the bits
 * of the time before them in the same pack (ctx), which is small for nearby times.
 *
 *   SUGGEST  u8 flags (1 budget, 2 bracket, 4 rung, 8 promotion: present, else 0.0,
 *            -1, -1, 0; 16: coordinates as floats), u64 seed, [f64 budget],
 *            [zz bracket], [zz rung], [zz promotion], zz worker, time start,
 *            uv n, n coordinates
 *   RESULT   u8 flags (1 cause, 2 exit code (else -1), 4 attempts (else 0), 8 stderr
 *            tail; 16: the only metric is the objective: name 0, its value the
 *            objective's, resource = step; 32: no metrics), zz status, zz worker,
 *            f64 objective, time start, uv (end bits XOR start bits), [uv len +
 *            cause], [zz exit], [zz attempts], [uv len + tail], then with 16 zz step,
 *            with neither 16 nor 32 a metric list
 *   REPORT   a metric list: uv n, then per metric u8 flags (1: resource = step,
 *            2: value given; resource and value are 8 bytes each when present;
 *            without 2, only in a RESULT, the value is the objective's), zz name
 *            index, zz step, [f64 resource], [f64 value]
 *
 * Every other record type, and any payload that does not parse as its type's layout
 * exactly, is kept as it is.
 */
typedef struct hps_rec_pack_ctx {
    uint64_t time_bits;         /* the last time coded in this pack (0 at its start) */
} hps_rec_pack_ctx;

/* LEB128 varints on a buffer and a cursor (a cursor's get sets `bad` on a short or
 * over-long one). */
void hps_put_uvarint(hps_buf *b, uint64_t v);
uint64_t hps_get_uvarint(hps_cursor *c);

/* Append the compact form of a type record's payload p (len bytes) to b: HPS_OK,
 * HPS_ENOMEM, or HPS_EINVAL when the type has none or p does not parse exactly (then
 * b is as it was). */
int hps_rec_compact(hps_buf *b, uint32_t type, const void *p, uint32_t len,
                    hps_rec_pack_ctx *ctx);

/* Read one compact payload of type from c (exactly `left` bytes of it) and write the
 * payload it stands for into out (reset first). HPS_OK, HPS_ECORRUPT or
 * HPS_ENOMEM; at most max_len bytes are written (longer: HPS_ECORRUPT). */
int hps_rec_expand(hps_cursor *c, uint32_t type, hps_buf *out, size_t max_len,
                   hps_rec_pack_ctx *ctx);

#endif
