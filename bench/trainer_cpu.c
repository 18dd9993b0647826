/*
 * CPU throughput of the trainer (workers/trainer) beside PyTorch, measured in the
 * same run: a 784-256-256-10 ReLU MLP, batch 128, SGD with momentum 0.9 (lr
 * 0.01), softmax cross-entropy, one OpenBLAS thread, on 8192 in-memory Gaussian
 * rows with random labels (seed 1; PyTorch draws its own with seed 0). Each step
 * gathers its rows by a per-pass permutation, runs forward, backward and the
 * optimiser -- what both sides do per step. Rounds alternate: ours, then
 * bench/trainer_torch.py in a fresh /usr/bin/python3 (torch.set_num_threads(1),
 * OMP/OPENBLAS_NUM_THREADS=1); medians and their ratio are printed (target
 * >= 1.0), by wall time and by each process's CPU time. Both runs are single
 * threaded, so the CPU-time figure is the steadier one on a shared machine
 * (the load average is printed); the wall-time one is what a user sees.
 * Debian's PyTorch calls the same OpenBLAS SGEMM (libblas.so.3 -> OpenBLAS), so
 * the ratio measures everything around the GEMMs. OpenBLAS picks its kernels
 * from the CPU model; a KVM guest that reports a generic model gets the
 * Prescott (SSE3) kernels, ~4x slower here than OPENBLAS_CORETYPE=SkylakeX --
 * the bench prints the core in use, and the variable reaches PyTorch too.
 *
 * Then a data-parallel figure with 2 "ranks" that are THREADS in this process,
 * not MPI processes: each has its own weights, computes its slice of the global
 * batch, and a barrier-based in-memory allreduce (each thread sums half the
 * buffer into both) sums the gradients (one BLAS thread each). Efficiency = throughput(2) / (2 x throughput(1)), for the same
 * global batch (128: 64 a rank) and for the same batch a rank (global 256), by
 * wall time (what a user gets, if two cores are free) and by CPU time (samples
 * per CPU-second of the pair over those of one rank: the work that splitting
 * costs -- smaller GEMMs, the allreduce -- without the waiting, since the
 * barrier sleeps). On a machine shared with other work the threads compete for
 * its cores and the wall figure is a floor.
 *
 * Last, hps_train_run end to end on a synthetic 784-feature HDF5 set (group of
 * one, training set held in memory): loader gathers included, validation not.
 *
 *   bench_trainer_cpu          5 rounds of 300 steps
 *   bench_trainer_cpu quick    2 rounds of 100 steps
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "trainer/loader.h"
#include "trainer/mlp.h"
#include "trainer/ops.h"
#include "trainer/rng.h"
#include "trainer/trainer.h"

void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

#define ROWS 8192
#define FEAT 784
#define CLASSES 10
#define MAX_ROUNDS 9 /* >= the rounds main() runs */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_load(const char *when)
{
    char buf[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            snprintf(buf, sizeof buf, "?");
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
    printf("load average %s: %s\n", when, buf);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The shared in-memory data set. */
static float *data_X;
static int32_t *data_y;

static void make_data(void)
{
    data_X = malloc(sizeof(float) * (size_t)ROWS * FEAT);
    data_y = malloc(sizeof(int32_t) * ROWS);
    if (!data_X || !data_y) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    uint64_t base = hps_rng_base(1, 1, 0, 0, 0);
    for (int64_t j = 0; j < (int64_t)ROWS * FEAT; j++)
        data_X[j] = (float)hps_rng_normal(base, (uint64_t)j);
    for (int i = 0; i < ROWS; i++)
        data_y[i] = (int32_t)hps_rng_below(hps_rng_at(base, (uint64_t)(1u << 30) + i), CLASSES);
}

/* One rank's model and state. */
typedef struct bench_rank {
    hps_mlp m;
    float *w, *g, *m1;
    int64_t perm[ROWS];
    int64_t pass, k;          /* permutation number, step within it */
    int rank, size;
    int64_t batch;            /* global batch */
    struct group *grp;
} bench_rank;

typedef struct group {
    pthread_barrier_t bar;
    float *bufs[2];
    int64_t n;
} group;

/* Reduce-scatter + all-gather in shared memory: each thread sums its half of the
 * buffer and writes the sum into both ranks' buffers (disjoint ranges, so no
 * locking); both ranks end with the identical sum. */
static void group_allreduce(bench_rank *b, float *buf)
{
    group *g = b->grp;
    g->bufs[b->rank] = buf;
    pthread_barrier_wait(&g->bar);
    int64_t lo = g->n * b->rank / 2, hi = g->n * (b->rank + 1) / 2;
    float *x0 = g->bufs[0], *x1 = g->bufs[1];
    for (int64_t i = lo; i < hi; i++) {
        float s = x0[i] + x1[i];
        x0[i] = s;
        x1[i] = s;
    }
    pthread_barrier_wait(&g->bar);
}

static int rank_init(bench_rank *b, int rank, int size, int64_t batch)
{
    memset(b, 0, sizeof *b);
    b->rank = rank;
    b->size = size;
    b->batch = batch;
    int64_t cap = (batch + size - 1) / size;
    if (hps_mlp_init(&b->m, &hps_train_ops_cpu, NULL, FEAT, 2, 256, CLASSES, HPS_ACT_RELU,
                     HPS_TASK_CLASSIFY, cap) != HPS_OK)
        return -1;
    size_t pb = sizeof(float) * (size_t)b->m.n_params;
    b->w = hps_train_ops_cpu.alloc(NULL, pb);
    b->g = hps_train_ops_cpu.alloc(NULL, pb);
    b->m1 = hps_train_ops_cpu.alloc(NULL, pb);
    if (!b->w || !b->g || !b->m1)
        return -1;
    hps_mlp_init_params(&b->m, 7, b->w);
    hps_loader_permutation(b->perm, ROWS, 1, 0);
    return 0;
}

static void rank_free(bench_rank *b)
{
    hps_train_ops_cpu.free(NULL, b->w);
    hps_train_ops_cpu.free(NULL, b->g);
    hps_train_ops_cpu.free(NULL, b->m1);
    hps_mlp_free(&b->m);
}

/* Run steps; when times is not NULL, times[s] receives step s's wall time. */
static double rank_steps(bench_rank *b, int steps, double *times)
{
    hps_optim_step os = {.kind = HPS_OPT_SGD, .lr = 0.01f, .momentum = 0.9f,
                         .grad_scale = 1.0f / (float)b->batch};
    const int64_t per_pass = ROWS / b->batch;
    double loss = 0;
    for (int s = 0; s < steps; s++) {
        double t0 = times ? now() : 0.0;
        if (b->k == per_pass) {
            hps_loader_permutation(b->perm, ROWS, 1, ++b->pass);
            b->k = 0;
        }
        int64_t lo, hi;
        hps_slice(b->batch, b->rank, b->size, &lo, &hi);
        const int64_t *rows = b->perm + b->k * b->batch + lo;
        int64_t n = hi - lo;
        for (int64_t i = 0; i < n; i++) {
            memcpy(b->m.x + i * FEAT, data_X + rows[i] * FEAT, sizeof(float) * FEAT);
            ((int32_t *)b->m.y)[i] = data_y[rows[i]];
            b->m.row_ids[i] = rows[i];
        }
        double st[2] = {0, 0};
        hps_mlp_pass(&b->m, b->w, n, NULL, b->g, st);
        if (b->size > 1)
            group_allreduce(b, b->g);
        int32_t bad = 0;
        hps_train_ops_cpu.optim(NULL, &os, b->w, b->g, b->m1, NULL, b->m.n_params, &bad);
        loss = st[0];
        b->k++;
        if (times)
            times[s] = now() - t0;
    }
    return loss;
}

/* A round's figures: samples/s by wall time, by CPU time, and from the 10th
 * percentile step time (the steps the machine's other load did not slow). */
typedef struct round_fig {
    double wall, cpu, fast;
} round_fig;

#define MAX_STEPS 1000

static void ours_round(bench_rank *b, int steps, round_fig *f)
{
    static double times[MAX_STEPS];
    double t = now(), c = cpu_now();
    rank_steps(b, steps, times);
    double samples = (double)steps * (double)b->batch;
    f->wall = samples / (now() - t);
    f->cpu = samples / (cpu_now() - c);
    qsort(times, (size_t)steps, sizeof times[0], cmp_double);
    f->fast = (double)b->batch / times[steps / 10];
}

/* One PyTorch round in a fresh process; f->wall < 0 when it failed. */
static void torch_round(int steps, round_fig *f)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "
             "%s/bench/trainer_torch.py --steps %d --warmup 30 --rounds 1 2>&1",
             HPS_SOURCE_DIR, steps);
    FILE *p = popen(cmd, "r");
    f->wall = f->cpu = f->fast = -1;
    if (!p)
        return;
    char line[512];
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "samples_per_second=%lf cpu_samples_per_second=%lf "
                         "p10_samples_per_second=%lf", &f->wall, &f->cpu, &f->fast) != 3)
            fputs(line, stderr);
    if (pclose(p) != 0)
        f->wall = -1;
}

typedef struct dp_arg {
    bench_rank *b;
    int steps;
} dp_arg;

static void *dp_main(void *arg)
{
    dp_arg *a = arg;
    openblas_set_num_threads(1);
    rank_steps(a->b, a->steps, NULL);
    return NULL;
}

/* Two threads on one global batch; group samples/s by wall time, and by CPU time
 * in *cpu. */
static double data_parallel(int64_t global_batch, int steps, double *cpu)
{
    group g;
    memset(&g, 0, sizeof g);
    bench_rank r[2];
    for (int k = 0; k < 2; k++)
        if (rank_init(&r[k], k, 2, global_batch) != 0)
            return -1;
    g.n = r[0].m.n_params;
    for (int k = 0; k < 2; k++)
        r[k].grp = &g;
    pthread_barrier_init(&g.bar, NULL, 2);
    pthread_t th[2];
    dp_arg warm[2] = {{&r[0], 20}, {&r[1], 20}}, timed[2] = {{&r[0], steps}, {&r[1], steps}};
    for (int k = 0; k < 2; k++)
        pthread_create(&th[k], NULL, dp_main, &warm[k]);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    double t = now(), c = cpu_now();
    for (int k = 0; k < 2; k++)
        pthread_create(&th[k], NULL, dp_main, &timed[k]);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    double samples = (double)steps * (double)global_batch;
    double rate = samples / (now() - t);
    *cpu = samples / (cpu_now() - c);
    /* The two ranks must have kept identical weights. */
    if (memcmp(r[0].w, r[1].w, sizeof(float) * (size_t)g.n) != 0)
        fprintf(stderr, "warning: the two ranks' weights differ\n");
    pthread_barrier_destroy(&g.bar);
    for (int k = 0; k < 2; k++)
        rank_free(&r[k]);
    return rate;
}

static double end_to_end(int quick)
{
    char path[256], err[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/hps_bench_trainer_%d.h5", tmp && tmp[0] ? tmp : "/tmp",
             (int)getpid());
    if (hps_dataset_synth(path, quick ? 5120 : 20480, FEAT, CLASSES, 3, err, sizeof err) != 0) {
        fprintf(stderr, "synth: %s\n", err);
        return -1;
    }
    hps_train_params p;
    hps_train_params_default(&p);
    p.optimizer = HPS_OPT_SGD;
    p.learning_rate = 0.01;
    p.momentum = 0.9;
    p.hidden_layers = 2;
    p.hidden_units = 256;
    p.batch_size = 128;
    p.epochs = 2;
    p.seed = 3;
    hps_train_comm one = {.rank = 0, .size = 1};
    hps_train_result res;
    int rc = hps_train_run(&p, path, &one, NULL, NULL, &res, err, sizeof err);
    unlink(path);
    if (rc != HPS_OK) {
        fprintf(stderr, "train: %s\n", err);
        return -1;
    }
    return (double)res.samples / res.train_seconds;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    int rounds = quick ? 2 : 7, steps = quick ? 100 : 200;
    openblas_set_num_threads(1);
    make_data();
    printf("trainer_cpu: 784-256-256-10 relu, batch 128, sgd momentum 0.9, 1 OpenBLAS thread "
           "(core %s), %d in-memory rows (seed 1); %d rounds of %d steps\n",
           openblas_get_corename(), ROWS, rounds, steps);
    print_load("at start");

    bench_rank b;
    if (rank_init(&b, 0, 1, 128) != 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    rank_steps(&b, 30, NULL); /* warm-up: page in, OpenBLAS buffers */
    round_fig o[MAX_ROUNDS], t[MAX_ROUNDS];
    double v[6][MAX_ROUNDS];
    printf("samples/s        wall time: hpsweep  pytorch ratio | CPU time: hpsweep  pytorch "
           "ratio | p10 step: hpsweep  pytorch ratio\n");
    int torch_ok = 1;
    for (int r = 0; r < rounds; r++) {
        ours_round(&b, steps, &o[r]);
        torch_ok = torch_ok && (torch_round(steps, &t[r]), t[r].wall > 0);
        if (!torch_ok) {
            /* no peer: our figure alone, "not measured" beside it */
            printf("round %d                 %8.0f  PyTorch not measured (python3-torch "
                   "missing?)\n", r + 1, o[r].wall);
            v[0][r] = o[r].wall, v[2][r] = o[r].cpu;
            continue;
        }
        printf("round %d                 %8.0f %8.0f %5.2f |          %8.0f %8.0f %5.2f | "
               "         %8.0f %8.0f %5.2f\n", r + 1, o[r].wall, t[r].wall, o[r].wall / t[r].wall,
               o[r].cpu, t[r].cpu, o[r].cpu / t[r].cpu, o[r].fast, t[r].fast,
               o[r].fast / t[r].fast);
        fflush(stdout);
        v[0][r] = o[r].wall, v[1][r] = t[r].wall, v[2][r] = o[r].cpu;
        v[3][r] = t[r].cpu, v[4][r] = o[r].fast, v[5][r] = t[r].fast;
    }
    double med[6];
    for (int k = 0; k < 6; k++)
        med[k] = torch_ok || k == 0 || k == 2 ? median(v[k], rounds) : NAN;
    if (torch_ok) {
        printf("median                  %8.0f %8.0f %5.2f |          %8.0f %8.0f %5.2f | "
               "         %8.0f %8.0f %5.2f   (target >= 1.0)\n", med[0], med[1], med[0] / med[1],
               med[2], med[3], med[2] / med[3], med[4], med[5], med[4] / med[5]);
        /* bench/run-all's table: figure|value|peer|ratio|target|met */
        printf("RESULT|trainer CPU samples/s, wall, 1 thread|%.0f|PyTorch %.0f (this run)|%.2fx|"
               ">= 1.0x|%s\n", med[0], med[1], med[0] / med[1],
               med[0] >= med[1] ? "met" : "not met");
        printf("RESULT|trainer CPU samples per CPU-s, 1 thread|%.0f|PyTorch %.0f (this run)|%.2fx|"
               ">= 1.0x|%s\n", med[2], med[3], med[2] / med[3],
               med[2] >= med[3] ? "met" : "not met");
    } else {
        printf("median                  %8.0f  PyTorch not measured\n", med[0]);
        printf("RESULT|trainer CPU samples/s, wall, 1 thread|%.0f|PyTorch not measured|-|>= 1.0x|-\n",
               med[0]);
    }
    /* The other figures are taken against a one-rank round run right beside them,
     * in triples, so a change in the machine's load hits both sides alike. */
    printf("data-parallel, 2 ranks as THREADS in one process (not MPI), in-memory barrier "
           "allreduce, 1 BLAS thread each; medians of 3 (1 rank, 2 ranks) pairs:\n");
    const int64_t globals[2] = {128, 256};
    for (int k = 0; k < 2; k++) {
        double w1[3], c1[3], w2[3], c2[3];
        for (int r = 0; r < 3; r++) {
            round_fig ref;
            ours_round(&b, steps, &ref);
            w1[r] = ref.wall;
            c1[r] = ref.cpu;
            w2[r] = data_parallel(globals[k], (int)(steps * 128 / globals[k]), &c2[r]);
        }
        double mw1 = median(w1, 3), mc1 = median(c1, 3), mw2 = median(w2, 3), mc2 = median(c2, 3);
        printf("  global batch %3lld (%3lld a rank): 1 rank %6.0f, 2 ranks %6.0f samples/s: "
               "wall efficiency %.2f | CPU time: %6.0f vs %6.0f samples/CPU-s: %.2f\n",
               (long long)globals[k], (long long)globals[k] / 2, mw1, mw2, mw2 / (2 * mw1), mc1,
               mc2, mc2 / mc1);
        printf("RESULT|trainer data-parallel efficiency, 2 threads, global batch %lld, CPU time|%.2f|"
               "1 rank %.0f samples/CPU-s (this run)|-|-|-\n", (long long)globals[k], mc2 / mc1, mc1);
        fflush(stdout);
    }

    round_fig ref;
    ours_round(&b, steps, &ref);
    double e2e = end_to_end(quick);
    printf("end to end: hps_train_run, group of one, synthetic %d x %d HDF5 set in memory: "
           "%6.0f samples/s; the step loop beside it: %6.0f (ratio %.2f)\n",
           quick ? 4096 : 16384, FEAT, e2e, ref.wall, e2e / ref.wall);
    printf("RESULT|trainer end to end (hps_train_run) samples/s|%.0f|the step loop alone %.0f "
           "(this run)|%.2fx|-|-\n", e2e, ref.wall, e2e / ref.wall);
    rank_free(&b);
    print_load("at end");
    free(data_X);
    free(data_y);
    return 0;
}
