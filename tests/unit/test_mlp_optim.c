/*
 * Unit tests for the trainer's optimisers, learning-rate schedules and
 * parameter table (workers/trainer/ops_cpu.c optim, params.c): exact values of
 * SGD (momentum, Nesterov, L2 decay), Adam and AdamW steps computed here by
 * hand in double, non-finite detection, the schedules at given epochs,
 * setting parameters by name with their error messages, and that the backend
 * tables (the CPU's, and the CUDA one in builds with CUDA) are complete and of
 * this build's version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "hpsweep/error.h"
#include "trainer/gpu.h"
#include "gpu_fixture.h"
#include "trainer/ops.h"
#include "trainer/trainer.h"
#include "trainer_fixture.h"

/* One step through the CPU backend; returns the non-finite flag it set. */
static int step(const hps_optim_step *s, float *w, const float *g, float *m1, float *m2,
                int64_t n)
{
    int32_t bad = 0;
    hps_train_ops_cpu.optim(NULL, s, w, g, m1, m2, n, &bad);
    return bad;
}

static hps_optim_step base_step(int kind)
{
    hps_optim_step s = {
        .kind = kind, .lr = 0.1f, .grad_scale = 0.5f, .momentum = 0.9f, .nesterov = 0,
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f, .t = 1,
    };
    return s;
}

static void test_sgd_momentum(void **state)
{
    (void)state;
    hps_optim_step s = base_step(HPS_OPT_SGD);
    float w[2] = {1.0f, -2.0f}, g[2] = {2.0f, 4.0f}, m1[2] = {0, 0};
    /* Gradient sums 2 and 4 over a batch of 2: means 1 and 2. */
    assert_int_equal(step(&s, w, g, m1, NULL, 2), 0);
    assert_near(m1[0], 1.0, 1e-7);
    assert_near(w[0], 0.9, 1e-7);
    assert_near(w[1], -2.2, 1e-6);
    assert_int_equal(step(&s, w, g, m1, NULL, 2), 0);
    assert_near(m1[0], 1.9, 1e-6);          /* 0.9 * 1 + 1 */
    assert_near(w[0], 0.9 - 0.19, 1e-6);    /* w - lr * buf */

    /* Nesterov: w -= lr (g + mu buf). */
    s.nesterov = 1;
    float wn[1] = {1.0f}, gn[1] = {2.0f}, mn[1] = {0};
    step(&s, wn, gn, mn, NULL, 1);
    assert_near(wn[0], 1.0 - 0.1 * (1.0 + 0.9 * 1.0), 1e-6);

    /* L2 decay joins the gradient: g = 1 + 0.1 * 1; no momentum. */
    s.nesterov = 0;
    s.momentum = 0.0f;
    s.weight_decay = 0.1f;
    float wd[1] = {1.0f}, gd[1] = {2.0f}, md[1] = {0};
    step(&s, wd, gd, md, NULL, 1);
    assert_near(wd[0], 1.0 - 0.1 * 1.1, 1e-6);
}

/* Adam by hand in double (PyTorch's arithmetic). */
static double adam_ref(double w, double g, double *m, double *v, int t, double lr, double wd,
                       int decoupled)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    if (!decoupled)
        g += wd * w;
    else
        w *= 1.0 - lr * wd;
    *m = b1 * *m + (1 - b1) * g;
    *v = b2 * *v + (1 - b2) * g * g;
    double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
    return w - lr / bc1 * *m / (sqrt(*v) / sqrt(bc2) + eps);
}

static void test_adam_steps(void **state)
{
    (void)state;
    for (int kind = HPS_OPT_ADAM; kind <= HPS_OPT_ADAMW; kind++) {
        hps_optim_step s = base_step(kind);
        s.lr = 0.01f;
        s.weight_decay = 0.05f;
        float w[1] = {0.7f}, g[1] = {1.0f}, m1[1] = {0}, m2[1] = {0};
        double rw = 0.7, rm = 0, rv = 0;
        for (int t = 1; t <= 3; t++) {
            s.t = t;
            g[0] = (float)(t == 2 ? -0.6 : 1.0); /* sums over a batch of 2 */
            assert_int_equal(step(&s, w, g, m1, m2, 1), 0);
            rw = adam_ref(rw, g[0] * 0.5, &rm, &rv, t, 0.01, 0.05, kind == HPS_OPT_ADAMW);
            assert_near(w[0], rw, 1e-6);
            assert_near(m1[0], rm, 1e-7);
            assert_near(m2[0], rv, 1e-8);
        }
    }
    /* The first Adam step without decay moves each weight by lr * sign(g). */
    hps_optim_step s = base_step(HPS_OPT_ADAM);
    s.lr = 0.001f;
    float w[2] = {0.0f, 0.0f}, g[2] = {3.0f, -0.2f}, m1[2] = {0, 0}, m2[2] = {0, 0};
    step(&s, w, g, m1, m2, 2);
    assert_near(w[0], -0.001, 1e-9);
    assert_near(w[1], 0.001, 1e-9);
}

static void test_optim_nonfinite(void **state)
{
    (void)state;
    for (int kind = HPS_OPT_SGD; kind <= HPS_OPT_ADAMW; kind++) {
        hps_optim_step s = base_step(kind);
        float w[3] = {1, 2, 3}, g[3] = {0.1f, NAN, 0.2f}, m1[3] = {0}, m2[3] = {0};
        assert_int_equal(step(&s, w, g, m1, m2, 3), 1);
        float w2[2] = {1, 2}, g2[2] = {INFINITY, 1.0f}, a[2] = {0}, b[2] = {0};
        assert_int_equal(step(&s, w2, g2, a, b, 2), 1);
    }
}

static void test_schedules(void **state)
{
    (void)state;
    hps_train_params p;
    hps_train_params_default(&p);
    p.learning_rate = 0.1;
    p.epochs = 10;
    assert_near(hps_train_lr(&p, 0.0, 100), 0.1, 1e-15);
    assert_near(hps_train_lr(&p, 9.99, 100), 0.1, 1e-15);

    p.lr_schedule = HPS_LR_COSINE;
    assert_near(hps_train_lr(&p, 0.0, 100), 0.1, 1e-15);
    assert_near(hps_train_lr(&p, 5.0, 100), 0.05, 1e-15);
    assert_near(hps_train_lr(&p, 2.5, 100), 0.05 * (1 + cos(M_PI / 4)), 1e-15);
    assert_near(hps_train_lr(&p, 10.0, 100), 0.0, 1e-15);
    p.schedule_epochs = 20; /* the horizon, not epochs, when set */
    assert_near(hps_train_lr(&p, 10.0, 100), 0.05, 1e-15);
    p.schedule_epochs = 0;

    /* Warm-up 2 epochs, 4 steps an epoch: the ramp is (t + 1/4) / 2, cosine after it. */
    p.warmup_epochs = 2.0;
    assert_near(hps_train_lr(&p, 0.0, 4), 0.1 * 0.125, 1e-15);
    assert_near(hps_train_lr(&p, 1.0, 4), 0.1 * 0.625, 1e-15);
    assert_near(hps_train_lr(&p, 1.75, 4), 0.1, 1e-15);
    assert_near(hps_train_lr(&p, 2.0, 4), 0.1, 1e-15);
    assert_near(hps_train_lr(&p, 6.0, 4), 0.05, 1e-15); /* halfway through [2, 10] */

    p.lr_schedule = HPS_LR_STEP;
    p.warmup_epochs = 0;
    p.step_epochs = 3;
    p.step_gamma = 0.5;
    assert_near(hps_train_lr(&p, 2.99, 10), 0.1, 1e-15);
    assert_near(hps_train_lr(&p, 3.0, 10), 0.05, 1e-15);
    assert_near(hps_train_lr(&p, 7.5, 10), 0.025, 1e-15);
    p.lr_schedule = HPS_LR_CONSTANT;
    p.warmup_epochs = 0.5;
    assert_near(hps_train_lr(&p, 0.0, 10), 0.1 * 0.2, 1e-15);
    assert_near(hps_train_lr(&p, 0.5, 10), 0.1, 1e-15);
}

static void test_param_table(void **state)
{
    (void)state;
    hps_train_params p;
    hps_train_params_default(&p);
    char err[256];
    assert_int_equal(hps_train_params_check(&p, err, sizeof err), HPS_OK);
    assert_near(p.learning_rate, 1e-3, 0);
    assert_int_equal(p.batch_size, 128);
    assert_int_equal(p.optimizer, HPS_OPT_ADAM);
    assert_int_equal(p.threads, 1);
    assert_int_equal(p.device, -1); /* the CPU unless asked */
    assert_int_equal(p.tf32, 0);
    assert_int_equal(hps_train_param_find("device")->tunable, 0);
    assert_int_equal(hps_train_param_find("tf32")->tunable, 0);
    /* Every entry has a name, help and a default that parses. */
    for (int i = 0; i < hps_train_n_params; i++) {
        const hps_train_param_info *info = &hps_train_param_table[i];
        assert_non_null(info->help);
        assert_true(info->help[0] != '\0');
        assert_ptr_equal(hps_train_param_find(info->name), info);
        hps_train_params q = p;
        assert_int_equal(hps_train_params_set_text(&q, info->name, info->default_text, err,
                                                   sizeof err),
                         HPS_OK);
        assert_memory_equal(&q, &p, sizeof p);
    }
    assert_null(hps_train_param_find("nope"));

    assert_int_equal(hps_train_params_set_text(&p, "activation", "gelu", err, sizeof err),
                     HPS_OK);
    assert_int_equal(p.activation, HPS_ACT_GELU);
    assert_int_equal(hps_train_params_set_number(&p, "optimizer", 0, err, sizeof err), HPS_OK);
    assert_int_equal(p.optimizer, HPS_OPT_SGD);
    assert_int_equal(hps_train_params_set_text(&p, "nesterov", "true", err, sizeof err), HPS_OK);
    assert_int_equal(p.nesterov, 1);
    assert_int_equal(hps_train_params_set_text(&p, "tf32", "true", err, sizeof err), HPS_OK);
    assert_int_equal(p.tf32, 1);
    assert_int_equal(hps_train_params_set_number(&p, "device", 2, err, sizeof err), HPS_OK);
    assert_int_equal(p.device, 2);
    assert_int_equal(hps_train_params_set_number(&p, "device", -2, err, sizeof err),
                     HPS_ECONFIG);
    assert_string_equal(err, "trainer parameter 'device': -2 is outside [-1, 1023]");
    assert_int_equal(hps_train_params_set_number(&p, "batch_size", 256, err, sizeof err),
                     HPS_OK);
    assert_int_equal(p.batch_size, 256);
    assert_int_equal(hps_train_params_set_text(&p, "seed", "18446744073709551615", err,
                                               sizeof err),
                     HPS_OK);
    assert_true(p.seed == UINT64_MAX);
    assert_int_equal(hps_train_params_set_text(&p, "learning_rate", "3e-4", err, sizeof err),
                     HPS_OK);
    assert_near(p.learning_rate, 3e-4, 0);

    hps_train_params before = p;
    assert_int_equal(hps_train_params_set_text(&p, "lerning_rate", "0.1", err, sizeof err),
                     HPS_ECONFIG);
    assert_string_equal(err, "unknown trainer parameter 'lerning_rate' (did you mean "
                             "'learning_rate'?)");
    assert_int_equal(hps_train_params_set_text(&p, "zzz", "1", err, sizeof err), HPS_ECONFIG);
    assert_string_equal(err, "unknown trainer parameter 'zzz'");
    assert_int_equal(hps_train_params_set_text(&p, "activation", "sigmoid", err, sizeof err),
                     HPS_ECONFIG);
    assert_string_equal(err, "trainer parameter 'activation': 'sigmoid' is not one of relu, "
                             "tanh, gelu");
    assert_int_equal(hps_train_params_set_number(&p, "batch_size", 12.5, err, sizeof err),
                     HPS_ECONFIG);
    assert_string_equal(err, "trainer parameter 'batch_size' must be a whole number, got 12.5");
    assert_int_equal(hps_train_params_set_number(&p, "dropout", 0.99, err, sizeof err),
                     HPS_ECONFIG);
    assert_string_equal(err, "trainer parameter 'dropout': 0.99 is outside [0, 0.95]");
    assert_int_equal(hps_train_params_set_text(&p, "momentum", "fast", err, sizeof err),
                     HPS_ECONFIG);
    assert_int_equal(hps_train_params_set_number(&p, "optimizer", 3, err, sizeof err),
                     HPS_ECONFIG);
    assert_int_equal(hps_train_params_set_text(&p, "seed", "-1", err, sizeof err), HPS_ECONFIG);
    assert_int_equal(hps_train_params_set_number(&p, "epochs", NAN, err, sizeof err),
                     HPS_ECONFIG);
    assert_memory_equal(&p, &before, sizeof p); /* unchanged by the failures */

    p.prev_epochs = p.epochs + 1;
    assert_int_equal(hps_train_params_check(&p, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "prev_epochs"));
    p = before;
    p.activation = 7;
    assert_int_equal(hps_train_params_check(&p, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "'activation'"));
}

/* Every entry of a backend table is set, and the table is of this build's version. */
static void table_complete(const hps_train_ops *t, int host_memory)
{
    assert_int_equal(t->version, HPS_TRAIN_OPS_VERSION);
    assert_non_null(t->name);
    assert_int_equal(t->host_memory, host_memory);
    const void *entries[] = {
        (const void *)t->open,       (const void *)t->close,      (const void *)t->status,
        (const void *)t->stream,     (const void *)t->alloc,      (const void *)t->free,
        (const void *)t->host_alloc, (const void *)t->host_free,  (const void *)t->to_backend,
        (const void *)t->to_host,    (const void *)t->zero,       (const void *)t->stage_mark,
        (const void *)t->stage_wait, (const void *)t->gemm,       (const void *)t->bias_act,
        (const void *)t->act_back,   (const void *)t->loss,       (const void *)t->optim,
    };
    /* One pointer above per entry: the table's size tells when one is added. */
    assert_int_equal(sizeof entries, sizeof *t - offsetof(hps_train_ops, open));
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        assert_non_null(entries[i]);
}

static void test_backend_tables(void **state)
{
    (void)state;
    table_complete(&hps_train_ops_cpu, 1);
#if HPS_HAVE_CUDA
    /* In the GPU module (ctest gives its path in HPS_GPU_MODULE), which loads without a
     * GPU; its kernels run only where there is one. */
    char err[2048];
    const hps_gpu_ops *gpu = hps_gpu_load(err, sizeof err);
    if (!gpu)
        fail_msg("%s", err);
    table_complete(gpu->train, 0);
    assert_string_equal(gpu->train->name, "cuda");
#endif
}

int main(void)
{
    use_build_gpu_module();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_momentum),    cmocka_unit_test(test_adam_steps),
        cmocka_unit_test(test_optim_nonfinite), cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_param_table),     cmocka_unit_test(test_backend_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
