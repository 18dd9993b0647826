/*
 * Tests of the sweep.h5 writer (engine/store.c) and reader (engine/results.c):
 * a full round trip over every parameter type and trial status, exit codes,
 * attempts and stderr tails (/failures), every rung of a Hyperband sweep (/rungs),
 * the empty file, crash-safe overwrite, files written before /failures, /rungs and
 * the exit_code/attempts columns existed, the file ending where its superblock
 * says, the error codes for missing, corrupt and newer files, and that h5dump and
 * h5py/pandas read the file (skipped where those tools are absent). The sweep
 * written is store_fixture.h's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "store_fixture.h"

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
    assert_true(trials_has_column(f->path, "exit_code"));
    assert_true(trials_has_column(f->path, "attempts"));
    assert_int_equal(table_rows(f->path, "failures"), 2);

    hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Aexists_by_name(file, "provenance", "cuda.version", H5P_DEFAULT) > 0);
    assert_true(H5Aexists_by_name(file, "provenance", "git.commit", H5P_DEFAULT) > 0);
    H5Fclose(file);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    assert_false(file_exists(tmp));

    /* The file ends where its superblock says (the end-of-file address at byte 28 of a
     * version 2/3 superblock, absolute: the user block included); the writer once
     * wrote 512 bytes past it and failed near a MiB boundary. */
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    unsigned char sb[8];
    assert_int_equal(fseek(fp, HPS_STORE_USERBLOCK + 28, SEEK_SET), 0);
    assert_int_equal(fread(sb, 1, sizeof sb, fp), sizeof sb);
    fclose(fp);
    uint64_t eof = 0;
    for (int i = 7; i >= 0; i--)
        eof = eof << 8 | sb[i];
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, eof);
}

static void test_zero_trials(void **state)
{
    fixture *f = *state;
    f->n_rungs = 0;
    assert_int_equal(write_fixture(f, 0, 0, 0), HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, NULL, 0), HPS_OK);
    check_results(f, &r, 0, 0, 0);
    assert_null(r.trials);
    assert_null(r.metrics);
    hps_results_free(&r);
    assert_int_equal(table_rows(f->path, "trials"), 0);
    assert_int_equal(table_rows(f->path, "failures"), 0);
    assert_int_equal(table_rows(f->path, "rungs"), 0);
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
    assert_int_equal(r.n_provenance, 0);
    assert_null(r.provenance_keys);
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
        hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, NULL, 0, NULL, 0, NULL, 0, err,
                        sizeof err),
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
        hps_store_write(bad, &f->meta, f->trials, 1, NULL, 0, NULL, 0, NULL, 0, err, sizeof err),
        HPS_EIO);
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
        hps_store_write(f->path, &f->meta, f->trials, 1, NULL, 0, NULL, 0, NULL, 0, err,
                        sizeof err),
        HPS_EINVAL);
    f->values[0][5] = 1;
    f->values[0][2] = NAN; /* int */
    assert_int_equal(
        hps_store_write(f->path, &f->meta, f->trials, 1, NULL, 0, NULL, 0, NULL, 0, err,
                        sizeof err),
        HPS_EINVAL);
    f->values[0][2] = 3;
    f->trials[0].status = 7;
    assert_int_equal(
        hps_store_write(f->path, &f->meta, f->trials, 1, NULL, 0, NULL, 0, NULL, 0, err,
                        sizeof err),
        HPS_EINVAL);
    f->trials[0].status = HPS_TRIAL_DONE;
    f->trials[0].attempts = -1;
    assert_int_equal(
        hps_store_write(f->path, &f->meta, f->trials, 1, NULL, 0, NULL, 0, NULL, 0, err,
                        sizeof err),
        HPS_EINVAL);
    assert_non_null(strstr(err, "attempts"));
    assert_int_equal(
        hps_store_write(NULL, &f->meta, NULL, 0, NULL, 0, NULL, 0, NULL, 0, err, sizeof err),
        HPS_EINVAL);
    assert_false(file_exists(f->path));
}

/* A string of n bytes cycling through the printable ASCII characters. */
static char *ascii_text(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(' ' + i % 95);
    s[n] = '\0';
    return s;
}

/* NULL and empty tails get no /failures row; longer than 2047 bytes is cut, not refused. */
static void test_failures(void **state)
{
    fixture *f = *state;
    const size_t max = HPS_STDERR_TAIL_LEN - 1;
    char *exact = ascii_text(max), *over = ascii_text(max + 100), *utf8 = ascii_text(max + 1);
    memcpy(utf8 + max - 1, "\xc3\xa9", 2); /* an e-acute straddling the cut */
    const int32_t codes[] = {INT32_MIN, -1, INT32_MAX, 137, 0};
    const int32_t attempts[] = {0, 1, INT32_MAX, 3, 2};
    char *tails[] = {NULL, "", exact, over, utf8};
    for (int i = 0; i < 5; i++) {
        f->trials[i].exit_code = codes[i];
        f->trials[i].attempts = attempts[i];
        f->trials[i].stderr_tail = tails[i];
    }
    assert_int_equal(write_fixture(f, 5, 0, 0), HPS_OK);
    assert_int_equal(table_rows(f->path, "failures"), 3);
    hps_results r;
    char err[512];
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r.trials[i].exit_code, codes[i]);
        assert_int_equal(r.trials[i].attempts, attempts[i]);
    }
    assert_null(r.trials[0].stderr_tail);
    assert_null(r.trials[1].stderr_tail);
    assert_string_equal(r.trials[2].stderr_tail, exact);
    assert_int_equal(strlen(r.trials[3].stderr_tail), max);
    assert_memory_equal(r.trials[3].stderr_tail, over, max);
    assert_int_equal(strlen(r.trials[4].stderr_tail), max - 1);
    assert_memory_equal(r.trials[4].stderr_tail, utf8, max - 1);
    hps_results_free(&r);

    /* No tails at all: /failures is still there, empty. */
    for (int i = 0; i < N_TRIALS; i++)
        f->trials[i].stderr_tail = NULL;
    assert_int_equal(write_fixture(f, N_TRIALS, 0, 0), HPS_OK);
    assert_int_equal(table_rows(f->path, "failures"), 0);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, 0, 0);
    hps_results_free(&r);
    free(exact);
    free(over);
    free(utf8);
}

static void test_old_layout(void **state)
{
    fixture *f = *state;
    hps_results r;
    char err[512];
    /* A parameter named like a new fixed column: "param.attempts" now, "attempts" before. */
    free(f->space.params[2].name);
    f->space.params[2].name = strdup("attempts");
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    assert_true(trials_has_column(f->path, "param.attempts"));

    /* Without /failures and /rungs: the tails and rungs are gone, nothing else. */
    hid_t file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Ldelete(file, "failures", H5P_DEFAULT) >= 0);
    assert_true(H5Ldelete(file, "rungs", H5P_DEFAULT) >= 0);
    H5Fclose(file);
    reseal(f->path);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    assert_int_equal(r.n_rungs, 0);
    assert_null(r.rungs);
    for (int i = 0; i < N_TRIALS; i++) {
        assert_null(r.trials[i].stderr_tail);
        assert_int_equal(r.trials[i].exit_code, f->trials[i].exit_code);
        assert_int_equal(r.trials[i].attempts, f->trials[i].attempts);
    }
    hps_results_free(&r);

    /* Nor the two /trials columns: the defaults, and the parameter keeps its values. */
    make_old_trials(f->path, "param.attempts", "attempts");
    assert_false(trials_has_column(f->path, "exit_code"));
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    for (int i = 0; i < N_TRIALS; i++) {
        f->trials[i].exit_code = -1;
        f->trials[i].attempts = 0;
        f->trials[i].stderr_tail = NULL;
    }
    f->n_rungs = 0;
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);
}

/*
 * Every rung a trial ran, in the order given: trial 100's three rungs, every
 * status, NaN objectives and end; none at all; and the invalid ones refused.
 */
static void test_rungs(void **state)
{
    fixture *f = *state;
    hps_results r;
    char err[512];
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    assert_int_equal(table_rows(f->path, "rungs"), N_RUNGS);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    int of_100 = 0, seen[HPS_TRIAL_PRUNED + 1] = {0};
    for (int64_t i = 0; i < r.n_rungs; i++) {
        of_100 += r.rungs[i].trial_id == 100;
        seen[r.rungs[i].status]++;
    }
    assert_int_equal(of_100, 3);
    for (int s = HPS_TRIAL_RUNNING; s <= HPS_TRIAL_PRUNED; s++)
        assert_true(seen[s] > 0);
    assert_int_equal(r.rungs[2].rung, 2);
    assert_true(r.rungs[2].budget == 9 && r.rungs[2].objective == 1.0 / 3);
    assert_true(isnan(r.rungs[6].objective) && r.rungs[6].status == HPS_TRIAL_PRUNED);
    assert_true(isnan(r.rungs[8].end) && r.rungs[8].trial_id == 101);
    hps_results_free(&r);
    assert_null(r.rungs);
    assert_int_equal(r.n_rungs, 0);

    /* None: /rungs is there, empty, and reads back as no rungs. */
    f->n_rungs = 0;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    assert_int_equal(table_rows(f->path, "rungs"), 0);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);

    /* A file written before /rungs existed reads as one with none. */
    f->n_rungs = N_RUNGS;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    hid_t file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Ldelete(file, "rungs", H5P_DEFAULT) >= 0);
    assert_true(H5Fclose(file) >= 0);
    reseal(f->path);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    assert_int_equal(r.format_version, 1);
    f->n_rungs = 0;
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);

    /* A status out of range, or rows without an array, are refused; the old file stays. */
    f->n_rungs = N_RUNGS;
    f->rungs[4].status = HPS_TRIAL_PRUNED + 1;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_EINVAL);
    f->rungs[4].status = -1;
    assert_int_equal(hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, NULL, 0, NULL, 0,
                                     f->rungs, N_RUNGS, err, sizeof err),
                     HPS_EINVAL);
    assert_non_null(strstr(err, "trial 103 rung 0: invalid status -1"));
    f->rungs[4].status = HPS_TRIAL_INTERRUPTED;
    assert_int_equal(hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, NULL, 0, NULL, 0,
                                     NULL, 2, err, sizeof err),
                     HPS_EINVAL);
    assert_int_equal(hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, NULL, 0, NULL, 0,
                                     f->rungs, -1, err, sizeof err),
                     HPS_EINVAL);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    assert_int_equal(r.n_rungs, 0);
    hps_results_free(&r);
}

/* Write the fixture with its first cm metric rows and cr rung rows taken from the
 * file at f->path (hps_store_write_carry); err gets the message. */
static int write_carry(fixture *f, int64_t cm, int64_t cr, char *err, size_t errlen)
{
    hps_store_carry c = {.metrics = cm, .rungs = cr};
    return hps_store_write_carry(f->path, &f->meta, &c, f->trials, N_TRIALS, f->metrics + cm,
                                 N_METRICS - cm, f->metric_names, 2, f->rungs + cr,
                                 f->n_rungs - cr, err, errlen);
}

/* The metric and rung rows an earlier write put in the file are copied from it:
 * the caller passes only the rows after them, and the file reads back as a whole
 * write. */
static void test_carry_rows(void **state)
{
    fixture *f = *state;
    char err[512];
    assert_int_equal(hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, f->metrics, 4,
                                     f->metric_names, 2, f->rungs, 5, err, sizeof err),
                     HPS_OK);
    assert_int_equal(write_carry(f, 4, 5, err, sizeof err), HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);
    assert_int_equal(table_rows(f->path, "metrics"), N_METRICS);
    assert_int_equal(table_rows(f->path, "rungs"), N_RUNGS);
    /* Again with every row carried (nothing new in memory), then metrics only. */
    assert_int_equal(write_carry(f, N_METRICS, N_RUNGS, err, sizeof err), HPS_OK);
    assert_int_equal(write_carry(f, 3, 0, err, sizeof err), HPS_OK);
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);
}

/* Enough carried rows for whole chunks (1,024 metric rows each): those are copied
 * as stored, the partial chunk after them row by row; the table reads back the
 * same as one written whole from memory. */
static void test_carry_chunks(void **state)
{
    fixture *f = *state;
    enum { ROWS = 3000, CARRIED = 2500 };
    char err[512];
    hps_metric *m = calloc(ROWS, sizeof *m);
    assert_non_null(m);
    for (int i = 0; i < ROWS; i++)
        m[i] = (hps_metric){.trial_id = i / 3, .step = i % 3, .resource = 0.25 * i,
                            .name_index = i % 2, .value = i % 7 == 0 ? NAN : 1.0 / (i + 1)};
    assert_int_equal(hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, m, CARRIED,
                                     f->metric_names, 2, f->rungs, f->n_rungs, err, sizeof err),
                     HPS_OK);
    hps_store_carry c = {.metrics = CARRIED, .rungs = f->n_rungs};
    assert_int_equal(hps_store_write_carry(f->path, &f->meta, &c, f->trials, N_TRIALS,
                                           m + CARRIED, ROWS - CARRIED, f->metric_names, 2,
                                           NULL, 0, err, sizeof err),
                     HPS_OK);
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    assert_int_equal(r.n_metrics, ROWS);
    for (int i = 0; i < ROWS; i++) {
        assert_int_equal(r.metrics[i].trial_id, m[i].trial_id);
        assert_int_equal(r.metrics[i].step, m[i].step);
        assert_int_equal(r.metrics[i].name_index, m[i].name_index);
        assert_true(r.metrics[i].resource == m[i].resource);
        assert_true(isnan(m[i].value) ? isnan(r.metrics[i].value)
                                       : r.metrics[i].value == m[i].value);
    }
    assert_int_equal(r.n_rungs, f->n_rungs);
    hps_results_free(&r);
    free(m);
}

/* The /failures rows of trials whose tail the caller let go of come from the
 * earlier file, merged in trial order with the tails still given. */
static void test_carry_failures(void **state)
{
    fixture *f = *state;
    char err[512];
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    int64_t ids[N_TRIALS];
    int n_ids = 0, first = -1;
    char *kept[N_TRIALS];
    for (int i = 0; i < N_TRIALS; i++) {
        kept[i] = f->trials[i].stderr_tail;
        if (kept[i] && kept[i][0] && first < 0)
            first = i; /* this one keeps its tail: a row from memory */
        else if (kept[i] && kept[i][0]) {
            ids[n_ids++] = f->trials[i].trial_id;
            f->trials[i].stderr_tail = NULL;
        }
    }
    assert_true(first >= 0 && n_ids >= 1);
    hps_store_carry c = {.failures = ids, .n_failures = n_ids};
    assert_int_equal(hps_store_write_carry(f->path, &f->meta, &c, f->trials, N_TRIALS,
                                           f->metrics, N_METRICS, f->metric_names, 2, f->rungs,
                                           f->n_rungs, err, sizeof err),
                     HPS_OK);
    for (int i = 0; i < N_TRIALS; i++)
        f->trials[i].stderr_tail = kept[i];
    hps_results r;
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);

    /* A trial the earlier file has no row of: refused before the file is touched. */
    int64_t none[1] = {f->trials[0].trial_id};
    assert_true(!kept[0] || !kept[0][0]);
    c = (hps_store_carry){.failures = none, .n_failures = 1};
    assert_int_equal(hps_store_write_carry(f->path, &f->meta, &c, f->trials, N_TRIALS,
                                           f->metrics, N_METRICS, f->metric_names, 2, f->rungs,
                                           f->n_rungs, err, sizeof err),
                     HPS_EDAMAGED);
    assert_non_null(strstr(err, "no /failures row of trial 100"));
    assert_int_equal(hps_results_open(f->path, &r, err, sizeof err), HPS_OK);
    check_results(f, &r, N_TRIALS, N_METRICS, 2);
    hps_results_free(&r);
}

/* A file that cannot supply the carried rows is refused before anything is
 * written, with a code that tells the caller to take them from elsewhere. */
static void test_carry_refused(void **state)
{
    fixture *f = *state;
    char err[512], tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    assert_int_equal(write_carry(f, 4, 0, err, sizeof err), HPS_ENOENT);
    assert_false(file_exists(f->path));
    assert_false(file_exists(tmp));

    /* Fewer rows than carried. */
    assert_int_equal(hps_store_write(f->path, &f->meta, f->trials, N_TRIALS, f->metrics, 3,
                                     f->metric_names, 2, f->rungs, f->n_rungs, err, sizeof err),
                     HPS_OK);
    assert_int_equal(write_carry(f, 4, 0, err, sizeof err), HPS_EDAMAGED);
    assert_non_null(strstr(err, "/metrics has 3 rows"));
    assert_int_equal(table_rows(f->path, "metrics"), 3);
    hps_store_carry too_many = {.rungs = N_RUNGS + 1};
    assert_int_equal(hps_store_write_carry(f->path, &f->meta, &too_many, f->trials, N_TRIALS,
                                           f->metrics, 3, f->metric_names, 2, NULL, 0, err,
                                           sizeof err),
                     HPS_EDAMAGED);
    assert_non_null(strstr(err, "/rungs has 9 rows"));

    /* Another sweep's file (created differs). */
    const char *created = f->meta.created;
    f->meta.created = "2001-01-01T00:00:00Z";
    assert_int_equal(write_carry(f, 2, 0, err, sizeof err), HPS_EDAMAGED);
    assert_non_null(strstr(err, "created"));
    f->meta.created = created;

    /* A damaged file: one byte of the HDF5 data changed breaks the seal. */
    FILE *fp = fopen(f->path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, HPS_STORE_USERBLOCK + 600, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, HPS_STORE_USERBLOCK + 600, SEEK_SET), 0);
    assert_int_not_equal(fputc(c ^ 0x55, fp), EOF);
    fclose(fp);
    assert_int_equal(write_carry(f, 2, 0, err, sizeof err), HPS_EDAMAGED);
    assert_false(file_exists(tmp));
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
    reseal(f->path);
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
    reseal(f->path);
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
    "        'end', 'objective', 'cause', 'exit_code', 'attempts', 'lr', 'momentum', 'layers',\n"
    "        'optimizer', 'batch', 'augment', 'param.seed', 'param.param.seed']\n"
    "assert list(df.columns) == cols, list(df.columns)\n"
    "assert len(df) == 7, len(df)\n"
    "assert df['augment'].dtype == numpy.bool_, df['augment'].dtype\n"
    "assert list(df['augment']) == [False, True] * 3 + [False]\n"
    "assert df['seed'].dtype == numpy.uint64\n"
    "assert list(df['param.seed']) == [997 - i for i in range(7)]\n"
    "assert df['cause'][2] == b'exit status 3', df['cause'][2]\n"
    "assert df['exit_code'].dtype == numpy.int32 and list(df['exit_code'])[:3] == [0, -1, 3]\n"
    "assert list(df['attempts']) == [1, 0, 3, 1, 2, 3, 1], list(df['attempts'])\n"
    "fl = pandas.DataFrame(f['failures'][:])\n"
    "assert list(fl.columns) == ['trial_id', 'exit_code', 'attempts', 'stderr_tail']\n"
    "assert list(fl['trial_id']) == [102, 106] and list(fl['exit_code']) == [3, -1]\n"
    "assert f['failures'].dtype['stderr_tail'].itemsize == 2048\n"
    "assert fl['stderr_tail'][1] == b'CUDA out of memory\\n', fl['stderr_tail'][1]\n"
    "assert fl['stderr_tail'][0].decode().endswith('ValueError: \\u00e9\\n')\n"
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
    "rg = pandas.DataFrame(f['rungs'][:])\n"
    "assert list(rg.columns) == ['trial_id', 'bracket', 'rung', 'budget', 'status',\n"
    "                            'objective', 'start', 'end', 'worker'], list(rg.columns)\n"
    "assert len(rg) == 9 and list(rg['trial_id'][:3]) == [100, 100, 100]\n"
    "assert list(rg['rung'][:3]) == [0, 1, 2] and list(rg['budget'][:3]) == [1.0, 3.0, 9.0]\n"
    "assert rg['bracket'].dtype == numpy.int32 and rg['worker'].dtype == numpy.int32\n"
    "assert list(rg['status']) == [1, 1, 1, 2, 3, 1, 4, 1, 0], list(rg['status'])\n"
    "assert rg['objective'][3] != rg['objective'][3] and rg['objective'][5] == -2.25\n"
    "assert rg['end'][8] != rg['end'][8] and rg['start'][8] == 1.7e9 + 80\n"
    "rs = h5py.check_enum_dtype(f['rungs'].dtype['status'])\n"
    "assert rs == st, rs\n"
    "assert f['rungs'].maxshape == (None,) and f['rungs'].chunks is not None\n"
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
    int rc = hps_store_write(f->path, &f->meta, trials, N, metrics, N, f->metric_names, 2,
                             f->rungs, N_RUNGS, err, sizeof err);
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
    /* /failures spans several write and read blocks: 2 trials in every 7 have a tail. */
    assert_string_equal(r.trials[N - 3].stderr_tail, f->trials[(N - 3) % N_TRIALS].stderr_tail);
    assert_null(r.trials[N - 1].stderr_tail);
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
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rungs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_carry_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_carry_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_carry_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_carry_refused, setup, teardown),
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
