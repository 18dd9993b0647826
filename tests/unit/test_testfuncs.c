/*
 * Unit tests for the built-in test functions (workers/testfuncs.c): the registry
 * (find, list, dimensions), that each stated minimiser reaches the stated minimum,
 * that the minimum is a lower bound over a dense random sample of the domain and
 * near the minimiser, and a few values at non-optimal points computed
 * independently (40-digit mpmath) from the published definitions.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hpsweep/testfunc.h"

#define PI 3.14159265358979323846
#define MAX_D 10
#define N_SAMPLES 20000

/* The dimensions to try for f: its fixed one, or 1, 2, 5, 10 where allowed. */
static int dims_of(const hps_testfunc *f, int dims[4])
{
    static const int free_dims[4] = {1, 2, 5, 10};
    int n = 0;
    for (int i = 0; i < 4; i++) {
        int d = free_dims[i];
        if (d >= f->min_dim && (f->max_dim == 0 || d <= f->max_dim))
            dims[n++] = d;
    }
    if (n == 0)
        dims[n++] = f->min_dim;
    return n;
}

/*
 * The minimisers are given to full double precision, so f(argmin) matches to
 * ~1e-15; 1e-12 is far tighter than the 1e-6 a rounded minimiser would need and
 * catches a wrong coefficient (e.g. hartmann3's P[3][0] = 0.0381 is off by 6e-7).
 */
static double tol(double minimum) { return 1e-12 * fmax(1.0, fabs(minimum)); }

/* splitmix64: a local, seeded generator so the sample is the same every run. */
static double uniform01(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static const hps_testfunc *must_find(const char *name)
{
    const hps_testfunc *f = hps_testfunc_find(name);
    assert_non_null(f);
    assert_string_equal(f->name, name);
    return f;
}

static void test_list_is_terminated_and_unique(void **state)
{
    const hps_testfunc *const *list = hps_testfunc_list();
    assert_non_null(list);
    int n = 0;
    for (; list[n]; n++) {
        assert_non_null(list[n]->name);
        assert_non_null(list[n]->fn);
        assert_non_null(list[n]->domain);
        assert_non_null(list[n]->minimum);
        assert_non_null(list[n]->argmin);
        assert_true(list[n]->min_dim >= 1);
        assert_true(list[n]->max_dim == 0 || list[n]->max_dim >= list[n]->min_dim);
        for (int j = 0; j < n; j++)
            assert_string_not_equal(list[j]->name, list[n]->name);
        assert_ptr_equal(hps_testfunc_find(list[n]->name), list[n]);
    }
    assert_int_equal(n, 10);
}

static void test_find_unknown_is_null(void **state)
{
    assert_null(hps_testfunc_find("no_such_function"));
    assert_null(hps_testfunc_find(""));
    assert_null(hps_testfunc_find("Branin"));
    assert_null(hps_testfunc_find("branin "));
    assert_null(hps_testfunc_find("hartmann"));
    assert_null(hps_testfunc_find(NULL));
}

static void test_dimensions(void **state)
{
    static const struct {
        const char *name;
        int min_dim, max_dim;
    } want[] = {
        {"branin", 2, 2},     {"hartmann3", 3, 3},       {"hartmann6", 6, 6},
        {"rosenbrock", 2, 0}, {"ackley", 1, 0},          {"levy", 1, 0},
        {"styblinski_tang", 1, 0}, {"six_hump_camel", 2, 2}, {"sphere", 1, 0},
        {"decoy", 2, 2},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const hps_testfunc *f = must_find(want[i].name);
        assert_int_equal(f->min_dim, want[i].min_dim);
        assert_int_equal(f->max_dim, want[i].max_dim);
    }
}

static void test_argmin_reaches_minimum(void **state)
{
    const hps_testfunc *const *list = hps_testfunc_list();
    for (int k = 0; list[k]; k++) {
        const hps_testfunc *f = list[k];
        int dims[4], nd = dims_of(f, dims);
        for (int j = 0; j < nd; j++) {
            int d = dims[j];
            double x[MAX_D];
            f->argmin(d, x);
            double m = f->minimum(d), v = f->fn(x, d);
            if (fabs(v - m) > tol(m))
                fail_msg("%s d=%d: f(argmin) = %.17g, minimum = %.17g", f->name, d, v, m);
        }
    }
}

static void test_argmin_inside_domain(void **state)
{
    const hps_testfunc *const *list = hps_testfunc_list();
    for (int k = 0; list[k]; k++) {
        const hps_testfunc *f = list[k];
        int dims[4], nd = dims_of(f, dims);
        for (int j = 0; j < nd; j++) {
            int d = dims[j];
            double x[MAX_D], low[MAX_D], high[MAX_D];
            f->argmin(d, x);
            f->domain(d, low, high);
            for (int i = 0; i < d; i++) {
                assert_true(low[i] < high[i]);
                if (x[i] < low[i] || x[i] > high[i])
                    fail_msg("%s d=%d: argmin[%d] = %g outside [%g, %g]", f->name, d, i,
                             x[i], low[i], high[i]);
            }
        }
    }
}

/* The stated minimum bounds f from below over 20,000 uniform points of the domain. */
static void test_minimum_is_lower_bound_on_sample(void **state)
{
    const hps_testfunc *const *list = hps_testfunc_list();
    for (int k = 0; list[k]; k++) {
        const hps_testfunc *f = list[k];
        int dims[4], nd = dims_of(f, dims);
        for (int j = 0; j < nd; j++) {
            int d = dims[j];
            double x[MAX_D], low[MAX_D], high[MAX_D];
            uint64_t rng = 0x5EEDull * (uint64_t)(k + 1) + (uint64_t)d;
            f->domain(d, low, high);
            double m = f->minimum(d), best = INFINITY;
            for (int s = 0; s < N_SAMPLES; s++) {
                for (int i = 0; i < d; i++)
                    x[i] = low[i] + (high[i] - low[i]) * uniform01(&rng);
                double v = f->fn(x, d);
                assert_false(isnan(v));
                best = fmin(best, v);
            }
            if (best < m - 1e-9)
                fail_msg("%s d=%d: sampled %.17g below minimum %.17g", f->name, d, best, m);
        }
    }
}

/*
 * Near the minimiser, moving any one coordinate by +-h never goes below the
 * minimum: the argmin is a local minimum and the stated value is not too high.
 */
static void test_argmin_is_local_minimum(void **state)
{
    static const double steps[] = {1e-2, 1e-3, 1e-4};
    const hps_testfunc *const *list = hps_testfunc_list();
    for (int k = 0; list[k]; k++) {
        const hps_testfunc *f = list[k];
        int dims[4], nd = dims_of(f, dims);
        for (int j = 0; j < nd; j++) {
            int d = dims[j];
            double x[MAX_D];
            f->argmin(d, x);
            double m = f->minimum(d);
            for (int i = 0; i < d; i++)
                for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++)
                    for (int sign = -1; sign <= 1; sign += 2) {
                        double y[MAX_D];
                        memcpy(y, x, sizeof(double) * (size_t)d);
                        y[i] += sign * steps[s];
                        double v = f->fn(y, d);
                        if (v < m - 1e-9)
                            fail_msg("%s d=%d: f = %.17g below minimum %.17g at x[%d]%+g",
                                     f->name, d, v, m, i, sign * steps[s]);
                    }
        }
    }
}

static void assert_close(double got, double want, double rel)
{
    if (fabs(got - want) > rel * fmax(1.0, fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_branin_values(void **state)
{
    const hps_testfunc *f = must_find("branin");
    const double m = 0.39788735772973816;
    assert_close(f->minimum(2), 5.0 / (4.0 * PI), 1e-15);
    assert_close(f->fn((double[]){0.0, 0.0}, 2), 55.602112642270262, 1e-13);
    assert_close(f->fn((double[]){-PI, 12.275}, 2), m, 1e-13);
    assert_close(f->fn((double[]){PI, 2.275}, 2), m, 1e-13);
    assert_close(f->fn((double[]){3.0 * PI, 2.475}, 2), m, 1e-13);
    assert_close(f->fn((double[]){10.0, 15.0}, 2), 145.87219087939554, 1e-13);
    double low[2], high[2];
    f->domain(2, low, high);
    assert_true(low[0] == -5.0 && high[0] == 10.0 && low[1] == 0.0 && high[1] == 15.0);
}

static void test_hartmann_values(void **state)
{
    const hps_testfunc *h3 = must_find("hartmann3"), *h6 = must_find("hartmann6");
    assert_close(h3->minimum(3), -3.86278214782076, 1e-15);
    assert_close(h6->minimum(6), -3.32236801141551, 1e-15);
    /* The published, rounded minimisers land within 1e-10 of the minimum. */
    assert_close(h3->fn((double[]){0.114614, 0.555649, 0.852547}, 3), -3.86278214782076, 1e-10);
    assert_close(h6->fn((double[]){0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}, 6),
                 -3.32236801141551, 1e-10);
    assert_close(h3->fn((double[]){0.0, 0.0, 0.0}, 3), -0.067974116590134672, 1e-12);
    assert_close(h6->fn((double[]){0, 0, 0, 0, 0, 0}, 6), -0.0050891128836644400, 1e-12);
    assert_close(h6->fn((double[]){0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, 6), -0.50531499170223314,
                 1e-12);
}

static void test_other_values(void **state)
{
    const hps_testfunc *rosen = must_find("rosenbrock"), *sphere = must_find("sphere");
    const hps_testfunc *ackley = must_find("ackley"), *st = must_find("styblinski_tang");
    const hps_testfunc *levy = must_find("levy"), *camel = must_find("six_hump_camel");

    assert_close(rosen->fn((double[]){0.0, 0.0}, 2), 1.0, 1e-15);
    assert_close(rosen->fn((double[]){-1.0, 1.0, 2.0}, 3), 104.0, 1e-15);
    assert_close(sphere->fn((double[]){1.0, 2.0}, 2), 5.0, 1e-15);
    assert_close(sphere->fn((double[]){3.0}, 1), 9.0, 1e-15);

    for (int d = 1; d <= MAX_D; d++) {
        double zero[MAX_D] = {0};
        assert_true(fabs(ackley->fn(zero, d)) <= 1e-12);
        assert_true(fabs(st->fn(zero, d)) <= 1e-15);
        assert_close(st->minimum(d), -39.16616570377142 * d, 1e-15);
    }
    assert_close(ackley->fn((double[]){1.0, 1.0}, 2), 3.6253849384403627, 1e-12);
    assert_close(st->fn((double[]){1.0, -1.0}, 2), -15.0, 1e-15);
    assert_close(levy->fn((double[]){0.0, 0.0}, 2), 0.71584455411697447, 1e-12);
    assert_close(levy->fn((double[]){1.0, 1.0, 1.0}, 3), 0.0, 1e-15);

    /* Both minimisers of the six-hump camel. */
    double x[2];
    camel->argmin(2, x);
    assert_close(camel->fn((double[]){-x[0], -x[1]}, 2), -1.0316284534898774, 1e-14);
    assert_close(camel->fn((double[]){0.0898, -0.7126}, 2), -1.0316284534898774, 1e-6);
    assert_close(camel->fn((double[]){1.0, 1.0}, 2), 3.2333333333333333, 1e-14);
}

/* decoy: the decoy basin's minimum (on the diagonal, Newton on the analytic
 * derivative) is 0.45 above the global one, and values away from both are near 0. */
static void test_decoy_values(void **state)
{
    const hps_testfunc *f = must_find("decoy");
    double t = 0.6991636227868738;
    assert_close(f->fn((double[]){t, t}, 2), -1.0016580399016881, 1e-13);
    assert_close(f->fn((double[]){0.7, 0.7}, 2), -1.0016408860157935, 1e-13);
    assert_close(f->fn((double[]){0.0, 0.0}, 2), -0.312702310113118, 1e-13);
    assert_close(f->fn((double[]){1.0, 0.0}, 2), -0.0008831225025015969, 1e-13);
    assert_true(f->fn((double[]){t, t}, 2) - f->minimum(2) > 0.45);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_is_terminated_and_unique),
        cmocka_unit_test(test_find_unknown_is_null),
        cmocka_unit_test(test_dimensions),
        cmocka_unit_test(test_argmin_reaches_minimum),
        cmocka_unit_test(test_argmin_inside_domain),
        cmocka_unit_test(test_minimum_is_lower_bound_on_sample),
        cmocka_unit_test(test_argmin_is_local_minimum),
        cmocka_unit_test(test_branin_values),
        cmocka_unit_test(test_hartmann_values),
        cmocka_unit_test(test_other_values),
        cmocka_unit_test(test_decoy_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
