/*
 * Tests of the compact /trials index (engine/store/store_rank.c): built one row
 * at a time it says what a scan of the whole trial table says (the old way the
 * attributes were computed, kept here as the reference): ranking, counts,
 * causes (more than fit), latest failed rows, the rate window (whole seconds)
 * over ends out of order, running rows; and a copy of the index of the first k
 * rows extended with the rest equals the index of all rows, for every k, whatever
 * the goal; and an index built from a whole table says the same. Ends far outside
 * any clock's range stay defined.
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

#include "store/store.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"

enum { N = 700 };

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Trials of every status, budgets from a few levels, ties, NaN objectives, more
 * distinct causes than are counted by name, ends out of order. */
static void make(hps_trial *t, int64_t n)
{
    for (int64_t r = 0; r < n; r++) {
        memset(&t[r], 0, sizeof t[r]);
        t[r].trial_id = r;
        t[r].status = (int32_t)(next() % 5);
        t[r].budget = (double)(next() % 3);
        t[r].start = 1000.0 + (double)r * 3.0 - (double)(next() % 500) +
                     (double)(next() % 1000) / 1000.0;
        t[r].end = next() % 17 == 0 ? NAN : t[r].start + (double)(next() % 400000) / 1000.0;
        t[r].objective = next() % 13 == 0 ? NAN : (double)(next() % 50);
        if (t[r].status == HPS_TRIAL_FAILED)
            snprintf(t[r].cause, sizeof t[r].cause, "exit:%d", (int)(next() % 24));
    }
}

static int fin(const hps_trial *t)
{
    return t->status == HPS_TRIAL_DONE || t->status == HPS_TRIAL_FAILED ||
           t->status == HPS_TRIAL_PRUNED;
}

/* The reference: a scan of every row. */
static void check(const hps_store_index *ix, const hps_trial *t, int64_t n, int maximize)
{
    assert_int_equal(ix->n_rows, n);
    int64_t ranked = 0, counts[6] = {n, 0, 0, 0, 0, 0};
    for (int64_t r = 0; r < n; r++) {
        static const int slot[] = {2, 1, 3, 4, 5}; /* by status value */
        counts[slot[t[r].status]]++;
        ranked += t[r].status == HPS_TRIAL_DONE && isfinite(t[r].objective);
    }
    assert_int_equal(ix->ranked, ranked);
    for (int i = 0; i < 6; i++)
        assert_int_equal(ix->counts[i], counts[i]);
    /* Ranking: each top row beats or ties the next, and no unranked row beats the
     * last one kept unless all ranked rows are kept. */
    assert_int_equal(ix->n_top, ranked < HPS_STORE_BEST_ROWS ? ranked : HPS_STORE_BEST_ROWS);
    char *in_top = calloc((size_t)n + 1, 1);
    assert_non_null(in_top);
    for (int i = 0; i < ix->n_top; i++) {
        const hps_trial *a = &t[ix->top[i].row];
        assert_true(a->status == HPS_TRIAL_DONE && isfinite(a->objective));
        assert_true(ix->top[i].budget == a->budget && ix->top[i].objective == a->objective);
        in_top[ix->top[i].row] = 1;
        if (i > 0) {
            const hps_trial *p = &t[ix->top[i - 1].row];
            assert_false(hps_trial_better(a, p, maximize));
            if (!hps_trial_better(p, a, maximize)) /* a tie: the earlier row first */
                assert_true(ix->top[i - 1].row < ix->top[i].row);
        }
    }
    if (ix->n_top > 0)
        for (int64_t r = 0; r < n; r++)
            if (!in_top[r] && t[r].status == HPS_TRIAL_DONE && isfinite(t[r].objective)) {
                const hps_trial *w = &t[ix->top[ix->n_top - 1].row];
                assert_false(hps_trial_better(&t[r], w, maximize));
                if (!hps_trial_better(w, &t[r], maximize))
                    assert_true(r > ix->top[ix->n_top - 1].row);
            }
    free(in_top);
    /* Causes, first seen first; the rest counted together. */
    int k = 0;
    int64_t rows[HPS_STORE_STATUS_CAUSES], cnt[HPS_STORE_STATUS_CAUSES] = {0}, other = 0;
    for (int64_t r = 0; r < n; r++) {
        if (t[r].status != HPS_TRIAL_FAILED)
            continue;
        int c = 0;
        while (c < k && strcmp(t[rows[c]].cause, t[r].cause) != 0)
            c++;
        if (c == k && k == HPS_STORE_STATUS_CAUSES) {
            other++;
            continue;
        }
        if (c == k)
            rows[k++] = r;
        cnt[c]++;
    }
    assert_int_equal(ix->n_causes, k);
    assert_int_equal(ix->other_causes, other);
    for (int c = 0; c < k; c++) {
        assert_int_equal(ix->cause_rows[c], rows[c]);
        assert_int_equal(ix->cause_counts[c], cnt[c]);
        assert_string_equal(ix->causes[c], t[rows[c]].cause);
    }
    /* The latest failed rows. */
    int64_t nf = 0;
    for (int64_t r = n - 1; r >= 0 && nf < HPS_STORE_STATUS_FAILURES; r--)
        if (t[r].status == HPS_TRIAL_FAILED) {
            int64_t i = ix->n_failed - 1 - nf;
            assert_true(i >= 0);
            assert_int_equal(ix->failed[i % HPS_STORE_STATUS_FAILURES], r);
            nf++;
        }
    /* The rate window. */
    double last = -INFINITY;
    for (int64_t r = 0; r < n; r++)
        if (fin(&t[r]) && isfinite(t[r].end))
            last = fmax(last, t[r].end);
    assert_true(last == ix->last || (isinf(last) && isinf(ix->last)));
    if (isfinite(last)) {
        /* The ends in the window's whole seconds: from floor(last) - W + 1 on. */
        double from = floor(last) - HPS_STORE_RATE_WINDOW + 1, first = last, ifirst;
        int64_t in = 0, iin, ended = 0;
        for (int64_t r = 0; r < n; r++) {
            ended += fin(&t[r]) && isfinite(t[r].end);
            if (fin(&t[r]) && t[r].end >= from && t[r].end <= last) {
                in++;
                first = fmin(first, t[r].start);
            }
        }
        hps_store_index_rate(ix, &iin, &ifirst);
        assert_int_equal(iin, in);
        assert_true(first == ifirst);
        assert_true(n < 400 || (in > 0 && in < ended)); /* the window cuts these rows */
    }
    /* Running rows, in order. */
    size_t nr = 0;
    for (int64_t r = 0; r < n; r++)
        if (t[r].status == HPS_TRIAL_RUNNING) {
            assert_true(nr < ix->n_running);
            assert_int_equal(ix->running[nr++], r);
        }
    assert_int_equal(nr, ix->n_running);
}

static void test_build(void **state)
{
    (void)state;
    hps_trial *t = calloc(N, sizeof *t);
    assert_non_null(t);
    make(t, N);
    for (int maximize = 0; maximize < 2; maximize++)
        for (int64_t n = 0; n <= N; n += (n < 40 ? 1 : 97)) {
            hps_store_index ix;
            assert_int_equal(hps_store_index_build(&ix, t, n, maximize), HPS_OK);
            check(&ix, t, n, maximize);
            assert_int_equal(ix.n_rows, n);
            hps_store_index_free(&ix);
            hps_store_index_init(&ix, maximize); /* row by row */
            for (int64_t r = 0; r < n; r++)
                assert_int_equal(hps_store_index_add(&ix, &t[r]), HPS_OK);
            check(&ix, t, n, maximize);
            hps_store_index_free(&ix);
        }
    free(t);
}

static void test_copy_extend(void **state)
{
    (void)state;
    hps_trial *t = calloc(N, sizeof *t);
    assert_non_null(t);
    make(t, N);
    for (int maximize = 0; maximize < 2; maximize++)
        for (int64_t k = 0; k <= N; k += 53) {
            hps_store_index pre, ix;
            hps_store_index_init(&pre, maximize);
            for (int64_t r = 0; r < k; r++)
                assert_int_equal(hps_store_index_add(&pre, &t[r]), HPS_OK);
            assert_int_equal(hps_store_index_copy(&ix, &pre), HPS_OK);
            for (int64_t r = k; r < N; r++)
                assert_int_equal(hps_store_index_add(&ix, &t[r]), HPS_OK);
            check(&ix, t, N, maximize);
            check(&pre, t, k, maximize); /* the copy shares nothing */
            hps_store_index_free(&ix);
            /* Extended to be written: the same, and pre unchanged. */
            assert_int_equal(hps_store_index_extend(&ix, &pre, t + k, N - k), HPS_OK);
            check(&ix, t, N, maximize);
            check(&pre, t, k, maximize);
            hps_store_index_free(&ix);
            hps_store_index_free(&pre);
        }
    hps_store_index_free(NULL);
    free(t);
}

/* The window moves on a whole second at a time, and ends beyond any clock (a
 * damaged journal's) neither overflow the second nor count where they should not. */
static void test_window_edges(void **state)
{
    (void)state;
    hps_store_index ix;
    hps_store_index_init(&ix, 0);
    hps_trial t = {.status = HPS_TRIAL_DONE, .objective = 1};
    int64_t n;
    double first;
    t.start = 99.5, t.end = 100.25; /* second 100 */
    assert_int_equal(hps_store_index_add(&ix, &t), HPS_OK);
    t.start = 900.0, t.end = 999.75; /* 999: 100 is the window's first second */
    assert_int_equal(hps_store_index_add(&ix, &t), HPS_OK);
    hps_store_index_rate(&ix, &n, &first);
    assert_int_equal(n, 2);
    assert_true(first == 99.5);
    t.start = 1000.0, t.end = 1000.0; /* 1000: second 100 has left; its slot is reused */
    assert_int_equal(hps_store_index_add(&ix, &t), HPS_OK);
    hps_store_index_rate(&ix, &n, &first);
    assert_int_equal(n, 2);
    assert_true(first == 900.0);
    t.start = 10.0, t.end = 100.5; /* late, and before the window: not counted */
    assert_int_equal(hps_store_index_add(&ix, &t), HPS_OK);
    hps_store_index_rate(&ix, &n, &first);
    assert_int_equal(n, 2);
    assert_true(hps_store_in_rate_window(100.0, 999.0) && !hps_store_in_rate_window(99.99, 999.0));
    assert_false(hps_store_in_rate_window(1000.5, 1000.25)); /* after t1 */
    t.start = -1e300, t.end = -1e300;
    assert_int_equal(hps_store_index_add(&ix, &t), HPS_OK);
    t.start = 0, t.end = 1e300;
    assert_int_equal(hps_store_index_add(&ix, &t), HPS_OK);
    hps_store_index_rate(&ix, &n, &first);
    assert_int_equal(n, 1);
    assert_true(first == 0.0);
    assert_false(hps_store_in_rate_window(INFINITY, INFINITY));
    hps_store_index_free(&ix);
    hps_store_index_rate(&ix, &n, &first); /* freed: empty */
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_copy_extend),
        cmocka_unit_test(test_window_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
