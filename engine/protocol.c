/*
 * Message packing for the coordinator/worker protocol (layouts in protocol.h),
 * the backoff waits that keep idle ranks off the CPU, and the MPI check macro's
 * failure path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/protocol.h"
#include "hpsweep/error.h"

#define PUT(b, v) hps_buf_put((b), &(v), sizeof(v))

void hps_proto_trials_begin(hps_buf *b, uint32_t d)
{
    hps_buf_reset(b);
    uint32_t count = 0;
    PUT(b, count);
    PUT(b, d);
}

void hps_proto_trials_add(hps_buf *b, int64_t trial_id, uint64_t seed, double budget,
                          double prev_budget, const double *values, uint32_t d)
{
    PUT(b, trial_id);
    PUT(b, seed);
    PUT(b, budget);
    PUT(b, prev_budget);
    hps_buf_put(b, values, sizeof(double) * d);
    if (!b->failed) {
        uint32_t count;
        memcpy(&count, b->data, sizeof count);
        count++;
        memcpy(b->data, &count, sizeof count);
    }
}

void hps_proto_results_begin(hps_buf *b, double eval_seconds)
{
    hps_buf_reset(b);
    uint32_t count = 0;
    PUT(b, count);
    PUT(b, eval_seconds);
}

void hps_proto_results_add(hps_buf *b, const hps_wire_result *r)
{
    PUT(b, r->trial_id);
    PUT(b, r->status);
    PUT(b, r->objective);
    PUT(b, r->start);
    PUT(b, r->end);
    uint8_t cl = (uint8_t)strnlen(r->cause, HPS_CAUSE_LEN - 1);
    PUT(b, cl);
    hps_buf_put(b, r->cause, cl);
    PUT(b, r->exit_code);
    PUT(b, r->attempts);
    uint16_t sl = (uint16_t)strnlen(r->stderr_tail, HPS_STDERR_TAIL_LEN - 1);
    PUT(b, sl);
    hps_buf_put(b, r->stderr_tail, sl);
    if (!b->failed) {
        uint32_t count;
        memcpy(&count, b->data, sizeof count);
        count++;
        memcpy(b->data, &count, sizeof count);
    }
}

static int take(const void *msg, size_t len, size_t *off, void *out, size_t n)
{
    if (*off + n > len)
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

int hps_proto_trials_next(const void *msg, size_t len, size_t *off, uint32_t d, hps_wire_trial *t)
{
    if (*off == 0)
        *off = 2 * sizeof(uint32_t);
    if (take(msg, len, off, &t->trial_id, sizeof t->trial_id) ||
        take(msg, len, off, &t->seed, sizeof t->seed) ||
        take(msg, len, off, &t->budget, sizeof t->budget) ||
        take(msg, len, off, &t->prev_budget, sizeof t->prev_budget) ||
        *off + sizeof(double) * d > len)
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

int hps_proto_results_next(const void *msg, size_t len, size_t *off, hps_wire_result *r)
{
    if (*off == 0)
        *off = sizeof(uint32_t) + sizeof(double);
    uint8_t cl = 0;
    if (take(msg, len, off, &r->trial_id, sizeof r->trial_id) ||
        take(msg, len, off, &r->status, sizeof r->status) ||
        take(msg, len, off, &r->objective, sizeof r->objective) ||
        take(msg, len, off, &r->start, sizeof r->start) ||
        take(msg, len, off, &r->end, sizeof r->end) || take(msg, len, off, &cl, 1) ||
        cl >= HPS_CAUSE_LEN || take(msg, len, off, r->cause, cl))
        return HPS_ECORRUPT;
    r->cause[cl] = '\0';
    uint16_t sl = 0;
    if (take(msg, len, off, &r->exit_code, sizeof r->exit_code) ||
        take(msg, len, off, &r->attempts, sizeof r->attempts) ||
        take(msg, len, off, &sl, sizeof sl) || sl >= HPS_STDERR_TAIL_LEN ||
        take(msg, len, off, r->stderr_tail, sl))
        return HPS_ECORRUPT;
    r->stderr_tail[sl] = '\0';
    return HPS_OK;
}

void hps_proto_report_begin(hps_buf *b, int64_t trial_id)
{
    hps_buf_reset(b);
    uint16_t n = 0;
    PUT(b, trial_id);
    PUT(b, n);
}

void hps_proto_report_add(hps_buf *b, int64_t step, double resource, const char *name,
                          double value)
{
    size_t nl = strnlen(name, HPS_METRIC_NAME_MAX);
    uint8_t l = (uint8_t)nl;
    PUT(b, step);
    PUT(b, resource);
    PUT(b, l);
    hps_buf_put(b, name, l);
    PUT(b, value);
    if (!b->failed) {
        uint16_t n;
        memcpy(&n, b->data + sizeof(int64_t), sizeof n);
        n++;
        memcpy(b->data + sizeof(int64_t), &n, sizeof n);
    }
}

int hps_proto_report_count(const void *msg, size_t len, int64_t *trial_id, uint32_t *count)
{
    size_t off = 0;
    uint16_t n;
    if (take(msg, len, &off, trial_id, sizeof *trial_id) || take(msg, len, &off, &n, sizeof n))
        return HPS_ECORRUPT;
    *count = n;
    return HPS_OK;
}

int hps_proto_report_next(const void *msg, size_t len, size_t *off, hps_wire_metric *m)
{
    if (*off == 0)
        *off = sizeof(int64_t) + sizeof(uint16_t);
    uint8_t l = 0;
    if (take(msg, len, off, &m->step, sizeof m->step) ||
        take(msg, len, off, &m->resource, sizeof m->resource) || take(msg, len, off, &l, 1) ||
        *off + l > len)
        return HPS_ECORRUPT;
    m->name = (const char *)msg + *off;
    m->name_len = l;
    *off += l;
    return take(msg, len, off, &m->value, sizeof m->value);
}

void hps_proto_recv(const MPI_Status *st, unsigned char **buf, size_t *cap, int *len)
{
    int n;
    mpiCheck(MPI_Get_count(st, MPI_BYTE, &n));
    if ((size_t)n > *cap || !*buf) {
        size_t ncap = (size_t)n > 64 ? (size_t)n : 64;
        unsigned char *nb = realloc(*buf, ncap);
        if (!nb)
            hps_mpi_fail(MPI_ERR_NO_MEM, "allocating a message buffer", __FILE__, __LINE__);
        *buf = nb;
        *cap = ncap;
    }
    mpiCheck(MPI_Recv(*buf, n, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD,
                      MPI_STATUS_IGNORE));
    *len = n;
}

void hps_backoff_reset(hps_backoff *b)
{
    b->ns = 0;
}

void hps_backoff_sleep(hps_backoff *b)
{
    if (b->ns == 0)
        b->ns = 20000;
    struct timespec ts = {0, b->ns};
    nanosleep(&ts, NULL);
    b->ns *= 2;
    if (b->ns > 1000000)
        b->ns = 1000000;
}

int hps_wait_request(MPI_Request *req, volatile int *stop_flag, int *done)
{
    hps_backoff bo;
    hps_backoff_reset(&bo);
    *done = 0;
    for (;;) {
        int rc = MPI_Test(req, done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || *done)
            return rc;
        if (stop_flag && *stop_flag)
            return MPI_SUCCESS;
        hps_backoff_sleep(&bo);
    }
}

void hps_mpi_fail(int rc, const char *what, const char *file, int line)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", rc);
    fprintf(stderr, "hpsweep: %s:%d: %s failed: %s\n", file, line, what, msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}
