/*
 * /trials rows packed ahead of a write (store.h, hps_store_pack): a coordinator
 * that finishes trials faster than it rewrites sweep.h5 holds them here, each
 * whole chunk of rows compressed and checksummed exactly as the file stores it,
 * instead of as hps_trial structs (some 20 bytes a row against 240). The
 * compression is HDF5's own: a chunk is written to a one-chunk table, made as
 * the writer makes /trials (hps_store_create_table), in a file that lives in
 * memory, and read back as stored (H5Dread_chunk); the rewrite hands it to the
 * new file as is (H5Dwrite_chunk), as it copies the chunks of the file it
 * replaces. The rows before the first chunk boundary share a chunk with rows
 * already in the file, and the last rows do not fill one yet: those stay packed
 * rows, written through H5Dwrite.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "store_h5.h"
#include "core/grow.h"
#include "hpsweep/error.h"

typedef struct packed_chunk {
    unsigned char *bytes;      /* as stored: shuffled, deflated, with its checksum */
    size_t size;
    uint32_t filters;          /* the filter mask H5Dread_chunk gave */
} packed_chunk;

struct hps_store_pack {
    const hps_space *space;
    int n_params;
    char **cols;
    size_t *off;
    hid_t type;                /* the /trials row type */
    size_t rowsize;
    int64_t chunk;             /* rows per chunk */
    int64_t first, n;          /* the rows [first, first + n) */
    int64_t head_cap, n_head;  /* rows [first, first + n_head) before the first chunk
                                  boundary (at most head_cap of them), packed in head */
    unsigned char *head;
    packed_chunk *chunks;      /* chunk k: the chunk's rows after the head */
    size_t n_chunks, cap_chunks, chunk_bytes;
    unsigned char *raw;        /* the rows after the chunks (at most a chunk) */
    int64_t n_raw;
    hid_t scratch, scratch_ds; /* the in-memory file and its one-chunk table */
    size_t scratch_bytes;      /* its size after the last chunk */
};

/* The in-memory file whose one-chunk table compresses a chunk of pk's rows. */
static int open_scratch(hps_store_pack *pk, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    char name[64];
    hid_t fapl = H5I_INVALID_HID;
    /* Two packs of one process need two names: HDF5 refuses to create a file of a
     * name it holds open. */
    snprintf(name, sizeof name, "hpsweep-pack-%p", (void *)pk);
    h5Check(e, fapl = hps_store_fapl());
    h5Check(e, H5Pset_fapl_core(fapl, (size_t)64 << 10, 0));
    /* No chunk cache: a write goes through the filters at once. */
    h5Check(e, H5Pset_cache(fapl, 0, 0, 0, 1.0));
    h5Check(e, pk->scratch = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    rc = hps_store_create_table(pk->scratch, "chunk", pk->type, pk->chunk, &pk->scratch_ds, e);
fail:
    hps_h5_close(fapl);
    return rc;
}

int hps_store_pack_open(hps_store_pack **out, const hps_space *space, int64_t first, char *err,
                        size_t errlen)
{
    hps_h5err e = {err, errlen};
    *out = NULL;
    if (first < 0) {
        hps_h5_errf(&e, "hps_store_pack_open: negative first row");
        return HPS_EINVAL;
    }
    int n = space ? space->n_params : 0;
    hps_store_pack *pk = calloc(1, sizeof *pk);
    if (!pk) {
        hps_h5_errf(&e, "out of memory");
        return HPS_ENOMEM;
    }
    pk->space = space;
    pk->n_params = n;
    pk->type = pk->scratch = pk->scratch_ds = H5I_INVALID_HID;
    pk->first = first;
    int rc = (pk->off = calloc((size_t)n + 1, sizeof *pk->off))
                 ? hps_store_param_columns(space, &pk->cols)
                 : HPS_ENOMEM;
    if (rc != HPS_OK) {
        hps_h5_errf(&e, "out of memory");
        goto fail;
    }
    if ((rc = hps_store_trials_type(space, pk->cols, &pk->type, &pk->rowsize, pk->off, &e)) !=
        HPS_OK)
        goto fail;
    pk->chunk = (int64_t)hps_store_chunk_rows(pk->rowsize);
    pk->head_cap = (pk->chunk - first % pk->chunk) % pk->chunk;
    pk->head = malloc(pk->rowsize * (size_t)(pk->head_cap + 1));
    pk->raw = malloc(pk->rowsize * (size_t)pk->chunk);
    if (!pk->head || !pk->raw) {
        hps_h5_errf(&e, "out of memory");
        rc = HPS_ENOMEM;
        goto fail;
    }
    if ((rc = open_scratch(pk, &e)) != HPS_OK)
        goto fail;
    *out = pk;
    return HPS_OK;
fail:
    hps_store_pack_free(pk);
    return rc;
}

/* Compress the full chunk of rows in raw into a stored chunk. */
static int compress_raw(hps_store_pack *pk, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    packed_chunk c = {0};
    hsize_t off[1] = {0}, size = 0;
    packed_chunk *chunks =
        hps_grow(pk->chunks, &pk->cap_chunks, pk->n_chunks + 1, sizeof *chunks, 64);
    if (!chunks) {
        hps_h5_errf(e, "out of memory");
        return HPS_ENOMEM;
    }
    pk->chunks = chunks;
    h5Check(e, H5Dwrite(pk->scratch_ds, pk->type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pk->raw));
    h5Check(e, H5Dget_chunk_storage_size(pk->scratch_ds, off, &size));
    if (size == 0 || !(c.bytes = malloc((size_t)size))) {
        hps_h5_errf(e, size == 0 ? "HDF5 stored no chunk" : "out of memory");
        return size == 0 ? HPS_EHDF5 : HPS_ENOMEM;
    }
    c.size = (size_t)size;
    h5Check(e, H5Dread_chunk(pk->scratch_ds, H5P_DEFAULT, off, &c.filters, c.bytes));
    pk->chunks[pk->n_chunks++] = c;
    pk->chunk_bytes += c.size;
    hsize_t scratch = 0;
    if (H5Fget_filesize(pk->scratch, &scratch) >= 0)
        pk->scratch_bytes = (size_t)scratch;
    pk->n_raw = 0;
    return HPS_OK;
fail:
    free(c.bytes);
    return rc;
}

int hps_store_pack_add(hps_store_pack *pk, const hps_trial *t, char *err, size_t errlen)
{
    hps_h5err e = {err, errlen};
    unsigned char *row;
    int head = pk->n_head < pk->head_cap;
    if (head) {
        row = pk->head + (size_t)pk->n_head * pk->rowsize;
    } else {
        if (pk->n_raw == pk->chunk) {
            int rc = compress_raw(pk, &e);
            if (rc != HPS_OK)
                return rc;
        }
        row = pk->raw + (size_t)pk->n_raw * pk->rowsize;
    }
    memset(row, 0, pk->rowsize);
    int rc = hps_store_pack_trial(row, t, pk->space, pk->off, pk->cols, &e);
    if (rc != HPS_OK)
        return rc;
    if (head)
        pk->n_head++;
    else
        pk->n_raw++;
    pk->n++;
    return HPS_OK;
}

void hps_store_pack_undo(hps_store_pack *pk)
{
    /* The last row added is in raw, or in head while no row follows the head. */
    if (pk->n_raw > 0)
        pk->n_raw--;
    else if (pk->n_head > 0)
        pk->n_head--;
    else
        return;
    pk->n--;
}

int64_t hps_store_pack_first(const hps_store_pack *pk)
{
    return pk->first;
}

int64_t hps_store_pack_rows(const hps_store_pack *pk)
{
    return pk->n;
}

size_t hps_store_pack_bytes(const hps_store_pack *pk)
{
    return sizeof *pk + pk->rowsize * (size_t)(pk->head_cap + 1 + pk->chunk) +
           pk->cap_chunks * sizeof *pk->chunks + pk->chunk_bytes + pk->scratch_bytes;
}

int hps_store_pack_write(hid_t ds, const hps_store_pack *pk, const hps_h5err *e)
{
    /* The chunks are stored chunks of the scratch table. */
    if (!hps_store_same_storage(ds, pk->scratch_ds)) {
        hps_h5_errf(e, "the packed /trials rows are not laid out as the table they go to");
        return HPS_EINVAL;
    }
    int rc = HPS_OK;
    if (pk->n_head > 0 &&
        (rc = hps_store_write_rows(ds, pk->type, pk->first, pk->n_head, pk->head, e)) != HPS_OK)
        return rc;
    int64_t row = pk->first + pk->n_head;
    for (size_t k = 0; k < pk->n_chunks; k++, row += pk->chunk) {
        hsize_t off[1] = {(hsize_t)row};
        const packed_chunk *c = &pk->chunks[k];
        h5Check(e, H5Dwrite_chunk(ds, H5P_DEFAULT, c->filters, off, c->size, c->bytes));
    }
    if (pk->n_raw > 0)
        rc = hps_store_write_rows(ds, pk->type, row, pk->n_raw, pk->raw, e);
    return rc;
fail:
    return HPS_EHDF5;
}

void hps_store_pack_free(hps_store_pack *pk)
{
    if (!pk)
        return;
    for (size_t k = 0; k < pk->n_chunks; k++)
        free(pk->chunks[k].bytes);
    free(pk->chunks);
    hps_h5_close(pk->scratch_ds);
    hps_h5_close(pk->scratch);
    hps_h5_close(pk->type);
    hps_store_columns_free(pk->cols, pk->n_params);
    free(pk->off);
    free(pk->head);
    free(pk->raw);
    free(pk);
}
