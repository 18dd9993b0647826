/*
 * Unit tests for the trainer's model (workers/trainer/mlp.c, ops_cpu.c): the
 * float analytic gradient of every parameter -- input, hidden and output
 * layers' weights and biases -- against central finite differences of an
 * independent double-precision forward pass written here, for each activation
 * (relu, tanh, gelu), with and without dropout (the mask the float pass drew is
 * fixed in the reference), for both losses (softmax cross-entropy, squared
 * error) and for a linear model. Also: the forward loss and accuracy match the
 * reference, dropout masks follow the row id and not the position and are
 * rng.h's definition (shared with the CUDA kernels; pinned), the flat layout
 * and the seeded initialisation.
 *
 * Tolerance: |analytic - numeric| <= 1e-4 + 2e-3 |numeric| for every parameter
 * (float sums of ~10 terms against a double difference with h = 1e-6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "trainer/mlp.h"
#include "trainer/rng.h"
#include "trainer/trainer.h"
#include "trainer_fixture.h"

#define D 5
#define H 7
#define ROWS 6

/* ---- the double-precision reference -------------------------------------------------- */

static double ref_act(double z, int act)
{
    switch (act) {
    case HPS_ACT_RELU:
        return z > 0 ? z : 0;
    case HPS_ACT_TANH:
        return tanh(z);
    default:
        return 0.5 * z * (1.0 + erf(z / sqrt(2.0)));
    }
}

/*
 * Sum over rows of the loss of the model m's shape with parameters w (double),
 * inputs x, labels/targets y, fixed dropout masks (NULL: none). *correct gets
 * the argmax hits.
 */
static double ref_loss(const hps_mlp *m, const double *w, const float *x, const void *y,
                       int rows, float *const *masks, int *correct)
{
    double total = 0.0;
    int good = 0;
    double in[64], out[64];
    for (int r = 0; r < rows; r++) {
        int din = m->dims[0];
        for (int j = 0; j < din; j++)
            in[j] = x[r * din + j];
        for (int l = 0; l < m->n_lin; l++) {
            int dout = m->dims[l + 1];
            const double *W = w + m->w_off[l], *b = w + m->b_off[l];
            for (int o = 0; o < dout; o++) {
                double z = b[o];
                for (int i = 0; i < din; i++)
                    z += in[i] * W[i * dout + o];
                out[o] = z;
            }
            if (l + 1 < m->n_lin)
                for (int o = 0; o < dout; o++) {
                    out[o] = ref_act(out[o], m->act);
                    if (masks)
                        out[o] *= masks[l][r * dout + o];
                }
            memcpy(in, out, sizeof(double) * (size_t)dout);
            din = dout;
        }
        if (m->task == HPS_TASK_REGRESS) {
            double diff = in[0] - ((const float *)y)[r];
            total += diff * diff;
            continue;
        }
        int label = ((const int32_t *)y)[r], best = 0;
        double mx = in[0];
        for (int j = 1; j < din; j++)
            if (in[j] > mx) {
                mx = in[j];
                best = j;
            }
        double s = 0;
        for (int j = 0; j < din; j++)
            s += exp(in[j] - mx);
        total += mx + log(s) - in[label];
        good += best == label;
    }
    if (correct)
        *correct = good;
    return total;
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static void fill_inputs(hps_mlp *m, int rows, uint64_t seed)
{
    uint64_t base = hps_rng_base(7, seed, 0, 0, 0);
    for (int j = 0; j < rows * m->dims[0]; j++)
        m->x[j] = (float)hps_rng_normal(base, (uint64_t)j);
    int outputs = m->dims[m->n_lin];
    for (int r = 0; r < rows; r++) {
        if (m->task == HPS_TASK_REGRESS)
            ((float *)m->y)[r] = (float)hps_rng_normal(base, (uint64_t)(1000 + r));
        else
            ((int32_t *)m->y)[r] = (int32_t)(r % outputs);
        m->row_ids[r] = 100 + 3 * r;
    }
}

/* Weights from the seeded init, biases small random (so their gradient path is live). */
static void make_weights(const hps_mlp *m, uint64_t seed, float *w)
{
    hps_mlp_init_params(m, seed, w);
    uint64_t base = hps_rng_base(8, seed, 0, 0, 0);
    for (int l = 0; l < m->n_lin; l++)
        for (int o = 0; o < m->dims[l + 1]; o++)
            w[m->b_off[l] + o] = (float)(0.1 * hps_rng_normal(base, (uint64_t)(l * 100 + o)));
}

static void gradient_check(int act, int task, int hidden_layers, double dropout)
{
    hps_mlp m;
    int outputs = task == HPS_TASK_CLASSIFY ? 4 : 1;
    assert_int_equal(hps_mlp_init(&m, &hps_train_ops_cpu, NULL, D, hidden_layers, H, outputs,
                                  act, task, ROWS),
                     HPS_OK);
    const int64_t P = m.n_params;
    float *w = calloc((size_t)P, sizeof(float)), *g = calloc((size_t)P, sizeof(float));
    double *wd = calloc((size_t)P, sizeof(double));
    assert_non_null(w);
    assert_non_null(g);
    assert_non_null(wd);
    make_weights(&m, 11 + (uint64_t)act, w);
    fill_inputs(&m, ROWS, 5);

    hps_dropout drop = {.p = dropout, .seed = 99, .epoch = 2, .row_ids = m.row_ids};
    double st[2] = {0, 0}; /* loss sum, correct */
    hps_mlp_pass(&m, w, ROWS, &drop, g, st);

    float *masks[HPS_MLP_MAX_LIN] = {0};
    int kept = 0, dropped = 0;
    if (dropout > 0)
        for (int l = 0; l + 1 < m.n_lin; l++) {
            masks[l] = m.mask[l];
            for (int k = 0; k < ROWS * H; k++) {
                kept += masks[l][k] != 0.0f;
                dropped += masks[l][k] == 0.0f;
                if (masks[l][k] != 0.0f)
                    assert_near(masks[l][k], 1.0 / (1.0 - dropout), 1e-6);
            }
        }
    if (dropout > 0 && hidden_layers > 0) {
        assert_true(kept > 0);
        assert_true(dropped > 0);
    }

    for (int64_t j = 0; j < P; j++)
        wd[j] = w[j];
    int correct = 0;
    double ref = ref_loss(&m, wd, m.x, m.y, ROWS, dropout > 0 ? masks : NULL, &correct);
    assert_near(st[0], ref, 1e-5 * (1.0 + fabs(ref)));
    if (task == HPS_TASK_CLASSIFY)
        assert_int_equal((int)st[1], correct);

    const double h = 1e-6;
    double worst = 0.0;
    for (int64_t j = 0; j < P; j++) {
        double keep = wd[j];
        wd[j] = keep + h;
        double up = ref_loss(&m, wd, m.x, m.y, ROWS, dropout > 0 ? masks : NULL, NULL);
        wd[j] = keep - h;
        double down = ref_loss(&m, wd, m.x, m.y, ROWS, dropout > 0 ? masks : NULL, NULL);
        wd[j] = keep;
        double numeric = (up - down) / (2 * h);
        double diff = fabs((double)g[j] - numeric);
        double excess = diff - (1e-4 + 2e-3 * fabs(numeric));
        if (excess > worst) {
            worst = excess;
            fprintf(stderr, "act %d task %d hidden %d dropout %.1f: param %lld analytic %.8g "
                    "numeric %.8g\n", act, task, hidden_layers, dropout, (long long)j,
                    (double)g[j], numeric);
        }
    }
    assert_true(worst == 0.0);
    free(w);
    free(g);
    free(wd);
    hps_mlp_free(&m);
}

static void test_grad_relu(void **state)
{
    (void)state;
    gradient_check(HPS_ACT_RELU, HPS_TASK_CLASSIFY, 2, 0.0);
    gradient_check(HPS_ACT_RELU, HPS_TASK_REGRESS, 2, 0.0);
}

static void test_grad_tanh(void **state)
{
    (void)state;
    gradient_check(HPS_ACT_TANH, HPS_TASK_CLASSIFY, 2, 0.0);
    gradient_check(HPS_ACT_TANH, HPS_TASK_REGRESS, 1, 0.0);
}

static void test_grad_gelu(void **state)
{
    (void)state;
    gradient_check(HPS_ACT_GELU, HPS_TASK_CLASSIFY, 2, 0.0);
    gradient_check(HPS_ACT_GELU, HPS_TASK_REGRESS, 3, 0.0);
}

static void test_grad_dropout(void **state)
{
    (void)state;
    gradient_check(HPS_ACT_RELU, HPS_TASK_CLASSIFY, 2, 0.4);
    gradient_check(HPS_ACT_TANH, HPS_TASK_REGRESS, 2, 0.3);
    gradient_check(HPS_ACT_GELU, HPS_TASK_CLASSIFY, 1, 0.5);
}

static void test_grad_linear(void **state)
{
    (void)state;
    gradient_check(HPS_ACT_RELU, HPS_TASK_CLASSIFY, 0, 0.0);
    gradient_check(HPS_ACT_RELU, HPS_TASK_REGRESS, 0, 0.3); /* no hidden layer: no mask */
}

/* The loss on logits far apart stays finite (log-sum-exp) and its gradient exact. */
static void test_softmax_stable(void **state)
{
    (void)state;
    float logits[3] = {1000.0f, 0.0f, -1000.0f}, bias[3] = {0, 0, 0}, d[3], db[3];
    int32_t label = 1;
    double sums[2] = {0, 0};
    hps_train_ops_cpu.loss(NULL, logits, bias, &label, 1, 3, HPS_TASK_CLASSIFY, d, db, sums);
    assert_near(sums[0], 1000.0, 1e-9);
    assert_near(sums[1], 0.0, 0);
    assert_near(d[0], 1.0, 1e-7);
    assert_near(d[1], -1.0, 1e-7);
    assert_near(d[2], 0.0, 1e-7);
    assert_near(db[0] + db[1] + db[2], 0.0, 1e-7);
}

/* A row's dropout mask depends on its row id, not on where it sits in the batch. */
static void test_mask_follows_row(void **state)
{
    (void)state;
    hps_mlp m;
    assert_int_equal(hps_mlp_init(&m, &hps_train_ops_cpu, NULL, D, 1, H, 3, HPS_ACT_RELU,
                                  HPS_TASK_CLASSIFY, 2),
                     HPS_OK);
    float *w = calloc((size_t)m.n_params, sizeof(float));
    assert_non_null(w);
    hps_mlp_init_params(&m, 3, w);
    fill_inputs(&m, 2, 1);
    hps_dropout drop = {.p = 0.5, .seed = 7, .epoch = 4, .row_ids = m.row_ids};
    double st[2] = {0, 0};
    m.row_ids[0] = 10;
    m.row_ids[1] = 20;
    hps_mlp_pass(&m, w, 2, &drop, NULL, st);
    float first[2 * H];
    memcpy(first, m.mask[0], sizeof first);
    m.row_ids[0] = 20;
    m.row_ids[1] = 10;
    hps_mlp_pass(&m, w, 2, &drop, NULL, st);
    assert_memory_equal(first, m.mask[0] + H, H * sizeof(float));
    assert_memory_equal(first + H, m.mask[0], H * sizeof(float));
    /* Another epoch draws another mask. */
    drop.epoch = 5;
    hps_mlp_pass(&m, w, 2, &drop, NULL, st);
    assert_true(memcmp(first, m.mask[0] + H, H * sizeof(float)) != 0 ||
                memcmp(first + H, m.mask[0], H * sizeof(float)) != 0);
    free(w);
    hps_mlp_free(&m);
}

/*
 * The mask is rng.h's definition (hps_dropout_row / hps_dropout_keep), which the
 * CUDA kernels call too: every unit the CPU pass drew equals it, and its bits
 * for two keys are pinned here, so a change to the definition -- which would
 * part the two backends' masks and every recorded run's -- is deliberate.
 */
static void test_mask_definition(void **state)
{
    (void)state;
    hps_mlp m;
    assert_int_equal(hps_mlp_init(&m, &hps_train_ops_cpu, NULL, D, 2, H, 3, HPS_ACT_GELU,
                                  HPS_TASK_CLASSIFY, 3),
                     HPS_OK);
    float *w = calloc((size_t)m.n_params, sizeof(float));
    assert_non_null(w);
    hps_mlp_init_params(&m, 3, w);
    fill_inputs(&m, 3, 1);
    m.row_ids[0] = 5;
    m.row_ids[1] = 123456789;
    m.row_ids[2] = 0;
    const double p = 0.3;
    hps_dropout drop = {.p = p, .seed = 99, .epoch = 6, .row_ids = m.row_ids};
    double st[2] = {0, 0};
    hps_mlp_pass(&m, w, 3, &drop, NULL, st);
    const uint64_t thr = hps_dropout_threshold(p);
    const float scale = (float)(1.0 / (1.0 - p));
    for (int l = 0; l < 2; l++)
        for (int r = 0; r < 3; r++) {
            uint64_t key = hps_dropout_row(99, 6, m.row_ids[r], l);
            for (int u = 0; u < H; u++) {
                float want = hps_dropout_keep(key, u, thr) ? scale : 0.0f;
                assert_memory_equal(&m.mask[l][r * H + u], &want, sizeof want);
            }
        }
    assert_true(thr == 5033165); /* llround(0.3 * 2^24) */
    uint64_t bits = 0, key = hps_dropout_row(7, 4, 10, 0);
    for (int u = 0; u < 64; u++)
        bits |= (uint64_t)hps_dropout_keep(key, u, hps_dropout_threshold(0.5)) << u;
    assert_true(bits == UINT64_C(0x0324885cc7877471));
    bits = 0;
    key = hps_dropout_row(UINT64_MAX, 123456, 987654321, 15);
    for (int u = 0; u < 64; u++)
        bits |= (uint64_t)hps_dropout_keep(key, 65000 + u, hps_dropout_threshold(0.1)) << u;
    assert_true(bits == UINT64_C(0xbfb3ffeffff7ffdf));
    free(w);
    hps_mlp_free(&m);
}

static void test_layout_and_init(void **state)
{
    (void)state;
    hps_mlp m;
    assert_int_equal(hps_mlp_init(&m, &hps_train_ops_cpu, NULL, 784, 2, 256, 10, HPS_ACT_RELU,
                                  HPS_TASK_CLASSIFY, 4),
                     HPS_OK);
    assert_int_equal(m.n_params, 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
    assert_int_equal(m.w_off[0], 0);
    assert_int_equal(m.b_off[0], 784 * 256);
    assert_int_equal(m.w_off[1], 784 * 256 + 256);
    assert_int_equal(m.b_off[2], m.n_params - 10);
    float *a = malloc(sizeof(float) * (size_t)m.n_params);
    float *b = malloc(sizeof(float) * (size_t)m.n_params);
    assert_non_null(a);
    assert_non_null(b);
    hps_mlp_init_params(&m, 42, a);
    hps_mlp_init_params(&m, 42, b);
    assert_memory_equal(a, b, sizeof(float) * (size_t)m.n_params);
    hps_mlp_init_params(&m, 43, b);
    assert_true(memcmp(a, b, sizeof(float) * 16) != 0);
    /* He-normal: layer 1 (256 x 256) has sd sqrt(2/256); mean ~0; biases 0. */
    double s = 0, s2 = 0;
    int64_t n = 256 * 256;
    for (int64_t j = 0; j < n; j++) {
        s += a[m.w_off[1] + j];
        s2 += (double)a[m.w_off[1] + j] * a[m.w_off[1] + j];
    }
    double sd = sqrt(s2 / (double)n - (s / (double)n) * (s / (double)n));
    assert_near(sd, sqrt(2.0 / 256.0), 0.02 * sqrt(2.0 / 256.0));
    assert_near(s / (double)n, 0.0, 0.005);
    /* Output layer Xavier: sd sqrt(2 / (256 + 10)). */
    s2 = 0;
    for (int64_t j = 0; j < 2560; j++)
        s2 += (double)a[m.w_off[2] + j] * a[m.w_off[2] + j];
    assert_near(sqrt(s2 / 2560.0), sqrt(2.0 / 266.0), 0.06 * sqrt(2.0 / 266.0));
    for (int l = 0; l < 3; l++)
        assert_true(a[m.b_off[l]] == 0.0f);
    free(a);
    free(b);
    hps_mlp_free(&m);
    /* Shapes that do not fit. */
    assert_int_equal(hps_mlp_init(&m, &hps_train_ops_cpu, NULL, 0, 1, 4, 2, 0, 0, 4), HPS_EINVAL);
    assert_int_equal(hps_mlp_init(&m, &hps_train_ops_cpu, NULL, 4, HPS_TRAIN_MAX_HIDDEN + 1, 4,
                                  2, 0, 0, 4),
                     HPS_EINVAL);
    assert_int_equal(hps_mlp_init(&m, &hps_train_ops_cpu, NULL, 1 << 20, 1, 1 << 12, 2, 0, 0, 4),
                     HPS_EINVAL);
    hps_mlp_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_relu),       cmocka_unit_test(test_grad_tanh),
        cmocka_unit_test(test_grad_gelu),       cmocka_unit_test(test_grad_dropout),
        cmocka_unit_test(test_grad_linear),     cmocka_unit_test(test_softmax_stable),
        cmocka_unit_test(test_mask_follows_row), cmocka_unit_test(test_mask_definition),
        cmocka_unit_test(test_layout_and_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
