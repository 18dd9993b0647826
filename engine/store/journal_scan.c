/*
 * Reading a journal file (journal_internal.h): the valid prefix, found with large
 * preads, and past a bad record the records that still verify, found by sliding
 * one byte at a time over the damaged bytes.
 *
 * Why the second scan exists: a torn tail (an unfinished last write) can only be
 * followed by nothing, while damage inside the file (a flipped bit, a bad sector,
 * a stray write) is followed by the records written after it. Telling the two
 * apart is what lets an open cut a torn tail but refuse to cut a damaged file,
 * which would throw away every valid record after the damage.
 *
 * A byte position counts as a record after damage only when its header is
 * plausible (type 1..MAX_TYPE, a length that fits the file), its sequence number
 * is above the last verified one by no more than the skipped bytes could hold
 * (each lost record takes at least REC_OVERHEAD bytes), and its CRC-32C matches.
 * Random bytes, zeros and a torn record's remains essentially never pass all
 * three; a record with a stale or repeated sequence number never does.
 *
 * Layout 2 (journal_pack.c): every physical record is a pack of a group commit's
 * records, its sequence number its first record's and its trial id field their
 * count. The same checks apply to the pack, and it must decode; a lost pack may
 * have held a record in every MIN_PACKED bytes. A layout-1 record never has the
 * pack's type (no build wrote one), so packs under a layout-1 header do not verify.
 */
#include "journal_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "hpsweep/error.h"

void hps_jr_encode_header(unsigned char h[HDR_SIZE], uint32_t version)
{
    static const unsigned char magic[8] = {'H', 'P', 'S', 'J', 'R', 'N', 'L', '\0'};
    memcpy(h, magic, 8);
    put_u32(h + 8, version);
    put_u32(h + 12, 0);
}

int hps_jr_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return HPS_ENOENT;
    case EEXIST:
        return HPS_EEXIST;
    case ENOMEM:
        return HPS_ENOMEM;
    case ENOSPC:
    case EDQUOT:
        return HPS_ENOSPC;
    default:
        return HPS_EIO;
    }
}

#define SCAN_CHUNK ((size_t)1 << 20)

/* A window over [base, limit) of a file, refilled by large preads. */
typedef struct chunk_reader {
    int fd;
    uint64_t limit;
    uint64_t base;        /* file offset of buf[0] */
    unsigned char *buf;
    size_t cap, have, pos;
} chunk_reader;

static int reader_init(chunk_reader *r, int fd, uint64_t from, uint64_t limit)
{
    uint64_t total = limit - from;
    *r = (chunk_reader){.fd = fd, .limit = limit, .base = from};
    r->cap = total < SCAN_CHUNK ? (size_t)total : SCAN_CHUNK;
    if (r->cap < REC_OVERHEAD)
        r->cap = REC_OVERHEAD;
    r->buf = malloc(r->cap);
    return r->buf ? HPS_OK : HPS_ENOMEM;
}

/* File offset of the window position. */
static uint64_t reader_at(const chunk_reader *r)
{
    return r->base + r->pos;
}

/* Make need bytes from pos available in the window (growing it for a record larger
 * than a chunk). *ok is false when the file or limit ends first. */
static int reader_need(chunk_reader *r, size_t need, bool *ok)
{
    *ok = r->have - r->pos >= need;
    if (*ok)
        return HPS_OK;
    memmove(r->buf, r->buf + r->pos, r->have - r->pos);
    r->base += r->pos;
    r->have -= r->pos;
    r->pos = 0;
    if (need > r->cap) {
        unsigned char *nb = realloc(r->buf, need);
        if (!nb)
            return HPS_ENOMEM;
        r->buf = nb;
        r->cap = need;
    }
    uint64_t want = r->limit - (r->base + r->have);
    size_t room = r->cap - r->have;
    size_t got = 0;
    int rc = hps_pread_full(r->fd, r->buf + r->have, want < room ? (size_t)want : room,
                            (long long)(r->base + r->have), &got) != 0
                 ? HPS_EIO
                 : HPS_OK;
    r->have += got;
    *ok = rc == HPS_OK && r->have >= need;
    return rc;
}

static hps_record record_at(const unsigned char *h, uint64_t offset)
{
    return (hps_record){.seq = get_u64(h + 8),
                        .type = get_u32(h + 4),
                        .trial_id = (int64_t)get_u64(h + 16),
                        .payload = h + REC_HEAD,
                        .len = get_u32(h),
                        .offset = offset};
}

static bool crc_ok(const unsigned char *h, uint32_t len)
{
    return hps_crc32c(0, h, REC_HEAD + (size_t)len) == get_u32(h + REC_HEAD + len);
}

int hps_jr_scan_prefix(int fd, uint64_t limit, uint32_t version, hps_jr_cb cb, void *ctx,
                       hps_jr_prefix *res)
{
    res->end = HDR_SIZE;
    res->last_seq = 0;
    res->cb_ret = 0;
    if (limit < HDR_SIZE + REC_OVERHEAD)
        return HPS_OK;
    chunk_reader r;
    int rc = reader_init(&r, fd, HDR_SIZE, limit);
    if (rc != HPS_OK)
        return rc;
    const bool packs = version >= 2;
    hps_jr_scratch scratch = {0};
    bool ok;
    while (limit - reader_at(&r) >= REC_OVERHEAD) {
        rc = reader_need(&r, REC_HEAD, &ok);
        if (!ok)
            break;
        const unsigned char *h = r.buf + r.pos;
        uint32_t len = get_u32(h);
        uint32_t type = get_u32(h + 4);
        uint64_t seq = get_u64(h + 8);
        size_t need = REC_OVERHEAD + (size_t)len;
        if (type == 0 || len > (packs ? MAX_PACK : MAX_PAYLOAD) || seq != res->last_seq + 1 ||
            (packs != (type == PACK_TYPE)) || limit - reader_at(&r) < need)
            break;
        rc = reader_need(&r, need, &ok);
        if (!ok)
            break;
        h = r.buf + r.pos;
        if (!crc_ok(h, len))
            break;
        uint64_t offset = reader_at(&r);
        if (packs) {
            /* A pack that does not decode ends the prefix (cb saw none of it). */
            int cb_ret;
            rc = hps_jr_unpack(h, offset, &scratch, cb, ctx, &cb_ret);
            if (rc != HPS_OK) {
                if (rc == HPS_ECORRUPT)
                    rc = HPS_OK;
                break;
            }
            r.pos += need;
            res->end = reader_at(&r);
            res->last_seq = seq + get_u64(h + 16) - 1;
            if (cb_ret != 0) {
                res->cb_ret = cb_ret;
                break;
            }
            continue;
        }
        r.pos += need;
        res->end = reader_at(&r);
        res->last_seq = seq;
        if (cb) {
            hps_record rec = record_at(h, offset);
            int ret = cb(ctx, &rec);
            if (ret != 0) {
                res->cb_ret = ret;
                break;
            }
        }
    }
    hps_jr_scratch_free(&scratch);
    free(r.buf);
    return rc;
}

int hps_jr_scan_after(int fd, uint64_t from, uint64_t limit, uint32_t version, uint64_t prev_seq,
                      hps_jr_cb cb, void *ctx, hps_journal_damage *d)
{
    d->records_after = 0;
    d->first_after = 0;
    d->lost_records = 0;
    d->lost_bytes = 0;
    d->last_seq = prev_seq;
    if (limit <= from)
        return HPS_OK;
    uint64_t prev_end = from;
    chunk_reader r;
    int rc = reader_init(&r, fd, from, limit);
    if (rc != HPS_OK)
        return rc;
    const bool packs = version >= 2;
    const uint64_t per_record = packs ? MIN_PACKED : REC_OVERHEAD;
    hps_jr_scratch scratch = {0};
    bool ok;
    while (rc == HPS_OK && limit - reader_at(&r) >= REC_OVERHEAD) {
        rc = reader_need(&r, REC_HEAD, &ok);
        if (!ok)
            break;
        uint64_t at = reader_at(&r);
        const unsigned char *h = r.buf + r.pos;
        uint32_t len = get_u32(h);
        uint32_t type = get_u32(h + 4);
        uint64_t seq = get_u64(h + 8);
        uint64_t room = (at - prev_end) / per_record; /* records the skipped bytes could hold */
        bool plausible = type != 0 && type <= MAX_TYPE && packs == (type == PACK_TYPE) &&
                         len <= (packs ? MAX_PACK : MAX_PAYLOAD) &&
                         limit - at >= REC_OVERHEAD + (uint64_t)len && seq > prev_seq &&
                         seq - prev_seq - 1 <= room;
        if (plausible) {
            rc = reader_need(&r, REC_OVERHEAD + (size_t)len, &ok);
            if (rc != HPS_OK)
                break;
            h = r.buf + r.pos;
            plausible = ok && crc_ok(h, len);
        }
        uint64_t count = 1;
        if (plausible && packs) {
            int cb_ret;
            rc = hps_jr_unpack(h, at, &scratch, NULL, NULL, &cb_ret);
            if (rc == HPS_ENOMEM)
                break;
            plausible = rc == HPS_OK;
            rc = HPS_OK;
            count = get_u64(h + 16);
        }
        if (!plausible) {
            r.pos++;
            continue;
        }
        if (d->records_after == 0)
            d->first_after = at;
        d->records_after += count;
        d->lost_records += seq - prev_seq - 1;
        d->lost_bytes += at - prev_end;
        d->last_seq = seq + count - 1;
        prev_seq = d->last_seq;
        r.pos += REC_OVERHEAD + (size_t)len;
        prev_end = reader_at(&r);
        if (cb && packs) {
            int cb_ret = 0;
            rc = hps_jr_unpack(h, at, &scratch, cb, ctx, &cb_ret);
            if (rc == HPS_OK)
                rc = cb_ret;
        } else if (cb) {
            hps_record rec = record_at(h, at);
            rc = cb(ctx, &rec);
        }
    }
    if (rc == HPS_OK)
        d->lost_bytes += limit - prev_end;
    hps_jr_scratch_free(&scratch);
    free(r.buf);
    return rc;
}

/* True if the n bytes at p are all zero or a prefix of a valid file header: what a
 * crash can leave behind while a journal is being created. */
static bool is_unfinished_header(const unsigned char *p, size_t n)
{
    unsigned char h1[HDR_SIZE], h2[HDR_SIZE];
    hps_jr_encode_header(h1, FORMAT_MIN);
    hps_jr_encode_header(h2, FORMAT_VERSION);
    bool zero = true;
    for (size_t i = 0; i < n; i++)
        zero = zero && p[i] == 0;
    return zero || memcmp(p, h1, n) == 0 || memcmp(p, h2, n) == 0;
}

/* True if the whole file is zeros (a created file whose header never reached disk). */
static int file_is_all_zero(int fd, uint64_t size, bool *zero)
{
    unsigned char chunk[4096];
    uint64_t off = 0;
    *zero = true;
    while (off < size && *zero) {
        size_t n = size - off < sizeof chunk ? (size_t)(size - off) : sizeof chunk;
        size_t got;
        int rc = hps_pread_full(fd, chunk, n, (long long)off, &got) != 0 ? HPS_EIO : HPS_OK;
        if (rc != HPS_OK)
            return rc;
        if (got < n)
            n = got;
        for (size_t i = 0; i < n; i++)
            if (chunk[i]) {
                *zero = false;
                break;
            }
        if (got == 0)
            break;
        off += n;
    }
    return HPS_OK;
}

/* A future format announces itself with a small version number; anything else in
 * that field is damage. */
#define MAX_PLAUSIBLE_VERSION 64u

/*
 * The other-layout step, for a file whose header is bad or names a layout in which
 * nothing verifies: if records of layout v verify from just past the header, the
 * file is a journal of layout v damaged from offset 0 (the header's bytes lost).
 * Then *d describes it so, cb (may be NULL) sees those records, *version is v and
 * *took is true; else *d and *version are left as they were. HPS_OK, or what
 * hps_jr_scan_after failed with.
 */
static int take_layout(int fd, uint64_t size, uint32_t v, hps_jr_cb cb, void *ctx,
                       hps_journal_damage *d, uint32_t *version, bool *took)
{
    *took = false;
    hps_journal_damage other = *d;
    int rc = hps_jr_scan_after(fd, HDR_SIZE, size, v, 0, NULL, NULL, &other);
    if (rc != HPS_OK || other.records_after == 0)
        return rc;
    if (cb && (rc = hps_jr_scan_after(fd, HDR_SIZE, size, v, 0, cb, ctx, &other)) != HPS_OK)
        return rc;
    *d = other;
    d->damaged = 1;
    d->bad_offset = 0;
    d->lost_bytes += HDR_SIZE;
    *version = v;
    *took = true;
    return HPS_OK;
}

int hps_jr_classify(int fd, uint64_t size, hps_jr_cb cb, void *ctx, hps_journal_damage *d,
                    bool *fresh, uint32_t *version)
{
    memset(d, 0, sizeof *d);
    d->file_size = size;
    d->valid_end = HDR_SIZE;
    *fresh = false;
    *version = FORMAT_VERSION;
    unsigned char h[HDR_SIZE], want[HDR_SIZE];
    size_t got;
    int rc = hps_pread_full(fd, h, HDR_SIZE, 0, &got) != 0 ? HPS_EIO : HPS_OK;
    if (rc != HPS_OK)
        return rc;
    if (got < HDR_SIZE) {
        if (!is_unfinished_header(h, got))
            return HPS_ECORRUPT;
        *fresh = true;
        return HPS_OK;
    }
    uint32_t found = get_u32(h + 8);
    bool known = found >= FORMAT_MIN && found <= FORMAT_VERSION;
    hps_jr_encode_header(want, known ? found : FORMAT_VERSION);
    if (!known || memcmp(h, want, HDR_SIZE) != 0) {
        bool zero;
        if ((rc = file_is_all_zero(fd, size, &zero)) != HPS_OK)
            return rc;
        if (zero) {
            *fresh = true;
            return HPS_OK;
        }
        /* A bad file header: damage if records after it verify (in either layout),
         * else not a journal (or one of a newer layout). */
        bool newer = memcmp(h, want, 8) == 0 && found > FORMAT_VERSION &&
                     found <= MAX_PLAUSIBLE_VERSION;
        if (!newer) {
            for (uint32_t v = FORMAT_VERSION; v >= FORMAT_MIN; v--) {
                bool took;
                if ((rc = take_layout(fd, size, v, cb, ctx, d, version, &took)) != HPS_OK)
                    return rc;
                if (took)
                    return HPS_OK;
            }
        }
        return newer ? HPS_EVERSION : HPS_ECORRUPT;
    }
    *version = found;
    hps_jr_prefix res;
    if ((rc = hps_jr_scan_prefix(fd, size, found, cb, ctx, &res)) != HPS_OK)
        return rc;
    if (res.cb_ret != 0)
        return res.cb_ret;
    d->valid_end = d->bad_offset = res.end;
    d->valid_records = d->last_seq = res.last_seq;
    if (res.end >= size)
        return HPS_OK;
    if ((rc = hps_jr_scan_after(fd, res.end, size, found, res.last_seq, cb, ctx, d)) != HPS_OK)
        return rc;
    d->damaged = d->records_after > 0;
    if (!d->damaged && res.last_seq == 0) {
        /* Nothing verifies in the layout the header names: a damaged version field
         * must not make a writer cut a journal of the other layout. */
        bool took;
        uint32_t v = found == FORMAT_MIN ? FORMAT_VERSION : FORMAT_MIN;
        return take_layout(fd, size, v, cb, ctx, d, version, &took);
    }
    return HPS_OK;
}
