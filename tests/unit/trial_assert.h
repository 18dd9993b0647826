/*
 * Shared by the unit tests that read trials back from sweep.h5: one trial equals
 * another in every column /trials stores (doubles bit for bit, NaN included).
 * Include after <cmocka.h>.
 */
#ifndef HPS_TESTS_TRIAL_ASSERT_H
#define HPS_TESTS_TRIAL_ASSERT_H

#include "hpsweep/results.h"

/* a equals b in every /trials column, and in its first n_values parameter values. */
static inline void assert_same_row(const hps_trial *a, const hps_trial *b, int n_values)
{
    assert_int_equal(a->trial_id, b->trial_id);
    assert_int_equal(a->status, b->status);
    assert_true(a->seed == b->seed);
    assert_int_equal(a->bracket, b->bracket);
    assert_int_equal(a->rung, b->rung);
    assert_memory_equal(&a->budget, &b->budget, sizeof a->budget);
    assert_int_equal(a->worker, b->worker);
    assert_memory_equal(&a->start, &b->start, sizeof a->start);
    assert_memory_equal(&a->end, &b->end, sizeof a->end);
    assert_memory_equal(&a->objective, &b->objective, sizeof a->objective);
    assert_string_equal(a->cause, b->cause);
    assert_int_equal(a->exit_code, b->exit_code);
    assert_int_equal(a->attempts, b->attempts);
    if (n_values > 0)
        assert_memory_equal(a->values, b->values, (size_t)n_values * sizeof *a->values);
}

#endif
