/*
 * Down-sampling for the report's plots: a 100,000-trial sweep would make a page
 * that no browser draws quickly, so the scatter plots show at most a few thousand
 * trials. The best ones are always among them (they are what people look for);
 * the rest is a systematic sample in trial order, which keeps the shape of the
 * history (early exploration, later exploitation) without a random generator, so
 * the same sweep always gives the same page.
 */
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "hpsweep/error.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int hps_report_sample(const int64_t *order, int64_t n, int64_t cap, int64_t keep_best,
                      int64_t *out, int64_t *n_out)
{
    if (!n_out || n < 0 || cap < 0 || (n > 0 && (!order || !out)))
        return HPS_EINVAL;
    *n_out = 0;
    if (n <= cap) {
        if (n > 0)
            memcpy(out, order, (size_t)n * sizeof *out);
        qsort(out, (size_t)n, sizeof *out, cmp_i64);
        *n_out = n;
        return HPS_OK;
    }
    if (keep_best < 0)
        keep_best = 0;
    if (keep_best > cap)
        keep_best = cap;
    int64_t len = n - keep_best, m = cap - keep_best; /* pick m of the len others, m < len */
    int64_t *rest = malloc((size_t)(len > 0 ? len : 1) * sizeof *rest);
    if (!rest)
        return HPS_ENOMEM;
    memcpy(rest, order + keep_best, (size_t)len * sizeof *rest);
    qsort(rest, (size_t)len, sizeof *rest, cmp_i64);
    memcpy(out, order, (size_t)keep_best * sizeof *out);
    /* The middle of each of m equal slices of rest: distinct, since len > m. */
    for (int64_t j = 0; j < m; j++)
        out[keep_best + j] = rest[(int64_t)(((double)j + 0.5) * (double)len / (double)m)];
    free(rest);
    qsort(out, (size_t)cap, sizeof *out, cmp_i64);
    *n_out = cap;
    return HPS_OK;
}
