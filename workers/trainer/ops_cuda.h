/*
 * What the two halves of the CUDA backend share (ops_cuda.cu: the device, its
 * memory and the table; ops_cuda_math.cu: cuBLAS and the kernels): the backend
 * instance, the sticky failure and the check macros every CUDA and cuBLAS call
 * goes through, launch sizes, and the math entries the table points to.
 * C++ (nvcc) only; both files are built into the GPU module, hpsweep-gpu.so
 * (workers/trainer/gpu.h), not the program.
 */
#ifndef HPS_TRAINER_OPS_CUDA_H
#define HPS_TRAINER_OPS_CUDA_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "hpsweep/error.h"
#include "ops.h"

#define THREADS 256        /* a block of the element-wise kernels */
#define REDUCE_THREADS 512 /* the one block of a loss sum */

struct hps_backend {
    int device;
    int rc;                 /* the first failure; HPS_OK while none */
    char msg[384];          /* its message */
    cudaStream_t stream;
    cublasHandle_t blas;
    cudaEvent_t staged[2];  /* stage_mark / stage_wait */
    int64_t max_rows;
    float *ones;            /* [max_rows] of 1.0f: column sums as a GEMV */
    double *row_loss;       /* [max_rows] per-row losses of the last loss call */
    double *row_ok;         /* [max_rows] per-row hits (0 or 1) */
};

/* ---- failures --------------------------------------------------------------------------- */

static inline void fail(hps_backend *be, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void fail(hps_backend *be, int code, const char *fmt, ...)
{
    if (be->rc != HPS_OK)
        return;
    be->rc = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(be->msg, sizeof be->msg, fmt, ap);
    va_end(ap);
}

/* A device that is absent or cannot run this build is HPS_ENOSYS; no memory is
 * HPS_ENOMEM; anything else failed on a working device: HPS_EIO. */
static inline int cuda_code(cudaError_t e)
{
    switch (e) {
    case cudaErrorMemoryAllocation:
        return HPS_ENOMEM;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
        return HPS_ENOSYS;
    default:
        return HPS_EIO;
    }
}

static inline bool cuda_ok(hps_backend *be, cudaError_t e, const char *call, const char *file,
                           int line)
{
    if (e == cudaSuccess)
        return true;
    fail(be, cuda_code(e), "CUDA device %d: %s (%s:%d): %s", be->device, call, file, line,
         cudaGetErrorString(e));
    return false;
}

static inline bool cublas_ok(hps_backend *be, cublasStatus_t s, const char *call,
                             const char *file, int line)
{
    if (s == CUBLAS_STATUS_SUCCESS)
        return true;
    fail(be, s == CUBLAS_STATUS_ALLOC_FAILED ? HPS_ENOMEM : HPS_EIO,
         "CUDA device %d: %s (%s:%d): %s", be->device, call, file, line,
         cublasGetStatusString(s));
    return false;
}

#define cudaCheck(be, call) cuda_ok((be), (call), #call, HPS_CUDA_FILE, __LINE__)
#define cublasCheck(be, call) cublas_ok((be), (call), #call, HPS_CUDA_FILE, __LINE__)
/* After a kernel launch: a bad configuration or a missing kernel image shows here. */
#define launchCheck(be, kernel)                                                             \
    cuda_ok((be), cudaGetLastError(), "launch of " kernel, HPS_CUDA_FILE, __LINE__)

/* Blocks of THREADS for a grid-stride loop over total elements. */
static inline unsigned blocks_for(int64_t total)
{
    int64_t b = (total + THREADS - 1) / THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65536 ? 65536 : b);
}

static inline bool rows_fit(hps_backend *be, int64_t rows, const char *what)
{
    if (rows <= be->max_rows)
        return true;
    fail(be, HPS_EINVAL, "CUDA device %d: %s of %lld rows, the backend was opened for %lld",
         be->device, what, (long long)rows, (long long)be->max_rows);
    return false;
}

/* The math entries of the table (ops_cuda_math.cu), and the one open needs. */
void hps_cuda_fill(hps_backend *be, float *p, int64_t n, float v);
void hps_cuda_gemm(hps_backend *be, int trans_a, int trans_b, int m, int n, int k,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C,
                   int ldc);
void hps_cuda_bias_act(hps_backend *be, float *z, float *a, float *mask, const float *bias,
                       int64_t rows, int n, int act, const hps_dropout *drop, int layer);
void hps_cuda_act_back(hps_backend *be, float *dz, const float *da, const float *z,
                       const float *mask, float *db, int64_t rows, int n, int act);
void hps_cuda_loss(hps_backend *be, float *logits, const float *bias, const void *labels,
                   int64_t rows, int n, int task, float *dlogits, float *dbias, double *sums);
void hps_cuda_optim(hps_backend *be, const hps_optim_step *s, float *w, const float *grad,
                    float *m1, float *m2, int64_t n, int32_t *flag);

#endif
