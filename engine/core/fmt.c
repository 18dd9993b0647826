/*
 * Fast, exact "%.17g" (fmt.h). %g with precision 17 writes a finite v with
 * decimal exponent X (of v rounded to 17 significant digits) in fixed point when
 * -4 <= X < 17: the 17 digits N = round(|v| * 10^(16 - X)), the point after X + 1
 * of them (or "0." and -X - 1 zeros first), trailing fraction zeros and a bare
 * point dropped; below, as d.ddde-XX (the same digits, trailing zeros dropped,
 * an exponent of at least two digits). For a double |v| = m * 2^e (m < 2^53) and
 * k = 16 - X in 0..27 (X from -11 up: learning rates and the like), |v| * 10^k =
 * m * 5^k * 2^(e + k): m * 5^k < 2^117 fits in 128 bits, and the shift by e + k
 * (at least -90 in this range) is exact, rounded half to even as printf rounds.
 * Everything else (larger or smaller exponents, nan, inf) goes to snprintf, as
 * do builds without a 128-bit integer type.
 */
#include "fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "00" .. "99": two digits per division. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* v (< 10^8) as exactly 8 digits at out: two independent halves of 4. */
static void put8(char *out, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy(out, digit_pairs + 2 * (hi / 100), 2);
    memcpy(out + 2, digit_pairs + 2 * (hi % 100), 2);
    memcpy(out + 4, digit_pairs + 2 * (lo / 100), 2);
    memcpy(out + 6, digit_pairs + 2 * (lo % 100), 2);
}

/* The last w decimal digits of u (leading zeros included) at out[0..w): eight at a
 * time while more than eight are left, the rest in 32-bit arithmetic. */
static void put_digits(char *out, uint64_t u, int w)
{
    char *p = out + w;
    while (p - out > 8) {
        p -= 8;
        put8(p, (uint32_t)(u % 100000000u));
        u /= 100000000u;
    }
    uint32_t v = (uint32_t)u;
    while (p - out >= 2) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (p > out)
        *--p = (char)('0' + v % 10);
}

/* Decimal digits of u (1 for 0). */
static int u64_digits(uint64_t u)
{
    static const uint64_t p10[20] = {1ull,
                                     10ull,
                                     100ull,
                                     1000ull,
                                     10000ull,
                                     100000ull,
                                     1000000ull,
                                     10000000ull,
                                     100000000ull,
                                     1000000000ull,
                                     10000000000ull,
                                     100000000000ull,
                                     1000000000000ull,
                                     10000000000000ull,
                                     100000000000000ull,
                                     1000000000000000ull,
                                     10000000000000000ull,
                                     100000000000000000ull,
                                     1000000000000000000ull,
                                     10000000000000000000ull};
#if defined(__GNUC__)
    /* bits * log10(2) (1233 / 4096) is the digit count or one more than it */
    int t = (64 - __builtin_clzll(u | 1)) * 1233 >> 12;
    return t + (u >= p10[t]) + (t == 0 && u < 1);
#else
    int len = 1;
    while (len < 20 && u >= p10[len])
        len++;
    return len;
#endif
}

int hps_fmt_u64(char *buf, uint64_t u)
{
    int len = u64_digits(u);
    put_digits(buf, u, len);
    buf[len] = '\0';
    return len;
}

int hps_fmt_i64(char *buf, int64_t v)
{
    if (v >= 0)
        return hps_fmt_u64(buf, (uint64_t)v);
    buf[0] = '-';
    return 1 + hps_fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

/* round(m * 10^k * 2^e) half to even, for k in 0..27 and e + k >= -127. */
static uint64_t scaled(uint64_t m, int e, int k, int *ok)
{
    static const uint64_t pow5[28] = {
        1ull,           5ull,           25ull,           125ull,           625ull,
        3125ull,        15625ull,       78125ull,        390625ull,        1953125ull,
        9765625ull,     48828125ull,    244140625ull,    1220703125ull,    6103515625ull,
        30517578125ull, 152587890625ull, 762939453125ull, 3814697265625ull, 19073486328125ull,
        95367431640625ull, 476837158203125ull, 2384185791015625ull, 11920928955078125ull,
        59604644775390625ull, 298023223876953125ull, 1490116119384765625ull,
        7450580596923828125ull};
    u128 p = (u128)m * pow5[k];
    int s = e + k;
    *ok = 1;
    if (s >= 0) {
        if (s > 60 || (p >> (64 - s)) != 0) { /* beyond 64 bits: not a 17-digit N */
            *ok = 0;
            return 0;
        }
        return (uint64_t)(p << s);
    }
    int sh = -s;
    if (sh > 127) {
        *ok = 0;
        return 0;
    }
    u128 q = p >> sh, rem = p - (q << sh), half = (u128)1 << (sh - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    if (q >> 64) {
        *ok = 0;
        return 0;
    }
    return (uint64_t)q;
}

/* "%.17g" of a (1e-11 <= a < 1e17) into buf; 0 when it does not apply. */
static int fixed17(char *buf, double a)
{
    static const uint64_t lo = 10000000000000000ull, hi = 100000000000000000ull; /* 1e16, 1e17 */
    static const double p10[] = {1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1,
                                 1e0,   1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                 1e10,  1e11, 1e12, 1e13, 1e14, 1e15, 1e16};
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits); /* a is normal here: a = m * 2^e, m with its hidden bit */
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    int e = (int)(bits >> 52) - 1075, ok = 0;
    /* x: a first guess at X, the largest x in -11..16 with a >= 10^x. a >= 2^(e + 52),
     * so for a >= 1, floor((e + 52) * log10 2) - 1 (1233 / 4096 for log10 2) is at
     * most that and at most two steps below it; below 1, the loop starts at -11. */
    int x = e + 52 > 0 ? ((e + 52) * 1233 >> 12) - 1 : -11;
    x = x > 16 ? 16 : x;
    while (x < 16 && a >= p10[x + 11])
        x++;
    uint64_t n = 0;
    for (int tries = 0; tries < 4; tries++) {
        if (x < -11 || x > 16)
            return 0;
        n = scaled(m, e, 16 - x, &ok);
        if (!ok)
            return 0;
        if (n < lo)
            x--;
        else if (n >= hi)
            x++;
        else
            break;
    }
    if (n < lo || n >= hi)
        return 0;
    /* N = 10^16 may be a value just below 10^X rounded up (the double nearest 1e-7
     * is below it, so a >= p10 says X = -7 too early): when N's digits one place
     * further down still round below 10^17, those are %g's. */
    if (n == lo && x > -11) {
        uint64_t below = scaled(m, e, 17 - x, &ok);
        if (ok && below < hi) {
            x--;
            n = below;
        }
    }
    char d[17];
    put_digits(d, n, 17);
    int last = 16; /* the last digit kept: trailing fraction zeros go */
    int point = x >= 0 ? x + 1 : 0; /* digits before the point */
    while (last >= point && d[last] == '0')
        last--;
    int len = 0;
    if (x < -4) { /* exponent form: d.dddde-XX, X from -5 to -11 */
        buf[len++] = d[0];
        if (last >= 1) {
            buf[len++] = '.';
            memcpy(buf + len, d + 1, (size_t)last);
            len += last;
        }
        buf[len++] = 'e';
        buf[len++] = '-';
        buf[len++] = (char)('0' + -x / 10);
        buf[len++] = (char)('0' + -x % 10);
    } else if (x >= 0) {
        memcpy(buf, d, (size_t)point);
        len = point;
        if (last >= point) {
            buf[len++] = '.';
            memcpy(buf + len, d + point, (size_t)(last - point + 1));
            len += last - point + 1;
        }
    } else {
        buf[len++] = '0';
        buf[len++] = '.';
        for (int i = 0; i < -x - 1; i++)
            buf[len++] = '0';
        memcpy(buf + len, d, (size_t)(last + 1));
        len += last + 1;
    }
    buf[len] = '\0';
    return len;
}
#endif

int hps_fmt_g17(char *buf, double v)
{
    if (v == 0) {
        memcpy(buf, signbit(v) ? "-0" : "0", signbit(v) ? 3 : 2);
        return signbit(v) ? 2 : 1;
    }
#ifdef __SIZEOF_INT128__
    double a = fabs(v);
    if (a >= 1e-11 && a < 1e17) {
        int neg = v < 0;
        if (neg)
            buf[0] = '-';
        int len = fixed17(buf + neg, a);
        if (len > 0)
            return len + neg;
    }
#endif
    return snprintf(buf, HPS_FMT_LEN, "%.17g", v);
}
