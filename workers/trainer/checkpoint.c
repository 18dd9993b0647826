/*
 * Checkpoint files of checkpoint.h: write (temp + fsync + rename) and read with
 * the version, shape and checksum checks.
 */
#include "checkpoint.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "hpsweep/error.h"
#include "digest.h"
#include "h5util.h"

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

/* The numeric header attributes, in checksum order. */
typedef struct field {
    const char *name;
    size_t offset;
    int must_match;
} field;

#define F(name, match) {#name, offsetof(hps_ckpt, name), match}
static const field fields[] = {
    F(seed, 1),         F(features, 1),   F(outputs, 1),   F(task, 1),
    F(hidden_layers, 1), F(hidden_units, 1), F(activation, 1), F(optimizer, 1),
    F(n_params, 1),     F(epoch, 0),      F(step, 0),      F(n_metrics, 0),
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

int hps_ckpt_n_moments(int64_t optimizer)
{
    return optimizer == HPS_OPT_SGD ? 1 : 2;
}

static uint64_t field_bits(const hps_ckpt *ck, int i)
{
    uint64_t v;
    memcpy(&v, (const char *)ck + fields[i].offset, sizeof v);
    return v;
}

static int digest(const hps_ckpt *ck, const float *w, const float *m1, const float *m2,
                  char hex[65])
{
    hps_sha256 sha;
    if (hps_sha256_init(&sha) != 0)
        return -1;
    unsigned char le[8];
    int rc = 0;
    for (int i = 0; i < N_FIELDS + (int)ck->n_metrics; i++) {
        uint64_t v;
        if (i < N_FIELDS) {
            v = field_bits(ck, i);
        } else {
            memcpy(&v, &ck->metrics[i - N_FIELDS], sizeof v);
        }
        for (int k = 0; k < 8; k++)
            le[k] = (unsigned char)(v >> (8 * k));
        rc |= hps_sha256_update(&sha, le, sizeof le);
    }
    size_t bytes = (size_t)ck->n_params * sizeof(float);
    rc |= hps_sha256_update(&sha, w, bytes);
    rc |= hps_sha256_update(&sha, m1, bytes);
    if (hps_ckpt_n_moments(ck->optimizer) > 1)
        rc |= hps_sha256_update(&sha, m2, bytes);
    unsigned char d[32];
    if (rc != 0 || hps_sha256_final(&sha, d) != 0) {
        hps_sha256_abort(&sha);
        return -1;
    }
    hps_sha256_hex(d, hex);
    return 0;
}

static int write_array(hid_t loc, const char *name, hid_t mem_type, hid_t file_type,
                       const void *data, int64_t n)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = space >= 0 ? H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT,
                                       H5P_DEFAULT)
                          : H5I_INVALID_HID;
    int rc = ds >= 0 && (n == 0 || H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0)
                 ? 0
                 : -1;
    hps_tr_h5_close(ds);
    hps_tr_h5_close(space);
    return rc;
}

int hps_ckpt_write(const char *path, const hps_ckpt *ck, const float *w, const float *m1,
                   const float *m2, const char *metric_names, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errf(err, errlen, "%s: path too long", path);
        return HPS_EIO;
    }
    char hex[65];
    if (digest(ck, w, m1, m2, hex) != 0) {
        errf(err, errlen, "%s: SHA-256 failed (out of memory?)", path);
        return HPS_ENOMEM;
    }
    hps_tr_h5_quiet();
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t opt = H5I_INVALID_HID;
    const char *what = "create";
    int version = HPS_CKPT_VERSION;
    if (file < 0)
        goto fail;
    what = "attributes";
    if (hps_tr_attr_write_str(file, "format", HPS_CKPT_FORMAT) < 0 ||
        hps_tr_attr_write(file, "format_version", H5T_NATIVE_INT, &version) < 0 ||
        hps_tr_attr_write_str(file, "metric_names", metric_names ? metric_names : "") < 0 ||
        hps_tr_attr_write_str(file, "sha256", hex) < 0)
        goto fail;
    for (int i = 0; i < N_FIELDS; i++) {
        hid_t type = i == 0 ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
        if (hps_tr_attr_write(file, fields[i].name, type, (const char *)ck + fields[i].offset) < 0)
            goto fail;
    }
    what = "arrays";
    if (write_array(file, "weights", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, w, ck->n_params) < 0 ||
        write_array(file, "metrics", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, ck->metrics,
                    ck->n_metrics) < 0)
        goto fail;
    if ((opt = H5Gcreate2(file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        write_array(opt, "m1", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, m1, ck->n_params) < 0)
        goto fail;
    if (hps_ckpt_n_moments(ck->optimizer) > 1 &&
        write_array(opt, "m2", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, m2, ck->n_params) < 0)
        goto fail;
    hps_tr_h5_close(opt);
    opt = H5I_INVALID_HID;
    what = "close";
    herr_t closed = H5Fclose(file);
    file = H5I_INVALID_HID;
    if (closed < 0)
        goto fail;
    if (hps_tr_commit_file(tmp, path, err, errlen) != 0)
        return HPS_EIO;
    return HPS_OK;
fail: {
    char msg[128];
    hps_tr_h5_last(msg, sizeof msg);
    errf(err, errlen, "%s: writing the checkpoint failed (%s): %s", path, what,
         msg[0] ? msg : strerror(errno));
    hps_tr_h5_close(opt);
    hps_tr_h5_close(file);
    unlink(tmp);
    return HPS_EIO;
}
}

static int read_array(hid_t loc, const char *name, hid_t mem_type, void *data, int64_t n)
{
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    hid_t space = H5Dget_space(ds);
    int rc = -1;
    if (space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
        H5Sget_simple_extent_npoints(space) == n &&
        (n == 0 || H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0))
        rc = 0;
    hps_tr_h5_close(space);
    hps_tr_h5_close(ds);
    return rc;
}

/* A field's value for a message: the name of an enum where it has one. */
static void field_text(const hps_ckpt *ck, int i, char *buf, size_t len)
{
    static const char *const act[] = {"relu", "tanh", "gelu"};
    static const char *const opt[] = {"sgd", "adam", "adamw"};
    static const char *const task[] = {"classification", "regression"};
    int64_t v = (int64_t)field_bits(ck, i);
    const char *name = NULL;
    if (fields[i].offset == offsetof(hps_ckpt, activation) && v >= 0 && v < 3)
        name = act[v];
    else if (fields[i].offset == offsetof(hps_ckpt, optimizer) && v >= 0 && v < 3)
        name = opt[v];
    else if (fields[i].offset == offsetof(hps_ckpt, task) && v >= 0 && v < 2)
        name = task[v];
    if (name)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%lld", (long long)v);
}

int hps_ckpt_read(const char *path, const hps_ckpt *expect, hps_ckpt *got, float *w,
                  float *m1, float *m2, char *err, size_t errlen)
{
    memset(got, 0, sizeof *got);
    if (access(path, F_OK) != 0) {
        errf(err, errlen, "%s: no checkpoint (%s)", path, strerror(errno));
        return errno == ENOENT ? HPS_ENOENT : HPS_EIO;
    }
    hps_tr_h5_quiet();
    if (H5Fis_hdf5(path) <= 0) {
        errf(err, errlen, "%s: corrupt checkpoint: not an HDF5 file", path);
        return HPS_ECORRUPT;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char msg[160];
    if (file < 0) {
        hps_tr_h5_last(msg, sizeof msg);
        errf(err, errlen, "%s: corrupt checkpoint: cannot open (%s)", path, msg);
        return HPS_ECORRUPT;
    }
    int rc = HPS_ECORRUPT;
    char format[64] = "", stored[80] = "";
    int version = 0;
    if (hps_tr_attr_read_str(file, "format", format, sizeof format) < 0 ||
        strcmp(format, HPS_CKPT_FORMAT) != 0) {
        errf(err, errlen, "%s: corrupt checkpoint: no '%s' format attribute", path,
             HPS_CKPT_FORMAT);
        goto done;
    }
    if (hps_tr_attr_read(file, "format_version", H5T_NATIVE_INT, &version) < 0) {
        errf(err, errlen, "%s: corrupt checkpoint: unreadable format_version", path);
        goto done;
    }
    if (version != HPS_CKPT_VERSION) {
        errf(err, errlen, "%s: checkpoint format version %d, this build reads %d", path, version,
             HPS_CKPT_VERSION);
        rc = HPS_EVERSION;
        goto done;
    }
    for (int i = 0; i < N_FIELDS; i++) {
        hid_t type = i == 0 ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
        if (hps_tr_attr_read(file, fields[i].name, type, (char *)got + fields[i].offset) < 0) {
            errf(err, errlen, "%s: corrupt checkpoint: attribute '%s' unreadable", path,
                 fields[i].name);
            goto done;
        }
    }
    for (int i = 0; i < N_FIELDS; i++) {
        if (!fields[i].must_match || field_bits(got, i) == field_bits(expect, i))
            continue;
        if (i == 0)
            errf(err, errlen, "%s: checkpoint seed %llu differs from the trial's %llu", path,
                 (unsigned long long)got->seed, (unsigned long long)expect->seed);
        else {
            char was[32], now[32];
            field_text(got, i, was, sizeof was);
            field_text(expect, i, now, sizeof now);
            errf(err, errlen, "%s: %s is %s in the checkpoint, %s in the trial", path,
                 fields[i].name, was, now);
        }
        rc = HPS_EMISMATCH;
        goto done;
    }
    if (got->n_metrics < 0 || got->n_metrics > HPS_TRAIN_MAX_METRICS || got->epoch < 0 ||
        got->step < 0) {
        errf(err, errlen, "%s: corrupt checkpoint: epoch/step/n_metrics out of range", path);
        goto done;
    }
    if (hps_tr_attr_read_str(file, "sha256", stored, sizeof stored) < 0) {
        errf(err, errlen, "%s: corrupt checkpoint: no sha256 attribute", path);
        goto done;
    }
    const char *piece = "weights";
    if (read_array(file, "weights", H5T_NATIVE_FLOAT, w, got->n_params) < 0)
        goto bad_piece;
    piece = "metrics";
    if (read_array(file, "metrics", H5T_NATIVE_DOUBLE, got->metrics, got->n_metrics) < 0)
        goto bad_piece;
    piece = "optimizer/m1";
    if (read_array(file, "optimizer/m1", H5T_NATIVE_FLOAT, m1, got->n_params) < 0)
        goto bad_piece;
    piece = "optimizer/m2";
    if (hps_ckpt_n_moments(got->optimizer) > 1 &&
        read_array(file, "optimizer/m2", H5T_NATIVE_FLOAT, m2, got->n_params) < 0)
        goto bad_piece;
    char hex[65];
    if (digest(got, w, m1, m2, hex) != 0) {
        errf(err, errlen, "%s: SHA-256 failed (out of memory?)", path);
        rc = HPS_ENOMEM;
        goto done;
    }
    if (strcmp(hex, stored) != 0) {
        errf(err, errlen, "%s: corrupt checkpoint: checksum mismatch (stored %.12s..., "
             "computed %.12s...)", path, stored, hex);
        goto done;
    }
    rc = HPS_OK;
    goto done;
bad_piece:
    hps_tr_h5_last(msg, sizeof msg);
    errf(err, errlen, "%s: corrupt checkpoint: /%s missing, of the wrong size or unreadable%s%s",
         path, piece, msg[0] ? ": " : "", msg);
done:
    hps_tr_h5_close(file);
    return rc;
}
