/*
 * The built-in test functions: a const table of hps_testfunc, looked up by the
 * name a sweep's YAML gives. Each entry is pure (no state, no allocation) and
 * knows its standard domain, its global minimum and one minimiser, so sweeps and
 * benchmarks can report simple regret.
 *
 * Definitions and domains follow S. Surjanovic & D. Bingham, "Virtual Library of
 * Simulation Experiments: Test Functions and Datasets", https://www.sfu.ca/~ssurjano/
 * (one exception, noted at hartmann3). Minimisers were refined to full double
 * precision by Newton's method on the gradient in 40-digit arithmetic (mpmath), so
 * fn(argmin) matches minimum to about 1e-15.
 *
 * fn() trusts d: callers check it against min_dim/max_dim first.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "hpsweep/testfunc.h"

#define PI 3.14159265358979323846

static void fill(int d, double *v, double value)
{
    for (int i = 0; i < d; i++)
        v[i] = value;
}

static void box(int d, double *low, double *high, double lo, double hi)
{
    fill(d, low, lo);
    fill(d, high, hi);
}

/* ---- branin (d = 2) ------------------------------------------------------------- */

static double branin_fn(const double *x, int d)
{
    const double b = 5.1 / (4.0 * PI * PI), c = 5.0 / PI, r = 6.0, s = 10.0;
    const double t = 1.0 / (8.0 * PI);
    double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
    return u * u + s * (1.0 - t) * cos(x[0]) + s;
}

static void branin_domain(int d, double *low, double *high)
{
    low[0] = -5.0, high[0] = 10.0;
    low[1] = 0.0, high[1] = 15.0;
}

/* 5/(4 pi), reached at (-pi, 12.275), (pi, 2.275) and (3 pi, 2.475). */
static double branin_minimum(int d) { return 0.39788735772973816; }

static void branin_argmin(int d, double *x)
{
    x[0] = PI;
    x[1] = 2.275;
}

/* ---- hartmann3 / hartmann6 ------------------------------------------------------ */

static const double hartmann_alpha[4] = {1.0, 1.2, 3.0, 3.2};

/* -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2) with A and P stored row-major. */
static double hartmann(const double *x, int d, const double *a, const double *p)
{
    double sum = 0.0;
    for (int i = 0; i < 4; i++) {
        double inner = 0.0;
        for (int j = 0; j < d; j++) {
            double t = x[j] - p[i * d + j];
            inner += a[i * d + j] * t * t;
        }
        sum += hartmann_alpha[i] * exp(-inner);
    }
    return -sum;
}

/*
 * The coefficients of Dixon & Szegő (1978), "Towards Global Optimisation 2", as
 * tabulated by Hedar's global-optimisation test set and by Jamil & Yang (2013).
 * The SFU library rounds P[3][0] to 0.0381, which moves the minimiser to
 * x1 = 0.114589 and the minimum to -3.862779787; with 0.03815 the published
 * -3.86278214782076 and (0.114614, 0.555649, 0.852547) are exact.
 */
static const double hartmann3_a[4 * 3] = {
    3.0, 10.0, 30.0,
    0.1, 10.0, 35.0,
    3.0, 10.0, 30.0,
    0.1, 10.0, 35.0,
};
static const double hartmann3_p[4 * 3] = {
    0.3689,  0.1170, 0.2673,
    0.4699,  0.4387, 0.7470,
    0.1091,  0.8732, 0.5547,
    0.03815, 0.5743, 0.8828,
};

static double hartmann3_fn(const double *x, int d)
{
    return hartmann(x, 3, hartmann3_a, hartmann3_p);
}

static void hartmann_domain(int d, double *low, double *high) { box(d, low, high, 0.0, 1.0); }

static double hartmann3_minimum(int d) { return -3.86278214782076; }

static void hartmann3_argmin(int d, double *x)
{
    static const double xs[3] = {0.11461433858967198, 0.55564884997185693, 0.85254695352086578};
    memcpy(x, xs, sizeof xs);
}

/* SFU's hart6 coefficients. */
static const double hartmann6_a[4 * 6] = {
    10.0, 3.0,  17.0, 3.5,  1.7,  8.0,
    0.05, 10.0, 17.0, 0.1,  8.0,  14.0,
    3.0,  3.5,  1.7,  10.0, 17.0, 8.0,
    17.0, 8.0,  0.05, 10.0, 0.1,  14.0,
};
static const double hartmann6_p[4 * 6] = {
    0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886,
    0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991,
    0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650,
    0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381,
};

static double hartmann6_fn(const double *x, int d)
{
    return hartmann(x, 6, hartmann6_a, hartmann6_p);
}

static double hartmann6_minimum(int d) { return -3.32236801141551; }

/* SFU gives (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573); refined. */
static void hartmann6_argmin(int d, double *x)
{
    static const double xs[6] = {0.20168951100670542, 0.15001069182345797,
                                 0.47687397422189699, 0.27533243049405607,
                                 0.31165161660011324, 0.65730053406562031};
    memcpy(x, xs, sizeof xs);
}

/* ---- rosenbrock (d >= 2) -------------------------------------------------------- */

static double rosenbrock_fn(const double *x, int d)
{
    double sum = 0.0;
    for (int i = 0; i + 1 < d; i++) {
        double u = x[i + 1] - x[i] * x[i], v = x[i] - 1.0;
        sum += 100.0 * u * u + v * v;
    }
    return sum;
}

static void rosenbrock_domain(int d, double *low, double *high) { box(d, low, high, -5.0, 10.0); }

static double zero_minimum(int d) { return 0.0; }

static void ones_argmin(int d, double *x) { fill(d, x, 1.0); }

static void zeros_argmin(int d, double *x) { fill(d, x, 0.0); }

/* ---- ackley (d >= 1) ------------------------------------------------------------ */

/*
 * a (1 - exp(-b rms(x))) + (e - exp(mean cos(c x))) with a = 20, b = 0.2, c = 2 pi:
 * the usual form regrouped so that both terms are exactly 0 at the origin.
 */
static double ackley_fn(const double *x, int d)
{
    const double a = 20.0, b = 0.2, c = 2.0 * PI;
    double sq = 0.0, cs = 0.0;
    for (int i = 0; i < d; i++) {
        sq += x[i] * x[i];
        cs += cos(c * x[i]);
    }
    return a * (1.0 - exp(-b * sqrt(sq / d))) + (exp(1.0) - exp(cs / d));
}

static void ackley_domain(int d, double *low, double *high) { box(d, low, high, -32.768, 32.768); }

/* ---- levy (d >= 1) -------------------------------------------------------------- */

static double levy_fn(const double *x, int d)
{
    double w0 = 1.0 + (x[0] - 1.0) / 4.0, wd = 1.0 + (x[d - 1] - 1.0) / 4.0;
    double s = sin(PI * w0), sum = s * s;
    for (int i = 0; i + 1 < d; i++) {
        double w = 1.0 + (x[i] - 1.0) / 4.0, t = sin(PI * w + 1.0);
        sum += (w - 1.0) * (w - 1.0) * (1.0 + 10.0 * t * t);
    }
    s = sin(2.0 * PI * wd);
    return sum + (wd - 1.0) * (wd - 1.0) * (1.0 + s * s);
}

static void levy_domain(int d, double *low, double *high) { box(d, low, high, -10.0, 10.0); }

/* ---- styblinski_tang (d >= 1) --------------------------------------------------- */

static double styblinski_tang_fn(const double *x, int d)
{
    double sum = 0.0;
    for (int i = 0; i < d; i++) {
        double x2 = x[i] * x[i];
        sum += x2 * x2 - 16.0 * x2 + 5.0 * x[i];
    }
    return 0.5 * sum;
}

static void styblinski_tang_domain(int d, double *low, double *high)
{
    box(d, low, high, -5.0, 5.0);
}

/* Per coordinate: the root of 4x^3 - 32x + 5 = 0 near -2.9035 and its value. */
static double styblinski_tang_minimum(int d) { return -39.16616570377142 * d; }

static void styblinski_tang_argmin(int d, double *x) { fill(d, x, -2.903534027771177); }

/* ---- six_hump_camel (d = 2) ----------------------------------------------------- */

static double six_hump_camel_fn(const double *x, int d)
{
    double a = x[0] * x[0], b = x[1] * x[1];
    return (4.0 - 2.1 * a + a * a / 3.0) * a + x[0] * x[1] + (-4.0 + 4.0 * b) * b;
}

static void six_hump_camel_domain(int d, double *low, double *high)
{
    low[0] = -3.0, high[0] = 3.0;
    low[1] = -2.0, high[1] = 2.0;
}

static double six_hump_camel_minimum(int d) { return -1.0316284534898774; }

/* The other minimiser is the mirror image, (-x1, -x2). */
static void six_hump_camel_argmin(int d, double *x)
{
    x[0] = 0.089842013100318062;
    x[1] = -0.71265640302073963;
}

/* ---- sphere (d >= 1) ------------------------------------------------------------ */

static double sphere_fn(const double *x, int d)
{
    double sum = 0.0;
    for (int i = 0; i < d; i++)
        sum += x[i] * x[i];
    return sum;
}

static void sphere_domain(int d, double *low, double *high) { box(d, low, high, -5.12, 5.12); }

/* ---- decoy (d = 2) -------------------------------------------------------------- */

/*
 * A test of escaping a settled basin, made for hpsweep (not from the SFU library):
 *   -exp(-|x - a|^2 / (2 0.2^2)) - 0.85 exp(-|x - b|^2 / (2 0.2^2))
 *                                 - 0.6 exp(-|x - b|^2 / (2 0.03^2))
 * on [0,1]^2, a = (0.7, 0.7), b = (0.2, 0.2): a broad decoy basin at a (-1.0017),
 * and at b a basin as broad but shallower, whose narrow well holds the global minimum
 * -1.4519. A search that settles at a sees b only as worse, as Hartmann6's local
 * minimum hides its global one in six dimensions. The minimiser lies on the diagonal;
 * refined by Newton's method on the analytic derivative.
 */
static double decoy_fn(const double *x, int d)
{
    double ra = (x[0] - 0.7) * (x[0] - 0.7) + (x[1] - 0.7) * (x[1] - 0.7);
    double rb = (x[0] - 0.2) * (x[0] - 0.2) + (x[1] - 0.2) * (x[1] - 0.2);
    return -exp(-ra / 0.08) - 0.85 * exp(-rb / 0.08) - 0.6 * exp(-rb / 0.0018);
}

static void decoy_domain(int d, double *low, double *high) { box(d, low, high, 0.0, 1.0); }

static double decoy_minimum(int d) { return -1.4519313012740471; }

static void decoy_argmin(int d, double *x) { fill(d, x, 0.2000351062871346); }

/* ---- the table ------------------------------------------------------------------ */

static const hps_testfunc branin = {
    .name = "branin", .min_dim = 2, .max_dim = 2, .fn = branin_fn,
    .domain = branin_domain, .minimum = branin_minimum, .argmin = branin_argmin,
};
static const hps_testfunc hartmann3 = {
    .name = "hartmann3", .min_dim = 3, .max_dim = 3, .fn = hartmann3_fn,
    .domain = hartmann_domain, .minimum = hartmann3_minimum, .argmin = hartmann3_argmin,
};
static const hps_testfunc hartmann6 = {
    .name = "hartmann6", .min_dim = 6, .max_dim = 6, .fn = hartmann6_fn,
    .domain = hartmann_domain, .minimum = hartmann6_minimum, .argmin = hartmann6_argmin,
};
static const hps_testfunc rosenbrock = {
    .name = "rosenbrock", .min_dim = 2, .max_dim = 0, .fn = rosenbrock_fn,
    .domain = rosenbrock_domain, .minimum = zero_minimum, .argmin = ones_argmin,
};
static const hps_testfunc ackley = {
    .name = "ackley", .min_dim = 1, .max_dim = 0, .fn = ackley_fn,
    .domain = ackley_domain, .minimum = zero_minimum, .argmin = zeros_argmin,
};
static const hps_testfunc levy = {
    .name = "levy", .min_dim = 1, .max_dim = 0, .fn = levy_fn,
    .domain = levy_domain, .minimum = zero_minimum, .argmin = ones_argmin,
};
static const hps_testfunc styblinski_tang = {
    .name = "styblinski_tang", .min_dim = 1, .max_dim = 0, .fn = styblinski_tang_fn,
    .domain = styblinski_tang_domain, .minimum = styblinski_tang_minimum,
    .argmin = styblinski_tang_argmin,
};
static const hps_testfunc six_hump_camel = {
    .name = "six_hump_camel", .min_dim = 2, .max_dim = 2, .fn = six_hump_camel_fn,
    .domain = six_hump_camel_domain, .minimum = six_hump_camel_minimum,
    .argmin = six_hump_camel_argmin,
};
static const hps_testfunc sphere = {
    .name = "sphere", .min_dim = 1, .max_dim = 0, .fn = sphere_fn,
    .domain = sphere_domain, .minimum = zero_minimum, .argmin = zeros_argmin,
};

static const hps_testfunc decoy = {
    .name = "decoy", .min_dim = 2, .max_dim = 2, .fn = decoy_fn,
    .domain = decoy_domain, .minimum = decoy_minimum, .argmin = decoy_argmin,
};

static const hps_testfunc *const testfuncs[] = {
    &branin, &hartmann3, &hartmann6, &rosenbrock, &ackley,
    &levy, &styblinski_tang, &six_hump_camel, &sphere, &decoy, NULL,
};

const hps_testfunc *hps_testfunc_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; testfuncs[i]; i++)
        if (strcmp(testfuncs[i]->name, name) == 0)
            return testfuncs[i];
    return NULL;
}

const hps_testfunc *const *hps_testfunc_list(void) { return testfuncs; }
