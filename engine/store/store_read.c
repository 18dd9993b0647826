/*
 * Column-by-name reading of sweep.h5's compound tables and its scalar attributes,
 * for results.c (see store_read.h).
 */
#include "store_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "store.h"

int hps_h5_open_read(const char *path, hid_t *file, const hps_h5err *e)
{
    *file = H5I_INVALID_HID;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int code = errno == ENOENT ? HPS_ENOENT : HPS_EIO;
        hps_h5_errf(e, "%s: %s", path, strerror(errno));
        return code;
    }
    close(fd);
    int rc = HPS_ECORRUPT;
    hid_t fapl = H5I_INVALID_HID;
    h5Check(e, fapl = H5Pcreate(H5P_FILE_ACCESS));
    h5Check(e, H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG));
#if H5_VERSION_GE(1, 10, 7) && !(H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 12 && H5_VERS_RELEASE == 0)
    /* Lock where the file system can, read anyway where it cannot (NFS, Lustre). */
    h5Check(e, H5Pset_file_locking(fapl, 1, 1));
#endif
    *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (*file < 0) {
        hps_h5_report(e, __FILE__, __LINE__, "H5Fopen");
        goto fail;
    }
    rc = HPS_OK;
fail:
    hps_h5_close(fapl);
    return rc;
}

int hps_store_read_provenance(const char *path, const char *key, char **value, char *err,
                              size_t errlen)
{
    hps_h5err e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    *value = NULL;
    hid_t file = H5I_INVALID_HID, g = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    int rc = hps_h5_open_read(path, &file, &e);
    if (rc != HPS_OK)
        return rc;
    rc = HPS_ENOENT;
    if (H5Lexists(file, "provenance", H5P_DEFAULT) <= 0 ||
        (g = H5Gopen2(file, "provenance", H5P_DEFAULT)) < 0 || H5Aexists(g, key) <= 0) {
        hps_h5_errf(&e, "%s: no /provenance attribute '%s'", path, key);
        goto fail;
    }
    rc = HPS_ECORRUPT;
    h5Check(&e, attr = H5Aopen(g, key, H5P_DEFAULT));
    char what[300];
    snprintf(what, sizeof what, "/provenance attribute '%s'", key);
    rc = hps_h5_read_string(attr, 1, what, value, &e);
fail:
    hps_h5_close(attr);
    hps_h5_close(g);
    hps_h5_close(file);
    return rc;
}

void hps_h5_table_free(h5table *t)
{
    if (t->has_vstr && t->buf && t->n > 0)
        hps_h5_reclaim(t->mtype, t->space, t->buf);
    free(t->buf);
    hps_h5_close(t->mtype);
    hps_h5_close(t->space);
    memset(t, 0, sizeof *t);
    t->mtype = t->space = H5I_INVALID_HID;
}

/* The memory type for column c whose file member is index idx of ftype; sets c->got. */
static hid_t col_memtype(hid_t ftype, unsigned idx, h5col *c)
{
    hid_t mt = H5I_INVALID_HID, t = H5I_INVALID_HID, fm = H5Tget_member_type(ftype, idx);
    if (fm < 0)
        return fm;
    c->got = c->want;
    if (H5Tget_class(fm) == H5T_ENUM && (c->want == COL_I64 || c->want == COL_U64)) {
        mt = H5Tget_native_type(fm, H5T_DIR_ASCEND);
        hid_t base = mt >= 0 ? H5Tget_super(mt) : H5I_INVALID_HID;
        c->size = mt >= 0 ? H5Tget_size(mt) : 0;
        c->is_signed = base >= 0 && H5Tget_sign(base) == H5T_SGN_2;
        hps_h5_close(base);
        c->got = COL_ENUM;
        if (c->size != 1 && c->size != 2 && c->size != 4 && c->size != 8) {
            hps_h5_close(mt);
            mt = H5I_INVALID_HID;
        }
    } else if (c->want == COL_VSTR) {
        if (H5Tis_variable_str(fm) > 0 && (t = hps_h5_vstr_type()) >= 0 &&
            H5Tset_cset(t, H5Tget_cset(fm)) >= 0) {
            mt = t;
            t = H5I_INVALID_HID;
        }
    } else if (c->want == COL_FSTR) {
        if (H5Tget_class(fm) == H5T_STRING && (t = H5Tcopy(H5T_C_S1)) >= 0 &&
            H5Tset_size(t, c->len) >= 0 &&
            H5Tset_strpad(t, H5T_STR_NULLPAD) >= 0 && H5Tset_cset(t, H5Tget_cset(fm)) >= 0) {
            mt = t;
            t = H5I_INVALID_HID;
        }
    } else {
        hid_t native = c->want == COL_I64   ? H5T_NATIVE_INT64
                       : c->want == COL_U64 ? H5T_NATIVE_UINT64
                                            : H5T_NATIVE_DOUBLE;
        mt = H5Tcopy(native);
    }
    hps_h5_close(t);
    hps_h5_close(fm);
    return mt;
}

int hps_h5_read_table(hid_t file, const char *name, h5col *cols, int ncols, h5table *t,
                      const hps_h5err *e)
{
    return hps_h5_read_rows(file, name, cols, ncols, 0, INT64_MAX, t, e);
}

int hps_h5_read_rows(hid_t file, const char *name, h5col *cols, int ncols, int64_t first,
                     int64_t max_rows, h5table *t, const hps_h5err *e)
{
    int rc = HPS_ECORRUPT;
    hid_t ds = H5I_INVALID_HID, ftype = H5I_INVALID_HID, fspace = H5I_INVALID_HID;
    hid_t *mts = calloc((size_t)ncols + 1, sizeof *mts);
    memset(t, 0, sizeof *t);
    t->mtype = t->space = H5I_INVALID_HID;
    if (!mts) {
        hps_h5_errf(e, "out of memory reading /%s", name);
        return HPS_ENOMEM;
    }
    for (int i = 0; i < ncols; i++)
        mts[i] = H5I_INVALID_HID;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
        hps_h5_errf(e, "not an hpsweep results file: no /%s", name);
        goto fail;
    }
    h5Check(e, ds = H5Dopen2(file, name, H5P_DEFAULT));
    h5Check(e, ftype = H5Dget_type(ds));
    if (H5Tget_class(ftype) != H5T_COMPOUND) {
        hps_h5_errf(e, "/%s is not a compound table", name);
        goto fail;
    }
    h5Check(e, fspace = H5Dget_space(ds));
    hsize_t dims[1] = {0};
    if (H5Sget_simple_extent_ndims(fspace) != 1) {
        hps_h5_errf(e, "/%s is not a 1-D table", name);
        goto fail;
    }
    h5Check(e, H5Sget_simple_extent_dims(fspace, dims, NULL));
    t->total = (int64_t)dims[0];
    first = first < 0 ? 0 : first > t->total ? t->total : first;
    t->n = t->total - first < max_rows ? t->total - first : max_rows;
    if (t->n < 0)
        t->n = 0;
    hsize_t start[1] = {(hsize_t)first}, count[1] = {(hsize_t)t->n};
    h5Check(e, t->space = H5Screate_simple(1, count, NULL));
    if (t->n > 0)
        h5Check(e, H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
    for (int i = 0; i < ncols; i++) {
        h5col *c = &cols[i];
        int idx = H5Tget_member_index(ftype, c->name);
        c->present = idx >= 0;
        if (!c->present) {
            if (c->optional)
                continue;
            hps_h5_errf(e, "/%s has no column '%s'", name, c->name);
            goto fail;
        }
        mts[i] = col_memtype(ftype, (unsigned)idx, c);
        if (mts[i] < 0) {
            hps_h5_errf(e, "/%s column '%s' has an unexpected type", name, c->name);
            goto fail;
        }
        c->off = t->rowsize;
        t->rowsize += (H5Tget_size(mts[i]) + 7) / 8 * 8;
        if (c->got == COL_VSTR)
            t->has_vstr = 1;
    }
    h5Check(e, t->mtype = H5Tcreate(H5T_COMPOUND, t->rowsize ? t->rowsize : 8));
    for (int i = 0; i < ncols; i++)
        if (cols[i].present)
            h5Check(e, H5Tinsert(t->mtype, cols[i].name, cols[i].off, mts[i]));
    t->buf = calloc((size_t)t->n + 1, t->rowsize ? t->rowsize : 8);
    if (!t->buf) {
        hps_h5_errf(e, "out of memory reading /%s (%lld rows)", name, (long long)t->n);
        rc = HPS_ENOMEM;
        goto fail;
    }
    if (t->n > 0)
        h5Check(e, H5Dread(ds, t->mtype, t->space, fspace, H5P_DEFAULT, t->buf));
    rc = HPS_OK;
fail:
    if (rc != HPS_OK) {
        t->has_vstr = 0; /* nothing was read, so nothing to reclaim */
        hps_h5_table_free(t);
    }
    for (int i = 0; i < ncols; i++)
        hps_h5_close(mts[i]);
    free(mts);
    hps_h5_close(fspace);
    hps_h5_close(ftype);
    hps_h5_close(ds);
    return rc;
}

int hps_h5_has_column(hid_t file, const char *name, const char *col, H5T_class_t cls, size_t size,
                      const hps_h5err *e)
{
    int rc = HPS_ECORRUPT;
    hid_t ds = H5I_INVALID_HID, ftype = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    h5Check(e, ds = H5Dopen2(file, name, H5P_DEFAULT));
    h5Check(e, ftype = H5Dget_type(ds));
    int idx = H5Tget_class(ftype) == H5T_COMPOUND ? H5Tget_member_index(ftype, col) : -1;
    if (idx >= 0)
        h5Check(e, mt = H5Tget_member_type(ftype, (unsigned)idx));
    rc = idx >= 0 && H5Tget_class(mt) == cls && H5Tget_size(mt) == size;
fail:
    hps_h5_close(mt);
    hps_h5_close(ftype);
    hps_h5_close(ds);
    return rc;
}

const unsigned char *hps_h5_cell(const h5table *t, const h5col *c, int64_t r)
{
    return t->buf + (size_t)r * t->rowsize + c->off;
}

int64_t hps_h5_get_i64(const h5table *t, const h5col *c, int64_t r)
{
    const unsigned char *p = hps_h5_cell(t, c, r);
    if (c->got == COL_ENUM) {
        switch (c->size) {
        case 1: {
            int8_t s;
            memcpy(&s, p, 1);
            return c->is_signed ? s : (int64_t)(uint8_t)s;
        }
        case 2: {
            int16_t s;
            memcpy(&s, p, 2);
            return c->is_signed ? s : (int64_t)(uint16_t)s;
        }
        case 4: {
            int32_t s;
            memcpy(&s, p, 4);
            return c->is_signed ? s : (int64_t)(uint32_t)s;
        }
        }
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

double hps_h5_get_f64(const h5table *t, const h5col *c, int64_t r)
{
    double v;
    memcpy(&v, hps_h5_cell(t, c, r), 8);
    return v;
}

const char *hps_h5_get_vstr(const h5table *t, const h5col *c, int64_t r)
{
    const char *s;
    memcpy(&s, hps_h5_cell(t, c, r), sizeof s);
    return s ? s : "";
}

int hps_h5_read_string(hid_t obj, int is_attr, const char *what, char **out, const hps_h5err *e)
{
    int rc = HPS_ECORRUPT;
    hid_t ftype = H5I_INVALID_HID, space = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    char *vstr = NULL;
    h5Check(e, ftype = is_attr ? H5Aget_type(obj) : H5Dget_type(obj));
    h5Check(e, space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj));
    if (H5Tget_class(ftype) != H5T_STRING || H5Sget_simple_extent_npoints(space) != 1) {
        hps_h5_errf(e, "%s is not a single string", what);
        goto fail;
    }
    htri_t is_var;
    h5Check(e, is_var = H5Tis_variable_str(ftype));
    h5Check(e, mt = H5Tcopy(H5T_C_S1));
    h5Check(e, H5Tset_cset(mt, H5Tget_cset(ftype)));
    if (is_var) {
        h5Check(e, H5Tset_size(mt, H5T_VARIABLE));
        h5Check(e, is_attr ? H5Aread(obj, mt, &vstr)
                           : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &vstr));
        *out = strdup(vstr ? vstr : "");
        hps_h5_reclaim(mt, space, &vstr);
    } else {
        size_t size = H5Tget_size(ftype);
        h5Check(e, H5Tset_size(mt, size));
        h5Check(e, H5Tset_strpad(mt, H5T_STR_NULLPAD));
        *out = calloc(size + 1, 1);
        if (*out)
            h5Check(e, is_attr ? H5Aread(obj, mt, *out)
                               : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out));
    }
    rc = *out ? HPS_OK : HPS_ENOMEM;
fail:
    hps_h5_close(mt);
    hps_h5_close(space);
    hps_h5_close(ftype);
    return rc;
}

/* Open root attribute name, failing with a message when the file has none. */
static int open_attr(hid_t file, const char *name, hid_t *attr, const hps_h5err *e)
{
    if (H5Aexists(file, name) <= 0) {
        hps_h5_errf(e, "not an hpsweep results file: no root attribute '%s'", name);
        return HPS_ECORRUPT;
    }
    *attr = H5Aopen(file, name, H5P_DEFAULT);
    if (*attr < 0) {
        hps_h5_report(e, __FILE__, __LINE__, "H5Aopen");
        return HPS_ECORRUPT;
    }
    return HPS_OK;
}

int hps_h5_read_str_attr(hid_t file, const char *name, char **out, const hps_h5err *e)
{
    hid_t attr = H5I_INVALID_HID;
    int rc = open_attr(file, name, &attr, e);
    if (rc == HPS_OK)
        rc = hps_h5_read_string(attr, 1, name, out, e);
    hps_h5_close(attr);
    return rc;
}

int hps_h5_read_num_attr(hid_t file, const char *name, hid_t memtype, void *out, const hps_h5err *e)
{
    hid_t attr = H5I_INVALID_HID, space = H5I_INVALID_HID, ftype = H5I_INVALID_HID;
    int rc = open_attr(file, name, &attr, e);
    if (rc != HPS_OK)
        return rc;
    rc = HPS_ECORRUPT;
    h5Check(e, space = H5Aget_space(attr));
    h5Check(e, ftype = H5Aget_type(attr));
    if (H5Tget_class(ftype) != H5T_INTEGER || H5Sget_simple_extent_npoints(space) != 1) {
        hps_h5_errf(e, "root attribute '%s' is not a single integer", name);
        goto fail;
    }
    h5Check(e, H5Aread(attr, memtype, out));
    rc = HPS_OK;
fail:
    hps_h5_close(ftype);
    hps_h5_close(space);
    hps_h5_close(attr);
    return rc;
}
