/*
 * bench_trainer_gpu's checks: the CUDA backend (workers/trainer/ops_cuda*.cu)
 * against the CPU backend on the same inputs, each row with its tolerance.
 *
 *   one pass   the same weights, batch and dropout key through hps_mlp on both
 *              backends, for four shapes (784-256-256-10 relu with dropout, odd
 *              sizes with gelu, a tanh regression, a linear model): the dropout
 *              masks must be identical bit for bit (both draw them with rng.h's
 *              functions); the loss sum within 1e-5 relative, the correct count
 *              within 1 and the gradient within 1e-4 of its largest entry
 *              (float sums in another order: cuBLAS vs OpenBLAS, FMA);
 *   optimiser  3 steps of sgd, sgd+nesterov, adam and adamw over 100003 random
 *              parameters: weights and moments within 1e-5 of their largest
 *              entry; a NaN gradient sets the non-finite flag on both;
 *   training   hps_train_run for one epoch on a synthetic set (16000 training
 *              rows), device -1 against device 0: train_loss and val_loss within
 *              1e-3 relative, for sgd with momentum and dropout and for adamw; a
 *              checkpoint of either backend resumed on the other for a second
 *              epoch against two epochs on the CPU (1e-3); the same GPU run twice
 *              gives identical metrics; TF32's loss difference is printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "trainer/mlp.h"
#include "trainer/ops.h"
#include "trainer/rng.h"
#include "trainer/trainer.h"
#include "trainer_gpu.h"

/* ---- one pass on both backends ---------------------------------------------------------- */

typedef struct shape {
    const char *name;
    int features, hidden_layers, hidden_units, outputs, act, task, rows;
    double dropout;
} shape;

/* One backend's model, its inputs and what a pass gives back (host copies). */
typedef struct side {
    const hps_train_ops *ops;
    hps_backend *be;
    hps_mlp m;
    float *w, *g;
    double *sums;
    float *host_g;             /* [P] */
    float *host_mask;          /* every hidden layer's mask, back to back */
    double host_sums[2];
} side;

static void side_open(side *s, const hps_train_ops *ops, const bench_opts *o, const shape *sh,
                      int tf32)
{
    char err[512];
    memset(s, 0, sizeof *s);
    s->ops = ops;
    hps_backend_cfg cfg = {.device = o->device, .tf32 = tf32, .max_rows = sh->rows};
    if (ops->open(&cfg, &s->be, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "%s backend: %s\n", ops->name, err);
        exit(2);
    }
    if (hps_mlp_init(&s->m, ops, s->be, sh->features, sh->hidden_layers, sh->hidden_units,
                     sh->outputs, sh->act, sh->task, sh->rows) != HPS_OK) {
        fprintf(stderr, "%s backend: cannot shape %s\n", ops->name, sh->name);
        exit(2);
    }
    size_t pb = (size_t)s->m.n_params * sizeof(float);
    s->w = ops->alloc(s->be, pb);
    s->g = ops->alloc(s->be, pb);
    s->sums = ops->alloc(s->be, 2 * sizeof(double));
    s->host_g = malloc(pb);
    s->host_mask = malloc(sizeof(float) * (size_t)(sh->rows * sh->hidden_units) *
                          (size_t)(sh->hidden_layers > 0 ? sh->hidden_layers : 1));
    if (!s->w || !s->g || !s->sums || !s->host_g || !s->host_mask) {
        fprintf(stderr, "%s backend: out of memory for %s\n", ops->name, sh->name);
        exit(2);
    }
}

static void side_close(side *s)
{
    s->ops->free(s->be, s->w);
    s->ops->free(s->be, s->g);
    s->ops->free(s->be, s->sums);
    hps_mlp_free(&s->m);
    s->ops->close(s->be);
    free(s->host_g);
    free(s->host_mask);
}

/* Upload w, x, y, row ids; one forward + backward pass with dropout; fetch the results. */
static void side_pass(side *s, const shape *sh, const float *w, const float *x, const void *y,
                      const int64_t *ids)
{
    const hps_train_ops *ops = s->ops;
    hps_mlp *m = &s->m;
    ops->to_backend(s->be, s->w, w, (size_t)m->n_params * sizeof(float));
    ops->to_backend(s->be, m->x, x, sizeof(float) * (size_t)(sh->rows * sh->features));
    ops->to_backend(s->be, m->y, y, 4 * (size_t)sh->rows);
    ops->to_backend(s->be, m->row_ids, ids, sizeof(int64_t) * (size_t)sh->rows);
    ops->zero(s->be, s->sums, 2 * sizeof(double));
    hps_dropout drop = {.p = sh->dropout, .seed = 1234567, .epoch = 3, .row_ids = m->row_ids};
    hps_mlp_pass(m, s->w, sh->rows, &drop, s->g, s->sums);
    ops->to_host(s->be, s->host_g, s->g, (size_t)m->n_params * sizeof(float));
    ops->to_host(s->be, s->host_sums, s->sums, sizeof s->host_sums);
    size_t per = (size_t)(sh->rows * sh->hidden_units);
    for (int l = 0; l < sh->hidden_layers; l++)
        ops->to_host(s->be, s->host_mask + l * per, m->mask[l], per * sizeof(float));
    char err[512];
    if (ops->status(s->be, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "%s backend, %s: %s\n", ops->name, sh->name, err);
        exit(2);
    }
}

static double max_abs(const float *v, int64_t n)
{
    double mx = 0;
    for (int64_t i = 0; i < n; i++)
        mx = fmax(mx, fabs((double)v[i]));
    return mx;
}

static double max_diff(const float *a, const float *b, int64_t n)
{
    double mx = 0;
    for (int64_t i = 0; i < n; i++)
        mx = fmax(mx, fabs((double)a[i] - (double)b[i]));
    return mx;
}

static void pass_check(const bench_opts *o, const shape *sh, int tf32)
{
    side cpu, gpu;
    side_open(&cpu, &hps_train_ops_cpu, o, sh, 0);
    side_open(&gpu, cuda_backend(), o, sh, tf32);
    const int64_t P = cpu.m.n_params, rows = sh->rows, d = sh->features;
    float *w = malloc(sizeof(float) * (size_t)P), *x = malloc(sizeof(float) * (size_t)(rows * d));
    int32_t *y = malloc(sizeof(int32_t) * (size_t)rows);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)rows);
    if (!w || !x || !y || !ids) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    hps_mlp_init_params(&cpu.m, 77, w);
    uint64_t base = hps_rng_base(99, 5, (uint64_t)rows, (uint64_t)d, 0);
    for (int l = 0; l < cpu.m.n_lin; l++) /* small random biases: their gradients are live */
        for (int j = 0; j < cpu.m.dims[l + 1]; j++)
            w[cpu.m.b_off[l] + j] = (float)(0.1 * hps_rng_normal(base, (uint64_t)(l * 70000 + j)));
    for (int64_t j = 0; j < rows * d; j++)
        x[j] = (float)hps_rng_normal(base, (uint64_t)(1 << 24) + (uint64_t)j);
    for (int64_t i = 0; i < rows; i++) {
        if (sh->task == HPS_TASK_REGRESS) {
            float t = (float)hps_rng_normal(base, (uint64_t)(1 << 30) + (uint64_t)i);
            memcpy(&y[i], &t, 4);
        } else {
            y[i] = (int32_t)hps_rng_below(hps_rng_at(base, (uint64_t)i), (uint64_t)sh->outputs);
        }
        ids[i] = 1000 + 7 * i; /* training-row ids: the dropout keys */
    }
    side_pass(&cpu, sh, w, x, y, ids);
    side_pass(&gpu, sh, w, x, y, ids);

    char what[160];
    int64_t mask_n = rows * sh->hidden_units * sh->hidden_layers;
    if (sh->dropout > 0 && sh->hidden_layers > 0 && !tf32) {
        int64_t differ = 0;
        for (int64_t i = 0; i < mask_n; i++)
            differ += memcmp(&cpu.host_mask[i], &gpu.host_mask[i], sizeof(float)) != 0;
        snprintf(what, sizeof what, "%s: dropout masks, units that differ", sh->name);
        check_row(what, (double)mask_n, (double)mask_n, (double)differ, 0, differ == 0);
    }
    double lc = cpu.host_sums[0], lg = gpu.host_sums[0];
    double rel = fabs(lg - lc) / fmax(1e-30, fabs(lc));
    snprintf(what, sizeof what, "%s%s: loss sum (relative)", sh->name, tf32 ? ", tf32" : "");
    if (tf32)
        info_row(what, lc, lg, rel);
    else
        check_row(what, lc, lg, rel, 1e-5, rel <= 1e-5);
    if (sh->task == HPS_TASK_CLASSIFY && !tf32) {
        double dc = fabs(cpu.host_sums[1] - gpu.host_sums[1]);
        snprintf(what, sizeof what, "%s: correct predictions", sh->name);
        check_row(what, cpu.host_sums[1], gpu.host_sums[1], dc, 1, dc <= 1);
    }
    double gmax = max_abs(cpu.host_g, P);
    double grel = max_diff(cpu.host_g, gpu.host_g, P) / fmax(1e-30, gmax);
    snprintf(what, sizeof what, "%s%s: gradient, max |diff| / max |g|", sh->name,
             tf32 ? ", tf32" : "");
    if (tf32)
        info_row(what, gmax, max_abs(gpu.host_g, P), grel);
    else
        check_row(what, gmax, max_abs(gpu.host_g, P), grel, 1e-4, grel <= 1e-4);
    free(w);
    free(x);
    free(y);
    free(ids);
    side_close(&cpu);
    side_close(&gpu);
}

/* ---- the optimiser ---------------------------------------------------------------------- */

#define OPT_N 100003

static void optim_check(const bench_opts *o, int kind, int nesterov, const char *name)
{
    char err[512];
    hps_backend *be = NULL;
    hps_backend_cfg cfg = {.device = o->device, .max_rows = 1};
    if (cuda_backend()->open(&cfg, &be, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "cuda backend: %s\n", err);
        exit(2);
    }
    const size_t bytes = sizeof(float) * OPT_N;
    float *h[2][3], *g = malloc(bytes);
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++)
            h[s][k] = malloc(bytes);
    float *dw = cuda_backend()->alloc(be, bytes), *dg = cuda_backend()->alloc(be, bytes);
    float *dm1 = cuda_backend()->alloc(be, bytes), *dm2 = cuda_backend()->alloc(be, bytes);
    int32_t *dflag = cuda_backend()->alloc(be, sizeof(int32_t));
    if (!g || !dw || !dg || !dm1 || !dm2 || !dflag) {
        fprintf(stderr, "out of memory for the optimiser check\n");
        exit(2);
    }
    uint64_t base = hps_rng_base(3, 11, (uint64_t)kind, 0, 0);
    for (int i = 0; i < OPT_N; i++) {
        h[0][0][i] = (float)hps_rng_normal(base, (uint64_t)i);
        h[0][1][i] = (float)(0.1 * hps_rng_normal(base, (uint64_t)(OPT_N + i)));
        h[0][2][i] = (float)(0.01 * fabs(hps_rng_normal(base, (uint64_t)(2 * OPT_N + i))));
    }
    for (int k = 0; k < 3; k++)
        memcpy(h[1][k], h[0][k], bytes);
    cuda_backend()->to_backend(be, dw, h[1][0], bytes);
    cuda_backend()->to_backend(be, dm1, h[1][1], bytes);
    cuda_backend()->to_backend(be, dm2, h[1][2], bytes);
    hps_optim_step st = {.kind = kind, .lr = 0.01f, .grad_scale = 1.0f / 128, .momentum = 0.9f,
                         .nesterov = nesterov, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                         .weight_decay = 0.01f};
    int32_t cpu_flag = 0, gpu_flag = 0;
    for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < OPT_N; i++)
            g[i] = (float)(10.0 * hps_rng_normal(base, (uint64_t)(3 * OPT_N * t + i)));
        st.t = t;
        hps_train_ops_cpu.optim(NULL, &st, h[0][0], g, h[0][1], h[0][2], OPT_N, &cpu_flag);
        cuda_backend()->to_backend(be, dg, g, bytes);
        cuda_backend()->optim(be, &st, dw, dg, dm1, dm2, OPT_N, dflag);
    }
    cuda_backend()->to_host(be, h[1][0], dw, bytes);
    cuda_backend()->to_host(be, h[1][1], dm1, bytes);
    cuda_backend()->to_host(be, h[1][2], dm2, bytes);
    cuda_backend()->to_host(be, &gpu_flag, dflag, sizeof gpu_flag);
    const char *what_k[3] = {"weights", "first moment", "second moment"};
    for (int k = 0; k < (kind == HPS_OPT_SGD ? 2 : 3); k++) {
        double mx = max_abs(h[0][k], OPT_N);
        double rel = max_diff(h[0][k], h[1][k], OPT_N) / fmax(1e-30, mx);
        char what[160];
        snprintf(what, sizeof what, "optimiser %s, 3 steps: %s, max |diff| / max", name,
                 what_k[k]);
        check_row(what, mx, max_abs(h[1][k], OPT_N), rel, 1e-5, rel <= 1e-5);
    }
    /* A NaN gradient: both flag it. */
    g[17] = NAN;
    st.t = 4;
    hps_train_ops_cpu.optim(NULL, &st, h[0][0], g, h[0][1], h[0][2], OPT_N, &cpu_flag);
    cuda_backend()->to_backend(be, dg, g, bytes);
    cuda_backend()->optim(be, &st, dw, dg, dm1, dm2, OPT_N, dflag);
    int32_t before = gpu_flag;
    cuda_backend()->to_host(be, &gpu_flag, dflag, sizeof gpu_flag);
    if (cuda_backend()->status(be, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "cuda backend, optimiser %s: %s\n", name, err);
        exit(2);
    }
    char what[160];
    snprintf(what, sizeof what, "optimiser %s: flag before / after a NaN gradient", name);
    check_row(what, cpu_flag, gpu_flag, before, 0, before == 0 && gpu_flag == 1 && cpu_flag == 1);
    cuda_backend()->free(be, dw);
    cuda_backend()->free(be, dg);
    cuda_backend()->free(be, dm1);
    cuda_backend()->free(be, dm2);
    cuda_backend()->free(be, dflag);
    cuda_backend()->close(be);
    free(g);
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++)
            free(h[s][k]);
}

/* ---- whole epochs ----------------------------------------------------------------------- */

static void train_params(hps_train_params *p, const bench_opts *o, int optimizer)
{
    hps_train_params_default(p);
    p->hidden_layers = 2;
    p->hidden_units = 256;
    p->batch_size = 128;
    p->optimizer = optimizer;
    p->learning_rate = optimizer == HPS_OPT_SGD ? 0.01 : 1e-3;
    p->momentum = 0.9;
    p->weight_decay = optimizer == HPS_OPT_ADAMW ? 0.01 : 0.0;
    p->dropout = 0.2;
    p->epochs = 1;
    p->seed = 5;
    p->threads = o->cpu_threads;
}

/* Train; returns the metrics in v[3] (train_loss, val_loss, val_accuracy). */
static void train(const hps_train_params *p, const char *data, const char *ckpt, double v[3])
{
    hps_train_comm one = {.rank = 0, .size = 1};
    hps_train_result res;
    char err[512];
    int rc = hps_train_run(p, data, &one, NULL, ckpt, &res, err, sizeof err);
    if (rc != HPS_OK || res.n_metrics != 3) {
        fprintf(stderr, "hps_train_run (device %d): %s: %s\n", p->device, hps_err_name(rc), err);
        exit(2);
    }
    memcpy(v, res.values, 3 * sizeof(double));
}

static void loss_rows(const char *what, const double c[3], const double g[3], double tol)
{
    static const char *const names[2] = {"train_loss", "val_loss"};
    for (int k = 0; k < 2; k++) {
        char row[160];
        double rel = fabs(g[k] - c[k]) / fmax(1e-30, fabs(c[k]));
        snprintf(row, sizeof row, "%s: %s (relative)", what, names[k]);
        if (tol > 0)
            check_row(row, c[k], g[k], rel, tol, rel <= tol);
        else
            info_row(row, c[k], g[k], rel);
    }
}

static void training_checks(const bench_opts *o)
{
    char data[700], ck[2][760];
    make_dataset(o, "check.h5", o->quick ? 5000 : 20000, 11, data, sizeof data);
    for (int k = 0; k < 2; k++)
        snprintf(ck[k], sizeof ck[k], "%s/ckpt%d.h5", o->work, k);
    hps_train_params p;
    double c[3], g[3], g2[3];
    static const int opts[2] = {HPS_OPT_SGD, HPS_OPT_ADAMW};
    static const char *const labels[2] = {"one epoch, sgd momentum 0.9, dropout 0.2",
                                          "one epoch, adamw, dropout 0.2"};
    for (int k = 0; k < 2; k++) {
        train_params(&p, o, opts[k]);
        train(&p, data, NULL, c);
        p.device = o->device;
        train(&p, data, NULL, g);
        loss_rows(labels[k], c, g, 1e-3);
        if (k == 0) {
            train(&p, data, NULL, g2);
            check_row("the same GPU run twice: metrics identical (differing values)", 3, 3,
                      (double)(memcmp(g, g2, sizeof g) != 0), 0, memcmp(g, g2, sizeof g) == 0);
            p.tf32 = 1;
            train(&p, data, NULL, g2);
            loss_rows("one epoch, sgd, TF32 (no bound: TF32 rounds GEMM inputs)", c, g2, 0);
        }
    }
    /* Checkpoints across backends: epoch 1 on one, epoch 2 on the other, against the CPU's 2. */
    train_params(&p, o, HPS_OPT_SGD);
    p.epochs = 2;
    remove(ck[0]);
    train(&p, data, ck[0], c);
    for (int first_gpu = 1; first_gpu >= 0; first_gpu--) {
        remove(ck[1]);
        train_params(&p, o, HPS_OPT_SGD);
        p.device = first_gpu ? o->device : -1;
        train(&p, data, ck[1], g);
        p.device = first_gpu ? -1 : o->device;
        p.prev_epochs = 1;
        p.epochs = 2;
        train(&p, data, ck[1], g);
        loss_rows(first_gpu ? "checkpoint: epoch 1 on the GPU, epoch 2 on the CPU"
                            : "checkpoint: epoch 1 on the CPU, epoch 2 on the GPU",
                  c, g, 1e-3);
    }
    remove(ck[0]);
    remove(ck[1]);
    remove(data);
}

void run_checks(const bench_opts *o)
{
    section("checks: the CUDA backend against the CPU backend on the same inputs");
    static const shape shapes[] = {
        {"784-256-256-10 relu, dropout 0.3, 128 rows", 784, 2, 256, 10, HPS_ACT_RELU,
         HPS_TASK_CLASSIFY, 128, 0.3},
        {"33-70-37 gelu, dropout 0.5, 77 rows", 33, 1, 70, 37, HPS_ACT_GELU, HPS_TASK_CLASSIFY,
         77, 0.5},
        {"13-50-50-50-1 tanh regression, dropout 0.1, 200 rows", 13, 3, 50, 1, HPS_ACT_TANH,
         HPS_TASK_REGRESS, 200, 0.1},
        {"100-5 linear, 64 rows", 100, 0, 1, 5, HPS_ACT_RELU, HPS_TASK_CLASSIFY, 64, 0.0},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        pass_check(o, &shapes[k], 0);
    pass_check(o, &shapes[0], 1);
    optim_check(o, HPS_OPT_SGD, 0, "sgd momentum");
    optim_check(o, HPS_OPT_SGD, 1, "sgd nesterov");
    optim_check(o, HPS_OPT_ADAM, 0, "adam");
    optim_check(o, HPS_OPT_ADAMW, 0, "adamw");
    training_checks(o);
}
