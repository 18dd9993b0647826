/*
 * Unit tests for the coordinator/worker message packing (engine/protocol.c):
 * TRIALS and RESULTS messages round-trip, the count field follows every add, every
 * truncated message is refused with HPS_ECORRUPT, causes of HPS_CAUSE_LEN - 1
 * bytes survive, and the backoff interval doubles from 20 us to a 1 ms cap.
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

#include "engine/protocol.h"
#include "hpsweep/error.h"

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
        hps_proto_trials_add(b, 100 + i, 0xABCDEF0000000000ull + (uint64_t)i, 0.5 * i, 0.25 * i, VALS[i],
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
        hps_wire_trial t;
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
    hps_wire_trial extra;
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
        hps_proto_trials_add(&b, i, (uint64_t)i, 0.0, 0.0, VALS[i], TD);
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
    hps_proto_trials_add(&b, 5, 6, 7.0, 3.0, none, 0);
    assert_int_equal(b.len, 8 + 32);
    uint32_t count, d;
    assert_int_equal(hps_proto_trials_count(b.data, b.len, &count, &d), HPS_OK);
    assert_int_equal(count, 1);
    assert_int_equal(d, 0);
    size_t off = 0;
    hps_wire_trial t;
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
        hps_wire_trial t;
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

static hps_wire_result make_result(int i)
{
    hps_wire_result r;
    memset(&r, 0, sizeof r);
    r.trial_id = 1000 + i;
    r.status = i % 5;
    r.objective = i == 2 ? NAN : 0.125 * i - 1.0;
    r.start = 1700000000.0 + i;
    r.end = 1700000010.5 + i;
    if (i == 1)
        snprintf(r.cause, sizeof r.cause, "exit code 3");
    if (i == 3) { /* exactly HPS_CAUSE_LEN - 1 characters */
        memset(r.cause, 'k', HPS_CAUSE_LEN - 1);
        r.cause[0] = '<';
        r.cause[HPS_CAUSE_LEN - 2] = '>';
        r.cause[HPS_CAUSE_LEN - 1] = '\0';
    }
    return r;
}

static size_t expected_result_len(int i)
{
    hps_wire_result r = make_result(i);
    return 8 + 4 + 8 + 8 + 8 + 1 + strlen(r.cause) + 4 + 4 + 2 + strlen(r.stderr_tail);
}

static void build_results(hps_buf *b, int n)
{
    hps_proto_results_begin(b, 12.75);
    for (int i = 0; i < n; i++) {
        hps_wire_result r = make_result(i);
        hps_proto_results_add(b, &r);
    }
    assert_false(b->failed);
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
        hps_wire_result r, w = make_result(i);
        memset(&r, 0x55, sizeof r);
        assert_int_equal(hps_proto_results_next(b.data, b.len, &off, &r), HPS_OK);
        assert_int_equal(r.trial_id, w.trial_id);
        assert_int_equal(r.status, w.status);
        if (i == 2)
            assert_true(isnan(r.objective));
        else
            assert_true(r.objective == w.objective);
        assert_true(r.start == w.start);
        assert_true(r.end == w.end);
        assert_string_equal(r.cause, w.cause);
    }
    assert_int_equal(off, b.len);
    hps_wire_result r;
    size_t off2 = off;
    assert_int_equal(hps_proto_results_next(b.data, b.len, &off2, &r), HPS_ECORRUPT);

    /* The 63-character cause. */
    off = 0;
    for (int i = 0; i <= 3; i++)
        assert_int_equal(hps_proto_results_next(b.data, b.len, &off, &r), HPS_OK);
    assert_int_equal(strlen(r.cause), HPS_CAUSE_LEN - 1);
    assert_int_equal(r.cause[0], '<');
    assert_int_equal(r.cause[HPS_CAUSE_LEN - 2], '>');
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
        hps_wire_result r = make_result(i);
        hps_proto_results_add(&b, &r);
        assert_int_equal(hps_proto_results_count(b.data, b.len, &count, &eval), HPS_OK);
        assert_int_equal(count, (uint32_t)i + 1);
        assert_true(eval == 0.5);
    }
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
    hps_wire_result r = make_result(0);
    memset(r.cause, 'z', sizeof r.cause);
    hps_proto_results_begin(&b, 0.0);
    hps_proto_results_add(&b, &r);
    size_t off = 0;
    hps_wire_result d;
    assert_int_equal(hps_proto_results_next(b.data, b.len, &off, &d), HPS_OK);
    assert_int_equal(strlen(d.cause), HPS_CAUSE_LEN - 1);
    hps_buf_free(&b);
}

/* A cause length byte of HPS_CAUSE_LEN or more is refused even if the bytes exist. */
static void test_results_cause_len_corrupt(void **state)
{
    (void)state;
    hps_buf b = {0};
    hps_wire_result r = make_result(3); /* 63-byte cause */
    hps_proto_results_begin(&b, 0.0);
    hps_proto_results_add(&b, &r);
    unsigned char pad = 'x';
    hps_buf_put(&b, &pad, 1);
    size_t cl_at = 12 + 8 + 4 + 8 + 8 + 8;
    assert_int_equal(b.data[cl_at], HPS_CAUSE_LEN - 1);
    b.data[cl_at] = HPS_CAUSE_LEN;
    size_t off = 0;
    hps_wire_result d;
    assert_int_equal(hps_proto_results_next(b.data, b.len, &off, &d), HPS_ECORRUPT);
    b.data[cl_at] = 255;
    off = 0;
    assert_int_equal(hps_proto_results_next(b.data, b.len, &off, &d), HPS_ECORRUPT);
    hps_buf_free(&b);
}

static int decode_all_results(const void *msg, size_t len)
{
    uint32_t count;
    double eval;
    if (hps_proto_results_count(msg, len, &count, &eval) != HPS_OK)
        return HPS_ECORRUPT;
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_wire_result r;
        int rc = hps_proto_results_next(msg, len, &off, &r);
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
        cmocka_unit_test(test_backoff_doubling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
