/*
 * Unit tests for /trials rows packed ahead of a write (engine/store/store_pack.c).
 *
 * A pack holds rows [first, first + n) of /trials: compressed a chunk at a time
 * as sweep.h5 stores them, so a hundred thousand rows take a few bytes each; a
 * row /trials cannot hold is refused and leaves the pack as it was; the last row
 * can be taken back. That a write takes the rows as packed, into a file equal
 * to one written without a pack, is tested through the sweep that packs
 * (test_sweep_spill.c) and here once directly.
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
#include <unistd.h>

#include "core/fs.h"
#include "core/trial.h"
#include "store/store.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"

enum { ROWS = 100000 };

typedef struct pack_fixture {
    char dir[64];
    hps_space space;
    hps_trial *trials;
    double *values; /* 2 per trial */
} pack_fixture;

static int setup(void **state)
{
    pack_fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hps-pack.XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    f->space.n_params = 2;
    f->space.params = calloc(2, sizeof *f->space.params);
    f->space.params[0] = (hps_param){.name = "x", .type = HPS_PARAM_FLOAT, .low = 0, .high = 1};
    f->space.params[1] = (hps_param){.name = "n", .type = HPS_PARAM_INT, .low = 1, .high = 9};
    f->trials = calloc(ROWS, sizeof *f->trials);
    f->values = calloc(2 * ROWS, sizeof *f->values);
    for (int64_t i = 0; i < ROWS; i++) {
        hps_trial *t = &f->trials[i];
        t->trial_id = i;
        t->exit_code = -1;
        t->bracket = -1;
        t->rung = -1;
        t->status = HPS_TRIAL_DONE;
        t->seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
        t->worker = 1 + (int32_t)(i % 3);
        t->start = 1.7e9 + (double)i * 1e-3;
        t->end = t->start + 2e-4;
        t->objective = sin((double)i);
        t->values = f->values + 2 * i;
        t->values[0] = cos((double)i) * 0.5 + 0.5;
        t->values[1] = (double)(1 + i % 9);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    pack_fixture *f = *state;
    hps_rm_tree(f->dir);
    free(f->space.params);
    free(f->trials);
    free(f->values);
    free(f);
    return 0;
}

/* A hundred thousand rows in a few bytes each (the file takes some 20). */
static void test_pack_small(void **state)
{
    pack_fixture *f = *state;
    hps_store_pack *pk;
    char err[256] = "";
    assert_int_equal(hps_store_pack_open(&pk, &f->space, 5, err, sizeof err), HPS_OK);
    assert_int_equal(hps_store_pack_first(pk), 5);
    for (int64_t i = 0; i < ROWS; i++)
        assert_int_equal(hps_store_pack_add(pk, &f->trials[i], err, sizeof err), HPS_OK);
    assert_int_equal(hps_store_pack_rows(pk), ROWS);
    size_t bytes = hps_store_pack_bytes(pk);
    assert_true(bytes < (size_t)ROWS * 40);
    assert_true(bytes > (size_t)ROWS * 2);
    hps_store_pack_free(pk);
}

/* A row that /trials cannot hold is refused and changes nothing; undo takes the
 * last row back, in the rows before the first chunk boundary and after it. */
static void test_pack_refuse_undo(void **state)
{
    pack_fixture *f = *state;
    hps_store_pack *pk;
    char err[256] = "";
    assert_int_equal(hps_store_pack_open(&pk, &f->space, 1020, err, sizeof err), HPS_OK);
    assert_int_equal(hps_store_pack_add(pk, &f->trials[0], err, sizeof err), HPS_OK);
    hps_trial bad = f->trials[1];
    bad.status = (hps_trial_status)9;
    assert_int_equal(hps_store_pack_add(pk, &bad, err, sizeof err), HPS_EINVAL);
    assert_non_null(strstr(err, "invalid status"));
    bad = f->trials[1];
    double v[2] = {0.5, 1e300};
    bad.values = v;
    assert_int_equal(hps_store_pack_add(pk, &bad, err, sizeof err), HPS_EINVAL);
    assert_int_equal(hps_store_pack_rows(pk), 1);
    hps_store_pack_undo(pk);
    assert_int_equal(hps_store_pack_rows(pk), 0);
    for (int64_t i = 0; i < 3000; i++)
        assert_int_equal(hps_store_pack_add(pk, &f->trials[i], err, sizeof err), HPS_OK);
    hps_store_pack_undo(pk);
    assert_int_equal(hps_store_pack_rows(pk), 2999);
    hps_store_pack_free(pk);
}

/* A write whose first rows come from a pack: the same file, row for row, as one
 * given every trial. */
static void test_pack_write(void **state)
{
    pack_fixture *f = *state;
    enum { N = 5000, PACKED = 3500 };
    char a[128], b[128], err[512] = "";
    snprintf(a, sizeof a, "%s/plain.h5", f->dir);
    snprintf(b, sizeof b, "%s/packed.h5", f->dir);
    hps_store_meta meta = {.name = "pack", .strategy = "random", .objective = "noop",
                           .metric = "loss", .goal = "minimize", .status = "running",
                           .created = "2026-12-01T00:00:00Z", .updated = "2026-12-01T00:00:00Z",
                           .space = &f->space};
    assert_int_equal(hps_store_write(a, &meta, f->trials, N, NULL, 0, NULL, 0, NULL, 0, err,
                                     sizeof err), HPS_OK);
    hps_store_index ix;
    assert_int_equal(hps_store_index_build(&ix, f->trials, N, 0), HPS_OK);
    hps_store_pack *pk;
    assert_int_equal(hps_store_pack_open(&pk, &f->space, 0, err, sizeof err), HPS_OK);
    for (int64_t i = 0; i < PACKED; i++)
        assert_int_equal(hps_store_pack_add(pk, &f->trials[i], err, sizeof err), HPS_OK);
    meta.index = &ix;
    hps_store_carry carry = {.packed = pk};
    int rc = hps_store_write_carry(b, &meta, &carry, f->trials + PACKED, N - PACKED, NULL, 0,
                                   NULL, 0, NULL, 0, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("write: %s: %s", hps_err_name(rc), err);
    /* A pack that does not start where the carried rows end is refused. */
    carry.trials = 1;
    assert_int_equal(hps_store_write_carry(b, &meta, &carry, f->trials + PACKED, N - PACKED,
                                           NULL, 0, NULL, 0, NULL, 0, err, sizeof err),
                     HPS_EINVAL);
    hps_store_pack_free(pk);
    hps_store_index_free(&ix);
    hps_results x, y;
    assert_int_equal(hps_results_open(a, &x, err, sizeof err), HPS_OK);
    assert_int_equal(hps_results_open(b, &y, err, sizeof err), HPS_OK);
    assert_int_equal(x.n_trials, N);
    assert_int_equal(y.n_trials, N);
    for (int64_t i = 0; i < N; i++) {
        const hps_trial *s = &x.trials[i], *t = &y.trials[i];
        assert_int_equal(s->trial_id, t->trial_id);
        assert_true(s->seed == t->seed);
        assert_memory_equal(&s->objective, &t->objective, sizeof(double));
        assert_memory_equal(&s->start, &t->start, sizeof(double));
        assert_memory_equal(s->values, t->values, 2 * sizeof(double));
    }
    hps_results_free(&x);
    hps_results_free(&y);
}

int main(void)
{
    hps_store_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pack_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_refuse_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
