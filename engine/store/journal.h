/*
 * The journal: an append-only file of records, the sweep's source of truth.
 *
 * File layout (all integers little-endian):
 *   file header  8 bytes magic "HPSJRNL\0", u32 format version (1), u32 reserved 0
 *   record       u32 payload length, u32 type (never 0), u64 sequence number
 *                (first record 1, then +1), i64 trial id, payload bytes,
 *                u32 CRC-32C over everything from the length field to the end of
 *                the payload
 *
 * Appends go to an in-memory buffer; hps_journal_sync() writes the buffer and
 * fdatasync()s once, so one fsync covers every record appended since the last
 * (group commit). A record is durable once sync returns HPS_OK. On open for
 * writing, the file is scanned and a torn, corrupt (bad CRC, wrong sequence) or
 * zero-filled tail is cut back to the end of the last valid record.
 */
#ifndef HPS_STORE_JOURNAL_H
#define HPS_STORE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct hps_journal hps_journal;

typedef struct hps_record {
    uint64_t seq;
    uint32_t type;
    int64_t trial_id;
    const void *payload;   /* valid during the callback only */
    uint32_t len;
} hps_record;

enum {
    HPS_JOURNAL_READ = 0,    /* read-only; never modifies the file (for status) */
    HPS_JOURNAL_WRITE = 1,   /* open existing or create; truncates a bad tail */
    HPS_JOURNAL_CREATE = 2   /* create; HPS_EEXIST if the file exists */
};

/* Open the journal at path in mode. HPS_OK, HPS_ENOENT, HPS_EEXIST, HPS_EIO,
 * HPS_ECORRUPT (bad file header), HPS_EVERSION. */
int hps_journal_open(const char *path, int mode, hps_journal **out);

/* Call cb for every valid record in order (stops early and returns cb's value if
 * it returns non-zero). Works in every mode; records appended but not yet synced
 * are included. */
int hps_journal_replay(hps_journal *j, int (*cb)(void *ctx, const hps_record *rec), void *ctx);

/* Append a record to the buffer (not yet durable). type must be non-zero. */
int hps_journal_append(hps_journal *j, uint32_t type, int64_t trial_id, const void *payload,
                       uint32_t len);

/* Write buffered records and fdatasync: everything appended so far is durable. */
int hps_journal_sync(hps_journal *j);

/* Records appended since the last sync (0: nothing to do). */
size_t hps_journal_pending(const hps_journal *j);

/* Bytes cut from the tail when the journal was opened for writing (0 if none). */
uint64_t hps_journal_truncated(const hps_journal *j);

/* Sequence number of the last record (0 when empty). */
uint64_t hps_journal_last_seq(const hps_journal *j);

/* Sync (errors ignored: call sync first to see them), close and free; NULL-safe. */
void hps_journal_close(hps_journal *j);

/* CRC-32C (Castagnoli) of len bytes, continuing from crc (start with 0). */
uint32_t hps_crc32c(uint32_t crc, const void *data, size_t len);

#endif
