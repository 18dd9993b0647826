/*
 * lsq_plugin.c: a data-parallel C objective for hpsweep (include/hpsweep/objective.h).
 *
 * Least squares by mini-batch gradient descent on data the plugin makes itself:
 * X (n x dim, standard normal) and y = X w* + noise, drawn from the option
 * data_seed (default: the trial's seed). Every rank of the trial group takes an
 * equal share of each global batch (sample i of the batch goes to rank i mod
 * size), sums its gradient, and the group adds the sums up with
 * hps_trial_allreduce (MPI) -- or ncclAllReduce on the group's NCCL communicator
 * when built with CUDA and every rank has a GPU -- so every rank makes the same
 * update and a 2-rank trial trains the same model as a 1-rank one with the same
 * global batch (up to the order of floating-point additions).
 *
 * Parameters: lr (float), batch (int: the global batch), l2 (float, optional).
 * The budget is epochs (0: the option epochs, default 8). Each epoch it reports
 * loss (the full training set's mean squared error) from group rank 0, checks
 * hps_trial_should_stop (collectively), and rank 0 writes the model and epoch to
 * <trial dir>/model.txt (temp file + rename): a promotion (ASHA) or a re-run
 * after a crash continues from it on every rank.
 *
 * Options (objective.options): n, dim, epochs, data_seed, and for tests of the
 * failure paths: record (every rank writes seen.rank<k> with what it was given),
 * fail_rank + fail_trial (that rank fails that trial after training),
 * crash_rank + crash_trial + crash_attempts (that rank raises SIGSEGV in that
 * trial while hps_trial_attempt() <= crash_attempts), init_fail_rank (init()
 * fails on that group rank).
 *
 * Build: see CMakeLists.txt next to this file.
 */
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hpsweep/error.h>
#include <hpsweep/objective.h>

#ifdef LSQ_WITH_CUDA
#include <cuda_runtime.h>
#include <nccl.h>
#endif

typedef struct lsq {
    int n, dim, epochs;
    int have_data_seed;
    uint64_t data_seed;
    int record;
    int fail_rank, fail_trial, crash_rank, crash_trial, crash_attempts;
    double *x, *y, *w, *grad;   /* n*dim, n, dim, dim + 1 (the loss rides along) */
    int *perm;
    uint64_t made_for;          /* the data seed x and y were made from */
    int made;
} lsq;

/* ---- a small deterministic generator (SplitMix64 + Box-Muller) -------------------- */

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return ((double)(next_u64(s) >> 11) + 0.5) * 0x1.0p-53;
}

static double normal(uint64_t *s)
{
    double u1 = uniform(s), u2 = uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- options ---------------------------------------------------------------------- */

static const char *option(const hps_objective_env *env, const char *key)
{
    for (int i = 0; i < env->n_options; i++)
        if (strcmp(env->option_keys[i], key) == 0)
            return env->option_values[i];
    return NULL;
}

static int int_option(const hps_objective_env *env, const char *key, int dflt)
{
    const char *v = option(env, key);
    return v ? atoi(v) : dflt;
}

static int lsq_init(const hps_objective_env *env, void **state, char *err, size_t errlen)
{
    lsq *p = calloc(1, sizeof *p);
    if (!p)
        return HPS_ENOMEM;
    p->n = int_option(env, "n", 4096);
    p->dim = int_option(env, "dim", 16);
    p->epochs = int_option(env, "epochs", 8);
    const char *ds = option(env, "data_seed");
    p->have_data_seed = ds != NULL;
    p->data_seed = ds ? strtoull(ds, NULL, 10) : 0;
    const char *rec = option(env, "record");
    p->record = rec && strcmp(rec, "true") == 0;
    p->fail_rank = int_option(env, "fail_rank", -1);
    p->fail_trial = int_option(env, "fail_trial", -1);
    p->crash_rank = int_option(env, "crash_rank", -1);
    p->crash_trial = int_option(env, "crash_trial", -1);
    p->crash_attempts = int_option(env, "crash_attempts", 1);
    *state = p;
    if (int_option(env, "init_fail_rank", -1) == env->group_rank) {
        snprintf(err, errlen, "lsq: init_fail_rank is %d (this rank)", env->group_rank);
        return HPS_EOBJECTIVE;
    }
    if (p->n < 1 || p->dim < 1 || p->epochs < 1) {
        snprintf(err, errlen, "lsq: n, dim and epochs must be >= 1");
        return HPS_EINVAL;
    }
    size_t n = (size_t)p->n, d = (size_t)p->dim;
    p->x = malloc(sizeof(double) * n * d);
    p->y = malloc(sizeof(double) * n);
    p->w = malloc(sizeof(double) * d);
    p->grad = malloc(sizeof(double) * (d + 1));
    p->perm = malloc(sizeof(int) * n);
    if (!p->x || !p->y || !p->w || !p->grad || !p->perm) {
        snprintf(err, errlen, "lsq: out of memory for n=%d dim=%d", p->n, p->dim);
        return HPS_ENOMEM;
    }
    return HPS_OK;
}

static void lsq_fini(void *state)
{
    lsq *p = state;
    if (!p)
        return;
    free(p->x);
    free(p->y);
    free(p->w);
    free(p->grad);
    free(p->perm);
    free(p);
}

/* X and y from seed: y = X w* + 0.1 z, w*_j = sin(j + 1). */
static void make_data(lsq *p, uint64_t seed)
{
    if (p->made && p->made_for == seed)
        return;
    uint64_t s = seed;
    for (int i = 0; i < p->n; i++) {
        double dot = 0;
        for (int j = 0; j < p->dim; j++) {
            double v = normal(&s);
            p->x[(size_t)i * p->dim + j] = v;
            dot += v * sin(j + 1.0);
        }
        p->y[i] = dot + 0.1 * normal(&s);
    }
    p->made = 1;
    p->made_for = seed;
}

/* ---- the group's sum --------------------------------------------------------------- */

/* Sum buf[0..n) over the group: NCCL on the GPUs when there is a communicator,
 * else hpsweep's MPI allreduce. */
static int group_sum(hps_trial_ctx *ctx, double *buf, int n)
{
#ifdef LSQ_WITH_CUDA
    ncclComm_t comm = hps_trial_nccl_comm(ctx);
    if (comm) {
        double *dev = NULL;
        cudaError_t ce = cudaMalloc((void **)&dev, sizeof(double) * (size_t)n);
        if (ce == cudaSuccess)
            ce = cudaMemcpy(dev, buf, sizeof(double) * (size_t)n, cudaMemcpyHostToDevice);
        ncclResult_t nr = ce == cudaSuccess
                              ? ncclAllReduce(dev, dev, (size_t)n, ncclDouble, ncclSum, comm, 0)
                              : ncclSuccess;
        if (ce == cudaSuccess && nr == ncclSuccess)
            ce = cudaMemcpy(buf, dev, sizeof(double) * (size_t)n, cudaMemcpyDeviceToHost);
        if (dev)
            cudaFree(dev);
        if (nr != ncclSuccess)
            return hps_trial_fail(ctx, "ncclAllReduce: %s", ncclGetErrorString(nr));
        if (ce != cudaSuccess)
            return hps_trial_fail(ctx, "cuda: %s", cudaGetErrorString(ce));
        return HPS_OK;
    }
#endif
    return hps_trial_allreduce(ctx, buf, (size_t)n, HPS_FLOAT64, 0);
}

/* ---- checkpoints ------------------------------------------------------------------- */

static int load_checkpoint(lsq *p, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int epoch = 0;
    int ok = fscanf(f, "epoch %d\n", &epoch) == 1;
    for (int j = 0; ok && j < p->dim; j++)
        ok = fscanf(f, "%lf", &p->w[j]) == 1;
    fclose(f);
    return ok ? epoch : 0;
}

static void save_checkpoint(const lsq *p, const char *dir, int epoch)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/model.txt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "epoch %d\n", epoch);
    for (int j = 0; j < p->dim; j++)
        fprintf(f, "%.17g\n", p->w[j]);
    if (fclose(f) == 0)
        rename(tmp, path);
}

static void record_seen(hps_trial_ctx *ctx, const char *dir, double lr, int64_t batch)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seen.rank%d", dir, hps_trial_group_rank(ctx));
    MPI_Comm comm;
    int mpi_size = -1;
    if (hps_trial_mpi_comm(ctx, &comm) == HPS_OK)
        MPI_Comm_size(comm, &mpi_size);
    int nccl = hps_trial_nccl_comm(ctx) != NULL; /* collective: before any early return */
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "trial %lld seed %llu lr %.17g batch %lld budget %.17g group %d mpi %d nccl %d\n",
            (long long)hps_trial_id(ctx), (unsigned long long)hps_trial_seed(ctx), lr,
            (long long)batch, hps_trial_budget(ctx), hps_trial_group_size(ctx), mpi_size, nccl);
    fclose(f);
}

/* ---- one trial --------------------------------------------------------------------- */

static int lsq_run(void *state, hps_trial_ctx *ctx)
{
    lsq *p = state;
    double lr, l2 = 0;
    int64_t batch;
    if (hps_trial_param_double(ctx, "lr", &lr) != HPS_OK ||
        hps_trial_param_int(ctx, "batch", &batch) != HPS_OK)
        return hps_trial_fail(ctx, "lsq needs parameters lr (float) and batch (int)");
    if (hps_trial_param_double(ctx, "l2", &l2) == HPS_ENOENT)
        l2 = 0;
    if (batch < 1)
        return hps_trial_fail(ctx, "batch must be >= 1");
    int rank = hps_trial_group_rank(ctx), size = hps_trial_group_size(ctx);
    int64_t id = hps_trial_id(ctx);
    const char *dir = hps_trial_dir(ctx);
    if (!dir)
        return hps_trial_fail(ctx, "no trial directory");
    if (p->record)
        record_seen(ctx, dir, lr, batch);
    if (rank == p->crash_rank && id == p->crash_trial &&
        hps_trial_attempt(ctx) <= p->crash_attempts)
        raise(SIGSEGV); /* a plugin bug: the job goes down, resume recovers */

    make_data(p, p->have_data_seed ? p->data_seed : hps_trial_seed(ctx));
    int epochs = hps_trial_budget(ctx) > 0 ? (int)ceil(hps_trial_budget(ctx) - 1e-9) : p->epochs;
    int start = 0;
    memset(p->w, 0, sizeof(double) * (size_t)p->dim);
    if (hps_trial_resumed(ctx) || hps_trial_attempt(ctx) > 1)
        start = load_checkpoint(p, dir);
    int d = p->dim;
    for (int epoch = start + 1; epoch <= epochs; epoch++) {
        /* The epoch's order depends only on (seed, epoch): the same on every rank. */
        uint64_t s = hps_trial_seed(ctx) ^ (0x9E3779B97F4A7C15ull * (uint64_t)epoch);
        for (int i = 0; i < p->n; i++)
            p->perm[i] = i;
        for (int i = p->n - 1; i > 0; i--) {
            int k = (int)(next_u64(&s) % (uint64_t)(i + 1));
            int t = p->perm[i];
            p->perm[i] = p->perm[k];
            p->perm[k] = t;
        }
        for (int b0 = 0; b0 < p->n; b0 += (int)batch) {
            int bn = p->n - b0 < batch ? p->n - b0 : (int)batch;
            memset(p->grad, 0, sizeof(double) * (size_t)d);
            for (int i = rank; i < bn; i += size) { /* this rank's share of the batch */
                const double *xi = &p->x[(size_t)p->perm[b0 + i] * d];
                double r = -p->y[p->perm[b0 + i]];
                for (int j = 0; j < d; j++)
                    r += xi[j] * p->w[j];
                for (int j = 0; j < d; j++)
                    p->grad[j] += r * xi[j];
            }
            int rc = group_sum(ctx, p->grad, d);
            if (rc != HPS_OK)
                return rc;
            for (int j = 0; j < d; j++)
                p->w[j] -= lr * (2.0 * p->grad[j] / bn + 2.0 * l2 * p->w[j]);
        }
        /* The loss over the whole set, each rank its share, summed by the group. */
        double loss = 0;
        for (int i = rank; i < p->n; i += size) {
            double r = -p->y[i];
            for (int j = 0; j < d; j++)
                r += p->x[(size_t)i * d + j] * p->w[j];
            loss += r * r;
        }
        int rc = group_sum(ctx, &loss, 1);
        if (rc != HPS_OK)
            return rc;
        loss /= p->n;
        hps_trial_report(ctx, epoch, "loss", loss);
        if (rank == 0)
            save_checkpoint(p, dir, epoch);
        if (!isfinite(loss))
            return hps_trial_fail(ctx, "diverged at epoch %d", epoch); /* alike on all ranks */
        if (hps_trial_should_stop(ctx))
            return HPS_OK;
    }
    if (rank == p->fail_rank && id == p->fail_trial)
        return hps_trial_fail(ctx, "injected failure on rank %d", rank);
    return HPS_OK;
}

const hps_objective_ops hpsweep_objective = {
    .version = HPS_OBJECTIVE_VERSION,
    .name = "lsq",
    .flags = HPS_OBJECTIVE_GROUP,
    .init = lsq_init,
    .run = lsq_run,
    .fini = lsq_fini,
};
