/*
 * Tests of the best-trial ranking stored with /trials (engine/store/store_index.c)
 * and hps_results_open_best(): the best k trials it reads are exactly the first k
 * of the whole table ranked by a scan (goal minimize and maximize, ties, NaN
 * objectives, every status, multi-fidelity budgets), k beyond the stored rows
 * falls back (HPS_ENOSYS) unless the ranking covers every ranked trial, a sweep
 * without a done trial reads as none, and a file written before the ranking
 * existed (or with a ranking naming a trial that is not done) says HPS_ENOSYS
 * while hps_results_open still reads it; and hps_results_each_trials() hands over
 * every row once, in order, in blocks of any size, stops at the callback's error
 * and reads a file without trials, with the same values for every column kind
 * whether a block is read through HDF5's conversion or as stored.
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
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "store/store.h"
#include "store/store_h5.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "trial_assert.h"

typedef struct fix {
    char dir[64], path[96];
    hps_space space;
    hps_param params[2];
    hps_trial *trials;
    double *values;
    int64_t n;
    hps_store_meta meta;
} fix;

static int setup(void **state)
{
    fix *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/hps-index-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/sweep.h5", f->dir);
    f->params[0] = (hps_param){.name = "x", .type = HPS_PARAM_FLOAT, .low = 0, .high = 1};
    f->params[1] = (hps_param){.name = "n", .type = HPS_PARAM_INT, .low = 0, .high = 100};
    f->space = (hps_space){.params = f->params, .n_params = 2};
    f->meta = (hps_store_meta){.name = "index", .seed = 3, .strategy = "random",
                               .objective = "sphere", .metric = "loss", .goal = "minimize",
                               .status = "completed", .created = "2026-01-01T00:00:00Z",
                               .updated = "2026-01-01T00:00:01Z", .config_text = "name: index\n",
                               .space = &f->space};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f->trials);
    free(f->values);
    free(f);
    return 0;
}

/*
 * n trials from seed: statuses mostly done, objectives from 16 values (many ties),
 * some done trials with a NaN objective; budgets 0, or one of 1, 3, 9 when
 * multi_fidelity.
 */
static void make_trials(fix *f, int64_t n, unsigned seed, int multi_fidelity)
{
    free(f->trials);
    free(f->values);
    f->n = n;
    f->trials = calloc((size_t)n + 1, sizeof *f->trials);
    f->values = calloc((size_t)n * 2 + 1, sizeof *f->values);
    assert_non_null(f->trials);
    assert_non_null(f->values);
    srand(seed);
    for (int64_t i = 0; i < n; i++) {
        hps_trial *t = &f->trials[i];
        int r = rand() % 10;
        t->trial_id = i;
        t->status = r < 7 ? HPS_TRIAL_DONE : r == 7 ? HPS_TRIAL_FAILED
                                           : r == 8 ? HPS_TRIAL_PRUNED
                                                    : HPS_TRIAL_RUNNING;
        t->seed = (uint64_t)i * 7919u;
        t->bracket = t->rung = -1;
        t->budget = multi_fidelity ? (double[]){1, 3, 9}[rand() % 3] : 0;
        t->worker = 1;
        t->start = 1000.0 + (double)i;
        t->end = t->status == HPS_TRIAL_RUNNING ? NAN : t->start + 1;
        t->objective = t->status == HPS_TRIAL_DONE
                           ? (rand() % 25 == 0 ? NAN : (double)(rand() % 16) * 0.25 - 1.0)
                           : NAN;
        t->exit_code = -1;
        t->values = &f->values[2 * i];
        t->values[0] = (double)(rand() % 1000) / 1000.0;
        t->values[1] = (double)(rand() % 101);
    }
}

static void write_file(fix *f)
{
    char err[512] = "";
    int rc = hps_store_write(f->path, &f->meta, f->trials, f->n, NULL, 0, NULL, 0, NULL, 0, err,
                             sizeof err);
    if (rc != HPS_OK)
        print_message("hps_store_write: %s\n", err);
    assert_int_equal(rc, HPS_OK);
}

static int scan_maximize;

/* The scan's order: hps_trial_better, then the earlier row (what `best --top` does). */
static int scan_order(const void *pa, const void *pb)
{
    const hps_trial *a = *(const hps_trial *const *)pa, *b = *(const hps_trial *const *)pb;
    if (hps_trial_better(a, b, scan_maximize))
        return -1;
    if (hps_trial_better(b, a, scan_maximize))
        return 1;
    return (a > b) - (a < b);
}

/* Every ranked trial of the whole file, best first, by a scan: *n of them. */
static const hps_trial **scan_ranked(const hps_results *all, int64_t *n)
{
    const hps_trial **t = calloc((size_t)all->n_trials + 1, sizeof *t);
    assert_non_null(t);
    *n = 0;
    for (int64_t i = 0; i < all->n_trials; i++)
        if (all->trials[i].status == HPS_TRIAL_DONE && isfinite(all->trials[i].objective))
            t[(*n)++] = &all->trials[i];
    scan_maximize = strcmp(all->goal, "maximize") == 0;
    qsort(t, (size_t)*n, sizeof *t, scan_order);
    return t;
}

static void assert_same_trial(const hps_trial *a, const hps_trial *b)
{
    assert_int_equal(a->trial_id, b->trial_id);
    assert_true(a->seed == b->seed);
    assert_int_equal(a->status, b->status);
    assert_true(a->objective == b->objective || (isnan(a->objective) && isnan(b->objective)));
    assert_true(a->budget == b->budget);
    assert_true(a->values[0] == b->values[0]);
    assert_true(a->values[1] == b->values[1]);
}

/* The best k read from the ranking equal the scan's first k, for several k. */
static void check_against_scan(fix *f)
{
    hps_results all, best;
    char err[512] = "";
    assert_int_equal(hps_results_open(f->path, &all, err, sizeof err), HPS_OK);
    int64_t n_ranked;
    const hps_trial **ranked = scan_ranked(&all, &n_ranked);
    assert_true(n_ranked > HPS_STORE_BEST_ROWS);
    const int ks[] = {1, 2, 5, HPS_STORE_BEST_ROWS};
    for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
        int rc = hps_results_open_best(f->path, ks[j], &best, err, sizeof err);
        if (rc != HPS_OK)
            print_message("k %d: %s: %s\n", ks[j], hps_err_name(rc), err);
        assert_int_equal(rc, HPS_OK);
        assert_int_equal(best.n_trials, ks[j]);
        for (int i = 0; i < ks[j]; i++)
            assert_same_trial(&best.trials[i], ranked[i]);
        assert_true(hps_results_best(&best) == &best.trials[0]);
        assert_true(hps_results_best(&all)->trial_id == best.trials[0].trial_id);
        assert_string_equal(best.goal, all.goal);
        assert_int_equal(best.space.n_params, 2);
        assert_int_equal(best.n_metrics, 0);
        hps_results_free(&best);
    }
    /* More than the file ranks: read it whole. */
    assert_int_equal(hps_results_open_best(f->path, HPS_STORE_BEST_ROWS + 1, &best, err, sizeof err),
                     HPS_ENOSYS);
    assert_null(best.trials);
    assert_int_equal(hps_results_open_best(f->path, 0, &best, err, sizeof err), HPS_EINVAL);
    free(ranked);
    hps_results_free(&all);
}

static void test_minimize(void **state)
{
    fix *f = *state;
    make_trials(f, 3000, 11, 0);
    write_file(f);
    check_against_scan(f);
}

static void test_maximize(void **state)
{
    fix *f = *state;
    f->meta.goal = "maximize";
    make_trials(f, 3000, 12, 0);
    write_file(f);
    check_against_scan(f);
}

/* The largest budget first, as hps_trial_better has it. */
static void test_multi_fidelity(void **state)
{
    fix *f = *state;
    make_trials(f, 3000, 13, 1);
    write_file(f);
    check_against_scan(f);
}

/* A ranking that covers every ranked trial answers any k with all of them. */
static void test_few(void **state)
{
    fix *f = *state;
    make_trials(f, 12, 14, 0);
    write_file(f);
    hps_results all, best;
    assert_int_equal(hps_results_open(f->path, &all, NULL, 0), HPS_OK);
    int64_t n_ranked;
    const hps_trial **ranked = scan_ranked(&all, &n_ranked);
    assert_true(n_ranked > 0 && n_ranked < 12);
    assert_int_equal(hps_results_open_best(f->path, 1000, &best, NULL, 0), HPS_OK);
    assert_int_equal(best.n_trials, n_ranked);
    for (int64_t i = 0; i < n_ranked; i++)
        assert_same_trial(&best.trials[i], ranked[i]);
    free(ranked);
    hps_results_free(&best);
    hps_results_free(&all);

    /* No done trial: none, and no best_rows attribute. */
    for (int64_t i = 0; i < f->n; i++) {
        f->trials[i].status = HPS_TRIAL_FAILED;
        f->trials[i].objective = NAN;
    }
    write_file(f);
    assert_int_equal(hps_results_open_best(f->path, 3, &best, NULL, 0), HPS_OK);
    assert_int_equal(best.n_trials, 0);
    assert_null(hps_results_best(&best));
    hps_results_free(&best);
}

/* Delete the ranking's attributes (a file written before it existed) and reseal. */
static void drop_ranking(const char *path)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Adelete(ds, "ranked_rows") >= 0);
    if (H5Aexists(ds, "best_rows") > 0)
        assert_true(H5Adelete(ds, "best_rows") >= 0);
    H5Dclose(ds);
    H5Fclose(file);
    char err[256];
    hps_h5err e = {err, sizeof err};
    assert_int_equal(hps_store_seal(path, &e), HPS_OK);
}

static void test_old_file(void **state)
{
    fix *f = *state;
    make_trials(f, 500, 15, 0);
    write_file(f);
    drop_ranking(f->path);
    hps_results r;
    char err[512] = "";
    assert_int_equal(hps_results_open_best(f->path, 1, &r, err, sizeof err), HPS_ENOSYS);
    assert_null(r.trials);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    assert_int_equal(r.n_trials, 500);
    assert_non_null(hps_results_best(&r));
    hps_results_free(&r);
}

/* A ranking naming a row that is not a done trial is not trusted. */
static void test_bad_ranking(void **state)
{
    fix *f = *state;
    make_trials(f, 500, 16, 0);
    f->trials[0].status = HPS_TRIAL_FAILED;
    f->trials[0].objective = NAN;
    write_file(f);
    hid_t file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    hid_t attr = H5Aopen(ds, "best_rows", H5P_DEFAULT);
    assert_true(ds >= 0 && attr >= 0);
    int64_t rows[HPS_STORE_BEST_ROWS] = {0}; /* row 0 failed */
    assert_true(H5Awrite(attr, H5T_NATIVE_INT64, rows) >= 0);
    H5Aclose(attr);
    H5Dclose(ds);
    H5Fclose(file);
    char err[256];
    hps_h5err e = {err, sizeof err};
    assert_int_equal(hps_store_seal(f->path, &e), HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open_best(f->path, 1, &r, NULL, 0), HPS_ENOSYS);
    assert_null(r.trials);
}

/* What test_each_trials's callback saw. */
typedef struct seen {
    const hps_results *all;
    int64_t rows, calls, max_block, stop_after;
} seen;

static int each(const hps_results *r, int64_t first, void *arg)
{
    seen *s = arg;
    assert_int_equal(first, s->rows);
    assert_true(r->n_trials > 0 && r->n_trials <= s->max_block);
    assert_int_equal(r->space.n_params, 2);
    for (int64_t i = 0; i < r->n_trials; i++) {
        const hps_trial *a = &r->trials[i], *b = &s->all->trials[first + i];
        assert_same_trial(a, b);
        assert_true(a->start == b->start);
        assert_true(a->end == b->end || (isnan(a->end) && isnan(b->end)));
        assert_int_equal(a->worker, b->worker);
        assert_int_equal(a->exit_code, b->exit_code);
    }
    s->rows += r->n_trials;
    return ++s->calls == s->stop_after ? HPS_EIO : HPS_OK;
}

/* hps_results_each_trials hands over every row once, in order, block by block. */
static void test_each_trials(void **state)
{
    fix *f = *state;
    make_trials(f, 3000, 17, 0);
    write_file(f);
    hps_results all, rest;
    assert_int_equal(hps_results_open(f->path, &all, NULL, 0), HPS_OK);
    const int64_t blocks[] = {1, 7, 1000, 2999, 3000, 100000};
    for (size_t j = 0; j < sizeof blocks / sizeof blocks[0]; j++) {
        seen s = {.all = &all, .max_block = blocks[j]};
        assert_int_equal(hps_results_each_trials(f->path, blocks[j], each, &s, &rest, NULL, 0),
                         HPS_OK);
        assert_int_equal(s.rows, 3000);
        assert_int_equal(s.calls, (3000 + blocks[j] - 1) / blocks[j]);
        assert_int_equal(rest.n_trials, 0);
        assert_null(rest.trials);
        assert_string_equal(rest.goal, "minimize");
        assert_int_equal(rest.space.n_params, 2);
        hps_results_free(&rest);
    }
    /* The callback's error stops the reading and is returned. */
    seen s = {.all = &all, .max_block = 100, .stop_after = 3};
    assert_int_equal(hps_results_each_trials(f->path, 100, each, &s, &rest, NULL, 0), HPS_EIO);
    assert_int_equal(s.calls, 3);
    assert_null(rest.trials);
    assert_int_equal(hps_results_each_trials(f->path, 0, each, &s, &rest, NULL, 0), HPS_EINVAL);
    hps_results_free(&all);

    /* No trial: the callback is never called; the rest of the file is there. */
    f->n = 0;
    write_file(f);
    seen none = {.max_block = 10};
    assert_int_equal(hps_results_each_trials(f->path, 10, each, &none, &rest, NULL, 0), HPS_OK);
    assert_int_equal(none.calls, 0);
    assert_string_equal(rest.name, "index");
    hps_results_free(&rest);
    /* A file that is not there. */
    assert_int_equal(hps_results_each_trials("/nonexistent/sweep.h5", 10, each, &none, &rest,
                                             NULL, 0),
                     HPS_ENOENT);
}

/* The status summary: absent without the sweep's facts or a journal beside the
 * file; with both, what status would count from the trials, and the rows it names
 * read back by hps_results_open_rows. */
static void test_summary(void **state)
{
    fix *f = *state;
    make_trials(f, 3000, 23, 0);
    int n_failed = 0;
    for (int64_t i = 0; i < f->n; i++) /* 20 causes: the last 4 count as others */
        if (f->trials[i].status == HPS_TRIAL_FAILED)
            snprintf(f->trials[i].cause, HPS_CAUSE_LEN, "exit:%d", n_failed++ % 20);
    hps_store_summary sum;
    write_file(f);
    assert_int_equal(hps_store_read_summary(f->path, &sum, NULL, 0), HPS_ENOSYS);
    hps_store_sweep_facts facts = {.best_id = 5, .max_trials = 4000, .max_time = 60.5,
                                   .max_resource = 0, .parallelism = 3};
    f->meta.facts = &facts;
    write_file(f); /* no journal beside it: still none */
    assert_int_equal(hps_store_read_summary(f->path, &sum, NULL, 0), HPS_ENOSYS);
    char jpath[128];
    snprintf(jpath, sizeof jpath, "%s/journal", f->dir);
    FILE *j = fopen(jpath, "w");
    assert_non_null(j);
    assert_int_equal(fputs("not really a journal", j) >= 0, 1);
    assert_int_equal(fclose(j), 0);
    write_file(f);
    char err[512] = "";
    assert_int_equal(hps_store_read_summary(f->path, &sum, err, sizeof err), HPS_OK);
    struct stat st;
    assert_int_equal(stat(jpath, &st), 0);
    assert_int_equal(sum.journal[0], st.st_size);
    assert_int_equal(sum.journal[1], (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
    assert_int_equal(sum.journal[2], (int64_t)st.st_ino);
    assert_int_equal(sum.facts.best_id, 5);
    assert_int_equal(sum.facts.max_trials, 4000);
    assert_true(sum.facts.max_time == 60.5 && sum.facts.parallelism == 3);
    int64_t counts[6] = {f->n, 0, 0, 0, 0, 0}, running = 0, last_failed[20];
    int nl = 0;
    double last = -INFINITY;
    for (int64_t i = 0; i < f->n; i++) {
        const hps_trial *t = &f->trials[i];
        counts[1] += t->status == HPS_TRIAL_DONE;
        counts[2] += t->status == HPS_TRIAL_RUNNING;
        counts[3] += t->status == HPS_TRIAL_FAILED;
        counts[5] += t->status == HPS_TRIAL_PRUNED;
        if (t->status == HPS_TRIAL_RUNNING)
            assert_int_equal(sum.running_rows[running++], i);
        if (t->status != HPS_TRIAL_RUNNING)
            last = fmax(last, t->end);
    }
    for (int64_t i = f->n - 1; i >= 0 && nl < 20; i--)
        if (f->trials[i].status == HPS_TRIAL_FAILED)
            last_failed[nl++] = i;
    for (int k = 0; k < 6; k++)
        assert_int_equal(sum.counts[k], counts[k]);
    assert_int_equal(sum.n_running_rows, counts[2]);
    assert_int_equal(sum.n_failed_rows, nl);
    for (int k = 0; k < nl; k++)
        assert_int_equal(sum.failed_rows[k], last_failed[k]);
    assert_int_equal(sum.n_causes, 16);
    int64_t in_causes = sum.other_causes;
    for (int k = 0; k < 16; k++) {
        char want[16];
        snprintf(want, sizeof want, "exit:%d", k);
        assert_string_equal(f->trials[sum.cause_rows[k]].cause, want);
        in_causes += sum.cause_counts[k];
    }
    assert_int_equal(in_causes, counts[3]);
    assert_true(sum.other_causes > 0);
    assert_true(sum.rate_last == last);
    int64_t in_window = 0;
    double first = last;
    for (int64_t i = 0; i < f->n; i++) {
        const hps_trial *t = &f->trials[i];
        if (t->status != HPS_TRIAL_RUNNING && t->end > last - HPS_STORE_RATE_WINDOW &&
            t->end <= last) {
            in_window++;
            first = fmin(first, t->start);
        }
    }
    assert_int_equal(sum.rate_n, in_window);
    assert_true(sum.rate_first == first && in_window > 100);
    hps_results r;
    assert_int_equal(hps_results_open_rows(f->path, sum.failed_rows, sum.n_failed_rows, &r, err,
                                           sizeof err),
                     HPS_OK);
    assert_int_equal(r.n_trials, nl);
    for (int k = 0; k < nl; k++)
        assert_same_trial(&r.trials[k], &f->trials[last_failed[k]]);
    hps_results_free(&r);
    hps_store_summary_free(&sum);
    hps_store_summary_free(NULL);
    unlink(jpath);
}

/* What test_each_trials_every_kind's callback compares against. */
typedef struct seen_all {
    const hps_results *all;
    int64_t rows;
} seen_all;

/* Every field of every trial as hps_results_open read it. */
static int each_whole(const hps_results *r, int64_t first, void *arg)
{
    seen_all *s = arg;
    assert_int_equal(first, s->rows);
    for (int64_t i = 0; i < r->n_trials; i++) {
        const hps_trial *a = &r->trials[i], *b = &s->all->trials[first + i];
        assert_same_row(a, b, 4);
        assert_null(a->stderr_tail);
        assert_true(a->prev_budget == 0);
    }
    s->rows += r->n_trials;
    return HPS_OK;
}

/*
 * Streamed blocks after the first are read as the file stores its rows
 * (results_raw.c), the first through HDF5's conversion: both give what
 * hps_results_open gives, for parameters of every type (float, int, categorical,
 * bool), seeds past INT64_MAX, negative brackets and exit codes, and causes.
 */
static void test_each_trials_every_kind(void **state)
{
    fix *f = *state;
    hps_choice choices[3] = {{.kind = HPS_CHOICE_STRING, .text = "adam"},
                             {.kind = HPS_CHOICE_STRING, .text = "sgd"},
                             {.kind = HPS_CHOICE_NUMBER, .text = "0.5", .number = 0.5}};
    hps_param params[4] = {
        {.name = "lr", .type = HPS_PARAM_FLOAT, .low = 1e-5, .high = 1, .log = 1},
        {.name = "layers", .type = HPS_PARAM_INT, .low = -3, .high = 1000000},
        {.name = "opt", .type = HPS_PARAM_CATEGORICAL, .n_choices = 3, .choices = choices},
        {.name = "bn", .type = HPS_PARAM_BOOL},
    };
    hps_space space = {.params = params, .n_params = 4};
    f->meta.space = &space;
    int64_t n = 2500;
    hps_trial *t = calloc((size_t)n, sizeof *t);
    double *v = calloc((size_t)n * 4, sizeof *v);
    assert_non_null(t);
    assert_non_null(v);
    static const char *const causes[] = {"", "exit:3", "signal:SIGKILL", "timeout", "nan"};
    srand(11);
    for (int64_t i = 0; i < n; i++) {
        t[i] = (hps_trial){.trial_id = i,
                           .status = (int32_t)(i % 5),
                           .seed = UINT64_MAX - (uint64_t)i * 0x9e3779b97f4a7c15ull,
                           .bracket = (int32_t)(i % 4) - 1,
                           .rung = (int32_t)(i % 3) - 1,
                           .budget = i % 2 ? 0 : (double)(i % 7) / 3,
                           .worker = (int32_t)(i % 9),
                           .start = 1.7e9 + (double)i / 7,
                           .end = i % 5 == 0 ? NAN : 1.7e9 + (double)i / 3,
                           .objective = i % 11 == 0 ? NAN : (double)rand() / RAND_MAX - 0.5,
                           .exit_code = (int32_t)(i % 6) - 2,
                           .attempts = (int32_t)(i % 4),
                           .values = &v[4 * i]};
        snprintf(t[i].cause, sizeof t[i].cause, "%s", causes[i % 5]);
        t[i].values[0] = ldexp((double)rand() / RAND_MAX, -(int)(i % 17));
        t[i].values[1] = (double)(rand() % 1000004) - 3;
        t[i].values[2] = (double)(i % 3);
        t[i].values[3] = (double)(i % 2);
    }
    char err[512] = "";
    int rc = hps_store_write(f->path, &f->meta, t, n, NULL, 0, NULL, 0, NULL, 0, err, sizeof err);
    if (rc != HPS_OK)
        print_message("hps_store_write: %s\n", err);
    assert_int_equal(rc, HPS_OK);
    hps_results all, rest;
    assert_int_equal(hps_results_open(f->path, &all, NULL, 0), HPS_OK);
    assert_int_equal(all.n_trials, n);
    const int64_t blocks[] = {1, 7, 1024, 1000, 2499};
    for (size_t j = 0; j < sizeof blocks / sizeof blocks[0]; j++) {
        seen_all s = {.all = &all};
        assert_int_equal(hps_results_each_trials(f->path, blocks[j], each_whole, &s, &rest, NULL, 0),
                         HPS_OK);
        assert_int_equal(s.rows, n);
        hps_results_free(&rest);
    }
    hps_results_free(&all);
    free(t);
    free(v);
}

int main(void)
{
    hps_store_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_minimize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maximize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_fidelity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_few, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ranking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_trials_every_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
