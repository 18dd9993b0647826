/*
 * The best-trial ranking stored with /trials, so that `hpsweep best` reads a few
 * rows of a million-trial sweep.h5 instead of all of them.
 *
 * The writer ranks the done trials with a finite objective as hps_results_best()
 * and `hpsweep best --top K` do (hps_trial_better for the sweep's goal, ties to
 * the earlier row) and stores two attributes on /trials:
 *   ranked_rows  int64 scalar: how many trials the ranking covers (done, finite
 *                objective), 0 when none
 *   best_rows    int64[min(ranked_rows, HPS_STORE_BEST_ROWS)]: their row
 *                indices, best first (absent when ranked_rows is 0)
 * The reader (results.c, hps_results_open_best) reads the rows named there; a
 * file without the attributes (written before them) is read whole instead.
 */
#include <math.h>
#include <stdlib.h>

#include <hdf5.h>

#include "store_h5.h"
#include "hpsweep/error.h"

/* Whether trial t counts in the ranking. */
static int rankable(const hps_trial *t)
{
    return t->status == HPS_TRIAL_DONE && isfinite(t->objective);
}

/* Insert row r into top[0..*n) (best first, at most cap) if it belongs there.
 * Rows come in increasing order, so a tie goes after the rows already there. */
static void top_insert(const hps_trial *trials, int64_t *top, int *n, int cap, int64_t r,
                       int maximize)
{
    const hps_trial *t = &trials[r];
    if (*n == cap && !hps_trial_better(t, &trials[top[*n - 1]], maximize))
        return;
    int lo = 0, hi = *n; /* first position whose trial t beats */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (hps_trial_better(t, &trials[top[mid]], maximize))
            hi = mid;
        else
            lo = mid + 1;
    }
    int last = *n < cap ? *n : cap - 1;
    for (int i = last; i > lo; i--)
        top[i] = top[i - 1];
    top[lo] = r;
    if (*n < cap)
        (*n)++;
}

static int write_i64_attr(hid_t ds, const char *name, const int64_t *v, int n, int scalar,
                          const hps_h5err *e)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t attr = space < 0 ? H5I_INVALID_HID
                           : H5Acreate2(ds, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = attr >= 0 && H5Awrite(attr, H5T_NATIVE_INT64, v) >= 0 ? HPS_OK : HPS_EHDF5;
    if (rc != HPS_OK)
        hps_h5_report(e, __FILE__, __LINE__, name);
    hps_h5_close(attr);
    hps_h5_close(space);
    return rc;
}

int hps_store_write_best_rows(hid_t file, const hps_trial *trials, int64_t n, int maximize,
                              const hps_h5err *e)
{
    int64_t top[HPS_STORE_BEST_ROWS], ranked = 0;
    int k = 0;
    for (int64_t r = 0; r < n; r++) {
        if (!rankable(&trials[r]))
            continue;
        ranked++;
        top_insert(trials, top, &k, HPS_STORE_BEST_ROWS, r, maximize);
    }
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    if (ds < 0) {
        hps_h5_report(e, __FILE__, __LINE__, "H5Dopen2 /trials");
        return HPS_EHDF5;
    }
    int rc = write_i64_attr(ds, "ranked_rows", &ranked, 1, 1, e);
    if (rc == HPS_OK && k > 0)
        rc = write_i64_attr(ds, "best_rows", top, k, 0, e);
    hps_h5_close(ds);
    return rc;
}

int hps_store_read_best_rows(hid_t file, int64_t **rows, int *n, int64_t *ranked,
                             const hps_h5err *e)
{
    *rows = NULL;
    *n = 0;
    *ranked = 0;
    int rc = HPS_ECORRUPT;
    hid_t ds = H5I_INVALID_HID, attr = H5I_INVALID_HID, space = H5I_INVALID_HID;
    if (H5Lexists(file, "trials", H5P_DEFAULT) <= 0) {
        hps_h5_errf(e, "not an hpsweep results file: no /trials");
        return HPS_ECORRUPT;
    }
    h5Check(e, ds = H5Dopen2(file, "trials", H5P_DEFAULT));
    htri_t has = H5Aexists(ds, "ranked_rows");
    h5Check(e, has);
    if (!has) {
        rc = HPS_ENOSYS; /* written before the ranking was stored */
        goto fail;
    }
    h5Check(e, attr = H5Aopen(ds, "ranked_rows", H5P_DEFAULT));
    h5Check(e, space = H5Aget_space(attr));
    if (H5Sget_simple_extent_npoints(space) != 1) {
        hps_h5_errf(e, "/trials attribute ranked_rows is not one number");
        goto fail;
    }
    h5Check(e, H5Aread(attr, H5T_NATIVE_INT64, ranked));
    hps_h5_close(space);
    hps_h5_close(attr);
    space = attr = H5I_INVALID_HID;
    if (*ranked < 0) {
        hps_h5_errf(e, "/trials attribute ranked_rows is negative");
        goto fail;
    }
    if (*ranked == 0) {
        rc = HPS_OK;
        goto fail;
    }
    h5Check(e, attr = H5Aopen(ds, "best_rows", H5P_DEFAULT));
    h5Check(e, space = H5Aget_space(attr));
    hssize_t k = H5Sget_simple_extent_npoints(space);
    if (k < 1 || k > *ranked || k > HPS_STORE_BEST_ROWS) {
        hps_h5_errf(e, "/trials attribute best_rows has %lld rows for %lld ranked trials",
                    (long long)k, (long long)*ranked);
        goto fail;
    }
    if (!(*rows = malloc((size_t)k * sizeof **rows))) {
        hps_h5_errf(e, "out of memory reading /trials best_rows");
        rc = HPS_ENOMEM;
        goto fail;
    }
    h5Check(e, H5Aread(attr, H5T_NATIVE_INT64, *rows));
    *n = (int)k;
    rc = HPS_OK;
fail:
    if (rc != HPS_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    hps_h5_close(space);
    hps_h5_close(attr);
    hps_h5_close(ds);
    return rc;
}
