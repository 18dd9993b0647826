/*
 * Unit tests for hps_train_run (workers/trainer/train.c) without MPI: a trial
 * group is G threads joined by the fixture's barrier allreduce.
 *
 *   - Same seed, same G (1, 2, 3) twice: bit-identical weights and metrics.
 *   - G = 1, 2, 3 on the same global batch (uneven splits, a short last batch,
 *     dropout, cosine with warm-up), 3 epochs: only float summation order
 *     differs. Measured here: weights within 2e-7, metrics within 1e-7, for
 *     SGD+momentum and Adam alike. Asserted: SGD weights within 1e-5 (weights
 *     are O(0.5)) and metrics within 1e-6; Adam weights within 1e-4 and
 *     metrics within 1e-5 (Adam divides by sqrt(v): an order difference in a
 *     near-zero gradient can move that weight by more). The gaps are printed.
 *   - It learns: the synthetic set beats chance clearly; a regression reaches a
 *     small val_rmse.
 *   - Hooks: one report per epoch from rank 0 only; should_stop is called at the
 *     same points on every rank, mid-epoch and at epoch ends, and stops all.
 *   - Failures reach every rank: a NaN in a training row one rank reads, a
 *     diverging run (nan-loss at epoch 1), bad params, bad comm, no dataset.
 *   - The GPU path of the loop (staging, host mirrors, sums and flags read at
 *     check points, the gradient through allreduce_device) on the CPU's kernels
 *     (the fixture's emulated device): bit-identical to the CPU path for G = 1,
 *     2, 3, every pointer on the right side of each copy and allreduce.
 *   - Backend choice: device >= 0 in a build without CUDA is HPS_ENOSYS with
 *     the reason; with CUDA but no usable GPU it names the device; a device
 *     group without allreduce_device is refused.
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
#include "trainer/gpu.h"
#include "gpu_fixture.h"
#include "trainer/train.h"
#include "trainer/trainer.h"
#include "trainer_fixture.h"

static char dir[512], data[600];

static int setup_dir(void **state)
{
    (void)state;
    make_tmpdir(dir, sizeof dir, "train");
    snprintf(data, sizeof data, "%s/data.h5", dir);
    char err[256];
    /* 607 rows: 486 train (a short last batch of 6 at batch 20), 121 val. */
    assert_int_equal(hps_dataset_synth(data, 607, 8, 3, 1, err, sizeof err), HPS_OK);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    rm_tree(dir);
    return 0;
}

static float *read_weights(const char *path, int64_t *n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t ds = H5Dopen2(f, "/weights", H5P_DEFAULT);
    hid_t sp = H5Dget_space(ds);
    *n = H5Sget_simple_extent_npoints(sp);
    float *w = malloc(sizeof(float) * (size_t)*n);
    assert_non_null(w);
    assert_true(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0);
    H5Sclose(sp);
    H5Dclose(ds);
    H5Fclose(f);
    return w;
}

static void base_params(hps_train_params *p)
{
    hps_train_params_default(p);
    p->batch_size = 20;
    p->hidden_layers = 2;
    p->hidden_units = 16;
    p->epochs = 3;
    p->seed = 1234;
    p->stop_every = 0;
}

/* Train on a group of g; the checkpoint goes to dir/<tag>.h5 (its weights are read). */
static float *train_group(tg_run *run, int g, const char *tag, int64_t *n)
{
    char ck[700];
    snprintf(ck, sizeof ck, "%s/%s.h5", dir, tag);
    remove(ck);
    run->data = data;
    run->ckpt = ck;
    tg_train(run, g);
    for (int r = 0; r < g; r++) {
        if (run->rc[r] != HPS_OK)
            print_error("rank %d: %s\n", r, run->err[r]);
        assert_int_equal(run->rc[r], HPS_OK);
        assert_string_equal(run->err[r], ""); /* success leaves no message behind */
        assert_int_equal(run->result[r].epochs_done, run->params.epochs);
        assert_int_equal(run->result[r].n_metrics, 3);
        /* Every rank returns the same metrics, bit for bit. */
        assert_memory_equal(run->result[r].values, run->result[0].values, 3 * sizeof(double));
    }
    assert_int_equal(run->n_reports, run->params.epochs);
    return read_weights(ck, n);
}

static void test_same_seed_bit_identical(void **state)
{
    (void)state;
    for (int g = 1; g <= 3; g++) {
        tg_run a, b;
        memset(&a, 0, sizeof a);
        base_params(&a.params);
        a.params.dropout = 0.2;
        b = a;
        int64_t na, nb;
        float *wa = train_group(&a, g, "a", &na);
        float *wb = train_group(&b, g, "b", &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(wa, wb, sizeof(float) * (size_t)na);
        assert_memory_equal(a.report, b.report, sizeof a.report);
        free(wa);
        free(wb);
    }
    /* Another seed: another run. */
    tg_run a, c;
    memset(&a, 0, sizeof a);
    base_params(&a.params);
    c = a;
    c.params.seed = 1235;
    int64_t n;
    free(train_group(&a, 1, "a", &n));
    free(train_group(&c, 1, "c", &n));
    assert_true(a.report[2][1] != c.report[2][1]);
}

static void compare_groups(int optimizer, double w_tol, double m_tol)
{
    tg_run run[4];
    float *w[4];
    int64_t n[4];
    for (int g = 1; g <= 3; g++) {
        memset(&run[g], 0, sizeof run[g]);
        base_params(&run[g].params);
        run[g].params.optimizer = optimizer;
        run[g].params.learning_rate = optimizer == HPS_OPT_SGD ? 0.05 : 0.003;
        run[g].params.dropout = 0.25;
        run[g].params.lr_schedule = HPS_LR_COSINE;
        run[g].params.warmup_epochs = 0.5;
        char tag[16];
        snprintf(tag, sizeof tag, "g%d", g);
        w[g] = train_group(&run[g], g, tag, &n[g]);
    }
    for (int g = 2; g <= 3; g++) {
        assert_int_equal(n[g], n[1]);
        double wmax = 0, mmax = 0;
        for (int64_t j = 0; j < n[1]; j++)
            wmax = fmax(wmax, fabs((double)w[g][j] - w[1][j]));
        for (int e = 0; e < 3; e++)
            for (int k = 0; k < 3; k++)
                mmax = fmax(mmax, fabs(run[g].report[e][k] - run[1].report[e][k]));
        print_message("optimizer %d, G=%d vs G=1: max weight gap %.3g, max metric gap %.3g\n",
                      optimizer, g, wmax, mmax);
        assert_true(wmax <= w_tol);
        assert_true(mmax <= m_tol);
        /* Not trivially equal: the summation order did change something. */
        assert_true(wmax > 0);
    }
    for (int g = 1; g <= 3; g++)
        free(w[g]);
}

static void test_group_sizes_agree(void **state)
{
    (void)state;
    compare_groups(HPS_OPT_SGD, 1e-5, 1e-6);
    compare_groups(HPS_OPT_ADAM, 1e-4, 1e-5);
}

static void test_learns(void **state)
{
    (void)state;
    tg_run run;
    memset(&run, 0, sizeof run);
    base_params(&run.params);
    run.params.epochs = 8;
    run.params.learning_rate = 0.01;
    int64_t n;
    free(train_group(&run, 2, "learn", &n));
    double first = run.report[0][0], last = run.report[7][0];
    assert_true(last < first);
    assert_true(run.result[0].values[2] > 0.6); /* 3 classes: chance is 1/3 */
    assert_string_equal(run.result[0].names[0], "train_loss");
    assert_string_equal(run.result[0].names[1], "val_loss");
    assert_string_equal(run.result[0].names[2], "val_accuracy");
    for (int e = 0; e < 8; e++)
        assert_int_equal(run.report_epoch[e], e + 1);

    /* Regression (targets [N, 1]): val_rmse well below the targets' spread (~1). */
    char reg[700];
    snprintf(reg, sizeof reg, "%s/reg.h5", dir);
    write_regression(reg, 400, 100, 4, 1);
    memset(&run, 0, sizeof run);
    base_params(&run.params);
    run.params.epochs = 15;
    run.params.learning_rate = 0.01;
    run.data = reg;
    run.ckpt = NULL;
    tg_train(&run, 3);
    for (int r = 0; r < 3; r++)
        assert_int_equal(run.rc[r], HPS_OK);
    assert_string_equal(run.result[0].names[2], "val_rmse");
    assert_near(run.result[0].values[2], sqrt(run.result[0].values[1]), 1e-12);
    assert_true(run.result[0].values[2] < 0.15);
}

static void test_should_stop(void **state)
{
    (void)state;
    /* 25 steps an epoch, asked every 10 steps: calls at steps 10, 20, then at the
     * epoch end; the 5th call is mid-epoch 2 (step 20). */
    for (int g = 1; g <= 3; g += 2) {
        tg_run run;
        memset(&run, 0, sizeof run);
        base_params(&run.params);
        run.params.stop_every = 10;
        run.stop_after_calls = 5;
        run.data = data;
        tg_train(&run, g);
        for (int r = 0; r < g; r++) {
            assert_int_equal(run.rc[r], HPS_OK);
            assert_int_equal(run.result[r].stopped, 1);
            assert_int_equal(run.result[r].epochs_done, 1);
            assert_int_equal(run.stop_calls[r], 5);
            assert_int_equal(run.result[r].n_metrics, 3); /* epoch 1's */
        }
        assert_int_equal(run.n_reports, 1);
        assert_memory_equal(run.result[0].values, run.report[0], 3 * sizeof(double));
        /* Stopping at the first epoch end (call 3). */
        run.stop_after_calls = 3;
        tg_train(&run, g);
        assert_int_equal(run.result[0].stopped, 1);
        assert_int_equal(run.result[0].epochs_done, 1);
        /* Never stopping: calls 3 per epoch, none after the last epoch. */
        run.stop_after_calls = 0;
        tg_train(&run, g);
        assert_int_equal(run.result[0].stopped, 0);
        for (int r = 0; r < g; r++)
            assert_int_equal(run.stop_calls[r], 3 + 3 + 2);
    }
}

static void test_rank_failure_reaches_all(void **state)
{
    (void)state;
    /* A NaN in one training row: the rank that reads it fails with the row named,
     * the others with the rank that failed -- nobody hangs. */
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    write_regression(bad, 200, 50, 3, 0);
    hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "/train/X", H5P_DEFAULT);
    hid_t sp = H5Dget_space(ds);
    hsize_t st[2] = {137, 2}, cnt[2] = {1, 1};
    H5Sselect_hyperslab(sp, H5S_SELECT_SET, st, NULL, cnt, NULL);
    hid_t ms = H5Screate_simple(2, cnt, NULL);
    float nan = NAN;
    assert_true(H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, sp, H5P_DEFAULT, &nan) >= 0);
    H5Sclose(ms);
    H5Sclose(sp);
    H5Dclose(ds);
    H5Fclose(f);
    tg_run run;
    memset(&run, 0, sizeof run);
    base_params(&run.params);
    run.data = bad;
    tg_train(&run, 3);
    int named = 0;
    for (int r = 0; r < 3; r++) {
        assert_int_equal(run.rc[r], HPS_ECORRUPT);
        if (strstr(run.err[r], "/train/X: non-finite value (nan) at row 137, column 2"))
            named++;
        else
            assert_non_null(strstr(run.err[r], "of 3 failed"));
    }
    assert_int_equal(named, 1);
    assert_int_equal(run.n_reports, 0);
    /* A group of one reads it all at the start (in memory) and says so. */
    tg_train(&run, 1);
    assert_int_equal(run.rc[0], HPS_ECORRUPT);
    assert_non_null(strstr(run.err[0], "row 137"));
}

static void test_nan_loss(void **state)
{
    (void)state;
    char reg[700];
    snprintf(reg, sizeof reg, "%s/reg2.h5", dir);
    write_regression(reg, 200, 50, 4, 0);
    tg_run run;
    memset(&run, 0, sizeof run);
    base_params(&run.params);
    run.params.optimizer = HPS_OPT_SGD;
    run.params.learning_rate = 10.0;
    run.params.momentum = 0.99;
    run.data = reg;
    tg_train(&run, 2);
    for (int r = 0; r < 2; r++) {
        assert_int_equal(run.rc[r], HPS_EOBJECTIVE);
        assert_memory_equal(run.err[r], "nan-loss at epoch 1", 19);
    }
    assert_int_equal(run.n_reports, 0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    hps_train_params p;
    base_params(&p);
    hps_train_result res;
    char err[256];
    hps_train_comm one = {.rank = 0, .size = 1};
    p.hidden_units = 0;
    assert_int_equal(hps_train_run(&p, data, &one, NULL, NULL, &res, err, sizeof err),
                     HPS_ECONFIG);
    assert_non_null(strstr(err, "'hidden_units'"));
    base_params(&p);
    p.prev_epochs = 1;
    assert_int_equal(hps_train_run(&p, data, &one, NULL, NULL, &res, err, sizeof err),
                     HPS_ECONFIG);
    assert_string_equal(err, "prev_epochs is 1 but no checkpoint path was given");
    base_params(&p);
    hps_train_comm two = {.rank = 0, .size = 2};
    assert_int_equal(hps_train_run(&p, data, &two, NULL, NULL, &res, err, sizeof err),
                     HPS_EINVAL);
    hps_train_comm bad = {.rank = 2, .size = 2};
    assert_int_equal(hps_train_run(&p, data, &bad, NULL, NULL, &res, err, sizeof err),
                     HPS_EINVAL);
    char none[700];
    snprintf(none, sizeof none, "%s/none.h5", dir);
    assert_int_equal(hps_train_run(&p, none, &one, NULL, NULL, &res, err, sizeof err),
                     HPS_ENOENT);
    tg_run run;
    memset(&run, 0, sizeof run);
    base_params(&run.params);
    run.data = none;
    tg_train(&run, 2);
    assert_int_equal(run.rc[0], HPS_ENOENT);
    assert_int_equal(run.rc[1], HPS_ENOENT);
}

/* The device path of the loop on the CPU's kernels: the CPU path's results, bit for bit. */
static void test_device_path_on_cpu(void **state)
{
    (void)state;
    const hps_train_ops *emu = emu_device_ops();
    for (int g = 1; g <= 3; g++) {
        tg_run cpu, dev;
        memset(&cpu, 0, sizeof cpu);
        base_params(&cpu.params);
        cpu.params.dropout = 0.2;
        cpu.params.stop_every = 7; /* check points mid-epoch too */
        cpu.params.optimizer = g == 2 ? HPS_OPT_SGD : HPS_OPT_ADAMW;
        dev = cpu;
        dev.ops = emu;
        dev.device_comm = 1;
        int64_t nc, nd;
        float *wc = train_group(&cpu, g, "cpu", &nc);
        float *wd = train_group(&dev, g, "dev", &nd);
        assert_int_equal(nc, nd);
        assert_memory_equal(wc, wd, sizeof(float) * (size_t)nc);
        assert_memory_equal(cpu.report, dev.report, sizeof cpu.report);
        for (int r = 0; r < g; r++) {
            /* 25 steps an epoch, 3 epochs: one device allreduce a step (none alone). */
            assert_int_equal(dev.device_calls[r], g > 1 ? 75 : 0);
            assert_int_equal(dev.result[r].samples, cpu.result[r].samples);
        }
        free(wc);
        free(wd);
    }
    assert_int_equal(emu_misuse(), 0);
}

static void test_device_choice(void **state)
{
    (void)state;
    hps_train_params p;
    base_params(&p);
    p.epochs = 1;
    hps_train_result res;
    char err[512];
    hps_train_comm one = {.rank = 0, .size = 1};
    p.device = 0;
    int rc = hps_train_run(&p, data, &one, NULL, NULL, &res, err, sizeof err);
#if HPS_HAVE_CUDA
    /* A build with CUDA: this machine may or may not have a usable GPU. */
    if (rc != HPS_OK) {
        print_message("device 0: %s (%s)\n", hps_err_name(rc), err);
        assert_true(rc == HPS_ENOSYS || rc == HPS_EIO || rc == HPS_ENOMEM);
        assert_non_null(strstr(err, "CUDA device 0"));
    }
#else
    assert_int_equal(rc, HPS_ENOSYS);
    assert_non_null(strstr(err, "device 0 asks for a GPU, but this build of hpsweep has no "
                                "CUDA"));
    assert_null(hps_train_backend(0, NULL, 0));
#endif
    assert_ptr_equal(hps_train_backend(-1, NULL, 0), &hps_train_ops_cpu);
    /* Bad params are reported before the backend is looked at. */
    p.device = 3;
    p.hidden_units = 0;
    assert_int_equal(hps_train_run(&p, data, &one, NULL, NULL, &res, err, sizeof err),
                     HPS_ECONFIG);
    p.device = 1024;
    p.hidden_units = 16;
    assert_int_equal(hps_train_run(&p, data, &one, NULL, NULL, &res, err, sizeof err),
                     HPS_ECONFIG);
    assert_non_null(strstr(err, "'device'"));
    /* A group of two on a device backend needs the device allreduce. */
    tgroup g;
    tg_init(&g, 1);
    tg_rank me = {&g, 0};
    hps_train_comm two = {.rank = 0, .size = 2, .allreduce = tg_allreduce, .ctx = &me};
    p.device = -1; /* (checked before any collective: nobody waits for rank 1) */
    assert_int_equal(hps_train_run_ops(emu_device_ops(), &p, data, &two, NULL, NULL, &res,
                                       err, sizeof err),
                     HPS_EINVAL);
    assert_string_equal(err, "a trial group of 2 ranks on the emulated-device backend needs a "
                             "device allreduce callback (allreduce_device)");
    tg_free(&g);
    /* A table of another version is refused. */
    hps_train_ops old = hps_train_ops_cpu;
    old.version = 1;
    assert_int_equal(hps_train_run_ops(&old, &p, data, &one, NULL, NULL, &res, err, sizeof err),
                     HPS_EVERSION);
}

int main(void)
{
    use_build_gpu_module();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_bit_identical),
        cmocka_unit_test(test_group_sizes_agree),
        cmocka_unit_test(test_learns),
        cmocka_unit_test(test_should_stop),
        cmocka_unit_test(test_rank_failure_reaches_all),
        cmocka_unit_test(test_nan_loss),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_device_path_on_cpu),
        cmocka_unit_test(test_device_choice),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
