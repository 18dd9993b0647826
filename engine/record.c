/*
 * Packing and unpacking of journal record payloads (layouts in record.h).
 * Fields are written in host byte order through memcpy; hpsweep targets
 * little-endian machines (x86-64, aarch64), which the journal header documents.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/record.h"
#include "hpsweep/error.h"

void hps_buf_reset(hps_buf *b)
{
    b->len = 0;
    b->failed = 0;
}

void hps_buf_free(hps_buf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void hps_buf_grow(hps_buf *b, size_t n)
{
    if (b->failed || b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    unsigned char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return;
    }
    b->data = d;
    b->cap = cap;
}

#define PUT(b, v) hps_buf_put((b), &(v), sizeof(v))

static int done(hps_buf *b)
{
    return b->failed ? HPS_ENOMEM : HPS_OK;
}

int hps_rec_encode_header(hps_buf *b, const hps_rec_header *h)
{
    hps_buf_reset(b);
    PUT(b, h->version);
    PUT(b, h->seed);
    PUT(b, h->created);
    PUT(b, h->config_len);
    hps_buf_put(b, h->config_text, h->config_len);
    PUT(b, h->source_len);
    hps_buf_put(b, h->source, h->source_len);
    return done(b);
}

int hps_rec_encode_suggest(hps_buf *b, const hps_rec_suggest *s)
{
    hps_buf_reset(b);
    PUT(b, s->seed);
    PUT(b, s->budget);
    PUT(b, s->bracket);
    PUT(b, s->rung);
    PUT(b, s->promotion);
    PUT(b, s->worker);
    PUT(b, s->start);
    PUT(b, s->n);
    hps_buf_put(b, s->u, sizeof(double) * s->n);
    return done(b);
}

int hps_rec_encode_dispatch(hps_buf *b, int32_t worker, double start)
{
    hps_buf_reset(b);
    PUT(b, worker);
    PUT(b, start);
    return done(b);
}

static void put_metrics(hps_buf *b, const hps_rec_metric *m, uint32_t n)
{
    PUT(b, n);
    for (uint32_t i = 0; i < n; i++) {
        PUT(b, m[i].name_index);
        PUT(b, m[i].step);
        PUT(b, m[i].resource);
        PUT(b, m[i].value);
    }
}

int hps_rec_encode_result(hps_buf *b, const hps_rec_result *r)
{
    hps_buf_reset(b);
    PUT(b, r->status);
    PUT(b, r->worker);
    PUT(b, r->objective);
    PUT(b, r->start);
    PUT(b, r->end);
    uint16_t cl = (uint16_t)strnlen(r->cause, HPS_CAUSE_LEN - 1);
    PUT(b, cl);
    hps_buf_put(b, r->cause, cl);
    PUT(b, r->exit_code);
    PUT(b, r->attempts);
    uint16_t sl = r->stderr_tail ? (uint16_t)strnlen(r->stderr_tail, HPS_STDERR_TAIL_LEN - 1) : 0;
    PUT(b, sl);
    hps_buf_put(b, r->stderr_tail, sl);
    put_metrics(b, r->metrics, r->n_metrics);
    return done(b);
}

int hps_rec_encode_report(hps_buf *b, const hps_rec_metric *m, uint32_t n)
{
    hps_buf_reset(b);
    put_metrics(b, m, n);
    return done(b);
}

int hps_rec_encode_interrupt(hps_buf *b, double when)
{
    hps_buf_reset(b);
    PUT(b, when);
    return done(b);
}

int hps_rec_encode_string(hps_buf *b, int32_t index, const char *s)
{
    hps_buf_reset(b);
    uint32_t n = (uint32_t)strlen(s);
    PUT(b, index);
    PUT(b, n);
    hps_buf_put(b, s, n);
    return done(b);
}

/* ---- decoding: a cursor that refuses to read past the end ---------------------- */

typedef struct cursor {
    const unsigned char *p;
    uint32_t left;
    int bad;
} cursor;

static void get(cursor *c, void *out, size_t n)
{
    if (c->bad || c->left < n) {
        c->bad = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, c->p, n);
    c->p += n;
    c->left -= (uint32_t)n;
}

#define GET(c, v) get((c), &(v), sizeof(v))

static int finish(const cursor *c)
{
    return (c->bad || c->left != 0) ? HPS_ECORRUPT : HPS_OK;
}

static int get_metrics(cursor *c, hps_rec_metric *m_buf, uint32_t m_cap, uint32_t *n)
{
    GET(c, *n);
    if (c->bad || *n > m_cap)
        return HPS_ECORRUPT;
    for (uint32_t i = 0; i < *n; i++) {
        GET(c, m_buf[i].name_index);
        GET(c, m_buf[i].step);
        GET(c, m_buf[i].resource);
        GET(c, m_buf[i].value);
    }
    return c->bad ? HPS_ECORRUPT : HPS_OK;
}

int hps_rec_decode_header(const void *p, uint32_t len, hps_rec_header *h)
{
    cursor c = {p, len, 0};
    GET(&c, h->version);
    GET(&c, h->seed);
    GET(&c, h->created);
    GET(&c, h->config_len);
    if (c.bad || c.left < h->config_len)
        return HPS_ECORRUPT;
    h->config_text = (const char *)c.p;
    c.p += h->config_len;
    c.left -= h->config_len;
    GET(&c, h->source_len);
    if (c.bad || c.left != h->source_len)
        return HPS_ECORRUPT;
    h->source = (const char *)c.p;
    return HPS_OK;
}

int hps_rec_decode_suggest(const void *p, uint32_t len, hps_rec_suggest *s, double *u_buf,
                           uint32_t u_cap)
{
    cursor c = {p, len, 0};
    GET(&c, s->seed);
    GET(&c, s->budget);
    GET(&c, s->bracket);
    GET(&c, s->rung);
    GET(&c, s->promotion);
    GET(&c, s->worker);
    GET(&c, s->start);
    GET(&c, s->n);
    if (c.bad || s->n > u_cap)
        return HPS_ECORRUPT;
    get(&c, u_buf, sizeof(double) * s->n);
    s->u = u_buf;
    return finish(&c);
}

int hps_rec_decode_dispatch(const void *p, uint32_t len, int32_t *worker, double *start)
{
    cursor c = {p, len, 0};
    GET(&c, *worker);
    GET(&c, *start);
    return finish(&c);
}

int hps_rec_decode_result(const void *p, uint32_t len, hps_rec_result *r, hps_rec_metric *m_buf,
                          uint32_t m_cap)
{
    cursor c = {p, len, 0};
    GET(&c, r->status);
    GET(&c, r->worker);
    GET(&c, r->objective);
    GET(&c, r->start);
    GET(&c, r->end);
    uint16_t cl = 0;
    GET(&c, cl);
    if (cl >= HPS_CAUSE_LEN)
        return HPS_ECORRUPT;
    get(&c, r->cause, cl);
    r->cause[c.bad ? 0 : cl] = '\0';
    GET(&c, r->exit_code);
    GET(&c, r->attempts);
    uint16_t sl = 0;
    GET(&c, sl);
    if (c.bad || sl >= HPS_STDERR_TAIL_LEN || c.left < sl)
        return HPS_ECORRUPT;
    r->stderr_tail = (const char *)c.p;
    r->stderr_len = sl;
    c.p += sl;
    c.left -= sl;
    if (get_metrics(&c, m_buf, m_cap, &r->n_metrics) != HPS_OK)
        return HPS_ECORRUPT;
    r->metrics = m_buf;
    return finish(&c);
}

int hps_rec_decode_report(const void *p, uint32_t len, hps_rec_metric *m_buf, uint32_t m_cap,
                          uint32_t *n)
{
    cursor c = {p, len, 0};
    if (get_metrics(&c, m_buf, m_cap, n) != HPS_OK)
        return HPS_ECORRUPT;
    return finish(&c);
}

int hps_rec_decode_interrupt(const void *p, uint32_t len, double *when)
{
    cursor c = {p, len, 0};
    GET(&c, *when);
    return finish(&c);
}

int hps_rec_decode_string(const void *p, uint32_t len, int32_t *index, const char **s,
                          uint32_t *slen)
{
    cursor c = {p, len, 0};
    GET(&c, *index);
    GET(&c, *slen);
    if (c.bad || c.left != *slen)
        return HPS_ECORRUPT;
    *s = (const char *)c.p;
    return HPS_OK;
}
