/*
 * Packing and unpacking of journal record payloads (layouts in record.h). The
 * RESULT and REPORT payloads are core/trial.h's outcome and metric-list codecs,
 * the same bytes a worker sends.
 */
#include "hpsweep/error.h"
#include "record.h"

int hps_rec_encode_header(hps_buf *b, const hps_rec_header *h)
{
    hps_buf_reset(b);
    HPS_BUF_PUT(b, h->version);
    HPS_BUF_PUT(b, h->seed);
    HPS_BUF_PUT(b, h->created);
    HPS_BUF_PUT(b, h->config_len);
    hps_buf_put(b, h->config_text, h->config_len);
    HPS_BUF_PUT(b, h->source_len);
    hps_buf_put(b, h->source, h->source_len);
    return hps_buf_status(b);
}

int hps_rec_encode_suggest(hps_buf *b, const hps_rec_suggest *s)
{
    hps_buf_reset(b);
    HPS_BUF_PUT(b, s->seed);
    HPS_BUF_PUT(b, s->budget);
    HPS_BUF_PUT(b, s->bracket);
    HPS_BUF_PUT(b, s->rung);
    HPS_BUF_PUT(b, s->promotion);
    HPS_BUF_PUT(b, s->worker);
    HPS_BUF_PUT(b, s->start);
    HPS_BUF_PUT(b, s->n);
    hps_buf_put(b, s->u, sizeof(double) * s->n);
    return hps_buf_status(b);
}

int hps_rec_encode_dispatch(hps_buf *b, int32_t worker, double start)
{
    hps_buf_reset(b);
    HPS_BUF_PUT(b, worker);
    HPS_BUF_PUT(b, start);
    return hps_buf_status(b);
}

int hps_rec_encode_result(hps_buf *b, const hps_outcome *r)
{
    hps_buf_reset(b);
    return hps_outcome_encode(b, r);
}

int hps_rec_encode_report(hps_buf *b, const hps_rec_metric *m, uint32_t n)
{
    hps_buf_reset(b);
    hps_metrics_encode(b, m, n);
    return hps_buf_status(b);
}

int hps_rec_encode_interrupt(hps_buf *b, double when)
{
    hps_buf_reset(b);
    HPS_BUF_PUT(b, when);
    return hps_buf_status(b);
}

int hps_rec_encode_string(hps_buf *b, int32_t index, const char *s)
{
    hps_buf_reset(b);
    uint32_t n = (uint32_t)strlen(s);
    HPS_BUF_PUT(b, index);
    HPS_BUF_PUT(b, n);
    hps_buf_put(b, s, n);
    return hps_buf_status(b);
}

int hps_budget_same(const hps_rec_budget *a, const hps_rec_budget *b)
{
    return a->max_trials == b->max_trials && a->max_time == b->max_time &&
           a->max_resource == b->max_resource &&
           a->max_consecutive_failures == b->max_consecutive_failures &&
           a->parallelism == b->parallelism;
}

int hps_rec_encode_budget(hps_buf *b, const hps_rec_budget *g)
{
    hps_buf_reset(b);
    HPS_BUF_PUT(b, g->max_trials);
    HPS_BUF_PUT(b, g->max_time);
    HPS_BUF_PUT(b, g->max_resource);
    HPS_BUF_PUT(b, g->max_consecutive_failures);
    HPS_BUF_PUT(b, g->parallelism);
    return hps_buf_status(b);
}

int hps_rec_encode_feed(hps_buf *b, int64_t run)
{
    hps_buf_reset(b);
    HPS_BUF_PUT(b, run);
    return hps_buf_status(b);
}

int hps_rec_encode_prune(hps_buf *b, int64_t run, int64_t step)
{
    hps_buf_reset(b);
    HPS_BUF_PUT(b, run);
    HPS_BUF_PUT(b, step);
    return hps_buf_status(b);
}

static void put_str(hps_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    HPS_BUF_PUT(b, n);
    hps_buf_put(b, s, n);
}

int hps_rec_encode_run(hps_buf *b, uint32_t phase, const hps_prov *p)
{
    hps_buf_reset(b);
    uint32_t n = (uint32_t)p->n;
    HPS_BUF_PUT(b, phase);
    HPS_BUF_PUT(b, n);
    for (int i = 0; i < p->n; i++) {
        HPS_BUF_PUT(b, p->e[i].kind);
        HPS_BUF_PUT(b, p->e[i].index);
        put_str(b, p->e[i].key);
        put_str(b, p->e[i].value);
    }
    return hps_buf_status(b);
}

int hps_rec_decode_header(const void *p, uint32_t len, hps_rec_header *h)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, h->version);
    HPS_CURSOR_GET(&c, h->seed);
    HPS_CURSOR_GET(&c, h->created);
    HPS_CURSOR_GET(&c, h->config_len);
    const void *text, *source;
    hps_cursor_view(&c, &text, h->config_len);
    HPS_CURSOR_GET(&c, h->source_len);
    hps_cursor_view(&c, &source, h->source_len);
    h->config_text = text;
    h->source = source;
    return hps_cursor_finish(&c);
}

int hps_rec_decode_suggest(const void *p, uint32_t len, hps_rec_suggest *s, double *u_buf,
                           uint32_t u_cap)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, s->seed);
    HPS_CURSOR_GET(&c, s->budget);
    HPS_CURSOR_GET(&c, s->bracket);
    HPS_CURSOR_GET(&c, s->rung);
    HPS_CURSOR_GET(&c, s->promotion);
    HPS_CURSOR_GET(&c, s->worker);
    HPS_CURSOR_GET(&c, s->start);
    HPS_CURSOR_GET(&c, s->n);
    if (c.bad || s->n > u_cap)
        return HPS_ECORRUPT;
    hps_cursor_get(&c, u_buf, sizeof(double) * s->n);
    s->u = u_buf;
    return hps_cursor_finish(&c);
}

int hps_rec_decode_dispatch(const void *p, uint32_t len, int32_t *worker, double *start)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, *worker);
    HPS_CURSOR_GET(&c, *start);
    return hps_cursor_finish(&c);
}

int hps_rec_decode_result(const void *p, uint32_t len, hps_outcome *r, hps_rec_metric *m_buf,
                          uint32_t m_cap)
{
    return hps_outcome_decode(p, len, r, m_buf, m_cap);
}

int hps_rec_decode_report(const void *p, uint32_t len, hps_rec_metric *m_buf, uint32_t m_cap,
                          uint32_t *n)
{
    hps_cursor c = hps_cursor_make(p, len);
    if (hps_metrics_decode(&c, m_buf, m_cap, n) != HPS_OK)
        return HPS_ECORRUPT;
    return hps_cursor_finish(&c);
}

int hps_rec_decode_interrupt(const void *p, uint32_t len, double *when)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, *when);
    return hps_cursor_finish(&c);
}

int hps_rec_decode_string(const void *p, uint32_t len, int32_t *index, const char **s,
                          uint32_t *slen)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, *index);
    HPS_CURSOR_GET(&c, *slen);
    const void *v;
    hps_cursor_view(&c, &v, *slen);
    *s = v;
    return hps_cursor_finish(&c);
}

int hps_rec_decode_budget(const void *p, uint32_t len, hps_rec_budget *g)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, g->max_trials);
    HPS_CURSOR_GET(&c, g->max_time);
    HPS_CURSOR_GET(&c, g->max_resource);
    HPS_CURSOR_GET(&c, g->max_consecutive_failures);
    HPS_CURSOR_GET(&c, g->parallelism);
    return hps_cursor_finish(&c);
}

int hps_rec_decode_feed(const void *p, uint32_t len, int64_t *run)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, *run);
    return hps_cursor_finish(&c);
}

int hps_rec_decode_prune(const void *p, uint32_t len, int64_t *run, int64_t *step)
{
    hps_cursor c = hps_cursor_make(p, len);
    HPS_CURSOR_GET(&c, *run);
    HPS_CURSOR_GET(&c, *step);
    return hps_cursor_finish(&c);
}

int hps_rec_decode_run(const void *p, uint32_t len, uint32_t *phase, hps_prov *out)
{
    hps_cursor c = hps_cursor_make(p, len);
    uint32_t n;
    HPS_CURSOR_GET(&c, *phase);
    HPS_CURSOR_GET(&c, n);
    for (uint32_t i = 0; i < n && !c.bad; i++) {
        int32_t kind, index;
        uint32_t klen, vlen;
        const void *key, *value;
        HPS_CURSOR_GET(&c, kind);
        HPS_CURSOR_GET(&c, index);
        HPS_CURSOR_GET(&c, klen);
        hps_cursor_view(&c, &key, klen);
        HPS_CURSOR_GET(&c, vlen);
        hps_cursor_view(&c, &value, vlen);
        if (c.bad || kind < HPS_PROV_RUN || kind > HPS_PROV_FILE || index < 0 || klen == 0)
            return HPS_ECORRUPT;
        if (hps_prov_addn(out, kind, index, key, klen, value, vlen) != HPS_OK)
            return HPS_ENOMEM;
    }
    return *phase > 1 ? HPS_ECORRUPT : hps_cursor_finish(&c);
}
