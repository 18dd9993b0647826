/*
 * Unit tests for the trainer's datasets (workers/trainer/dataset.c, loader.c,
 * synth.c): hps_dataset_check accepts good classification and regression files
 * and rejects each kind of bad one with a message that names the file and the
 * dataset inside it (wrong types and ranks, missing groups, NaN/Inf -- also past
 * the first read chunk --, labels out of range, a single class, empty, D or type
 * mismatch between train and val); its SHA-256 matches sha256sum. The synthetic
 * generator is deterministic, balanced, and leaves nothing behind on error. The
 * per-rank loader hands each rank exactly its slice of every global batch (the
 * union over ranks is the batch, for G = 1, 2, 3, from memory and from sorted
 * block reads), and the validation slices partition /val.
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

#include "trainer/dataset.h"
#include "hpsweep/error.h"
#include "trainer/loader.h"
#include "trainer/trainer.h"
#include "trainer_fixture.h"

static char dir[512];

static int setup_dir(void **state)
{
    (void)state;
    make_tmpdir(dir, sizeof dir, "dataset");
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    rm_tree(dir);
    return 0;
}

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* ---- a configurable small file ------------------------------------------------------------ */

typedef struct spec {
    int n_train, n_val, d, d_val;
    int x_f64;          /* /train/X as float64 */
    int x_1d_int;       /* /train/X as 1-D int32 */
    int y_f64;          /* /train/y as float64 */
    int y_cols;         /* /train/y columns (0: 1-D) */
    int y_rows_off;     /* /train/y has this many rows fewer */
    int val_y_float;    /* /val/y float32 instead of int32 */
    int no_val;         /* no /val group */
    int train_x_group;  /* /train/X is a group */
    int classes_attr;   /* /train/y attribute classes (0: none) */
    int bad_label;      /* put this label at /train/y row 3 (0: none) */
    int all_zero;       /* every label 0 */
    int nan_val_row;    /* NaN at /val/X row 2, column 1 */
} spec;

static void write_spec(const char *path, const spec *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    for (int split = 0; split < 2; split++) {
        if (split == 1 && s->no_val)
            break;
        int n = split ? s->n_val : s->n_train, d = split ? s->d_val : s->d;
        float *X = calloc((size_t)(n * d + 1), sizeof(float));
        double *Xd = calloc((size_t)(n * d + 1), sizeof(double));
        int32_t *y = calloc((size_t)n + 1, sizeof(int32_t));
        float *yf = calloc((size_t)n + 1, sizeof(float));
        double *ydd = calloc((size_t)(n * 3 + 1), sizeof(double));
        assert_true(X && Xd && y && yf && ydd);
        for (int i = 0; i < n * d; i++)
            Xd[i] = X[i] = (float)(i % 17) * 0.1f;
        for (int i = 0; i < n; i++) {
            y[i] = s->all_zero ? 0 : i % 3;
            yf[i] = (float)i;
        }
        if (split == 0 && s->bad_label)
            y[3] = s->bad_label;
        if (split == 1 && s->nan_val_row)
            X[2 * d + 1] = NAN;
        const char *xn = split ? "/val/X" : "/train/X", *yn = split ? "/val/y" : "/train/y";
        if (split == 0 && s->train_x_group) {
            hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            hid_t g2 = H5Gcreate2(g, "X", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Gclose(g2);
            H5Gclose(g);
        } else if (split == 0 && s->x_1d_int) {
            h5_put(f, xn, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, (hsize_t)n, 0, y);
        } else if (split == 0 && s->x_f64) {
            h5_put(f, xn, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, (hsize_t)n, (hsize_t)d, Xd);
        } else {
            h5_put(f, xn, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, (hsize_t)n, (hsize_t)d, X);
        }
        int ny = split ? n : n - s->y_rows_off;
        if (split == 0 && s->y_f64)
            h5_put(f, yn, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, (hsize_t)ny, 0, ydd);
        else if (split == 0 && s->y_cols)
            h5_put(f, yn, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, (hsize_t)ny,
                   (hsize_t)s->y_cols, ydd);
        else if (split == 1 && s->val_y_float)
            h5_put(f, yn, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, (hsize_t)ny, 0, yf);
        else
            h5_put(f, yn, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, (hsize_t)ny, 0, y);
        if (split == 0 && s->classes_attr) {
            hid_t ds = H5Dopen2(f, yn, H5P_DEFAULT);
            hid_t sp = H5Screate(H5S_SCALAR);
            hid_t a = H5Acreate2(ds, "classes", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT);
            assert_true(a >= 0 && H5Awrite(a, H5T_NATIVE_INT, &s->classes_attr) >= 0);
            H5Aclose(a);
            H5Sclose(sp);
            H5Dclose(ds);
        }
        free(X);
        free(Xd);
        free(y);
        free(yf);
        free(ydd);
    }
    H5Fclose(f);
}

static spec good_spec(void)
{
    spec s;
    memset(&s, 0, sizeof s);
    s.n_train = 10;
    s.n_val = 6;
    s.d = s.d_val = 3;
    return s;
}

/* Write s, check it, expect rc and (when rc != OK) a message "<path>: <expected>". */
static void check_rejects(const spec *s, int rc, const char *expected)
{
    char path[600], err[512], want[1200];
    path_of(path, sizeof path, "data.h5");
    write_spec(path, s);
    hps_dataset_info info;
    int got = hps_dataset_check(path, &info, err, sizeof err);
    assert_int_equal(got, rc);
    if (expected) {
        snprintf(want, sizeof want, "%s: %s", path, expected);
        assert_string_equal(err, want);
    }
}

static void test_check_good(void **state)
{
    (void)state;
    spec s = good_spec();
    char path[600], err[512] = "";
    path_of(path, sizeof path, "data.h5");
    write_spec(path, &s);
    hps_dataset_info info;
    assert_int_equal(hps_dataset_check(path, &info, err, sizeof err), HPS_OK);
    assert_int_equal(info.n_train, 10);
    assert_int_equal(info.n_val, 6);
    assert_int_equal(info.features, 3);
    assert_int_equal(info.task, HPS_TASK_CLASSIFY);
    assert_int_equal(info.classes, 3);
    /* The digest is the file's: compare with coreutils. */
    char cmd[700], line[200] = "";
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof line, p));
    pclose(p);
    assert_int_equal(strlen(info.sha256), 64);
    assert_memory_equal(line, info.sha256, 64);

    /* The attribute sets the class count above the labels seen. */
    s.classes_attr = 7;
    write_spec(path, &s);
    assert_int_equal(hps_dataset_check(path, &info, err, sizeof err), HPS_OK);
    assert_int_equal(info.classes, 7);
}

static void test_check_regression(void **state)
{
    (void)state;
    char path[600], err[512];
    path_of(path, sizeof path, "reg.h5");
    for (int y2 = 0; y2 < 2; y2++) {
        write_regression(path, 30, 10, 4, y2);
        hps_dataset_info info;
        assert_int_equal(hps_dataset_check(path, &info, err, sizeof err), HPS_OK);
        assert_int_equal(info.task, HPS_TASK_REGRESS);
        assert_int_equal(info.classes, 0);
        assert_int_equal(info.features, 4);
    }
    /* An Inf target is named. */
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "/val/y", H5P_DEFAULT);
    float y[10];
    assert_true(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    y[7] = INFINITY;
    assert_true(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    H5Dclose(ds);
    H5Fclose(f);
    assert_int_equal(hps_dataset_check(path, NULL, err, sizeof err), HPS_ECORRUPT);
    assert_non_null(strstr(err, "/val/y: non-finite target (inf) at row 7"));
}

static void test_check_bad(void **state)
{
    (void)state;
    spec s;
    s = good_spec(), s.x_1d_int = 1;
    check_rejects(&s, HPS_ECORRUPT, "/train/X: expected 2-D float32, got 1-D int32");
    s = good_spec(), s.x_f64 = 1;
    check_rejects(&s, HPS_ECORRUPT, "/train/X: expected 2-D float32, got 2-D float64");
    s = good_spec(), s.y_f64 = 1;
    check_rejects(&s, HPS_ECORRUPT,
                 "/train/y: expected 1-D int32 labels or float32 targets (or one column), got "
                 "1-D float64");
    s = good_spec(), s.y_cols = 3;
    check_rejects(&s, HPS_ECORRUPT,
                 "/train/y: expected 1-D int32 labels or float32 targets (or one column), got "
                 "2-D float64 with several columns");
    s = good_spec(), s.y_rows_off = 1;
    check_rejects(&s, HPS_ECORRUPT, "/train/y: 9 rows, /train/X has 10");
    s = good_spec(), s.d_val = 4;
    check_rejects(&s, HPS_ECORRUPT, "/val/X: 4 features, /train/X has 3");
    s = good_spec(), s.val_y_float = 1;
    check_rejects(&s, HPS_ECORRUPT, "/val/y: float32 targets, but /train/y is int32 labels");
    s = good_spec(), s.no_val = 1;
    check_rejects(&s, HPS_ECORRUPT, "/val/X: missing (no group /val)");
    s = good_spec(), s.train_x_group = 1;
    check_rejects(&s, HPS_ECORRUPT, "/train/X: not a dataset");
    s = good_spec(), s.nan_val_row = 1;
    check_rejects(&s, HPS_ECORRUPT, "/val/X: non-finite value (nan) at row 2, column 1");
    s = good_spec(), s.bad_label = -1;
    check_rejects(&s, HPS_ECORRUPT, "/train/y: negative label -1 at row 3");
    s = good_spec(), s.bad_label = 5, s.classes_attr = 3;
    check_rejects(&s, HPS_ECORRUPT,
                 "/train/y: label 5 at row 3 is outside [0, 3) (attribute 'classes')");
    s = good_spec(), s.bad_label = 70000;
    check_rejects(&s, HPS_ECORRUPT,
                 "/train/y: label 70000 at row 3 means 70001 classes (at most 65536)");
    s = good_spec(), s.all_zero = 1;
    check_rejects(&s, HPS_ECORRUPT,
                 "/train/y: every label is 0: classification needs at least 2 classes");
    s = good_spec(), s.n_train = 0;
    check_rejects(&s, HPS_ECORRUPT, "/train/X: empty (0 x 3)");

    char path[600], err[512];
    path_of(path, sizeof path, "absent.h5");
    assert_int_equal(hps_dataset_check(path, NULL, err, sizeof err), HPS_ENOENT);
    path_of(path, sizeof path, "text.h5");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not hdf5\n", f);
    fclose(f);
    assert_int_equal(hps_dataset_check(path, NULL, err, sizeof err), HPS_ECORRUPT);
    char want[700];
    snprintf(want, sizeof want, "%s: not an HDF5 file", path);
    assert_string_equal(err, want);
}

/* A NaN in the last row of a file larger than one read chunk is still found. */
static void test_check_chunked(void **state)
{
    (void)state;
    char path[600], err[512];
    path_of(path, sizeof path, "big.h5");
    const int n = 70000, d = 16; /* 4.5 MB of X: more than one 4 MiB chunk */
    float *X = malloc(sizeof(float) * (size_t)n * d);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
    assert_non_null(X);
    assert_non_null(y);
    for (int i = 0; i < n * d; i++)
        X[i] = 0.5f;
    for (int i = 0; i < n; i++)
        y[i] = i % 2;
    X[(size_t)(n - 1) * d + 15] = -INFINITY;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_put(f, "/train/X", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, n, d, X);
    h5_put(f, "/train/y", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, n, 0, y);
    h5_put(f, "/val/X", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, 10, d, X);
    h5_put(f, "/val/y", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, 10, 0, y);
    H5Fclose(f);
    assert_int_equal(hps_dataset_check(path, NULL, err, sizeof err), HPS_ECORRUPT);
    assert_non_null(strstr(err, "/train/X: non-finite value (-inf) at row 69999, column 15"));
    free(X);
    free(y);
}

static void read_split(const char *path, const char *name, hid_t type, void *buf)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(ds);
    H5Fclose(f);
}

static void test_synth(void **state)
{
    (void)state;
    char a[600], b[600], c[600], err[512];
    path_of(a, sizeof a, "s1.h5");
    path_of(b, sizeof b, "s2.h5");
    path_of(c, sizeof c, "s3.h5");
    assert_int_equal(hps_dataset_synth(a, 1000, 12, 4, 5, err, sizeof err), HPS_OK);
    assert_int_equal(hps_dataset_synth(b, 1000, 12, 4, 5, err, sizeof err), HPS_OK);
    assert_int_equal(hps_dataset_synth(c, 1000, 12, 4, 6, err, sizeof err), HPS_OK);
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", a);
    assert_false(file_exists(tmp));
    hps_dataset_info info;
    assert_int_equal(hps_dataset_check(a, &info, err, sizeof err), HPS_OK);
    assert_int_equal(info.n_train, 800);
    assert_int_equal(info.n_val, 200);
    assert_int_equal(info.features, 12);
    assert_int_equal(info.classes, 4);

    float *xa = malloc(sizeof(float) * 800 * 12), *xb = malloc(sizeof(float) * 800 * 12);
    float *xc = malloc(sizeof(float) * 800 * 12);
    int32_t ya[800];
    assert_true(xa && xb && xc);
    read_split(a, "/train/X", H5T_NATIVE_FLOAT, xa);
    read_split(b, "/train/X", H5T_NATIVE_FLOAT, xb);
    read_split(c, "/train/X", H5T_NATIVE_FLOAT, xc);
    read_split(a, "/train/y", H5T_NATIVE_INT32, ya);
    assert_memory_equal(xa, xb, sizeof(float) * 800 * 12);
    assert_true(memcmp(xa, xc, sizeof(float) * 800 * 12) != 0);
    /* Balanced classes (3 clusters each, 3% relabelled): 200 +- 30 per class. */
    int count[4] = {0};
    for (int i = 0; i < 800; i++) {
        assert_true(ya[i] >= 0 && ya[i] < 4);
        count[ya[i]]++;
    }
    for (int k = 0; k < 4; k++)
        assert_true(count[k] > 170 && count[k] < 230);
    /* Features are not constant and roughly standardised. */
    double s = 0, s2 = 0;
    for (int i = 0; i < 800 * 12; i++) {
        s += xa[i];
        s2 += (double)xa[i] * xa[i];
    }
    double sd = sqrt(s2 / 9600 - (s / 9600) * (s / 9600));
    assert_true(sd > 0.5 && sd < 3.0);
    free(xa);
    free(xb);
    free(xc);

    /* Bad arguments; and nothing is left behind when the file cannot be placed. */
    assert_int_equal(hps_dataset_synth(a, 5, 12, 4, 1, err, sizeof err), HPS_EINVAL);
    assert_int_equal(hps_dataset_synth(a, 100, 12, 1, 1, err, sizeof err), HPS_EINVAL);
    char sub[600];
    path_of(sub, sizeof sub, "adir");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(hps_dataset_synth(sub, 100, 4, 2, 1, err, sizeof err), HPS_EIO);
    snprintf(tmp, sizeof tmp, "%s.tmp", sub);
    assert_false(file_exists(tmp));
    assert_non_null(strstr(err, "rename"));
    path_of(sub, sizeof sub, "missing/dir/x.h5");
    assert_int_equal(hps_dataset_synth(sub, 100, 4, 2, 1, err, sizeof err), HPS_EIO);
    snprintf(tmp, sizeof tmp, "%s.tmp", sub);
    assert_false(file_exists(tmp));
}

/* A file whose row i has X[i][j] = i + j / 100 and y = i % 5. */
static void write_rowid(const char *path, int n, int nv, int d)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    for (int split = 0; split < 2; split++) {
        int rows = split ? nv : n;
        float *X = malloc(sizeof(float) * (size_t)rows * d);
        int32_t *y = malloc(sizeof(int32_t) * (size_t)rows);
        assert_true(X && y);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < d; j++)
                X[i * d + j] = (float)i + (float)j / 100.0f;
            y[i] = i % 5;
        }
        h5_put(f, split ? "/val/X" : "/train/X", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, rows, d, X);
        h5_put(f, split ? "/val/y" : "/train/y", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, rows, 0, y);
        free(X);
        free(y);
    }
    H5Fclose(f);
}

static void test_permutation(void **state)
{
    (void)state;
    int64_t p[1000], q[1000];
    int seen[1000] = {0};
    hps_loader_permutation(p, 1000, 9, 0);
    for (int i = 0; i < 1000; i++)
        seen[p[i]]++;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    hps_loader_permutation(q, 1000, 9, 0);
    assert_memory_equal(p, q, sizeof p);
    hps_loader_permutation(q, 1000, 9, 1);
    assert_true(memcmp(p, q, sizeof p) != 0);
    hps_loader_permutation(q, 1000, 10, 0);
    assert_true(memcmp(p, q, sizeof p) != 0);
    int fixed = 0;
    for (int i = 0; i < 1000; i++)
        fixed += p[i] == i;
    assert_true(fixed < 10); /* a shuffle, not the identity (expected ~1) */
}

/*
 * For a group of g and this cache, every step's slices over the ranks make up
 * exactly the step's global batch, in order, and each row's data is its own.
 */
static void loader_covers(const char *path, int n, int d, int64_t batch, int g,
                          int64_t cache, int64_t block_steps)
{
    char err[512];
    hps_ds ds;
    assert_int_equal(hps_ds_open(&ds, path, err, sizeof err), HPS_OK);
    assert_int_equal(hps_ds_scan_labels(&ds, err, sizeof err), HPS_OK);
    hps_loader ld[3];
    for (int r = 0; r < g; r++) {
        assert_int_equal(hps_loader_init(&ld[r], &ds, r, g, batch, cache, err, sizeof err),
                         HPS_OK);
        assert_true((ld[r].train_X != NULL) == (g == 1 && cache > 0));
        if (block_steps && ld[r].block_steps > block_steps)
            ld[r].block_steps = block_steps; /* force several blocks an epoch */
    }
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
    float *X = malloc(sizeof(float) * (size_t)(batch * d));
    int32_t *y = malloc(sizeof(int32_t) * (size_t)batch);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)batch);
    assert_true(perm && X && y && ids);
    for (int epoch = 0; epoch < 2; epoch++) {
        hps_loader_permutation(perm, n, 77, epoch);
        for (int r = 0; r < g; r++)
            hps_loader_epoch(&ld[r], perm);
        int64_t steps = (n + batch - 1) / batch;
        assert_int_equal(ld[0].steps, steps);
        for (int64_t s = 0; s < steps; s++) {
            int64_t pos = s * batch;
            for (int r = 0; r < g; r++) {
                int64_t rows = -1;
                assert_int_equal(hps_loader_step(&ld[r], s, X, y, ids, &rows, err, sizeof err),
                                 HPS_OK);
                assert_true(rows <= ld[r].cap);
                for (int64_t i = 0; i < rows; i++, pos++) {
                    assert_int_equal(ids[i], perm[pos]);
                    assert_near(X[i * d], (double)perm[pos], 0);
                    assert_near(X[i * d + d - 1], (double)perm[pos] + (d - 1) / 100.0, 1e-3);
                    assert_int_equal(y[i], perm[pos] % 5);
                }
            }
            int64_t end = (s + 1) * batch < n ? (s + 1) * batch : n;
            assert_int_equal(pos, end); /* the ranks' slices tile the batch exactly */
        }
    }
    /* The validation slices partition /val. */
    int64_t next = 0;
    for (int r = 0; r < g; r++) {
        assert_int_equal(ld[r].val_lo, next);
        next += ld[r].val_n;
        if (ld[r].val_n > 0) {
            assert_int_equal(hps_loader_val(&ld[r], ld[r].val_n - 1, 1, X, y, err, sizeof err),
                             HPS_OK);
            assert_near(X[0], (double)(next - 1), 0);
        }
        hps_loader_free(&ld[r]);
    }
    assert_int_equal(next, ds.s[HPS_DS_VAL].n);
    free(perm);
    free(X);
    free(y);
    free(ids);
    hps_ds_close(&ds);
}

static void test_loader_slices(void **state)
{
    (void)state;
    char path[600];
    path_of(path, sizeof path, "rows.h5");
    write_rowid(path, 103, 11, 6);
    for (int g = 1; g <= 3; g++) {
        loader_covers(path, 103, 6, 16, g, (int64_t)1 << 30, 0); /* cache (g = 1) or blocks */
        loader_covers(path, 103, 6, 16, g, 0, 2);               /* blocks of 2 steps */
        loader_covers(path, 103, 6, 7, g, 0, 3);                /* uneven slices */
        loader_covers(path, 103, 6, 2, g, 0, 5);                /* a rank with no rows */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_good),    cmocka_unit_test(test_check_regression),
        cmocka_unit_test(test_check_bad),     cmocka_unit_test(test_check_chunked),
        cmocka_unit_test(test_synth),         cmocka_unit_test(test_permutation),
        cmocka_unit_test(test_loader_slices),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
