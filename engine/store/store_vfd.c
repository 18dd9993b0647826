/*
 * The file driver sweep.h5 is written through: straight to disk, yet HDF5 never
 * meets a disk error.
 *
 * HDF5 copes badly with a write that fails inside its cache flushes (it may
 * swallow the error, or crash at exit), so sweep.h5 used to be built whole in
 * memory (the core driver) and written out by us: a million trials held ~20 MB
 * of file image in the coordinator. This driver always reports success to HDF5.
 * Raw data (the tables' chunks, most of the file) goes to the disk as it comes,
 * blocks that follow one another gathered into one pwrite of up to 1 MiB.
 * Metadata (object headers, indexes, heaps, the global heap's collections that
 * HDF5 writes as raw data: a few kilobytes even for a million trials) is kept in
 * memory, laid over whatever a read returns, and written at
 * the close in address order (HDF5 writes it scattered, a block at a time). The
 * first failed I/O is recorded for the caller, who checks it after H5Fclose and
 * throws the file away; later writes are not attempted. So HDF5 never parses
 * bytes that did not reach the disk; a raw block that did not is read as what the
 * disk has, its chunk's checksum or filter fails (an ordinary HDF5 error), and the
 * recorded write error is what the caller reports.
 *
 * One sink serves one file: the descriptor is the caller's (opened, sealed,
 * fsynced and closed by store.c); the driver never opens or closes it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/fs.h"
#include "store_h5.h"
#include "hpsweep/error.h"

/* A metadata block as last written: [addr, addr + size). */
typedef struct kept_block {
    haddr_t addr;
    size_t size;
    unsigned char *data;
    int on_disk; /* put on the disk since it was written */
} kept_block;

struct hps_store_sink {
    int fd;
    int err;            /* errno of the first failed I/O; 0 while none failed */
    const char *what;   /* "write" or "read" */
    haddr_t eof;        /* end of what was written */
    haddr_t size;       /* the end of allocation HDF5 left at its close */
    kept_block *kept;   /* metadata as written, no two overlapping */
    size_t n_kept, cap_kept;
    int oom;            /* a block could not be kept: the file cannot be trusted */
    int dirty;          /* metadata kept since it was last put on the disk */
    unsigned char *pend; /* written blocks that follow one another, not yet on disk */
    haddr_t pend_addr;
    size_t pend_len;
};

/* Bytes of consecutive blocks gathered into one pwrite: HDF5 writes a chunk or a
 * metadata block at a time, mostly one after another. */
#define PEND_CAP ((size_t)1 << 20)

/* The driver's handle of one open file (HDF5's public part first). */
typedef struct sink_file {
    H5FD_t pub;
    hps_store_sink *sink;
    haddr_t eoa;
} sink_file;

/* What the file access list carries to open(). */
typedef struct sink_info {
    hps_store_sink *sink;
} sink_info;

#define SINK_MAXADDR ((haddr_t)INT64_MAX)

static void failed(hps_store_sink *s, const char *what, int err)
{
    if (s->err == 0) {
        s->err = err ? err : EIO;
        s->what = what;
    }
}

/* Room for one more kept block. */
static int room(hps_store_sink *s)
{
    if (s->n_kept < s->cap_kept)
        return 1;
    size_t cap = s->cap_kept * 2 + 8;
    kept_block *k = realloc(s->kept, sizeof *k * cap);
    if (!k)
        return 0;
    s->kept = k;
    s->cap_kept = cap;
    return 1;
}

/* Drop [addr, addr + size) from the kept blocks (a newer write covers it), so that
 * no two kept blocks overlap: a block wholly covered goes, one partly covered keeps
 * the rest (split in two when the write falls inside it). Out of memory for a
 * split: the whole block goes (the disk has its bytes unless a write failed) and
 * the sink reports ENOMEM, which throws the file away. */
static void forget(hps_store_sink *s, haddr_t addr, size_t size)
{
    haddr_t end = addr + size;
    for (size_t i = 0; i < s->n_kept;) {
        kept_block *b = &s->kept[i];
        haddr_t bend = b->addr + b->size;
        if (bend <= addr || b->addr >= end) {
            i++;
        } else if (b->addr < addr && bend > end) { /* the write falls inside */
            size_t tail = (size_t)(bend - end);
            unsigned char *t = malloc(tail);
            if (!t || !room(s)) {
                free(t);
                s->oom = 1;
                free(b->data);
                *b = s->kept[--s->n_kept];
                continue;
            }
            b = &s->kept[i];
            memcpy(t, b->data + (end - b->addr), tail);
            s->kept[s->n_kept++] = (kept_block){end, tail, t, b->on_disk};
            b->size = (size_t)(addr - b->addr);
            i++;
        } else if (b->addr < addr) { /* the write covers its end */
            b->size = (size_t)(addr - b->addr);
            i++;
        } else if (bend > end) { /* the write covers its start */
            memmove(b->data, b->data + (end - b->addr), (size_t)(bend - end));
            b->size = (size_t)(bend - end);
            b->addr = end;
            i++;
        } else { /* wholly covered */
            free(b->data);
            *b = s->kept[--s->n_kept];
        }
    }
}

static void keep(hps_store_sink *s, haddr_t addr, size_t size, const void *buf)
{
    unsigned char *d = malloc(size ? size : 1);
    if (!d || !room(s)) {
        free(d);
        s->oom = 1;
        return;
    }
    memcpy(d, buf, size);
    s->kept[s->n_kept++] = (kept_block){addr, size, d, 0};
    s->dirty = 1;
}

/* Write [addr, addr + size) to the disk, unless an earlier I/O failed. */
static void put(hps_store_sink *s, haddr_t addr, const unsigned char *p, size_t size)
{
    int e = s->err == 0 ? hps_pwrite_full(s->fd, p, size, (long long)addr) : 0;
    if (e != 0)
        failed(s, "write", e);
}

/* Put what was gathered on the disk. */
static void drain(hps_store_sink *s)
{
    if (s->pend_len > 0)
        put(s, s->pend_addr, s->pend, s->pend_len);
    s->pend_len = 0;
}

/* Write [addr, addr + size) through the gathering buffer. */
static void gather(hps_store_sink *s, haddr_t addr, const unsigned char *p, size_t size)
{
    if (s->err != 0)
        return;
    if (s->pend_len > 0 && addr == s->pend_addr + s->pend_len && size <= PEND_CAP - s->pend_len) {
        memcpy(s->pend + s->pend_len, p, size);
        s->pend_len += size;
        return;
    }
    drain(s);
    if (size < PEND_CAP && (s->pend || (s->pend = malloc(PEND_CAP)))) {
        memcpy(s->pend, p, size);
        s->pend_addr = addr;
        s->pend_len = size;
    } else {
        put(s, addr, p, size);
    }
}

static int by_addr(const void *a, const void *b)
{
    haddr_t x = ((const kept_block *)a)->addr, y = ((const kept_block *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Put the kept metadata not yet there on the disk, in address order (so
 * neighbours share a pwrite), and what was gathered before it. */
static void settle(hps_store_sink *s)
{
    if (s->dirty) {
        qsort(s->kept, s->n_kept, sizeof *s->kept, by_addr);
        for (size_t i = 0; i < s->n_kept; i++) {
            if (!s->kept[i].on_disk)
                gather(s, s->kept[i].addr, s->kept[i].data, s->kept[i].size);
            s->kept[i].on_disk = 1;
        }
        s->dirty = 0;
    }
    drain(s);
}

/* A collection of HDF5's global heap (variable-length strings: /config, the
 * provenance): HDF5 writes it as raw data, but parses it when it reads it back, so
 * it is metadata here. A chunk of rows that happens to start so is kept too:
 * harmless. */
static int is_global_heap(const void *buf, size_t size)
{
    return size >= 4096 && memcmp(buf, "GCOL", 4) == 0;
}

static H5FD_t *sink_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    (void)name;
    (void)flags;
    const sink_info *info = H5Pget_driver_info(fapl);
    if (!info || !info->sink || maxaddr == 0 || (maxaddr != HADDR_UNDEF && maxaddr > SINK_MAXADDR))
        return NULL;
    sink_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->sink = info->sink;
    return &f->pub;
}

static herr_t sink_close(H5FD_t *file)
{
    sink_file *f = (sink_file *)file;
    settle(f->sink);
    /* The file ends where HDF5's allocation ends; the caller cuts it there. (0: the
     * tentative open HDF5 makes before the real one.) */
    if (f->eoa > 0)
        f->sink->size = f->eoa;
    free(f);
    return 0;
}

static int sink_cmp(const H5FD_t *a, const H5FD_t *b)
{
    const hps_store_sink *x = ((const sink_file *)a)->sink, *y = ((const sink_file *)b)->sink;
    return x < y ? -1 : x > y;
}

static herr_t sink_query(const H5FD_t *file, unsigned long *flags)
{
    (void)file;
    /* As the sec2 driver: metadata gathered into blocks and accumulated, small raw
     * data sieved and gathered. */
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA |
             H5FD_FEAT_DATA_SIEVE | H5FD_FEAT_AGGREGATE_SMALLDATA;
    return 0;
}

static haddr_t sink_get_eoa(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const sink_file *)file)->eoa;
}

static herr_t sink_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr)
{
    (void)type;
    if (addr > SINK_MAXADDR)
        return -1;
    ((sink_file *)file)->eoa = addr;
    return 0;
}

static haddr_t sink_get_eof(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const sink_file *)file)->sink->eof;
}

static herr_t sink_get_handle(H5FD_t *file, hid_t fapl, void **handle)
{
    (void)fapl;
    *handle = &((sink_file *)file)->sink->fd;
    return 0;
}

static herr_t sink_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                        void *buf)
{
    (void)type;
    (void)dxpl;
    hps_store_sink *s = ((sink_file *)file)->sink;
    unsigned char *p = buf;
    if (addr > SINK_MAXADDR || size > SINK_MAXADDR - addr)
        return -1; /* an address HDF5 never allocated: its own error, not the disk's */
    drain(s);
    /* What the disk has, zeros past its end (as sec2)... */
    size_t done = 0;
    size_t want = addr >= s->eof ? 0 : s->eof - addr < size ? (size_t)(s->eof - addr) : size;
    int err = hps_pread_full(s->fd, p, want, (long long)addr, &done);
    if (err != 0)
        failed(s, "read", err);
    memset(p + done, 0, size - done);
    /* ...then the metadata as written (kept blocks never overlap: a write forgets
     * what it covers). */
    haddr_t end = addr + size;
    for (size_t i = 0; i < s->n_kept; i++) {
        const kept_block *b = &s->kept[i];
        haddr_t lo = b->addr > addr ? b->addr : addr;
        haddr_t hi = b->addr + b->size < end ? b->addr + b->size : end;
        if (lo < hi)
            memcpy(p + (lo - addr), b->data + (lo - b->addr), (size_t)(hi - lo));
    }
    return 0;
}

static herr_t sink_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                         const void *buf)
{
    (void)dxpl;
    hps_store_sink *s = ((sink_file *)file)->sink;
    if (addr > SINK_MAXADDR || size > SINK_MAXADDR - addr)
        return -1;
    /* Metadata waits in memory for the close (HDF5 writes it scattered, a block at
     * a time); raw data goes to the disk now. */
    forget(s, addr, size);
    if (addr + size > s->eof)
        s->eof = addr + size;
    if (type != H5FD_MEM_DRAW || is_global_heap(buf, size))
        keep(s, addr, size, buf);
    else
        gather(s, addr, buf, size);
    return 0;
}

static herr_t sink_flush(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    (void)dxpl;
    (void)closing;
    settle(((sink_file *)file)->sink);
    return 0;
}

static void *sink_fapl_get(H5FD_t *file)
{
    sink_info *info = malloc(sizeof *info);
    if (info)
        info->sink = ((sink_file *)file)->sink;
    return info;
}

static void *sink_fapl_copy(const void *old)
{
    sink_info *info = malloc(sizeof *info);
    if (info)
        *info = *(const sink_info *)old;
    return info;
}

static herr_t sink_fapl_free(void *info)
{
    free(info);
    return 0;
}

static const H5FD_class_t sink_class = {
    .name = "hpsweep-sink",
    .maxaddr = SINK_MAXADDR,
    .fc_degree = H5F_CLOSE_WEAK,
    .fapl_size = sizeof(sink_info),
    .fapl_get = sink_fapl_get,
    .fapl_copy = sink_fapl_copy,
    .fapl_free = sink_fapl_free,
    .open = sink_open,
    .close = sink_close,
    .cmp = sink_cmp,
    .query = sink_query,
    .get_eoa = sink_get_eoa,
    .set_eoa = sink_set_eoa,
    .get_eof = sink_get_eof,
    .get_handle = sink_get_handle,
    .read = sink_read,
    .write = sink_write,
    .flush = sink_flush,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

/* The driver's id, registered on first use (sweep.h5 is written by one thread). */
static hid_t sink_driver(void)
{
    static hid_t id = H5I_INVALID_HID;
    if (id < 0 || H5Iis_valid(id) <= 0)
        id = H5FDregister(&sink_class);
    return id;
}

int hps_store_sink_open(hps_store_sink **out, int fd)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return HPS_ENOMEM;
    (*out)->fd = fd;
    return HPS_OK;
}

hid_t hps_store_sink_fapl(hps_store_sink *sink)
{
    hid_t fapl = hps_store_fapl(), driver = sink_driver();
    sink_info info = {sink};
    if (fapl < 0 || driver < 0 || H5Pset_driver(fapl, driver, &info) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
    return fapl;
}

int hps_store_sink_error(const hps_store_sink *sink, const char **what)
{
    if (sink->err == 0 && sink->oom) {
        *what = "keep metadata";
        return ENOMEM;
    }
    *what = sink->what;
    return sink->err;
}

uint64_t hps_store_sink_size(const hps_store_sink *sink)
{
    return sink->size;
}

void hps_store_sink_free(hps_store_sink *sink)
{
    if (!sink)
        return;
    for (size_t i = 0; i < sink->n_kept; i++)
        free(sink->kept[i].data);
    free(sink->kept);
    free(sink->pend);
    free(sink);
}
