/*
 * Tests of the sweep.h5 writer (engine/store.c) and reader (engine/results.c):
 * a full round trip over every parameter type and trial status, the empty file,
 * crash-safe overwrite, the error codes for missing, corrupt and newer files, and
 * that h5dump and h5py/pandas read the file (skipped where those tools are absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

static void test_roundtrip(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    hps_results r;
    char err[512];
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);
    assert_null(r.trials);

    /* "seed" became "param.seed", so the parameter named that became "param.param.seed". */
    assert_true(trials_has_column(f->path, "seed"));
    assert_true(trials_has_column(f->path, "param.seed"));
    assert_true(trials_has_column(f->path, "param.param.seed"));
    assert_true(trials_has_column(f->path, "optimizer"));

    hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Aexists_by_name(file, "provenance", "cuda.version", H5P_DEFAULT) > 0);
    assert_true(H5Aexists_by_name(file, "provenance", "git.commit", H5P_DEFAULT) > 0);
    H5Fclose(file);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    assert_false(file_exists(tmp));
}

static void test_zero_trials(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, 0, 0, 0), HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, NULL, 0), HPS_OK);
    check_results(f, &r, 0, 0, 0);
    assert_null(r.trials);
    assert_null(r.metrics);
    hps_results_free(&r);

    hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t space = H5Dget_space(ds);
    hsize_t dims[1], maxdims[1];
    assert_int_equal(H5Sget_simple_extent_dims(space, dims, maxdims), 1);
    assert_true(dims[0] == 0 && maxdims[0] == H5S_UNLIMITED);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(file);
}

static void test_empty_space(void **state)
{
    fixture *f = *state;
    hps_space empty = {0};
    f->meta.space = &empty;
    f->meta.n_provenance = 0;
    for (int i = 0; i < N_TRIALS; i++)
        f->trials[i].values = NULL;
    assert_int_equal(write_fixture(f, N_TRIALS, 0, 0), HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, NULL, 0), HPS_OK);
    assert_int_equal(r.space.n_params, 0);
    assert_int_equal(r.n_trials, N_TRIALS);
    assert_null(r.trials[0].values);
    assert_string_equal(r.trials[2].cause, "exit status 3");
    hps_results_free(&r);
}

static void test_overwrite(void **state)
{
    fixture *f = *state;
    char tmp[320], err[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    assert_int_equal(write_fixture(f, 2, 0, 0), HPS_OK);
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, NULL, 0), HPS_OK);
    assert_int_equal(r.n_trials, N_TRIALS);
    hps_results_free(&r);
    assert_false(file_exists(tmp));

    /* A write that fails half-way (choice index 9 of 4) leaves the old file and no temp. */
    f->values[3][3] = 9;
    assert_int_equal(
        hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, NULL, 0, NULL, 0, err, sizeof err),
        HPS_EINVAL);
    assert_non_null(strstr(err, "optimizer"));
    assert_false(file_exists(tmp));
    f->values[3][3] = 3;
    assert_int_equal(hps_results_open(f->path, &r, NULL, 0), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);

    /* Nor does a missing directory leave anything behind. */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/no/such/dir/sweep.h5", f->dir);
    err[0] = '\0';
    assert_int_equal(
        hps_store_write(bad, &f->meta, f->trials, 1, NULL, 0, NULL, 0, err, sizeof err), HPS_EIO);
    assert_true(strlen(err) > 0);
    print_message("missing directory: %s\n", err);
    snprintf(bad, sizeof bad, "%s/no", f->dir);
    assert_false(file_exists(bad));
}

static void test_invalid_values(void **state)
{
    fixture *f = *state;
    char err[512];
    f->values[0][5] = 0.5; /* bool */
    assert_int_equal(
        hps_store_write(f->path, &f->meta, f->trials, 1, NULL, 0, NULL, 0, err, sizeof err),
        HPS_EINVAL);
    f->values[0][5] = 1;
    f->values[0][2] = NAN; /* int */
    assert_int_equal(
        hps_store_write(f->path, &f->meta, f->trials, 1, NULL, 0, NULL, 0, err, sizeof err),
        HPS_EINVAL);
    f->values[0][2] = 3;
    f->trials[0].status = 7;
    assert_int_equal(
        hps_store_write(f->path, &f->meta, f->trials, 1, NULL, 0, NULL, 0, err, sizeof err),
        HPS_EINVAL);
    assert_int_equal(hps_store_write(NULL, &f->meta, NULL, 0, NULL, 0, NULL, 0, err, sizeof err),
                     HPS_EINVAL);
    assert_false(file_exists(f->path));
}

static void test_missing(void **state)
{
    fixture *f = *state;
    hps_results r;
    char err[512];
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_ENOENT);
    assert_null(r.name);
}

static void test_corrupt(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    srand(42);
    for (int i = 0; i < 4096; i++)
        fputc(rand() & 0xff, fp);
    fclose(fp);
    hps_results r;
    char err[512];
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_ECORRUPT);
    assert_true(strlen(err) > 0);

    /* An HDF5 file that is not ours. */
    hid_t file = H5Fcreate(f->path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(file >= 0);
    H5Fclose(file);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_ECORRUPT);
    assert_non_null(strstr(err, "format_version"));

    /* One of ours with a table missing. */
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Ldelete(file, "metrics", H5P_DEFAULT) >= 0);
    H5Fclose(file);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_ECORRUPT);
    assert_non_null(strstr(err, "metrics"));
    assert_null(r.trials);
}

static void test_newer_version(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    hid_t file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t attr = H5Aopen(file, "format_version", H5P_DEFAULT);
    assert_true(attr >= 0);
    int v = HPS_STORE_FORMAT_VERSION + 1;
    assert_true(H5Awrite(attr, H5T_NATIVE_INT, &v) >= 0);
    H5Aclose(attr);
    H5Fclose(file);
    hps_results r;
    char err[512];
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_EVERSION);
    assert_non_null(strstr(err, "format_version"));
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(hps_trial_status_name(HPS_TRIAL_RUNNING), "running");
    assert_string_equal(hps_trial_status_name(HPS_TRIAL_DONE), "done");
    assert_string_equal(hps_trial_status_name(HPS_TRIAL_FAILED), "failed");
    assert_string_equal(hps_trial_status_name(HPS_TRIAL_INTERRUPTED), "interrupted");
    assert_string_equal(hps_trial_status_name(HPS_TRIAL_PRUNED), "pruned");
    assert_string_equal(hps_trial_status_name(5), "unknown");
    assert_string_equal(hps_trial_status_name(-1), "unknown");
    hps_results_free(NULL);
    hps_results r = {0};
    hps_results_free(&r);
}

static void test_h5dump(void **state)
{
    fixture *f = *state;
    if (system("command -v h5dump >/dev/null 2>&1") != 0)
        skip();
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "h5dump -H '%s' >/dev/null", f->path);
    assert_int_equal(system(cmd), 0);
}

/* The reader a data scientist would use: h5py + pandas, nothing of ours. */
static const char py_check[] =
    "import sys, h5py, numpy, pandas\n"
    "f = h5py.File(sys.argv[1], 'r')\n"
    "df = pandas.DataFrame(f['trials'][:])\n"
    "cols = ['trial_id', 'status', 'seed', 'bracket', 'rung', 'budget', 'worker', 'start',\n"
    "        'end', 'objective', 'cause', 'lr', 'momentum', 'layers', 'optimizer', 'batch',\n"
    "        'augment', 'param.seed', 'param.param.seed']\n"
    "assert list(df.columns) == cols, list(df.columns)\n"
    "assert len(df) == 7, len(df)\n"
    "assert df['augment'].dtype == numpy.bool_, df['augment'].dtype\n"
    "assert list(df['augment']) == [False, True] * 3 + [False]\n"
    "assert df['seed'].dtype == numpy.uint64\n"
    "assert list(df['param.seed']) == [997 - i for i in range(7)]\n"
    "assert df['cause'][2] == b'exit status 3', df['cause'][2]\n"
    "st = h5py.check_enum_dtype(f['trials'].dtype['status'])\n"
    "assert st == {'running': 0, 'done': 1, 'failed': 2, 'interrupted': 3, 'pruned': 4}, st\n"
    "opt = h5py.check_enum_dtype(f['trials'].dtype['optimizer'])\n"
    "assert sorted(opt, key=opt.get) == ['adam', '<empty>', '<empty>~1', 'sgd'], opt\n"
    "assert f.attrs['name'] == 'tune-resnet \\u00e9t\\u00e9', f.attrs['name']\n"
    "assert isinstance(f.attrs['goal'], str) and f.attrs['format_version'] == 1\n"
    "assert f['provenance'].attrs['cuda.version'] == '12.2'\n"
    "assert f['config'].asstr()[()].startswith('name: tune-resnet')\n"
    "assert list(f['metric_names'].asstr()[:]) == ['loss', 'accuracy (%)']\n"
    "m = pandas.DataFrame(f['metrics'][:])\n"
    "assert list(m.columns) == ['trial_id', 'step', 'resource', 'name_index', 'value']\n"
    "assert len(m) == 9\n"
    "sp = pandas.DataFrame(f['space'][:])\n"
    "assert sp['name'][7] == b'param.seed' and sp['choices'][3] == b'adam\\n\\n<empty>\\nsgd'\n";

static void test_h5py_pandas(void **state)
{
    fixture *f = *state;
    static const char *const pythons[] = {"python3", "/usr/bin/python3"};
    const char *python = NULL;
    char cmd[800];
    for (size_t i = 0; !python && i < sizeof pythons / sizeof pythons[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s -c 'import h5py, pandas' >/dev/null 2>&1", pythons[i]);
        if (system(cmd) == 0)
            python = pythons[i];
    }
    if (!python)
        skip();
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    char script[300];
    snprintf(script, sizeof script, "%s/check.py", f->dir);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    fputs(py_check, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "%s '%s' '%s'", python, script, f->path);
    assert_int_equal(system(cmd), 0);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 100,000 trials of 6 parameters and 100,000 metric rows: one pass, not one call per row. */
static void test_write_speed(void **state)
{
    fixture *f = *state;
    enum { N = 100000 };
    f->space.n_params = 6; /* lr, momentum, layers, optimizer, batch, augment */
    hps_trial *trials = calloc(N, sizeof *trials);
    double *values = calloc((size_t)N * 6, sizeof *values);
    hps_metric *metrics = calloc(N, sizeof *metrics);
    assert_true(trials && values && metrics);
    for (int i = 0; i < N; i++) {
        trials[i] = f->trials[i % N_TRIALS];
        trials[i].trial_id = i;
        trials[i].values = values + (size_t)i * 6;
        memcpy(trials[i].values, f->values[i % N_TRIALS], 6 * sizeof(double));
        metrics[i] = (hps_metric){.trial_id = i, .step = 1, .resource = 1, .value = i * 0.5};
    }
    char err[512];
    double t0 = now();
    int rc = hps_store_write(f->path, &f->meta, trials, N, metrics, N, f->metric_names, 2, err,
                             sizeof err);
    double t1 = now();
    assert_int_equal(rc, HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    double t2 = now();
    f->space.n_params = 8;
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    print_message("100000 trials x 6 params + 100000 metrics: write %.3f s, read %.3f s, "
                  "%.1f MB\n",
                  t1 - t0, t2 - t1, st.st_size / 1e6);
    assert_int_equal(r.n_trials, N);
    assert_int_equal(r.n_metrics, N);
    assert_int_equal(r.trials[N - 1].trial_id, N - 1);
    assert_true(r.trials[N - 1].values[3] == f->values[(N - 1) % N_TRIALS][3]);
    assert_true(r.metrics[N - 1].value == (N - 1) * 0.5);
    hps_results_free(&r);
    /* The time is printed, not asserted: tests run on a shared, noisy machine. */
    free(trials);
    free(values);
    free(metrics);
}

int main(void)
{
    hps_store_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_space, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h5dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h5py_pandas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_speed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
