/*
 * /trials' chunks read as stored and decoded here, for streaming a large table
 * (results_stream.c): H5Dread_chunk hands over a chunk's bytes as the filters
 * left them, and this file undoes those filters itself (the Fletcher-32
 * checksum checked, zlib's inflate, the shuffle transposed back), so HDF5, which
 * this build serialises, is held only for the raw read while several threads
 * decode. Only the pipeline store_tables.c writes is taken (shuffle over the
 * row size, deflate, Fletcher-32, in that order) and only a chunk whose filter
 * mask says all three were applied: anything else is HPS_ENOSYS and the caller
 * reads those rows through H5Dread, which gives the same bytes. A chunk that
 * does not decode (checksum, inflate error, wrong size) is HPS_ECORRUPT, named
 * by its rows. Declared in results_internal.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <zlib.h>

#include "results_internal.h"
#include "store_h5.h"
#include "hpsweep/error.h"

struct hps_chunks {
    hid_t ds; /* borrowed: the caller's /trials */
    size_t rowsize, chunk_bytes;
    int64_t chunk_rows, total;
};

struct hps_chunk_scratch {
    z_stream z;
    int z_ready;
    unsigned char *stored;   /* the chunk as H5Dread_chunk gave it */
    size_t stored_cap, stored_len;
    unsigned char *shuffled; /* inflated: still shuffled */
    unsigned char *rows;     /* unshuffled: rows as the file lays them out */
    int64_t decoded;         /* the chunk rows holds, -1: none */
};

/* Filters of store_tables.c's create_table, in the order it sets them. */
static const H5Z_filter_t our_pipeline[3] = {H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE,
                                             H5Z_FILTER_FLETCHER32};

/* Whether dcpl is chunked along one dimension (its rows per chunk in *rows) with
 * exactly our pipeline, the shuffle over rowsize-byte elements. */
static int our_layout(hid_t dcpl, size_t rowsize, hsize_t *rows)
{
    if (H5Pget_layout(dcpl) != H5D_CHUNKED || H5Pget_chunk(dcpl, 1, rows) != 1 || *rows == 0)
        return 0;
    if (H5Pget_nfilters(dcpl) != 3)
        return 0;
    for (unsigned i = 0; i < 3; i++) {
        unsigned flags = 0, config = 0, cd[8] = {0};
        size_t n_cd = sizeof cd / sizeof cd[0];
        char name[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, i, &flags, &n_cd, cd, sizeof name, name, &config);
        if (id != our_pipeline[i])
            return 0;
        if (id == H5Z_FILTER_SHUFFLE && (n_cd < 1 || cd[0] != rowsize))
            return 0;
    }
    return 1;
}

int hps_chunks_open(hid_t ds, size_t rowsize, int64_t total, hps_chunks **out,
                    const hps_h5err *e)
{
    *out = NULL;
    hsize_t rows = 0;
    hid_t dcpl = H5Dget_create_plist(ds);
    int ours = dcpl >= 0 && rowsize > 0 && our_layout(dcpl, rowsize, &rows);
    hps_h5_close(dcpl);
    /* a chunk must inflate into one call's buffer (zlib counts in uInt) */
    if (!ours || rows > (hsize_t)(UINT32_MAX / rowsize))
        return HPS_ENOSYS;
    hps_chunks *c = malloc(sizeof *c);
    if (!c) {
        hps_h5_errf(e, "out of memory reading /trials");
        return HPS_ENOMEM;
    }
    *c = (hps_chunks){.ds = ds, .rowsize = rowsize, .chunk_bytes = (size_t)rows * rowsize,
                      .chunk_rows = (int64_t)rows, .total = total};
    *out = c;
    return HPS_OK;
}

int64_t hps_chunks_rows(const hps_chunks *c)
{
    return c->chunk_rows;
}

void hps_chunks_close(hps_chunks *c)
{
    free(c);
}

int hps_chunk_scratch_init(const hps_chunks *c, hps_chunk_scratch **out)
{
    hps_chunk_scratch *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return HPS_ENOMEM;
    s->decoded = -1;
    s->shuffled = malloc(c->chunk_bytes);
    s->rows = malloc(c->chunk_bytes);
    s->z_ready = s->shuffled && s->rows && inflateInit(&s->z) == Z_OK;
    /* zlib's Adler-32 of each chunk's inflated bytes (9% of the export's CPU) is
     * not computed: the stored bytes it would vouch for are checked already,
     * by the chunk's Fletcher-32 here and by the file's CRC-32C seal before
     * HDF5 opened it; inflate still refuses a malformed stream */
    if (s->z_ready && inflateValidate(&s->z, 0) != Z_OK) {
        hps_chunk_scratch_free(s);
        return HPS_ENOMEM;
    }
    if (!s->z_ready) {
        hps_chunk_scratch_free(s);
        return HPS_ENOMEM;
    }
    *out = s;
    return HPS_OK;
}

void hps_chunk_scratch_free(hps_chunk_scratch *s)
{
    if (!s)
        return;
    if (s->z_ready)
        (void)inflateEnd(&s->z); /* Z_STREAM_ERROR only for a stream never set up */
    free(s->stored);
    free(s->shuffled);
    free(s->rows);
    free(s);
}

/* "/trials chunk K (rows a-b): " */
static void chunk_errf(const hps_chunks *c, int64_t k, const hps_h5err *e, const char *what)
{
    int64_t first = k * c->chunk_rows, last = first + c->chunk_rows;
    if (last > c->total)
        last = c->total;
    hps_h5_errf(e, "/trials chunk %lld (rows %lld-%lld): %s", (long long)k, (long long)first,
                (long long)last - 1, what);
}

int hps_chunk_fetch(const hps_chunks *c, int64_t k, hps_chunk_scratch *s, const hps_h5err *e)
{
    hsize_t off[1] = {(hsize_t)(k * c->chunk_rows)}, size = 0;
    uint32_t mask = 0;
    if (s->decoded == k) /* small blocks: the rows of a chunk are asked for again */
        return HPS_OK;
    h5Check(e, H5Dget_chunk_storage_size(c->ds, off, &size));
    /* not written (HDF5 gives fill values): left to H5Dread */
    if (size == 0)
        return HPS_ENOSYS;
    if (size > UINT32_MAX) {
        chunk_errf(c, k, e, "stored in more than 4 GiB");
        return HPS_ECORRUPT;
    }
    if (size > s->stored_cap) {
        unsigned char *grown = realloc(s->stored, (size_t)size);
        if (!grown) {
            hps_h5_errf(e, "out of memory reading /trials");
            return HPS_ENOMEM;
        }
        s->stored = grown;
        s->stored_cap = (size_t)size;
    }
    h5Check(e, H5Dread_chunk(c->ds, H5P_DEFAULT, off, &mask, s->stored));
    s->stored_len = (size_t)size;
    /* a filter skipped for this chunk (an optional one that failed): HDF5 knows */
    return mask == 0 ? HPS_OK : HPS_ENOSYS;
fail:
    return HPS_ECORRUPT;
}

uint32_t hps_fletcher32(const void *data, size_t len)
{
    /* HDF5's H5_checksum_fletcher32: big-endian 16-bit words, sums from 0, folded
     * every 360 words (the most that cannot overflow) */
    const unsigned char *p = data;
    uint32_t a = 0, b = 0;
    for (size_t words = len / 2; words > 0;) {
        size_t run = words > 360 ? 360 : words;
        words -= run;
        for (size_t i = 0; i < run; i++, p += 2) {
            a += (uint32_t)p[0] << 8 | p[1];
            b += a;
        }
        a = (a & 0xffff) + (a >> 16);
        b = (b & 0xffff) + (b >> 16);
    }
    if (len % 2) {
        a += (uint32_t)p[0] << 8;
        b += a;
        a = (a & 0xffff) + (a >> 16);
        b = (b & 0xffff) + (b >> 16);
    }
    a = (a & 0xffff) + (a >> 16);
    b = (b & 0xffff) + (b >> 16);
    return b << 16 | a;
}

/* Whether the checksum stored after len bytes of p matches them. HDF5 stores it
 * little-endian and also takes the value with the bytes of each half swapped in
 * memory (files of HDF5 1.6.2 and before), so this does too. */
static int fletcher_ok(const unsigned char *p, size_t len)
{
    const unsigned char *t = p + len;
    uint32_t stored = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
                      (uint32_t)t[3] << 24;
    uint32_t sum = hps_fletcher32(p, len), swapped;
    unsigned char m[4], x;
    memcpy(m, &sum, 4);
    x = m[0], m[0] = m[1], m[1] = x;
    x = m[2], m[2] = m[3], m[3] = x;
    memcpy(&swapped, m, 4);
    return stored == sum || stored == swapped;
}

/* Transpose the 8 x 8 bytes of r in place: byte c of r[i] and byte i of r[c]
 * trade places (little-endian: byte c is bits 8c..8c+7). Blocks of 4 x 4, then
 * 2 x 2, then single bytes swap across the diagonal. */
static void transpose8(uint64_t r[8])
{
    for (int i = 0; i < 4; i++) {
        uint64_t t = ((r[i] >> 32) ^ r[i + 4]) & 0x00000000ffffffffull;
        r[i] ^= t << 32;
        r[i + 4] ^= t;
    }
    static const int pairs2[4] = {0, 1, 4, 5};
    for (int j = 0; j < 4; j++) {
        int i = pairs2[j];
        uint64_t t = ((r[i] >> 16) ^ r[i + 2]) & 0x0000ffff0000ffffull;
        r[i] ^= t << 16;
        r[i + 2] ^= t;
    }
    for (int i = 0; i < 8; i += 2) {
        uint64_t t = ((r[i] >> 8) ^ r[i + 1]) & 0x00ff00ff00ff00ffull;
        r[i] ^= t << 8;
        r[i + 1] ^= t;
    }
}

static int little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void hps_unshuffle(const unsigned char *in, unsigned char *out, size_t elem, size_t nbytes)
{
    size_t n = elem ? nbytes / elem : 0, done_n = 0, done_b = 0;
    /* HDF5 leaves a buffer of one element, or of 1-byte elements, as it is */
    if (elem <= 1 || n <= 1) {
        memmove(out, in, nbytes);
        return;
    }
    /* in holds byte b of element i at b * n + i; out at i * elem + b. Tiles of
     * 8 elements x 8 bytes are transposed in registers, 8 elements' rows (8 *
     * elem bytes of out) at a time; the edges byte by byte. */
    if (little_endian()) {
        done_n = n / 8 * 8;
        done_b = elem / 8 * 8;
        for (size_t i = 0; i < done_n; i += 8) {
            for (size_t b = 0; b < done_b; b += 8) {
                uint64_t r[8];
                for (int k = 0; k < 8; k++)
                    memcpy(&r[k], in + (b + (size_t)k) * n + i, 8);
                transpose8(r);
                for (int k = 0; k < 8; k++)
                    memcpy(out + (i + (size_t)k) * elem + b, &r[k], 8);
            }
        }
    }
    for (size_t b = done_b; b < elem; b++) /* the last elem % 8 bytes of every element */
        for (size_t i = 0; i < done_n; i++)
            out[i * elem + b] = in[b * n + i];
    for (size_t b = 0; b < elem; b++) /* the last n % 8 elements */
        for (size_t i = done_n; i < n; i++)
            out[i * elem + b] = in[b * n + i];
    memcpy(out + n * elem, in + n * elem, nbytes - n * elem); /* a part element: as is */
}

int hps_chunk_decode(const hps_chunks *c, int64_t k, hps_chunk_scratch *s,
                     const unsigned char **rows, const hps_h5err *e)
{
    char why[128];
    *rows = NULL;
    if (s->decoded == k) {
        *rows = s->rows;
        return HPS_OK;
    }
    s->decoded = -1;
    if (s->stored_len < 4 + 2) {
        chunk_errf(c, k, e, "too short to hold a checksum and a deflate stream");
        return HPS_ECORRUPT;
    }
    size_t len = s->stored_len - 4;
    if (!fletcher_ok(s->stored, len)) {
        chunk_errf(c, k, e, "its Fletcher-32 checksum does not match");
        return HPS_ECORRUPT;
    }
    if (inflateReset(&s->z) != Z_OK) {
        chunk_errf(c, k, e, "zlib's inflateReset failed");
        return HPS_ECORRUPT;
    }
    s->z.next_in = s->stored;
    s->z.avail_in = (uInt)len;
    s->z.next_out = s->shuffled;
    s->z.avail_out = (uInt)c->chunk_bytes;
    int zrc = inflate(&s->z, Z_FINISH);
    if (zrc == Z_STREAM_END && s->z.total_out == c->chunk_bytes) {
        hps_unshuffle(s->shuffled, s->rows, c->rowsize, c->chunk_bytes);
        s->decoded = k;
        *rows = s->rows;
        return HPS_OK;
    }
    if (zrc == Z_STREAM_END)
        snprintf(why, sizeof why, "inflates to %lu bytes, not %zu", s->z.total_out,
                 c->chunk_bytes);
    else if (zrc == Z_BUF_ERROR && s->z.avail_out == 0)
        snprintf(why, sizeof why, "inflates to more than %zu bytes", c->chunk_bytes);
    else if (zrc == Z_BUF_ERROR)
        snprintf(why, sizeof why, "its deflate stream ends early (%lu bytes inflated)",
                 s->z.total_out);
    else
        snprintf(why, sizeof why, "inflate: %s", s->z.msg ? s->z.msg : zError(zrc));
    chunk_errf(c, k, e, why);
    return HPS_ECORRUPT;
}
