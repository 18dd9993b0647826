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
 *
 * Beside them, the status summary (hps_store_summary, store.h): what `hpsweep
 * status` shows of a stopped sweep, with the identity of the journal it was
 * written from, so that status reads a few attributes and rows instead of
 * replaying a million-record journal:
 *   status_journal       int64[4]: the journal beside the file when it was
 *                        written: bytes, mtime (ns), inode, device
 *   status_counts        int64[6]: trials total, done, running, failed,
 *                        interrupted, pruned
 *   status_best_row      int64: the sweep's best trial (-1: none)
 *   status_budget        float64[4]: max_trials, max_time, max_resource,
 *                        parallelism in force
 *   status_rate          float64[3]: the last finished trial's end (NaN: none),
 *                        how many finished trials ended in the rate window up to
 *                        it (hps_store_in_rate_window: its HPS_STORE_RATE_WINDOW
 *                        whole seconds), the earliest start among them
 *   status_cause_counts  int64[k + 1]: failures per distinct cause (first seen
 *                        first, at most HPS_STORE_STATUS_CAUSES), then the others
 *   status_cause_rows    int64[k]: each cause's first failed row (absent: k = 0)
 *   status_failed_rows   int64[<= HPS_STORE_STATUS_FAILURES]: the latest failed
 *                        rows, newest first (absent: none)
 *   status_running_rows  int64[]: every running row (absent: none)
 * Written only when the caller passes the sweep's facts and a journal lies beside
 * the file.
 *
 * Both are written from an hps_store_index (store_rank.c), not from the trials:
 * a writer that no longer holds its finished trials keeps their index instead.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "store_h5.h"
#include "hpsweep/error.h"

static int write_attr(hid_t ds, const char *name, hid_t ftype, hid_t mtype, const void *v,
                      int64_t n, int scalar, const hps_h5err *e)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t attr = space < 0 ? H5I_INVALID_HID
                           : H5Acreate2(ds, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = attr >= 0 && H5Awrite(attr, mtype, v) >= 0 ? HPS_OK : HPS_EHDF5;
    if (rc != HPS_OK)
        hps_h5_report(e, __FILE__, __LINE__, name);
    hps_h5_close(attr);
    hps_h5_close(space);
    return rc;
}

static int write_i64_attr(hid_t ds, const char *name, const int64_t *v, int64_t n, int scalar,
                          const hps_h5err *e)
{
    return write_attr(ds, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v, n, scalar, e);
}

static int write_f64_attr(hid_t ds, const char *name, const double *v, int64_t n,
                          const hps_h5err *e)
{
    return write_attr(ds, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, n, 0, e);
}

int hps_store_write_best_rows(hid_t file, const hps_store_index *ix, const hps_h5err *e)
{
    int64_t top[HPS_STORE_BEST_ROWS], ranked = ix->ranked;
    int k = ix->n_top;
    for (int i = 0; i < k; i++)
        top[i] = ix->top[i].row;
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

/* /trials of file, open in *out when it has the attribute attr: HPS_OK; HPS_ENOSYS
 * when it has not (written before the attribute was stored); HPS_ECORRUPT with e
 * filled when there is no /trials or HDF5 cannot open it. */
static int open_trials_with(hid_t file, const char *attr, hid_t *out, const hps_h5err *e)
{
    int rc = HPS_ECORRUPT;
    hid_t ds = H5I_INVALID_HID;
    if (H5Lexists(file, "trials", H5P_DEFAULT) <= 0) {
        hps_h5_errf(e, "not an hpsweep results file: no /trials");
        return HPS_ECORRUPT;
    }
    h5Check(e, ds = H5Dopen2(file, "trials", H5P_DEFAULT));
    htri_t has = H5Aexists(ds, attr);
    h5Check(e, has);
    if (!has) {
        rc = HPS_ENOSYS;
        goto fail;
    }
    *out = ds;
    return HPS_OK;
fail:
    hps_h5_close(ds);
    return rc;
}

int hps_store_read_best_rows(hid_t file, int64_t **rows, int *n, int64_t *ranked,
                             const hps_h5err *e)
{
    *rows = NULL;
    *n = 0;
    *ranked = 0;
    hid_t ds = H5I_INVALID_HID, attr = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rc = open_trials_with(file, "ranked_rows", &ds, e);
    if (rc != HPS_OK)
        return rc; /* HPS_ENOSYS: written before the ranking was stored */
    rc = HPS_ECORRUPT;
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

/* ---- the status summary ------------------------------------------------------------ */

/* The journal beside path (the sweep directory's): its identity into id[4]. 0 when
 * there is none. */
static int journal_beside(const char *path, int64_t id[4])
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char *jpath = malloc(dirlen + sizeof "journal");
    if (!jpath)
        return 0;
    memcpy(jpath, path, dirlen);
    memcpy(jpath + dirlen, "journal", sizeof "journal");
    struct stat st;
    int ok = stat(jpath, &st) == 0 && S_ISREG(st.st_mode);
    free(jpath);
    if (!ok)
        return 0;
    id[0] = (int64_t)st.st_size;
    id[1] = (int64_t)st.st_mtim.tv_sec * 1000000000 + (int64_t)st.st_mtim.tv_nsec;
    id[2] = (int64_t)st.st_ino;
    id[3] = (int64_t)st.st_dev;
    return 1;
}

int hps_store_write_summary(hid_t file, const char *path, const hps_store_meta *m,
                            const hps_store_index *ix, const hps_h5err *e)
{
    int64_t journal[4];
    if (!m->facts || !journal_beside(path, journal))
        return HPS_OK;
    const hps_store_sweep_facts *f = m->facts;
    int64_t n = ix->n_rows, counts[6];
    memcpy(counts, ix->counts, sizeof counts);
    int k = ix->n_causes;
    int64_t cause_counts[HPS_STORE_STATUS_CAUSES + 1];
    memcpy(cause_counts, ix->cause_counts, (size_t)k * sizeof *cause_counts);
    cause_counts[k] = ix->other_causes; /* the others, last */
    int64_t failed_rows[HPS_STORE_STATUS_FAILURES];
    int n_failed_rows = 0;
    for (int64_t i = ix->n_failed - 1;
         i >= 0 && n_failed_rows < HPS_STORE_STATUS_FAILURES; i--)
        failed_rows[n_failed_rows++] = ix->failed[i % HPS_STORE_STATUS_FAILURES];
    const int64_t *running = ix->running;
    /* The rate's inputs, as status measures a stopped sweep's rate (recent_rate). */
    double rate[3] = {NAN, 0, NAN};
    if (isfinite(ix->last)) {
        int64_t in;
        double first;
        hps_store_index_rate(ix, &in, &first);
        rate[0] = ix->last;
        rate[1] = (double)in;
        rate[2] = first;
    }
    double budget[4] = {(double)f->max_trials, f->max_time, f->max_resource,
                        (double)f->parallelism};
    int64_t best = f->best_id >= 0 && f->best_id < n ? f->best_id : -1;
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    int rc = ds >= 0 ? HPS_OK : HPS_EHDF5;
    if (rc != HPS_OK)
        hps_h5_report(e, __FILE__, __LINE__, "H5Dopen2 /trials");
    if (rc == HPS_OK)
        rc = write_i64_attr(ds, "status_journal", journal, 4, 0, e);
    if (rc == HPS_OK)
        rc = write_i64_attr(ds, "status_counts", counts, 6, 0, e);
    if (rc == HPS_OK)
        rc = write_i64_attr(ds, "status_best_row", &best, 1, 1, e);
    if (rc == HPS_OK)
        rc = write_f64_attr(ds, "status_budget", budget, 4, e);
    if (rc == HPS_OK)
        rc = write_f64_attr(ds, "status_rate", rate, 3, e);
    if (rc == HPS_OK)
        rc = write_i64_attr(ds, "status_cause_counts", cause_counts, k + 1, 0, e);
    if (rc == HPS_OK && k > 0)
        rc = write_i64_attr(ds, "status_cause_rows", ix->cause_rows, k, 0, e);
    if (rc == HPS_OK && n_failed_rows > 0)
        rc = write_i64_attr(ds, "status_failed_rows", failed_rows, n_failed_rows, 0, e);
    if (rc == HPS_OK && counts[2] > 0)
        rc = write_i64_attr(ds, "status_running_rows", running, counts[2], 0, e);
    hps_h5_close(ds);
    return rc;
}

/* Attribute name of ds into out (n values of memtype; n < 0: as many as it has, up
 * to -n, their number into *got). HPS_OK or HPS_ECORRUPT with e filled. */
static int read_attr(hid_t ds, const char *name, hid_t memtype, void *out, int64_t n,
                     int64_t *got, const hps_h5err *e)
{
    int rc = HPS_ECORRUPT;
    hid_t attr = H5I_INVALID_HID, space = H5I_INVALID_HID;
    h5Check(e, attr = H5Aopen(ds, name, H5P_DEFAULT));
    h5Check(e, space = H5Aget_space(attr));
    hssize_t have = H5Sget_simple_extent_npoints(space);
    if (n >= 0 ? have != n : (have < 0 || have > -n)) {
        hps_h5_errf(e, "/trials attribute %s has %lld values", name, (long long)have);
        goto fail;
    }
    h5Check(e, H5Aread(attr, memtype, out));
    if (got)
        *got = have;
    rc = HPS_OK;
fail:
    hps_h5_close(space);
    hps_h5_close(attr);
    return rc;
}

/* Whether every row in rows[0..n) lies in 0..total. */
static int rows_valid(const int64_t *rows, int64_t n, int64_t total)
{
    for (int64_t i = 0; i < n; i++)
        if (rows[i] < 0 || rows[i] >= total)
            return 0;
    return 1;
}

static int read_summary(hid_t file, hps_store_summary *o, const hps_h5err *e)
{
    hid_t ds = H5I_INVALID_HID;
    int rc = open_trials_with(file, "status_journal", &ds, e);
    if (rc != HPS_OK)
        return rc;
    rc = HPS_ECORRUPT;
    int64_t best, k, causes[HPS_STORE_STATUS_CAUSES + 1], nf = 0;
    double budget[4], rate[3];
    if ((rc = read_attr(ds, "status_journal", H5T_NATIVE_INT64, o->journal, 4, NULL, e)) ||
        (rc = read_attr(ds, "status_counts", H5T_NATIVE_INT64, o->counts, 6, NULL, e)) ||
        (rc = read_attr(ds, "status_best_row", H5T_NATIVE_INT64, &best, 1, NULL, e)) ||
        (rc = read_attr(ds, "status_budget", H5T_NATIVE_DOUBLE, budget, 4, NULL, e)) ||
        (rc = read_attr(ds, "status_rate", H5T_NATIVE_DOUBLE, rate, 3, NULL, e)) ||
        (rc = read_attr(ds, "status_cause_counts", H5T_NATIVE_INT64, causes,
                        -(HPS_STORE_STATUS_CAUSES + 1), &k, e)))
        goto fail;
    rc = HPS_ECORRUPT;
    int64_t total = o->counts[0];
    if (k < 1 || total < 0 || best < -1 || best >= total || o->counts[2] < 0 ||
        o->counts[2] > total) {
        hps_h5_errf(e, "/trials status summary does not add up");
        goto fail;
    }
    o->facts = (hps_store_sweep_facts){.best_id = best, .max_trials = (int64_t)budget[0],
                                       .max_time = budget[1], .max_resource = budget[2],
                                       .parallelism = (int32_t)budget[3]};
    o->rate_last = rate[0];
    o->rate_n = (int64_t)rate[1];
    o->rate_first = rate[2];
    o->n_causes = (int)k - 1;
    memcpy(o->cause_counts, causes, (size_t)o->n_causes * sizeof *causes);
    o->other_causes = causes[k - 1];
    if (o->n_causes > 0 &&
        (rc = read_attr(ds, "status_cause_rows", H5T_NATIVE_INT64, o->cause_rows, o->n_causes,
                        NULL, e)) != HPS_OK)
        goto fail;
    if (H5Aexists(ds, "status_failed_rows") > 0 &&
        (rc = read_attr(ds, "status_failed_rows", H5T_NATIVE_INT64, o->failed_rows,
                        -HPS_STORE_STATUS_FAILURES, &nf, e)) != HPS_OK)
        goto fail;
    o->n_failed_rows = (int)nf;
    rc = HPS_ECORRUPT;
    if (o->counts[2] > 0) {
        if (!(o->running_rows = malloc((size_t)o->counts[2] * sizeof *o->running_rows))) {
            hps_h5_errf(e, "out of memory reading the status summary");
            rc = HPS_ENOMEM;
            goto fail;
        }
        if ((rc = read_attr(ds, "status_running_rows", H5T_NATIVE_INT64, o->running_rows,
                            o->counts[2], NULL, e)) != HPS_OK)
            goto fail;
        o->n_running_rows = o->counts[2];
    }
    rc = HPS_ECORRUPT;
    if (!rows_valid(o->cause_rows, o->n_causes, total) ||
        !rows_valid(o->failed_rows, o->n_failed_rows, total) ||
        !rows_valid(o->running_rows, o->n_running_rows, total)) {
        hps_h5_errf(e, "/trials status summary names a row it does not have");
        goto fail;
    }
    rc = HPS_OK;
fail:
    hps_h5_close(ds);
    return rc;
}

int hps_store_read_summary(const char *path, hps_store_summary *out, char *err, size_t errlen)
{
    hps_h5err e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    memset(out, 0, sizeof *out);
    int rc;
    hid_t file = hps_store_open_read(path, &rc, &e);
    if (file < 0)
        return rc;
    rc = read_summary(file, out, &e);
    hps_h5_close(file);
    if (rc != HPS_OK)
        hps_store_summary_free(out);
    return rc;
}

void hps_store_summary_free(hps_store_summary *out)
{
    if (!out)
        return;
    free(out->running_rows);
    memset(out, 0, sizeof *out);
}
