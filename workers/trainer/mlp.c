/*
 * The MLP of mlp.h: shape and flat-buffer layout, seeded initialisation, and one
 * forward(+backward) pass as a fixed sequence of backend kernels:
 *
 *   forward   z_l = a_{l-1} W_l            gemm (N, N)
 *             a_l = act(z_l + b_l) * mask  bias_act   (hidden layers)
 *             loss(z_L + b_L, y)           loss       (writes d z_L, d b_L)
 *   backward  dW_l = a_{l-1}^T dz_l        gemm (T, N), straight into the grad buffer
 *             da_{l-1} = dz_l W_l^T        gemm (N, T), skipped for the input layer
 *             dz_{l-1} = da * act' * mask  act_back   (writes d b_{l-1})
 */
#include "mlp.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "hpsweep/error.h"
#include "rng.h"

static float *alloc_floats(const hps_mlp *m, int64_t n)
{
    return m->ops->alloc(m->be, (size_t)n * sizeof(float));
}

int hps_mlp_init(hps_mlp *m, const hps_train_ops *ops, hps_backend *be, int64_t features,
                 int hidden_layers, int hidden_units, int outputs, int act, int task,
                 int64_t cap)
{
    memset(m, 0, sizeof *m);
    m->ops = ops;
    m->be = be;
    if (features < 1 || features > INT_MAX || hidden_layers < 0 ||
        hidden_layers > HPS_TRAIN_MAX_HIDDEN || hidden_units < 1 || outputs < 1 || cap < 1 ||
        cap > INT_MAX)
        return HPS_EINVAL;
    m->n_lin = hidden_layers + 1;
    m->dims[0] = (int)features;
    for (int l = 1; l < m->n_lin; l++)
        m->dims[l] = hidden_units;
    m->dims[m->n_lin] = outputs;
    m->act = act;
    m->task = task;
    m->cap = cap;

    int64_t off = 0, widest = 1;
    for (int l = 0; l < m->n_lin; l++) {
        int64_t in = m->dims[l], out = m->dims[l + 1];
        /* Every GEMM operand must be addressable with int leading dimensions and
         * stay below 2^31 elements. */
        if (in * out > INT_MAX || cap * out > INT_MAX || cap * in > INT_MAX)
            return HPS_EINVAL;
        m->w_off[l] = off;
        off += in * out;
        m->b_off[l] = off;
        off += out;
        if (out > widest)
            widest = out;
    }
    m->n_params = off;

    m->x = alloc_floats(m, cap * features);
    m->y = ops->alloc(be, (size_t)cap * 4);
    m->row_ids = ops->alloc(be, (size_t)cap * sizeof(int64_t));
    m->d0 = alloc_floats(m, cap * widest);
    m->d1 = alloc_floats(m, cap * widest);
    if (!m->x || !m->y || !m->row_ids || !m->d0 || !m->d1)
        goto nomem;
    for (int l = 0; l < m->n_lin; l++) {
        int64_t out = m->dims[l + 1];
        if (!(m->z[l] = alloc_floats(m, cap * out)))
            goto nomem;
        if (l + 1 < m->n_lin) {
            m->a[l] = alloc_floats(m, cap * out);
            m->mask[l] = alloc_floats(m, cap * out);
            if (!m->a[l] || !m->mask[l])
                goto nomem;
        }
    }
    return HPS_OK;
nomem:
    hps_mlp_free(m);
    return HPS_ENOMEM;
}

void hps_mlp_free(hps_mlp *m)
{
    if (!m || !m->ops)
        return;
    const hps_train_ops *ops = m->ops;
    hps_backend *be = m->be;
    ops->free(be, m->x);
    ops->free(be, m->y);
    ops->free(be, m->row_ids);
    ops->free(be, m->d0);
    ops->free(be, m->d1);
    for (int l = 0; l < HPS_MLP_MAX_LIN; l++) {
        ops->free(be, m->z[l]);
        ops->free(be, m->a[l]);
        ops->free(be, m->mask[l]);
    }
    memset(m, 0, sizeof *m);
}

void hps_mlp_init_params(const hps_mlp *m, uint64_t seed, float *w)
{
    for (int l = 0; l < m->n_lin; l++) {
        int64_t in = m->dims[l], out = m->dims[l + 1];
        int hidden = l + 1 < m->n_lin;
        double sd = hidden && m->act != HPS_ACT_TANH ? sqrt(2.0 / (double)in)
                                                     : sqrt(2.0 / (double)(in + out));
        uint64_t base = hps_rng_base(HPS_RNG_TAG_INIT, seed, (uint64_t)l, 0, 0);
        float *wl = w + m->w_off[l];
        for (int64_t j = 0; j < in * out; j++)
            wl[j] = (float)(sd * hps_rng_normal(base, (uint64_t)j));
        memset(w + m->b_off[l], 0, (size_t)out * sizeof(float));
    }
}

void hps_mlp_pass(hps_mlp *m, const float *w, int64_t rows, const hps_dropout *drop,
                  float *grad, double *sums)
{
    const hps_train_ops *ops = m->ops;
    hps_backend *be = m->be;
    const int L = m->n_lin;
    const int r = (int)rows;
    if (rows <= 0) {
        if (grad)
            ops->zero(be, grad, (size_t)m->n_params * sizeof(float));
        return;
    }
    const int dropping = drop && drop->p > 0.0;

    const float *in = m->x;
    for (int l = 0; l < L; l++) {
        int din = m->dims[l], dout = m->dims[l + 1];
        ops->gemm(be, 0, 0, r, dout, din, in, din, w + m->w_off[l], dout, 0.0f, m->z[l], dout);
        if (l + 1 < L) {
            ops->bias_act(be, m->z[l], m->a[l], m->mask[l], w + m->b_off[l], rows, dout,
                          m->act, dropping ? drop : NULL, l);
            in = m->a[l];
        } else {
            ops->loss(be, m->z[l], w + m->b_off[l], m->y, rows, dout, m->task,
                      grad ? m->d0 : NULL, grad ? grad + m->b_off[l] : NULL, sums);
        }
    }
    if (!grad)
        return;

    float *dz = m->d0, *spare = m->d1;
    for (int l = L - 1; l >= 0; l--) {
        int din = m->dims[l], dout = m->dims[l + 1];
        const float *a_in = l == 0 ? m->x : m->a[l - 1];
        ops->gemm(be, 1, 0, din, dout, r, a_in, din, dz, dout, 0.0f, grad + m->w_off[l], dout);
        if (l == 0)
            break;
        ops->gemm(be, 0, 1, r, din, dout, dz, dout, w + m->w_off[l], dout, 0.0f, spare, din);
        ops->act_back(be, spare, spare, m->z[l - 1], dropping ? m->mask[l - 1] : NULL,
                      grad + m->b_off[l - 1], rows, din, m->act);
        float *t = dz;
        dz = spare;
        spare = t;
    }
}
