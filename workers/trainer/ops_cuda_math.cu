/*
 * The CUDA backend of hps_train_ops (ops.h), second half: cuBLAS SGEMM for the
 * layers and a few kernels for the rest, all queued on the instance's stream
 * (ops_cuda.cu has the instance and the table).
 *
 * Same semantics as the CPU backend (ops_cpu.c), entry by entry: the same
 * activation formulas, dropout masks from the same rng.h functions (bit for
 * bit), the softmax cross-entropy's log-sum-exp in double with ties of the
 * argmax to the lowest index, the optimisers' float arithmetic with the bias
 * corrections computed in double on the host. What differs is the order of
 * float sums (cuBLAS, column sums as a GEMV against a vector of ones, warp and
 * block reductions) and fused multiply-adds. No sum uses atomics, so a run is
 * reproducible on one GPU model; the only atomic is the OR of the non-finite
 * flag.
 *
 * Row-major GEMMs on column-major cuBLAS: a row-major X with leading dimension
 * ld is X^T to cuBLAS with the same ld, so C = op(A) op(B) is computed as
 * C^T = op(B)^T op(A)^T: cublasSgemm(op_b, op_a, n, m, k, B, ldb, A, lda, C, ldc)
 * with op_x = T exactly when the row-major call transposes X.
 */
#define HPS_CUDA_FILE "ops_cuda_math.cu"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "ops_cuda.h"
#include "rng.h"
#include "trainer.h"

#define FULL_MASK 0xffffffffu

/* ---- kernels ---------------------------------------------------------------------------- */

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

/* ---- the entries ------------------------------------------------------------------------ */

void hps_cuda_fill(hps_backend *be, float *p, int64_t n, float v)
{
    if (be->rc != HPS_OK || n <= 0)
        return;
    k_fill<<<blocks_for(n), THREADS, 0, be->stream>>>(p, n, v);
    launchCheck(be, "k_fill");
}

void hps_cuda_gemm(hps_backend *be, int trans_a, int trans_b, int m, int n, int k,
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

void hps_cuda_bias_act(hps_backend *be, float *z, float *a, float *mask, const float *bias,
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

void hps_cuda_act_back(hps_backend *be, float *dz, const float *da, const float *z,
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

void hps_cuda_loss(hps_backend *be, float *logits, const float *bias, const void *labels,
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

void hps_cuda_optim(hps_backend *be, const hps_optim_step *s, float *w, const float *grad,
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

