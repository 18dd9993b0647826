/*
 * The trainer's dataset files: opening with the layout checks, the label scan,
 * value-checked reads, and hps_dataset_check() -- the whole-file validation in
 * chunks plus the file's SHA-256 that a sweep records for provenance.
 */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "digest.h"
#include "h5util.h"
#include "trainer.h"

/* Rows per chunk when reading a whole split: about this many bytes of X. */
#define CHUNK_BYTES (4u << 20)

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *hps_ds_name(int split, int is_y)
{
    static const char *const names[2][2] = {{"/train/X", "/train/y"}, {"/val/X", "/val/y"}};
    return names[split ? 1 : 0][is_y ? 1 : 0];
}

void hps_ds_close(hps_ds *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < 2; i++) {
        hps_tr_h5_close(ds->s[i].X_space);
        hps_tr_h5_close(ds->s[i].y_space);
        hps_tr_h5_close(ds->s[i].X);
        hps_tr_h5_close(ds->s[i].y);
        ds->s[i].X = ds->s[i].y = ds->s[i].X_space = ds->s[i].y_space = H5I_INVALID_HID;
    }
    hps_tr_h5_close(ds->file);
    ds->file = H5I_INVALID_HID;
}

/* Open one dataset by absolute name with a chunk cache fit for row reads. */
static int open_dataset(hps_ds *ds, const char *name, hid_t *out, char *err, size_t errlen)
{
    char group[16];
    snprintf(group, sizeof group, "%.*s", (int)(strchr(name + 1, '/') - name), name);
    htri_t g = H5Lexists(ds->file, group, H5P_DEFAULT);
    if (g <= 0) {
        errf(err, errlen, "%s: %s: missing (no group %s)", ds->path, name, group);
        return HPS_ECORRUPT;
    }
    htri_t e = H5Lexists(ds->file, name, H5P_DEFAULT);
    if (e <= 0) {
        errf(err, errlen, "%s: %s: missing", ds->path, name);
        return HPS_ECORRUPT;
    }
    hid_t obj = H5Oopen(ds->file, name, H5P_DEFAULT);
    H5I_type_t kind = obj >= 0 ? H5Iget_type(obj) : H5I_BADID;
    hps_tr_h5_close(obj);
    if (kind != H5I_DATASET) {
        errf(err, errlen, "%s: %s: not a dataset", ds->path, name);
        return HPS_ECORRUPT;
    }
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    /* 32 MiB cache: a chunked (or compressed) file read row by row decodes each
     * chunk once per block instead of once per row. */
    if (dapl >= 0)
        H5Pset_chunk_cache(dapl, 12421, 32u << 20, 1.0);
    *out = H5Dopen2(ds->file, name, dapl >= 0 ? dapl : H5P_DEFAULT);
    hps_tr_h5_close(dapl);
    if (*out < 0) {
        char msg[128];
        hps_tr_h5_last(msg, sizeof msg);
        errf(err, errlen, "%s: %s: cannot open: %s", ds->path, name, msg);
        return HPS_ECORRUPT;
    }
    return HPS_OK;
}

static int open_split(hps_ds *ds, int split, char *err, size_t errlen)
{
    hps_ds_split *s = &ds->s[split];
    const char *xn = hps_ds_name(split, 0), *yn = hps_ds_name(split, 1);
    int rc = open_dataset(ds, xn, &s->X, err, errlen);
    if (rc == HPS_OK)
        rc = open_dataset(ds, yn, &s->y, err, errlen);
    if (rc != HPS_OK)
        return rc;

    char desc[64];
    int rank, f32, i32;
    int64_t dims[2];
    if (hps_tr_h5_describe(s->X, desc, sizeof desc, &rank, dims, &f32, &i32) < 0) {
        errf(err, errlen, "%s: %s: cannot read its type", ds->path, xn);
        return HPS_ECORRUPT;
    }
    if (rank != 2 || !f32) {
        errf(err, errlen, "%s: %s: expected 2-D float32, got %s", ds->path, xn, desc);
        return HPS_ECORRUPT;
    }
    if (dims[0] < 1 || dims[1] < 1) {
        errf(err, errlen, "%s: %s: empty (%lld x %lld)", ds->path, xn, (long long)dims[0],
             (long long)dims[1]);
        return HPS_ECORRUPT;
    }
    s->n = dims[0];
    if (split == HPS_DS_TRAIN) {
        ds->d = dims[1];
    } else if (dims[1] != ds->d) {
        errf(err, errlen, "%s: %s: %lld features, /train/X has %lld", ds->path, xn,
             (long long)dims[1], (long long)ds->d);
        return HPS_ECORRUPT;
    }

    if (hps_tr_h5_describe(s->y, desc, sizeof desc, &rank, dims, &f32, &i32) < 0) {
        errf(err, errlen, "%s: %s: cannot read its type", ds->path, yn);
        return HPS_ECORRUPT;
    }
    if ((rank != 1 && !(rank == 2 && dims[1] == 1)) || (!f32 && !i32)) {
        errf(err, errlen,
             "%s: %s: expected 1-D int32 labels or float32 targets (or one column), got %s%s",
             ds->path, yn, desc, rank == 2 && dims[1] != 1 ? " with several columns" : "");
        return HPS_ECORRUPT;
    }
    int task = i32 ? HPS_TASK_CLASSIFY : HPS_TASK_REGRESS;
    if (split == HPS_DS_TRAIN) {
        ds->task = task;
    } else if (task != ds->task) {
        errf(err, errlen, "%s: %s: %s, but /train/y is %s", ds->path, yn,
             i32 ? "int32 labels" : "float32 targets",
             ds->task == HPS_TASK_CLASSIFY ? "int32 labels" : "float32 targets");
        return HPS_ECORRUPT;
    }
    if (dims[0] != s->n) {
        errf(err, errlen, "%s: %s: %lld rows, %s has %lld", ds->path, yn, (long long)dims[0],
             xn, (long long)s->n);
        return HPS_ECORRUPT;
    }
    s->y_rank = rank;
    s->X_space = H5Dget_space(s->X);
    s->y_space = H5Dget_space(s->y);
    if (s->X_space < 0 || s->y_space < 0) {
        errf(err, errlen, "%s: %s: cannot read its dataspace", ds->path, xn);
        return HPS_EIO;
    }
    return HPS_OK;
}

int hps_ds_open(hps_ds *ds, const char *path, char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    ds->path = path;
    ds->file = H5I_INVALID_HID;
    for (int i = 0; i < 2; i++)
        ds->s[i].X = ds->s[i].y = ds->s[i].X_space = ds->s[i].y_space = H5I_INVALID_HID;
    hps_tr_h5_quiet();
    if (access(path, R_OK) != 0) {
        int e = errno;
        errf(err, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT ? HPS_ENOENT : HPS_EIO;
    }
    if (H5Fis_hdf5(path) <= 0) {
        errf(err, errlen, "%s: not an HDF5 file", path);
        return HPS_ECORRUPT;
    }
    ds->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (ds->file < 0) {
        char msg[128];
        hps_tr_h5_last(msg, sizeof msg);
        errf(err, errlen, "%s: cannot open: %s", path, msg);
        return HPS_ECORRUPT;
    }
    int rc = open_split(ds, HPS_DS_TRAIN, err, errlen);
    if (rc == HPS_OK)
        rc = open_split(ds, HPS_DS_VAL, err, errlen);
    if (rc == HPS_OK && ds->task == HPS_TASK_CLASSIFY &&
        H5Aexists(ds->s[0].y, "classes") > 0) {
        long long c = 0;
        if (hps_tr_attr_read(ds->s[0].y, "classes", H5T_NATIVE_LLONG, &c) < 0 || c < 2 ||
            c > HPS_TRAIN_MAX_CLASSES) {
            errf(err, errlen,
                 "%s: /train/y: attribute 'classes' must be one integer in [2, %d]", path,
                 HPS_TRAIN_MAX_CLASSES);
            rc = HPS_ECORRUPT;
        } else {
            ds->classes = (int)c;
            ds->classes_from_attr = 1;
        }
    }
    if (rc != HPS_OK)
        hps_ds_close(ds);
    return rc;
}

/* Select rows [start, start + count) of a split's X (all columns) or y. */
static int select_rows(hps_ds_split *s, int is_y, int64_t d, int64_t start, int64_t count)
{
    hsize_t st[2] = {(hsize_t)start, 0};
    hsize_t cnt[2] = {(hsize_t)count, is_y ? 1 : (hsize_t)d};
    return H5Sselect_hyperslab(is_y ? s->y_space : s->X_space, H5S_SELECT_SET, st, NULL, cnt,
                               NULL) < 0
               ? -1
               : 0;
}

/* Read count rows starting at start into X (+ row offset) and y (+ row offset). */
static int read_run(hps_ds *ds, int split, int64_t start, int64_t count, float *X, void *y,
                    char *err, size_t errlen)
{
    hps_ds_split *s = &ds->s[split];
    for (int is_y = 0; is_y < 2; is_y++) {
        void *dst = is_y ? y : (void *)X;
        if (!dst)
            continue;
        hsize_t mdims[2] = {(hsize_t)count, is_y ? 1 : (hsize_t)ds->d};
        hid_t mspace = H5Screate_simple(is_y ? 1 : 2, mdims, NULL);
        hid_t mtype = is_y && ds->task == HPS_TASK_CLASSIFY ? H5T_NATIVE_INT32
                                                            : H5T_NATIVE_FLOAT;
        herr_t r = -1;
        if (mspace >= 0 && select_rows(s, is_y, ds->d, start, count) == 0)
            r = H5Dread(is_y ? s->y : s->X, mtype, mspace, is_y ? s->y_space : s->X_space,
                        H5P_DEFAULT, dst);
        hps_tr_h5_close(mspace);
        if (r < 0) {
            char msg[128];
            hps_tr_h5_last(msg, sizeof msg);
            errf(err, errlen, "%s: %s: reading rows %lld..%lld failed: %s", ds->path,
                 hps_ds_name(split, is_y), (long long)start, (long long)(start + count - 1),
                 msg);
            return HPS_EIO;
        }
    }
    return HPS_OK;
}

/* Check count rows just read; row_of(i) names the file row of position i. */
static int check_values(const hps_ds *ds, int split, const float *X, const void *y,
                        int64_t count, int64_t first, const int64_t *rows, char *err,
                        size_t errlen)
{
    if (X) {
        const int64_t n = count * ds->d;
        float acc = 0.0f;
        for (int64_t k = 0; k < n; k++)
            acc += X[k] * 0.0f;
        if (isnan(acc)) {
            for (int64_t k = 0; k < n; k++)
                if (!isfinite(X[k])) {
                    int64_t i = k / ds->d;
                    errf(err, errlen, "%s: %s: non-finite value (%g) at row %lld, column %lld",
                         ds->path, hps_ds_name(split, 0), (double)X[k],
                         (long long)(rows ? rows[i] : first + i), (long long)(k % ds->d));
                    return HPS_ECORRUPT;
                }
        }
    }
    if (!y)
        return HPS_OK;
    for (int64_t i = 0; i < count; i++) {
        long long row = (long long)(rows ? rows[i] : first + i);
        if (ds->task == HPS_TASK_REGRESS) {
            float t = ((const float *)y)[i];
            if (!isfinite(t)) {
                errf(err, errlen, "%s: %s: non-finite target (%g) at row %lld", ds->path,
                     hps_ds_name(split, 1), (double)t, row);
                return HPS_ECORRUPT;
            }
        } else {
            int32_t c = ((const int32_t *)y)[i];
            if (c < 0 || c >= ds->classes) {
                errf(err, errlen, "%s: %s: label %d at row %lld is outside [0, %d)%s", ds->path,
                     hps_ds_name(split, 1), (int)c, row, ds->classes,
                     ds->classes_from_attr ? " (attribute 'classes')" : "");
                return HPS_ECORRUPT;
            }
        }
    }
    return HPS_OK;
}

int hps_ds_read(hps_ds *ds, int split, int64_t start, int64_t count, float *X, void *y,
                char *err, size_t errlen)
{
    if (count <= 0)
        return HPS_OK;
    int rc = read_run(ds, split, start, count, X, y, err, errlen);
    if (rc == HPS_OK)
        rc = check_values(ds, split, X, y, count, start, NULL, err, errlen);
    return rc;
}

int hps_ds_read_sorted(hps_ds *ds, int split, const int64_t *rows, int64_t count, float *X,
                       void *y, char *err, size_t errlen)
{
    for (int64_t i = 0; i < count;) {
        int64_t j = i + 1;
        while (j < count && rows[j] == rows[j - 1] + 1)
            j++;
        int rc = read_run(ds, split, rows[i], j - i, X ? X + i * ds->d : NULL,
                          y ? (char *)y + 4 * i : NULL, err, errlen);
        if (rc != HPS_OK)
            return rc;
        i = j;
    }
    return check_values(ds, split, X, y, count, 0, rows, err, errlen);
}

int hps_ds_scan_labels(hps_ds *ds, char *err, size_t errlen)
{
    if (ds->task != HPS_TASK_CLASSIFY)
        return HPS_OK;
    const int64_t chunk = 1 << 20;
    int32_t *buf = malloc((size_t)chunk * sizeof(int32_t));
    if (!buf) {
        errf(err, errlen, "%s: out of memory reading the labels", ds->path);
        return HPS_ENOMEM;
    }
    int64_t maxlab = -1, maxrow = 0;
    int maxsplit = 0;
    int rc = HPS_OK;
    for (int split = 0; split < 2 && rc == HPS_OK; split++) {
        for (int64_t start = 0; start < ds->s[split].n && rc == HPS_OK; start += chunk) {
            int64_t n = ds->s[split].n - start < chunk ? ds->s[split].n - start : chunk;
            rc = read_run(ds, split, start, n, NULL, buf, err, errlen);
            for (int64_t i = 0; rc == HPS_OK && i < n; i++) {
                if (buf[i] < 0) {
                    errf(err, errlen, "%s: %s: negative label %d at row %lld", ds->path,
                         hps_ds_name(split, 1), (int)buf[i], (long long)(start + i));
                    rc = HPS_ECORRUPT;
                } else if (buf[i] > maxlab) {
                    maxlab = buf[i];
                    maxrow = start + i;
                    maxsplit = split;
                }
            }
        }
    }
    free(buf);
    if (rc != HPS_OK)
        return rc;
    if (ds->classes_from_attr) {
        if (maxlab >= ds->classes) {
            errf(err, errlen, "%s: %s: label %lld at row %lld is outside [0, %d) (attribute "
                 "'classes')", ds->path, hps_ds_name(maxsplit, 1), (long long)maxlab,
                 (long long)maxrow, ds->classes);
            return HPS_ECORRUPT;
        }
        return HPS_OK;
    }
    if (maxlab + 1 > HPS_TRAIN_MAX_CLASSES) {
        errf(err, errlen, "%s: %s: label %lld at row %lld means %lld classes (at most %d)",
             ds->path, hps_ds_name(maxsplit, 1), (long long)maxlab, (long long)maxrow,
             (long long)maxlab + 1, HPS_TRAIN_MAX_CLASSES);
        return HPS_ECORRUPT;
    }
    if (maxlab < 1) {
        errf(err, errlen, "%s: /train/y: every label is 0: classification needs at least 2 "
             "classes", ds->path);
        return HPS_ECORRUPT;
    }
    ds->classes = (int)(maxlab + 1);
    return HPS_OK;
}

static int file_sha256(const char *path, char hex[65], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        errf(err, errlen, "%s: %s", path, strerror(errno));
        return HPS_EIO;
    }
    hps_sha256 sha;
    unsigned char digest[32];
    int rc = HPS_OK;
    char *buf = malloc(1u << 20);
    if (!buf || hps_sha256_init(&sha) != 0) {
        free(buf);
        fclose(f);
        errf(err, errlen, "%s: out of memory for the SHA-256", path);
        return HPS_ENOMEM;
    }
    size_t n;
    while ((n = fread(buf, 1, 1u << 20, f)) > 0)
        if (hps_sha256_update(&sha, buf, n) != 0)
            rc = HPS_EIO;
    if (ferror(f)) {
        errf(err, errlen, "%s: read error while hashing: %s", path, strerror(errno));
        rc = HPS_EIO;
    }
    if (rc == HPS_OK && hps_sha256_final(&sha, digest) == 0)
        hps_sha256_hex(digest, hex);
    else if (rc == HPS_OK)
        rc = HPS_EIO;
    hps_sha256_abort(&sha);
    free(buf);
    fclose(f);
    if (rc != HPS_OK && err && !err[0])
        errf(err, errlen, "%s: SHA-256 failed", path);
    return rc;
}

int hps_dataset_check(const char *path, hps_dataset_info *info, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path) {
        errf(err, errlen, "no dataset path");
        return HPS_EINVAL;
    }
    hps_ds ds;
    int rc = hps_ds_open(&ds, path, err, errlen);
    if (rc != HPS_OK)
        return rc;
    rc = hps_ds_scan_labels(&ds, err, errlen);
    int64_t rows = CHUNK_BYTES / (uint64_t)(ds.d * 4);
    if (rows < 1)
        rows = 1;
    float *X = malloc((size_t)(rows * ds.d) * sizeof(float));
    int32_t *y = malloc((size_t)rows * 4);
    if (rc == HPS_OK && (!X || !y)) {
        errf(err, errlen, "%s: out of memory for a %lld-row chunk", path, (long long)rows);
        rc = HPS_ENOMEM;
    }
    for (int split = 0; split < 2 && rc == HPS_OK; split++)
        for (int64_t start = 0; start < ds.s[split].n && rc == HPS_OK; start += rows) {
            int64_t n = ds.s[split].n - start < rows ? ds.s[split].n - start : rows;
            rc = hps_ds_read(&ds, split, start, n, X, y, err, errlen);
        }
    free(X);
    free(y);
    if (rc == HPS_OK && info) {
        memset(info, 0, sizeof *info);
        info->n_train = ds.s[0].n;
        info->n_val = ds.s[1].n;
        info->features = ds.d;
        info->task = ds.task;
        info->classes = ds.task == HPS_TASK_CLASSIFY ? ds.classes : 0;
    }
    hps_ds_close(&ds);
    if (rc == HPS_OK) {
        char hex[65];
        rc = file_sha256(path, hex, err, errlen);
        if (rc == HPS_OK && info)
            memcpy(info->sha256, hex, sizeof hex);
    }
    return rc;
}
