/*
 * /trials' chunks read as stored and decoded here, for streaming a large table
 * (results_stream.c): H5Dread_chunk hands over a chunk's bytes as the filters
 * left them, and this file undoes those filters itself (the Fletcher-32
 * checksum checked, inflated with libdeflate, the shuffle transposed back), so HDF5, which
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
#include <libdeflate.h>
#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "results_internal.h"
#include "store_h5.h"
#include "hpsweep/error.h"

struct hps_chunks {
    hid_t ds; /* borrowed: the caller's /trials */
    size_t rowsize, chunk_bytes;
    int64_t chunk_rows, total;
};

struct hps_chunk_scratch {
    struct libdeflate_decompressor *d;
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
    /* a chunk must inflate into one call's buffer (zlib, which says why one does
     * not, counts in uInt) */
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
    s->d = s->shuffled && s->rows ? libdeflate_alloc_decompressor() : NULL;
    if (!s->d) {
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
    if (s->d)
        libdeflate_free_decompressor(s->d);
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

#if defined(__SSE2__)
/* The 16 x 16 bytes at in (16 byte planes, n apart, of 16 elements) to out (16
 * elements, elem apart): four rounds of unpacking pairs of registers, each
 * doubling the run of one element's bytes (1, 2, 4, 8, then 16). */
static void tile16(const unsigned char *in, size_t n, unsigned char *out, size_t elem)
{
    __m128i a[16], b[16];
    for (int k = 0; k < 16; k++)
        a[k] = _mm_loadu_si128((const __m128i *)(const void *)(in + (size_t)k * n));
    for (int k = 0; k < 16; k += 2) { /* planes k, k + 1: elements 0-7, 8-15 */
        b[k] = _mm_unpacklo_epi8(a[k], a[k + 1]);
        b[k + 1] = _mm_unpackhi_epi8(a[k], a[k + 1]);
    }
    for (int g = 0; g < 16; g += 4) { /* a[g + m]: elements 4m..4m+3, planes g..g+3 */
        a[g] = _mm_unpacklo_epi16(b[g], b[g + 2]);
        a[g + 1] = _mm_unpackhi_epi16(b[g], b[g + 2]);
        a[g + 2] = _mm_unpacklo_epi16(b[g + 1], b[g + 3]);
        a[g + 3] = _mm_unpackhi_epi16(b[g + 1], b[g + 3]);
    }
    for (int h = 0; h < 16; h += 8) { /* b[h + p]: elements 2p, 2p+1, planes h..h+7 */
        for (int m = 0; m < 4; m++) {
            b[h + 2 * m] = _mm_unpacklo_epi32(a[h + m], a[h + 4 + m]);
            b[h + 2 * m + 1] = _mm_unpackhi_epi32(a[h + m], a[h + 4 + m]);
        }
    }
    for (int p = 0; p < 8; p++) { /* element 2p and 2p + 1, every plane */
        _mm_storeu_si128((__m128i *)(void *)(out + (size_t)(2 * p) * elem),
                         _mm_unpacklo_epi64(b[p], b[8 + p]));
        _mm_storeu_si128((__m128i *)(void *)(out + (size_t)(2 * p + 1) * elem),
                         _mm_unpackhi_epi64(b[p], b[8 + p]));
    }
}
#endif

/* Elements [i0, i1) x bytes [b0, b1) of the unshuffle: 8 x 8 tiles where they
 * fit (little-endian hosts), the edges byte by byte. */
static void unshuffle_rect(const unsigned char *in, size_t n, unsigned char *out, size_t elem,
                           size_t i0, size_t i1, size_t b0, size_t b1)
{
    size_t i8 = i0, b8 = b0;
    if (little_endian()) {
        i8 = i0 + (i1 - i0) / 8 * 8;
        b8 = b0 + (b1 - b0) / 8 * 8;
    }
    for (size_t i = i0; i < i8; i += 8) {
        for (size_t b = b0; b < b8; b += 8) {
            uint64_t r[8];
            for (int k = 0; k < 8; k++)
                memcpy(&r[k], in + (b + (size_t)k) * n + i, 8);
            transpose8(r);
            for (int k = 0; k < 8; k++)
                memcpy(out + (i + (size_t)k) * elem + b, &r[k], 8);
        }
    }
    for (size_t b = b8; b < b1; b++)
        for (size_t i = i0; i < i8; i++)
            out[i * elem + b] = in[b * n + i];
    for (size_t b = b0; b < b1; b++)
        for (size_t i = i8; i < i1; i++)
            out[i * elem + b] = in[b * n + i];
}

void hps_unshuffle(const unsigned char *in, unsigned char *out, size_t elem, size_t nbytes)
{
    size_t n = elem ? nbytes / elem : 0, n16 = 0, b16 = 0;
    /* HDF5 leaves a buffer of one element, or of 1-byte elements, as it is */
    if (elem <= 1 || n <= 1) {
        memmove(out, in, nbytes);
        return;
    }
    /* in holds byte b of element i at b * n + i; out at i * elem + b: a
     * transpose, done in tiles held in registers, 16 elements' rows (16 * elem
     * bytes of out) at a time, so that the planes' lines read stay in cache */
#if defined(__SSE2__)
    n16 = n / 16 * 16;
    b16 = elem / 16 * 16;
    for (size_t i = 0; i < n16; i += 16)
        for (size_t b = 0; b < b16; b += 16)
            tile16(in + b * n + i, n, out + i * elem + b, elem);
#endif
    unshuffle_rect(in, n, out, elem, 0, n16, b16, elem); /* the last elem % 16 bytes */
    unshuffle_rect(in, n, out, elem, n16, n, 0, elem);   /* the last n % 16 elements */
    memcpy(out + n * elem, in + n * elem, nbytes - n * elem); /* a part element: as is */
}

/* Why the zlib stream of len bytes at in does not inflate to exactly cap bytes,
 * into why: zlib's own account, for a chunk libdeflate refused (it says only
 * "bad data"). A rare path: it allocates its own stream and output. */
static void inflate_why(const unsigned char *in, size_t len, size_t cap, char *why, size_t n)
{
    z_stream z = {0};
    unsigned char *out = malloc(cap + 1); /* one more: "more than cap" is seen */
    if (!out || inflateInit(&z) != Z_OK) {
        snprintf(why, n, "it does not inflate (and zlib could not be set up to say why)");
        free(out);
        return;
    }
    z.next_in = (unsigned char *)(uintptr_t)in; /* zlib's next_in is not const */
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap + 1;
    int zrc = inflate(&z, Z_FINISH);
    if (zrc == Z_STREAM_END && z.total_out > cap)
        snprintf(why, n, "inflates to more than %zu bytes", cap);
    else if (zrc == Z_STREAM_END && z.total_out != cap)
        snprintf(why, n, "inflates to %lu bytes, not %zu", z.total_out, cap);
    else if (zrc == Z_BUF_ERROR && z.avail_out == 0)
        snprintf(why, n, "inflates to more than %zu bytes", cap);
    else if (zrc == Z_BUF_ERROR)
        snprintf(why, n, "its deflate stream ends early (%lu bytes inflated)", z.total_out);
    else if (zrc == Z_STREAM_END)
        snprintf(why, n, "it inflates but libdeflate refuses it");
    else
        snprintf(why, n, "inflate: %s", z.msg ? z.msg : zError(zrc));
    (void)inflateEnd(&z); /* Z_STREAM_ERROR only for a stream never set up */
    free(out);
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
    /* libdeflate (about twice zlib's speed here, Adler-32 included) into exactly
     * one chunk: a stream of any other length is refused */
    if (libdeflate_zlib_decompress(s->d, s->stored, len, s->shuffled, c->chunk_bytes, NULL) ==
        LIBDEFLATE_SUCCESS) {
        hps_unshuffle(s->shuffled, s->rows, c->rowsize, c->chunk_bytes);
        s->decoded = k;
        *rows = s->rows;
        return HPS_OK;
    }
    inflate_why(s->stored, len, c->chunk_bytes, why, sizeof why);
    chunk_errf(c, k, e, why);
    return HPS_ECORRUPT;
}
