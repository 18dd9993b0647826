/*
 * The CUDA backend of hps_train_ops (ops.h), first half: the device, its stream
 * and memory, and the table. The math -- cuBLAS SGEMM and the kernels -- is in
 * ops_cuda_math.cu, which says how each entry matches the CPU backend.
 *
 * One instance is one device, one non-blocking stream that every call queues
 * on, one cuBLAS handle bound to it (TF32 as its math mode when cfg.tf32), two
 * events for the staging slots and the scratch the math needs (a vector of ones,
 * per-row losses and hits for max_rows rows). Copies to the device are queued
 * (asynchronous from page-locked memory); copies to the host wait for the
 * stream. Errors: every CUDA and cuBLAS call goes through cudaCheck /
 * cublasCheck (ops_cuda.h), which keep the first failure -- the call's text,
 * file and line, the library's message -- in the instance; every entry does
 * nothing once one is kept, and status() reports it as an HPS_E* code. Nothing
 * here exits or aborts.
 *
 * Built into the GPU module, hpsweep-gpu.so, never into the program or
 * libhpsweep.a: the program reaches this table through the module's
 * (workers/trainer/gpu.h, workers/gpu/module.c), loaded the first time a trial
 * trains on a device.
 */
#define HPS_CUDA_FILE "ops_cuda.cu"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_cuda.h"

/* ---- the instance and its memory -------------------------------------------------------- */

static void cuda_close(hps_backend *be)
{
    if (!be)
        return;
    /* Close has no one to tell: a failure here was (or would be) seen by status. */
    if (be->stream)
        (void)cudaStreamSynchronize(be->stream);
    (void)cudaFree(be->ones);
    (void)cudaFree(be->row_loss);
    (void)cudaFree(be->row_ok);
    for (int k = 0; k < 2; k++)
        if (be->staged[k])
            (void)cudaEventDestroy(be->staged[k]);
    if (be->blas)
        (void)cublasDestroy(be->blas);
    if (be->stream)
        (void)cudaStreamDestroy(be->stream);
    free(be);
}

static int cuda_open(const hps_backend_cfg *cfg, hps_backend **out, char *err, size_t errlen)
{
    *out = NULL;
    hps_backend *be = (hps_backend *)calloc(1, sizeof *be);
    if (!be) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory for the CUDA backend");
        return HPS_ENOMEM;
    }
    be->device = cfg->device;
    be->max_rows = cfg->max_rows > 0 ? cfg->max_rows : 1;
    const size_t rows = (size_t)be->max_rows;
    cublasMath_t math = cfg->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
    bool ok = cudaCheck(be, cudaSetDevice(cfg->device)) &&
              cudaCheck(be, cudaStreamCreateWithFlags(&be->stream, cudaStreamNonBlocking)) &&
              cublasCheck(be, cublasCreate(&be->blas)) &&
              cublasCheck(be, cublasSetStream(be->blas, be->stream)) &&
              cublasCheck(be, cublasSetMathMode(be->blas, math)) &&
              cudaCheck(be, cudaEventCreateWithFlags(&be->staged[0], cudaEventDisableTiming)) &&
              cudaCheck(be, cudaEventCreateWithFlags(&be->staged[1], cudaEventDisableTiming)) &&
              cudaCheck(be, cudaMalloc((void **)&be->ones, rows * sizeof(float))) &&
              cudaCheck(be, cudaMalloc((void **)&be->row_loss, rows * sizeof(double))) &&
              cudaCheck(be, cudaMalloc((void **)&be->row_ok, rows * sizeof(double)));
    if (ok) {
        hps_cuda_fill(be, be->ones, be->max_rows, 1.0f);
        ok = be->rc == HPS_OK && cudaCheck(be, cudaStreamSynchronize(be->stream));
    }
    if (!ok) {
        int rc = be->rc;
        if (err && errlen)
            snprintf(err, errlen, "%s", be->msg);
        cuda_close(be);
        return rc;
    }
    *out = be;
    return HPS_OK;
}

static int cuda_status(hps_backend *be, char *err, size_t errlen)
{
    if (be->rc == HPS_OK)
        cudaCheck(be, cudaStreamSynchronize(be->stream));
    if (be->rc != HPS_OK && err && errlen)
        snprintf(err, errlen, "%s", be->msg);
    return be->rc;
}

static void *cuda_stream(hps_backend *be)
{
    return (void *)be->stream;
}

static void *cuda_alloc(hps_backend *be, size_t bytes)
{
    if (be->rc != HPS_OK)
        return NULL;
    size_t n = bytes ? (bytes + 63) & ~(size_t)63 : 64;
    void *p = NULL;
    if (!cudaCheck(be, cudaMalloc(&p, n)))
        return NULL;
    if (!cudaCheck(be, cudaMemsetAsync(p, 0, n, be->stream))) {
        (void)cudaFree(p); /* the failure is already kept */
        return NULL;
    }
    return p;
}

static void cuda_free(hps_backend *be, void *p)
{
    if (p)
        cudaCheck(be, cudaFree(p));
}

static void *cuda_host_alloc(hps_backend *be, size_t bytes)
{
    if (be->rc != HPS_OK)
        return NULL;
    void *p = NULL;
    if (!cudaCheck(be, cudaMallocHost(&p, bytes ? bytes : 1)))
        return NULL;
    return p;
}

static void cuda_host_free(hps_backend *be, void *p)
{
    if (p)
        cudaCheck(be, cudaFreeHost(p));
}

static void cuda_to_backend(hps_backend *be, void *dst, const void *src, size_t bytes)
{
    if (be->rc != HPS_OK || bytes == 0)
        return;
    cudaCheck(be, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, be->stream));
}

static void cuda_to_host(hps_backend *be, void *dst, const void *src, size_t bytes)
{
    if (bytes == 0)
        return;
    if (be->rc == HPS_OK &&
        cudaCheck(be, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, be->stream)) &&
        cudaCheck(be, cudaStreamSynchronize(be->stream)))
        return;
    memset(dst, 0, bytes); /* defined contents; status() says why */
}

static void cuda_zero(hps_backend *be, void *p, size_t bytes)
{
    if (be->rc != HPS_OK || bytes == 0)
        return;
    cudaCheck(be, cudaMemsetAsync(p, 0, bytes, be->stream));
}

static void cuda_stage_mark(hps_backend *be, int slot)
{
    if (be->rc == HPS_OK)
        cudaCheck(be, cudaEventRecord(be->staged[slot & 1], be->stream));
}

static void cuda_stage_wait(hps_backend *be, int slot)
{
    if (be->rc == HPS_OK)
        cudaCheck(be, cudaEventSynchronize(be->staged[slot & 1]));
}

extern "C" const hps_train_ops hps_train_ops_cuda = {
    .version = HPS_TRAIN_OPS_VERSION,
    .name = "cuda",
    .host_memory = 0,
    .open = cuda_open,
    .close = cuda_close,
    .status = cuda_status,
    .stream = cuda_stream,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .host_alloc = cuda_host_alloc,
    .host_free = cuda_host_free,
    .to_backend = cuda_to_backend,
    .to_host = cuda_to_host,
    .zero = cuda_zero,
    .stage_mark = cuda_stage_mark,
    .stage_wait = cuda_stage_wait,
    .gemm = hps_cuda_gemm,
    .bias_act = hps_cuda_bias_act,
    .act_back = hps_cuda_act_back,
    .loss = hps_cuda_loss,
    .optim = hps_cuda_optim,
};
