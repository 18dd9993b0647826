/*
 * Tests of engine/cli/blas_threads.c: hps_cli_blas_start leaves the process with no
 * OpenBLAS thread running (the pool OpenBLAS started when it loaded is shut down),
 * BLAS still multiplies, on one thread; a caller that asks for more threads gets
 * the pool back and the same products; a user's OPENBLAS_NUM_THREADS is left alone.
 * ctest runs this program without OPENBLAS_NUM_THREADS (tests/CMakeLists.txt), so
 * that OpenBLAS starts its pool as it does for a user.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>

#include <gsl/gsl_blas.h>

#include "cli/cli.h"

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* The threads of this process: the entries of /proc/self/task. */
static int threads(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* C = A B for n x n integer-valued matrices (exact in doubles, so any split of
 * the work across threads gives the same bits), checked against a plain loop. */
static void multiply_checked(size_t n)
{
    gsl_matrix *a = gsl_matrix_alloc(n, n), *b = gsl_matrix_alloc(n, n);
    gsl_matrix *c = gsl_matrix_calloc(n, n);
    assert_true(a && b && c);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            gsl_matrix_set(a, i, j, (double)((i * 7 + j * 3) % 11) - 5);
            gsl_matrix_set(b, i, j, (double)((i * 5 + j) % 13) - 6);
        }
    assert_int_equal(gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, a, b, 0.0, c), 0);
    for (size_t i = 0; i < n; i += 17)
        for (size_t j = 0; j < n; j += 13) {
            double want = 0;
            for (size_t k = 0; k < n; k++)
                want += gsl_matrix_get(a, i, k) * gsl_matrix_get(b, k, j);
            assert_true(gsl_matrix_get(c, i, j) == want);
        }
    gsl_matrix_free(a);
    gsl_matrix_free(b);
    gsl_matrix_free(c);
}

/* First (cmocka keeps the order): the pool OpenBLAS made at load goes. */
static void test_pool_shut_at_start(void **state)
{
    (void)state;
    unsetenv("OPENBLAS_NUM_THREADS"); /* in case this was run by hand with it set */
    hps_cli_blas_start();
    assert_int_equal(openblas_get_num_threads(), 1);
#if HPS_HAVE_BLAS_THREAD_SHUTDOWN
    assert_int_equal(threads(), 1); /* this program has no thread of its own */
#endif
    multiply_checked(300);
    assert_int_equal(openblas_get_num_threads(), 1);
#if HPS_HAVE_BLAS_THREAD_SHUTDOWN
    assert_int_equal(threads(), 1); /* one thread: BLAS did not start the pool */
#endif
}

/* Asking for threads (the trainer's `threads`) brings the pool back. */
static void test_threads_asked_for_come_back(void **state)
{
    (void)state;
    openblas_set_num_threads(2);
    assert_int_equal(openblas_get_num_threads(), 2);
    assert_true(threads() > 1);
    multiply_checked(300);
    openblas_set_num_threads(1);
}

/* OPENBLAS_NUM_THREADS set: the user's count stays as it is. */
static void test_user_variable_wins(void **state)
{
    (void)state;
    openblas_set_num_threads(3);
    assert_int_equal(setenv("OPENBLAS_NUM_THREADS", "3", 1), 0);
    hps_cli_blas_start();
    assert_int_equal(openblas_get_num_threads(), 3);
    assert_int_equal(unsetenv("OPENBLAS_NUM_THREADS"), 0);
    openblas_set_num_threads(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_shut_at_start),
        cmocka_unit_test(test_threads_asked_for_come_back),
        cmocka_unit_test(test_user_variable_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
