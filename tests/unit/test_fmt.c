/*
 * Tests of engine/core/fmt.c: hps_fmt_g17 writes exactly what snprintf("%.17g")
 * writes, for millions of doubles of every kind (random bit patterns over the
 * whole range, the fixed-point range's ends, powers of ten and their neighbours,
 * halfway cases that round to even, Unix times, integers, fractions of small
 * powers of two, zeros, nan and inf), and hps_fmt_i64/u64 what "%lld"/"%llu" write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fmt.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static long checked;

static void same_g17(double v)
{
    char want[64], got[HPS_FMT_LEN];
    int wn = snprintf(want, sizeof want, "%.17g", v);
    int gn = hps_fmt_g17(got, v);
    if (wn != gn || strcmp(want, got) != 0) {
        print_message("%a: want '%s' (%d), got '%s' (%d)\n", v, want, wn, got, gn);
        fail();
    }
    checked++;
}

static void test_special(void **state)
{
    (void)state;
    const double v[] = {0.0, -0.0, NAN, -NAN, INFINITY, -INFINITY, 1, -1, 0.1, 0.5, 1e-4,
                        nextafter(1e-4, 0), nextafter(1e-4, 1), 1e17, nextafter(1e17, 0),
                        nextafter(1e17, INFINITY), 9.9999999999999995e16, 99999999999999999.0,
                        0.00099999999999999991, 1e16, 123456789012345678.0, 5e-324, 1.7976931348623157e308,
                        2.2250738585072014e-308, 1796055150.6633399, 1796055150.667309, 3.0,
                        0.79555847914889455, 0.033723376458510756, 1234567890123456.25,
                        1234567890123456.75, 12345678901234562.5, 0.30000000000000004};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        same_g17(v[i]);
        same_g17(-v[i]);
    }
}

/* Powers of ten and their neighbours, where the exponent guess is on an edge. */
static void test_powers_of_ten(void **state)
{
    (void)state;
    for (int k = -30; k <= 30; k++) {
        double p = pow(10, k);
        double x = p;
        for (int i = 0; i < 50; i++)
            x = nextafter(x, 0);
        for (int i = 0; i < 100; i++) {
            same_g17(x);
            x = nextafter(x, INFINITY);
        }
    }
}

/* Values with few fraction bits: exact decimal halves at the 18th digit. */
static void test_halfway(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        int shift = (int)(next() % 8);
        double base = (double)(next() % 100000000000000000ull >> (next() % 50));
        same_g17(base + ldexp((double)(next() % 256), -shift));
        same_g17(ldexp((double)(next() >> 11), -(int)(next() % 70)));
    }
}

static void test_random(void **state)
{
    (void)state;
    for (int i = 0; i < 300000; i++) {
        uint64_t bits = next();
        double v;
        memcpy(&v, &bits, sizeof v);
        same_g17(v); /* any double, mostly outside the fixed range */
        double u = (double)(next() >> 11) * 0x1p-53;
        same_g17(u); /* [0, 1): a float parameter */
        same_g17(ldexp(u, (int)(next() % 80) - 20));
        same_g17(1.7e9 + u * 1e8); /* Unix times */
        same_g17((double)(int64_t)(next() >> (next() % 64)));
    }
    print_message("%ld values formatted as snprintf does\n", checked);
}

static void test_i64(void **state)
{
    (void)state;
    const int64_t v[] = {0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, 1234567890123};
    char want[64], got[HPS_FMT_LEN];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        snprintf(want, sizeof want, "%lld", (long long)v[i]);
        assert_int_equal(hps_fmt_i64(got, v[i]), (int)strlen(want));
        assert_string_equal(got, want);
    }
    const uint64_t u[] = {0, 1, 9, 10, UINT64_MAX, 10451216379200822465ull};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        snprintf(want, sizeof want, "%llu", (unsigned long long)u[i]);
        assert_int_equal(hps_fmt_u64(got, u[i]), (int)strlen(want));
        assert_string_equal(got, want);
    }
    for (int i = 0; i < 100000; i++) {
        uint64_t y = next() >> (next() % 64);
        snprintf(want, sizeof want, "%llu", (unsigned long long)y);
        hps_fmt_u64(got, y);
        assert_string_equal(got, want);
        int64_t x = (int64_t)(next() >> (1 + next() % 63));
        if (i & 1)
            x = -x;
        snprintf(want, sizeof want, "%lld", (long long)x);
        hps_fmt_i64(got, x);
        assert_string_equal(got, want);
    }
}

/* Exponent form from 1e-11 to 1e-4 (learning rates, weight decays): log-uniform
 * values, each power of ten and its neighbours, the digits that round up to the
 * next power (9.99...e-5 -> 0.0001), and the edges where snprintf takes over. */
static void test_small_exponents(void **state)
{
    (void)state;
    for (int i = 0; i < 300000; i++) {
        double u = (double)(next() >> 11) * 0x1p-53;
        same_g17(pow(10.0, -12.0 + 9.0 * u));
        same_g17(-pow(10.0, -12.0 + 9.0 * u));
    }
    for (int k = -12; k <= -3; k++) {
        double p = pow(10.0, k), v = p;
        for (int i = 0; i < 50; i++, v = nextafter(v, 0))
            same_g17(v);
        v = p;
        for (int i = 0; i < 50; i++, v = nextafter(v, 1))
            same_g17(v);
        same_g17(p * 0.99999999999999999);
        same_g17(p * 9.9999999999999999);
        same_g17(p * 9.99999999999999995);
        same_g17(p * 1.5);
        same_g17(p * 1.25);
    }
}

/* Lengths change at the powers of ten: each one, its neighbours and the powers
 * of two around it, where a length estimated from the bit count is off by one. */
static void test_u64_lengths(void **state)
{
    (void)state;
    char want[64], got[HPS_FMT_LEN];
    uint64_t p = 1;
    for (int k = 0; k < 20; k++, p *= 10) {
        const uint64_t u[] = {p - 1, p, p + 1, p * 2 - 1};
        for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
            snprintf(want, sizeof want, "%llu", (unsigned long long)u[i]);
            assert_int_equal(hps_fmt_u64(got, u[i]), (int)strlen(want));
            assert_string_equal(got, want);
        }
    }
    for (int b = 0; b < 64; b++) {
        const uint64_t u[] = {(1ull << b) - 1, 1ull << b, (1ull << b) + 1};
        for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
            snprintf(want, sizeof want, "%llu", (unsigned long long)u[i]);
            assert_int_equal(hps_fmt_u64(got, u[i]), (int)strlen(want));
            assert_string_equal(got, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special),     cmocka_unit_test(test_powers_of_ten),
        cmocka_unit_test(test_halfway),     cmocka_unit_test(test_random),
        cmocka_unit_test(test_i64),         cmocka_unit_test(test_u64_lengths),
        cmocka_unit_test(test_small_exponents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
