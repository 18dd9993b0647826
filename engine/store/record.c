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

/* ---- compact forms (journal layout 2; layouts in record.h) ------------------------ */

void hps_put_uvarint(hps_buf *b, uint64_t v)
{
    unsigned char t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (unsigned char)v;
    hps_buf_put(b, t, n);
}

uint64_t hps_get_uvarint(hps_cursor *c)
{
    if (c->bad)
        return 0;
    size_t n = c->left < 10 ? c->left : 10;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char byte = c->p[i];
        if (i == 9 && byte > 1)
            break; /* more than 64 bits */
        v |= (uint64_t)(byte & 0x7F) << (7 * i);
        if (!(byte & 0x80)) {
            c->p += i + 1;
            c->left -= i + 1;
            return v;
        }
    }
    c->bad = 1;
    return 0;
}

static void put_zz(hps_buf *b, int64_t v)
{
    hps_put_uvarint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static int64_t get_zz(hps_cursor *c)
{
    uint64_t u = hps_get_uvarint(c);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A zigzag varint that must fit an int32 (else the cursor goes bad). */
static int32_t get_zz32(hps_cursor *c)
{
    int64_t v = get_zz(c);
    if (v < INT32_MIN || v > INT32_MAX) {
        c->bad = 1;
        return 0;
    }
    return (int32_t)v;
}

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double double_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Whether a float holds d exactly (bit for bit, so NaN payloads and -0 count). */
static int float_exact(double d)
{
    float f = (float)d;
    return d == d && bits_of((double)f) == bits_of(d);
}

static void put_time(hps_buf *b, double t, hps_rec_pack_ctx *ctx)
{
    uint64_t u = bits_of(t);
    hps_put_uvarint(b, u ^ ctx->time_bits);
    ctx->time_bits = u;
}

static double get_time(hps_cursor *c, hps_rec_pack_ctx *ctx)
{
    ctx->time_bits ^= hps_get_uvarint(c);
    return double_of(ctx->time_bits);
}

enum {
    SG_BUDGET = 1, SG_BRACKET = 2, SG_RUNG = 4, SG_PROMOTION = 8, SG_FLOATS = 16
};

static int compact_suggest(hps_buf *b, const void *p, uint32_t len, hps_rec_pack_ctx *ctx)
{
    hps_cursor c = hps_cursor_make(p, len);
    uint64_t seed;
    double budget, start;
    int32_t bracket, rung, promotion, worker;
    uint32_t n;
    HPS_CURSOR_GET(&c, seed);
    HPS_CURSOR_GET(&c, budget);
    HPS_CURSOR_GET(&c, bracket);
    HPS_CURSOR_GET(&c, rung);
    HPS_CURSOR_GET(&c, promotion);
    HPS_CURSOR_GET(&c, worker);
    HPS_CURSOR_GET(&c, start);
    HPS_CURSOR_GET(&c, n);
    if (c.bad || c.left != (size_t)n * sizeof(double))
        return HPS_EINVAL;
    unsigned char flags = (unsigned char)((bits_of(budget) != 0 ? SG_BUDGET : 0) |
                                          (bracket != -1 ? SG_BRACKET : 0) |
                                          (rung != -1 ? SG_RUNG : 0) |
                                          (promotion != 0 ? SG_PROMOTION : 0) | SG_FLOATS);
    for (uint32_t i = 0; i < n && (flags & SG_FLOATS); i++) {
        double u;
        memcpy(&u, c.p + (size_t)i * sizeof u, sizeof u);
        if (!float_exact(u))
            flags &= (unsigned char)~SG_FLOATS;
    }
    HPS_BUF_PUT(b, flags);
    HPS_BUF_PUT(b, seed);
    if (flags & SG_BUDGET)
        HPS_BUF_PUT(b, budget);
    if (flags & SG_BRACKET)
        put_zz(b, bracket);
    if (flags & SG_RUNG)
        put_zz(b, rung);
    if (flags & SG_PROMOTION)
        put_zz(b, promotion);
    put_zz(b, worker);
    put_time(b, start, ctx);
    hps_put_uvarint(b, n);
    for (uint32_t i = 0; i < n; i++) {
        double u;
        memcpy(&u, c.p + (size_t)i * sizeof u, sizeof u);
        if (flags & SG_FLOATS) {
            float f = (float)u;
            HPS_BUF_PUT(b, f);
        } else {
            HPS_BUF_PUT(b, u);
        }
    }
    return hps_buf_status(b);
}

static int expand_suggest(hps_cursor *c, hps_buf *out, size_t max_len, hps_rec_pack_ctx *ctx)
{
    unsigned char flags;
    uint64_t seed;
    double budget = 0.0;
    int32_t bracket = -1, rung = -1, promotion = 0;
    HPS_CURSOR_GET(c, flags);
    HPS_CURSOR_GET(c, seed);
    if (flags & ~(SG_BUDGET | SG_BRACKET | SG_RUNG | SG_PROMOTION | SG_FLOATS))
        return HPS_ECORRUPT;
    if (flags & SG_BUDGET)
        HPS_CURSOR_GET(c, budget);
    if (flags & SG_BRACKET)
        bracket = get_zz32(c);
    if (flags & SG_RUNG)
        rung = get_zz32(c);
    if (flags & SG_PROMOTION)
        promotion = get_zz32(c);
    int32_t worker = get_zz32(c);
    double start = get_time(c, ctx);
    uint64_t n = hps_get_uvarint(c);
    size_t each = (flags & SG_FLOATS) ? sizeof(float) : sizeof(double);
    if (c->bad || n > c->left / each || 44 + n * sizeof(double) > max_len)
        return HPS_ECORRUPT;
    uint32_t n32 = (uint32_t)n;
    HPS_BUF_PUT(out, seed);
    HPS_BUF_PUT(out, budget);
    HPS_BUF_PUT(out, bracket);
    HPS_BUF_PUT(out, rung);
    HPS_BUF_PUT(out, promotion);
    HPS_BUF_PUT(out, worker);
    HPS_BUF_PUT(out, start);
    HPS_BUF_PUT(out, n32);
    for (uint64_t i = 0; i < n; i++) {
        double u;
        if (flags & SG_FLOATS) {
            float f;
            HPS_CURSOR_GET(c, f);
            u = f;
        } else {
            HPS_CURSOR_GET(c, u);
        }
        HPS_BUF_PUT(out, u);
    }
    return c->bad ? HPS_ECORRUPT : hps_buf_status(out);
}

enum { MT_RESOURCE_IS_STEP = 1, MT_VALUE = 2 };
#define METRIC_SIZE 28u /* i32 name, i64 step, f64 resource, f64 value */

/* The metric list (u32 n, n metrics) at c, which must end exactly there, compacted.
 * obj: the objective's bits when a metric may leave its value out (RESULT). */
static int compact_metrics(hps_buf *b, hps_cursor *c, const uint64_t *obj)
{
    uint32_t n;
    HPS_CURSOR_GET(c, n);
    if (c->bad || c->left != (size_t)n * METRIC_SIZE)
        return HPS_EINVAL;
    hps_put_uvarint(b, n);
    for (uint32_t i = 0; i < n; i++) {
        int32_t name;
        int64_t step;
        double resource, value;
        HPS_CURSOR_GET(c, name);
        HPS_CURSOR_GET(c, step);
        HPS_CURSOR_GET(c, resource);
        HPS_CURSOR_GET(c, value);
        unsigned char f = (unsigned char)(
            (bits_of(resource) == bits_of((double)step) ? MT_RESOURCE_IS_STEP : 0) |
            (obj && bits_of(value) == *obj ? 0 : MT_VALUE));
        HPS_BUF_PUT(b, f);
        put_zz(b, name);
        put_zz(b, step);
        if (!(f & MT_RESOURCE_IS_STEP))
            HPS_BUF_PUT(b, resource);
        if (f & MT_VALUE)
            HPS_BUF_PUT(b, value);
    }
    return hps_buf_status(b);
}

static int expand_metrics(hps_cursor *c, hps_buf *out, size_t max_len, const uint64_t *obj)
{
    uint64_t n = hps_get_uvarint(c);
    /* each compact metric takes at least 3 bytes */
    if (c->bad || n > c->left / 3 || out->len + 4 + n * METRIC_SIZE > max_len)
        return HPS_ECORRUPT;
    uint32_t n32 = (uint32_t)n;
    HPS_BUF_PUT(out, n32);
    for (uint64_t i = 0; i < n && !c->bad; i++) {
        unsigned char f;
        HPS_CURSOR_GET(c, f);
        if ((f & ~(MT_RESOURCE_IS_STEP | MT_VALUE)) || (!obj && !(f & MT_VALUE)))
            return HPS_ECORRUPT;
        int32_t name = get_zz32(c);
        int64_t step = get_zz(c);
        double resource = (double)step, value = obj ? double_of(*obj) : 0.0;
        if (!(f & MT_RESOURCE_IS_STEP))
            HPS_CURSOR_GET(c, resource);
        if (f & MT_VALUE)
            HPS_CURSOR_GET(c, value);
        HPS_BUF_PUT(out, name);
        HPS_BUF_PUT(out, step);
        HPS_BUF_PUT(out, resource);
        HPS_BUF_PUT(out, value);
    }
    return c->bad ? HPS_ECORRUPT : hps_buf_status(out);
}

enum {
    RS_CAUSE = 1, RS_EXIT = 2, RS_ATTEMPTS = 4, RS_STDERR = 8, RS_OBJ_METRIC = 16,
    RS_NO_METRICS = 32
};

static int compact_result(hps_buf *b, const void *p, uint32_t len, hps_rec_pack_ctx *ctx)
{
    hps_cursor c = hps_cursor_make(p, len);
    int32_t status, worker, exit_code, attempts;
    double objective, start, end;
    uint16_t cl, sl;
    const void *cause, *tail;
    HPS_CURSOR_GET(&c, status);
    HPS_CURSOR_GET(&c, worker);
    HPS_CURSOR_GET(&c, objective);
    HPS_CURSOR_GET(&c, start);
    HPS_CURSOR_GET(&c, end);
    HPS_CURSOR_GET(&c, cl);
    hps_cursor_view(&c, &cause, cl);
    HPS_CURSOR_GET(&c, exit_code);
    HPS_CURSOR_GET(&c, attempts);
    HPS_CURSOR_GET(&c, sl);
    hps_cursor_view(&c, &tail, sl);
    uint32_t n = 0;
    if (c.left >= sizeof n)
        memcpy(&n, c.p, sizeof n);
    if (c.bad || c.left < sizeof n || c.left != sizeof n + (size_t)n * METRIC_SIZE)
        return HPS_EINVAL;
    uint64_t obj = bits_of(objective);
    unsigned char flags = (unsigned char)((cl ? RS_CAUSE : 0) | (exit_code != -1 ? RS_EXIT : 0) |
                                          (attempts != 0 ? RS_ATTEMPTS : 0) |
                                          (sl ? RS_STDERR : 0) | (n == 0 ? RS_NO_METRICS : 0));
    int32_t name = 0;
    int64_t step = 0;
    double resource = 0.0, value = 0.0;
    if (n == 1) {
        const unsigned char *m = c.p + sizeof n;
        memcpy(&name, m, sizeof name);
        memcpy(&step, m + 4, sizeof step);
        memcpy(&resource, m + 12, sizeof resource);
        memcpy(&value, m + 20, sizeof value);
        if (name == 0 && bits_of(value) == obj && bits_of(resource) == bits_of((double)step))
            flags |= RS_OBJ_METRIC;
    }
    size_t mark = b->len;
    HPS_BUF_PUT(b, flags);
    put_zz(b, status);
    put_zz(b, worker);
    HPS_BUF_PUT(b, objective);
    put_time(b, start, ctx);
    hps_put_uvarint(b, bits_of(end) ^ bits_of(start));
    ctx->time_bits = bits_of(end);
    if (flags & RS_CAUSE) {
        hps_put_uvarint(b, cl);
        hps_buf_put(b, cause, cl);
    }
    if (flags & RS_EXIT)
        put_zz(b, exit_code);
    if (flags & RS_ATTEMPTS)
        put_zz(b, attempts);
    if (flags & RS_STDERR) {
        hps_put_uvarint(b, sl);
        hps_buf_put(b, tail, sl);
    }
    if (flags & RS_OBJ_METRIC) {
        put_zz(b, step);
        return hps_buf_status(b);
    }
    if (flags & RS_NO_METRICS)
        return hps_buf_status(b);
    int rc = compact_metrics(b, &c, &obj);
    if (rc == HPS_EINVAL)
        b->len = mark; /* cannot happen: the list was checked above */
    return rc;
}

/* A u16 length and that many bytes, from a varint length. */
static void expand_bytes(hps_cursor *c, hps_buf *out)
{
    uint64_t n = hps_get_uvarint(c);
    if (c->bad || n == 0 || n > UINT16_MAX || n > c->left) {
        c->bad = 1;
        return;
    }
    uint16_t n16 = (uint16_t)n;
    const void *v;
    HPS_BUF_PUT(out, n16);
    hps_cursor_view(c, &v, n);
    hps_buf_put(out, v, n);
}

static int expand_result(hps_cursor *c, hps_buf *out, size_t max_len, hps_rec_pack_ctx *ctx)
{
    unsigned char flags;
    double objective;
    HPS_CURSOR_GET(c, flags);
    if ((flags & ~(RS_CAUSE | RS_EXIT | RS_ATTEMPTS | RS_STDERR | RS_OBJ_METRIC |
                   RS_NO_METRICS)) ||
        (flags & RS_OBJ_METRIC && flags & RS_NO_METRICS))
        return HPS_ECORRUPT;
    int32_t status = get_zz32(c);
    int32_t worker = get_zz32(c);
    HPS_CURSOR_GET(c, objective);
    double start = get_time(c, ctx);
    ctx->time_bits ^= hps_get_uvarint(c);
    double end = double_of(ctx->time_bits);
    HPS_BUF_PUT(out, status);
    HPS_BUF_PUT(out, worker);
    HPS_BUF_PUT(out, objective);
    HPS_BUF_PUT(out, start);
    HPS_BUF_PUT(out, end);
    uint16_t zero16 = 0;
    if (flags & RS_CAUSE)
        expand_bytes(c, out);
    else
        HPS_BUF_PUT(out, zero16);
    int32_t exit_code = (flags & RS_EXIT) ? get_zz32(c) : -1;
    int32_t attempts = (flags & RS_ATTEMPTS) ? get_zz32(c) : 0;
    HPS_BUF_PUT(out, exit_code);
    HPS_BUF_PUT(out, attempts);
    if (flags & RS_STDERR)
        expand_bytes(c, out);
    else
        HPS_BUF_PUT(out, zero16);
    if (c->bad || out->len > max_len)
        return HPS_ECORRUPT;
    if (flags & RS_OBJ_METRIC) {
        uint32_t one = 1;
        int32_t name = 0;
        int64_t step = get_zz(c);
        double resource = (double)step;
        HPS_BUF_PUT(out, one);
        HPS_BUF_PUT(out, name);
        HPS_BUF_PUT(out, step);
        HPS_BUF_PUT(out, resource);
        HPS_BUF_PUT(out, objective);
    } else if (flags & RS_NO_METRICS) {
        uint32_t none = 0;
        HPS_BUF_PUT(out, none);
    } else {
        uint64_t obj = bits_of(objective);
        int rc = expand_metrics(c, out, max_len, &obj);
        if (rc != HPS_OK)
            return rc;
    }
    if (c->bad || out->len > max_len)
        return HPS_ECORRUPT;
    return hps_buf_status(out);
}

int hps_rec_compact(hps_buf *b, uint32_t type, const void *p, uint32_t len,
                    hps_rec_pack_ctx *ctx)
{
    size_t mark = b->len;
    hps_rec_pack_ctx saved = *ctx;
    int rc;
    switch (type) {
    case HPS_REC_SUGGEST:
        rc = compact_suggest(b, p, len, ctx);
        break;
    case HPS_REC_RESULT:
        rc = compact_result(b, p, len, ctx);
        break;
    case HPS_REC_REPORT: {
        hps_cursor c = hps_cursor_make(p, len);
        rc = compact_metrics(b, &c, NULL);
        break;
    }
    default:
        rc = HPS_EINVAL;
    }
    if (rc != HPS_OK && !b->failed) {
        b->len = mark;
        *ctx = saved;
    }
    return rc;
}

int hps_rec_expand(hps_cursor *c, uint32_t type, hps_buf *out, size_t max_len,
                   hps_rec_pack_ctx *ctx)
{
    hps_buf_reset(out);
    int rc;
    switch (type) {
    case HPS_REC_SUGGEST:
        rc = expand_suggest(c, out, max_len, ctx);
        break;
    case HPS_REC_RESULT:
        rc = expand_result(c, out, max_len, ctx);
        break;
    case HPS_REC_REPORT:
        rc = expand_metrics(c, out, max_len, NULL);
        break;
    default:
        rc = HPS_ECORRUPT;
    }
    if (rc == HPS_OK && (c->bad || c->left != 0))
        rc = HPS_ECORRUPT;
    return rc;
}
