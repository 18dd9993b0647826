/*
 * /trials rows read as the file stores them, for streaming a large table
 * (hps_results_stream_trials in results_trials.c). store_read.c asks HDF5 for a
 * memory compound of the columns wanted, which costs a type conversion of every
 * row; here the rows are read with the file's own type (HDF5 copies them as they
 * come out of the filters) and each cell is decoded by its offset, size and sign.
 * Only the layouts store.c writes are taken (little-endian integers and enums of
 * 1, 2, 4 or 8 bytes, 8-byte floats, a fixed cause string of at most
 * HPS_CAUSE_LEN bytes, float parameters as doubles); anything else is
 * HPS_ENOSYS and the caller reads through the converting path, which gives the
 * same values. The dataset stays open across blocks. Reading rows (HDF5) and
 * decoding them (no HDF5) are apart, so that the rows of a chunk decompressed
 * by results_inflate.c are decoded by the same code. Declared in
 * results_internal.h.
 */
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "results_internal.h"
#include "store_h5.h"
#include "hpsweep/error.h"

/* How a cell is decoded. */
typedef enum raw_kind { RAW_SINT, RAW_UINT, RAW_F64, RAW_STR } raw_kind;

typedef struct raw_col {
    size_t off, size;
    raw_kind kind;
} raw_col;

/* The columns read_trials reads, in its order: 11 fixed ones, the parameters, then
 * exit_code and attempts (files that have them). */
enum { RAW_FIXED = 11 };

struct hps_raw_trials {
    hid_t ds, mtype, fspace;
    int np, modern;
    const hps_space *space;
    char **names; /* the parameter columns' names */
    size_t rowsize;
    raw_col cols[];
};

/* Whether the rows of the compound ftype can be read with ftype itself as the
 * memory type: no member that HDF5 would allocate (variable-length strings or
 * sequences) or translate (references). */
static int plain_rows(hid_t ftype)
{
    if (H5Tget_class(ftype) != H5T_COMPOUND || H5Tdetect_class(ftype, H5T_VLEN) != 0 ||
        H5Tdetect_class(ftype, H5T_REFERENCE) != 0)
        return 0;
    int n = H5Tget_nmembers(ftype), ok = n > 0;
    for (int i = 0; ok && i < n; i++) {
        hid_t mt = H5Tget_member_type(ftype, (unsigned)i);
        ok = mt >= 0 && H5Tis_variable_str(mt) == 0;
        hps_h5_close(mt);
    }
    return ok;
}

/* Column name of ftype as a raw_col (want: RAW_SINT/RAW_UINT for an integer,
 * RAW_F64, RAW_STR); 1 when it can be decoded here, 0 when not (or absent). */
static int raw_column(hid_t ftype, const char *name, raw_kind want, raw_col *c)
{
    int idx = H5Tget_member_index(ftype, name);
    if (idx < 0)
        return 0;
    hid_t mt = H5Tget_member_type(ftype, (unsigned)idx), base = H5I_INVALID_HID;
    if (mt < 0)
        return 0;
    H5T_class_t cls = H5Tget_class(mt);
    c->off = H5Tget_member_offset(ftype, (unsigned)idx);
    c->size = H5Tget_size(mt);
    int ok = 0;
    if (want == RAW_STR) {
        H5T_str_t pad = cls == H5T_STRING ? H5Tget_strpad(mt) : H5T_STR_ERROR;
        ok = cls == H5T_STRING && H5Tis_variable_str(mt) == 0 && c->size <= HPS_CAUSE_LEN &&
             (pad == H5T_STR_NULLPAD || pad == H5T_STR_NULLTERM);
        c->kind = RAW_STR;
    } else if (want == RAW_F64) {
        ok = cls == H5T_FLOAT && c->size == 8 && H5Tget_order(mt) == H5T_ORDER_LE &&
             H5Tequal(mt, H5T_IEEE_F64LE) > 0;
        c->kind = RAW_F64;
    } else if (cls == H5T_INTEGER || cls == H5T_ENUM) {
        base = cls == H5T_ENUM ? H5Tget_super(mt) : H5Tcopy(mt);
        ok = base >= 0 && H5Tget_order(base) == H5T_ORDER_LE &&
             (c->size == 1 || c->size == 2 || c->size == 4 || c->size == 8);
        H5T_sign_t sign = base >= 0 ? H5Tget_sign(base) : H5T_SGN_ERROR;
        ok = ok && sign != H5T_SGN_ERROR;
        c->kind = sign == H5T_SGN_2 ? RAW_SINT : RAW_UINT;
        /* where HDF5's conversion would clamp (an unsigned 8-byte value into an
         * int64, a signed one into the uint64 seed), it is left to HDF5 */
        if (ok && c->kind == RAW_UINT && c->size == 8 && want != RAW_UINT)
            ok = 0;
        if (ok && want == RAW_UINT && c->kind != RAW_UINT)
            ok = 0;
    }
    hps_h5_close(base);
    hps_h5_close(mt);
    return ok;
}

int hps_raw_trials_open(hid_t file, const hps_space *space, int modern, hps_raw_trials **out,
                        const hps_h5err *e)
{
    int np = space->n_params, ncols = RAW_FIXED + np + 2, rc = HPS_ENOSYS;
    char **names = NULL;
    hps_raw_trials *r = calloc(1, sizeof *r + (size_t)ncols * sizeof(raw_col));
    *out = NULL;
    if (!r)
        return HPS_ENOMEM;
    r->ds = r->mtype = r->fspace = H5I_INVALID_HID;
    r->np = np;
    r->modern = modern;
    r->space = space;
    static const raw_kind fixed[RAW_FIXED] = {RAW_SINT, RAW_SINT, RAW_UINT, RAW_SINT,
                                              RAW_SINT, RAW_F64,  RAW_SINT, RAW_F64,
                                              RAW_F64,  RAW_F64,  RAW_STR};
    if (hps_store_param_columns_n(space, modern ? hps_store_n_fixed_columns
                                                : hps_store_n_legacy_columns,
                                  &names) != HPS_OK)
        goto fail;
    if ((r->ds = H5Dopen2(file, "trials", H5P_DEFAULT)) < 0 ||
        (r->mtype = H5Dget_type(r->ds)) < 0 || (r->fspace = H5Dget_space(r->ds)) < 0 ||
        !plain_rows(r->mtype))
        goto fail;
    int ok = 1;
    for (int i = 0; ok && i < RAW_FIXED; i++)
        ok = raw_column(r->mtype, hps_store_fixed_columns[i], fixed[i], &r->cols[i]);
    for (int i = 0; ok && i < np; i++)
        ok = raw_column(r->mtype, names[i],
                        space->params[i].type == HPS_PARAM_FLOAT ? RAW_F64 : RAW_SINT,
                        &r->cols[RAW_FIXED + i]);
    if (ok && modern)
        ok = raw_column(r->mtype, "exit_code", RAW_SINT, &r->cols[RAW_FIXED + np]) &&
             raw_column(r->mtype, "attempts", RAW_SINT, &r->cols[RAW_FIXED + np + 1]);
    r->rowsize = H5Tget_size(r->mtype);
    if (!ok || r->rowsize == 0)
        goto fail;
    (void)e;
    r->names = names;
    *out = r;
    return HPS_OK;
fail:
    r->names = names;
    hps_raw_trials_close(r);
    return rc;
}

void hps_raw_trials_close(hps_raw_trials *r)
{
    if (!r)
        return;
    hps_h5_close(r->fspace);
    hps_h5_close(r->mtype);
    hps_h5_close(r->ds);
    hps_store_columns_free(r->names, r->np);
    free(r);
}

/* Cell c of the row at p as an int64 (an unsigned 8-byte one: its bits). */
static int64_t raw_i64(const unsigned char *p, const raw_col *c)
{
    p += c->off;
    int s = c->kind == RAW_SINT;
    switch (c->size) {
    case 1: {
        uint8_t u = p[0];
        return s ? (int64_t)(int8_t)u : (int64_t)u;
    }
    case 2: {
        uint16_t u;
        memcpy(&u, p, 2);
        return s ? (int64_t)(int16_t)u : (int64_t)u;
    }
    case 4: {
        uint32_t u;
        memcpy(&u, p, 4);
        return s ? (int64_t)(int32_t)u : (int64_t)u;
    }
    default: {
        int64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

static double raw_f64(const unsigned char *p, const raw_col *c)
{
    double v;
    memcpy(&v, p + c->off, 8);
    return v;
}

size_t hps_raw_trials_rowsize(const hps_raw_trials *r)
{
    return r->rowsize;
}

hid_t hps_raw_trials_dataset(const hps_raw_trials *r)
{
    return r->ds;
}

int hps_raw_trials_fetch(hps_raw_trials *r, int64_t first, int64_t n, unsigned char *buf,
                         const hps_h5err *e)
{
    int rc = HPS_ECORRUPT;
    hid_t mspace = H5I_INVALID_HID;
    hsize_t start[1] = {(hsize_t)first}, count[1] = {(hsize_t)n};
    h5Check(e, mspace = H5Screate_simple(1, count, NULL));
    h5Check(e, H5Sselect_hyperslab(r->fspace, H5S_SELECT_SET, start, NULL, count, NULL));
    h5Check(e, H5Dread(r->ds, r->mtype, mspace, r->fspace, H5P_DEFAULT, buf));
    rc = HPS_OK;
fail:
    hps_h5_close(mspace);
    return rc;
}

int hps_raw_trials_decode(const hps_raw_trials *r, const unsigned char *rows, int64_t first,
                          int64_t n, hps_trial *trials, double *values, const hps_h5err *e)
{
    const raw_col *c = r->cols;
    int np = r->np;
    for (int64_t k = 0; k < n; k++) {
        const unsigned char *row = rows + (size_t)k * r->rowsize;
        hps_trial *tr = &trials[k];
        *tr = (hps_trial){
            .trial_id = raw_i64(row, &c[0]),
            .status = (int32_t)raw_i64(row, &c[1]),
            .seed = (uint64_t)raw_i64(row, &c[2]),
            .bracket = (int32_t)raw_i64(row, &c[3]),
            .rung = (int32_t)raw_i64(row, &c[4]),
            .budget = raw_f64(row, &c[5]),
            .worker = (int32_t)raw_i64(row, &c[6]),
            .start = raw_f64(row, &c[7]),
            .end = raw_f64(row, &c[8]),
            .objective = raw_f64(row, &c[9]),
            .exit_code = r->modern ? (int32_t)raw_i64(row, &c[RAW_FIXED + np]) : -1,
            .attempts = r->modern ? (int32_t)raw_i64(row, &c[RAW_FIXED + np + 1]) : 0,
        };
        memcpy(tr->cause, row + c[10].off, c[10].size);
        tr->cause[HPS_CAUSE_LEN - 1] = '\0';
        if (np == 0)
            continue;
        tr->values = values + k * np;
        for (int i = 0; i < np; i++) {
            const raw_col *pc = &c[RAW_FIXED + i];
            const hps_param *p = &r->space->params[i];
            if (p->type == HPS_PARAM_FLOAT) {
                tr->values[i] = raw_f64(row, pc);
                continue;
            }
            int64_t x = raw_i64(row, pc);
            if (p->type == HPS_PARAM_CATEGORICAL && (x < 0 || x >= p->n_choices)) {
                hps_h5_errf(e, "/trials row %lld: %s is not a valid choice index",
                            (long long)(first + k), r->names[i]);
                return HPS_ECORRUPT;
            }
            tr->values[i] = p->type == HPS_PARAM_BOOL ? (x != 0) : (double)x;
        }
    }
    return HPS_OK;
}
