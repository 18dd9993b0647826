/*
 * Parameter importance for the report, by a method simple enough to state on the
 * page: for each parameter alone, the fraction of the objective's variance that
 * its value explains (the correlation ratio eta^2 between the parameter, grouped
 * into quantile bins or by value, and the objective's ranks), adjusted for the
 * number of groups as adjusted R^2 is so that a parameter without effect scores
 * about 0 rather than groups/n. It is the first-order (main-effect) term of a
 * functional ANOVA estimated by binning; interactions are not counted, and for an
 * adaptive strategy (gp, tpe) the trials are not a uniform sample of the space.
 * Ranks instead of raw values keep one huge objective value (a diverged run) from
 * deciding the answer.
 */
#include <math.h>
#include <stdlib.h>

#include "report_internal.h"
#include "hpsweep/error.h"

typedef struct keyed {
    double v;
    int64_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* v[n] sorted with their indices, into a new array; NULL when out of memory. */
static keyed *sorted_keys(const double *v, int64_t n)
{
    keyed *k = malloc((size_t)(n > 0 ? n : 1) * sizeof *k);
    if (!k)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        k[i] = (keyed){v[i], i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    return k;
}

int hps_report_ranks(const double *v, int64_t n, double *ranks)
{
    keyed *k = sorted_keys(v, n);
    if (!k)
        return HPS_ENOMEM;
    for (int64_t a = 0; a < n;) {
        int64_t b = a + 1;
        while (b < n && k[b].v == k[a].v)
            b++;
        double avg = 0.5 * (double)(a + 1 + b); /* ranks a+1..b */
        for (int64_t j = a; j < b; j++)
            ranks[k[j].i] = avg;
        a = b;
    }
    free(k);
    return HPS_OK;
}

/* Pearson correlation of a[n] and b[n]; NaN when either is constant. */
static double pearson(const double *a, const double *b, int64_t n)
{
    double ma = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

int hps_report_importance(const double *x, const double *y, int64_t n, int discrete, int max_bins,
                          hps_importance *out)
{
    if (!x || !y || !out || n < 2)
        return HPS_EINVAL;
    *out = (hps_importance){.eta2 = 0, .spearman = NAN, .groups = 0};
    keyed *k = sorted_keys(x, n);
    double *xr = discrete ? NULL : malloc((size_t)n * sizeof *xr);
    if (!k || (!discrete && !xr)) {
        free(k);
        free(xr);
        return HPS_ENOMEM;
    }
    double mean = 0, total = 0, between = 0;
    for (int64_t i = 0; i < n; i++)
        mean += y[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        total += (y[i] - mean) * (y[i] - mean);
    if (max_bins < 1)
        max_bins = 1;
    double target = (double)n / max_bins; /* rows per quantile bin */
    int groups = 0;
    for (int64_t a = 0; a < n;) {
        /* A group: equal values (discrete), or at least target rows ending where
         * the value changes (continuous). */
        int64_t b = a + 1;
        while (b < n && (k[b].v == k[b - 1].v || (!discrete && (double)(b - a) < target)))
            b++;
        double sum = 0;
        for (int64_t j = a; j < b; j++)
            sum += y[k[j].i];
        double gm = sum / (double)(b - a);
        between += (double)(b - a) * (gm - mean) * (gm - mean);
        groups++;
        a = b;
    }
    double eta2 = total > 0 ? between / total : 0;
    double adj = groups > 1 && n > groups
                     ? 1 - (1 - eta2) * (double)(n - 1) / (double)(n - groups)
                     : 0;
    out->eta2 = adj < 0 ? 0 : adj > 1 ? 1 : adj;
    out->groups = groups;
    if (!discrete) {
        int rc = hps_report_ranks(x, n, xr);
        if (rc != HPS_OK) {
            free(k);
            free(xr);
            return rc;
        }
        out->spearman = pearson(xr, y, n);
    }
    free(k);
    free(xr);
    return HPS_OK;
}
