/*
 * What a rewrite of sweep.h5 takes from the file it replaces
 * (hps_store_write_carry): opening that file and checking it is this sweep's,
 * whole and long enough, and copying row ranges from its tables (whole chunks as
 * stored, the rest a block at a time); and the row-range reads and writes that
 * the tables of store_tables.c share.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "store.h"
#include "store_h5.h"
#include "store_read.h"
#include "hpsweep/error.h"

/* The row-range reads and writes (see store_h5.h). */
/* Rows [first, first + count) of the 1-D dataset ds, read into buf or written from
 * it. */
static int rows_io(hid_t ds, hid_t mtype, int64_t first, int64_t count, void *rbuf,
                   const void *wbuf, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    hsize_t start[1] = {(hsize_t)first}, dims[1] = {(hsize_t)count};
    if (count == 0)
        return HPS_OK;
    h5Check(e, fspace = H5Dget_space(ds));
    h5Check(e, H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, dims, NULL));
    h5Check(e, mspace = H5Screate_simple(1, dims, NULL));
    if (wbuf)
        h5Check(e, H5Dwrite(ds, mtype, mspace, fspace, H5P_DEFAULT, wbuf));
    else
        h5Check(e, H5Dread(ds, mtype, mspace, fspace, H5P_DEFAULT, rbuf));
    rc = HPS_OK;
fail:
    hps_h5_close(mspace);
    hps_h5_close(fspace);
    return rc;
}

int hps_store_write_rows(hid_t ds, hid_t mtype, int64_t first, int64_t count, const void *buf,
                         const hps_h5err *e)
{
    return rows_io(ds, mtype, first, count, NULL, buf, e);
}

int hps_store_read_rows(hid_t ds, hid_t mtype, int64_t first, int64_t count, void *buf,
                        const hps_h5err *e)
{
    return rows_io(ds, mtype, first, count, buf, NULL, e);
}

/* Rows copied from an earlier file per read and write where they cannot be copied
 * as stored chunks (about 2.5 MiB of metrics). */
#define COPY_BLOCK_ROWS 65536

/* Rows per chunk of dataset ds (0 when it cannot be told). */
static hsize_t ds_chunk_rows(hid_t ds)
{
    hsize_t chunk[1] = {0};
    hid_t dcpl = H5Dget_create_plist(ds);
    if (dcpl < 0 || H5Pget_chunk(dcpl, 1, chunk) != 1)
        chunk[0] = 0;
    hps_h5_close(dcpl);
    return chunk[0];
}

int hps_store_same_storage(hid_t ds, hid_t from)
{
    hid_t a = H5Dget_type(ds), b = H5Dget_type(from);
    int same = a >= 0 && b >= 0 && H5Tequal(a, b) > 0;
    hps_h5_close(a);
    hps_h5_close(b);
    hsize_t chunk = ds_chunk_rows(ds);
    return same && chunk > 0 && chunk == ds_chunk_rows(from);
}

/* Copy the whole chunks of rows [0, *count) from from to ds as they are stored
 * (compressed, with their checksums: nothing is decoded), when the two store rows
 * alike; *count becomes the first row not copied. */
static int copy_chunks(hid_t ds, hid_t from, int64_t *count, const hps_h5err *e)
{
    if (!hps_store_same_storage(ds, from))
        return HPS_OK;
    int rc = HPS_EHDF5;
    hsize_t chunk = ds_chunk_rows(ds);
    int64_t whole = *count / (int64_t)chunk * (int64_t)chunk;
    unsigned char *buf = NULL;
    size_t cap = 0;
    for (int64_t first = 0; first < whole; first += (int64_t)chunk) {
        hsize_t off[1] = {(hsize_t)first}, size = 0;
        uint32_t filters = 0;
        h5Check(e, H5Dget_chunk_storage_size(from, off, &size));
        if (size == 0)
            continue; /* never written: fill values in both */
        if (size > cap) {
            unsigned char *p = realloc(buf, (size_t)size);
            if (!p) {
                hps_h5_errf(e, "out of memory copying a chunk of an earlier file");
                rc = HPS_ENOMEM;
                goto fail;
            }
            buf = p;
            cap = (size_t)size;
        }
        h5Check(e, H5Dread_chunk(from, H5P_DEFAULT, off, &filters, buf));
        h5Check(e, H5Dwrite_chunk(ds, H5P_DEFAULT, filters, off, (size_t)size, buf));
    }
    *count = whole;
    rc = HPS_OK;
fail:
    free(buf);
    return rc;
}

/* Copy rows [0, count) of from (the same table of an earlier file) into ds: whole
 * chunks as stored, the rest a block at a time through the memory type mtype, so
 * the carried rows never all sit in memory. */
int hps_store_copy_rows(hid_t ds, hid_t from, hid_t mtype, int64_t count, const hps_h5err *e)
{
    int64_t done = count;
    int rc = copy_chunks(ds, from, &done, e);
    if (rc != HPS_OK || done == count)
        return rc;
    rc = HPS_EHDF5;
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    int64_t block = count - done < COPY_BLOCK_ROWS ? count - done : COPY_BLOCK_ROWS;
    size_t rowsize = H5Tget_size(mtype);
    unsigned char *buf = rowsize ? malloc(rowsize * (size_t)block) : NULL;
    if (!buf) {
        hps_h5_errf(e, "out of memory copying rows of an earlier file");
        return HPS_ENOMEM;
    }
    h5Check(e, fspace = H5Dget_space(from));
    for (int64_t first = done; first < count; first += block) {
        int64_t n = count - first < block ? count - first : block;
        hsize_t start[1] = {(hsize_t)first}, dims[1] = {(hsize_t)n};
        h5Check(e, H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, dims, NULL));
        h5Check(e, mspace = H5Screate_simple(1, dims, NULL));
        h5Check(e, H5Dread(from, mtype, mspace, fspace, H5P_DEFAULT, buf));
        hps_h5_close(mspace);
        mspace = H5I_INVALID_HID;
        if ((rc = hps_store_write_rows(ds, mtype, first, n, buf, e)) != HPS_OK)
            goto done;
    }
    rc = HPS_OK;
    goto done;
fail:
    rc = HPS_EHDF5;
done:
    hps_h5_close(mspace);
    hps_h5_close(fspace);
    free(buf);
    return rc;
}

/* A root string attribute of file equal to want (NULL taken as "")? 1, or 0 with e filled. */
static int same_attr(hid_t file, const char *name, const char *want, const hps_h5err *e)
{
    char *got = NULL;
    int same = hps_h5_read_str_attr(file, name, &got, e) == HPS_OK &&
               strcmp(got, want ? want : "") == 0;
    if (!same)
        hps_h5_errf(e, "its %s attribute is not this sweep's", name);
    free(got);
    return same;
}

/* Table name of f (an earlier file) has exactly the rows its `rows` attribute says
 * and at least want: HPS_OK with *ds open, else HPS_EDAMAGED with e filled. */
static int open_carried(hid_t f, const char *name, int64_t want, hid_t *ds, const hps_h5err *e)
{
    int rc = HPS_EDAMAGED;
    hid_t d = H5I_INVALID_HID, attr = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int64_t rows = -1;
    hsize_t dims[1] = {0};
    h5Check(e, d = H5Dopen2(f, name, H5P_DEFAULT));
    h5Check(e, attr = H5Aopen(d, "rows", H5P_DEFAULT));
    h5Check(e, H5Aread(attr, H5T_NATIVE_INT64, &rows));
    h5Check(e, space = H5Dget_space(d));
    h5Check(e, H5Sget_simple_extent_ndims(space) == 1 ? 0 : -1);
    h5Check(e, H5Sget_simple_extent_dims(space, dims, NULL));
    if (rows != (int64_t)dims[0] || rows < want) {
        hps_h5_errf(e, "its /%s has %lld rows (%lld written), %lld wanted", name,
                    (long long)dims[0], (long long)rows, (long long)want);
        goto fail;
    }
    *ds = d;
    d = H5I_INVALID_HID;
    rc = HPS_OK;
fail:
    hps_h5_close(space);
    hps_h5_close(attr);
    hps_h5_close(d);
    return rc;
}

/* See store_h5.h. */
int hps_store_open_carry(const char *path, const hps_store_meta *meta, const hps_store_carry *c,
                         hid_t *file, hid_t *trials, hid_t *metrics, hid_t *rungs,
                         hid_t *failures, const hps_h5err *e)
{
    int sealed = 0;
    int rc = hps_store_check_seal(path, &sealed, e);
    if (rc == HPS_ENOENT)
        return rc;
    if (rc == HPS_OK && !sealed)
        hps_h5_errf(e, "it has no seal");
    if (rc != HPS_OK || !sealed)
        return HPS_EDAMAGED;
    rc = HPS_EDAMAGED;
    hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID;
    hid_t t = H5I_INVALID_HID, m = H5I_INVALID_HID, r = H5I_INVALID_HID, x = H5I_INVALID_HID;
    int64_t want_failures = c->failure_rows + c->n_failures;
    h5Check(e, fapl = hps_store_fapl());
    h5Check(e, f = H5Fopen(path, H5F_ACC_RDONLY, fapl));
    if (!same_attr(f, "name", meta->name, e) || !same_attr(f, "created", meta->created, e) ||
        (c->trials > 0 && open_carried(f, "trials", c->trials, &t, e) != HPS_OK) ||
        (c->metrics > 0 && open_carried(f, "metrics", c->metrics, &m, e) != HPS_OK) ||
        (c->rungs > 0 && open_carried(f, "rungs", c->rungs, &r, e) != HPS_OK) ||
        (want_failures > 0 && open_carried(f, "failures", want_failures, &x, e) != HPS_OK))
        goto fail;
    *file = f;
    *trials = t;
    *metrics = m;
    *rungs = r;
    *failures = x;
    f = t = m = r = x = H5I_INVALID_HID;
    rc = HPS_OK;
fail:
    hps_h5_close(x);
    hps_h5_close(r);
    hps_h5_close(m);
    hps_h5_close(t);
    hps_h5_close(f);
    hps_h5_close(fapl);
    return rc;
}

