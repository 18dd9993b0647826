/*
 * Message packing for the coordinator/worker protocol (layouts in protocol.h).
 */
#include <string.h>

#include "hpsweep/error.h"
#include "protocol.h"

/* Add one to the count of type T at the start of b (offset off). */
#define BUMP_COUNT(b, T, off)                                                                      \
    do {                                                                                           \
        if (!(b)->failed) {                                                                        \
            T count_;                                                                              \
            memcpy(&count_, (b)->data + (off), sizeof count_);                                     \
            count_++;                                                                              \
            memcpy((b)->data + (off), &count_, sizeof count_);                                     \
        }                                                                                          \
    } while (0)

void hps_proto_trials_begin(hps_buf *b, uint32_t d)
{
    hps_buf_reset(b);
    uint32_t count = 0;
    HPS_BUF_PUT(b, count);
    HPS_BUF_PUT(b, d);
}

void hps_proto_trials_add(hps_buf *b, const hps_trial_spec *t, uint32_t d)
{
    HPS_BUF_PUT(b, t->trial_id);
    HPS_BUF_PUT(b, t->seed);
    HPS_BUF_PUT(b, t->budget);
    HPS_BUF_PUT(b, t->prev_budget);
    hps_buf_put(b, t->values, sizeof(double) * d);
    BUMP_COUNT(b, uint32_t, 0);
}

void hps_proto_results_begin(hps_buf *b, double eval_seconds)
{
    hps_buf_reset(b);
    uint32_t count = 0;
    HPS_BUF_PUT(b, count);
    HPS_BUF_PUT(b, eval_seconds);
}

void hps_proto_results_add(hps_buf *b, int64_t trial_id, const hps_outcome *o)
{
    HPS_BUF_PUT(b, trial_id);
    size_t at = b->len;
    uint32_t len = 0;
    HPS_BUF_PUT(b, len);
    hps_outcome_encode(b, o);
    if (!b->failed) {
        len = (uint32_t)(b->len - at - sizeof len);
        memcpy(b->data + at, &len, sizeof len);
    }
    BUMP_COUNT(b, uint32_t, 0);
}

void hps_proto_results_set_seconds(hps_buf *b, double eval_seconds)
{
    if (!b->failed && b->len >= sizeof(uint32_t) + sizeof(double))
        memcpy(b->data + sizeof(uint32_t), &eval_seconds, sizeof eval_seconds);
}

void hps_proto_report(hps_buf *b, int64_t trial_id, const hps_report_line *r)
{
    hps_buf_reset(b);
    uint16_t n = (uint16_t)r->n;
    HPS_BUF_PUT(b, trial_id);
    HPS_BUF_PUT(b, n);
    for (int i = 0; i < r->n; i++) {
        uint8_t l = (uint8_t)strnlen(r->names[i], HPS_METRIC_NAME_MAX);
        HPS_BUF_PUT(b, r->step);
        HPS_BUF_PUT(b, r->resource);
        HPS_BUF_PUT(b, l);
        hps_buf_put(b, r->names[i], l);
        HPS_BUF_PUT(b, r->values[i]);
    }
}

static int take(const void *msg, size_t len, size_t *off, void *out, size_t n)
{
    if (*off > len || n > len - *off)
        return HPS_ECORRUPT;
    memcpy(out, (const unsigned char *)msg + *off, n);
    *off += n;
    return HPS_OK;
}

int hps_proto_trials_count(const void *msg, size_t len, uint32_t *count, uint32_t *d)
{
    size_t off = 0;
    if (take(msg, len, &off, count, sizeof *count) || take(msg, len, &off, d, sizeof *d))
        return HPS_ECORRUPT;
    return HPS_OK;
}

int hps_proto_trials_next(const void *msg, size_t len, size_t *off, uint32_t d, hps_trial_spec *t)
{
    if (*off == 0)
        *off = 2 * sizeof(uint32_t);
    if (take(msg, len, off, &t->trial_id, sizeof t->trial_id) ||
        take(msg, len, off, &t->seed, sizeof t->seed) ||
        take(msg, len, off, &t->budget, sizeof t->budget) ||
        take(msg, len, off, &t->prev_budget, sizeof t->prev_budget) ||
        sizeof(double) * d > len - *off)
        return HPS_ECORRUPT;
    /* The buffer comes from malloc/MPI and each trial is 32 + 8d bytes after an
     * 8-byte header, so the doubles are 8-byte aligned. */
    t->values = (const double *)(const void *)((const unsigned char *)msg + *off);
    *off += sizeof(double) * d;
    return HPS_OK;
}

int hps_proto_results_count(const void *msg, size_t len, uint32_t *count, double *eval_seconds)
{
    size_t off = 0;
    if (take(msg, len, &off, count, sizeof *count) ||
        take(msg, len, &off, eval_seconds, sizeof *eval_seconds))
        return HPS_ECORRUPT;
    return HPS_OK;
}

int hps_proto_results_next(const void *msg, size_t len, size_t *off, int64_t *trial_id,
                           const void **outcome, uint32_t *outcome_len)
{
    if (*off == 0)
        *off = sizeof(uint32_t) + sizeof(double);
    if (take(msg, len, off, trial_id, sizeof *trial_id) ||
        take(msg, len, off, outcome_len, sizeof *outcome_len) || *outcome_len > len - *off)
        return HPS_ECORRUPT;
    *outcome = (const unsigned char *)msg + *off;
    *off += *outcome_len;
    return HPS_OK;
}

int hps_proto_report_decode(const void *msg, size_t len, int64_t *trial_id, hps_report_line *r)
{
    size_t off = 0;
    uint16_t n;
    if (take(msg, len, &off, trial_id, sizeof *trial_id) || take(msg, len, &off, &n, sizeof n) ||
        n > HPS_REPORT_MAX_METRICS)
        return HPS_ECORRUPT;
    r->n = 0;
    for (uint16_t i = 0; i < n; i++) {
        uint8_t l = 0;
        if (take(msg, len, &off, &r->step, sizeof r->step) ||
            take(msg, len, &off, &r->resource, sizeof r->resource) ||
            take(msg, len, &off, &l, 1) || take(msg, len, &off, r->names[i], l) ||
            take(msg, len, &off, &r->values[i], sizeof r->values[i]))
            return HPS_ECORRUPT;
        r->names[i][l] = '\0';
        r->n++;
    }
    return off == len ? HPS_OK : HPS_ECORRUPT;
}
