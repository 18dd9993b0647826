/*
 * hps_train_run: one trial on one rank of its group (trainer.h has the design),
 * on the backend params.device selects.
 *
 * The collective sequence is the same on every rank, so ranks never diverge
 * inside an allreduce:
 *   start       header sync (checkpoint found? its epoch, step, metrics; every
 *               rank's setup status), then the state broadcast when resuming
 *   each step   the gradient allreduce (device memory on a GPU)
 *   check point (every stop_every steps and the epoch's last step) one sync of
 *               [training-loss sum | error slots]; should_stop() at the
 *               stop_every points (not the last step)
 *   each epoch  one sync of the validation sums, rank 0 reports and writes the
 *               checkpoint, one commit sync of its status, should_stop() (not
 *               after the last epoch)
 * Anything that fails on one rank is carried to the others by the next sync.
 *
 * Memory. The weights, gradient and optimiser moments live in backend memory;
 * the host sees them through mirrors (the backend arrays themselves on the CPU)
 * that a checkpoint is written from and read into. The loss sums and the
 * non-finite flag of the optimiser live in backend memory too (`stat`), and are
 * read only at check points, so a step on a GPU never waits for the device.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpsweep/error.h"
#include "checkpoint.h"
#include "dataset.h"
#include "gpu.h"
#include "group.h"
#include "h5util.h"
#include "loader.h"
#include "mlp.h"
#include "stage.h"
#include "train.h"
#include "trainer.h"

/* OpenBLAS's own calls; declared here so no OpenBLAS header is needed. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* Rows of the validation pass at once when the batch slice is smaller. */
#define EVAL_ROWS 256

static const char *const names_classify[] = {"train_loss", "val_loss", "val_accuracy"};
static const char *const names_regress[] = {"train_loss", "val_loss", "val_rmse"};

/* Header sync payload: found, epoch, step, n_metrics, metrics' bits. */
enum {
    H_FOUND = 0,
    H_EPOCH = 1,
    H_STEP = H_EPOCH + HPS_PACK_U64,
    H_NMET = H_STEP + HPS_PACK_U64,
    H_MET = H_NMET + 1,
    H_LEN = H_MET + HPS_TRAIN_MAX_METRICS * HPS_PACK_U64
};

/*
 * The counters in backend memory (`stat`, ST_BYTES): the training loss and
 * correct sums since the last check point, the validation sums, and the
 * optimiser's non-finite flag (int32).
 */
enum { ST_TRAIN = 0, ST_VAL = 2, ST_FLAG_BYTE = 32, ST_BYTES = 40 };

typedef struct trial {
    const hps_train_params *p;
    const hps_train_comm *comm;
    const hps_train_hooks *hooks;
    const char *data_path, *ckpt_path;
    const hps_train_ops *ops;
    hps_backend *be;
    int be_open;
    char *err;
    size_t errlen;
    float *small;            /* the small collectives' buffer: H_LEN + group size floats */

    hps_ds ds;
    int ds_open;
    hps_loader ld;
    hps_mlp mlp;
    hps_stage stage;
    int64_t P;               /* parameters */
    float *w, *g, *m1, *m2;  /* backend memory, P floats each (m2: adam/adamw only) */
    float *hw, *hm1, *hm2;   /* their host mirrors (the same arrays on the CPU) */
    double *stat;            /* backend memory, ST_BYTES */
    int64_t *perm;
    int64_t n_train, n_val, steps;
    int64_t t;               /* optimiser steps done */
    int n_metrics;
    double metrics[HPS_TRAIN_MAX_METRICS];
    int64_t epochs_done;
} trial;

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const *metric_names(const trial *T)
{
    return T->ds.task == HPS_TASK_CLASSIFY ? names_classify : names_regress;
}

/* Host mirrors -> backend (device backends; on the CPU they are the arrays). */
static void state_up(trial *T)
{
    if (T->ops->host_memory)
        return;
    size_t pb = (size_t)T->P * sizeof(float);
    T->ops->to_backend(T->be, T->w, T->hw, pb);
    T->ops->to_backend(T->be, T->m1, T->hm1, pb);
    if (T->m2)
        T->ops->to_backend(T->be, T->m2, T->hm2, pb);
}

/* Backend -> host mirrors; returns the backend's status. */
static int state_down(trial *T)
{
    if (T->ops->host_memory)
        return HPS_OK;
    size_t pb = (size_t)T->P * sizeof(float);
    T->ops->to_host(T->be, T->hw, T->w, pb);
    T->ops->to_host(T->be, T->hm1, T->m1, pb);
    if (T->m2)
        T->ops->to_host(T->be, T->hm2, T->m2, pb);
    return T->ops->status(T->be, T->err, T->errlen);
}

/* The backend arrays and their host mirrors. */
static int alloc_state(trial *T)
{
    const hps_train_ops *ops = T->ops;
    size_t pb = (size_t)T->P * sizeof(float);
    int two = hps_ckpt_n_moments(T->p->optimizer) > 1;
    T->w = ops->alloc(T->be, pb);
    T->g = ops->alloc(T->be, pb);
    T->m1 = ops->alloc(T->be, pb);
    T->m2 = two ? ops->alloc(T->be, pb) : NULL;
    T->stat = ops->alloc(T->be, ST_BYTES);
    if (ops->host_memory) {
        T->hw = T->w;
        T->hm1 = T->m1;
        T->hm2 = T->m2;
    } else {
        T->hw = calloc(1, pb);
        T->hm1 = calloc(1, pb);
        T->hm2 = two ? calloc(1, pb) : NULL;
    }
    T->perm = malloc((size_t)T->n_train * sizeof(int64_t));
    if (!T->w || !T->g || !T->m1 || (two && !T->m2) || !T->stat || !T->hw || !T->hm1 ||
        (two && !T->hm2) || !T->perm) {
        errf(T->err, T->errlen, "out of memory for %lld parameters and their state",
             (long long)T->P);
        return HPS_ENOMEM;
    }
    return HPS_OK;
}

/* Open the data and the backend, shape the model, allocate everything,
 * initialise the weights. */
static int setup(trial *T)
{
    const hps_train_params *p = T->p;
    int rc = hps_ds_open(&T->ds, T->data_path, T->err, T->errlen);
    if (rc != HPS_OK)
        return rc;
    T->ds_open = 1;
    if ((rc = hps_ds_scan_labels(&T->ds, T->err, T->errlen)) != HPS_OK)
        return rc;
    T->n_train = T->ds.s[HPS_DS_TRAIN].n;
    T->n_val = T->ds.s[HPS_DS_VAL].n;
    T->steps = (T->n_train + p->batch_size - 1) / p->batch_size;

    int64_t cache = p->cache_mb * (int64_t)1 << 20;
    rc = hps_loader_init(&T->ld, &T->ds, T->comm->rank, T->comm->size, p->batch_size, cache,
                         T->err, T->errlen);
    if (rc != HPS_OK)
        return rc;

    int outputs = T->ds.task == HPS_TASK_CLASSIFY ? T->ds.classes : 1;
    int64_t cap = T->ld.cap > EVAL_ROWS ? T->ld.cap : EVAL_ROWS;
    hps_backend_cfg cfg = {.device = p->device, .tf32 = p->tf32, .max_rows = cap};
    if ((rc = T->ops->open(&cfg, &T->be, T->err, T->errlen)) != HPS_OK)
        return rc;
    T->be_open = 1;
    rc = hps_mlp_init(&T->mlp, T->ops, T->be, T->ds.d, p->hidden_layers, p->hidden_units,
                      outputs, p->activation, T->ds.task, cap);
    if (rc == HPS_EINVAL) {
        errf(T->err, T->errlen,
             "model too large: %lld features, %d x %d hidden, %d outputs, %lld rows a pass",
             (long long)T->ds.d, p->hidden_layers, p->hidden_units, outputs, (long long)cap);
        return HPS_ECONFIG;
    }
    if (rc == HPS_OK && (rc = hps_stage_init(&T->stage, &T->mlp)) != HPS_OK)
        hps_mlp_free(&T->mlp);
    if (rc != HPS_OK) {
        errf(T->err, T->errlen, "out of memory for the model's workspace (%lld rows, %s "
             "backend)", (long long)cap, T->ops->name);
        return rc;
    }
    T->P = T->mlp.n_params;
    if ((rc = alloc_state(T)) != HPS_OK)
        return rc;
    hps_mlp_init_params(&T->mlp, p->seed, T->hw);
    state_up(T);
    return T->ops->status(T->be, T->err, T->errlen);
}

static void teardown(trial *T)
{
    hps_stage_free(&T->stage);
    hps_mlp_free(&T->mlp);
    if (T->be_open) {
        const hps_train_ops *ops = T->ops;
        ops->free(T->be, T->w);
        ops->free(T->be, T->g);
        ops->free(T->be, T->m1);
        ops->free(T->be, T->m2);
        ops->free(T->be, T->stat);
        if (!ops->host_memory) {
            free(T->hw);
            free(T->hm1);
            free(T->hm2);
        }
        ops->close(T->be);
    }
    free(T->perm);
    hps_loader_free(&T->ld);
    if (T->ds_open)
        hps_ds_close(&T->ds);
}

static hps_ckpt ckpt_of(const trial *T)
{
    hps_ckpt ck;
    memset(&ck, 0, sizeof ck);
    ck.seed = T->p->seed;
    ck.features = T->ds.d;
    ck.outputs = T->mlp.dims[T->mlp.n_lin];
    ck.task = T->ds.task;
    ck.hidden_layers = T->p->hidden_layers;
    ck.hidden_units = T->p->hidden_units;
    ck.activation = T->p->activation;
    ck.optimizer = T->p->optimizer;
    ck.n_params = T->P;
    ck.epoch = T->epochs_done;
    ck.step = T->t;
    ck.n_metrics = T->n_metrics;
    memcpy(ck.metrics, T->metrics, sizeof ck.metrics);
    return ck;
}

/* Rank 0: load the checkpoint if there is one. *found = 1 when loaded. */
static int load_checkpoint(trial *T, int *found)
{
    *found = 0;
    if (!T->ckpt_path)
        return HPS_OK;
    hps_ckpt expect = ckpt_of(T), got;
    /* Into the host mirrors; start_state moves them to the backend. */
    int rc = hps_ckpt_read(T->ckpt_path, &expect, &got, T->hw, T->hm1, T->hm2, T->err,
                           T->errlen);
    if (rc == HPS_ENOENT) {
        if (T->p->prev_epochs == 0) {
            if (T->err && T->errlen)
                T->err[0] = '\0'; /* a fresh trial: no checkpoint is the normal case */
            return HPS_OK;
        }
        errf(T->err, T->errlen, "%s: no checkpoint to continue from (prev_epochs = %lld)",
             T->ckpt_path, (long long)T->p->prev_epochs);
        return HPS_ENOENT;
    }
    if (rc != HPS_OK)
        return rc;
    if (got.epoch < T->p->prev_epochs) {
        errf(T->err, T->errlen,
             "%s: the checkpoint holds %lld epochs, the trial continues from %lld "
             "(prev_epochs)", T->ckpt_path, (long long)got.epoch,
             (long long)T->p->prev_epochs);
        return HPS_EMISMATCH;
    }
    if (got.epoch > T->p->epochs) {
        errf(T->err, T->errlen, "%s: the checkpoint holds %lld epochs, past the budget of %lld",
             T->ckpt_path, (long long)got.epoch, (long long)T->p->epochs);
        return HPS_EMISMATCH;
    }
    if (got.epoch > 0 && got.n_metrics != 3) {
        errf(T->err, T->errlen, "%s: corrupt checkpoint: %lld metrics, expected 3",
             T->ckpt_path, (long long)got.n_metrics);
        return HPS_ECORRUPT;
    }
    T->epochs_done = got.epoch;
    T->t = got.step;
    T->n_metrics = (int)got.n_metrics;
    memcpy(T->metrics, got.metrics, sizeof T->metrics);
    *found = 1;
    return HPS_OK;
}

/* The header sync and, when resuming, the state broadcast (on a group) and the
 * state's move to the backend. */
static int start_state(trial *T, int local_rc, int *found)
{
    const int root = T->comm->rank == 0;
    float *small = T->small;
    memset(small, 0, H_LEN * sizeof(float));
    if (root && local_rc == HPS_OK) {
        small[H_FOUND] = (float)*found;
        hps_pack_u64(small + H_EPOCH, (uint64_t)T->epochs_done);
        hps_pack_u64(small + H_STEP, (uint64_t)T->t);
        small[H_NMET] = (float)T->n_metrics;
        for (int i = 0; i < HPS_TRAIN_MAX_METRICS; i++)
            hps_pack_double_bits(small + H_MET + i * HPS_PACK_U64, T->metrics[i]);
    }
    int rc = hps_group_sync(T->comm, small, H_LEN, local_rc, T->err, T->errlen);
    if (rc != HPS_OK)
        return rc;
    if (T->comm->size > 1) {
        *found = small[H_FOUND] != 0.0f;
        T->epochs_done = (int64_t)hps_unpack_u64(small + H_EPOCH);
        T->t = (int64_t)hps_unpack_u64(small + H_STEP);
        T->n_metrics = (int)small[H_NMET];
        for (int i = 0; i < HPS_TRAIN_MAX_METRICS; i++)
            T->metrics[i] = hps_unpack_double_bits(small + H_MET + i * HPS_PACK_U64);
        float *arrays[3] = {T->hw, T->hm1, T->hm2};
        for (int k = 0; k < 3 && *found && rc == HPS_OK; k++) {
            if (!arrays[k])
                continue;
            if (!root)
                memset(arrays[k], 0, (size_t)T->P * sizeof(float));
            rc = hps_group_allreduce(T->comm, arrays[k], (size_t)T->P, T->err, T->errlen);
        }
    }
    if (rc == HPS_OK && *found)
        state_up(T);
    return rc;
}

/* Rank 0 reports the current metrics (a non-zero answer fails the trial). */
static int report(trial *T)
{
    if (T->comm->rank != 0 || !T->hooks || !T->hooks->report)
        return HPS_OK;
    int r = T->hooks->report(T->hooks->ctx, T->epochs_done, T->n_metrics, metric_names(T),
                             T->metrics);
    if (r == 0)
        return HPS_OK;
    errf(T->err, T->errlen, "the report hook failed (%d) at epoch %lld", r,
         (long long)T->epochs_done);
    return HPS_EOBJECTIVE;
}

static int ask_stop(const trial *T)
{
    return T->hooks && T->hooks->should_stop && T->hooks->should_stop(T->hooks->ctx) != 0;
}

/* The gradient sum over the group: on the device when the backend is a device. */
static int reduce_gradient(trial *T)
{
    if (T->ops->host_memory)
        return hps_group_allreduce(T->comm, T->g, (size_t)T->P, T->err, T->errlen);
    return hps_group_allreduce_device(T->comm, T->g, (size_t)T->P, T->ops->stream(T->be),
                                      T->err, T->errlen);
}

/*
 * A check point after step s (0-based) of epoch `epoch`: read this rank's
 * training-loss sum and the non-finite flag (waiting for the backend), sum the
 * loss over the group with every rank's status, then add it to *loss_total.
 * local: this rank's status so far. The flag is the same on every rank (it
 * comes from the same weights and summed gradient), and so is the summed loss:
 * every rank takes the same decision.
 */
static int check_point(trial *T, int64_t epoch, int64_t s, int local, double *loss_total)
{
    unsigned char raw[ST_BYTES];
    double sums[2] = {0.0, 0.0};
    int32_t bad = 0;
    if (local == HPS_OK) {
        T->ops->to_host(T->be, raw, T->stat, ST_BYTES);
        local = T->ops->status(T->be, T->err, T->errlen);
        memcpy(sums, raw + ST_TRAIN * sizeof(double), sizeof sums);
        memcpy(&bad, raw + ST_FLAG_BYTE, sizeof bad);
        T->ops->zero(T->be, T->stat + ST_TRAIN, sizeof sums);
    }
    hps_pack_sum(T->small, sums[0]);
    int rc = hps_group_sync(T->comm, T->small, HPS_PACK_SUM, local, T->err, T->errlen);
    if (rc != HPS_OK)
        return rc;
    double window = hps_unpack_sum(T->small);
    if (bad || !isfinite(window)) {
        errf(T->err, T->errlen, "nan-loss at epoch %lld (found at the check after step %lld "
             "of %lld: %s)", (long long)epoch + 1, (long long)s + 1, (long long)T->steps,
             bad ? "non-finite weights after an update" : "non-finite training loss");
        return HPS_EOBJECTIVE;
    }
    *loss_total += window;
    return HPS_OK;
}

/*
 * One epoch's training steps. *stopped is set when should_stop ended it early.
 * Adds the epoch's loss sum to *loss_total and the wall time to *seconds (the
 * epoch's last check point waits for the device, so that is the device's time).
 */
static int train_epoch(trial *T, int64_t epoch, int *stopped, double *loss_total,
                       double *seconds, int64_t *samples)
{
    const hps_train_params *p = T->p;
    const hps_train_ops *ops = T->ops;
    hps_mlp *m = &T->mlp;
    const int64_t P = T->P;
    double *sums = T->stat + ST_TRAIN;
    int32_t *flag = (int32_t *)((char *)T->stat + ST_FLAG_BYTE);
    hps_loader_permutation(T->perm, T->n_train, p->seed, epoch);
    hps_loader_epoch(&T->ld, T->perm);
    hps_optim_step os = {
        .kind = p->optimizer,
        .momentum = (float)p->momentum,
        .nesterov = p->nesterov,
        .beta1 = (float)p->beta1,
        .beta2 = (float)p->beta2,
        .eps = (float)p->adam_eps,
        .weight_decay = (float)p->weight_decay,
    };
    hps_dropout drop = {.p = p->dropout, .seed = p->seed, .epoch = epoch,
                        .row_ids = m->row_ids};
    double t0 = now();
    int rc = HPS_OK, local = HPS_OK;
    for (int64_t s = 0; s < T->steps; s++) {
        int64_t b = T->n_train - s * p->batch_size;
        if (b > p->batch_size)
            b = p->batch_size;
        if (local == HPS_OK) {
            hps_stage_buf in = hps_stage_begin(&T->stage);
            int64_t rows = 0;
            local = hps_loader_step(&T->ld, s, in.x, in.y, in.row_ids, &rows, T->err,
                                    T->errlen);
            if (local == HPS_OK) {
                hps_stage_end(&T->stage, rows, 1);
                hps_mlp_pass(m, T->w, rows, &drop, T->g, sums);
            }
        }
        /* A rank that failed adds zeros until the check point tells the others. */
        if (local != HPS_OK)
            ops->zero(T->be, T->g, (size_t)P * sizeof(float));
        if ((rc = reduce_gradient(T)) != HPS_OK)
            break;
        T->t++;
        os.t = T->t;
        os.lr = (float)hps_train_lr(p, (double)epoch + (double)s / (double)T->steps, T->steps);
        os.grad_scale = (float)(1.0 / (double)b);
        ops->optim(T->be, &os, T->w, T->g, T->m1, T->m2, P, flag);
        *samples += b;
        int last = s + 1 == T->steps;
        int ask = p->stop_every > 0 && (s + 1) % p->stop_every == 0 && !last;
        if (!ask && !last)
            continue;
        if ((rc = check_point(T, epoch, s, local, loss_total)) != HPS_OK)
            break;
        if (ask && ask_stop(T)) {
            *stopped = 1;
            break;
        }
    }
    *seconds += now() - t0;
    return rc;
}

/* Validation on this rank's slice, summed over the group into the metrics. */
static int validate(trial *T, double loss_total)
{
    hps_mlp *m = &T->mlp;
    double *vsums = T->stat + ST_VAL;
    double h[2] = {0.0, 0.0};
    T->ops->zero(T->be, vsums, sizeof h);
    int local = HPS_OK;
    for (int64_t off = 0; off < T->ld.val_n && local == HPS_OK; off += m->cap) {
        int64_t n = T->ld.val_n - off < m->cap ? T->ld.val_n - off : m->cap;
        hps_stage_buf in = hps_stage_begin(&T->stage);
        local = hps_loader_val(&T->ld, off, n, in.x, in.y, T->err, T->errlen);
        if (local == HPS_OK) {
            hps_stage_end(&T->stage, n, 0);
            hps_mlp_pass(m, T->w, n, NULL, NULL, vsums);
        }
    }
    if (local == HPS_OK) {
        T->ops->to_host(T->be, h, vsums, sizeof h);
        local = T->ops->status(T->be, T->err, T->errlen);
    }
    float *small = T->small;
    hps_pack_sum(small, h[0]);
    hps_pack_u64(small + HPS_PACK_SUM, (uint64_t)h[1]);
    int rc = hps_group_sync(T->comm, small, HPS_PACK_SUM + HPS_PACK_U64, local, T->err,
                            T->errlen);
    if (rc != HPS_OK)
        return rc;
    double vloss = hps_unpack_sum(small) / (double)T->n_val;
    double correct = (double)hps_unpack_u64(small + HPS_PACK_SUM);
    T->n_metrics = 3;
    T->metrics[0] = loss_total / (double)T->n_train;
    T->metrics[1] = vloss;
    T->metrics[2] = T->ds.task == HPS_TASK_CLASSIFY ? correct / (double)T->n_val : sqrt(vloss);
    if (!isfinite(T->metrics[0]) || !isfinite(vloss))
        return HPS_EOBJECTIVE; /* the caller words it */
    return HPS_OK;
}

/* Rank 0: report, then write the checkpoint; every rank learns the outcome. */
static int commit_epoch(trial *T)
{
    int local = report(T);
    if (local == HPS_OK && T->comm->rank == 0 && T->ckpt_path)
        local = state_down(T);
    if (local == HPS_OK && T->comm->rank == 0 && T->ckpt_path) {
        hps_ckpt ck = ckpt_of(T);
        char names[96];
        const char *const *nm = metric_names(T);
        snprintf(names, sizeof names, "%s,%s,%s", nm[0], nm[1], nm[2]);
        local = hps_ckpt_write(T->ckpt_path, &ck, T->hw, T->hm1, T->hm2, names, T->err,
                               T->errlen);
    }
    return hps_group_sync(T->comm, T->small, 0, local, T->err, T->errlen);
}

static void fill_result(const trial *T, hps_train_result *r)
{
    r->epochs_done = T->epochs_done;
    r->n_metrics = T->ds_open ? T->n_metrics : 0;
    for (int i = 0; i < r->n_metrics && i < 3; i++) {
        r->names[i] = metric_names(T)[i];
        r->values[i] = T->metrics[i];
    }
}

static int check_comm(const hps_train_ops *ops, const hps_train_comm *c, char *err,
                      size_t errlen)
{
    if (c->size < 1 || c->size > HPS_TRAIN_MAX_GROUP || c->rank < 0 || c->rank >= c->size) {
        errf(err, errlen, "bad trial group: rank %d of %d (at most %d ranks)", c->rank, c->size,
             HPS_TRAIN_MAX_GROUP);
        return HPS_EINVAL;
    }
    if (c->size > 1 && !c->allreduce) {
        errf(err, errlen, "a trial group of %d ranks needs an allreduce callback", c->size);
        return HPS_EINVAL;
    }
    if (c->size > 1 && !ops->host_memory && !c->allreduce_device) {
        errf(err, errlen, "a trial group of %d ranks on the %s backend needs a device "
             "allreduce callback (allreduce_device)", c->size, ops->name);
        return HPS_EINVAL;
    }
    return HPS_OK;
}

const hps_train_ops *hps_train_backend(int device, char *err, size_t errlen)
{
    if (device < 0)
        return &hps_train_ops_cpu;
#if HPS_HAVE_CUDA
    /* The CUDA backend is in the GPU module (gpu.h), loaded here the first time. */
    char why[1536];
    const hps_gpu_ops *gpu = hps_gpu_load(why, sizeof why);
    if (!gpu) {
        errf(err, errlen, "device %d asks for a GPU: %s", device, why);
        return NULL;
    }
    return gpu->train;
#else
    errf(err, errlen, "device %d asks for a GPU, but this build of hpsweep has no CUDA "
         "(configure it where the CUDA toolkit and NCCL are found, with HPS_CUDA=ON; "
         "device -1 trains on the CPU)", device);
    return NULL;
#endif
}

int hps_train_run(const hps_train_params *params, const char *dataset_path,
                  const hps_train_comm *comm, const hps_train_hooks *hooks,
                  const char *checkpoint_path, hps_train_result *result, char *err,
                  size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!params || !dataset_path || !comm || !result) {
        errf(err, errlen, "hps_train_run: params, dataset path, comm and result are required");
        return HPS_EINVAL;
    }
    memset(result, 0, sizeof *result);
    int rc = hps_train_params_check(params, err, errlen);
    if (rc != HPS_OK)
        return rc;
    const hps_train_ops *ops = hps_train_backend(params->device, err, errlen);
    if (!ops)
        return HPS_ENOSYS; /* every rank has the same build and fails alike */
    return hps_train_run_ops(ops, params, dataset_path, comm, hooks, checkpoint_path, result,
                             err, errlen);
}

int hps_train_run_ops(const hps_train_ops *ops, const hps_train_params *params,
                      const char *dataset_path, const hps_train_comm *comm,
                      const hps_train_hooks *hooks, const char *checkpoint_path,
                      hps_train_result *result, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!ops || !params || !dataset_path || !comm || !result) {
        errf(err, errlen, "hps_train_run: params, dataset path, comm and result are required");
        return HPS_EINVAL;
    }
    memset(result, 0, sizeof *result);
    if (ops->version != HPS_TRAIN_OPS_VERSION) {
        errf(err, errlen, "the %s backend has table version %d, this trainer needs %d",
             ops->name, ops->version, HPS_TRAIN_OPS_VERSION);
        return HPS_EVERSION;
    }
    int rc = check_comm(ops, comm, err, errlen);
    if (rc == HPS_OK)
        rc = hps_train_params_check(params, err, errlen);
    if (rc == HPS_OK && params->prev_epochs > 0 && !checkpoint_path) {
        errf(err, errlen, "prev_epochs is %lld but no checkpoint path was given",
             (long long)params->prev_epochs);
        rc = HPS_ECONFIG;
    }
    if (rc != HPS_OK)
        return rc; /* every rank has the same arguments and fails alike */

    /* only when it changes: setting it restarts a pool hpsweep shut down at start
     * (engine/cli/blas_threads.c), whose threads spin for a while even when one
     * thread is asked for */
    if (openblas_get_num_threads() != params->threads)
        openblas_set_num_threads(params->threads);
    hps_tr_h5_quiet();
    trial T;
    memset(&T, 0, sizeof T);
    T.p = params;
    T.comm = comm;
    T.hooks = hooks;
    T.data_path = dataset_path;
    T.ckpt_path = checkpoint_path;
    T.ops = ops;
    T.err = err;
    T.errlen = errlen;
    /* The small collectives' buffer: payloads up to H_LEN plus the error slots. */
    float small[H_LEN + HPS_TRAIN_MAX_GROUP];
    T.small = small;

    int found = 0;
    int local = setup(&T);
    if (local == HPS_OK && comm->rank == 0)
        local = load_checkpoint(&T, &found);
    rc = start_state(&T, local, &found);
    result->start_epoch = T.epochs_done;
    if (rc != HPS_OK)
        goto done;

    if (found && T.epochs_done == params->epochs) {
        /* A re-run whose result was lost: report the checkpoint's metrics again. */
        result->reused = 1;
        rc = hps_group_sync(comm, small, 0, report(&T), err, errlen);
        goto done;
    }

    for (int64_t e = T.epochs_done; e < params->epochs; e++) {
        int stopped = 0;
        double loss_total = 0.0;
        rc = train_epoch(&T, e, &stopped, &loss_total, &result->train_seconds,
                         &result->samples);
        if (rc != HPS_OK || stopped) {
            result->stopped = stopped;
            break;
        }
        rc = validate(&T, loss_total);
        if (rc == HPS_EOBJECTIVE) {
            errf(err, errlen, "nan-loss at epoch %lld (train_loss %g, val_loss %g)",
                 (long long)e + 1, T.metrics[0], T.metrics[1]);
            break;
        }
        if (rc != HPS_OK)
            break;
        T.epochs_done = e + 1;
        if ((rc = commit_epoch(&T)) != HPS_OK)
            break;
        if (e + 1 < params->epochs && ask_stop(&T)) {
            result->stopped = 1;
            break;
        }
    }
done:
    fill_result(&T, result);
    teardown(&T);
    return rc;
}
