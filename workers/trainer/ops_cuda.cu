/*
 * The CUDA backend of hps_train_ops (ops.h): cuBLAS SGEMM for the layers and a
 * few kernels for the rest, all queued on one stream of one device, so nothing
 * a step computes comes back to the host until the trial loop asks (to_host).
 *
 * Same semantics as the CPU backend (ops_cpu.c), entry by entry: the same
 * activation formulas, dropout masks from the same rng.h functions (bit for
 * bit), the softmax cross-entropy's log-sum-exp in double with ties of the
 * argmax to the lowest index, the optimisers' float arithmetic with the bias
 * corrections computed in double on the host. What differs is the order of
 * float sums (cuBLAS, column sums as a GEMV against a vector of ones, warp and
 * block reductions) and fused multiply-adds. No sum uses atomics, so a run is
 * reproducible on one GPU model; the only atomic is the OR of the non-finite
 * flag. TF32 (cfg.tf32) switches cuBLAS to CUBLAS_TF32_TENSOR_OP_MATH.
 *
 * Row-major GEMMs on column-major cuBLAS: a row-major X with leading dimension
 * ld is X^T to cuBLAS with the same ld, so C = op(A) op(B) is computed as
 * C^T = op(B)^T op(A)^T: cublasSgemm(op_b, op_a, n, m, k, B, ldb, A, lda, C, ldc)
 * with op_x = T exactly when the row-major call transposes X.
 *
 * Errors: every CUDA and cuBLAS call goes through cudaCheck / cublasCheck,
 * which keep the first failure (the call's text, the line and the library's
 * message) in the instance; every entry does nothing once one is kept, and
 * status() reports it as an HPS_E* code. Nothing here exits or aborts.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "ops.h"
#include "rng.h"
#include "trainer.h"

#define THREADS 256
#define REDUCE_THREADS 512
#define FULL_MASK 0xffffffffu

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

/* ---- failures ------------------------------------------------------------------------ */

static void fail(hps_backend *be, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(hps_backend *be, int code, const char *fmt, ...)
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
static int cuda_code(cudaError_t e)
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

static bool cuda_ok(hps_backend *be, cudaError_t e, const char *call, int line)
{
    if (e == cudaSuccess)
        return true;
    fail(be, cuda_code(e), "CUDA device %d: %s (ops_cuda.cu:%d): %s", be->device, call, line,
         cudaGetErrorString(e));
    return false;
}

static bool cublas_ok(hps_backend *be, cublasStatus_t s, const char *call, int line)
{
    if (s == CUBLAS_STATUS_SUCCESS)
        return true;
    fail(be, s == CUBLAS_STATUS_ALLOC_FAILED ? HPS_ENOMEM : HPS_EIO,
         "CUDA device %d: %s (ops_cuda.cu:%d): %s", be->device, call, line,
         cublasGetStatusString(s));
    return false;
}

#define cudaCheck(be, call) cuda_ok((be), (call), #call, __LINE__)
#define cublasCheck(be, call) cublas_ok((be), (call), #call, __LINE__)
/* After a kernel launch: a bad configuration or a missing kernel image shows here. */
#define launchCheck(be, kernel) cuda_ok((be), cudaGetLastError(), "launch of " kernel, __LINE__)

/* Blocks of THREADS for a grid-stride loop over total elements. */
static unsigned blocks_for(int64_t total)
{
    int64_t b = (total + THREADS - 1) / THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65536 ? 65536 : b);
}

static bool rows_fit(hps_backend *be, int64_t rows, const char *what)
{
    if (rows <= be->max_rows)
        return true;
    fail(be, HPS_EINVAL, "CUDA device %d: %s of %lld rows, the backend was opened for %lld",
         be->device, what, (long long)rows, (long long)be->max_rows);
    return false;
}

/* ---- kernels ------------------------------------------------------------------------- */

__device__ static float gelu_cdf(float z)
{
    return 0.5f * (1.0f + erff(z * 0.70710678118654752f));
}

__device__ static float act_fn(float z, int act)
{
    if (act == HPS_ACT_RELU)
        return z > 0.0f ? z : 0.0f;
    if (act == HPS_ACT_TANH)
        return tanhf(z);
    return z * gelu_cdf(z);
}

__device__ static float act_grad(float z, int act)
{
    if (act == HPS_ACT_RELU)
        return z > 0.0f ? 1.0f : 0.0f;
    if (act == HPS_ACT_TANH) {
        float t = tanhf(z);
        return 1.0f - t * t;
    }
    float pdf = 0.39894228040143268f * expf(-0.5f * z * z);
    return gelu_cdf(z) + z * pdf;
}

__global__ static void k_fill(float *p, int64_t n, float v)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        p[i] = v;
}

/* z += bias; a = act(z) [* mask, drawn from the row's key] over rows x n. */
__global__ static void k_bias_act(float *z, float *a, float *mask, const float *bias,
                                  int64_t total, int n, int act, int dropping, uint64_t seed,
                                  int64_t epoch, const int64_t *row_ids, int layer,
                                  uint64_t threshold, float scale)
{
    for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = idx / n;
        int j = (int)(idx - i * n);
        float v = z[idx] + bias[j];
        z[idx] = v;
        float y = act_fn(v, act);
        if (dropping) {
            uint64_t key = hps_dropout_row(seed, epoch, row_ids[i], layer);
            float m = hps_dropout_keep(key, j, threshold) ? scale : 0.0f;
            mask[idx] = m;
            y *= m;
        }
        a[idx] = y;
    }
}

/* dz = da * act'(z) [* mask]; dz may alias da. */
__global__ static void k_act_back(float *dz, const float *da, const float *z, const float *mask,
                                  int64_t total, int act)
{
    for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        float d = act == HPS_ACT_RELU ? (z[idx] > 0.0f ? da[idx] : 0.0f)
                                      : da[idx] * act_grad(z[idx], act);
        if (mask)
            d *= mask[idx];
        dz[idx] = d;
    }
}

/*
 * Softmax cross-entropy, one warp per row: logits += bias, the argmax (ties to
 * the lowest index), s = sum exp(z - max) in double, the row's loss
 * max + log(s) - z[y] and hit, and when dlogits is given p - onehot computed as
 * the CPU does ((float)e * (float)(1 / s), then - 1 at the label).
 */
__global__ static void k_softmax_xent(float *logits, const float *bias, const int32_t *labels,
                                      int64_t rows, int n, float *dlogits, double *row_loss,
                                      double *row_ok)
{
    const int lane = threadIdx.x & 31;
    const int64_t row = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    if (row >= rows)
        return; /* whole warps: blockDim is a multiple of 32 */
    float *z = logits + row * n;
    float *d = dlogits ? dlogits + row * n : NULL;
    float zmax = -INFINITY;
    int best = INT_MAX;
    for (int j = lane; j < n; j += 32) {
        float v = z[j] + bias[j];
        z[j] = v;
        if (v > zmax) {
            zmax = v;
            best = j;
        }
    }
    for (int off = 16; off > 0; off >>= 1) {
        float oz = __shfl_xor_sync(FULL_MASK, zmax, off);
        int ob = __shfl_xor_sync(FULL_MASK, best, off);
        if (oz > zmax || (oz == zmax && ob < best)) {
            zmax = oz;
            best = ob;
        }
    }
    double s = 0.0;
    for (int j = lane; j < n; j += 32) {
        double e = exp((double)z[j] - (double)zmax);
        s += e;
        if (d)
            d[j] = (float)e;
    }
    for (int off = 16; off > 0; off >>= 1)
        s += __shfl_xor_sync(FULL_MASK, s, off); /* the same sum on every lane */
    __syncwarp(); /* the logits every lane wrote are visible to lane 0 */
    const int y = labels[row];
    if (lane == 0) {
        row_loss[row] = (double)zmax + log(s) - (double)z[y];
        row_ok[row] = best == y ? 1.0 : 0.0;
    }
    if (d) {
        const float inv = (float)(1.0 / s);
        for (int j = lane; j < n; j += 32) {
            float g = d[j] * inv;
            d[j] = j == y ? g - 1.0f : g;
        }
    }
}

/* Squared error, one thread per row (one output). */
__global__ static void k_squared_error(float *logits, const float *bias, const float *targets,
                                       int64_t rows, float *dlogits, double *row_loss,
                                       double *row_ok)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < rows;
         i += (int64_t)gridDim.x * blockDim.x) {
        float v = logits[i] + bias[0];
        logits[i] = v;
        double diff = (double)v - (double)targets[i];
        row_loss[i] = diff * diff;
        row_ok[i] = 0.0;
        if (dlogits)
            dlogits[i] = (float)(2.0 * diff);
    }
}

/* sums[0] += sum of row_loss, sums[1] += sum of row_ok: one block, a fixed order. */
__global__ static void k_sum_rows(const double *row_loss, const double *row_ok, int64_t rows,
                                  double *sums)
{
    __shared__ double sl[REDUCE_THREADS], so[REDUCE_THREADS];
    const int t = threadIdx.x;
    double a = 0.0, b = 0.0;
    for (int64_t i = t; i < rows; i += REDUCE_THREADS) {
        a += row_loss[i];
        b += row_ok[i];
    }
    sl[t] = a;
    so[t] = b;
    __syncthreads();
    for (int half = REDUCE_THREADS / 2; half > 0; half >>= 1) {
        if (t < half) {
            sl[t] += sl[t + half];
            so[t] += so[t + half];
        }
        __syncthreads();
    }
    if (t == 0) {
        sums[0] += sl[0];
        sums[1] += so[0];
    }
}

/* The optimiser's constants for one step, computed on the host as the CPU does. */
typedef struct optim_args {
    int kind, nesterov;
    float lr, scale, wd, mu;
    float b1, b2, eps, step, inv_sqrt_bc2, l2, shrink;
} optim_args;

__global__ static void k_optim(optim_args o, float *w, const float *grad, float *m1, float *m2,
                               int64_t n, int32_t *flag)
{
    int bad = 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float wi = w[i];
        if (o.kind == HPS_OPT_SGD) {
            float g = grad[i] * o.scale + o.wd * wi;
            if (o.mu == 0.0f) {
                wi -= o.lr * g;
            } else {
                float b = o.mu * m1[i] + g;
                m1[i] = b;
                wi -= o.nesterov ? o.lr * (g + o.mu * b) : o.lr * b;
            }
        } else {
            float g = grad[i] * o.scale + o.l2 * wi;
            float m = o.b1 * m1[i] + (1.0f - o.b1) * g;
            float v = o.b2 * m2[i] + (1.0f - o.b2) * g * g;
            m1[i] = m;
            m2[i] = v;
            wi *= o.shrink;
            wi -= o.step * m / (sqrtf(v) * o.inv_sqrt_bc2 + o.eps);
        }
        w[i] = wi;
        bad |= !isfinite(wi);
    }
    if (__any_sync(FULL_MASK, bad) && (threadIdx.x & 31) == 0)
        atomicOr((int *)flag, 1);
}

/* ---- the table's entries ---------------------------------------------------------------- */

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
        k_fill<<<blocks_for(be->max_rows), THREADS, 0, be->stream>>>(be->ones, be->max_rows,
                                                                     1.0f);
        ok = launchCheck(be, "k_fill") && cudaCheck(be, cudaStreamSynchronize(be->stream));
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

static void cuda_gemm(hps_backend *be, int trans_a, int trans_b, int m, int n, int k,
                      const float *A, int lda, const float *B, int ldb, float beta, float *C,
                      int ldc)
{
    if (be->rc != HPS_OK || m <= 0 || n <= 0)
        return;
    const float one = 1.0f;
    cublasCheck(be, cublasSgemm(be->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &one, B, ldb, A,
                                lda, &beta, C, ldc));
}

/* db[n] = column sums of the row-major x[rows x n]: x^T (column-major n x rows) times
 * ones. No rows: zeros (a GEMV with no columns would leave db as it was). */
static void column_sums(hps_backend *be, const float *x, int64_t rows, int n, float *db)
{
    if (rows <= 0) {
        cudaCheck(be, cudaMemsetAsync(db, 0, (size_t)n * sizeof(float), be->stream));
        return;
    }
    if (!rows_fit(be, rows, "a column sum"))
        return;
    const float one = 1.0f, zero = 0.0f;
    cublasCheck(be, cublasSgemv(be->blas, CUBLAS_OP_N, n, (int)rows, &one, x, n, be->ones, 1,
                                &zero, db, 1));
}

static void cuda_bias_act(hps_backend *be, float *z, float *a, float *mask, const float *bias,
                          int64_t rows, int n, int act, const hps_dropout *drop, int layer)
{
    if (be->rc != HPS_OK || rows <= 0)
        return;
    const int dropping = drop && drop->p > 0.0;
    const int64_t total = rows * n;
    k_bias_act<<<blocks_for(total), THREADS, 0, be->stream>>>(
        z, a, mask, bias, total, n, act, dropping, dropping ? drop->seed : 0,
        dropping ? drop->epoch : 0, dropping ? drop->row_ids : NULL, layer,
        dropping ? hps_dropout_threshold(drop->p) : 0,
        dropping ? (float)(1.0 / (1.0 - drop->p)) : 1.0f);
    launchCheck(be, "k_bias_act");
}

static void cuda_act_back(hps_backend *be, float *dz, const float *da, const float *z,
                          const float *mask, float *db, int64_t rows, int n, int act)
{
    if (be->rc != HPS_OK)
        return;
    if (rows > 0) {
        const int64_t total = rows * n;
        k_act_back<<<blocks_for(total), THREADS, 0, be->stream>>>(dz, da, z, mask, total, act);
        if (!launchCheck(be, "k_act_back"))
            return;
    }
    column_sums(be, dz, rows, n, db);
}

static void cuda_loss(hps_backend *be, float *logits, const float *bias, const void *labels,
                      int64_t rows, int n, int task, float *dlogits, float *dbias, double *sums)
{
    if (be->rc != HPS_OK)
        return;
    if (rows <= 0) {
        if (dbias)
            column_sums(be, NULL, 0, n, dbias);
        return;
    }
    if (!rows_fit(be, rows, "a loss"))
        return;
    if (task == HPS_TASK_REGRESS) {
        k_squared_error<<<blocks_for(rows), THREADS, 0, be->stream>>>(
            logits, bias, (const float *)labels, rows, dlogits, be->row_loss, be->row_ok);
        if (!launchCheck(be, "k_squared_error"))
            return;
    } else {
        const int64_t warps_per_block = THREADS / 32;
        unsigned blocks = (unsigned)((rows + warps_per_block - 1) / warps_per_block);
        k_softmax_xent<<<blocks, THREADS, 0, be->stream>>>(logits, bias, (const int32_t *)labels,
                                                           rows, n, dlogits, be->row_loss,
                                                           be->row_ok);
        if (!launchCheck(be, "k_softmax_xent"))
            return;
    }
    k_sum_rows<<<1, REDUCE_THREADS, 0, be->stream>>>(be->row_loss, be->row_ok, rows, sums);
    if (!launchCheck(be, "k_sum_rows"))
        return;
    if (dlogits && dbias)
        column_sums(be, dlogits, rows, n, dbias);
}

static void cuda_optim(hps_backend *be, const hps_optim_step *s, float *w, const float *grad,
                       float *m1, float *m2, int64_t n, int32_t *flag)
{
    if (be->rc != HPS_OK || n <= 0)
        return;
    optim_args o;
    memset(&o, 0, sizeof o);
    o.kind = s->kind;
    o.nesterov = s->nesterov;
    o.lr = s->lr;
    o.scale = s->grad_scale;
    o.wd = s->weight_decay;
    o.mu = s->momentum;
    if (s->kind != HPS_OPT_SGD) {
        /* The CPU's arithmetic (ops_cpu.c): PyTorch's Adam/AdamW. */
        const double bc1 = 1.0 - pow((double)s->beta1, (double)s->t);
        const double bc2 = 1.0 - pow((double)s->beta2, (double)s->t);
        const int decoupled = s->kind == HPS_OPT_ADAMW;
        o.b1 = s->beta1;
        o.b2 = s->beta2;
        o.eps = s->eps;
        o.step = (float)((double)s->lr / bc1);
        o.inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
        o.l2 = decoupled ? 0.0f : s->weight_decay;
        o.shrink = decoupled ? 1.0f - s->lr * s->weight_decay : 1.0f;
    }
    k_optim<<<blocks_for(n), THREADS, 0, be->stream>>>(o, w, grad, m1, m2, n, flag);
    launchCheck(be, "k_optim");
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
    .gemm = cuda_gemm,
    .bias_act = cuda_bias_act,
    .act_back = cuda_act_back,
    .loss = cuda_loss,
    .optim = cuda_optim,
};
