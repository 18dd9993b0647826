/*
 * The journal: append-only record file, group commit, torn-tail recovery.
 *
 * Layout and contract are in journal.h. This file keeps the records appended since
 * the last sync in one growable buffer, already encoded exactly as they will lie on
 * disk (header, payload, CRC), so appending costs a memcpy and a CRC and syncing is
 * one write loop plus one fdatasync. Opening classifies the file (journal_scan.c):
 * the end of the valid prefix, and whether anything after it still verifies; a
 * writer cuts a torn tail and refuses a damaged file. Replay reads the valid prefix
 * the same way and then walks the unsynced buffer.
 *
 * Sync failure rule: the buffer is the unit of retry. On any error (short write,
 * EIO, ENOSPC, a failed fdatasync) nothing in the buffer counts as durable, the
 * buffer and the on-disk end offset stay exactly as they were, and the next sync
 * rewrites the whole buffer at that same offset with pwrite and fdatasyncs again.
 * Bytes a failed attempt left behind are overwritten by identical bytes, so a retry
 * never duplicates a record; records appended after the failure simply follow in
 * the buffer. Rewriting (not just re-running fdatasync) matters on Linux, where a
 * failed writeback may leave the page cache clean but the disk without the data.
 *
 * Layout 2 (journal_pack.c): the buffer still holds layout-1 records; sync packs
 * them (one pack per group commit, more when it is large) and writes the packs.
 * Packing is a pure function of the buffer, so a retried sync writes the same bytes.
 *
 * A journal handle is not thread-safe; only the coordinator writes the file.
 */
#include "core/fs.h"
#include "core/grow.h"
#include "journal_internal.h"

#include "hpsweep/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define BUF_MIN ((size_t)64 << 10)
#define BUF_KEEP ((size_t)4 << 20) /* shrink a larger idle buffer after sync */

struct hps_journal {
    int fd;
    int mode;
    uint32_t version;     /* the file's layout (journal.h) */
    uint64_t disk_end;    /* end of the valid (and, for writers, synced) prefix */
    uint64_t disk_seq;    /* seq of the last record in that prefix */
    uint64_t last_seq;    /* seq of the last record, buffered ones included */
    uint64_t truncated;
    hps_journal_damage damage; /* READ opens: what lies past the valid prefix */
    unsigned char *buf;   /* encoded records appended since the last sync */
    size_t len;
    size_t cap;
    size_t pending;
    hps_buf packed;       /* layout 2: the packs sync writes, and their scratch */
    hps_buf pack_payload, pack_rec;
};

/* ---- file helpers ------------------------------------------------------------------ */

static int pwrite_all(int fd, const unsigned char *p, size_t n, uint64_t off)
{
    int e = hps_pwrite_full(fd, p, n, (long long)off);
    return e == 0 ? HPS_OK : hps_jr_errno(e);
}

static int fsync_retry(int fd, bool data_only)
{
    int rc;
    do
        rc = data_only ? fdatasync(fd) : fsync(fd);
    while (rc != 0 && errno == EINTR);
    return rc == 0 ? HPS_OK : hps_jr_errno(errno);
}

/* fsync the directory holding path so a newly created entry survives a crash. */
static int fsync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = strdup(".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir)
        return HPS_ENOMEM;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dfd < 0)
        return hps_jr_errno(errno);
    int rc = fsync_retry(dfd, false);
    if (close(dfd) != 0 && rc == HPS_OK)
        rc = HPS_EIO;
    return rc;
}

/* Make fd an empty journal of layout version: size 0, the header, fsync. */
static int write_fresh_header(int fd, uint32_t version)
{
    unsigned char h[HDR_SIZE];
    hps_jr_encode_header(h, version);
    if (ftruncate(fd, 0) != 0)
        return hps_jr_errno(errno);
    int rc = pwrite_all(fd, h, HDR_SIZE, 0);
    if (rc == HPS_OK)
        rc = fsync_retry(fd, false);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------ */

/* Open (or create) the file for mode; *created says whether this call made it. */
static int open_file(const char *path, int mode, int *fd_out, bool *created)
{
    *created = false;
    if (mode == HPS_JOURNAL_READ) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return hps_jr_errno(errno);
        *fd_out = fd;
        return HPS_OK;
    }
    for (;;) {
        if (mode == HPS_JOURNAL_WRITE) {
            int fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd >= 0) {
                *fd_out = fd;
                return HPS_OK;
            }
            if (errno != ENOENT)
                return hps_jr_errno(errno);
        }
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            *fd_out = fd;
            *created = true;
            return HPS_OK;
        }
        /* Lost a creation race in WRITE mode: open the file the winner made. */
        if (errno == EEXIST && mode == HPS_JOURNAL_WRITE)
            continue;
        return hps_jr_errno(errno);
    }
}

/* Validate the file and find its valid prefix; writers cut a torn tail and refuse
 * damage, readers remember it. */
static int recover(hps_journal *j, bool created, const char *path, uint32_t new_version)
{
    int rc;
    j->disk_end = HDR_SIZE;
    j->version = new_version;
    if (created) {
        rc = write_fresh_header(j->fd, new_version);
        return rc == HPS_OK ? fsync_parent_dir(path) : rc;
    }
    struct stat st;
    if (fstat(j->fd, &st) != 0)
        return HPS_EIO;
    uint64_t size = (uint64_t)st.st_size;
    bool fresh;
    uint32_t version;
    rc = hps_jr_classify(j->fd, size, NULL, NULL, &j->damage, &fresh, &version);
    if (rc != HPS_OK)
        return rc;
    if (!fresh)
        j->version = version;
    if (fresh) {
        /* No record can exist yet: readers see an empty journal, writers redo the
         * header the crashed creator never finished. */
        if (j->mode == HPS_JOURNAL_READ)
            return HPS_OK;
        j->truncated = size;
        rc = write_fresh_header(j->fd, new_version);
        return rc == HPS_OK ? fsync_parent_dir(path) : rc;
    }
    if (j->damage.damaged && j->mode != HPS_JOURNAL_READ)
        return HPS_EDAMAGED;
    j->disk_end = j->damage.damaged && j->damage.bad_offset == 0 ? HDR_SIZE : j->damage.valid_end;
    j->disk_seq = j->last_seq = j->damage.valid_records;
    if (j->mode != HPS_JOURNAL_READ && j->disk_end < size) {
        if (ftruncate(j->fd, (off_t)j->disk_end) != 0)
            return hps_jr_errno(errno);
        rc = fsync_retry(j->fd, false);
        if (rc != HPS_OK)
            return rc;
        j->truncated = size - j->disk_end;
    }
    return HPS_OK;
}

int hps_journal_open(const char *path, int mode, hps_journal **out)
{
    uint32_t new_version = (mode & HPS_JOURNAL_LAYOUT1) ? FORMAT_MIN : FORMAT_VERSION;
    mode &= ~HPS_JOURNAL_LAYOUT1;
    if (!path || !out ||
        (mode != HPS_JOURNAL_READ && mode != HPS_JOURNAL_WRITE && mode != HPS_JOURNAL_CREATE))
        return HPS_EINVAL;
    *out = NULL;
    hps_journal *j = calloc(1, sizeof *j);
    if (!j)
        return HPS_ENOMEM;
    j->mode = mode;
    bool created;
    int rc = open_file(path, mode, &j->fd, &created);
    if (rc != HPS_OK) {
        free(j);
        return rc;
    }
    rc = recover(j, created, path, new_version);
    if (rc != HPS_OK) {
        close(j->fd);
        if (created) /* leave no half-made file that a retried CREATE would trip on */
            (void)unlink(path);
        free(j);
        return rc;
    }
    *out = j;
    return HPS_OK;
}

void hps_journal_close(hps_journal *j)
{
    if (!j)
        return;
    if (j->mode != HPS_JOURNAL_READ)
        (void)hps_journal_sync(j);
    (void)close(j->fd);
    free(j->buf);
    hps_buf_free(&j->packed);
    hps_buf_free(&j->pack_payload);
    hps_buf_free(&j->pack_rec);
    free(j);
}

/* ---- append / sync ----------------------------------------------------------------- */

int hps_journal_append(hps_journal *j, uint32_t type, int64_t trial_id, const void *payload,
                       uint32_t len)
{
    if (!j || j->mode == HPS_JOURNAL_READ || type == 0 || len > MAX_PAYLOAD ||
        (len > 0 && !payload))
        return HPS_EINVAL;
    size_t need = REC_OVERHEAD + (size_t)len;
    unsigned char *nb = hps_grow(j->buf, &j->cap, j->len + need, 1, BUF_MIN);
    if (!nb)
        return HPS_ENOMEM;
    j->buf = nb;
    unsigned char *p = j->buf + j->len;
    uint64_t seq = j->last_seq + 1;
    put_u32(p, len);
    put_u32(p + 4, type);
    put_u64(p + 8, seq);
    put_u64(p + 16, (uint64_t)trial_id);
    if (len)
        memcpy(p + REC_HEAD, payload, len);
    put_u32(p + REC_HEAD + len, hps_crc32c(0, p, REC_HEAD + (size_t)len));
    j->len += need;
    j->last_seq = seq;
    j->pending++;
    return HPS_OK;
}

int hps_journal_sync(hps_journal *j)
{
    if (!j)
        return HPS_EINVAL;
    if (j->len == 0)
        return HPS_OK;
    const unsigned char *bytes = j->buf;
    size_t n = j->len;
    if (j->version >= 2) {
        int prc = hps_jr_pack(j->buf, j->len, &j->packed, &j->pack_payload, &j->pack_rec);
        if (prc != HPS_OK)
            return prc;
        bytes = j->packed.data;
        n = j->packed.len;
    }
    /* Always from disk_end: a retry rewrites what a failed attempt may have left. */
    int rc = pwrite_all(j->fd, bytes, n, j->disk_end);
    if (rc == HPS_OK)
        rc = fsync_retry(j->fd, true);
    if (rc != HPS_OK)
        return rc;
    j->disk_end += n;
    j->disk_seq = j->last_seq;
    j->len = 0;
    j->pending = 0;
    if (j->cap > BUF_KEEP) {
        free(j->buf);
        j->buf = NULL;
        j->cap = 0;
    }
    if (j->packed.cap > BUF_KEEP)
        hps_buf_free(&j->packed);
    if (j->pack_rec.cap > BUF_KEEP)
        hps_buf_free(&j->pack_rec);
    return HPS_OK;
}

/* ---- replay and queries ------------------------------------------------------------ */

int hps_journal_replay(hps_journal *j, int (*cb)(void *ctx, const hps_record *rec), void *ctx)
{
    if (!j || !cb)
        return HPS_EINVAL;
    hps_jr_prefix res;
    int rc = hps_jr_scan_prefix(j->fd, j->disk_end, j->version, cb, ctx, &res);
    if (rc != HPS_OK)
        return rc;
    if (res.cb_ret != 0)
        return res.cb_ret;
    /* The prefix was valid at open (or written by us): anything less now means the
     * file changed underneath this handle. */
    if (res.end != j->disk_end || res.last_seq != j->disk_seq)
        return HPS_ECORRUPT;

    /* Buffered records are valid by construction. Walk by offset up to the length
     * seen now and re-read j->buf each step, so a cb that appends (and may move the
     * buffer) is safe; what it appends is not part of this replay. */
    size_t end = j->len;
    for (size_t off = 0; off < end;) {
        const unsigned char *p = j->buf + off;
        uint32_t len = get_u32(p);
        hps_record rec = {.seq = get_u64(p + 8),
                          .type = get_u32(p + 4),
                          .trial_id = (int64_t)get_u64(p + 16),
                          .payload = p + REC_HEAD,
                          .len = len};
        int r = cb(ctx, &rec);
        if (r != 0)
            return r;
        off += REC_OVERHEAD + (size_t)len;
    }
    return HPS_OK;
}

size_t hps_journal_pending(const hps_journal *j)
{
    return j ? j->pending : 0;
}

uint64_t hps_journal_truncated(const hps_journal *j)
{
    return j ? j->truncated : 0;
}

uint64_t hps_journal_last_seq(const hps_journal *j)
{
    return j ? j->last_seq : 0;
}

const hps_journal_damage *hps_journal_damage_info(const hps_journal *j)
{
    return j && j->damage.damaged ? &j->damage : NULL;
}

int hps_journal_inspect(const char *path, int (*cb)(void *ctx, const hps_record *rec), void *ctx,
                        hps_journal_damage *d)
{
    if (!path || !d)
        return HPS_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hps_jr_errno(errno);
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? HPS_OK : HPS_EIO;
    bool fresh = false;
    if (rc == HPS_OK)
    {
        uint32_t version;
        rc = hps_jr_classify(fd, (uint64_t)st.st_size, cb, ctx, d, &fresh, &version);
    }
    (void)close(fd);
    return rc;
}

int hps_journal_layout_of(const char *path, uint32_t *version)
{
    if (!path || !version)
        return HPS_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hps_jr_errno(errno);
    unsigned char h[HDR_SIZE], want[HDR_SIZE];
    size_t got = 0;
    int rc = hps_pread_full(fd, h, HDR_SIZE, 0, &got) != 0 ? HPS_EIO : HPS_OK;
    (void)close(fd);
    if (rc != HPS_OK)
        return rc;
    hps_jr_encode_header(want, FORMAT_VERSION);
    if (got < HDR_SIZE || memcmp(h, want, 8) != 0)
        return HPS_ECORRUPT;
    *version = get_u32(h + 8);
    return HPS_OK;
}
