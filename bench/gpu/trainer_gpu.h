/*
 * Shared parts of bench_trainer_gpu (trainer_gpu.c: main, epoch times, the
 * allreduce's cost; trainer_gpu_checks.c: the CUDA backend against the CPU
 * backend): the options, the result table and its pass/fail count, clocks, the
 * check macros for the CUDA and NCCL calls the program makes itself, and the
 * synthetic datasets it trains on.
 */
#ifndef HPS_BENCH_TRAINER_GPU_H
#define HPS_BENCH_TRAINER_GPU_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime.h>
#include <nccl.h>

/* A program, not the library: a failed CUDA or NCCL call of its own ends it. */
#define cudaCheck(call)                                                                     \
    do {                                                                                    \
        cudaError_t e_ = (call);                                                            \
        if (e_ != cudaSuccess) {                                                            \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                   \
                    cudaGetErrorString(e_));                                                \
            exit(2);                                                                        \
        }                                                                                   \
    } while (0)

#define ncclCheck(call)                                                                     \
    do {                                                                                    \
        ncclResult_t r_ = (call);                                                           \
        if (r_ != ncclSuccess) {                                                            \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                   \
                    ncclGetErrorString(r_));                                                \
            exit(2);                                                                        \
        }                                                                                   \
    } while (0)

typedef struct bench_opts {
    int device;            /* CUDA device */
    int quick;             /* smaller data sets and fewer rounds (a smoke test) */
    int cpu_threads;       /* OpenBLAS threads of the CPU runs */
    const char *python;    /* the interpreter for the PyTorch peer */
    const char *torch;     /* bench/gpu/trainer_torch_gpu.py, or NULL: no PyTorch */
    char work[512];        /* a scratch directory for data sets and checkpoints */
} bench_opts;

/* The result table's counts. */
typedef struct bench_tally {
    int checks, failed;
} bench_tally;

extern bench_tally bench_results;

/* One row of a check: a value of each side, their difference and the bound. */
void check_row(const char *what, double cpu, double gpu, double diff, double tol, int pass);
/* A row with no bound: printed, never counted. */
void info_row(const char *what, double cpu, double gpu, double diff);
void section(const char *title);

double wall_now(void);
double median(double *v, int n);

/* Write a synthetic classification set (784 features, 10 classes) to work/name. */
void make_dataset(const bench_opts *o, const char *name, int64_t samples, uint64_t seed,
                  char *path, size_t len);

/* The trainer's CUDA backend, from the GPU module (hpsweep-gpu.so, found as the program
 * finds it: $HPS_GPU_MODULE or next to this binary's build tree; trainer/gpu.h). Exits
 * with the loader's message when the module cannot be loaded. */
struct hps_train_ops;
const struct hps_train_ops *cuda_backend(void);

/* The CUDA backend against the CPU backend (trainer_gpu_checks.c). */
void run_checks(const bench_opts *o);

#endif
