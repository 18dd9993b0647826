/*
 * The outcome and metric-list codec (layout in trial.h).
 */
#include "trial.h"
#include "hpsweep/error.h"

#define METRIC_BYTES (sizeof(int32_t) + sizeof(int64_t) + 2 * sizeof(double))

void hps_outcome_init(hps_outcome *o)
{
    o->status = HPS_TRIAL_FAILED;
    o->worker = 0;
    o->objective = 0.0;
    o->start = o->end = 0.0;
    o->cause[0] = '\0';
    o->exit_code = -1;
    o->attempts = 0;
    o->stderr_tail = NULL;
    o->stderr_len = 0;
    o->n_metrics = 0;
    o->metrics = NULL;
}

void hps_metrics_encode(hps_buf *b, const hps_rec_metric *m, uint32_t n)
{
    HPS_BUF_PUT(b, n);
    for (uint32_t i = 0; i < n; i++) {
        HPS_BUF_PUT(b, m[i].name_index);
        HPS_BUF_PUT(b, m[i].step);
        HPS_BUF_PUT(b, m[i].resource);
        HPS_BUF_PUT(b, m[i].value);
    }
}

int hps_metrics_decode(hps_cursor *c, hps_rec_metric *m_buf, uint32_t m_cap, uint32_t *n)
{
    HPS_CURSOR_GET(c, *n);
    if (c->bad || *n > m_cap || (size_t)*n * METRIC_BYTES > c->left)
        return HPS_ECORRUPT;
    for (uint32_t i = 0; i < *n; i++) {
        HPS_CURSOR_GET(c, m_buf[i].name_index);
        HPS_CURSOR_GET(c, m_buf[i].step);
        HPS_CURSOR_GET(c, m_buf[i].resource);
        HPS_CURSOR_GET(c, m_buf[i].value);
    }
    return c->bad ? HPS_ECORRUPT : HPS_OK;
}

uint32_t hps_metrics_bound(size_t len)
{
    size_t n = len / METRIC_BYTES + 1;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int hps_outcome_encode(hps_buf *b, const hps_outcome *o)
{
    HPS_BUF_PUT(b, o->status);
    HPS_BUF_PUT(b, o->worker);
    HPS_BUF_PUT(b, o->objective);
    HPS_BUF_PUT(b, o->start);
    HPS_BUF_PUT(b, o->end);
    uint16_t cl = (uint16_t)strnlen(o->cause, HPS_CAUSE_LEN - 1);
    HPS_BUF_PUT(b, cl);
    hps_buf_put(b, o->cause, cl);
    HPS_BUF_PUT(b, o->exit_code);
    HPS_BUF_PUT(b, o->attempts);
    uint32_t tl = o->stderr_tail ? o->stderr_len : 0;
    uint16_t sl = (uint16_t)(tl < HPS_STDERR_TAIL_LEN - 1 ? tl : HPS_STDERR_TAIL_LEN - 1);
    HPS_BUF_PUT(b, sl);
    hps_buf_put(b, o->stderr_tail, sl);
    hps_metrics_encode(b, o->metrics, o->n_metrics);
    return hps_buf_status(b);
}

/* The fixed fields that open an outcome. */
static void read_head(hps_cursor *c, hps_outcome *o)
{
    HPS_CURSOR_GET(c, o->status);
    HPS_CURSOR_GET(c, o->worker);
    HPS_CURSOR_GET(c, o->objective);
    HPS_CURSOR_GET(c, o->start);
    HPS_CURSOR_GET(c, o->end);
}

int hps_outcome_peek(const void *p, size_t len, int32_t *status, double *end)
{
    hps_cursor c = hps_cursor_make(p, len);
    hps_outcome o;
    read_head(&c, &o);
    *status = o.status;
    *end = o.end;
    return c.bad ? HPS_ECORRUPT : HPS_OK;
}

int hps_outcome_set_times(void *p, size_t len, double start, double end)
{
    size_t at = 2 * sizeof(int32_t) + sizeof(double);
    if (len < at + 2 * sizeof(double))
        return HPS_ECORRUPT;
    memcpy((unsigned char *)p + at, &start, sizeof start);
    memcpy((unsigned char *)p + at + sizeof start, &end, sizeof end);
    return HPS_OK;
}

int hps_outcome_decode(const void *p, size_t len, hps_outcome *o, hps_rec_metric *m_buf,
                       uint32_t m_cap)
{
    hps_cursor c = hps_cursor_make(p, len);
    read_head(&c, o);
    uint16_t cl = 0;
    HPS_CURSOR_GET(&c, cl);
    if (cl >= HPS_CAUSE_LEN)
        return HPS_ECORRUPT;
    hps_cursor_get(&c, o->cause, cl);
    o->cause[c.bad ? 0 : cl] = '\0';
    HPS_CURSOR_GET(&c, o->exit_code);
    HPS_CURSOR_GET(&c, o->attempts);
    uint16_t sl = 0;
    HPS_CURSOR_GET(&c, sl);
    if (c.bad || sl >= HPS_STDERR_TAIL_LEN)
        return HPS_ECORRUPT;
    const void *tail;
    hps_cursor_view(&c, &tail, sl);
    o->stderr_tail = sl ? tail : NULL;
    o->stderr_len = sl;
    if (hps_metrics_decode(&c, m_buf, m_cap, &o->n_metrics) != HPS_OK)
        return HPS_ECORRUPT;
    o->metrics = m_buf;
    return hps_cursor_finish(&c);
}
