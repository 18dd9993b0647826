/*
 * What journal.c (open, append, sync, replay) and journal_scan.c (reading the
 * file: the valid prefix, records that still verify after damage) share: the
 * on-disk layout of journal.h as constants, little-endian helpers and the scans.
 * Private to the store module.
 */
#ifndef HPS_STORE_JOURNAL_INTERNAL_H
#define HPS_STORE_JOURNAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "journal.h"

#define HDR_SIZE 16u
#define REC_HEAD 24u              /* len, type, seq, trial id */
#define REC_OVERHEAD 28u          /* REC_HEAD + CRC */
#define MAX_PAYLOAD (64u << 20)   /* larger lengths mark a corrupt record */
#define MAX_TYPE 0xFFFFu          /* record types are small; larger ones are noise */
#define FORMAT_VERSION ((uint32_t)HPS_JOURNAL_LAYOUT) /* the layout new journals get */
#define FORMAT_MIN 1u             /* the oldest layout still read (and appended to) */
#define PACK_TYPE 0xFFFFu         /* layout 2: the type of every physical record, a pack */
#define MAX_PACK (MAX_PAYLOAD + 64u) /* a pack of one record of MAX_PAYLOAD bytes fits */
#define MIN_PACKED 3u             /* the fewest bytes a record in a pack takes */

static inline uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static inline void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

/* The 16-byte file header of layout version. */
void hps_jr_encode_header(unsigned char h[HDR_SIZE], uint32_t version);

/*
 * Layout 2 (journal_pack.c). hps_jr_pack: the layout-1 records in plain[0, len)
 * (journal.c's buffer: header, payload, CRC each) as packs, into out (reset first;
 * payload and rec are scratch). HPS_OK or HPS_ENOMEM. hps_jr_unpack: check the
 * pack at h (a physical record whose CRC matched; offset: where it lies) and then,
 * if cb is not NULL, call cb for each of its records with the payload expanded into
 * scratch (reused from pack to pack; free with hps_jr_scratch_free); a non-zero return stops it and lands in *cb_ret. HPS_OK, HPS_ECORRUPT
 * (the pack does not decode: nothing was passed to cb) or HPS_ENOMEM.
 */
int hps_jr_pack(const unsigned char *plain, size_t len, hps_buf *out, hps_buf *payload,
                hps_buf *rec);
typedef struct hps_jr_scratch {
    hps_buf entries, expanded, one;
} hps_jr_scratch;
int hps_jr_unpack(const unsigned char *h, uint64_t offset, hps_jr_scratch *scratch,
                  int (*cb)(void *ctx, const hps_record *rec), void *ctx, int *cb_ret);
void hps_jr_scratch_free(hps_jr_scratch *s);

/* Map an errno from a failed write, fsync or open to an HPS_* code (ENOSPC and
 * EDQUOT to HPS_ENOSPC, ENOENT to HPS_ENOENT, ...). */
int hps_jr_errno(int e);

typedef int (*hps_jr_cb)(void *ctx, const hps_record *rec);

typedef struct hps_jr_prefix {
    uint64_t end;       /* offset just past the last valid record */
    uint64_t last_seq;  /* its sequence number (0 if none) */
    int cb_ret;         /* non-zero value a callback stopped with */
} hps_jr_prefix;

/*
 * Walk the records in [HDR_SIZE, limit) of fd, a file of layout version, and stop
 * at the first invalid one (type 0, oversized length, sequence gap, CRC mismatch,
 * running past limit or end of file; in layout 2 also anything but a pack that
 * decodes; a pack's sequence number is its first record's). cb, if not NULL, sees each valid record; a non-zero return stops
 * the walk and lands in res->cb_ret. Returns HPS_OK, HPS_ENOMEM or HPS_EIO.
 */
int hps_jr_scan_prefix(int fd, uint64_t limit, uint32_t version, hps_jr_cb cb, void *ctx,
                       hps_jr_prefix *res);

/*
 * Look past a bad record at `from` (the end of a valid prefix whose last sequence
 * number is prev_seq) for records that still verify, up to limit: a record counts
 * when its CRC matches and its sequence number lies after prev_seq, with no more
 * records missing before it than the bytes skipped could have held. Fills d's
 * records_after, first_after, last_seq, lost_records and lost_bytes; cb (may be
 * NULL) sees each such record in file order. Returns HPS_OK, HPS_ENOMEM, HPS_EIO
 * or the non-zero value cb stopped with.
 */
int hps_jr_scan_after(int fd, uint64_t from, uint64_t limit, uint32_t version, uint64_t prev_seq,
                      hps_jr_cb cb, void *ctx, hps_journal_damage *d);

/*
 * Classify the file fd (size bytes) without changing it: d gets the valid
 * prefix and, past it, what still verifies. *fresh: no record can exist (an
 * empty, all-zero or half-written file header: a crashed create). HPS_OK,
 * HPS_ECORRUPT (a bad file header and nothing after it verifies), HPS_EVERSION,
 * HPS_EIO or HPS_ENOMEM. cb (may be NULL) sees every record that verifies.
 * *version: the file's layout (FORMAT_VERSION when *fresh).
 */
int hps_jr_classify(int fd, uint64_t size, hps_jr_cb cb, void *ctx, hps_journal_damage *d,
                    bool *fresh, uint32_t *version);

#endif
