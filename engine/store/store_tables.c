/*
 * The four extendible tables of sweep.h5, /trials, /failures, /rungs and /metrics:
 * chunked datasets with unlimited rows. /rungs is packed into one buffer in its
 * file layout and written with a single H5Dwrite, /metrics written from the
 * caller's array, each after the rows carried over from an earlier file when the
 * caller no longer holds those (whole chunks copied as stored, the rest in
 * blocks); /trials is packed and written
 * in blocks of whole chunks, and /failures, whose rows carry a 2 KiB string, in
 * blocks too, so that neither needs a second copy of a million-trial table in
 * memory. /trials has the fixed columns, then one per parameter (named by
 * hps_store_param_columns) typed by the parameter: double, int64, an int32 enum
 * of the choices or the int8 FALSE/TRUE enum.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "store_h5.h"
#include "core/clock.h"
#include "core/strset.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"

/* Rows per chunk, fewer for wide rows so that a chunk stays near 1 MiB. */
#define STORE_CHUNK_ROWS 1024
#define STORE_CHUNK_BYTES (1 << 20)
/*
 * gzip level (0: off). Level 1 with shuffle halves write speed but makes the file
 * about 4x smaller (100k random trials: 0.25 s, 5 MB vs 0.12 s, 20 MB).
 */
#define STORE_DEFLATE_LEVEL 1

/* Byte offsets of the fixed /trials columns in a packed row. */
enum {
    OFF_TRIAL_ID = 0,
    OFF_STATUS = OFF_TRIAL_ID + 8,
    OFF_SEED = OFF_STATUS + 1,
    OFF_BRACKET = OFF_SEED + 8,
    OFF_RUNG = OFF_BRACKET + 4,
    OFF_BUDGET = OFF_RUNG + 4,
    OFF_WORKER = OFF_BUDGET + 8,
    OFF_START = OFF_WORKER + 4,
    OFF_END = OFF_START + 8,
    OFF_OBJECTIVE = OFF_END + 8,
    OFF_CAUSE = OFF_OBJECTIVE + 8,
    OFF_EXIT_CODE = OFF_CAUSE + HPS_CAUSE_LEN,
    OFF_ATTEMPTS = OFF_EXIT_CODE + 4,
    OFF_PARAMS = OFF_ATTEMPTS + 4
};

/* A /failures row as written: packed, the string last. */
enum {
    FOFF_TRIAL_ID = 0,
    FOFF_EXIT_CODE = FOFF_TRIAL_ID + 8,
    FOFF_ATTEMPTS = FOFF_EXIT_CODE + 4,
    FOFF_TAIL = FOFF_ATTEMPTS + 4,
    FAIL_ROWSIZE = FOFF_TAIL + HPS_STDERR_TAIL_LEN
};

/* A /rungs row as written: packed, in column order. */
enum {
    ROFF_TRIAL_ID = 0,
    ROFF_BRACKET = ROFF_TRIAL_ID + 8,
    ROFF_RUNG = ROFF_BRACKET + 4,
    ROFF_BUDGET = ROFF_RUNG + 4,
    ROFF_STATUS = ROFF_BUDGET + 8,
    ROFF_OBJECTIVE = ROFF_STATUS + 1,
    ROFF_START = ROFF_OBJECTIVE + 8,
    ROFF_END = ROFF_START + 8,
    ROFF_WORKER = ROFF_END + 8,
    RUNG_ROWSIZE = ROFF_WORKER + 4
};

/* /failures rows packed per H5Dwrite (about 8 MiB). */
#define FAIL_BLOCK_ROWS 4096

/* /trials chunks packed per H5Dwrite: whole chunks, so none is written twice. */
#define TRIAL_BLOCK_CHUNKS 8

hsize_t hps_store_chunk_rows(size_t rowsize)
{
    hsize_t chunk = rowsize ? STORE_CHUNK_BYTES / rowsize : STORE_CHUNK_ROWS;
    if (chunk > STORE_CHUNK_ROWS)
        chunk = STORE_CHUNK_ROWS;
    if (chunk < 16)
        chunk = 16;
    return chunk;
}

int hps_store_create_table(hid_t file, const char *name, hid_t ftype, int64_t n, hid_t *out,
                           const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t dspace = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    hsize_t chunk = hps_store_chunk_rows(H5Tget_size(ftype));
    hsize_t dims[1] = {(hsize_t)n}, maxdims[1] = {H5S_UNLIMITED}, chunks[1] = {chunk};
    h5Check(e, dspace = H5Screate_simple(1, dims, maxdims));
    h5Check(e, dcpl = H5Pcreate(H5P_DATASET_CREATE));
    h5Check(e, H5Pset_chunk(dcpl, 1, chunks));
    if (STORE_DEFLATE_LEVEL > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        h5Check(e, H5Pset_shuffle(dcpl));
        h5Check(e, H5Pset_deflate(dcpl, STORE_DEFLATE_LEVEL));
    }
    /* A checksum per chunk, which every HDF5 reader verifies. */
    h5Check(e, H5Pset_fletcher32(dcpl));
    h5Check(e, ds = H5Dcreate2(file, name, ftype, dspace, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    h5Check(e, hps_h5_write_rows_attr(ds, n));
    *out = ds;
    ds = H5I_INVALID_HID;
    rc = HPS_OK;
fail:
    hps_h5_close(ds);
    hps_h5_close(dcpl);
    hps_h5_close(dspace);
    return rc;
}

/* Create the table name of type ftype with carried + n rows: rows [0, carried)
 * copied from from (see copy_rows), then buf's n rows (laid out as mtype). */
static int write_carried(hid_t file, const char *name, hid_t ftype, hid_t mtype, hid_t from,
                         int64_t carried, int64_t n, const void *buf, double *row_seconds,
                         const hps_h5err *e)
{
    hid_t ds = H5I_INVALID_HID;
    int rc = hps_store_create_table(file, name, ftype, carried + n, &ds, e);
    if (rc == HPS_OK && carried > 0)
        rc = hps_store_copy_rows(ds, from, mtype, carried, e);
    double t0 = hps_monotonic();
    if (rc == HPS_OK)
        rc = hps_store_write_rows(ds, mtype, carried, n, buf, e);
    if (row_seconds)
        *row_seconds += hps_monotonic() - t0;
    hps_h5_close(ds);
    return rc;
}

/*
 * The enum of categorical p: member k is named after choice k's text, with an
 * empty text named "<empty>" and a name already taken suffixed "~1", "~2", ...,
 * because HDF5 enum names must be non-empty and unique. Values are choice indices.
 */
static hid_t choice_enum(const hps_param *p)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_INT32);
    if (t < 0)
        return t;
    char **names = calloc((size_t)p->n_choices + 1, sizeof *names);
    hps_strset taken = {0};
    hid_t result = names ? t : H5I_INVALID_HID;
    for (int k = 0; k < p->n_choices && result >= 0; k++) {
        const char *text =
            p->choices[k].text && p->choices[k].text[0] ? p->choices[k].text : "<empty>";
        size_t len = strlen(text) + 16;
        if (!(names[k] = malloc(len))) {
            result = H5I_INVALID_HID;
            break;
        }
        snprintf(names[k], len, "%s", text);
        int added;
        for (int suffix = 1;
             (added = hps_strset_add(&taken, names[k], strlen(names[k]), (size_t)k, NULL)) == 0;
             suffix++)
            snprintf(names[k], len, "%s~%d", text, suffix);
        int32_t v = k;
        if (added < 0 || H5Tenum_insert(t, names[k], &v) < 0)
            result = H5I_INVALID_HID;
    }
    hps_strset_free(&taken);
    for (int k = 0; names && k < p->n_choices; k++)
        free(names[k]);
    free(names);
    if (result < 0)
        H5Tclose(t);
    return result;
}

/* Put parameter value v of p into the column at dst; HPS_EINVAL if it does not fit. */
static int put_value(unsigned char *dst, const hps_param *p, double v)
{
    switch (p->type) {
    case HPS_PARAM_FLOAT:
        memcpy(dst, &v, 8);
        return HPS_OK;
    case HPS_PARAM_INT: {
        if (!(v >= -9.2e18 && v <= 9.2e18))
            return HPS_EINVAL;
        int64_t x = (int64_t)llround(v);
        memcpy(dst, &x, 8);
        return HPS_OK;
    }
    case HPS_PARAM_CATEGORICAL: {
        if (!(v >= 0 && v < p->n_choices) || v != floor(v))
            return HPS_EINVAL;
        int32_t x = (int32_t)v;
        memcpy(dst, &x, 4);
        return HPS_OK;
    }
    case HPS_PARAM_BOOL: {
        if (v != 0 && v != 1)
            return HPS_EINVAL;
        int8_t x = (int8_t)v;
        memcpy(dst, &x, 1);
        return HPS_OK;
    }
    }
    return HPS_EINVAL;
}

static size_t param_size(const hps_param *p)
{
    switch (p->type) {
    case HPS_PARAM_CATEGORICAL:
        return 4;
    case HPS_PARAM_BOOL:
        return 1;
    default:
        return 8;
    }
}

int hps_store_trials_type(const hps_space *space, char **cols, hid_t *out, size_t *rowsize,
                          size_t *off, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    int n = space ? space->n_params : 0;
    hid_t t = H5I_INVALID_HID, status = H5I_INVALID_HID, cause = H5I_INVALID_HID;
    hid_t pt = H5I_INVALID_HID;
    size_t size = OFF_PARAMS;
    for (int i = 0; i < n; i++) {
        if (space->params[i].type < HPS_PARAM_FLOAT || space->params[i].type > HPS_PARAM_BOOL) {
            hps_h5_errf(e, "parameter %s has unknown type %d", cols[i], (int)space->params[i].type);
            return HPS_EINVAL;
        }
        off[i] = size;
        size += param_size(&space->params[i]);
    }
    h5Check(e, status = hps_h5_status_type());
    h5Check(e, cause = H5Tcopy(H5T_C_S1));
    h5Check(e, H5Tset_size(cause, HPS_CAUSE_LEN));
    h5Check(e, H5Tset_strpad(cause, H5T_STR_NULLPAD));
    h5Check(e, H5Tset_cset(cause, H5T_CSET_UTF8));
    h5Check(e, t = H5Tcreate(H5T_COMPOUND, size));
    h5Check(e, H5Tinsert(t, "trial_id", OFF_TRIAL_ID, H5T_NATIVE_INT64));
    h5Check(e, H5Tinsert(t, "status", OFF_STATUS, status));
    h5Check(e, H5Tinsert(t, "seed", OFF_SEED, H5T_NATIVE_UINT64));
    h5Check(e, H5Tinsert(t, "bracket", OFF_BRACKET, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(t, "rung", OFF_RUNG, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(t, "budget", OFF_BUDGET, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(t, "worker", OFF_WORKER, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(t, "start", OFF_START, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(t, "end", OFF_END, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(t, "objective", OFF_OBJECTIVE, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(t, "cause", OFF_CAUSE, cause));
    h5Check(e, H5Tinsert(t, "exit_code", OFF_EXIT_CODE, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(t, "attempts", OFF_ATTEMPTS, H5T_NATIVE_INT32));
    for (int i = 0; i < n; i++) {
        const hps_param *p = &space->params[i];
        switch (p->type) {
        case HPS_PARAM_FLOAT:
            h5Check(e, H5Tinsert(t, cols[i], off[i], H5T_NATIVE_DOUBLE));
            break;
        case HPS_PARAM_INT:
            h5Check(e, H5Tinsert(t, cols[i], off[i], H5T_NATIVE_INT64));
            break;
        case HPS_PARAM_CATEGORICAL:
            h5Check(e, pt = choice_enum(p));
            h5Check(e, H5Tinsert(t, cols[i], off[i], pt));
            break;
        case HPS_PARAM_BOOL:
            h5Check(e, pt = hps_h5_bool_type());
            h5Check(e, H5Tinsert(t, cols[i], off[i], pt));
            break;
        }
        hps_h5_close(pt);
        pt = H5I_INVALID_HID;
    }
    *out = t;
    t = H5I_INVALID_HID;
    *rowsize = size;
    rc = HPS_OK;
fail:
    hps_h5_close(pt);
    hps_h5_close(t);
    hps_h5_close(cause);
    hps_h5_close(status);
    return rc;
}

int hps_store_pack_trial(unsigned char *row, const hps_trial *t, const hps_space *space,
                         const size_t *off, char *const *cols, const hps_h5err *e)
{
    int n = space ? space->n_params : 0;
    if (t->status < HPS_TRIAL_RUNNING || t->status > HPS_TRIAL_PRUNED || (n > 0 && !t->values)) {
        hps_h5_errf(e, "trial %lld: invalid status %d or no values", (long long)t->trial_id,
                    (int)t->status);
        return HPS_EINVAL;
    }
    if (t->attempts < 0) {
        hps_h5_errf(e, "trial %lld: attempts %d is negative", (long long)t->trial_id,
                    (int)t->attempts);
        return HPS_EINVAL;
    }
    int8_t status = (int8_t)t->status;
    memcpy(row + OFF_TRIAL_ID, &t->trial_id, 8);
    memcpy(row + OFF_STATUS, &status, 1);
    memcpy(row + OFF_SEED, &t->seed, 8);
    memcpy(row + OFF_BRACKET, &t->bracket, 4);
    memcpy(row + OFF_RUNG, &t->rung, 4);
    memcpy(row + OFF_BUDGET, &t->budget, 8);
    memcpy(row + OFF_WORKER, &t->worker, 4);
    memcpy(row + OFF_START, &t->start, 8);
    memcpy(row + OFF_END, &t->end, 8);
    memcpy(row + OFF_OBJECTIVE, &t->objective, 8);
    memcpy(row + OFF_CAUSE, t->cause, strnlen(t->cause, HPS_CAUSE_LEN));
    memcpy(row + OFF_EXIT_CODE, &t->exit_code, 4);
    memcpy(row + OFF_ATTEMPTS, &t->attempts, 4);
    for (int i = 0; i < n; i++) {
        if (put_value(row + off[i], &space->params[i], t->values[i]) != HPS_OK) {
            hps_h5_errf(e, "trial %lld: value %g is not a valid %s", (long long)t->trial_id,
                        t->values[i], cols[i]);
            return HPS_EINVAL;
        }
    }
    return HPS_OK;
}

int hps_store_write_trials(hid_t file, const hps_space *space, hid_t from, int64_t carried,
                           const hps_store_pack *packed, const hps_trial *trials,
                           int64_t n_trials, double *row_seconds, const hps_h5err *e)
{
    int n = space ? space->n_params : 0;
    char **cols = NULL;
    size_t *off = calloc((size_t)n + 1, sizeof *off);
    unsigned char *buf = NULL;
    hid_t type = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    size_t rowsize = 0;
    int64_t n_packed = packed ? hps_store_pack_rows(packed) : 0;
    int rc = off ? hps_store_param_columns(space, &cols) : HPS_ENOMEM;
    if (rc != HPS_OK) {
        hps_h5_errf(e, "out of memory writing /trials");
        goto done;
    }
    rc = hps_store_trials_type(space, cols, &type, &rowsize, off, e);
    if (rc != HPS_OK)
        goto done;
    /* Packed and written a block of whole chunks at a time: a million trials do not
     * need a second copy of the table in memory. */
    int64_t block = (int64_t)hps_store_chunk_rows(rowsize) * TRIAL_BLOCK_CHUNKS;
    if (block > n_trials)
        block = n_trials;
    buf = calloc((size_t)block + 1, rowsize);
    if (!buf) {
        hps_h5_errf(e, "out of memory writing /trials (%lld rows)", (long long)n_trials);
        rc = HPS_ENOMEM;
        goto done;
    }
    rc = hps_store_create_table(file, "trials", type, carried + n_packed + n_trials, &ds, e);
    if (rc != HPS_OK)
        goto done;
    if (carried > 0 && (rc = hps_store_copy_rows(ds, from, type, carried, e)) != HPS_OK)
        goto done;
    double t0 = hps_monotonic();
    if (n_packed > 0 && (rc = hps_store_pack_write(ds, packed, e)) != HPS_OK)
        goto done;
    int64_t base = carried + n_packed;
    for (int64_t r = 0; r < n_trials; r++) {
        if (r % block == 0)
            memset(buf, 0, (size_t)block * rowsize);
        rc = hps_store_pack_trial(buf + (size_t)(r % block) * rowsize, &trials[r], space, off,
                                  cols, e);
        if (rc != HPS_OK)
            goto done;
        if ((r + 1) % block == 0 || r + 1 == n_trials) {
            int64_t first = r / block * block;
            if ((rc = hps_store_write_rows(ds, type, base + first, r + 1 - first, buf, e)) !=
                HPS_OK)
                goto done;
        }
    }
    if (row_seconds)
        *row_seconds += hps_monotonic() - t0;
done:
    hps_h5_close(ds);
    hps_h5_close(type);
    free(buf);
    free(off);
    hps_store_columns_free(cols, n);
    return rc;
}

/*
 * Bytes of tail to store: at most HPS_STDERR_TAIL_LEN - 1, so the string keeps its
 * terminator; a longer tail is cut there, moved back to the start of a UTF-8
 * character so that the column stays valid UTF-8.
 */
static size_t tail_length(const char *tail)
{
    size_t len = strnlen(tail, HPS_STDERR_TAIL_LEN);
    if (len < HPS_STDERR_TAIL_LEN)
        return len;
    len = HPS_STDERR_TAIL_LEN - 1;
    for (size_t k = 0; k < 3 && len > 0 && ((unsigned char)tail[len] & 0xC0) == 0x80; k++)
        len--;
    return len;
}

static int has_tail(const hps_trial *t)
{
    return t->stderr_tail && t->stderr_tail[0] != '\0';
}

/* An earlier file's /failures, read in trial order a block at a time, for the
 * rows of trials whose tail the caller let go of. */
typedef struct fail_cursor {
    hid_t from, type;
    int64_t total;           /* rows of from */
    int64_t first, n;        /* buf holds rows [first, first + n) */
    int64_t at;              /* the next row to look at */
    unsigned char *buf;
} fail_cursor;

/* Copy the earlier file's row of trial id into row (ids asked in increasing
 * order): HPS_OK, HPS_EDAMAGED when the file has no such row, or an HDF5 error. */
static int cursor_find(fail_cursor *c, int64_t id, unsigned char *row, const hps_h5err *e)
{
    for (;;) {
        if (c->at >= c->first + c->n) {
            if (c->at >= c->total) {
                hps_h5_errf(e, "the earlier file has no /failures row of trial %lld",
                            (long long)id);
                return HPS_EDAMAGED;
            }
            c->first = c->at;
            c->n = c->total - c->at < FAIL_BLOCK_ROWS ? c->total - c->at : FAIL_BLOCK_ROWS;
            int rc = hps_store_read_rows(c->from, c->type, c->first, c->n, c->buf, e);
            if (rc != HPS_OK)
                return rc;
        }
        const unsigned char *r = c->buf + (size_t)(c->at - c->first) * FAIL_ROWSIZE;
        int64_t got;
        memcpy(&got, r + FOFF_TRIAL_ID, 8);
        c->at++;
        if (got == id) {
            memcpy(row, r, FAIL_ROWSIZE);
            return HPS_OK;
        }
        if (got > id) {
            hps_h5_errf(e, "the earlier file has no /failures row of trial %lld",
                        (long long)id);
            return HPS_EDAMAGED;
        }
    }
}

/* Where trial t's /failures row comes from: 1 its tail, 2 the earlier file (its id
 * is the next of ids[*k..n_ids), which is then passed), 0 nowhere. */
static int failure_source(const hps_trial *t, const int64_t *ids, int64_t n_ids, int64_t *k)
{
    if (*k < n_ids && ids[*k] == t->trial_id) {
        ++*k;
        return 2;
    }
    return has_tail(t) ? 1 : 0;
}

int hps_store_write_failures(hid_t file, const hps_trial *trials, int64_t n, hid_t from,
                             int64_t carried, const int64_t *ids, int64_t n_ids,
                             const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t tail = H5I_INVALID_HID, type = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    unsigned char *buf = NULL;
    fail_cursor cur = {.from = from, .type = H5I_INVALID_HID, .first = carried, .at = carried};
    int64_t rows = carried, k = 0;
    for (int64_t r = 0; r < n; r++) {
        int src = failure_source(&trials[r], ids, n_ids, &k);
        if (src == 2 && has_tail(&trials[r])) {
            hps_h5_errf(e, "trial %lld has a stderr tail and one to carry",
                        (long long)trials[r].trial_id);
            return HPS_EINVAL;
        }
        rows += src != 0;
    }
    if (k != n_ids) {
        hps_h5_errf(e, "/failures rows to carry of trials not in the table, or out of order");
        return HPS_EINVAL;
    }
    h5Check(e, tail = hps_h5_tail_type());
    h5Check(e, type = H5Tcreate(H5T_COMPOUND, FAIL_ROWSIZE));
    h5Check(e, H5Tinsert(type, "trial_id", FOFF_TRIAL_ID, H5T_NATIVE_INT64));
    h5Check(e, H5Tinsert(type, "exit_code", FOFF_EXIT_CODE, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(type, "attempts", FOFF_ATTEMPTS, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(type, "stderr_tail", FOFF_TAIL, tail));
    rc = hps_store_create_table(file, "failures", type, rows, &ds, e);
    if (rc == HPS_OK && carried > 0)
        rc = hps_store_copy_rows(ds, from, type, carried, e);
    if (rc != HPS_OK || rows == carried)
        goto fail;
    int64_t block = rows < FAIL_BLOCK_ROWS ? rows : FAIL_BLOCK_ROWS;
    if (n_ids > 0) {
        rc = HPS_EHDF5;
        hid_t space = H5Dget_space(from);
        hssize_t total = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
        hps_h5_close(space);
        h5Check(e, total);
        cur.total = (int64_t)total;
        cur.type = type;
        if (!(cur.buf = malloc((size_t)FAIL_BLOCK_ROWS * FAIL_ROWSIZE))) {
            hps_h5_errf(e, "out of memory writing /failures");
            rc = HPS_ENOMEM;
            goto fail;
        }
        rc = HPS_OK;
    }
    if (!(buf = malloc((size_t)block * FAIL_ROWSIZE))) {
        hps_h5_errf(e, "out of memory writing /failures");
        rc = HPS_ENOMEM;
        goto fail;
    }
    int64_t written = carried, filled = 0;
    k = 0;
    for (int64_t r = 0; rc == HPS_OK && r < n; r++) {
        const hps_trial *t = &trials[r];
        int src = failure_source(t, ids, n_ids, &k);
        if (src == 0)
            continue;
        unsigned char *row = buf + (size_t)filled * FAIL_ROWSIZE;
        if (src == 2) {
            if ((rc = cursor_find(&cur, t->trial_id, row, e)) != HPS_OK)
                break;
        } else {
            size_t len = tail_length(t->stderr_tail);
            memcpy(row + FOFF_TRIAL_ID, &t->trial_id, 8);
            memcpy(row + FOFF_EXIT_CODE, &t->exit_code, 4);
            memcpy(row + FOFF_ATTEMPTS, &t->attempts, 4);
            memcpy(row + FOFF_TAIL, t->stderr_tail, len);
            memset(row + FOFF_TAIL + len, 0, HPS_STDERR_TAIL_LEN - len);
        }
        if (++filled == block || written + filled == rows) {
            rc = hps_store_write_rows(ds, type, written, filled, buf, e);
            written += filled;
            filled = 0;
        }
    }
fail:
    free(cur.buf);
    free(buf);
    hps_h5_close(ds);
    hps_h5_close(type);
    hps_h5_close(tail);
    return rc;
}

int hps_store_write_rungs(hid_t file, hid_t from, int64_t carried, const hps_rung *rungs,
                          int64_t n, double *row_seconds, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t status = H5I_INVALID_HID, type = H5I_INVALID_HID;
    unsigned char *buf = NULL;
    for (int64_t r = 0; r < n; r++) {
        if (rungs[r].status < HPS_TRIAL_RUNNING || rungs[r].status > HPS_TRIAL_PRUNED) {
            hps_h5_errf(e, "trial %lld rung %d: invalid status %d", (long long)rungs[r].trial_id,
                        (int)rungs[r].rung, (int)rungs[r].status);
            return HPS_EINVAL;
        }
    }
    if (!(buf = calloc((size_t)n + 1, RUNG_ROWSIZE))) {
        hps_h5_errf(e, "out of memory writing /rungs (%lld rows)", (long long)n);
        return HPS_ENOMEM;
    }
    for (int64_t r = 0; r < n; r++) {
        const hps_rung *g = &rungs[r];
        unsigned char *row = buf + (size_t)r * RUNG_ROWSIZE;
        int8_t st = (int8_t)g->status;
        memcpy(row + ROFF_TRIAL_ID, &g->trial_id, 8);
        memcpy(row + ROFF_BRACKET, &g->bracket, 4);
        memcpy(row + ROFF_RUNG, &g->rung, 4);
        memcpy(row + ROFF_BUDGET, &g->budget, 8);
        memcpy(row + ROFF_STATUS, &st, 1);
        memcpy(row + ROFF_OBJECTIVE, &g->objective, 8);
        memcpy(row + ROFF_START, &g->start, 8);
        memcpy(row + ROFF_END, &g->end, 8);
        memcpy(row + ROFF_WORKER, &g->worker, 4);
    }
    h5Check(e, status = hps_h5_status_type());
    h5Check(e, type = H5Tcreate(H5T_COMPOUND, RUNG_ROWSIZE));
    h5Check(e, H5Tinsert(type, "trial_id", ROFF_TRIAL_ID, H5T_NATIVE_INT64));
    h5Check(e, H5Tinsert(type, "bracket", ROFF_BRACKET, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(type, "rung", ROFF_RUNG, H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(type, "budget", ROFF_BUDGET, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(type, "status", ROFF_STATUS, status));
    h5Check(e, H5Tinsert(type, "objective", ROFF_OBJECTIVE, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(type, "start", ROFF_START, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(type, "end", ROFF_END, H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(type, "worker", ROFF_WORKER, H5T_NATIVE_INT32));
    rc = write_carried(file, "rungs", type, type, from, carried, n, buf, row_seconds, e);
fail:
    free(buf);
    hps_h5_close(type);
    hps_h5_close(status);
    return rc;
}

int hps_store_write_metrics(hid_t file, hid_t from, int64_t carried, const hps_metric *metrics,
                            int64_t n, double *row_seconds, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t mtype = H5I_INVALID_HID, ftype = H5I_INVALID_HID;
    h5Check(e, mtype = H5Tcreate(H5T_COMPOUND, sizeof(hps_metric)));
    h5Check(e, H5Tinsert(mtype, "trial_id", HOFFSET(hps_metric, trial_id), H5T_NATIVE_INT64));
    h5Check(e, H5Tinsert(mtype, "step", HOFFSET(hps_metric, step), H5T_NATIVE_INT64));
    h5Check(e, H5Tinsert(mtype, "resource", HOFFSET(hps_metric, resource), H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(mtype, "name_index", HOFFSET(hps_metric, name_index), H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(mtype, "value", HOFFSET(hps_metric, value), H5T_NATIVE_DOUBLE));
    h5Check(e, ftype = H5Tcopy(mtype));
    h5Check(e, H5Tpack(ftype));
    rc = write_carried(file, "metrics", ftype, mtype, from, carried, n, metrics, row_seconds, e);
fail:
    hps_h5_close(ftype);
    hps_h5_close(mtype);
    return rc;
}
