/*
 * The CPU backend of hps_train_ops: OpenBLAS SGEMM for the layers and fused
 * single-pass C loops for everything element-wise, so each activation matrix is
 * walked once per direction. Loops keep a fixed order (rows, then units), which
 * with one OpenBLAS thread makes every result bit-reproducible. It has no
 * instance (open gives NULL), never fails after open, and its backend memory is
 * host memory, so the copies are memcpy and the staging slots need no waiting.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "hpsweep/error.h"
#include "ops.h"
#include "rng.h"
#include "trainer.h"

static int cpu_open(const hps_backend_cfg *cfg, hps_backend **be, char *err, size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    *be = NULL;
    return HPS_OK;
}

static void cpu_close(hps_backend *be)
{
    (void)be;
}

static int cpu_status(hps_backend *be, char *err, size_t errlen)
{
    (void)be;
    (void)err;
    (void)errlen;
    return HPS_OK;
}

static void *cpu_stream(hps_backend *be)
{
    (void)be;
    return NULL;
}

static void *cpu_alloc(hps_backend *be, size_t bytes)
{
    (void)be;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded == 0)
        rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p)
        memset(p, 0, rounded);
    return p;
}

static void cpu_free(hps_backend *be, void *p)
{
    (void)be;
    free(p);
}

static void cpu_copy(hps_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes)
        memcpy(dst, src, bytes);
}

static void cpu_zero(hps_backend *be, void *p, size_t bytes)
{
    (void)be;
    if (bytes)
        memset(p, 0, bytes);
}

static void cpu_stage(hps_backend *be, int slot)
{
    (void)be;
    (void)slot;
}

static void cpu_gemm(hps_backend *be, int trans_a, int trans_b, int m, int n, int k,
                     const float *A, int lda, const float *B, int ldb, float beta, float *C,
                     int ldc)
{
    (void)be;
    if (m <= 0 || n <= 0)
        return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, lda, B, ldb, beta, C,
                ldc);
}

static inline float gelu_cdf(float z)
{
    return 0.5f * (1.0f + erff(z * 0.70710678118654752f));
}

/* a = act(z) over one row of n units. */
static void act_row(float *restrict a, const float *restrict z, int n, int act)
{
    switch (act) {
    case HPS_ACT_RELU:
        for (int j = 0; j < n; j++)
            a[j] = z[j] > 0.0f ? z[j] : 0.0f;
        break;
    case HPS_ACT_TANH:
        for (int j = 0; j < n; j++)
            a[j] = tanhf(z[j]);
        break;
    default:
        for (int j = 0; j < n; j++)
            a[j] = z[j] * gelu_cdf(z[j]);
        break;
    }
}

static void cpu_bias_act(hps_backend *be, float *z, float *a, float *mask, const float *bias,
                         int64_t rows, int n, int act, const hps_dropout *drop, int layer)
{
    (void)be;
    int use_drop = drop && drop->p > 0.0;
    uint64_t thr = 0;
    float scale = 1.0f;
    if (use_drop) {
        thr = hps_dropout_threshold(drop->p);
        scale = (float)(1.0 / (1.0 - drop->p));
    }
    for (int64_t i = 0; i < rows; i++) {
        float *restrict zr = z + i * n;
        float *restrict ar = a + i * n;
        for (int j = 0; j < n; j++)
            zr[j] += bias[j];
        act_row(ar, zr, n, act);
        if (use_drop) {
            float *restrict mr = mask + i * n;
            uint64_t key = hps_dropout_row(drop->seed, drop->epoch, drop->row_ids[i], layer);
            for (int j = 0; j < n; j++) {
                float m = hps_dropout_keep(key, j, thr) ? scale : 0.0f;
                mr[j] = m;
                ar[j] *= m;
            }
        }
    }
}

/* act'(z) for one unit. */
static inline float act_grad(float z, int act)
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

/* One row: dz = da * act'(z) [* mask], db += dz, in a single pass. */
static inline void act_back_row(float *dz, const float *da, const float *z, const float *mask,
                                float *restrict db, int n, int act)
{
    if (act == HPS_ACT_RELU) {
        /* The loads are unconditional so the selects vectorise. */
        if (mask)
            for (int j = 0; j < n; j++) {
                float g = da[j];
                float d = (z[j] > 0.0f ? g : 0.0f) * mask[j];
                dz[j] = d;
                db[j] += d;
            }
        else
            for (int j = 0; j < n; j++) {
                float g = da[j];
                float d = z[j] > 0.0f ? g : 0.0f;
                dz[j] = d;
                db[j] += d;
            }
        return;
    }
    for (int j = 0; j < n; j++) {
        float d = da[j] * act_grad(z[j], act);
        if (mask)
            d *= mask[j];
        dz[j] = d;
        db[j] += d;
    }
}

static void cpu_act_back(hps_backend *be, float *dz, const float *da, const float *z,
                         const float *mask, float *db, int64_t rows, int n, int act)
{
    (void)be;
    for (int j = 0; j < n; j++)
        db[j] = 0.0f;
    for (int64_t i = 0; i < rows; i++)
        act_back_row(dz + i * n, da + i * n, z + i * n, mask ? mask + i * n : NULL, db, n, act);
}

static void cpu_loss(hps_backend *be, float *logits, const float *bias, const void *labels,
                     int64_t rows, int n, int task, float *dlogits, float *dbias, double *sums)
{
    (void)be;
    double lsum = 0.0;
    int64_t good = 0;
    if (dbias)
        for (int j = 0; j < n; j++)
            dbias[j] = 0.0f;
    for (int64_t i = 0; i < rows; i++) {
        float *zr = logits + i * n;
        for (int j = 0; j < n; j++)
            zr[j] += bias[j];
        if (task == HPS_TASK_REGRESS) {
            double diff = (double)zr[0] - (double)((const float *)labels)[i];
            lsum += diff * diff;
            if (dlogits) {
                float d = (float)(2.0 * diff);
                dlogits[i] = d;
                dbias[0] += d;
            }
            continue;
        }
        int y = ((const int32_t *)labels)[i];
        int best = 0;
        float zmax = zr[0];
        for (int j = 1; j < n; j++)
            if (zr[j] > zmax) {
                zmax = zr[j];
                best = j;
            }
        /* exp once per logit: kept in dlogits (when wanted) and normalised after. */
        float *dr = dlogits ? dlogits + i * n : NULL;
        double s = 0.0;
        for (int j = 0; j < n; j++) {
            double e = exp((double)zr[j] - (double)zmax);
            s += e;
            if (dr)
                dr[j] = (float)e;
        }
        double lse = (double)zmax + log(s);
        lsum += lse - (double)zr[y];
        good += best == y;
        if (dr) {
            float inv = (float)(1.0 / s);
            for (int j = 0; j < n; j++) {
                dr[j] *= inv;
                dbias[j] += dr[j];
            }
            dr[y] -= 1.0f;
            dbias[y] -= 1.0f;
        }
    }
    sums[0] += lsum;
    sums[1] += (double)good;
}

static void cpu_optim(hps_backend *be, const hps_optim_step *s, float *restrict w,
                      const float *restrict grad, float *restrict m1, float *restrict m2,
                      int64_t n, int32_t *flag)
{
    (void)be;
    /* x - x is 0 for a finite x and NaN for Inf or NaN: an integer OR of that
     * test vectorises, where a float sum (the obvious check) would not. */
    int bad = 0;
    const float lr = s->lr, scale = s->grad_scale, wd = s->weight_decay;
    if (s->kind == HPS_OPT_SGD) {
        const float mu = s->momentum;
        if (mu == 0.0f) {
            for (int64_t i = 0; i < n; i++) {
                float g = grad[i] * scale + wd * w[i];
                w[i] -= lr * g;
                bad |= (w[i] - w[i]) != 0.0f;
            }
        } else if (s->nesterov) {
            for (int64_t i = 0; i < n; i++) {
                float g = grad[i] * scale + wd * w[i];
                float b = mu * m1[i] + g;
                m1[i] = b;
                w[i] -= lr * (g + mu * b);
                bad |= (w[i] - w[i]) != 0.0f;
            }
        } else {
            for (int64_t i = 0; i < n; i++) {
                float g = grad[i] * scale + wd * w[i];
                float b = mu * m1[i] + g;
                m1[i] = b;
                w[i] -= lr * b;
                bad |= (w[i] - w[i]) != 0.0f;
            }
        }
    } else {
        /* PyTorch's Adam/AdamW arithmetic: w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). */
        const float b1 = s->beta1, b2 = s->beta2, eps = s->eps;
        const double bc1 = 1.0 - pow((double)b1, (double)s->t);
        const double bc2 = 1.0 - pow((double)b2, (double)s->t);
        const float step = (float)((double)lr / bc1);
        const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
        const int decoupled = s->kind == HPS_OPT_ADAMW;
        const float l2 = decoupled ? 0.0f : wd;
        const float shrink = decoupled ? 1.0f - lr * wd : 1.0f;
        for (int64_t i = 0; i < n; i++) {
            float g = grad[i] * scale + l2 * w[i];
            float m = b1 * m1[i] + (1.0f - b1) * g;
            float v = b2 * m2[i] + (1.0f - b2) * g * g;
            m1[i] = m;
            m2[i] = v;
            float wi = w[i] * shrink;
            wi -= step * m / (sqrtf(v) * inv_sqrt_bc2 + eps);
            w[i] = wi;
            bad |= (wi - wi) != 0.0f;
        }
    }
    if (bad)
        *flag = 1;
}

const hps_train_ops hps_train_ops_cpu = {
    .version = HPS_TRAIN_OPS_VERSION,
    .name = "cpu",
    .host_memory = 1,
    .open = cpu_open,
    .close = cpu_close,
    .status = cpu_status,
    .stream = cpu_stream,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .host_alloc = cpu_alloc,
    .host_free = cpu_free,
    .to_backend = cpu_copy,
    .to_host = cpu_copy,
    .zero = cpu_zero,
    .stage_mark = cpu_stage,
    .stage_wait = cpu_stage,
    .gemm = cpu_gemm,
    .bias_act = cpu_bias_act,
    .act_back = cpu_act_back,
    .loss = cpu_loss,
    .optim = cpu_optim,
};
