/*
 * hps_results_stream_trials: /trials handed over block by block, in order, in
 * bounded memory (`hpsweep trials` writes a million rows this way). The first
 * block is read on the caller's thread with every check a whole read makes; the
 * blocks after it are read by worker threads, one per core this process may run
 * on (its affinity mask: a Slurm job's cores, taskset's; at most
 * STREAM_MAX_WORKERS), each into a slot of its own, up to n_slots blocks ahead of
 * the one being handed over, so that the caller formats while the workers
 * decompress; or, when the stream has a text stage (hps_results_stream_text), the
 * workers turn each block into text too and the caller only writes it. HDF5 (this
 * build serialises its calls, and is not thread-safe) is called by one thread at
 * a time: the workers hold the h5 lock around each call, and the caller calls it
 * again only after they have ended. A block is read, in order of preference:
 * chunk by chunk as stored and decoded here (results_inflate.c: HDF5 held only
 * for the raw read), as stored rows through H5Dread (results_raw.c: a table
 * whose chunks are filtered otherwise, or a chunk with a filter skipped), or
 * through HDF5's conversion (a layout neither decodes). Without threads (one
 * could not be made) each block is read on the caller's thread before it is
 * handed over. Declared in results_internal.h.
 */
#define _GNU_SOURCE /* sched_getaffinity and CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "results_internal.h"
#include "store_h5.h"
#include "hpsweep/error.h"

/* Worker threads at most (each keeps four chunks' worth of buffers: 4 MiB at
 * most for the chunks store_tables.c writes), and slots: one per worker and
 * STREAM_SPARE_SLOTS more (blocks read and waiting), at least STREAM_MIN_SLOTS. A
 * slot holds a block of trials, and its text when the stream has a text stage. */
#define STREAM_MAX_WORKERS 8
#define STREAM_SPARE_SLOTS 2
#define STREAM_MIN_SLOTS 4

/* One block after the first: res is a shallow copy of the caller's results (its
 * space, goal and names) holding the block's trials; done and the rest are the
 * ring's (under mu) until a worker claims the block, then that worker's until it
 * sets done, then the caller's until it hands the slot back. */
typedef struct trial_block {
    hps_results res;
    int64_t first;         /* the block's first row */
    int64_t done;          /* the block read into it, -1 while none */
    hps_trial *rows;       /* raw reading: the trials, kept from block to block */
    double *values;        /* and their parameter values */
    double *block_values;  /* read through HDF5's conversion: allocated per block */
    hps_export_text text;  /* the block as text (a stream with a text stage) */
    char err[512];
    int rc;
} trial_block;

typedef struct stream_ring {
    const hps_trial_stream *s;
    hid_t file;
    int64_t block, total, n_blocks;
    int np, n_slots;
    hps_raw_trials *raw; /* NULL: blocks read through hps_results_read_block */
    hps_chunks *chunks;  /* NULL: raw rows read through H5Dread */
    H5E_auto2_t quiet;   /* the caller's HDF5 error printing, for the workers */
    void *quiet_data;    /* (per thread in a thread-safe HDF5) */
    int threaded;        /* mu, cv and h5 are initialised and workers run */
    pthread_mutex_t mu;  /* next, consumed, stop and every slot's done */
    pthread_cond_t cv;   /* a block was read or handed over, or stop was set */
    pthread_mutex_t h5;  /* held around every HDF5 call of a worker */
    int64_t next;        /* the next block to claim */
    int64_t consumed;    /* blocks handed over (and their slots given back) */
    int stop;            /* a block failed or the caller stopped: claim no more */
    trial_block *slot;   /* block j in slot[j % n_slots] */
} stream_ring;

typedef struct stream_worker {
    stream_ring *q;
    pthread_t thread;
    hps_chunk_scratch *scratch; /* chunk reading */
    unsigned char *buf;         /* rows read through H5Dread: a chunk's, or a block's */
} stream_worker;

/*
 * A lock, unlock, wait, wake-up, join or destroy that fails means a mutex or
 * condition that is not one (a bug, or memory overwritten): the ring's state can
 * no longer be read and the other threads can neither be stopped nor waited for.
 * As libuv does (uv_mutex_lock), say which call failed and abort.
 */
static void must(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "hpsweep: streaming /trials: %s failed: %s\n", what, strerror(rc));
        abort();
    }
}

static void lock(pthread_mutex_t *m)
{
    must(pthread_mutex_lock(m), "pthread_mutex_lock");
}

static void unlock(pthread_mutex_t *m)
{
    must(pthread_mutex_unlock(m), "pthread_mutex_unlock");
}

/* Wake every thread waiting on the ring: workers and the caller wait on one cv. */
static void wake_all(stream_ring *q)
{
    must(pthread_cond_broadcast(&q->cv), "pthread_cond_broadcast");
}

static void h5_lock(stream_ring *q)
{
    if (q->threaded)
        lock(&q->h5);
}

static void h5_unlock(stream_ring *q)
{
    if (q->threaded)
        unlock(&q->h5);
}

/* Rows first..first + n of block b as stored (q->raw set), chunk by chunk when
 * q->chunks is, through w's buffers. */
static int read_raw(stream_ring *q, stream_worker *w, trial_block *b, int64_t n,
                    const hps_h5err *e)
{
    int64_t first = b->first;
    int rc;
    if (!q->chunks) {
        h5_lock(q);
        rc = hps_raw_trials_fetch(q->raw, first, n, w->buf, e);
        h5_unlock(q);
        return rc == HPS_OK
                   ? hps_raw_trials_decode(q->raw, w->buf, first, n, b->rows, b->values, e)
                   : rc;
    }
    size_t rowsize = hps_raw_trials_rowsize(q->raw);
    int64_t cr = hps_chunks_rows(q->chunks);
    for (int64_t k = first / cr; k * cr < first + n; k++) {
        int64_t lo = k * cr > first ? k * cr : first;
        int64_t hi = (k + 1) * cr < first + n ? (k + 1) * cr : first + n;
        const unsigned char *rows = NULL;
        h5_lock(q);
        rc = hps_chunk_fetch(q->chunks, k, w->scratch, e);
        if (rc == HPS_ENOSYS) { /* a filter skipped: HDF5 reads these rows */
            rc = hps_raw_trials_fetch(q->raw, lo, hi - lo, w->buf, e);
            rows = w->buf;
        }
        h5_unlock(q);
        if (rc == HPS_OK && !rows) {
            rc = hps_chunk_decode(q->chunks, k, w->scratch, &rows, e);
            if (rc == HPS_OK)
                rows += (size_t)(lo - k * cr) * rowsize;
        }
        if (rc == HPS_OK)
            rc = hps_raw_trials_decode(q->raw, rows, lo, hi - lo, b->rows + (lo - first),
                                       q->np ? b->values + (lo - first) * q->np : NULL, e);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

/* Turn block b (read) into text when the stream has a text stage. */
static int block_text(const hps_trial_stream *s, const hps_results *r, int64_t first,
                      hps_export_text *out, char *err, size_t errlen)
{
    int rc = s->text ? s->text(r, first, s->arg, out) : HPS_OK;
    if (rc != HPS_OK)
        snprintf(err, errlen, "turning /trials rows %lld-%lld into text: %s",
                 (long long)first, (long long)(first + r->n_trials - 1), hps_strerror(rc));
    return rc;
}

/* Read block j (the table's (j + 1)-th) into b, and turn it into text when the
 * stream has a text stage; b->rc and b->err say how. */
static void read_rows(stream_ring *q, stream_worker *w, trial_block *b, int64_t j);

static void read_block(stream_ring *q, stream_worker *w, trial_block *b, int64_t j)
{
    read_rows(q, w, b, j);
    if (b->rc == HPS_OK)
        b->rc = block_text(q->s, &b->res, b->first, &b->text, b->err, sizeof b->err);
}

static void read_rows(stream_ring *q, stream_worker *w, trial_block *b, int64_t j)
{
    hps_h5err e = {b->err, sizeof b->err};
    b->err[0] = '\0';
    b->first = (j + 1) * q->block;
    int64_t n = q->total - b->first < q->block ? q->total - b->first : q->block;
    if (!q->raw) {
        int64_t total;
        h5_lock(q);
        b->rc = hps_results_read_block(q->file, &b->res, b->first, q->block, &total,
                                       &b->block_values, &e);
        h5_unlock(q);
        return;
    }
    b->rc = read_raw(q, w, b, n, &e);
    b->res.trials = b->rows;
    b->res.n_trials = b->rc == HPS_OK ? n : 0;
}

/* Block b (read or not) emptied: trials hps_results_read_block allocated are freed. */
static void free_block(trial_block *b)
{
    if (b->res.trials != b->rows)
        free(b->res.trials);
    free(b->block_values);
    b->res.trials = NULL;
    b->res.n_trials = 0;
    b->block_values = NULL;
}

/* A worker: claims the next block whose slot is free, reads it, says so; until
 * every block is claimed, one fails or the caller stops. */
static void *work(void *arg)
{
    stream_worker *w = arg;
    stream_ring *q = w->q;
    h5_lock(q);
    /* errors are reported through e, not printed; were this to fail, HDF5 would
     * only print them as well */
    (void)H5Eset_auto2(H5E_DEFAULT, q->quiet, q->quiet_data);
    h5_unlock(q);
    for (;;) {
        lock(&q->mu);
        while (!q->stop && q->next < q->n_blocks && q->next >= q->consumed + q->n_slots)
            must(pthread_cond_wait(&q->cv, &q->mu), "pthread_cond_wait");
        if (q->stop || q->next >= q->n_blocks) {
            unlock(&q->mu);
            return NULL;
        }
        int64_t j = q->next++;
        unlock(&q->mu);
        trial_block *b = &q->slot[j % q->n_slots];
        read_block(q, w, b, j);
        lock(&q->mu);
        b->done = j;
        if (b->rc != HPS_OK)
            q->stop = 1; /* the blocks before j are claimed already: they complete */
        wake_all(q);
        unlock(&q->mu);
    }
}

/* How many workers: one per core of the affinity mask (every online core when it
 * cannot be read), at most STREAM_MAX_WORKERS and n_blocks: more threads than the
 * cores a job was given would only take turns on them. */
static int worker_count(int64_t n_blocks)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long cpus = sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0
                    ? CPU_COUNT(&set)
                    : sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 ? (cpus < STREAM_MAX_WORKERS ? (int)cpus : STREAM_MAX_WORKERS) : 1;
    return n_blocks < n ? (int)n_blocks : n;
}

/*
 * The slots, the workers' buffers and the way blocks are read: as stored, chunk
 * by chunk where the table's filters are ours (q->raw, q->chunks); else
 * converted by HDF5 (memory being short counts as else: that path allocates per
 * block).
 */
static void prepare(stream_ring *q, const hps_results *first, stream_worker *w, int n_workers,
                    const hps_h5err *e)
{
    int modern = hps_results_trials_modern(q->file, e);
    if (modern >= 0 && hps_raw_trials_open(q->file, &first->space, modern, &q->raw, e) != HPS_OK)
        q->raw = NULL;
    size_t rowsize = q->raw ? hps_raw_trials_rowsize(q->raw) : 0;
    if (q->raw && hps_chunks_open(hps_raw_trials_dataset(q->raw), rowsize, q->total, &q->chunks,
                                  e) != HPS_OK)
        q->chunks = NULL;
    int ok = 1;
    for (int i = 0; i < q->n_slots; i++) {
        trial_block *b = &q->slot[i];
        *b = (trial_block){.res = *first, .done = -1};
        b->res.trials = NULL;
        b->res.n_trials = 0;
        if (q->raw) {
            b->rows = malloc((size_t)q->block * sizeof *b->rows);
            b->values = q->np ? malloc((size_t)q->block * (size_t)q->np * sizeof *b->values)
                              : NULL;
            ok = ok && b->rows && (b->values || !q->np);
        }
    }
    size_t buf_rows = q->chunks ? (size_t)hps_chunks_rows(q->chunks) : (size_t)q->block;
    for (int i = 0; ok && q->raw && i < n_workers; i++) {
        w[i].buf = malloc(buf_rows * rowsize);
        ok = w[i].buf && (!q->chunks || hps_chunk_scratch_init(q->chunks, &w[i].scratch) == HPS_OK);
    }
    if (!ok) { /* too little memory to read as stored: HDF5 converts, a block at a time */
        for (int i = 0; i < q->n_slots; i++) {
            free(q->slot[i].rows);
            free(q->slot[i].values);
            q->slot[i].rows = NULL;
            q->slot[i].values = NULL;
        }
        for (int i = 0; i < n_workers; i++) {
            free(w[i].buf);
            hps_chunk_scratch_free(w[i].scratch);
            w[i].buf = NULL;
            w[i].scratch = NULL;
        }
        hps_chunks_close(q->chunks);
        hps_raw_trials_close(q->raw);
        q->chunks = NULL;
        q->raw = NULL;
    }
}

/* Start up to n workers: the number started (0: read on the caller's thread). */
static int start_workers(stream_ring *q, stream_worker *w, int n)
{
    if (pthread_mutex_init(&q->mu, NULL) != 0)
        return 0;
    if (pthread_cond_init(&q->cv, NULL) != 0) {
        must(pthread_mutex_destroy(&q->mu), "pthread_mutex_destroy");
        return 0;
    }
    if (pthread_mutex_init(&q->h5, NULL) != 0) {
        must(pthread_cond_destroy(&q->cv), "pthread_cond_destroy");
        must(pthread_mutex_destroy(&q->mu), "pthread_mutex_destroy");
        return 0;
    }
    q->threaded = 1;
    int started = 0;
    /* The workers wait for the h5 lock until this thread has stopped calling HDF5
     * (it has: the first block is read). */
    while (started < n && pthread_create(&w[started].thread, NULL, work, &w[started]) == 0)
        started++;
    if (started == 0) {
        q->threaded = 0;
        must(pthread_mutex_destroy(&q->h5), "pthread_mutex_destroy");
        must(pthread_cond_destroy(&q->cv), "pthread_cond_destroy");
        must(pthread_mutex_destroy(&q->mu), "pthread_mutex_destroy");
    }
    return started;
}

/* Stop the started workers and wait for them; the ring is single-threaded after. */
static void stop_workers(stream_ring *q, stream_worker *w, int started)
{
    if (!q->threaded)
        return;
    lock(&q->mu);
    q->stop = 1;
    wake_all(q);
    unlock(&q->mu);
    for (int i = 0; i < started; i++)
        must(pthread_join(w[i].thread, NULL), "pthread_join");
    must(pthread_mutex_destroy(&q->h5), "pthread_mutex_destroy");
    must(pthread_cond_destroy(&q->cv), "pthread_cond_destroy");
    must(pthread_mutex_destroy(&q->mu), "pthread_mutex_destroy");
    q->threaded = 0;
}

/* Hand the blocks after the first over to s->each, in order: the first error
 * (a block's or each's) is returned. */
static int hand_over(stream_ring *q, stream_worker *w, const hps_trial_stream *s,
                     const hps_h5err *e)
{
    int rc = HPS_OK;
    for (int64_t j = 0; rc == HPS_OK && j < q->n_blocks; j++) {
        trial_block *b = &q->slot[j % q->n_slots];
        if (q->threaded) {
            lock(&q->mu);
            while (b->done != j)
                must(pthread_cond_wait(&q->cv, &q->mu), "pthread_cond_wait");
            unlock(&q->mu);
        } else {
            read_block(q, &w[0], b, j);
        }
        rc = b->rc;
        if (rc != HPS_OK)
            hps_h5_errf(e, "%s", b->err);
        else if (s->put)
            rc = s->put(&b->res, b->first, &b->text, s->arg);
        else
            rc = s->each(&b->res, b->first, s->arg);
        free_block(b);
        if (q->threaded) {
            lock(&q->mu);
            b->done = -1;
            q->consumed++;
            wake_all(q);
            unlock(&q->mu);
        }
    }
    return rc;
}

int hps_results_stream_trials(hid_t file, hps_results *out, const hps_trial_stream *s,
                              const hps_h5err *e)
{
    hps_results first = *out;
    hps_export_text first_text = {0};
    double *first_values = NULL;
    int64_t total = 0;
    first.trials = NULL;
    first.n_trials = 0;
    stream_ring *q = NULL;
    stream_worker *w = NULL;
    int n_workers = 0, started = 0;
    int rc = hps_results_read_block(file, &first, 0, s->block, &total, &first_values, e);
    if (rc != HPS_OK || first.n_trials == 0)
        goto done;
    q = calloc(1, sizeof *q);
    int64_t n_blocks = (total - 1) / s->block; /* blocks after the first */
    n_workers = worker_count(n_blocks);
    int n_slots = n_workers + STREAM_SPARE_SLOTS;
    if (n_slots < STREAM_MIN_SLOTS)
        n_slots = STREAM_MIN_SLOTS;
    if (q) {
        q->slot = calloc((size_t)n_slots, sizeof *q->slot);
        w = calloc((size_t)(n_workers > 0 ? n_workers : 1), sizeof *w);
    }
    if (!q || !q->slot || !w) {
        hps_h5_errf(e, "out of memory reading /trials");
        rc = HPS_ENOMEM;
        goto done;
    }
    *q = (stream_ring){.s = s, .file = file, .block = s->block, .total = total,
                       .n_blocks = n_blocks, .np = out->space.n_params, .n_slots = n_slots, .slot = q->slot};
    for (int i = 0; i < (n_workers > 0 ? n_workers : 1); i++)
        w[i].q = q;
    if (H5Eget_auto2(H5E_DEFAULT, &q->quiet, &q->quiet_data) < 0) {
        q->quiet = NULL; /* the workers print nothing then */
        q->quiet_data = NULL;
    }
    if (n_blocks > 0) {
        prepare(q, &first, w, n_workers, e);
        started = start_workers(q, w, n_workers);
    }
    if (!s->put) {
        rc = s->each(&first, 0, s->arg);
    } else {
        char why[512];
        rc = block_text(s, &first, 0, &first_text, why, sizeof why);
        if (rc != HPS_OK)
            hps_h5_errf(e, "%s", why);
        else
            rc = s->put(&first, 0, &first_text, s->arg);
    }
    if (rc == HPS_OK)
        rc = hand_over(q, w, s, e);
    stop_workers(q, w, started);
done:
    free(first.trials);
    free(first_values);
    free(first_text.data);
    if (q && q->slot) {
        for (int i = 0; i < q->n_slots; i++) {
            trial_block *b = &q->slot[i];
            free_block(b); /* read ahead, never handed over */
            free(b->rows);
            free(b->values);
            free(b->text.data);
        }
    }
    for (int i = 0; w && i < (n_workers > 0 ? n_workers : 1); i++) {
        free(w[i].buf);
        hps_chunk_scratch_free(w[i].scratch);
    }
    if (q) {
        hps_chunks_close(q->chunks);
        hps_raw_trials_close(q->raw);
        free(q->slot);
    }
    free(w);
    free(q);
    return rc;
}
