/*
 * Journal layout 2: a group commit as packs (journal.h). hps_jr_pack turns the
 * records appended since the last sync (held as layout-1 records in journal.c's
 * buffer) into packs; hps_jr_unpack checks a pack and hands out its records with
 * their payloads expanded back to the bytes that were appended.
 *
 * A pack's payload is its records one after another, each
 *   uv size (of what follows), uv (type << 1 | compact), zz (trial id - the previous
 *   record's in this pack, 0 before the first), then the payload: as it is, or in
 *   its type's compact form (record.h) when compact is 1.
 * Nothing in a pack depends on another pack, so every pack that verifies can be read
 * on its own (salvage reads them past damage). A sync's last record always gets a
 * pack of its own (see hps_jr_pack), so a bad byte in a sync is told from a torn
 * write as in layout 1; a pack past its soft cap (1 KiB) is closed too.
 */
#include "journal_internal.h"
#include "record.h"

#include "hpsweep/error.h"

#include <string.h>

/* Start a new pack past this many bytes: what one bad byte costs a salvage (about
 * 20 no-op trials) against 28 bytes of framing per pack. */
#define PACK_SOFT_CAP ((size_t)1 << 10)

/* Write v as a LEB128 varint at t (room for 10 bytes); returns its length. */
static size_t uv_to(unsigned char *t, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (unsigned char)v;
    return n;
}

/* Close the pack being built in payload (records first_seq.., count of them) into out. */
static void emit_pack(hps_buf *out, const hps_buf *payload, uint64_t first_seq, uint64_t count)
{
    unsigned char head[REC_HEAD];
    put_u32(head, (uint32_t)payload->len);
    put_u32(head + 4, PACK_TYPE);
    put_u64(head + 8, first_seq);
    put_u64(head + 16, count);
    uint32_t crc = hps_crc32c(0, head, REC_HEAD);
    crc = hps_crc32c(crc, payload->data, payload->len);
    unsigned char tail[4];
    put_u32(tail, crc);
    hps_buf_put(out, head, REC_HEAD);
    hps_buf_put(out, payload->data, payload->len);
    hps_buf_put(out, tail, sizeof tail);
}

int hps_jr_pack(const unsigned char *plain, size_t len, hps_buf *out, hps_buf *payload,
                hps_buf *rec)
{
    hps_buf_reset(out);
    hps_buf_reset(payload);
    hps_rec_pack_ctx ctx = {0};
    int64_t prev_trial = 0;
    uint64_t first_seq = 0, count = 0;
    for (size_t off = 0; off < len;) {
        const unsigned char *p = plain + off;
        uint32_t plen = get_u32(p);
        uint32_t type = get_u32(p + 4);
        uint64_t seq = get_u64(p + 8);
        int64_t trial = (int64_t)get_u64(p + 16);
        off += REC_OVERHEAD + (size_t)plen;
        /* The last record gets a pack of its own, so that damage anywhere before it
         * is followed by a pack that verifies (damage, refused) instead of passing
         * for an unfinished write (a torn tail, cut): what layout 1 guarantees. */
        if (count > 0 && (payload->len + plen > PACK_SOFT_CAP || off == len)) {
            emit_pack(out, payload, first_seq, count);
            hps_buf_reset(payload);
            ctx = (hps_rec_pack_ctx){0};
            prev_trial = 0;
            count = 0;
        }
        if (count == 0)
            first_seq = seq;
        hps_buf_reset(rec);
        int compact = hps_rec_compact(rec, type, p + REC_HEAD, plen, &ctx) == HPS_OK;
        if (!compact) {
            hps_buf_reset(rec);
            hps_buf_put(rec, p + REC_HEAD, plen);
        }
        if (rec->failed)
            return HPS_ENOMEM;
        /* head: the type and trial id, then the body */
        unsigned char head[20];
        size_t hl = uv_to(head, (uint64_t)type << 1 | (uint64_t)compact);
        uint64_t d = (uint64_t)trial - (uint64_t)prev_trial;
        hl += uv_to(head + hl, d << 1 ^ (0 - (d >> 63)));
        prev_trial = trial;
        hps_put_uvarint(payload, (uint64_t)hl + rec->len);
        hps_buf_put(payload, head, hl);
        hps_buf_put(payload, rec->data, rec->len);
        count++;
    }
    if (count > 0)
        emit_pack(out, payload, first_seq, count);
    return out->failed || payload->failed ? HPS_ENOMEM : HPS_OK;
}

/* One record of a pack as walk() found it: its payload lies in the pack (raw) or
 * at off in the expansion buffer. */
typedef struct entry {
    uint32_t type;
    uint32_t len;
    int64_t trial;
    const unsigned char *raw; /* NULL: expanded */
    size_t off;
} entry;

/* Decode every record of the pack at h (a physical record whose CRC matched) into
 * ents (scratch->data, count entries) and their expanded payloads into exp. */
static int walk(const unsigned char *h, hps_buf *scratch, hps_buf *exp, hps_buf *one)
{
    uint32_t len = get_u32(h);
    uint64_t count = get_u64(h + 16);
    hps_buf_reset(scratch);
    hps_buf_reset(exp);
    hps_buf_grow(scratch, (size_t)count * sizeof(entry));
    if (scratch->failed)
        return HPS_ENOMEM;
    hps_cursor c = hps_cursor_make(h + REC_HEAD, len);
    hps_rec_pack_ctx pc = {0};
    int64_t trial = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t size = hps_get_uvarint(&c);
        if (c.bad || size > c.left)
            return HPS_ECORRUPT;
        hps_cursor r = hps_cursor_make(c.p, (size_t)size);
        c.p += size;
        c.left -= size;
        uint64_t tc = hps_get_uvarint(&r);
        uint64_t zz = hps_get_uvarint(&r);
        if (r.bad || (tc >> 1) == 0 || (tc >> 1) > UINT32_MAX)
            return HPS_ECORRUPT;
        trial = (int64_t)((uint64_t)trial + ((zz >> 1) ^ (0 - (zz & 1))));
        entry e = {.type = (uint32_t)(tc >> 1), .trial = trial};
        if (tc & 1) {
            int rc = hps_rec_expand(&r, e.type, one, MAX_PAYLOAD, &pc);
            if (rc != HPS_OK)
                return rc;
            e.off = exp->len;
            e.len = (uint32_t)one->len;
            hps_buf_put(exp, one->data, one->len);
            if (exp->failed)
                return HPS_ENOMEM;
        } else {
            if (r.left > MAX_PAYLOAD)
                return HPS_ECORRUPT;
            e.raw = r.p;
            e.len = (uint32_t)r.left;
        }
        HPS_BUF_PUT(scratch, e);
    }
    return c.left == 0 ? HPS_OK : HPS_ECORRUPT;
}

int hps_jr_unpack(const unsigned char *h, uint64_t offset, hps_jr_scratch *s, hps_jr_cb cb,
                  void *ctx, int *cb_ret)
{
    *cb_ret = 0;
    uint32_t len = get_u32(h);
    uint64_t count = get_u64(h + 16);
    uint64_t seq = get_u64(h + 8);
    if (get_u32(h + 4) != PACK_TYPE || count == 0 || count > len / 3 || seq == 0 ||
        seq + count < seq)
        return HPS_ECORRUPT;
    /* The whole pack is decoded before a callback sees any of it. */
    int rc = walk(h, &s->entries, &s->expanded, &s->one);
    if (rc != HPS_OK || !cb)
        return rc;
    const entry *ents = (const entry *)(const void *)s->entries.data;
    for (uint64_t i = 0; i < count; i++) {
        const entry *e = &ents[i];
        hps_record rec = {.seq = seq + i, .type = e->type, .trial_id = e->trial,
                          .payload = e->raw ? e->raw : s->expanded.data + e->off,
                          .len = e->len, .offset = offset};
        int ret = cb(ctx, &rec);
        if (ret != 0) {
            *cb_ret = ret;
            break;
        }
    }
    return HPS_OK;
}

void hps_jr_scratch_free(hps_jr_scratch *s)
{
    hps_buf_free(&s->entries);
    hps_buf_free(&s->expanded);
    hps_buf_free(&s->one);
}
