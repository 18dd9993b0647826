/*
 * Unit tests for the trainer's checkpoints and continuation (workers/trainer/
 * checkpoint.c, train.c):
 *   - 4 epochs straight vs 2 + resume 2 (Adam, dropout, cosine with warm-up over
 *     a fixed horizon): identical weights, optimiser state, step count and
 *     metrics, bit for bit -- on a group of one and on a group of two (the
 *     state goes from rank 0 to the others through the allreduce);
 *   - a re-run whose checkpoint already holds the budget reports its metrics
 *     again and trains nothing;
 *   - a missing checkpoint with prev_epochs > 0, a corrupt one (flipped bytes,
 *     truncated, not HDF5), one of another shape or seed, one past the budget:
 *     each fails the trial with a clear cause, on every rank of a group;
 *   - no temp file is left after a write;
 *   - a checkpoint written by the GPU path of the loop (the fixture's emulated
 *     device: host mirrors copied from device memory) resumes on the CPU path
 *     and the other way round, bit-exact with a straight CPU run: the format
 *     and the state are the same whichever backend wrote them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trainer/checkpoint.h"
#include "hpsweep/error.h"
#include "trainer/trainer.h"
#include "trainer_fixture.h"

static char dir[512], data[600];

static int setup_dir(void **state)
{
    (void)state;
    make_tmpdir(dir, sizeof dir, "resume");
    snprintf(data, sizeof data, "%s/data.h5", dir);
    char err[256];
    assert_int_equal(hps_dataset_synth(data, 500, 6, 4, 3, err, sizeof err), HPS_OK);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    rm_tree(dir);
    return 0;
}

static void params(hps_train_params *p, int64_t prev, int64_t epochs)
{
    hps_train_params_default(p);
    p->batch_size = 32;
    p->hidden_units = 12;
    p->dropout = 0.3;
    p->optimizer = HPS_OPT_ADAMW;
    p->weight_decay = 0.01;
    p->learning_rate = 0.005;
    p->lr_schedule = HPS_LR_COSINE;
    p->schedule_epochs = 4;
    p->warmup_epochs = 1.5;
    p->seed = 77;
    p->prev_epochs = prev;
    p->epochs = epochs;
}

/* The whole checkpoint file's payload: weights, m1, m2 and the header. */
typedef struct ckpt_dump {
    hps_ckpt ck;
    float *w, *m1, *m2;
} ckpt_dump;

static void dump(const char *path, const hps_train_params *p, ckpt_dump *d, int64_t n_params)
{
    hps_ckpt expect;
    memset(&expect, 0, sizeof expect);
    expect.seed = p->seed;
    expect.features = 6;
    expect.outputs = 4;
    expect.task = HPS_TASK_CLASSIFY;
    expect.hidden_layers = p->hidden_layers;
    expect.hidden_units = p->hidden_units;
    expect.activation = p->activation;
    expect.optimizer = p->optimizer;
    expect.n_params = n_params;
    d->w = malloc(sizeof(float) * (size_t)n_params);
    d->m1 = malloc(sizeof(float) * (size_t)n_params);
    d->m2 = malloc(sizeof(float) * (size_t)n_params);
    assert_true(d->w && d->m1 && d->m2);
    char err[512];
    int rc = hps_ckpt_read(path, &expect, &d->ck, d->w, d->m1, d->m2, err, sizeof err);
    if (rc != HPS_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, HPS_OK);
}

static void dump_free(ckpt_dump *d)
{
    free(d->w);
    free(d->m1);
    free(d->m2);
}

/* (6*12 + 12) + (12*12 + 12) + (12*4 + 4) */
#define NPARAMS (84 + 156 + 52)

static void run_ok(tg_run *run, int g)
{
    tg_train(run, g);
    for (int r = 0; r < g; r++) {
        if (run->rc[r] != HPS_OK)
            print_error("rank %d: %s\n", r, run->err[r]);
        assert_int_equal(run->rc[r], HPS_OK);
    }
}

static void resume_exact(int g)
{
    char straight[700], split[700], tmp[720];
    snprintf(straight, sizeof straight, "%s/straight%d.h5", dir, g);
    snprintf(split, sizeof split, "%s/split%d.h5", dir, g);
    remove(straight);
    remove(split);

    tg_run a;
    memset(&a, 0, sizeof a);
    params(&a.params, 0, 4);
    a.data = data;
    a.ckpt = straight;
    run_ok(&a, g);
    assert_int_equal(a.n_reports, 4);

    tg_run b1;
    memset(&b1, 0, sizeof b1);
    params(&b1.params, 0, 2);
    b1.data = data;
    b1.ckpt = split;
    run_ok(&b1, g);
    assert_int_equal(b1.n_reports, 2);
    snprintf(tmp, sizeof tmp, "%s.tmp", split);
    assert_false(file_exists(tmp));

    tg_run b2;
    memset(&b2, 0, sizeof b2);
    params(&b2.params, 2, 4);
    b2.data = data;
    b2.ckpt = split;
    run_ok(&b2, g);
    for (int r = 0; r < g; r++) {
        assert_int_equal(b2.result[r].start_epoch, 2);
        assert_int_equal(b2.result[r].epochs_done, 4);
        assert_int_equal(b2.result[r].reused, 0);
    }
    assert_int_equal(b2.n_reports, 2);
    assert_int_equal(b2.report_epoch[0], 3);
    assert_int_equal(b2.report_epoch[1], 4);
    /* Epochs 1-2 of the straight run are the first run's; 3-4 the resumed run's. */
    assert_memory_equal(a.report[0], b1.report[0], sizeof a.report[0]);
    assert_memory_equal(a.report[1], b1.report[1], sizeof a.report[1]);
    assert_memory_equal(a.report[2], b2.report[0], sizeof a.report[2]);
    assert_memory_equal(a.report[3], b2.report[1], sizeof a.report[3]);
    assert_memory_equal(a.result[0].values, b2.result[0].values, 3 * sizeof(double));

    ckpt_dump da, db;
    dump(straight, &a.params, &da, NPARAMS);
    dump(split, &b2.params, &db, NPARAMS);
    assert_int_equal(da.ck.epoch, 4);
    assert_int_equal(db.ck.epoch, 4);
    assert_int_equal(da.ck.step, db.ck.step);
    assert_int_equal(da.ck.step, 4 * 13); /* 400 rows, batch 32: 13 steps an epoch */
    assert_memory_equal(da.w, db.w, sizeof(float) * NPARAMS);
    assert_memory_equal(da.m1, db.m1, sizeof(float) * NPARAMS);
    assert_memory_equal(da.m2, db.m2, sizeof(float) * NPARAMS);
    assert_memory_equal(da.ck.metrics, db.ck.metrics, 3 * sizeof(double));
    dump_free(&da);
    dump_free(&db);
}

static void test_resume_bit_exact(void **state)
{
    (void)state;
    resume_exact(1);
    resume_exact(2);
}

/* 2 epochs on first_ops, 2 more on then_ops (NULL: the CPU), against 4 straight on the CPU. */
static void resume_across(const hps_train_ops *first_ops, const hps_train_ops *then_ops)
{
    char straight[700], split[700];
    snprintf(straight, sizeof straight, "%s/across_straight.h5", dir);
    snprintf(split, sizeof split, "%s/across_split.h5", dir);
    remove(straight);
    remove(split);
    tg_run a, b1, b2;
    memset(&a, 0, sizeof a);
    params(&a.params, 0, 4);
    a.data = data;
    a.ckpt = straight;
    run_ok(&a, 1);
    memset(&b1, 0, sizeof b1);
    params(&b1.params, 0, 2);
    b1.data = data;
    b1.ckpt = split;
    b1.ops = first_ops;
    run_ok(&b1, 1);
    memset(&b2, 0, sizeof b2);
    params(&b2.params, 2, 4);
    b2.data = data;
    b2.ckpt = split;
    b2.ops = then_ops;
    run_ok(&b2, 1);
    assert_int_equal(b2.result[0].start_epoch, 2);
    assert_memory_equal(a.report[2], b2.report[0], sizeof a.report[2]);
    assert_memory_equal(a.report[3], b2.report[1], sizeof a.report[3]);
    ckpt_dump da, db;
    dump(straight, &a.params, &da, NPARAMS);
    dump(split, &b2.params, &db, NPARAMS);
    assert_int_equal(da.ck.step, db.ck.step);
    assert_memory_equal(da.w, db.w, sizeof(float) * NPARAMS);
    assert_memory_equal(da.m1, db.m1, sizeof(float) * NPARAMS);
    assert_memory_equal(da.m2, db.m2, sizeof(float) * NPARAMS);
    dump_free(&da);
    dump_free(&db);
}

static void test_resume_across_backends(void **state)
{
    (void)state;
    const hps_train_ops *dev = emu_device_ops();
    resume_across(dev, NULL); /* written from device memory, resumed on the CPU */
    resume_across(NULL, dev); /* written on the CPU, resumed into device memory */
    assert_int_equal(emu_misuse(), 0);
}

static void test_rerun_reports_again(void **state)
{
    (void)state;
    char ck[700];
    snprintf(ck, sizeof ck, "%s/rerun.h5", dir);
    remove(ck);
    tg_run a;
    memset(&a, 0, sizeof a);
    params(&a.params, 0, 3);
    a.data = data;
    a.ckpt = ck;
    run_ok(&a, 1);
    for (int g = 1; g <= 2; g++) {
        tg_run b;
        memset(&b, 0, sizeof b);
        params(&b.params, 2, 3); /* a promotion 2 -> 3 re-run after 3 was reached */
        b.data = data;
        b.ckpt = ck;
        run_ok(&b, g);
        for (int r = 0; r < g; r++) {
            assert_int_equal(b.result[r].reused, 1);
            assert_int_equal(b.result[r].epochs_done, 3);
            assert_int_equal(b.result[r].samples, 0);
            assert_memory_equal(b.result[r].values, a.result[0].values, 3 * sizeof(double));
        }
        assert_int_equal(b.n_reports, 1);
        assert_int_equal(b.report_epoch[0], 3);
        assert_memory_equal(b.report[0], a.report[2], 3 * sizeof(double));
    }
}

/* Expect every rank of a g-group to fail with code; rank 0's message contains want. */
static void expect_fail(const hps_train_params *p, const char *ck, int g, int code,
                        const char *want)
{
    tg_run run;
    memset(&run, 0, sizeof run);
    run.params = *p;
    run.data = data;
    run.ckpt = ck;
    tg_train(&run, g);
    for (int r = 0; r < g; r++)
        assert_int_equal(run.rc[r], code);
    if (!strstr(run.err[0], want))
        print_error("rank 0 says '%s', expected '%s'\n", run.err[0], want);
    assert_non_null(strstr(run.err[0], want));
    if (g > 1)
        assert_non_null(strstr(run.err[1], "rank 0 of"));
    assert_int_equal(run.n_reports, 0);
}

static void copy_file(const char *from, const char *to)
{
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Where a contiguous dataset's data starts in the file. */
static long data_offset(const char *path, const char *name)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(ds >= 0);
    haddr_t off = H5Dget_offset(ds);
    assert_true(off != HADDR_UNDEF);
    H5Dclose(ds);
    H5Fclose(f);
    return (long)off;
}

/* Invert n bytes at offset. */
static void flip_bytes(const char *path, long offset, int n)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    unsigned char b[16];
    assert_int_equal(fseek(f, offset, SEEK_SET), 0);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)~b[i];
    assert_int_equal(fseek(f, offset, SEEK_SET), 0);
    assert_int_equal(fwrite(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
}

static void test_bad_checkpoints(void **state)
{
    (void)state;
    char good[700], ck[700];
    snprintf(good, sizeof good, "%s/good.h5", dir);
    snprintf(ck, sizeof ck, "%s/work.h5", dir);
    remove(good);
    tg_run a;
    memset(&a, 0, sizeof a);
    params(&a.params, 0, 2);
    a.data = data;
    a.ckpt = good;
    run_ok(&a, 1);
    hps_train_params p;
    params(&p, 2, 4);

    for (int g = 1; g <= 2; g++) {
        /* Missing. */
        remove(ck);
        expect_fail(&p, ck, g, HPS_ENOENT, "no checkpoint to continue from (prev_epochs = 2)");

        /* Flipped bytes inside the weights, then inside Adam's second moment:
         * HDF5 reads them happily, the checksum does not. */
        const char *arrays[2] = {"/weights", "/optimizer/m2"};
        for (int k = 0; k < 2; k++) {
            copy_file(good, ck);
            flip_bytes(ck, data_offset(ck, arrays[k]) + 100, 3);
            expect_fail(&p, ck, g, HPS_ECORRUPT, "corrupt checkpoint: checksum mismatch");
        }
        /* Flipped bytes in the file's signature. */
        copy_file(good, ck);
        flip_bytes(ck, 1, 2);
        expect_fail(&p, ck, g, HPS_ECORRUPT, "corrupt checkpoint");
        long n = file_size(ck);
        FILE *f;

        /* Truncated. */
        copy_file(good, ck);
        assert_int_equal(truncate(ck, n / 2), 0);
        expect_fail(&p, ck, g, HPS_ECORRUPT, "corrupt checkpoint");

        /* Not HDF5 at all. */
        f = fopen(ck, "w");
        assert_non_null(f);
        fputs("garbage", f);
        fclose(f);
        expect_fail(&p, ck, g, HPS_ECORRUPT, "corrupt checkpoint: not an HDF5 file");

        /* Another shape, another seed, another optimiser. */
        copy_file(good, ck);
        hps_train_params q = p;
        q.hidden_units = 8;
        expect_fail(&q, ck, g, HPS_EMISMATCH, "hidden_units is 12 in the checkpoint, 8 in the trial");
        q = p;
        q.seed = 78;
        expect_fail(&q, ck, g, HPS_EMISMATCH, "checkpoint seed 77 differs from the trial's 78");
        q = p;
        q.optimizer = HPS_OPT_SGD;
        expect_fail(&q, ck, g, HPS_EMISMATCH, "optimizer is adamw in the checkpoint, sgd in the trial");

        /* Past the budget, or short of prev_epochs. */
        q = p;
        q.prev_epochs = 1;
        q.epochs = 1;
        expect_fail(&q, ck, g, HPS_EMISMATCH, "holds 2 epochs, past the budget of 1");
        q = p;
        q.prev_epochs = 3;
        q.epochs = 5;
        expect_fail(&q, ck, g, HPS_EMISMATCH, "holds 2 epochs, the trial continues from 3");
    }
    /* The intact copy still resumes. */
    copy_file(good, ck);
    tg_run b;
    memset(&b, 0, sizeof b);
    b.params = p;
    b.data = data;
    b.ckpt = ck;
    run_ok(&b, 2);
    assert_int_equal(b.result[0].epochs_done, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_bit_exact),
        cmocka_unit_test(test_resume_across_backends),
        cmocka_unit_test(test_rerun_reports_again),
        cmocka_unit_test(test_bad_checkpoints),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
