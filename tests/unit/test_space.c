/*
 * Unit tests for the search space (engine/space.c, include/hpsweep/space.h): the
 * decode/encode map for float (linear and log), int (linear and log), categorical
 * and bool parameters, clamping of out-of-range and NaN coordinates, formatting,
 * cardinality, lookup by name, and deep copy / free.
 *
 * Spaces are built by hand on the heap (as the config parser would) and released
 * with hps_space_free(), so ASan checks ownership as well.
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

#include "hpsweep/error.h"
#include "hpsweep/space.h"

/* ---- helpers ------------------------------------------------------------------- */

/* |a - b| <= eps (this cmocka has no assert_double_equal). */
#define assert_near(a, b, eps)                                                       \
    do {                                                                             \
        double a_ = (a), b_ = (b);                                                   \
        if (!(fabs(a_ - b_) <= (eps)))                                               \
            fail_msg("%s = %.17g, expected %.17g (+- %g)", #a, a_, b_, (double)(eps)); \
    } while (0)

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* A space of n zeroed parameters (names filled by the caller). */
static void space_alloc(hps_space *sp, int n)
{
    sp->n_params = n;
    sp->params = calloc((size_t)n, sizeof *sp->params);
    assert_non_null(sp->params);
}

static void set_float(hps_param *p, const char *name, double lo, double hi, int log_scale)
{
    p->name = xstrdup(name);
    p->type = HPS_PARAM_FLOAT;
    p->low = lo;
    p->high = hi;
    p->log = log_scale;
}

static void set_int(hps_param *p, const char *name, double lo, double hi, int log_scale)
{
    p->name = xstrdup(name);
    p->type = HPS_PARAM_INT;
    p->low = lo;
    p->high = hi;
    p->log = log_scale;
}

static void set_bool(hps_param *p, const char *name)
{
    p->name = xstrdup(name);
    p->type = HPS_PARAM_BOOL;
}

/* A categorical parameter with string choices texts[0..k-1]. */
static void set_cat(hps_param *p, const char *name, int k, const char *const *texts)
{
    p->name = xstrdup(name);
    p->type = HPS_PARAM_CATEGORICAL;
    p->n_choices = k;
    p->choices = calloc((size_t)k, sizeof *p->choices);
    assert_non_null(p->choices);
    for (int i = 0; i < k; i++) {
        p->choices[i].kind = HPS_CHOICE_STRING;
        p->choices[i].text = xstrdup(texts[i]);
    }
}

/* decode of a one-parameter space. */
static double dec1(const hps_space *sp, double u)
{
    double v = -12345.0;
    hps_space_decode(sp, &u, &v);
    return v;
}

static double enc1(const hps_space *sp, double v)
{
    double u = -12345.0;
    hps_space_encode(sp, &v, &u);
    return u;
}

/* Deterministic uniform doubles in [0,1) (splitmix64, 53 bits). */
static double next_unit(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* ---- float --------------------------------------------------------------------- */

static void test_float_linear(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 1);
    set_float(&sp.params[0], "x", -5.0, 10.0, 0);

    assert_true(dec1(&sp, 0.0) == -5.0);
    assert_true(dec1(&sp, 1.0) == 10.0);
    assert_true(dec1(&sp, 0.5) == 2.5);
    assert_true(dec1(&sp, 0.2) == -5.0 + 0.2 * 15.0);

    assert_true(enc1(&sp, -5.0) == 0.0);
    assert_true(enc1(&sp, 10.0) == 1.0);
    assert_true(enc1(&sp, 2.5) == 0.5);
    for (int i = 0; i <= 100; i++) {
        double u = i / 100.0;
        assert_near(enc1(&sp, dec1(&sp, u)), u, 1e-15);
    }
    hps_space_free(&sp);
}

static void test_float_log(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 1);
    /* Bounds whose logs do not round-trip through exp exactly. */
    set_float(&sp.params[0], "lr", 1e-5, 0.3, 1);

    /* The ends are the bounds exactly, whatever exp(log(x)) rounds to. */
    assert_true(dec1(&sp, 0.0) == 1e-5);
    assert_true(dec1(&sp, 1.0) == 0.3);
    /* u = 1/2 is the geometric midpoint. */
    double mid = sqrt(1e-5 * 0.3);
    assert_near(dec1(&sp, 0.5) / mid, 1.0, 1e-12);
    /* Each tenth of u multiplies the value by the same factor. */
    double ratio = pow(0.3 / 1e-5, 0.1);
    for (int i = 0; i < 10; i++)
        assert_near(dec1(&sp, (i + 1) / 10.0) / dec1(&sp, i / 10.0), ratio, 1e-9);

    assert_true(enc1(&sp, 1e-5) == 0.0);
    assert_near(enc1(&sp, 0.3), 1.0, 1e-15);
    assert_near(enc1(&sp, mid), 0.5, 1e-12);
    for (int i = 0; i <= 100; i++) {
        double u = i / 100.0;
        assert_near(enc1(&sp, dec1(&sp, u)), u, 1e-12);
    }

    /* Another decade range: 1e-4 .. 1, midpoint 1e-2. */
    sp.params[0].low = 1e-4;
    sp.params[0].high = 1.0;
    assert_true(dec1(&sp, 0.0) == 1e-4);
    assert_true(dec1(&sp, 1.0) == 1.0);
    assert_near(dec1(&sp, 0.5) / 1e-2, 1.0, 1e-12);
    assert_near(dec1(&sp, 0.25) / 1e-3, 1.0, 1e-12);
    hps_space_free(&sp);
}

static void test_float_degenerate_range(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 1);
    set_float(&sp.params[0], "c", 3.0, 3.0, 0);
    assert_true(dec1(&sp, 0.0) == 3.0);
    assert_true(dec1(&sp, 0.7) == 3.0);
    assert_true(dec1(&sp, 1.0) == 3.0);
    assert_true(enc1(&sp, 3.0) == 0.5);
    hps_space_free(&sp);
}

/* ---- int ----------------------------------------------------------------------- */

static void test_int_equal_slices(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 1);
    set_int(&sp.params[0], "n", 1, 4, 0);

    /* The slice boundaries: [0,.25) -> 1, [.25,.5) -> 2, [.5,.75) -> 3, [.75,1] -> 4. */
    assert_true(dec1(&sp, 0.0) == 1.0);
    assert_true(dec1(&sp, 0.2499999) == 1.0);
    assert_true(dec1(&sp, 0.25) == 2.0);
    assert_true(dec1(&sp, 0.4999999) == 2.0);
    assert_true(dec1(&sp, 0.5) == 3.0);
    assert_true(dec1(&sp, 0.75) == 4.0);
    assert_true(dec1(&sp, 1.0) == 4.0);

    /* Uniform u is uniform over the integers: the ends are not half as likely. */
    long count[5] = {0};
    uint64_t rng = 12345;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        double v = dec1(&sp, next_unit(&rng));
        assert_true(v >= 1.0 && v <= 4.0 && v == floor(v));
        count[(int)v]++;
    }
    /* Binomial sd = sqrt(n/4 * 3/4) ~ 137; allow about 6 sd. */
    for (int k = 1; k <= 4; k++) {
        assert_true(count[k] > 25000 - 800);
        assert_true(count[k] < 25000 + 800);
    }
    assert_int_equal(count[1] + count[2] + count[3] + count[4], n);

    /* Slice centres. */
    assert_true(enc1(&sp, 1.0) == 0.125);
    assert_true(enc1(&sp, 2.0) == 0.375);
    assert_true(enc1(&sp, 3.0) == 0.625);
    assert_true(enc1(&sp, 4.0) == 0.875);
    hps_space_free(&sp);
}

static void test_int_roundtrip_linear(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 1);
    set_int(&sp.params[0], "k", -3, 7, 0);
    for (int v = -3; v <= 7; v++) {
        double u = enc1(&sp, v);
        assert_true(u > 0.0 && u < 1.0);
        assert_true(dec1(&sp, u) == (double)v);
    }
    assert_true(dec1(&sp, 0.0) == -3.0);
    assert_true(dec1(&sp, 1.0) == 7.0);

    /* A single-value range. */
    sp.params[0].low = sp.params[0].high = 5;
    assert_true(dec1(&sp, 0.0) == 5.0);
    assert_true(dec1(&sp, 1.0) == 5.0);
    assert_true(enc1(&sp, 5.0) == 0.5);
    hps_space_free(&sp);
}

static void test_int_log_roundtrip(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 1);
    set_int(&sp.params[0], "batch", 1, 1000, 1);
    double prev_u = -1.0;
    for (int v = 1; v <= 1000; v++) {
        double u = enc1(&sp, v);
        assert_true(u > 0.0 && u < 1.0);
        assert_true(u > prev_u); /* monotone */
        prev_u = u;
        double back = dec1(&sp, u);
        if (back != (double)v)
            fail_msg("log int: decode(encode(%d)) = %.17g", v, back);
    }
    assert_true(dec1(&sp, 0.0) == 1.0);
    assert_true(dec1(&sp, 1.0) == 1000.0);
    /* Every decoded value is an integer in range. */
    uint64_t rng = 7;
    for (int i = 0; i < 10000; i++) {
        double v = dec1(&sp, next_unit(&rng));
        assert_true(v >= 1.0 && v <= 1000.0 && v == floor(v));
    }
    /* On the log axis, 1 owns [log .5, log 1.5): a third of a decade-ish, much
     * more than 1000 owns. */
    double lo = log(0.5), hi = log(1000.5);
    double u_edge = (log(1.5) - lo) / (hi - lo);
    assert_true(dec1(&sp, u_edge - 1e-9) == 1.0);
    assert_true(dec1(&sp, u_edge + 1e-9) == 2.0);
    hps_space_free(&sp);
}

/* ---- categorical and bool ------------------------------------------------------------ */

static void test_categorical(void **state)
{
    (void)state;
    static const char *const opts[] = {"sgd", "adam", "rmsprop"};
    hps_space sp = {0};
    space_alloc(&sp, 1);
    set_cat(&sp.params[0], "opt", 3, opts);

    assert_true(dec1(&sp, 0.0) == 0.0);
    assert_true(dec1(&sp, 0.33) == 0.0);
    assert_true(dec1(&sp, 0.34) == 1.0);
    assert_true(dec1(&sp, 0.66) == 1.0);
    assert_true(dec1(&sp, 0.67) == 2.0);
    assert_true(dec1(&sp, 0.999999) == 2.0);
    assert_true(dec1(&sp, 1.0) == 2.0); /* floor(1*3) = 3 -> last */
    for (int k = 0; k < 3; k++) {
        double u = enc1(&sp, k);
        assert_near(u, (k + 0.5) / 3.0, 1e-15);
        assert_true(dec1(&sp, u) == (double)k);
    }

    /* Uniform over the choices too. */
    long count[3] = {0};
    uint64_t rng = 99;
    for (int i = 0; i < 30000; i++)
        count[(int)dec1(&sp, next_unit(&rng))]++;
    for (int k = 0; k < 3; k++)
        assert_true(count[k] > 10000 - 500 && count[k] < 10000 + 500);
    hps_space_free(&sp);
}

static void test_bool(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 1);
    set_bool(&sp.params[0], "flag");
    assert_true(dec1(&sp, 0.0) == 0.0);
    assert_true(dec1(&sp, 0.4999999) == 0.0);
    assert_true(dec1(&sp, 0.5) == 1.0);
    assert_true(dec1(&sp, 1.0) == 1.0);
    assert_true(enc1(&sp, 0.0) == 0.25);
    assert_true(enc1(&sp, 1.0) == 0.75);
    assert_true(dec1(&sp, enc1(&sp, 0.0)) == 0.0);
    assert_true(dec1(&sp, enc1(&sp, 1.0)) == 1.0);
    hps_space_free(&sp);
}

/* ---- clamping --------------------------------------------------------------------- */

static void test_clamping(void **state)
{
    (void)state;
    static const char *const opts[] = {"a", "b", "c", "d"};
    hps_space sp = {0};
    space_alloc(&sp, 6);
    set_float(&sp.params[0], "f", -1.0, 1.0, 0);
    set_float(&sp.params[1], "lf", 1e-3, 10.0, 1);
    set_int(&sp.params[2], "i", 2, 9, 0);
    set_int(&sp.params[3], "li", 1, 100, 1);
    set_cat(&sp.params[4], "c", 4, opts);
    set_bool(&sp.params[5], "b");

    double lows[6] = {-1.0, 1e-3, 2.0, 1.0, 0.0, 0.0};
    double highs[6] = {1.0, 10.0, 9.0, 100.0, 3.0, 1.0};
    double u[6], v[6];
    const double below[] = {-0.5, -1e-300, -INFINITY};
    const double above[] = {1.5, 1.0 + 1e-15, INFINITY};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 6; i++)
            u[i] = below[k];
        hps_space_decode(&sp, u, v);
        for (int i = 0; i < 6; i++)
            assert_true(v[i] == lows[i]);
        for (int i = 0; i < 6; i++)
            u[i] = above[k];
        hps_space_decode(&sp, u, v);
        for (int i = 0; i < 6; i++)
            assert_true(v[i] == highs[i]);
    }
    for (int i = 0; i < 6; i++)
        u[i] = NAN;
    hps_space_decode(&sp, u, v);
    for (int i = 0; i < 6; i++) {
        assert_false(isnan(v[i]));
        assert_true(v[i] == lows[i]);
    }

    /* encode clamps values outside the bounds into [0,1]. */
    double vo[6] = {-7.0, 1e-9, -50.0, 1.0, 0.0, 0.0};
    hps_space_encode(&sp, vo, u);
    assert_true(u[0] == 0.0);
    assert_true(u[1] == 0.0);
    assert_true(u[2] == 0.0);
    double vh[6] = {7.0, 1e9, 50.0, 100.0, 3.0, 1.0};
    hps_space_encode(&sp, vh, u);
    assert_true(u[0] == 1.0);
    assert_true(u[1] == 1.0);
    assert_true(u[2] == 1.0);
    for (int i = 0; i < 6; i++)
        assert_true(u[i] >= 0.0 && u[i] <= 1.0);
    hps_space_free(&sp);
}

/* decode(encode(v)) == v for every discrete value of a mixed space at once. */
static void test_mixed_roundtrip(void **state)
{
    (void)state;
    static const char *const opts[] = {"x", "y"};
    hps_space sp = {0};
    space_alloc(&sp, 4);
    set_int(&sp.params[0], "i", 0, 31, 0);
    set_int(&sp.params[1], "li", 3, 300, 1);
    set_cat(&sp.params[2], "c", 2, opts);
    set_bool(&sp.params[3], "b");
    for (int k = 0; k < 300; k++) {
        double v[4] = {k % 32, 3 + k % 298, k % 2, (k / 2) % 2};
        double u[4], back[4];
        hps_space_encode(&sp, v, u);
        hps_space_decode(&sp, u, back);
        for (int i = 0; i < 4; i++)
            assert_true(back[i] == v[i]);
    }
    hps_space_free(&sp);
}

/* ---- format, cardinality, find ----------------------------------------------------------- */

static void test_format(void **state)
{
    (void)state;
    static const char *const opts[] = {"relu", "gelu"};
    hps_space sp = {0};
    space_alloc(&sp, 4);
    set_float(&sp.params[0], "f", 0.0, 1.0, 0);
    set_int(&sp.params[1], "i", -100, 100, 0);
    set_cat(&sp.params[2], "act", 2, opts);
    set_bool(&sp.params[3], "b");
    char buf[64];

    /* Floats: 17 significant digits, and they read back exactly. */
    assert_int_equal(hps_space_format(&sp, 0, 0.1, buf, sizeof buf), 19);
    assert_string_equal(buf, "0.10000000000000001");
    const double floats[] = {0.1, 1.0 / 3.0, 2.5, 1e-300, -7.25e12, 0.0, 123456789.123456789};
    for (size_t k = 0; k < sizeof floats / sizeof floats[0]; k++) {
        int n = hps_space_format(&sp, 0, floats[k], buf, sizeof buf);
        assert_int_equal(n, (int)strlen(buf));
        assert_true(strtod(buf, NULL) == floats[k]);
    }
    hps_space_format(&sp, 0, 2.5, buf, sizeof buf);
    assert_string_equal(buf, "2.5");

    /* Ints without decimals. */
    assert_int_equal(hps_space_format(&sp, 1, 42.0, buf, sizeof buf), 2);
    assert_string_equal(buf, "42");
    hps_space_format(&sp, 1, -17.0, buf, sizeof buf);
    assert_string_equal(buf, "-17");
    hps_space_format(&sp, 1, 0.0, buf, sizeof buf);
    assert_string_equal(buf, "0");

    /* Categorical as its text; bool as true/false. */
    assert_int_equal(hps_space_format(&sp, 2, 1.0, buf, sizeof buf), 4);
    assert_string_equal(buf, "gelu");
    hps_space_format(&sp, 2, 0.0, buf, sizeof buf);
    assert_string_equal(buf, "relu");
    assert_int_equal(hps_space_format(&sp, 3, 1.0, buf, sizeof buf), 4);
    assert_string_equal(buf, "true");
    assert_int_equal(hps_space_format(&sp, 3, 0.0, buf, sizeof buf), 5);
    assert_string_equal(buf, "false");

    /* The return value is what snprintf would write, even when buf is short. */
    char small[4];
    assert_int_equal(hps_space_format(&sp, 3, 0.0, small, sizeof small), 5);
    assert_string_equal(small, "fal");
    hps_space_free(&sp);
}

static void test_cardinality(void **state)
{
    (void)state;
    static const char *const opts[] = {"a", "b", "c"};
    hps_space sp = {0};
    space_alloc(&sp, 6);
    set_float(&sp.params[0], "f", 0, 1, 0);
    set_float(&sp.params[1], "lf", 1e-3, 1, 1);
    set_int(&sp.params[2], "i", 1, 4, 0);
    set_int(&sp.params[3], "j", -3, 7, 0);
    set_int(&sp.params[4], "li", 1, 1000, 1);
    set_cat(&sp.params[5], "c", 3, opts);
    assert_int_equal(hps_space_cardinality(&sp, 0), 0);
    assert_int_equal(hps_space_cardinality(&sp, 1), 0);
    assert_int_equal(hps_space_cardinality(&sp, 2), 4);
    assert_int_equal(hps_space_cardinality(&sp, 3), 11);
    assert_int_equal(hps_space_cardinality(&sp, 4), 1000);
    assert_int_equal(hps_space_cardinality(&sp, 5), 3);
    hps_space_free(&sp);

    space_alloc(&sp, 1);
    set_bool(&sp.params[0], "b");
    assert_int_equal(hps_space_cardinality(&sp, 0), 2);
    hps_space_free(&sp);
}

static void test_find(void **state)
{
    (void)state;
    hps_space sp = {0};
    space_alloc(&sp, 3);
    set_float(&sp.params[0], "lr", 0, 1, 0);
    set_int(&sp.params[1], "layers", 1, 4, 0);
    set_bool(&sp.params[2], "bn");
    assert_int_equal(hps_space_find(&sp, "lr"), 0);
    assert_int_equal(hps_space_find(&sp, "layers"), 1);
    assert_int_equal(hps_space_find(&sp, "bn"), 2);
    assert_int_equal(hps_space_find(&sp, "l"), -1);
    assert_int_equal(hps_space_find(&sp, "LR"), -1);
    assert_int_equal(hps_space_find(&sp, ""), -1);
    hps_space_free(&sp);

    hps_space empty = {0};
    assert_int_equal(hps_space_find(&empty, "lr"), -1);
}

/* ---- copy and free ---------------------------------------------------------------- */

static void test_copy_deep(void **state)
{
    (void)state;
    static const char *const opts[] = {"sgd", "adam"};
    hps_space src = {0}, dst;
    space_alloc(&src, 3);
    set_float(&src.params[0], "lr", 1e-4, 1, 1);
    src.params[0].grid_points = 7;
    set_cat(&src.params[1], "opt", 2, opts);
    src.params[1].choices[1].kind = HPS_CHOICE_NUMBER;
    src.params[1].choices[1].number = 0.5;
    set_int(&src.params[2], "n", 1, 9, 0);

    memset(&dst, 0xAB, sizeof dst); /* dst is overwritten, not freed */
    assert_int_equal(hps_space_copy(&dst, &src), HPS_OK);
    assert_int_equal(dst.n_params, 3);
    assert_ptr_not_equal(dst.params, src.params);
    for (int i = 0; i < 3; i++) {
        assert_ptr_not_equal(dst.params[i].name, src.params[i].name);
        assert_string_equal(dst.params[i].name, src.params[i].name);
        assert_int_equal(dst.params[i].type, src.params[i].type);
        assert_true(dst.params[i].low == src.params[i].low);
        assert_true(dst.params[i].high == src.params[i].high);
        assert_int_equal(dst.params[i].log, src.params[i].log);
        assert_int_equal(dst.params[i].n_choices, src.params[i].n_choices);
        assert_int_equal(dst.params[i].grid_points, src.params[i].grid_points);
    }
    assert_null(dst.params[0].choices);
    assert_ptr_not_equal(dst.params[1].choices, src.params[1].choices);
    assert_ptr_not_equal(dst.params[1].choices[0].text, src.params[1].choices[0].text);
    assert_string_equal(dst.params[1].choices[1].text, "adam");
    assert_int_equal(dst.params[1].choices[1].kind, HPS_CHOICE_NUMBER);
    assert_true(dst.params[1].choices[1].number == 0.5);

    /* Independent: change then free the source; the copy is intact (ASan would
     * report a use after free if anything were shared). */
    src.params[0].name[0] = 'X';
    src.params[1].choices[0].text[0] = 'X';
    src.params[2].high = 100;
    hps_space_free(&src);
    assert_string_equal(dst.params[0].name, "lr");
    assert_string_equal(dst.params[1].choices[0].text, "sgd");
    assert_true(dst.params[2].high == 9.0);
    char buf[16];
    hps_space_format(&dst, 1, 0.0, buf, sizeof buf);
    assert_string_equal(buf, "sgd");
    hps_space_free(&dst);
}

static void test_copy_empty(void **state)
{
    (void)state;
    hps_space src = {0}, dst;
    memset(&dst, 0x5A, sizeof dst);
    assert_int_equal(hps_space_copy(&dst, &src), HPS_OK);
    assert_int_equal(dst.n_params, 0);
    assert_null(dst.params);
    hps_space_free(&dst);
}

static void test_free_null_and_zeroes(void **state)
{
    (void)state;
    hps_space_free(NULL);
    hps_space sp = {0};
    space_alloc(&sp, 2);
    set_int(&sp.params[0], "a", 0, 1, 0);
    set_bool(&sp.params[1], "b");
    hps_space_free(&sp);
    assert_int_equal(sp.n_params, 0);
    assert_null(sp.params);
    hps_space_free(&sp); /* twice is harmless once zeroed */
    assert_int_equal(sp.n_params, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_linear),
        cmocka_unit_test(test_float_log),
        cmocka_unit_test(test_float_degenerate_range),
        cmocka_unit_test(test_int_equal_slices),
        cmocka_unit_test(test_int_roundtrip_linear),
        cmocka_unit_test(test_int_log_roundtrip),
        cmocka_unit_test(test_categorical),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_clamping),
        cmocka_unit_test(test_mixed_roundtrip),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_cardinality),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_copy_deep),
        cmocka_unit_test(test_copy_empty),
        cmocka_unit_test(test_free_null_and_zeroes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
