/*
 * Unit tests for the coordinator/worker message packing (engine/wire/protocol.c)
 * and the outcome codec inside it (engine/core/trial.c): TRIALS, RESULTS and
 * REPORT messages round-trip, the count field follows every add, every truncated
 * message is refused with HPS_ECORRUPT, causes of HPS_CAUSE_LEN - 1 bytes
 * survive, and the backoff interval doubles from 20 us to a 1 ms cap.
 *
 * None of this calls into MPI, so there is no MPI_Init. Truncated copies live in
 * exact-size heap blocks so ASan catches a read past the message.
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

#include "core/clock.h"
#include "hpsweep/error.h"
#include "wire/protocol.h"

static void add_trial(hps_buf *b, int64_t id, uint64_t seed, double budget, double prev,
                      const double *values, uint32_t d)
{
    hps_trial_spec t = {.trial_id = id, .seed = seed, .budget = budget, .prev_budget = prev,
                        .values = values};
    hps_proto_trials_add(b, &t, d);
}

/* ---- TRIALS ---------------------------------------------------------------------- */

#define TD 3

static const double VALS[4][TD] = {
    {0.1, 2.0, -3.5},
    {1e-300, 0.0, 1e300},
    {-0.0, 7.0, 0.25},
    {NAN, INFINITY, -1.0},
};

static void build_trials(hps_buf *b, int n)
{
    hps_proto_trials_begin(b, TD);
    for (int i = 0; i < n; i++)
        add_trial(b, 100 + i, 0xABCDEF0000000000ull + (uint64_t)i, 0.5 * i, 0.25 * i, VALS[i],
                  TD);
    assert_false(b->failed);
}

static void test_trials_roundtrip(void **state)
{
    (void)state;
    hps_buf b = {0};
    build_trials(&b, 4);
    assert_int_equal(b.len, 8 + 4 * (8 + 8 + 8 + 8 + 8 * TD));

    uint32_t count = 0, d = 0;
    assert_int_equal(hps_proto_trials_count(b.data, b.len, &count, &d), HPS_OK);
    assert_int_equal(count, 4);
    assert_int_equal(d, TD);
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_trial_spec t;
        memset(&t, 0, sizeof t);
        assert_int_equal(hps_proto_trials_next(b.data, b.len, &off, d, &t), HPS_OK);
        assert_int_equal(t.trial_id, 100 + (int64_t)i);
        assert_true(t.seed == 0xABCDEF0000000000ull + i);
        assert_true(t.budget == 0.5 * i);
        assert_true(t.prev_budget == 0.25 * i);
        assert_memory_equal(t.values, VALS[i], sizeof VALS[i]); /* bit for bit, NaN too */
        assert_true(((uintptr_t)t.values % sizeof(double)) == 0);
    }
    assert_int_equal(off, b.len);
    /* Past the last trial: nothing more to read. */
    hps_trial_spec extra;
    assert_int_equal(hps_proto_trials_next(b.data, b.len, &off, d, &extra), HPS_ECORRUPT);
    hps_buf_free(&b);
}

static void test_trials_count_updates(void **state)
{
    (void)state;
    hps_buf b = {0};
    uint32_t count = 99, d = 99;
    hps_proto_trials_begin(&b, TD);
    assert_int_equal(b.len, 8);
    assert_int_equal(hps_proto_trials_count(b.data, b.len, &count, &d), HPS_OK);
    assert_int_equal(count, 0);
    assert_int_equal(d, TD);
    for (int i = 0; i < 4; i++) {
        add_trial(&b, i, (uint64_t)i, 0.0, 0.0, VALS[i], TD);
        assert_int_equal(hps_proto_trials_count(b.data, b.len, &count, &d), HPS_OK);
        assert_int_equal(count, (uint32_t)i + 1);
        assert_int_equal(d, TD);
    }
    /* begin resets: a new batch starts at zero. */
    hps_proto_trials_begin(&b, 1);
    assert_int_equal(hps_proto_trials_count(b.data, b.len, &count, &d), HPS_OK);
    assert_int_equal(count, 0);
    assert_int_equal(d, 1);
    assert_int_equal(b.len, 8);
    hps_buf_free(&b);
}

/* Zero-dimensional trials carry only id, seed and budget. */
static void test_trials_zero_dim(void **state)
{
    (void)state;
    hps_buf b = {0};
    double none[1] = {0};
    hps_proto_trials_begin(&b, 0);
    add_trial(&b, 5, 6, 7.0, 3.0, none, 0);
    assert_int_equal(b.len, 8 + 32);
    uint32_t count, d;
    assert_int_equal(hps_proto_trials_count(b.data, b.len, &count, &d), HPS_OK);
    assert_int_equal(count, 1);
    assert_int_equal(d, 0);
    size_t off = 0;
    hps_trial_spec t;
    assert_int_equal(hps_proto_trials_next(b.data, b.len, &off, d, &t), HPS_OK);
    assert_int_equal(t.trial_id, 5);
    assert_true(t.seed == 6);
    assert_true(t.budget == 7.0);
    hps_buf_free(&b);
}

/* Decode a whole TRIALS message: HPS_OK only if the header and all count items read. */
static int decode_all_trials(const void *msg, size_t len)
{
    uint32_t count, d;
    if (hps_proto_trials_count(msg, len, &count, &d) != HPS_OK)
        return HPS_ECORRUPT;
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_trial_spec t;
        int rc = hps_proto_trials_next(msg, len, &off, d, &t);
        if (rc != HPS_OK)
            return rc;
        /* Touch every value so ASan sees a read past the block. */
        volatile double sink = 0;
        for (uint32_t k = 0; k < d; k++)
            sink += t.values[k];
        (void)sink;
    }
    return HPS_OK;
}

static void test_trials_truncated(void **state)
{
    (void)state;
    hps_buf b = {0};
    build_trials(&b, 3);
    for (size_t n = b.len; n-- > 0;) {
        void *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, b.data, n);
        int rc = decode_all_trials(cut, n);
        free(cut);
        if (rc != HPS_ECORRUPT)
            fail_msg("a TRIALS message cut to %zu of %zu bytes decoded", n, b.len);
    }
    void *whole = malloc(b.len);
    memcpy(whole, b.data, b.len);
    assert_int_equal(decode_all_trials(whole, b.len), HPS_OK);
    free(whole);
    hps_buf_free(&b);
}

/* ---- RESULTS ------------------------------------------------------------------------ */

static const hps_rec_metric METRIC = {.name_index = 0, .step = 2, .resource = 3.0, .value = 0.5};

static hps_outcome make_result(int i, char *cause)
{
    hps_outcome r;
    hps_outcome_init(&r);
    r.status = i % 5;
    r.worker = 10 + i;
    r.objective = i == 2 ? NAN : 0.125 * i - 1.0;
    r.start = 1700000000.0 + i;
    r.end = 1700000010.5 + i;
    r.exit_code = i - 1;
    r.attempts = i;
    if (i == 1)
        snprintf(r.cause, sizeof r.cause, "exit code 3");
    if (i == 3) { /* exactly HPS_CAUSE_LEN - 1 characters */
        memset(r.cause, 'k', HPS_CAUSE_LEN - 1);
        r.cause[0] = '<';
        r.cause[HPS_CAUSE_LEN - 2] = '>';
        r.cause[HPS_CAUSE_LEN - 1] = '\0';
    }
    if (i == 1) {
        r.stderr_tail = "boom\n";
        r.stderr_len = 5;
    }
    if (i == 0) {
        r.metrics = &METRIC;
        r.n_metrics = 1;
    }
    if (cause)
        memcpy(cause, r.cause, HPS_CAUSE_LEN);
    return r;
}

/* The bytes of trial i's entry: id, length, then the outcome's journal encoding. */
static size_t expected_result_len(int i)
{
    hps_outcome r = make_result(i, NULL);
    return 8 + 4 + (4 + 4 + 8 + 8 + 8) + 2 + strlen(r.cause) + 4 + 4 + 2 + r.stderr_len + 4 +
           28 * r.n_metrics;
}

static void build_results(hps_buf *b, int n)
{
    hps_proto_results_begin(b, 12.75);
    for (int i = 0; i < n; i++) {
        hps_outcome r = make_result(i, NULL);
        hps_proto_results_add(b, 1000 + i, &r);
    }
    assert_false(b->failed);
}

/* The next trial of a RESULTS message, its outcome decoded. */
static int next_result(const hps_buf *b, size_t *off, int64_t *id, hps_outcome *o,
                       hps_rec_metric *m)
{
    const void *bytes;
    uint32_t n;
    int rc = hps_proto_results_next(b->data, b->len, off, id, &bytes, &n);
    return rc == HPS_OK ? hps_outcome_decode(bytes, n, o, m, 4) : rc;
}

static void test_results_roundtrip(void **state)
{
    (void)state;
    hps_buf b = {0};
    build_results(&b, 4);
    size_t want = 12;
    for (int i = 0; i < 4; i++)
        want += expected_result_len(i);
    assert_int_equal(b.len, want);

    uint32_t count = 0;
    double eval = 0;
    assert_int_equal(hps_proto_results_count(b.data, b.len, &count, &eval), HPS_OK);
    assert_int_equal(count, 4);
    assert_true(eval == 12.75);
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        char cause[HPS_CAUSE_LEN];
        hps_outcome r, w = make_result(i, cause);
        hps_rec_metric m[4];
        int64_t id = -1;
        memset(&r, 0x55, sizeof r);
        assert_int_equal(next_result(&b, &off, &id, &r, m), HPS_OK);
        assert_int_equal(id, 1000 + i);
        assert_int_equal(r.status, w.status);
        assert_int_equal(r.worker, w.worker);
        if (i == 2)
            assert_true(isnan(r.objective));
        else
            assert_true(r.objective == w.objective);
        assert_true(r.start == w.start);
        assert_true(r.end == w.end);
        assert_string_equal(r.cause, cause);
        assert_int_equal(r.exit_code, w.exit_code);
        assert_int_equal(r.attempts, w.attempts);
        assert_int_equal(r.stderr_len, w.stderr_len);
        if (w.stderr_len)
            assert_memory_equal(r.stderr_tail, w.stderr_tail, w.stderr_len);
        assert_int_equal(r.n_metrics, w.n_metrics);
        if (w.n_metrics) {
            assert_int_equal(r.metrics[0].name_index, METRIC.name_index);
            assert_int_equal(r.metrics[0].step, METRIC.step);
            assert_true(r.metrics[0].resource == METRIC.resource);
            assert_true(r.metrics[0].value == METRIC.value);
        }
    }
    assert_int_equal(off, b.len);
    hps_outcome r;
    hps_rec_metric m[4];
    int64_t id;
    size_t off2 = off;
    assert_int_equal(next_result(&b, &off2, &id, &r, m), HPS_ECORRUPT);

    /* The 63-character cause. */
    off = 0;
    for (int i = 0; i <= 3; i++)
        assert_int_equal(next_result(&b, &off, &id, &r, m), HPS_OK);
    assert_int_equal(strlen(r.cause), HPS_CAUSE_LEN - 1);
    assert_int_equal(r.cause[0], '<');
    assert_int_equal(r.cause[HPS_CAUSE_LEN - 2], '>');

    /* The status and end of an entry can be read without decoding it whole. */
    off = 0;
    const void *bytes;
    uint32_t n;
    assert_int_equal(hps_proto_results_next(b.data, b.len, &off, &id, &bytes, &n), HPS_OK);
    int32_t status;
    double end;
    assert_int_equal(hps_outcome_peek(bytes, n, &status, &end), HPS_OK);
    assert_int_equal(status, 0);
    assert_true(end == 1700000010.5);
    assert_int_equal(hps_outcome_peek(bytes, 31, &status, &end), HPS_ECORRUPT);
    hps_buf_free(&b);
}

static void test_results_count_updates(void **state)
{
    (void)state;
    hps_buf b = {0};
    uint32_t count = 99;
    double eval = -1;
    hps_proto_results_begin(&b, 0.5);
    assert_int_equal(b.len, 12);
    assert_int_equal(hps_proto_results_count(b.data, b.len, &count, &eval), HPS_OK);
    assert_int_equal(count, 0);
    assert_true(eval == 0.5);
    for (int i = 0; i < 5; i++) {
        hps_outcome r = make_result(i, NULL);
        hps_proto_results_add(&b, i, &r);
        assert_int_equal(hps_proto_results_count(b.data, b.len, &count, &eval), HPS_OK);
        assert_int_equal(count, (uint32_t)i + 1);
        assert_true(eval == 0.5);
    }
    hps_proto_results_set_seconds(&b, 4.25);
    assert_int_equal(hps_proto_results_count(b.data, b.len, &count, &eval), HPS_OK);
    assert_true(eval == 4.25);
    hps_proto_results_begin(&b, 2.0);
    assert_int_equal(hps_proto_results_count(b.data, b.len, &count, &eval), HPS_OK);
    assert_int_equal(count, 0);
    assert_true(eval == 2.0);
    hps_buf_free(&b);
}

/* A cause with no NUL in its HPS_CAUSE_LEN bytes is sent as HPS_CAUSE_LEN - 1. */
static void test_results_cause_unterminated(void **state)
{
    (void)state;
    hps_buf b = {0};
    hps_outcome r = make_result(0, NULL);
    memset(r.cause, 'z', sizeof r.cause);
    hps_proto_results_begin(&b, 0.0);
    hps_proto_results_add(&b, 1, &r);
    size_t off = 0;
    hps_outcome d;
    hps_rec_metric m[4];
    int64_t id;
    assert_int_equal(next_result(&b, &off, &id, &d, m), HPS_OK);
    assert_int_equal(strlen(d.cause), HPS_CAUSE_LEN - 1);
    hps_buf_free(&b);
}

/* A cause length of HPS_CAUSE_LEN or more is refused even if the bytes exist. */
static void test_results_cause_len_corrupt(void **state)
{
    (void)state;
    hps_buf b = {0};
    hps_outcome r = make_result(3, NULL); /* 63-byte cause */
    hps_proto_results_begin(&b, 0.0);
    hps_proto_results_add(&b, 1, &r);
    size_t cl_at = 12 + 8 + 4 + 4 + 4 + 8 + 8 + 8;
    uint16_t cl;
    memcpy(&cl, b.data + cl_at, sizeof cl);
    assert_int_equal(cl, HPS_CAUSE_LEN - 1);
    cl = HPS_CAUSE_LEN;
    memcpy(b.data + cl_at, &cl, sizeof cl);
    size_t off = 0;
    hps_outcome d;
    hps_rec_metric m[4];
    int64_t id;
    assert_int_equal(next_result(&b, &off, &id, &d, m), HPS_ECORRUPT);
    cl = 65535;
    memcpy(b.data + cl_at, &cl, sizeof cl);
    off = 0;
    assert_int_equal(next_result(&b, &off, &id, &d, m), HPS_ECORRUPT);
    hps_buf_free(&b);
}

static int decode_all_results(const void *msg, size_t len)
{
    uint32_t count;
    double eval;
    if (hps_proto_results_count(msg, len, &count, &eval) != HPS_OK)
        return HPS_ECORRUPT;
    size_t off = 0;
    hps_buf b = {.data = (unsigned char *)msg, .len = len};
    for (uint32_t i = 0; i < count; i++) {
        hps_outcome r;
        hps_rec_metric m[4];
        int64_t id;
        int rc = next_result(&b, &off, &id, &r, m);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

static void test_results_truncated(void **state)
{
    (void)state;
    hps_buf b = {0};
    build_results(&b, 4);
    for (size_t n = b.len; n-- > 0;) {
        void *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, b.data, n);
        int rc = decode_all_results(cut, n);
        free(cut);
        if (rc != HPS_ECORRUPT)
            fail_msg("a RESULTS message cut to %zu of %zu bytes decoded", n, b.len);
    }
    assert_int_equal(decode_all_results(b.data, b.len), HPS_OK);
    hps_buf_free(&b);
}

/* ---- REPORT ------------------------------------------------------------------------- */

static void test_report_roundtrip(void **state)
{
    (void)state;
    hps_report_line *r = calloc(1, sizeof *r), *d = calloc(1, sizeof *d);
    r->step = 7;
    r->resource = 2.5;
    r->n = 2;
    snprintf(r->names[0], sizeof r->names[0], "loss");
    r->values[0] = 0.25;
    memset(r->names[1], 'm', HPS_METRIC_NAME_MAX);
    r->values[1] = NAN;
    hps_buf b = {0};
    hps_proto_report(&b, 42, r);
    int64_t id;
    assert_int_equal(hps_proto_report_decode(b.data, b.len, &id, d), HPS_OK);
    assert_int_equal(id, 42);
    assert_int_equal(d->n, 2);
    assert_int_equal(d->step, 7);
    assert_true(d->resource == 2.5);
    assert_string_equal(d->names[0], "loss");
    assert_int_equal(strlen(d->names[1]), HPS_METRIC_NAME_MAX);
    assert_true(d->values[0] == 0.25 && isnan(d->values[1]));
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(hps_proto_report_decode(b.data, n, &id, d), HPS_ECORRUPT);
    /* One byte too many is corrupt too. */
    unsigned char x = 0;
    hps_buf_put(&b, &x, 1);
    assert_int_equal(hps_proto_report_decode(b.data, b.len, &id, d), HPS_ECORRUPT);
    hps_buf_free(&b);
    free(r);
    free(d);
}

/* ---- backoff ------------------------------------------------------------------------ */

static void test_backoff_doubling(void **state)
{
    (void)state;
    hps_backoff bo;
    bo.ns = 12345;
    hps_backoff_reset(&bo);
    assert_int_equal(bo.ns, 0);
    /* It sleeps 20 us first, then doubles after each sleep up to 1 ms. */
    const long want[] = {40000, 80000, 160000, 320000, 640000, 1000000, 1000000, 1000000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        hps_backoff_sleep(&bo);
        assert_int_equal(bo.ns, want[i]);
    }
    hps_backoff_reset(&bo);
    assert_int_equal(bo.ns, 0);
    hps_backoff_sleep(&bo);
    assert_int_equal(bo.ns, 40000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trials_roundtrip),
        cmocka_unit_test(test_trials_count_updates),
        cmocka_unit_test(test_trials_zero_dim),
        cmocka_unit_test(test_trials_truncated),
        cmocka_unit_test(test_results_roundtrip),
        cmocka_unit_test(test_results_count_updates),
        cmocka_unit_test(test_results_cause_unterminated),
        cmocka_unit_test(test_results_cause_len_corrupt),
        cmocka_unit_test(test_results_truncated),
        cmocka_unit_test(test_report_roundtrip),
        cmocka_unit_test(test_backoff_doubling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
