/*
 * Unit tests for journal record payloads (engine/record.c): every record type
 * (deterministic mode's FEED and PRUNE, a run's provenance in RUN included)
 * round-trips through encode/decode; every truncation of an encoded payload and
 * every payload with trailing bytes decodes to HPS_ECORRUPT; too small u / metric
 * buffers are refused; the growable buffer works across many appends. The compact
 * forms of journal layout 2: varints at their boundaries, every SUGGEST, RESULT and
 * REPORT field at its default and at other values back bit for bit, payloads that
 * do not parse left as they are, and every truncation or bad flag of a compact form
 * HPS_ECORRUPT (never a crash).
 *
 * Truncated copies are made into exact-size heap blocks so ASan catches any read
 * past the payload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/record.h"
#include "hpsweep/error.h"

/* A record type's decoder, as one signature (out-parameters are scratch). */
typedef int (*decode_fn)(const void *p, uint32_t len);

static double u_scratch[16];
static hps_rec_metric m_scratch[16];

static int dec_header(const void *p, uint32_t len)
{
    hps_rec_header h;
    return hps_rec_decode_header(p, len, &h);
}

static int dec_suggest(const void *p, uint32_t len)
{
    hps_rec_suggest s;
    return hps_rec_decode_suggest(p, len, &s, u_scratch, 16);
}

static int dec_dispatch(const void *p, uint32_t len)
{
    int32_t w;
    double st;
    return hps_rec_decode_dispatch(p, len, &w, &st);
}

static int dec_result(const void *p, uint32_t len)
{
    hps_outcome r;
    return hps_rec_decode_result(p, len, &r, m_scratch, 16);
}

static int dec_interrupt(const void *p, uint32_t len)
{
    double w;
    return hps_rec_decode_interrupt(p, len, &w);
}

static int dec_report(const void *p, uint32_t len)
{
    hps_rec_metric m[4];
    uint32_t n;
    return hps_rec_decode_report(p, len, m, 4, &n);
}

static int dec_string(const void *p, uint32_t len)
{
    int32_t i;
    const char *s;
    uint32_t n;
    return hps_rec_decode_string(p, len, &i, &s, &n);
}

static int dec_feed(const void *p, uint32_t len)
{
    int64_t run;
    return hps_rec_decode_feed(p, len, &run);
}

static int dec_prune(const void *p, uint32_t len)
{
    int64_t run, step;
    return hps_rec_decode_prune(p, len, &run, &step);
}

static int dec_run(const void *p, uint32_t len)
{
    hps_prov out = {0};
    uint32_t phase;
    int rc = hps_rec_decode_run(p, len, &phase, &out);
    hps_prov_free(&out);
    return rc;
}

/* Every strict prefix of b must decode to HPS_ECORRUPT, and so must b plus one or
 * eight trailing bytes; b itself must decode. */
static void check_truncations(const hps_buf *b, decode_fn dec)
{
    assert_true(b->len > 0);
    void *whole = malloc(b->len);
    assert_non_null(whole);
    memcpy(whole, b->data, b->len);
    assert_int_equal(dec(whole, (uint32_t)b->len), HPS_OK);
    free(whole);
    for (size_t n = b->len; n-- > 0;) {
        void *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, b->data, n);
        int rc = dec(cut, (uint32_t)n);
        free(cut);
        if (rc != HPS_ECORRUPT)
            fail_msg("a payload cut to %zu of %zu bytes decoded with %d", n, b->len, rc);
    }
    for (size_t extra = 1; extra <= 8; extra *= 8) {
        unsigned char *more = malloc(b->len + extra);
        assert_non_null(more);
        memcpy(more, b->data, b->len);
        memset(more + b->len, 0, extra);
        int rc = dec(more, (uint32_t)(b->len + extra));
        free(more);
        if (rc != HPS_ECORRUPT)
            fail_msg("a payload with %zu trailing bytes decoded with %d", extra, rc);
    }
}

/* ---- header ------------------------------------------------------------------ */

static void test_header_roundtrip(void **state)
{
    (void)state;
    const char *yaml = "name: quick\nseed: 42\nspace:\n  x: {type: float, low: 0, high: 1}\n";
    const char *src = "configs/quick.yaml";
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT,
                        .seed = 0xFEDCBA9876543210ull,
                        .created = 1700000000.25,
                        .config_text = yaml,
                        .config_len = (uint32_t)strlen(yaml),
                        .source = src,
                        .source_len = (uint32_t)strlen(src)};
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_header(&b, &h), HPS_OK);
    /* u32 version, u64 seed, f64 created, u32 len + text, u32 len + source */
    assert_int_equal(b.len, 4 + 8 + 8 + 4 + strlen(yaml) + 4 + strlen(src));

    hps_rec_header d;
    memset(&d, 0, sizeof d);
    assert_int_equal(hps_rec_decode_header(b.data, (uint32_t)b.len, &d), HPS_OK);
    assert_int_equal(d.version, HPS_JOURNAL_FORMAT);
    assert_true(d.seed == 0xFEDCBA9876543210ull);
    assert_true(d.created == 1700000000.25);
    assert_int_equal(d.config_len, strlen(yaml));
    assert_memory_equal(d.config_text, yaml, strlen(yaml));
    assert_int_equal(d.source_len, strlen(src));
    assert_memory_equal(d.source, src, strlen(src));
    /* Pointers point into the payload. */
    assert_true((const unsigned char *)d.config_text >= b.data &&
                (const unsigned char *)d.config_text < b.data + b.len);
    check_truncations(&b, dec_header);

    /* Empty text and source. */
    hps_rec_header e = {.version = 1, .seed = 1, .created = 0, .config_text = "",
                        .config_len = 0, .source = "", .source_len = 0};
    assert_int_equal(hps_rec_encode_header(&b, &e), HPS_OK);
    assert_int_equal(b.len, 28);
    assert_int_equal(hps_rec_decode_header(b.data, (uint32_t)b.len, &d), HPS_OK);
    assert_int_equal(d.config_len, 0);
    assert_int_equal(d.source_len, 0);
    check_truncations(&b, dec_header);
    hps_buf_free(&b);
}

/* A config length that points past the end. */
static void test_header_bad_lengths(void **state)
{
    (void)state;
    hps_rec_header h = {.version = 1, .config_text = "abc", .config_len = 3, .source = "s",
                        .source_len = 1};
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_header(&b, &h), HPS_OK);
    uint32_t big = 1000;
    memcpy(b.data + 20, &big, 4); /* config_len */
    hps_rec_header d;
    assert_int_equal(hps_rec_decode_header(b.data, (uint32_t)b.len, &d), HPS_ECORRUPT);
    uint32_t three = 3, two = 2;
    memcpy(b.data + 20, &three, 4);
    memcpy(b.data + 27, &two, 4); /* source_len: one more than there is */
    assert_int_equal(hps_rec_decode_header(b.data, (uint32_t)b.len, &d), HPS_ECORRUPT);
    hps_buf_free(&b);
}

/* ---- suggest ------------------------------------------------------------------- */

static void test_suggest_roundtrip(void **state)
{
    (void)state;
    const double u[3] = {0.0, 0.123456789012345678, 1.0};
    hps_rec_suggest s = {.seed = 0x0123456789ABCDEFull,
                         .budget = 27.5,
                         .bracket = 2,
                         .rung = -1,
                         .promotion = 1,
                         .worker = 17,
                         .start = 1700000001.5,
                         .n = 3,
                         .u = u};
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_suggest(&b, &s), HPS_OK);
    assert_int_equal(b.len, 8 + 8 + 4 * 4 + 8 + 4 + 3 * 8);

    double ubuf[3] = {-1, -1, -1};
    hps_rec_suggest d;
    memset(&d, 0, sizeof d);
    assert_int_equal(hps_rec_decode_suggest(b.data, (uint32_t)b.len, &d, ubuf, 3), HPS_OK);
    assert_true(d.seed == 0x0123456789ABCDEFull);
    assert_true(d.budget == 27.5);
    assert_int_equal(d.bracket, 2);
    assert_int_equal(d.rung, -1);
    assert_int_equal(d.promotion, 1);
    assert_int_equal(d.worker, 17);
    assert_true(d.start == 1700000001.5);
    assert_int_equal(d.n, 3);
    assert_ptr_equal(d.u, ubuf);
    assert_memory_equal(ubuf, u, sizeof u);
    check_truncations(&b, dec_suggest);

    /* u_cap smaller than n is refused; exactly n is fine. */
    assert_int_equal(hps_rec_decode_suggest(b.data, (uint32_t)b.len, &d, ubuf, 2), HPS_ECORRUPT);
    assert_int_equal(hps_rec_decode_suggest(b.data, (uint32_t)b.len, &d, ubuf, 0), HPS_ECORRUPT);

    /* A zero-dimensional suggestion. */
    s.n = 0; /* u still points somewhere valid: nothing is read from it */
    assert_int_equal(hps_rec_encode_suggest(&b, &s), HPS_OK);
    assert_int_equal(hps_rec_decode_suggest(b.data, (uint32_t)b.len, &d, ubuf, 0), HPS_OK);
    assert_int_equal(d.n, 0);
    check_truncations(&b, dec_suggest);
    hps_buf_free(&b);
}

/* NaN and infinities survive bit for bit. */
static void test_suggest_special_values(void **state)
{
    (void)state;
    const double u[2] = {NAN, -INFINITY};
    hps_rec_suggest s = {.n = 2, .u = u, .budget = INFINITY, .bracket = -1, .rung = -1};
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_suggest(&b, &s), HPS_OK);
    double ubuf[2];
    hps_rec_suggest d;
    assert_int_equal(hps_rec_decode_suggest(b.data, (uint32_t)b.len, &d, ubuf, 2), HPS_OK);
    assert_memory_equal(ubuf, u, sizeof u);
    assert_true(isinf(d.budget) && d.budget > 0);
    hps_buf_free(&b);
}

/* ---- dispatch, interrupt ---------------------------------------------------------- */

static void test_dispatch_roundtrip(void **state)
{
    (void)state;
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_dispatch(&b, -7, 1700000002.75), HPS_OK);
    assert_int_equal(b.len, 12);
    int32_t w = 0;
    double st = 0;
    assert_int_equal(hps_rec_decode_dispatch(b.data, (uint32_t)b.len, &w, &st), HPS_OK);
    assert_int_equal(w, -7);
    assert_true(st == 1700000002.75);
    check_truncations(&b, dec_dispatch);
    hps_buf_free(&b);
}

/* Deterministic mode's FEED and PRUNE (journal format 3). */
static void test_feed_prune_roundtrip(void **state)
{
    (void)state;
    hps_buf b = {0};
    int64_t run = 0, step = 0;
    assert_int_equal(hps_rec_encode_feed(&b, 41), HPS_OK);
    assert_int_equal(hps_rec_decode_feed(b.data, (uint32_t)b.len, &run), HPS_OK);
    assert_int_equal(run, 41);
    check_truncations(&b, dec_feed);
    assert_int_equal(hps_rec_encode_prune(&b, 7, -3), HPS_OK);
    assert_int_equal(hps_rec_decode_prune(b.data, (uint32_t)b.len, &run, &step), HPS_OK);
    assert_int_equal(run, 7);
    assert_int_equal(step, -3);
    check_truncations(&b, dec_prune);
    hps_buf_free(&b);
}

/* A RUN record carries a run's provenance: facts of every kind, empty values and
 * bytes of any kind, in order; a bad kind or phase is refused. */
static void test_run_roundtrip(void **state)
{
    (void)state;
    hps_prov p = {0}, out = {0};
    assert_int_equal(hps_prov_add(&p, HPS_PROV_RUN, 0, "hpsweep_version", "0.1.0"), HPS_OK);
    assert_int_equal(hps_prov_add(&p, HPS_PROV_RUN, 0, "env.EMPTY", ""), HPS_OK);
    assert_int_equal(hps_prov_add(&p, HPS_PROV_HOST, 3, "gpus", "none"), HPS_OK);
    assert_int_equal(hps_prov_addn(&p, HPS_PROV_FILE, 1, "pathX", 4, "a=b\nc", 4), HPS_OK);
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_run(&b, 1, &p), HPS_OK);
    uint32_t phase = 9;
    assert_int_equal(hps_rec_decode_run(b.data, (uint32_t)b.len, &phase, &out), HPS_OK);
    assert_int_equal(phase, 1);
    assert_int_equal(out.n, p.n);
    for (int i = 0; i < p.n; i++) {
        assert_int_equal(out.e[i].kind, p.e[i].kind);
        assert_int_equal(out.e[i].index, p.e[i].index);
        assert_string_equal(out.e[i].key, p.e[i].key);
        assert_string_equal(out.e[i].value, p.e[i].value);
    }
    assert_string_equal(hps_prov_get(&out, HPS_PROV_HOST, 3, "gpus"), "none");
    assert_string_equal(hps_prov_get(&out, HPS_PROV_FILE, 1, "path"), "a=b\n");
    assert_int_equal(hps_prov_count(&out, HPS_PROV_HOST), 4);
    check_truncations(&b, dec_run);
    /* phase 2 and kind 3 are not RUN records */
    assert_int_equal(hps_rec_encode_run(&b, 2, &p), HPS_OK);
    assert_int_equal(dec_run(b.data, (uint32_t)b.len), HPS_ECORRUPT);
    p.e[0].kind = 3;
    assert_int_equal(hps_rec_encode_run(&b, 0, &p), HPS_OK);
    assert_int_equal(dec_run(b.data, (uint32_t)b.len), HPS_ECORRUPT);
    hps_buf_free(&b);
    hps_prov_free(&p);
    hps_prov_free(&out);
}

static void test_interrupt_roundtrip(void **state)
{
    (void)state;
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_interrupt(&b, 1234.5), HPS_OK);
    assert_int_equal(b.len, 8);
    double w = 0;
    assert_int_equal(hps_rec_decode_interrupt(b.data, (uint32_t)b.len, &w), HPS_OK);
    assert_true(w == 1234.5);
    check_truncations(&b, dec_interrupt);
    hps_buf_free(&b);
}

static void test_report_roundtrip(void **state)
{
    (void)state;
    hps_rec_metric m[2] = {{.name_index = 0, .step = 7, .resource = 7.0, .value = 0.25},
                           {.name_index = 3, .step = 7, .resource = 7.0, .value = -1.5}};
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_report(&b, m, 2), HPS_OK);
    assert_int_equal(b.len, 4 + 2 * 28);
    hps_rec_metric d[2];
    uint32_t n = 0;
    assert_int_equal(hps_rec_decode_report(b.data, (uint32_t)b.len, d, 2, &n), HPS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[1].name_index, 3);
    assert_int_equal(d[1].step, 7);
    assert_true(d[1].value == -1.5);
    /* Capacity too small. */
    assert_int_equal(hps_rec_decode_report(b.data, (uint32_t)b.len, d, 1, &n), HPS_ECORRUPT);
    check_truncations(&b, dec_report);
    hps_buf_free(&b);
}

/* ---- result ------------------------------------------------------------------------- */

static void test_result_roundtrip(void **state)
{
    (void)state;
    hps_rec_metric m[3] = {
        {.name_index = 0, .step = 1, .resource = 1.0, .value = 0.9},
        {.name_index = 1, .step = 2, .resource = 2.5, .value = -0.125},
        {.name_index = 0, .step = INT64_MAX, .resource = 1e300, .value = NAN},
    };
    hps_outcome r = {.status = 2, .worker = 3, .objective = 0.75, .start = 10.0, .end = 20.5,
                        .exit_code = 139, .attempts = 3, .stderr_tail = "Traceback\nboom\n", .stderr_len = 15,
                        .n_metrics = 3, .metrics = m};
    /* A cause of exactly HPS_CAUSE_LEN - 1 characters. */
    memset(r.cause, 'c', HPS_CAUSE_LEN - 1);
    r.cause[HPS_CAUSE_LEN - 1] = '\0';
    r.cause[0] = 'A';
    r.cause[HPS_CAUSE_LEN - 2] = 'Z';

    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_result(&b, &r), HPS_OK);
    assert_int_equal(b.len, 4 + 4 + 8 * 3 + 2 + (HPS_CAUSE_LEN - 1) + 4 + 4 + 2 + 15 + 4 + 3 * 28);

    hps_outcome d;
    memset(&d, 0x7F, sizeof d);
    hps_rec_metric mb[3];
    assert_int_equal(hps_rec_decode_result(b.data, (uint32_t)b.len, &d, mb, 3), HPS_OK);
    assert_int_equal(d.status, 2);
    assert_int_equal(d.worker, 3);
    assert_true(d.objective == 0.75);
    assert_true(d.start == 10.0);
    assert_true(d.end == 20.5);
    assert_int_equal(strlen(d.cause), HPS_CAUSE_LEN - 1);
    assert_string_equal(d.cause, r.cause);
    assert_int_equal(d.exit_code, 139);
    assert_int_equal(d.attempts, 3);
    assert_int_equal(d.stderr_len, 15);
    assert_memory_equal(d.stderr_tail, "Traceback\nboom\n", 15);
    assert_int_equal(d.n_metrics, 3);
    assert_ptr_equal(d.metrics, mb);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mb[i].name_index, m[i].name_index);
        assert_true(mb[i].step == m[i].step);
        assert_true(mb[i].resource == m[i].resource);
    }
    assert_true(mb[0].value == 0.9);
    assert_true(mb[1].value == -0.125);
    assert_true(isnan(mb[2].value));
    check_truncations(&b, dec_result);

    /* m_cap too small is refused. */
    assert_int_equal(hps_rec_decode_result(b.data, (uint32_t)b.len, &d, mb, 2), HPS_ECORRUPT);
    assert_int_equal(hps_rec_decode_result(b.data, (uint32_t)b.len, &d, mb, 0), HPS_ECORRUPT);

    /* No metrics, empty cause, NaN objective. */
    hps_outcome e = {.status = 1, .objective = NAN, .n_metrics = 0, .metrics = NULL};
    e.cause[0] = '\0';
    assert_int_equal(hps_rec_encode_result(&b, &e), HPS_OK);
    assert_int_equal(b.len, 4 + 4 + 24 + 2 + 4 + 4 + 2 + 4);
    assert_int_equal(hps_rec_decode_result(b.data, (uint32_t)b.len, &d, NULL, 0), HPS_OK);
    assert_int_equal(d.status, 1);
    assert_true(isnan(d.objective));
    assert_string_equal(d.cause, "");
    assert_int_equal(d.n_metrics, 0);
    check_truncations(&b, dec_result);
    hps_buf_free(&b);
}

/* A cause filling all HPS_CAUSE_LEN bytes (no NUL) is cut to HPS_CAUSE_LEN - 1. */
static void test_result_cause_unterminated(void **state)
{
    (void)state;
    hps_outcome r = {.status = 2};
    memset(r.cause, 'x', HPS_CAUSE_LEN);
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_result(&b, &r), HPS_OK);
    hps_outcome d;
    assert_int_equal(hps_rec_decode_result(b.data, (uint32_t)b.len, &d, NULL, 0), HPS_OK);
    assert_int_equal(strlen(d.cause), HPS_CAUSE_LEN - 1);
    hps_buf_free(&b);
}

/* A cause length field of HPS_CAUSE_LEN or more is corrupt even if the bytes exist. */
static void test_result_cause_too_long(void **state)
{
    (void)state;
    hps_buf b = {0};
    int32_t st = 1, w = 0;
    double z = 0;
    hps_buf_put(&b, &st, 4);
    hps_buf_put(&b, &w, 4);
    hps_buf_put(&b, &z, 8);
    hps_buf_put(&b, &z, 8);
    hps_buf_put(&b, &z, 8);
    uint16_t cl = HPS_CAUSE_LEN;
    hps_buf_put(&b, &cl, 2);
    char cause[HPS_CAUSE_LEN];
    memset(cause, 'q', sizeof cause);
    hps_buf_put(&b, cause, sizeof cause);
    int32_t ec = -1, at = 1;
    uint16_t sl = 0;
    hps_buf_put(&b, &ec, 4);
    hps_buf_put(&b, &at, 4);
    hps_buf_put(&b, &sl, 2);
    uint32_t nm = 0;
    hps_buf_put(&b, &nm, 4);
    assert_false(b.failed);
    hps_outcome d;
    assert_int_equal(hps_rec_decode_result(b.data, (uint32_t)b.len, &d, NULL, 0), HPS_ECORRUPT);

    /* The same layout with HPS_CAUSE_LEN - 1 is fine. */
    hps_buf c = {0};
    hps_buf_put(&c, &st, 4);
    hps_buf_put(&c, &w, 4);
    hps_buf_put(&c, &z, 8);
    hps_buf_put(&c, &z, 8);
    hps_buf_put(&c, &z, 8);
    cl = HPS_CAUSE_LEN - 1;
    hps_buf_put(&c, &cl, 2);
    hps_buf_put(&c, cause, cl);
    hps_buf_put(&c, &ec, 4);
    hps_buf_put(&c, &at, 4);
    hps_buf_put(&c, &sl, 2);
    hps_buf_put(&c, &nm, 4);
    assert_int_equal(hps_rec_decode_result(c.data, (uint32_t)c.len, &d, NULL, 0), HPS_OK);
    assert_int_equal(strlen(d.cause), HPS_CAUSE_LEN - 1);
    hps_buf_free(&b);
    hps_buf_free(&c);
}

/* ---- string (METRIC_NAME, STATUS) --------------------------------------------------- */

static void test_string_roundtrip(void **state)
{
    (void)state;
    hps_buf b = {0};
    assert_int_equal(hps_rec_encode_string(&b, 5, "val_loss"), HPS_OK);
    assert_int_equal(b.len, 4 + 4 + 8);
    int32_t idx = -1;
    const char *s = NULL;
    uint32_t n = 0;
    assert_int_equal(hps_rec_decode_string(b.data, (uint32_t)b.len, &idx, &s, &n), HPS_OK);
    assert_int_equal(idx, 5);
    assert_int_equal(n, 8);
    assert_memory_equal(s, "val_loss", 8);
    assert_ptr_equal(s, b.data + 8);
    check_truncations(&b, dec_string);

    assert_int_equal(hps_rec_encode_string(&b, 0, ""), HPS_OK);
    assert_int_equal(b.len, 8);
    assert_int_equal(hps_rec_decode_string(b.data, (uint32_t)b.len, &idx, &s, &n), HPS_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(n, 0);
    check_truncations(&b, dec_string);
    hps_buf_free(&b);
}

/* ---- the buffer ----------------------------------------------------------------------- */

static void test_buf_growth_and_reuse(void **state)
{
    (void)state;
    hps_buf b = {0};
    for (int i = 0; i < 10000; i++)
        hps_buf_put(&b, &i, sizeof i);
    assert_false(b.failed);
    assert_int_equal(b.len, 10000 * sizeof(int));
    assert_true(b.cap >= b.len);
    for (int i = 0; i < 10000; i++) {
        int v;
        memcpy(&v, b.data + (size_t)i * sizeof v, sizeof v);
        assert_int_equal(v, i);
    }
    /* Encoders reset the buffer: a small record after a big one has its own size. */
    assert_int_equal(hps_rec_encode_interrupt(&b, 1.0), HPS_OK);
    assert_int_equal(b.len, 8);
    hps_buf_reset(&b);
    assert_int_equal(b.len, 0);
    hps_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    hps_buf_free(NULL);
}

/* ---- compact forms (journal layout 2) ------------------------------------------- */

static void test_uvarint_boundaries(void **state)
{
    (void)state;
    const uint64_t v[] = {0, 1, 127, 128, 255, 16383, 16384, (1ull << 21) - 1, 1ull << 21,
                          UINT32_MAX, 1ull << 56, (1ull << 63) - 1, 1ull << 63, UINT64_MAX};
    const size_t want_len[] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 9, 9, 10, 10};
    hps_buf b = {0};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hps_buf_reset(&b);
        hps_put_uvarint(&b, v[i]);
        assert_int_equal(b.len, want_len[i]);
        hps_cursor c = hps_cursor_make(b.data, b.len);
        assert_true(hps_get_uvarint(&c) == v[i]);
        assert_int_equal(hps_cursor_finish(&c), HPS_OK);
        /* every truncation is a bad cursor */
        for (size_t cut = 0; cut < b.len; cut++) {
            c = hps_cursor_make(b.data, cut);
            (void)hps_get_uvarint(&c);
            assert_true(c.bad);
        }
    }
    /* more than 64 bits: an 11th byte, or a 10th above 1 */
    static const unsigned char eleven[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                             0x80, 0x80, 0x80, 0x81, 0x00};
    hps_cursor c = hps_cursor_make(eleven, sizeof eleven);
    (void)hps_get_uvarint(&c);
    assert_true(c.bad);
    static const unsigned char tenth[10] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff, 0xff, 0x02};
    c = hps_cursor_make(tenth, sizeof tenth);
    (void)hps_get_uvarint(&c);
    assert_true(c.bad);
    hps_buf_free(&b);
}

/* Compact p (type), expand it back and compare bit for bit; every truncation of
 * the compact form is HPS_ECORRUPT (exact-size heap copies, for ASan). Returns the
 * compact size. */
static size_t compact_roundtrip(uint32_t type, const hps_buf *p)
{
    hps_buf c = {0}, out = {0};
    hps_rec_pack_ctx ctx = {.time_bits = 0x41d9c6b4a0000000ull};
    hps_rec_pack_ctx start = ctx;
    assert_int_equal(hps_rec_compact(&c, type, p->data, (uint32_t)p->len, &ctx), HPS_OK);
    hps_rec_pack_ctx rctx = start;
    hps_cursor cur = hps_cursor_make(c.data, c.len);
    assert_int_equal(hps_rec_expand(&cur, type, &out, 64u << 20, &rctx), HPS_OK);
    assert_int_equal(out.len, p->len);
    assert_memory_equal(out.data, p->data, p->len);
    assert_true(rctx.time_bits == ctx.time_bits);
    for (size_t cut = 0; cut < c.len; cut++) {
        unsigned char *t = malloc(cut ? cut : 1);
        assert_non_null(t);
        memcpy(t, c.data, cut);
        rctx = start;
        cur = hps_cursor_make(t, cut);
        assert_int_equal(hps_rec_expand(&cur, type, &out, 64u << 20, &rctx), HPS_ECORRUPT);
        free(t);
    }
    /* an expansion longer than allowed is refused */
    rctx = start;
    cur = hps_cursor_make(c.data, c.len);
    assert_int_equal(hps_rec_expand(&cur, type, &out, p->len - 1, &rctx), HPS_ECORRUPT);
    size_t n = c.len;
    hps_buf_free(&c);
    hps_buf_free(&out);
    return n;
}

static void test_compact_suggest(void **state)
{
    (void)state;
    hps_buf b = {0};
    double u[4] = {0.1234567890123, 0.5, -0.0, 1e-300};
    hps_rec_suggest s = {.seed = 0xfedcba9876543210ull, .budget = 0.0, .bracket = -1,
                         .rung = -1, .promotion = 0, .worker = 1, .start = 1796073018.410253,
                         .n = 2, .u = u};
    /* defaults: flags, seed, worker, start, n, two doubles */
    assert_int_equal(hps_rec_encode_suggest(&b, &s), HPS_OK);
    size_t small = compact_roundtrip(HPS_REC_SUGGEST, &b);
    assert_true(small <= 1 + 8 + 1 + 10 + 1 + 16);
    /* every optional field, and coordinates a float holds exactly */
    double uf[3] = {0.5, 0.25, -2.0};
    hps_rec_suggest t = {.seed = 1, .budget = 81.0, .bracket = 3, .rung = INT32_MIN,
                         .promotion = 1, .worker = INT32_MAX, .start = -1.5, .n = 3, .u = uf};
    assert_int_equal(hps_rec_encode_suggest(&b, &t), HPS_OK);
    assert_true(compact_roundtrip(HPS_REC_SUGGEST, &b) < b.len - 3 * 4);
    /* special doubles: -0 budget, NaN and infinities in u, no coordinates */
    double us[4] = {NAN, INFINITY, -INFINITY, 3.0e38};
    hps_rec_suggest v = {.budget = -0.0, .bracket = 0, .rung = 0, .promotion = -7,
                         .worker = -3, .start = NAN, .n = 4, .u = us};
    assert_int_equal(hps_rec_encode_suggest(&b, &v), HPS_OK);
    compact_roundtrip(HPS_REC_SUGGEST, &b);
    v.n = 0;
    assert_int_equal(hps_rec_encode_suggest(&b, &v), HPS_OK);
    compact_roundtrip(HPS_REC_SUGGEST, &b);
    /* not a SUGGEST's layout (one byte short, one too many): no compact form, b kept */
    hps_buf c = {0};
    hps_put_uvarint(&c, 7);
    hps_rec_pack_ctx ctx = {0};
    assert_int_equal(hps_rec_compact(&c, HPS_REC_SUGGEST, b.data, (uint32_t)b.len - 1, &ctx),
                     HPS_EINVAL);
    hps_buf_put(&b, "x", 1);
    assert_int_equal(hps_rec_compact(&c, HPS_REC_SUGGEST, b.data, (uint32_t)b.len, &ctx),
                     HPS_EINVAL);
    assert_int_equal(c.len, 1);
    assert_true(ctx.time_bits == 0);
    assert_int_equal(hps_rec_compact(&c, HPS_REC_DISPATCH, b.data, 12, &ctx), HPS_EINVAL);
    /* unknown flag bits are corrupt */
    static const unsigned char bad[] = {0x40, 1, 2, 3, 4, 5, 6, 7, 8, 2, 0, 0};
    hps_cursor cur = hps_cursor_make(bad, sizeof bad);
    assert_int_equal(hps_rec_expand(&cur, HPS_REC_SUGGEST, &c, 1024, &ctx), HPS_ECORRUPT);
    hps_buf_free(&c);
    hps_buf_free(&b);
}

static void test_compact_result(void **state)
{
    (void)state;
    hps_buf b = {0};
    hps_outcome o;
    hps_outcome_init(&o);
    o.status = HPS_TRIAL_DONE;
    o.worker = 1;
    o.objective = 0.8278934057;
    o.start = 1796073018.410253;
    o.end = 1796073018.4102585;
    hps_rec_metric obj = {0, 0, 0.0, o.objective};
    o.metrics = &obj;
    o.n_metrics = 1;
    /* the common case: the objective as the only metric */
    assert_int_equal(hps_rec_encode_result(&b, &o), HPS_OK);
    assert_true(compact_roundtrip(HPS_REC_RESULT, &b) <= 1 + 1 + 1 + 8 + 10 + 3 + 1);
    obj.step = 12;
    obj.resource = 12.0;
    assert_int_equal(hps_rec_encode_result(&b, &o), HPS_OK);
    compact_roundtrip(HPS_REC_RESULT, &b);
    /* the objective metric with a resource that is not its step, or another name */
    obj.resource = 2.5;
    assert_int_equal(hps_rec_encode_result(&b, &o), HPS_OK);
    compact_roundtrip(HPS_REC_RESULT, &b);
    obj.resource = 12.0;
    obj.name_index = 3;
    assert_int_equal(hps_rec_encode_result(&b, &o), HPS_OK);
    compact_roundtrip(HPS_REC_RESULT, &b);
    /* no metrics; many; NaN objective and values; every optional field */
    o.n_metrics = 0;
    assert_int_equal(hps_rec_encode_result(&b, &o), HPS_OK);
    compact_roundtrip(HPS_REC_RESULT, &b);
    hps_rec_metric m[4] = {{0, INT64_MIN, -0.0, NAN},
                           {5, INT64_MAX, (double)INT64_MAX, 1.0},
                           {INT32_MAX, -1, -1.0, NAN},
                           {INT32_MIN, 3, 3.0, -1e308}};
    o.metrics = m;
    o.n_metrics = 4;
    o.objective = NAN;
    o.status = HPS_TRIAL_FAILED;
    o.worker = INT32_MIN;
    snprintf(o.cause, sizeof o.cause, "timeout");
    o.exit_code = 137;
    o.attempts = INT32_MAX;
    char tail[HPS_STDERR_TAIL_LEN];
    memset(tail, 'z', sizeof tail);
    o.stderr_tail = tail;
    o.stderr_len = sizeof tail - 1;
    o.start = 0.0;
    o.end = -INFINITY;
    assert_int_equal(hps_rec_encode_result(&b, &o), HPS_OK);
    compact_roundtrip(HPS_REC_RESULT, &b);
    o.exit_code = -2;
    o.attempts = -1;
    o.stderr_len = 1;
    assert_int_equal(hps_rec_encode_result(&b, &o), HPS_OK);
    compact_roundtrip(HPS_REC_RESULT, &b);
    /* a RESULT payload with trailing bytes or a short metric list: left as it is */
    hps_buf c = {0};
    hps_rec_pack_ctx ctx = {0};
    hps_buf_put(&b, "", 1);
    assert_int_equal(hps_rec_compact(&c, HPS_REC_RESULT, b.data, (uint32_t)b.len, &ctx),
                     HPS_EINVAL);
    assert_int_equal(hps_rec_compact(&c, HPS_REC_RESULT, b.data, (uint32_t)b.len - 2, &ctx),
                     HPS_EINVAL);
    assert_int_equal(hps_rec_compact(&c, HPS_REC_RESULT, b.data, 0, &ctx), HPS_EINVAL);
    assert_int_equal(c.len, 0);
    /* flags for both "objective metric" and "no metrics": corrupt */
    static const unsigned char both[] = {16 | 32, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    hps_cursor cur = hps_cursor_make(both, sizeof both);
    assert_int_equal(hps_rec_expand(&cur, HPS_REC_RESULT, &c, 1024, &ctx), HPS_ECORRUPT);
    hps_buf_free(&c);
    hps_buf_free(&b);
}

static void test_compact_report(void **state)
{
    (void)state;
    hps_buf b = {0};
    hps_rec_metric m[3] = {{0, 4, 4.0, 0.5}, {1, 9, 0.25, NAN}, {2, -1, -1.0, 0.0}};
    for (uint32_t n = 0; n <= 3; n++) {
        assert_int_equal(hps_rec_encode_report(&b, m, n), HPS_OK);
        size_t sz = compact_roundtrip(HPS_REC_REPORT, &b);
        assert_true(sz < b.len);
    }
    /* a REPORT's metrics always carry their value: a flag that leaves it out is corrupt */
    static const unsigned char novalue[] = {1, 1, 0, 8};
    hps_cursor cur = hps_cursor_make(novalue, sizeof novalue);
    hps_rec_pack_ctx ctx = {0};
    assert_int_equal(hps_rec_expand(&cur, HPS_REC_REPORT, &b, 1024, &ctx), HPS_ECORRUPT);
    /* a count the bytes cannot hold */
    static const unsigned char many[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 3, 0, 0};
    cur = hps_cursor_make(many, sizeof many);
    assert_int_equal(hps_rec_expand(&cur, HPS_REC_REPORT, &b, 64u << 20, &ctx), HPS_ECORRUPT);
    /* a type without a compact form */
    cur = hps_cursor_make(many, sizeof many);
    assert_int_equal(hps_rec_expand(&cur, HPS_REC_STATUS, &b, 1024, &ctx), HPS_ECORRUPT);
    hps_buf_free(&b);
}

/* Random bytes as compact forms: decoded or refused, never a crash or a read past
 * them (ASan), never more than max_len bytes out. */
static void test_compact_garbage(void **state)
{
    (void)state;
    hps_buf out = {0};
    srand(15);
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(rand() % 64);
        unsigned char *p = malloc(n ? n : 1);
        assert_non_null(p);
        for (size_t k = 0; k < n; k++)
            p[k] = (unsigned char)rand();
        static const uint32_t types[] = {HPS_REC_SUGGEST, HPS_REC_RESULT, HPS_REC_REPORT};
        hps_rec_pack_ctx ctx = {0};
        hps_cursor c = hps_cursor_make(p, n);
        int rc = hps_rec_expand(&c, types[i % 3], &out, 4096, &ctx);
        assert_true(rc == HPS_OK || rc == HPS_ECORRUPT);
        if (rc == HPS_OK)
            assert_true(out.len <= 4096);
        free(p);
    }
    hps_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_roundtrip),
        cmocka_unit_test(test_header_bad_lengths),
        cmocka_unit_test(test_suggest_roundtrip),
        cmocka_unit_test(test_suggest_special_values),
        cmocka_unit_test(test_dispatch_roundtrip),
        cmocka_unit_test(test_interrupt_roundtrip),
        cmocka_unit_test(test_feed_prune_roundtrip),
        cmocka_unit_test(test_run_roundtrip),
        cmocka_unit_test(test_report_roundtrip),
        cmocka_unit_test(test_result_roundtrip),
        cmocka_unit_test(test_result_cause_unterminated),
        cmocka_unit_test(test_result_cause_too_long),
        cmocka_unit_test(test_string_roundtrip),
        cmocka_unit_test(test_buf_growth_and_reuse),
        cmocka_unit_test(test_uvarint_boundaries),
        cmocka_unit_test(test_compact_suggest),
        cmocka_unit_test(test_compact_result),
        cmocka_unit_test(test_compact_report),
        cmocka_unit_test(test_compact_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
