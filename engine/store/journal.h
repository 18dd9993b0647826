/*
 * The journal: an append-only file of records, the sweep's source of truth.
 *
 * File layout (all integers little-endian):
 *   file header  8 bytes magic "HPSJRNL\0", u32 layout version (1 or 2), u32
 *                reserved 0
 *   record       u32 payload length, u32 type (never 0), u64 sequence number
 *                (first record 1, then +1), i64 trial id, payload bytes,
 *                u32 CRC-32C over everything from the length field to the end of
 *                the payload
 *
 * Layout 1 (journal format 1 to 3, record.h) has one such record per record.
 * Layout 2 (format 4, what new journals get) has one per group commit, a pack: type
 * 0xFFFF, the sequence number of its first record, the number of records in the
 * trial id field, and as payload the records, each with its type, its trial id as a
 * difference to the one before and its payload, the hot ones in a compact form
 * (journal_pack.c, record.h). Replay hands out the same records either way. A
 * journal keeps the layout it was created with.
 *
 * Appends go to an in-memory buffer; hps_journal_sync() writes the buffer and
 * fdatasync()s once, so one fsync covers every record appended since the last
 * (group commit). A record is durable once sync returns HPS_OK.
 *
 * Torn tails and damage. On open the file is scanned. When it ends in bytes that
 * are not a valid record (an unfinished last write: a short record, a bad CRC,
 * zeros) and no record after them verifies, that tail is cut back to the end of
 * the last valid record (writers only). When a bad record is followed by records
 * that still verify, the file is damaged, not torn: nothing is cut, writers get
 * HPS_EDAMAGED, readers see the valid prefix and hps_journal_damage_info() says
 * where the damage is. Salvage (`hpsweep resume --salvage`) uses
 * hps_journal_inspect() to read every record that verifies.
 */
#ifndef HPS_STORE_JOURNAL_H
#define HPS_STORE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "crc32c.h"

typedef struct hps_journal hps_journal;

typedef struct hps_record {
    uint64_t seq;
    uint32_t type;
    int64_t trial_id;
    const void *payload;   /* valid during the callback only */
    uint32_t len;
    uint64_t offset;       /* where it starts in the file (scans; 0 for unsynced records) */
} hps_record;

/* What a scan found past the valid prefix (hps_journal_inspect, READ opens). */
typedef struct hps_journal_damage {
    int damaged;             /* 1: a bad record with records that verify after it */
    uint64_t file_size;
    uint64_t valid_end;      /* end of the valid prefix */
    uint64_t valid_records;  /* records in the valid prefix (the last one's seq) */
    uint64_t bad_offset;     /* where the first bad record starts (0: the file header) */
    uint64_t records_after;  /* records after bad_offset that still verify */
    uint64_t first_after;    /* offset of the first of them */
    uint64_t last_seq;       /* the highest sequence number that verifies */
    uint64_t lost_records;   /* sequence numbers missing between records that verify */
    uint64_t lost_bytes;     /* bytes after bad_offset that are in no verified record */
} hps_journal_damage;

enum {
    HPS_JOURNAL_READ = 0,    /* read-only; never modifies the file (for status) */
    HPS_JOURNAL_WRITE = 1,   /* open existing or create; cuts a torn tail, refuses damage */
    HPS_JOURNAL_CREATE = 2,  /* create; HPS_EEXIST if the file exists */
    HPS_JOURNAL_LAYOUT1 = 0x100 /* or'ed with WRITE or CREATE: a journal this open
                                   creates gets layout 1 (as older builds wrote) */
};

/* Open the journal at path in mode. HPS_OK, HPS_ENOENT, HPS_EEXIST, HPS_EIO,
 * HPS_ENOSPC, HPS_ECORRUPT (bad file header, nothing after it verifies),
 * HPS_EVERSION, HPS_EDAMAGED (writers: a bad record with valid records after it;
 * the file is left as it was). */
int hps_journal_open(const char *path, int mode, hps_journal **out);

/* The newest file layout this build reads and writes (journal format 4). */
#define HPS_JOURNAL_LAYOUT 2

/* The layout version in the file header of the journal at path, for messages (a
 * newer one makes opens fail with HPS_EVERSION): HPS_OK, HPS_ENOENT, HPS_EIO or
 * HPS_ECORRUPT (shorter than a file header, or not the journal magic). */
int hps_journal_layout_of(const char *path, uint32_t *version);

/* The damage a READ open found (a bad record followed by records that verify), or
 * NULL when the journal is whole (a torn tail is not damage). */
const hps_journal_damage *hps_journal_damage_info(const hps_journal *j);

/*
 * Scan the journal at path without changing it: d gets the valid prefix and what
 * verifies past it (d->damaged, d->valid_records, ...). cb, if not NULL, sees every
 * record that verifies, in file order (the valid prefix, then those past the
 * damage, each with a sequence number above the one before); a non-zero return
 * stops the scan and is returned. HPS_OK, HPS_ENOENT, HPS_EIO, HPS_ENOMEM,
 * HPS_ECORRUPT (a bad file header and nothing after it verifies), HPS_EVERSION.
 */
int hps_journal_inspect(const char *path, int (*cb)(void *ctx, const hps_record *rec), void *ctx,
                        hps_journal_damage *d);

/* Call cb for every valid record in order (stops early and returns cb's value if
 * it returns non-zero). Works in every mode; records appended but not yet synced
 * are included. */
int hps_journal_replay(hps_journal *j, int (*cb)(void *ctx, const hps_record *rec), void *ctx);

/* Append a record to the buffer (not yet durable). type must be non-zero. */
int hps_journal_append(hps_journal *j, uint32_t type, int64_t trial_id, const void *payload,
                       uint32_t len);

/* Write buffered records and fdatasync: everything appended so far is durable.
 * HPS_OK, HPS_ENOSPC (no space left on the device, or the quota is used up) or
 * HPS_EIO; after an error nothing buffered counts as written and the next sync
 * retries it all. */
int hps_journal_sync(hps_journal *j);

/* Records appended since the last sync (0: nothing to do). */
size_t hps_journal_pending(const hps_journal *j);

/* Bytes cut from the tail when the journal was opened for writing (0 if none). */
uint64_t hps_journal_truncated(const hps_journal *j);

/* Sequence number of the last record (0 when empty). */
uint64_t hps_journal_last_seq(const hps_journal *j);

/* Sync (errors ignored: call sync first to see them), close and free; NULL-safe. */
void hps_journal_close(hps_journal *j);

#endif
