/*
 * The sweep that tests/unit/test_store.c writes and reads back: a space over every
 * parameter type, trials of every status (some with an exit code, retries and a
 * stderr tail), the rungs of a Hyperband sweep (several per trial, every status),
 * metrics and metadata, in a fresh temporary directory per test;
 * the checks that compare what hps_results_open() read with what was written; and
 * make_old_trials(), which rewrites /trials the way older files had it, and
 * reseal(), which seals a file again after a test edited it.
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

#include "store/store.h"
#include "store/store_h5.h"
#include "hps_version.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"

#define N_TRIALS 7
#define N_METRICS 9
#define N_RUNGS 9

/* A sweep to write: space, trials, metrics and metadata, all owned here. */
typedef struct fixture {
    char dir[256];
    char path[300];
    hps_space space;
    hps_trial trials[N_TRIALS];
    double values[N_TRIALS][8];
    hps_metric metrics[N_METRICS];
    hps_rung rungs[N_RUNGS];
    int64_t n_rungs; /* rows write_fixture writes and check_results expects; N_RUNGS */
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
    /*
     * Trial 100 climbs three rungs; 104 is pruned at its second; 101 is still
     * running, listed after later trials (rows keep the order given).
     */
    static const struct {
        int64_t id;
        int32_t bracket, rung;
        double budget;
        int32_t status;
        double objective;
    } rung_rows[N_RUNGS] = {
        {100, 0, 0, 1, HPS_TRIAL_DONE, 0.875},
        {100, 0, 1, 3, HPS_TRIAL_DONE, 0.5},
        {100, 0, 2, 9, HPS_TRIAL_DONE, 1.0 / 3},
        {102, 1, 0, 3, HPS_TRIAL_FAILED, NAN},
        {103, 1, 0, 3, HPS_TRIAL_INTERRUPTED, NAN},
        {104, 2, 0, 9, HPS_TRIAL_DONE, -2.25},
        {104, 2, 1, 27, HPS_TRIAL_PRUNED, NAN},
        {105, 0, 1, 3, HPS_TRIAL_DONE, 1e300},
        {101, 0, 0, 1, HPS_TRIAL_RUNNING, NAN},
    };
    for (int i = 0; i < N_RUNGS; i++)
        f->rungs[i] = (hps_rung){
            .trial_id = rung_rows[i].id,
            .bracket = rung_rows[i].bracket,
            .rung = rung_rows[i].rung,
            .budget = rung_rows[i].budget,
            .status = rung_rows[i].status,
            .objective = rung_rows[i].objective,
            .start = 1.7e9 + 10 * i,
            .end = rung_rows[i].status == HPS_TRIAL_RUNNING ? NAN : 1.7e9 + 10 * i + 0.25,
            .worker = i % 3 + 1,
        };
    f->n_rungs = N_RUNGS;
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
                             f->metric_names, n_names, f->rungs, f->n_rungs, err, sizeof err);
    if (rc != HPS_OK)
        print_message("hps_store_write: %s: %s\n", hps_err_name(rc), err);
    return rc;
}

__attribute__((unused)) static int file_exists(const char *path)
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

__attribute__((unused)) static void check_results(const fixture *f, const hps_results *r, int64_t n_trials,
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

    /* /provenance comes back in name order, whatever order it was written in. */
    assert_int_equal(r->n_provenance, m->n_provenance);
    for (int i = 0; i < m->n_provenance; i++) {
        int found = 0;
        for (int k = 0; k < r->n_provenance; k++) {
            if (strcmp(r->provenance_keys[k], m->provenance[i].key) == 0) {
                assert_string_equal(r->provenance_values[k], m->provenance[i].value);
                found = 1;
            }
            if (k > 0)
                assert_true(strcmp(r->provenance_keys[k - 1], r->provenance_keys[k]) < 0);
        }
        assert_true(found);
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
    assert_int_equal(r->n_rungs, f->n_rungs);
    if (f->n_rungs == 0)
        assert_null(r->rungs);
    for (int64_t i = 0; i < f->n_rungs; i++) {
        const hps_rung *a = &f->rungs[i], *b = &r->rungs[i];
        assert_int_equal(b->trial_id, a->trial_id);
        assert_int_equal(b->bracket, a->bracket);
        assert_int_equal(b->rung, a->rung);
        assert_int_equal(b->status, a->status);
        assert_int_equal(b->worker, a->worker);
        assert_same_double(b->budget, a->budget);
        assert_same_double(b->objective, a->objective);
        assert_same_double(b->start, a->start);
        assert_same_double(b->end, a->end);
    }
    assert_int_equal(r->n_metric_names, n_names);
    for (int i = 0; i < n_names; i++)
        assert_string_equal(r->metric_names[i], f->metric_names[i]);
}

/* Rows of the 1-D dataset name in path (its maximum, which must be unlimited, checked too). */
__attribute__((unused)) static int64_t table_rows(const char *path, const char *name)
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
__attribute__((unused)) static int trials_has_column(const char *path, const char *name)
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

/*
 * Rewrite /trials of path as files written before exit_code and attempts existed:
 * without those columns, and with the column legacy_from renamed to legacy_to.
 */
/* After a test edited sweep.h5 with HDF5: seal it again, as if hpsweep had written
 * the file that way (an edit without this is damage; test_store_damage.c). */
static void reseal(const char *path)
{
    char err[256];
    hps_h5err e = {err, sizeof err};
    assert_int_equal(hps_store_seal(path, &e), HPS_OK);
}

__attribute__((unused)) static void make_old_trials(const char *path, const char *legacy_from, const char *legacy_to)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    hid_t ftype = H5Dget_type(ds), space = H5Dget_space(ds);
    assert_true(ds >= 0 && ftype >= 0 && space >= 0);
    int nmembers = H5Tget_nmembers(ftype);
    size_t size = 0;
    for (int i = 0; i < nmembers; i++) {
        hid_t mt = H5Tget_member_type(ftype, (unsigned)i);
        size += H5Tget_size(mt);
        H5Tclose(mt);
    }
    hid_t old = H5Tcreate(H5T_COMPOUND, size), renamed = H5Tcreate(H5T_COMPOUND, size);
    size_t off = 0;
    for (int i = 0; i < nmembers; i++) {
        char *name = H5Tget_member_name(ftype, (unsigned)i);
        hid_t mt = H5Tget_member_type(ftype, (unsigned)i);
        if (strcmp(name, "exit_code") != 0 && strcmp(name, "attempts") != 0) {
            assert_true(H5Tinsert(old, name, off, mt) >= 0);
            const char *to = strcmp(name, legacy_from) == 0 ? legacy_to : name;
            assert_true(H5Tinsert(renamed, to, off, mt) >= 0);
            off += H5Tget_size(mt);
        }
        H5Tclose(mt);
        H5free_memory(name);
    }
    assert_true(H5Tpack(old) >= 0 && H5Tpack(renamed) >= 0);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    void *buf = calloc((size_t)n + 1, H5Tget_size(old));
    assert_non_null(buf);
    assert_true(H5Dread(ds, old, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(ds);
    assert_true(H5Ldelete(file, "trials", H5P_DEFAULT) >= 0);
    hsize_t dims[1] = {(hsize_t)n};
    H5Sclose(space);
    space = H5Screate_simple(1, dims, NULL); /* contiguous: the reader does not mind */
    ds = H5Dcreate2(file, "trials", renamed, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dwrite(ds, renamed, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    free(buf);
    H5Dclose(ds);
    H5Tclose(renamed);
    H5Tclose(old);
    H5Sclose(space);
    H5Tclose(ftype);
    H5Fclose(file);
    reseal(path);
}

#endif
