/*
 * The sweep that tests/unit/test_store.c writes and reads back: a space over every
 * parameter type, trials of every status (some with an exit code, retries and a
 * stderr tail), metrics and metadata, in a fresh temporary directory per test;
 * and the checks that compare what hps_results_open() read with what was written.
 * Included by test_store.c only, after cmocka.h.
 */
#ifndef HPS_TESTS_STORE_FIXTURE_H
#define HPS_TESTS_STORE_FIXTURE_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "engine/store.h"
#include "hps_version.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"

#define N_TRIALS 7
#define N_METRICS 9

/* A sweep to write: space, trials, metrics and metadata, all owned here. */
typedef struct fixture {
    char dir[256];
    char path[300];
    hps_space space;
    hps_trial trials[N_TRIALS];
    double values[N_TRIALS][8];
    hps_metric metrics[N_METRICS];
    const char *metric_names[2];
    hps_kv provenance[3];
    hps_store_meta meta;
} fixture;

static void add_param(hps_space *s, const char *name, hps_param_type type, double low, double high,
                      int log, int grid_points)
{
    hps_param *p = &s->params[s->n_params++];
    p->name = strdup(name);
    p->type = type;
    p->low = low;
    p->high = high;
    p->log = log;
    p->grid_points = grid_points;
}

static void add_choice(hps_param *p, hps_choice_kind kind, const char *text, double number)
{
    p->choices = realloc(p->choices, (size_t)(p->n_choices + 1) * sizeof *p->choices);
    assert_non_null(p->choices);
    p->choices[p->n_choices++] = (hps_choice){.kind = kind, .text = strdup(text), .number = number};
}

/* The mixed space: "seed" and "param.seed" exercise the /trials column-name rule. */
static void make_space(hps_space *s)
{
    s->params = calloc(8, sizeof *s->params);
    assert_non_null(s->params);
    add_param(s, "lr", HPS_PARAM_FLOAT, 1e-5, 1e-1, 1, 0);
    add_param(s, "momentum", HPS_PARAM_FLOAT, 0, 0.99, 0, 5);
    add_param(s, "layers", HPS_PARAM_INT, 1, 8, 0, 0);
    add_param(s, "optimizer", HPS_PARAM_CATEGORICAL, 0, 0, 0, 0);
    add_choice(&s->params[3], HPS_CHOICE_STRING, "adam", 0);
    add_choice(&s->params[3], HPS_CHOICE_STRING, "", 0);
    add_choice(&s->params[3], HPS_CHOICE_STRING, "<empty>", 0);
    add_choice(&s->params[3], HPS_CHOICE_STRING, "sgd", 0);
    add_param(s, "batch", HPS_PARAM_CATEGORICAL, 0, 0, 0, 0);
    add_choice(&s->params[4], HPS_CHOICE_NUMBER, "16", 16);
    add_choice(&s->params[4], HPS_CHOICE_NUMBER, "0.5", 0.5);
    add_choice(&s->params[4], HPS_CHOICE_BOOL, "true", 1);
    add_choice(&s->params[4], HPS_CHOICE_STRING, "32", 0);
    add_param(s, "augment", HPS_PARAM_BOOL, 0, 1, 0, 0);
    add_param(s, "seed", HPS_PARAM_INT, 0, 1000, 0, 0);
    add_param(s, "param.seed", HPS_PARAM_FLOAT, -1, 1, 0, 0);
}

static void make_dir(char *dir, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/hps_store_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    char p[512];
    while ((ent = readdir(d))) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    make_dir(f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/sweep.h5", f->dir);
    make_space(&f->space);

    static const int statuses[N_TRIALS] = {
        HPS_TRIAL_DONE,   HPS_TRIAL_RUNNING, HPS_TRIAL_FAILED, HPS_TRIAL_INTERRUPTED,
        HPS_TRIAL_PRUNED, HPS_TRIAL_DONE,    HPS_TRIAL_FAILED};
    static const char *const causes[N_TRIALS] = {
        "", "", "exit status 3", "interrupted by SIGTERM", "", "",
        /* 63 characters: the longest cause that fits with its terminator */
        "timeout after 3600 s; process group killed; stderr tail in log"};
    /* NULL and "" both mean no tail; /failures gets rows for trials 102 and 106. */
    static const char *const tails[N_TRIALS] = {
        NULL, NULL, "Traceback (most recent call last):\n  File \"train.py\"\nValueError: \xc3\xa9\n",
        "",   NULL, NULL, "CUDA out of memory\n"};
    static const int32_t exit_codes[N_TRIALS] = {0, -1, 3, -1, 0, 0, -1};
    for (int i = 0; i < N_TRIALS; i++) {
        hps_trial *t = &f->trials[i];
        t->trial_id = 100 + i;
        t->status = statuses[i];
        t->seed = UINT64_C(0xfedcba9876543210) + (uint64_t)i;
        t->bracket = i % 2 ? -1 : i / 2;
        t->rung = i % 3 - 1;
        t->budget = i * 2.5;
        t->worker = i + 1;
        t->start = 1.7e9 + i;
        t->end = statuses[i] == HPS_TRIAL_RUNNING ? NAN : 1.7e9 + i + 0.125;
        t->objective = statuses[i] == HPS_TRIAL_DONE ? 0.1 * i + 1.0 / 3 : NAN;
        snprintf(t->cause, sizeof t->cause, "%s", causes[i]);
        t->exit_code = exit_codes[i];
        t->attempts = i == 1 ? 0 : 1 + i % 3;
        t->stderr_tail = (char *)tails[i];
        double *v = f->values[i];
        v[0] = 1e-5 * pow(10, i * 0.5);
        v[1] = 0.99 / (i + 1);
        v[2] = 1 + i % 8;
        v[3] = i % 4;
        v[4] = (i + 1) % 4;
        v[5] = i % 2;
        v[6] = 997 - i;
        v[7] = -0.5 + 0.1 * i;
        t->values = v;
    }
    for (int i = 0; i < N_METRICS; i++)
        f->metrics[i] = (hps_metric){.trial_id = 100 + i / 2,
                                     .step = i,
                                     .resource = 0.5 * i,
                                     .name_index = i % 2,
                                     .value = 1.0 / (i + 1)};
    f->metric_names[0] = "loss";
    f->metric_names[1] = "accuracy (%)";
    f->provenance[0] = (hps_kv){"host", "node01"};
    f->provenance[1] = (hps_kv){"cuda.version", "12.2"};
    f->provenance[2] = (hps_kv){"git.commit", "0123abcd+dirty"};
    f->meta = (hps_store_meta){
        .name = "tune-resnet \xc3\xa9t\xc3\xa9",
        .seed = UINT64_C(18446744073709551557),
        .strategy = "hyperband",
        .objective = "command",
        .metric = "loss",
        .goal = "minimize",
        .status = "running",
        .created = "2024-05-01T10:00:00Z",
        .updated = "2024-05-01T11:30:00Z",
        .config_text = "name: tune-resnet\nspace:\n  lr: {type: float, log: true}\n",
        .space = &f->space,
        .n_provenance = 3,
        .provenance = f->provenance,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hps_space_free(&f->space);
    remove_dir(f->dir);
    free(f);
    return 0;
}

static int write_fixture(fixture *f, int64_t n_trials, int64_t n_metrics, int n_names)
{
    char err[512];
    int rc = hps_store_write(f->path, &f->meta, f->trials, n_trials, f->metrics, n_metrics,
                             f->metric_names, n_names, err, sizeof err);
    if (rc != HPS_OK)
        print_message("hps_store_write: %s: %s\n", hps_err_name(rc), err);
    return rc;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void assert_same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        assert_true(isnan(a) && isnan(b));
    else
        assert_true(a == b);
}

static void check_results(const fixture *f, const hps_results *r, int64_t n_trials,
                          int64_t n_metrics, int n_names)
{
    const hps_store_meta *m = &f->meta;
    assert_int_equal(r->format_version, HPS_STORE_FORMAT_VERSION);
    assert_string_equal(r->hpsweep_version, HPS_VERSION);
    assert_string_equal(r->name, m->name);
    assert_true(r->seed == m->seed);
    assert_string_equal(r->strategy, m->strategy);
    assert_string_equal(r->objective, m->objective);
    assert_string_equal(r->metric, m->metric);
    assert_string_equal(r->goal, m->goal);
    assert_string_equal(r->status, m->status);
    assert_string_equal(r->created, m->created);
    assert_string_equal(r->updated, m->updated);
    assert_string_equal(r->config_text, m->config_text);

    assert_int_equal(r->space.n_params, f->space.n_params);
    for (int i = 0; i < f->space.n_params; i++) {
        const hps_param *a = &f->space.params[i], *b = &r->space.params[i];
        assert_string_equal(b->name, a->name);
        assert_int_equal(b->type, a->type);
        assert_true(b->low == a->low && b->high == a->high);
        assert_int_equal(b->log, a->log);
        assert_int_equal(b->grid_points, a->grid_points);
        assert_int_equal(b->n_choices, a->n_choices);
        for (int k = 0; k < a->n_choices; k++) {
            assert_string_equal(b->choices[k].text, a->choices[k].text);
            assert_int_equal(b->choices[k].kind, a->choices[k].kind);
            assert_true(b->choices[k].number == a->choices[k].number);
        }
    }

    assert_int_equal(r->n_trials, n_trials);
    for (int64_t i = 0; i < n_trials; i++) {
        const hps_trial *a = &f->trials[i], *b = &r->trials[i];
        assert_int_equal(b->trial_id, a->trial_id);
        assert_int_equal(b->status, a->status);
        assert_true(b->seed == a->seed);
        assert_int_equal(b->bracket, a->bracket);
        assert_int_equal(b->rung, a->rung);
        assert_int_equal(b->worker, a->worker);
        assert_same_double(b->budget, a->budget);
        assert_same_double(b->start, a->start);
        assert_same_double(b->end, a->end);
        assert_same_double(b->objective, a->objective);
        assert_string_equal(b->cause, a->cause);
        assert_int_equal(b->exit_code, a->exit_code);
        assert_int_equal(b->attempts, a->attempts);
        if (a->stderr_tail && a->stderr_tail[0])
            assert_string_equal(b->stderr_tail, a->stderr_tail);
        else
            assert_null(b->stderr_tail);
        for (int k = 0; k < f->space.n_params; k++)
            assert_same_double(b->values[k], a->values[k]);
    }

    assert_int_equal(r->n_metrics, n_metrics);
    for (int64_t i = 0; i < n_metrics; i++) {
        const hps_metric *a = &f->metrics[i], *b = &r->metrics[i];
        assert_int_equal(b->trial_id, a->trial_id);
        assert_int_equal(b->step, a->step);
        assert_int_equal(b->name_index, a->name_index);
        assert_true(b->resource == a->resource && b->value == a->value);
    }
    assert_int_equal(r->n_metric_names, n_names);
    for (int i = 0; i < n_names; i++)
        assert_string_equal(r->metric_names[i], f->metric_names[i]);
}

/* Rows of the 1-D dataset name in path (its maximum, which must be unlimited, checked too). */
static int64_t table_rows(const char *path, const char *name)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t space = H5Dget_space(ds);
    hsize_t dims[1], maxdims[1];
    assert_int_equal(H5Sget_simple_extent_dims(space, dims, maxdims), 1);
    assert_true(maxdims[0] == H5S_UNLIMITED);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(file);
    return (int64_t)dims[0];
}

/* Whether /trials in path has a column called name. */
static int trials_has_column(const char *path, const char *name)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t type = H5Dget_type(ds);
    assert_true(type >= 0);
    int found = H5Tget_member_index(type, name) >= 0;
    H5Tclose(type);
    H5Dclose(ds);
    H5Fclose(file);
    return found;
}

#endif
