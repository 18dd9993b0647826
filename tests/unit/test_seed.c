/*
 * Unit tests for seeds (engine/seed.c): the formulas documented in seed.h are
 * recomputed here independently and compared with the library, anchored on
 * published SplitMix64 output; trial seeds are distinct over 100k ids; fresh
 * seeds stay below 2^53.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/seed.h"

/* The reference formulas, written from seed.h's comment. */
static uint64_t ref_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t ref_trial_seed(uint64_t sweep_seed, int64_t trial_id)
{
    return ref_mix64(sweep_seed + 0x9E3779B97F4A7C15ull * (uint64_t)(trial_id + 1));
}

static uint64_t ref_strategy_seed(uint64_t sweep_seed)
{
    /* "STRATEGY" in ASCII, big-endian: S=53 T=54 R=52 A=41 T=54 E=45 G=47 Y=59. */
    uint64_t k = 0;
    const char *s = "STRATEGY";
    for (int i = 0; i < 8; i++)
        k = (k << 8) | (unsigned char)s[i];
    return ref_mix64(sweep_seed ^ k);
}

static void test_mix64(void **state)
{
    (void)state;
    /* The finaliser maps 0 to 0. */
    assert_true(hps_mix64(0) == 0);
    /* SplitMix64 seeded with 0: its first two outputs are mix64(gamma), mix64(2 gamma)
     * (the reference sequence of Steele, Lea and Flood's generator). */
    assert_true(hps_mix64(0x9E3779B97F4A7C15ull) == 0xE220A8397B1DCDAFull);
    assert_true(hps_mix64(0x9E3779B97F4A7C15ull * 2) == 0x6E789E6AA1B965F4ull);
    const uint64_t in[] = {1, 2, 42, 0xFFFFFFFFFFFFFFFFull, 0x8000000000000000ull,
                           0x0123456789ABCDEFull};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_true(hps_mix64(in[i]) == ref_mix64(in[i]));
    assert_true(hps_mix64(1) != hps_mix64(2));
}

static void test_trial_seed(void **state)
{
    (void)state;
    /* trial_seed(0, 0) is SplitMix64(0)'s first output. */
    assert_true(hps_seed_trial(0, 0) == 0xE220A8397B1DCDAFull);
    assert_true(hps_seed_trial(0, 1) == 0x6E789E6AA1B965F4ull);
    for (int64_t id = 0; id < 4; id++) {
        assert_true(hps_seed_trial(42, id) == ref_trial_seed(42, id));
        assert_true(hps_seed_trial(42, id) ==
                    ref_mix64(42 + 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1)));
    }
    assert_true(hps_seed_trial(42, 0) != hps_seed_trial(42, 1));
    assert_true(hps_seed_trial(42, 0) != hps_seed_trial(43, 0));
    /* Modulo 2^64: a seed near the top wraps. */
    uint64_t big = 0xFFFFFFFFFFFFFFF0ull;
    assert_true(hps_seed_trial(big, 5) == ref_trial_seed(big, 5));
    assert_true(hps_seed_trial(big, 123456789) == ref_trial_seed(big, 123456789));
    /* It depends only on (sweep seed, trial id). */
    assert_true(hps_seed_trial(7, 3) == hps_seed_trial(7, 3));
}

static void test_strategy_seed(void **state)
{
    (void)state;
    assert_true(hps_seed_strategy(42) == ref_strategy_seed(42));
    assert_true(hps_seed_strategy(42) == ref_mix64(42 ^ 0x5354524154454759ull));
    assert_true(hps_seed_strategy(0) == ref_mix64(0x5354524154454759ull));
    assert_true(hps_seed_strategy(0xFFFFFFFFFFFFFFFFull) ==
                ref_strategy_seed(0xFFFFFFFFFFFFFFFFull));
    /* Not the same stream as any early trial. */
    for (int64_t id = 0; id < 1000; id++)
        assert_true(hps_seed_strategy(42) != hps_seed_trial(42, id));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_trial_seeds_distinct(void **state)
{
    (void)state;
    const int n = 100000;
    uint64_t *v = malloc(sizeof *v * (size_t)n);
    assert_non_null(v);
    for (int i = 0; i < n; i++)
        v[i] = hps_seed_trial(42, i);
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    for (int i = 1; i < n; i++)
        if (v[i] == v[i - 1])
            fail_msg("two trial ids share seed %llu", (unsigned long long)v[i]);
    free(v);
}

static void test_fresh_seed(void **state)
{
    (void)state;
    uint64_t prev = 0;
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t s = hps_fresh_seed();
        assert_true(s < (UINT64_C(1) << 53));
        /* It reads back exactly as a double. */
        assert_true((uint64_t)(double)s == s);
        if (i > 0 && s != prev)
            differ = 1;
        prev = s;
    }
    assert_true(differ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix64),
        cmocka_unit_test(test_trial_seed),
        cmocka_unit_test(test_strategy_seed),
        cmocka_unit_test(test_trial_seeds_distinct),
        cmocka_unit_test(test_fresh_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
