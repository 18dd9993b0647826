/*
 * Unit tests of the trial id -> index map (strategies/idmap.h): put then get;
 * absent ids answer -1 (empty, zero-filled and filled maps); overwrite keeps one
 * entry; growth over many ids, negative and extreme ones included, loses nothing;
 * a negative index is refused; free(NULL) is a no-op and a freed map is reusable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hpsweep/error.h"
#include "strategies/idmap.h"

static void test_put_get(void **st)
{
    (void)st;
    hps_idmap m;
    hps_idmap_init(&m);
    assert_int_equal(hps_idmap_get(&m, 7), -1);
    assert_int_equal(hps_idmap_put(&m, 7, 0), HPS_OK);
    assert_int_equal(hps_idmap_put(&m, 3, 1), HPS_OK);
    assert_int_equal(hps_idmap_put(&m, 0, 2), HPS_OK);
    assert_int_equal(hps_idmap_get(&m, 7), 0);
    assert_int_equal(hps_idmap_get(&m, 3), 1);
    assert_int_equal(hps_idmap_get(&m, 0), 2);
    assert_int_equal(hps_idmap_get(&m, 4), -1);
    assert_int_equal(hps_idmap_get(&m, -7), -1);
    hps_idmap_free(&m);
}

static void test_zero_filled_is_empty(void **st)
{
    (void)st;
    hps_idmap m = {0};
    assert_int_equal(hps_idmap_get(&m, 0), -1);
    assert_int_equal(hps_idmap_put(&m, 0, 5), HPS_OK);
    assert_int_equal(hps_idmap_get(&m, 0), 5);
    hps_idmap_free(&m);
}

static void test_overwrite(void **st)
{
    (void)st;
    hps_idmap m;
    hps_idmap_init(&m);
    assert_int_equal(hps_idmap_put(&m, 42, 1), HPS_OK);
    assert_int_equal(hps_idmap_put(&m, 42, 9), HPS_OK);
    assert_int_equal(hps_idmap_get(&m, 42), 9);
    /* overwriting many times neither grows the count nor loses other ids */
    assert_int_equal(hps_idmap_put(&m, 43, 2), HPS_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hps_idmap_put(&m, 42, i), HPS_OK);
    assert_int_equal(hps_idmap_get(&m, 42), 999);
    assert_int_equal(hps_idmap_get(&m, 43), 2);
    assert_int_equal(m.n, 2);
    hps_idmap_free(&m);
}

/* The i-th id of a spread that mixes small, negative, huge and colliding ids. */
static int64_t nth_id(int i)
{
    switch (i % 5) {
    case 0: return i;
    case 1: return -(int64_t)i;
    case 2: return INT64_MAX - i;
    case 3: return INT64_MIN + i;
    default: return (int64_t)i << 32; /* same low bits: stresses probing */
    }
}

static void test_growth(void **st)
{
    (void)st;
    enum { N = 20000 };
    hps_idmap m;
    hps_idmap_init(&m);
    for (int i = 0; i < N; i++) {
        assert_int_equal(hps_idmap_put(&m, nth_id(i), i), HPS_OK);
        if (i % 997 == 0) /* earlier entries survive every rehash */
            for (int j = 0; j <= i; j += 13)
                assert_int_equal(hps_idmap_get(&m, nth_id(j)), j);
    }
    assert_int_equal(m.n, N);
    assert_true(2 * m.n <= m.cap);
    for (int i = 0; i < N; i++)
        assert_int_equal(hps_idmap_get(&m, nth_id(i)), i);
    /* absent: just outside each family of ids */
    assert_int_equal(hps_idmap_get(&m, N), -1);
    assert_int_equal(hps_idmap_get(&m, -(int64_t)N - 1), -1);
    assert_int_equal(hps_idmap_get(&m, INT64_MAX - N - 3), -1);
    assert_int_equal(hps_idmap_get(&m, INT64_MIN + N + 3), -1);
    assert_int_equal(hps_idmap_get(&m, (int64_t)(N + 4) << 32), -1);
    hps_idmap_free(&m);
}

static void test_negative_index_refused(void **st)
{
    (void)st;
    hps_idmap m;
    hps_idmap_init(&m);
    assert_int_equal(hps_idmap_put(&m, 1, -1), HPS_EINVAL);
    assert_int_equal(hps_idmap_get(&m, 1), -1);
    assert_int_equal(hps_idmap_put(&m, 1, 4), HPS_OK);
    assert_int_equal(hps_idmap_put(&m, 1, -5), HPS_EINVAL);
    assert_int_equal(hps_idmap_get(&m, 1), 4);
    hps_idmap_free(&m);
}

static void test_free_null(void **st)
{
    (void)st;
    hps_idmap_free(NULL);
    hps_idmap m;
    hps_idmap_init(&m);
    hps_idmap_free(&m); /* never allocated */
    assert_int_equal(hps_idmap_put(&m, 5, 1), HPS_OK);
    hps_idmap_free(&m);
    assert_int_equal(hps_idmap_get(&m, 5), -1);
    assert_int_equal(hps_idmap_put(&m, 5, 2), HPS_OK); /* reusable after free */
    assert_int_equal(hps_idmap_get(&m, 5), 2);
    hps_idmap_free(&m);
    hps_idmap_free(&m); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get),
        cmocka_unit_test(test_zero_filled_is_empty),
        cmocka_unit_test(test_overwrite),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_negative_index_refused),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
