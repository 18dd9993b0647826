/*
 * bench_trainer_gpu: the trainer's CUDA path on a machine with an NVIDIA GPU
 * (built only with CUDA; run by tests/device/trainer_gpu.sh). No MPI: every
 * trial here is a group of one.
 *
 *   1. checks (trainer_gpu_checks.c): the CUDA backend against the CPU backend
 *      on the same inputs -- masks bit for bit, one pass, the optimisers, whole
 *      epochs, checkpoints across backends -- each row with its bound;
 *   2. epoch times: hps_train_run on the GPU for a 784-256-256-10 ReLU MLP, SGD
 *      with momentum 0.9, on a synthetic set of 56000 training rows (seed 11),
 *      batches of 128 and 1024: the training steps of 3 epochs after a warm-up
 *      run (the loader reads the in-memory set on the host and each batch is
 *      copied to the GPU: the trainer's real path; validation not timed), beside
 *      bench/gpu/trainer_torch_gpu.py on the same GPU and model with its data
 *      already on the GPU (PyTorch's fastest way to feed so small a model);
 *   3. the allreduce: the trainer's step (stage a batch, forward, backward, the
 *      optimiser) timed without and with ncclAllReduce of the gradient buffer in
 *      place on the trainer's stream, on a one-rank communicator
 *      (ncclCommInitAll), alternating rounds, medians; the added share must stay
 *      below 2% of a step. ncclAllReduce alone is timed too.
 * Every row that has a bound counts as a check; the exit status is 0 when all
 * pass, 1 when one failed, 2 when the program could not run (no GPU, ...).
 *
 *   bench_trainer_gpu [--device N] [--quick] [--threads N] [--torch SCRIPT]
 *                     [--python PYTHON] [--work DIR]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cublas_v2.h>

#include "hpsweep/error.h"
#include "trainer/gpu.h"
#include "trainer/loader.h"
#include "trainer/mlp.h"
#include "trainer/ops.h"
#include "trainer/rng.h"
#include "trainer/stage.h"
#include "trainer/trainer.h"
#include "trainer_gpu.h"

bench_tally bench_results;

/* ---- the table -------------------------------------------------------------------------- */

void section(const char *title)
{
    printf("\n== %s\n", title);
    fflush(stdout);
}

static void print_row(const char *what, double cpu, double gpu, double diff, const char *tol,
                      const char *result)
{
    printf("  %-72s %14.8g %14.8g %10.3g  %-8s %s\n", what, cpu, gpu, diff, tol, result);
    fflush(stdout);
}

void check_row(const char *what, double cpu, double gpu, double diff, double tol, int pass)
{
    char t[32];
    snprintf(t, sizeof t, "%.0e", tol);
    if (tol == 0)
        snprintf(t, sizeof t, "0");
    bench_results.checks++;
    bench_results.failed += !pass;
    print_row(what, cpu, gpu, diff, t, pass ? "PASS" : "FAIL");
}

void info_row(const char *what, double cpu, double gpu, double diff)
{
    print_row(what, cpu, gpu, diff, "-", "(info)");
}

double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void make_dataset(const bench_opts *o, const char *name, int64_t samples, uint64_t seed,
                  char *path, size_t len)
{
    char err[512];
    snprintf(path, len, "%s/%s", o->work, name);
    int rc = hps_dataset_synth(path, samples, 784, 10, seed, err, sizeof err);
    if (rc != HPS_OK) {
        fprintf(stderr, "synthetic data set %s: %s\n", path, err);
        exit(2);
    }
}

/* ---- 1. what runs here ------------------------------------------------------------------ */

static void describe(const bench_opts *o)
{
    struct cudaDeviceProp prop;
    int driver = 0, runtime = 0, nccl = 0, blas_major = 0, blas_minor = 0, blas_patch = 0;
    cudaCheck(cudaGetDeviceProperties(&prop, o->device));
    cudaCheck(cudaDriverGetVersion(&driver));
    cudaCheck(cudaRuntimeGetVersion(&runtime));
    ncclCheck(ncclGetVersion(&nccl));
    if (cublasGetProperty(MAJOR_VERSION, &blas_major) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(MINOR_VERSION, &blas_minor) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(PATCH_LEVEL, &blas_patch) != CUBLAS_STATUS_SUCCESS)
        blas_major = blas_minor = blas_patch = -1;
    printf("bench_trainer_gpu: device %d: %s (sm_%d%d, %d SMs, %.1f GiB); driver API %d.%d, "
           "runtime %d.%d, cuBLAS %d.%d.%d, NCCL %d.%d.%d\n", o->device, prop.name, prop.major,
           prop.minor, prop.multiProcessorCount, (double)prop.totalGlobalMem / (1 << 30),
           driver / 1000, driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10, blas_major,
           blas_minor, blas_patch, nccl / 10000, nccl % 10000 / 100, nccl % 100);
    printf("columns: what, the CPU's value, the GPU's value, their difference, the bound, "
           "the result\n");
}

/* ---- 2. epoch times --------------------------------------------------------------------- */

/* Seconds per epoch of hps_train_run on the GPU (the training steps of `epochs` epochs). */
static double our_epoch(const bench_opts *o, const char *data, int64_t batch, int epochs)
{
    hps_train_params p;
    hps_train_params_default(&p);
    p.hidden_layers = 2;
    p.hidden_units = 256;
    p.optimizer = HPS_OPT_SGD;
    p.learning_rate = 0.01;
    p.momentum = 0.9;
    p.batch_size = batch;
    p.epochs = epochs;
    p.seed = 3;
    p.device = o->device;
    hps_train_comm one = {.rank = 0, .size = 1};
    hps_train_result res;
    char err[512];
    int rc = hps_train_run(&p, data, &one, NULL, NULL, &res, err, sizeof err);
    if (rc != HPS_OK) {
        fprintf(stderr, "hps_train_run on device %d: %s\n", o->device, err);
        exit(2);
    }
    return res.train_seconds / epochs;
}

/* PyTorch's seconds per epoch for each batch (in[k] < 0: not measured). */
static void torch_epochs(const bench_opts *o, int64_t rows, int epochs, const int64_t *batches,
                         int nb, double *out)
{
    for (int k = 0; k < nb; k++)
        out[k] = -1;
    if (!o->torch)
        return;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s --device cuda:%d --rows %lld --epochs %d --warmup 1 "
             "--batches %lld,%lld 2>&1", o->python, o->torch, o->device, (long long)rows,
             epochs, (long long)batches[0], (long long)batches[nb > 1 ? 1 : 0]);
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "cannot run %s\n", cmd);
        return;
    }
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        long long b;
        double sec;
        if (sscanf(line, "batch=%lld epoch_seconds=%lf", &b, &sec) == 2) {
            for (int k = 0; k < nb; k++)
                if (batches[k] == b)
                    out[k] = sec;
        } else {
            fprintf(stderr, "pytorch: %s", line);
        }
    }
    if (pclose(p) != 0)
        fprintf(stderr, "pytorch: %s failed\n", o->torch);
}

static void epoch_times(const bench_opts *o)
{
    const int64_t samples = o->quick ? 20000 : 70000; /* 80% of them train */
    const int64_t rows = samples * 8 / 10;
    const int epochs = o->quick ? 2 : 3;
    const int64_t batches[2] = {128, 1024};
    char data[700];
    make_dataset(o, "epochs.h5", samples, 11, data, sizeof data);
    char title[256];
    snprintf(title, sizeof title, "epoch times: 784-256-256-10 relu, sgd momentum 0.9, %lld "
             "training rows (synthetic, seed 11), %d timed epochs after a warm-up",
             (long long)rows, epochs);
    section(title);
    double ours[2];
    for (int k = 0; k < 2; k++) {
        our_epoch(o, data, batches[k], 1); /* warm-up: context, cuBLAS, page cache */
        ours[k] = our_epoch(o, data, batches[k], epochs);
    }
    remove(data);
    double torch[2];
    torch_epochs(o, rows, epochs, batches, 2, torch);
    printf("  %-6s %16s %12s %18s %12s %16s\n", "batch", "hpsweep s/epoch", "samples/s",
           "pytorch s/epoch", "samples/s", "pytorch/hpsweep");
    for (int k = 0; k < 2; k++) {
        if (torch[k] > 0)
            printf("  %-6lld %16.4f %12.0f %18.4f %12.0f %15.2fx\n", (long long)batches[k],
                   ours[k], (double)rows / ours[k], torch[k], (double)rows / torch[k],
                   torch[k] / ours[k]);
        else
            printf("  %-6lld %16.4f %12.0f %18s %12s %16s\n", (long long)batches[k], ours[k],
                   (double)rows / ours[k], "not run", "-", "-");
    }
    fflush(stdout);
}

/* ---- 3. the allreduce ------------------------------------------------------------------- */

typedef struct step_bench {
    hps_backend *be;
    hps_mlp m;
    hps_stage st;
    float *w, *g, *m1;
    double *sums;
    int32_t *flag;
    float *X;             /* host data: rows x 784 */
    int32_t *y;
    int64_t *perm, rows, k, pass, batch;
    ncclComm_t comm;
} step_bench;

/* Seconds per step of `steps` trainer steps, with or without the allreduce. */
static double run_steps(step_bench *b, int steps, int allreduce)
{
    const hps_train_ops *ops = cuda_backend();
    char err[512];
    hps_optim_step os = {.kind = HPS_OPT_SGD, .lr = 0.01f, .momentum = 0.9f,
                         .grad_scale = 1.0f / (float)b->batch};
    const int64_t per_pass = b->rows / b->batch, P = b->m.n_params;
    if (ops->status(b->be, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "cuda backend: %s\n", err);
        exit(2);
    }
    double t0 = wall_now();
    for (int s = 0; s < steps; s++) {
        if (b->k == per_pass) {
            hps_loader_permutation(b->perm, b->rows, 1, ++b->pass);
            b->k = 0;
        }
        const int64_t *ids = b->perm + b->k++ * b->batch;
        hps_stage_buf in = hps_stage_begin(&b->st);
        for (int64_t i = 0; i < b->batch; i++) {
            memcpy(in.x + i * 784, b->X + ids[i] * 784, 784 * sizeof(float));
            ((int32_t *)in.y)[i] = b->y[ids[i]];
            in.row_ids[i] = ids[i];
        }
        hps_stage_end(&b->st, b->batch, 1);
        hps_mlp_pass(&b->m, b->w, b->batch, NULL, b->g, b->sums);
        if (allreduce)
            ncclCheck(ncclAllReduce(b->g, b->g, (size_t)P, ncclFloat, ncclSum, b->comm,
                                    (cudaStream_t)ops->stream(b->be)));
        ops->optim(b->be, &os, b->w, b->g, b->m1, NULL, P, b->flag);
    }
    if (ops->status(b->be, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "cuda backend: %s\n", err);
        exit(2);
    }
    return (wall_now() - t0) / steps;
}

static void allreduce_cost(const bench_opts *o)
{
    const hps_train_ops *ops = cuda_backend();
    const int64_t batches[2] = {128, 1024};
    const int rounds = o->quick ? 3 : 7, steps = o->quick ? 100 : 400;
    char err[512];
    step_bench b;
    memset(&b, 0, sizeof b);
    b.rows = 8192;
    b.X = malloc(sizeof(float) * (size_t)b.rows * 784);
    b.y = malloc(sizeof(int32_t) * (size_t)b.rows);
    b.perm = malloc(sizeof(int64_t) * (size_t)b.rows);
    if (!b.X || !b.y || !b.perm) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    uint64_t base = hps_rng_base(1, 1, 0, 0, 0);
    for (int64_t j = 0; j < b.rows * 784; j++)
        b.X[j] = (float)hps_rng_normal(base, (uint64_t)j);
    for (int64_t i = 0; i < b.rows; i++)
        b.y[i] = (int32_t)hps_rng_below(hps_rng_at(base, (uint64_t)(1u << 30) + (uint64_t)i), 10);
    int dev = o->device;
    ncclCheck(ncclCommInitAll(&b.comm, 1, &dev));
    double added[2], without[2], with[2];
    int64_t P = 0;
    for (int k = 0; k < 2; k++) {
        b.batch = batches[k];
        hps_backend_cfg cfg = {.device = o->device, .max_rows = b.batch};
        if (ops->open(&cfg, &b.be, err, sizeof err) != HPS_OK ||
            hps_mlp_init(&b.m, ops, b.be, 784, 2, 256, 10, HPS_ACT_RELU, HPS_TASK_CLASSIFY,
                         b.batch) != HPS_OK ||
            hps_stage_init(&b.st, &b.m) != HPS_OK) {
            fprintf(stderr, "cuda backend: cannot set up the step (%s)\n", err);
            exit(2);
        }
        P = b.m.n_params;
        size_t pb = sizeof(float) * (size_t)P;
        float *w0 = malloc(pb);
        b.w = ops->alloc(b.be, pb);
        b.g = ops->alloc(b.be, pb);
        b.m1 = ops->alloc(b.be, pb);
        b.sums = ops->alloc(b.be, 2 * sizeof(double));
        b.flag = ops->alloc(b.be, sizeof(int32_t));
        if (!w0 || !b.w || !b.g || !b.m1 || !b.sums || !b.flag) {
            fprintf(stderr, "out of memory for the step benchmark\n");
            exit(2);
        }
        hps_mlp_init_params(&b.m, 7, w0);
        ops->to_backend(b.be, b.w, w0, pb);
        free(w0);
        b.k = 0;
        b.pass = 0;
        hps_loader_permutation(b.perm, b.rows, 1, 0);
        run_steps(&b, 50, 1); /* warm-up: NCCL's first call, cuBLAS's heuristics */
        double t0[9], t1[9];
        for (int r = 0; r < rounds; r++) {
            t0[r] = run_steps(&b, steps, 0);
            t1[r] = run_steps(&b, steps, 1);
        }
        without[k] = median(t0, rounds);
        with[k] = median(t1, rounds);
        added[k] = (with[k] - without[k]) / without[k];
        ops->free(b.be, b.w);
        ops->free(b.be, b.g);
        ops->free(b.be, b.m1);
        ops->free(b.be, b.sums);
        ops->free(b.be, b.flag);
        hps_stage_free(&b.st);
        hps_mlp_free(&b.m);
        ops->close(b.be);
    }
    /* ncclAllReduce alone, back to back on one stream. */
    cudaStream_t s;
    float *buf;
    cudaCheck(cudaSetDevice(o->device));
    cudaCheck(cudaStreamCreate(&s));
    cudaCheck(cudaMalloc((void **)&buf, sizeof(float) * (size_t)P));
    cudaCheck(cudaMemset(buf, 0, sizeof(float) * (size_t)P));
    const int calls = 1000;
    for (int i = 0; i < 50; i++)
        ncclCheck(ncclAllReduce(buf, buf, (size_t)P, ncclFloat, ncclSum, b.comm, s));
    cudaCheck(cudaStreamSynchronize(s));
    double t = wall_now();
    for (int i = 0; i < calls; i++)
        ncclCheck(ncclAllReduce(buf, buf, (size_t)P, ncclFloat, ncclSum, b.comm, s));
    cudaCheck(cudaStreamSynchronize(s));
    double alone = (wall_now() - t) / calls;
    cudaCheck(cudaFree(buf));
    cudaCheck(cudaStreamDestroy(s));
    ncclCheck(ncclCommDestroy(b.comm));

    char title[256];
    snprintf(title, sizeof title, "allreduce: ncclAllReduce of the %lld-float gradient buffer in "
             "place on the trainer's stream, 1 rank; medians of %d rounds of %d steps",
             (long long)P, rounds, steps);
    section(title);
    for (int k = 0; k < 2; k++) {
        char what[160];
        snprintf(what, sizeof what, "batch %lld: step time us without / with; added share",
                 (long long)batches[k]);
        check_row(what, 1e6 * without[k], 1e6 * with[k], added[k], 2e-2, added[k] < 0.02);
    }
    printf("  ncclAllReduce alone: %.2f us a call (%d calls back to back)\n", 1e6 * alone,
           calls);
    free(b.X);
    free(b.y);
    free(b.perm);
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_trainer_gpu [--device N] [--quick] [--threads N] "
                    "[--torch SCRIPT] [--python PYTHON] [--work DIR]\n");
    exit(2);
}

const struct hps_train_ops *cuda_backend(void)
{
    char err[2048];
    const hps_gpu_ops *gpu = hps_gpu_load(err, sizeof err);
    if (!gpu) {
        fprintf(stderr, "bench_trainer_gpu: %s\n", err);
        exit(1);
    }
    return gpu->train;
}

int main(int argc, char **argv)
{
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.cpu_threads = 4;
    o.python = "python3";
    const char *work = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0)
            o.quick = 1;
        else if (strcmp(a, "--device") == 0 && v)
            o.device = atoi(argv[++i]);
        else if (strcmp(a, "--threads") == 0 && v)
            o.cpu_threads = atoi(argv[++i]);
        else if (strcmp(a, "--torch") == 0 && v)
            o.torch = strcmp(argv[++i], "none") == 0 ? NULL : argv[i];
        else if (strcmp(a, "--python") == 0 && v)
            o.python = argv[++i];
        else if (strcmp(a, "--work") == 0 && v)
            work = argv[++i];
        else
            usage();
    }
    if (o.cpu_threads < 1 || o.device < 0)
        usage();
    const char *tmp = getenv("TMPDIR");
    snprintf(o.work, sizeof o.work, "%s/hps_trainer_gpu_XXXXXX",
             work ? work : tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(o.work)) {
        perror(o.work);
        return 2;
    }
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || o.device >= n) {
        fprintf(stderr, "bench_trainer_gpu: no CUDA device %d (%s; %d visible)\n", o.device,
                e != cudaSuccess ? cudaGetErrorString(e) : "out of range", n);
        if (rmdir(o.work) != 0)
            perror(o.work);
        return 2;
    }
    describe(&o);
    run_checks(&o);
    epoch_times(&o);
    allreduce_cost(&o);
    section("summary");
    printf("  %d checks, %d passed, %d failed\n", bench_results.checks,
           bench_results.checks - bench_results.failed, bench_results.failed);
    if (rmdir(o.work) != 0)
        perror(o.work); /* something was left behind: say so, the figures stand */
    return bench_results.failed ? 1 : 0;
}
