/*
 * Shared fixtures of the trainer's tests (test_dataset, test_train,
 * test_train_resume): a double-precision near-equality assertion, a scratch
 * directory, an HDF5 writer for hand-made (good and bad) datasets, a trial
 * group of G threads joined by a barrier-based in-process allreduce that sums
 * in rank order on every rank (so every rank gets the identical sum, as
 * MPI_Allreduce gives), and an emulated device: the CPU kernels behind a table
 * whose memory counts as device memory, which runs the trial loop's GPU path
 * (staging, host mirrors, the device allreduce) without a GPU.
 */
#ifndef HPS_TESTS_TRAINER_FIXTURE_H
#define HPS_TESTS_TRAINER_FIXTURE_H

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/fs.h"
#include "trainer/ops.h"
#include "trainer/train.h"
#include "trainer/trainer.h"

/* |a - b| <= tol, in double, with both values printed on failure. */
#define assert_near(a, b, tol)                                                                  \
    do {                                                                                        \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                          \
        if (!(fabs(a_ - b_) <= t_)) {                                                           \
            print_error("%s = %.10g vs %s = %.10g: difference %.3g > %.3g\n", #a, a_, #b, b_,   \
                        fabs(a_ - b_), t_);                                                     \
            fail();                                                                             \
        }                                                                                       \
    } while (0)

/* A fresh scratch directory (removed by rm_tree). */
static inline void make_tmpdir(char *dir, size_t len, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/hps_%s_XXXXXX", tmp && tmp[0] ? tmp : "/tmp", tag);
    assert_non_null(mkdtemp(dir));
}

static inline void rm_tree(const char *dir)
{
    assert_int_equal(hps_rm_tree(dir), 0);
}

static inline int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/*
 * Write one dataset (creating intermediate groups) of rank 1 or 2 with the
 * given file type from memory data of mem_type.
 */
static inline void h5_put(hid_t file, const char *name, hid_t mem_type, hid_t file_type,
                          int rank, hsize_t d0, hsize_t d1, const void *data)
{
    hsize_t dims[2] = {d0, d1};
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    assert_true(lcpl >= 0);
    assert_true(H5Pset_create_intermediate_group(lcpl, 1) >= 0);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    assert_true(space >= 0);
    hid_t ds = H5Dcreate2(file, name, file_type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(ds >= 0);
    if (d0 * (rank > 1 ? d1 : 1) > 0)
        assert_true(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(ds);
    H5Sclose(space);
    H5Pclose(lcpl);
}

/* A small regression dataset: y = sum_j c_j x_j + 0.1 noise, d features. */
static inline void write_regression(const char *path, int n_train, int n_val, int d,
                                    int y_2d)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    for (int split = 0; split < 2; split++) {
        int n = split ? n_val : n_train;
        float *X = malloc(sizeof(float) * (size_t)(n * d)), *y = malloc(sizeof(float) * (size_t)n);
        assert_non_null(X);
        assert_non_null(y);
        unsigned s = 12345u + (unsigned)split;
        for (int i = 0; i < n; i++) {
            double t = 0;
            for (int j = 0; j < d; j++) {
                s = s * 1103515245u + 12345u;
                float x = (float)((double)(s >> 8) / 16777216.0 * 2.0 - 1.0);
                X[i * d + j] = x;
                t += (0.5 + 0.25 * j) * x;
            }
            s = s * 1103515245u + 12345u;
            y[i] = (float)(t + 0.1 * ((double)(s >> 8) / 16777216.0 - 0.5));
        }
        h5_put(f, split ? "/val/X" : "/train/X", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2,
               (hsize_t)n, (hsize_t)d, X);
        h5_put(f, split ? "/val/y" : "/train/y", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, y_2d ? 2 : 1,
               (hsize_t)n, 1, y);
        free(X);
        free(y);
    }
    H5Fclose(f);
}

/* ---- an emulated device -------------------------------------------------------------------- */

/*
 * hps_train_ops_cpu with host_memory = 0: hps_train_run_ops then stages every
 * batch through host_alloc buffers and to_backend copies, keeps host mirrors of
 * the state, reads the loss sums and the non-finite flag with to_host, and sums
 * the gradient with allreduce_device -- with the CPU's kernels, so the results
 * must equal the CPU path's bit for bit. Its "device" allocations are
 * registered, and every copy and allreduce checks which side each pointer is on
 * (emu_misuse() counts the violations).
 */
#define EMU_MAX 512

typedef struct emu_registry {
    pthread_mutex_t lock;
    const char *p[EMU_MAX];
    size_t n[EMU_MAX];
    int misuse;
} emu_registry;

static inline emu_registry *emu_reg(void)
{
    static emu_registry r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    return &r;
}

static inline int emu_is_device(const void *q)
{
    emu_registry *r = emu_reg();
    const char *c = q;
    int found = 0;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < EMU_MAX && !found; i++)
        found = r->p[i] && c >= r->p[i] && c < r->p[i] + r->n[i];
    pthread_mutex_unlock(&r->lock);
    return found;
}

static inline void emu_flag_misuse(void)
{
    emu_registry *r = emu_reg();
    pthread_mutex_lock(&r->lock);
    r->misuse++;
    pthread_mutex_unlock(&r->lock);
}

static inline int emu_misuse(void)
{
    return emu_reg()->misuse;
}

static inline void *emu_alloc(hps_backend *be, size_t bytes)
{
    void *q = hps_train_ops_cpu.alloc(be, bytes);
    emu_registry *r = emu_reg();
    int slot = -1;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < EMU_MAX && slot < 0 && q; i++)
        if (!r->p[i]) {
            slot = i;
            r->p[i] = q;
            r->n[i] = bytes ? bytes : 1;
        }
    if (q && slot < 0)
        r->misuse++; /* the registry is full: enlarge EMU_MAX */
    pthread_mutex_unlock(&r->lock);
    return q;
}

static inline void emu_free(hps_backend *be, void *q)
{
    emu_registry *r = emu_reg();
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < EMU_MAX && q; i++)
        if (r->p[i] == q) {
            r->p[i] = NULL;
            r->n[i] = 0;
        }
    pthread_mutex_unlock(&r->lock);
    hps_train_ops_cpu.free(be, q);
}

static inline void emu_to_backend(hps_backend *be, void *dst, const void *src, size_t bytes)
{
    if (!emu_is_device(dst) || emu_is_device(src))
        emu_flag_misuse();
    hps_train_ops_cpu.to_backend(be, dst, src, bytes);
}

static inline void emu_to_host(hps_backend *be, void *dst, const void *src, size_t bytes)
{
    if (emu_is_device(dst) || !emu_is_device(src))
        emu_flag_misuse();
    hps_train_ops_cpu.to_host(be, dst, src, bytes);
}

/* The table (filled on the first call: call it before starting threads). */
static inline const hps_train_ops *emu_device_ops(void)
{
    static hps_train_ops t;
    if (!t.name) {
        t = hps_train_ops_cpu;
        t.name = "emulated-device";
        t.host_memory = 0;
        t.alloc = emu_alloc;
        t.free = emu_free;
        t.to_backend = emu_to_backend;
        t.to_host = emu_to_host;
    }
    return &t;
}

/* ---- a group of threads -------------------------------------------------------------------- */

#define TG_MAX 4

typedef struct tgroup {
    int size;
    pthread_barrier_t bar;
    float *bufs[TG_MAX];
    size_t n[TG_MAX];
    float *scratch[TG_MAX];
    size_t scratch_n[TG_MAX];
    long calls[TG_MAX];
    long device_calls[TG_MAX];
} tgroup;

typedef struct tg_rank {
    tgroup *g;
    int rank;
} tg_rank;

/* Sum buf over the group in rank order; every rank receives the identical sum. */
static inline int tg_sum(tg_rank *me, float *buf, size_t n)
{
    tgroup *g = me->g;
    int r = me->rank;
    g->bufs[r] = buf;
    g->n[r] = n;
    pthread_barrier_wait(&g->bar);
    int same = 1;
    for (int k = 0; k < g->size; k++)
        same &= g->n[k] == n;
    if (same && g->scratch_n[r] < n) {
        free(g->scratch[r]);
        g->scratch[r] = malloc(n * sizeof(float));
        g->scratch_n[r] = g->scratch[r] ? n : 0;
    }
    if (same && g->scratch[r])
        for (size_t i = 0; i < n; i++) {
            float s = g->bufs[0][i];
            for (int k = 1; k < g->size; k++)
                s += g->bufs[k][i];
            g->scratch[r][i] = s;
        }
    pthread_barrier_wait(&g->bar);
    if (!same || !g->scratch[r])
        return -1;
    memcpy(buf, g->scratch[r], n * sizeof(float));
    return 0;
}

/* The group's allreduce: host memory (an emulated device's memory is not). */
static inline int tg_allreduce(void *ctx, float *buf, size_t n)
{
    tg_rank *me = ctx;
    if (emu_is_device(buf))
        emu_flag_misuse();
    me->g->calls[me->rank]++;
    return tg_sum(me, buf, n);
}

/* The device allreduce of the emulated device: the same sum, of its memory. */
static inline int tg_allreduce_device(void *ctx, float *buf, size_t n, void *stream)
{
    tg_rank *me = ctx;
    (void)stream;
    if (!emu_is_device(buf))
        emu_flag_misuse();
    me->g->device_calls[me->rank]++;
    return tg_sum(me, buf, n);
}

static inline void tg_init(tgroup *g, int size)
{
    memset(g, 0, sizeof *g);
    g->size = size;
    assert_int_equal(pthread_barrier_init(&g->bar, NULL, (unsigned)size), 0);
}

static inline void tg_free(tgroup *g)
{
    pthread_barrier_destroy(&g->bar);
    for (int k = 0; k < TG_MAX; k++)
        free(g->scratch[k]);
}

/* What a test wants from one run of a trial on a group of threads. */
#define TG_MAX_EPOCHS 16

typedef struct tg_run {
    hps_train_params params;
    const char *data, *ckpt;
    const hps_train_ops *ops;        /* NULL: hps_train_run; else hps_train_run_ops on it */
    int device_comm;                 /* give the group allreduce_device */
    int stop_after_calls;            /* should_stop says yes at this call (0: never) */
    /* Out, per rank: */
    int rc[TG_MAX];
    char err[TG_MAX][512];
    hps_train_result result[TG_MAX];
    int stop_calls[TG_MAX];
    long device_calls[TG_MAX];       /* allreduce_device calls per rank */
    /* Rank 0's reports: */
    int n_reports;
    int64_t report_epoch[TG_MAX_EPOCHS];
    double report[TG_MAX_EPOCHS][HPS_TRAIN_MAX_METRICS];
    int report_n[TG_MAX_EPOCHS];
} tg_run;

typedef struct tg_thread {
    tg_run *run;
    tg_rank me;
} tg_thread;

static inline int tg_report(void *ctx, int64_t epoch, int n, const char *const *names,
                            const double *values)
{
    tg_thread *t = ctx;
    tg_run *run = t->run;
    if (run->n_reports >= TG_MAX_EPOCHS)
        return -1;
    run->report_epoch[run->n_reports] = epoch;
    run->report_n[run->n_reports] = n;
    for (int i = 0; i < n && i < HPS_TRAIN_MAX_METRICS; i++)
        run->report[run->n_reports][i] = values[i];
    (void)names;
    run->n_reports++;
    return 0;
}

static inline int tg_should_stop(void *ctx)
{
    tg_thread *t = ctx;
    int calls = ++t->run->stop_calls[t->me.rank];
    return t->run->stop_after_calls > 0 && calls >= t->run->stop_after_calls;
}

/* One rank's trial, on run->ops when given. */
static inline int tg_call(tg_run *run, int r, const hps_train_comm *comm,
                          const hps_train_hooks *hooks)
{
    if (run->ops)
        return hps_train_run_ops(run->ops, &run->params, run->data, comm, hooks, run->ckpt,
                                 &run->result[r], run->err[r], sizeof run->err[r]);
    return hps_train_run(&run->params, run->data, comm, hooks, run->ckpt, &run->result[r],
                         run->err[r], sizeof run->err[r]);
}

static inline void *tg_main(void *arg)
{
    tg_thread *t = arg;
    tg_run *run = t->run;
    int r = t->me.rank;
    hps_train_comm comm = {.rank = r, .size = t->me.g->size, .allreduce = tg_allreduce,
                           .ctx = &t->me,
                           .allreduce_device = run->device_comm ? tg_allreduce_device : NULL};
    hps_train_hooks hooks = {tg_report, tg_should_stop, t};
    run->rc[r] = tg_call(run, r, &comm, &hooks);
    return NULL;
}

/* Run run->params on a group of `size` threads; fills run's outputs. */
static inline void tg_train(tg_run *run, int size)
{
    tgroup g;
    tg_init(&g, size);
    pthread_t th[TG_MAX];
    tg_thread ctx[TG_MAX];
    run->n_reports = 0;
    for (int r = 0; r < size; r++) {
        ctx[r].run = run;
        ctx[r].me.g = &g;
        ctx[r].me.rank = r;
        run->stop_calls[r] = 0;
    }
    if (size == 1) {
        /* A group of one needs no allreduce: run it with none, on this thread. */
        hps_train_comm comm = {.rank = 0, .size = 1};
        hps_train_hooks hooks = {tg_report, tg_should_stop, &ctx[0]};
        run->rc[0] = tg_call(run, 0, &comm, &hooks);
    } else {
        for (int r = 0; r < size; r++)
            assert_int_equal(pthread_create(&th[r], NULL, tg_main, &ctx[r]), 0);
        for (int r = 0; r < size; r++)
            assert_int_equal(pthread_join(th[r], NULL), 0);
    }
    for (int r = 0; r < size; r++)
        run->device_calls[r] = g.device_calls[r];
    tg_free(&g);
}

#endif
