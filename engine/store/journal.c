/*
 * The journal: append-only record file, group commit, torn-tail recovery.
 *
 * Layout and contract are in journal.h. This file keeps the records appended since
 * the last sync in one growable buffer, already encoded exactly as they will lie on
 * disk (header, payload, CRC), so appending costs a memcpy and a CRC and syncing is
 * one write loop plus one fdatasync. Opening scans the file in large pread chunks,
 * finds the end of the valid prefix and, for writers, cuts the rest off. Replay
 * reads the valid prefix the same way and then walks the unsynced buffer.
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
 * CRC-32C: SSE4.2 crc32 instructions when cpuid reports them (x86-64, GCC/Clang),
 * otherwise slicing-by-8 tables; both are checked against each other in the tests.
 *
 * A journal handle is not thread-safe; only the coordinator writes the file.
 */
#include "core/grow.h"
#include "journal.h"

#include "hpsweep/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HPS_CRC_HW 1
#include <cpuid.h>
#include <nmmintrin.h>
#else
#define HPS_CRC_HW 0
#endif

#define HDR_SIZE 16u
#define REC_HEAD 24u              /* len, type, seq, trial id */
#define REC_OVERHEAD 28u          /* REC_HEAD + CRC */
#define MAX_PAYLOAD (64u << 20)   /* larger lengths mark a corrupt record */
#define FORMAT_VERSION 1u
#define SCAN_CHUNK ((size_t)1 << 20)
#define BUF_MIN ((size_t)64 << 10)
#define BUF_KEEP ((size_t)4 << 20) /* shrink a larger idle buffer after sync */

static const unsigned char journal_magic[8] = {'H', 'P', 'S', 'J', 'R', 'N', 'L', '\0'};

struct hps_journal {
    int fd;
    int mode;
    uint64_t disk_end;    /* end of the valid (and, for writers, synced) prefix */
    uint64_t disk_seq;    /* seq of the last record in that prefix */
    uint64_t last_seq;    /* seq of the last record, buffered ones included */
    uint64_t truncated;
    unsigned char *buf;   /* encoded records appended since the last sync */
    size_t len;
    size_t cap;
    size_t pending;
};

/* ---- little-endian helpers ----------------------------------------------------- */

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

/* ---- CRC-32C ----------------------------------------------------------------------- */

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static uint32_t (*crc_impl)(uint32_t, const unsigned char *, size_t);
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Slicing-by-8 on the raw (not pre/post-inverted) register. */
static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint32_t lo = get_u32(p) ^ crc;
        uint32_t hi = get_u32(p + 4);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
              crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
              crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if HPS_CRC_HW
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p,
                                                            size_t n)
{
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}
#endif

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
    crc_impl = crc32c_sw;
#if HPS_CRC_HW
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2))
        crc_impl = crc32c_hw;
#endif
}

uint32_t hps_crc32c(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    return ~crc_impl(~crc, data, len);
}

/* The table implementation alone, whatever the CPU offers; the unit tests compare
 * it with hps_crc32c(). Not part of the journal API. */
uint32_t hps_crc32c_portable(uint32_t crc, const void *data, size_t len);

uint32_t hps_crc32c_portable(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    return ~crc32c_sw(~crc, data, len);
}

/* ---- file helpers ------------------------------------------------------------------ */

static int err_from_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return HPS_ENOENT;
    case EEXIST:
        return HPS_EEXIST;
    case ENOMEM:
        return HPS_ENOMEM;
    default:
        return HPS_EIO;
    }
}

static int pwrite_all(int fd, const unsigned char *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return HPS_EIO;
        }
        if (w == 0)
            return HPS_EIO;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return HPS_OK;
}

/* Read up to n bytes at off; *got < n only at end of file. */
static int pread_full(int fd, unsigned char *p, size_t n, uint64_t off, size_t *got)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return HPS_EIO;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return HPS_OK;
}

static int fsync_retry(int fd, bool data_only)
{
    int rc;
    do
        rc = data_only ? fdatasync(fd) : fsync(fd);
    while (rc != 0 && errno == EINTR);
    return rc == 0 ? HPS_OK : HPS_EIO;
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
        return HPS_EIO;
    int rc = fsync_retry(dfd, false);
    if (close(dfd) != 0 && rc == HPS_OK)
        rc = HPS_EIO;
    return rc;
}

static void encode_header(unsigned char h[HDR_SIZE])
{
    memcpy(h, journal_magic, 8);
    put_u32(h + 8, FORMAT_VERSION);
    put_u32(h + 12, 0);
}

/* Make fd an empty journal: size 0, then the header, then fsync. */
static int write_fresh_header(int fd)
{
    unsigned char h[HDR_SIZE];
    encode_header(h);
    if (ftruncate(fd, 0) != 0)
        return HPS_EIO;
    int rc = pwrite_all(fd, h, HDR_SIZE, 0);
    if (rc == HPS_OK)
        rc = fsync_retry(fd, false);
    return rc;
}

/* ---- scanning ---------------------------------------------------------------------- */

typedef int (*record_cb)(void *ctx, const hps_record *rec);

typedef struct scan_result {
    uint64_t end;       /* offset just past the last valid record */
    uint64_t last_seq;  /* its sequence number (0 if none) */
    int cb_ret;         /* non-zero value a callback stopped with */
} scan_result;

/* A window over [base, limit) of a file, refilled by large preads. */
typedef struct chunk_reader {
    int fd;
    uint64_t limit;
    uint64_t base;        /* file offset of buf[0] */
    unsigned char *buf;
    size_t cap, have, pos;
} chunk_reader;

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
    int rc = pread_full(r->fd, r->buf + r->have, want < room ? (size_t)want : room,
                        r->base + r->have, &got);
    r->have += got;
    *ok = rc == HPS_OK && r->have >= need;
    return rc;
}

/* Walk the records in [HDR_SIZE, limit) of fd and stop at the first invalid one
 * (type 0, oversized length, sequence gap, CRC mismatch, or running past limit or
 * end of file). cb, if not NULL, sees each valid record; a non-zero return stops
 * the walk and lands in res->cb_ret. Returns HPS_OK, HPS_ENOMEM or HPS_EIO. */
static int scan_records(int fd, uint64_t limit, record_cb cb, void *ctx, scan_result *res)
{
    res->end = HDR_SIZE;
    res->last_seq = 0;
    res->cb_ret = 0;
    if (limit < HDR_SIZE + REC_OVERHEAD)
        return HPS_OK;

    uint64_t total = limit - HDR_SIZE;
    chunk_reader r = {.fd = fd, .limit = limit, .base = HDR_SIZE};
    r.cap = total < SCAN_CHUNK ? (size_t)total : SCAN_CHUNK;
    r.buf = malloc(r.cap);
    if (!r.buf)
        return HPS_ENOMEM;

    int rc = HPS_OK;
    bool ok;
    while (limit - (r.base + r.pos) >= REC_OVERHEAD) {
        rc = reader_need(&r, REC_HEAD, &ok);
        if (!ok)
            break;
        const unsigned char *h = r.buf + r.pos;
        uint32_t len = get_u32(h);
        uint32_t type = get_u32(h + 4);
        uint64_t seq = get_u64(h + 8);
        size_t need = REC_OVERHEAD + (size_t)len;
        if (type == 0 || len > MAX_PAYLOAD || seq != res->last_seq + 1 ||
            limit - (r.base + r.pos) < need)
            break;
        rc = reader_need(&r, need, &ok);
        if (!ok)
            break;
        h = r.buf + r.pos;
        if (hps_crc32c(0, h, REC_HEAD + (size_t)len) != get_u32(h + REC_HEAD + len))
            break;
        r.pos += need;
        res->end = r.base + r.pos;
        res->last_seq = seq;
        if (cb) {
            hps_record rec = {.seq = seq,
                              .type = type,
                              .trial_id = (int64_t)get_u64(h + 16),
                              .payload = h + REC_HEAD,
                              .len = len};
            int ret = cb(ctx, &rec);
            if (ret != 0) {
                res->cb_ret = ret;
                break;
            }
        }
    }
    free(r.buf);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------ */

/* True if the n bytes at p are all zero or a prefix of a valid file header: what a
 * crash can leave behind while a journal is being created. */
static bool is_unfinished_header(const unsigned char *p, size_t n)
{
    unsigned char h[HDR_SIZE];
    encode_header(h);
    bool zero = true;
    for (size_t i = 0; i < n; i++)
        zero = zero && p[i] == 0;
    return zero || memcmp(p, h, n) == 0;
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
        int rc = pread_full(fd, chunk, n, off, &got);
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

/* Open (or create) the file for mode; *created says whether this call made it. */
static int open_file(const char *path, int mode, int *fd_out, bool *created)
{
    *created = false;
    if (mode == HPS_JOURNAL_READ) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return err_from_errno(errno);
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
                return err_from_errno(errno);
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
        return err_from_errno(errno);
    }
}

/* Validate the file header and find the valid prefix; writers cut the rest. */
static int recover(hps_journal *j, bool created, const char *path)
{
    int rc;
    if (created) {
        rc = write_fresh_header(j->fd);
        if (rc == HPS_OK)
            rc = fsync_parent_dir(path);
        j->disk_end = HDR_SIZE;
        return rc;
    }
    struct stat st;
    if (fstat(j->fd, &st) != 0)
        return HPS_EIO;
    uint64_t size = (uint64_t)st.st_size;

    unsigned char h[HDR_SIZE];
    size_t got;
    rc = pread_full(j->fd, h, HDR_SIZE, 0, &got);
    if (rc != HPS_OK)
        return rc;
    bool fresh = false;
    if (got < HDR_SIZE) {
        if (!is_unfinished_header(h, got))
            return HPS_ECORRUPT;
        fresh = true;
    } else if (memcmp(h, journal_magic, 8) != 0) {
        bool zero;
        rc = file_is_all_zero(j->fd, size, &zero);
        if (rc != HPS_OK)
            return rc;
        if (!zero)
            return HPS_ECORRUPT;
        fresh = true;
    } else if (get_u32(h + 8) != FORMAT_VERSION) {
        return HPS_EVERSION;
    }
    if (fresh) {
        /* No record can exist yet: readers see an empty journal, writers redo the
         * header the crashed creator never finished. */
        j->disk_end = HDR_SIZE;
        if (j->mode == HPS_JOURNAL_READ)
            return HPS_OK;
        j->truncated = size;
        rc = write_fresh_header(j->fd);
        return rc == HPS_OK ? fsync_parent_dir(path) : rc;
    }

    scan_result res;
    rc = scan_records(j->fd, size, NULL, NULL, &res);
    if (rc != HPS_OK)
        return rc;
    j->disk_end = res.end;
    j->disk_seq = res.last_seq;
    j->last_seq = res.last_seq;
    if (j->mode != HPS_JOURNAL_READ && res.end < size) {
        if (ftruncate(j->fd, (off_t)res.end) != 0)
            return HPS_EIO;
        rc = fsync_retry(j->fd, false);
        if (rc != HPS_OK)
            return rc;
        j->truncated = size - res.end;
    }
    return HPS_OK;
}

int hps_journal_open(const char *path, int mode, hps_journal **out)
{
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
    rc = recover(j, created, path);
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
    /* Always from disk_end: a retry rewrites what a failed attempt may have left. */
    int rc = pwrite_all(j->fd, j->buf, j->len, j->disk_end);
    if (rc == HPS_OK)
        rc = fsync_retry(j->fd, true);
    if (rc != HPS_OK)
        return rc;
    j->disk_end += j->len;
    j->disk_seq = j->last_seq;
    j->len = 0;
    j->pending = 0;
    if (j->cap > BUF_KEEP) {
        free(j->buf);
        j->buf = NULL;
        j->cap = 0;
    }
    return HPS_OK;
}

/* ---- replay and queries ------------------------------------------------------------ */

int hps_journal_replay(hps_journal *j, int (*cb)(void *ctx, const hps_record *rec), void *ctx)
{
    if (!j || !cb)
        return HPS_EINVAL;
    scan_result res;
    int rc = scan_records(j->fd, j->disk_end, cb, ctx, &res);
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
