/*
 * GPU assignment for command trials (workers/gpus.c): the list each trial-group
 * leader gets, wrapping when a node has fewer GPUs, and the job's own
 * CUDA_VISIBLE_DEVICES honoured as the pool of devices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workers/gpus.h"

static void check(int index, int per, int count, const char *want, int want_wrapped)
{
    int wrapped = -1;
    char *got = hps_gpu_list(index, per, count, &wrapped);
    if (!want) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
    assert_int_equal(wrapped, want_wrapped);
    free(got);
}

static void test_lists(void **state)
{
    (void)state;
    unsetenv("CUDA_VISIBLE_DEVICES");
    check(0, 1, 4, "0", 0);
    check(3, 1, 4, "3", 0);
    check(0, 2, 4, "0,1", 0);
    check(1, 2, 4, "2,3", 0);
    check(2, 2, 4, "0,1", 1);   /* a third leader on a 4-GPU node: shares */
    check(0, 3, 2, "0,1,0", 1); /* more per trial than the node has */
    check(0, 0, 4, NULL, 0);    /* no GPUs wanted */
    check(0, 1, 0, NULL, 0);    /* no GPUs present */
}

/* The CUDA ordinal of in-process code: the first of its devices' positions. */
static void test_ordinals(void **state)
{
    (void)state;
    assert_int_equal(hps_gpu_ordinal(0, 1, 4), 0);
    assert_int_equal(hps_gpu_ordinal(3, 1, 4), 3);
    assert_int_equal(hps_gpu_ordinal(1, 2, 4), 2);
    assert_int_equal(hps_gpu_ordinal(4, 1, 4), 0); /* wraps: shared */
    assert_int_equal(hps_gpu_ordinal(0, 0, 4), -1);
    assert_int_equal(hps_gpu_ordinal(0, 1, 0), -1);
}

static void test_job_devices(void **state)
{
    (void)state;
    setenv("CUDA_VISIBLE_DEVICES", "3,5,7", 1);
    assert_int_equal(hps_gpu_count(), 3);
    check(1, 1, 3, "5", 0);
    check(0, 2, 3, "3,5", 0);
    check(1, 2, 3, "7,3", 1);
    setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa,GPU-bbbb", 1);
    check(1, 1, 2, "GPU-bbbb", 0);
    unsetenv("CUDA_VISIBLE_DEVICES");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_job_devices),
        cmocka_unit_test(test_ordinals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
