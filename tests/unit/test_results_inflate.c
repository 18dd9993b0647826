/*
 * Tests of /trials' chunks decoded by hpsweep itself (engine/store/results_inflate.c,
 * used by the streaming reader results_stream.c): the unshuffle and the Fletcher-32
 * checksum give what HDF5's own filters give; a damaged chunk (its checksum, a
 * deflate stream that does not inflate, one that inflates to the wrong size, one
 * cut short) makes hps_results_each_trials fail with HPS_ECORRUPT and a message
 * naming the chunk, its rows and the fault; and whatever is not the pipeline our
 * writer uses (no filters, other filters, a chunk with a filter skipped) is read
 * through HDF5 instead, with the same values.
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

#include <hdf5.h>
#include <zlib.h>

#include "store/results_internal.h"
#include "store/store.h"
#include "store/store_h5.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "trial_assert.h"

#define N_ROWS 3000
#define BLOCK 500

typedef struct fix {
    char dir[64], path[96];
    hps_choice choices[3];
    hps_param params[4];
    hps_space space;
    hps_trial *trials;
    double *values;
    hps_store_meta meta;
} fix;

/* A sweep of N_ROWS trials over every parameter type, written to f->path. */
static int setup(void **state)
{
    fix *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/hps-inflate-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/sweep.h5", f->dir);
    f->choices[0] = (hps_choice){.kind = HPS_CHOICE_STRING, .text = "adam"};
    f->choices[1] = (hps_choice){.kind = HPS_CHOICE_STRING, .text = "sgd"};
    f->choices[2] = (hps_choice){.kind = HPS_CHOICE_NUMBER, .text = "0.5", .number = 0.5};
    f->params[0] = (hps_param){.name = "lr", .type = HPS_PARAM_FLOAT, .low = 1e-5, .high = 1};
    f->params[1] = (hps_param){.name = "layers", .type = HPS_PARAM_INT, .low = -3, .high = 99};
    f->params[2] = (hps_param){.name = "opt", .type = HPS_PARAM_CATEGORICAL, .n_choices = 3,
                               .choices = f->choices};
    f->params[3] = (hps_param){.name = "bn", .type = HPS_PARAM_BOOL};
    f->space = (hps_space){.params = f->params, .n_params = 4};
    f->meta = (hps_store_meta){.name = "inflate", .seed = 3, .strategy = "random",
                               .objective = "sphere", .metric = "loss", .goal = "minimize",
                               .status = "completed", .created = "2026-01-01T00:00:00Z",
                               .updated = "2026-01-01T00:00:01Z",
                               .config_text = "name: inflate\n", .space = &f->space};
    f->trials = calloc(N_ROWS, sizeof *f->trials);
    f->values = calloc(N_ROWS * 4, sizeof *f->values);
    if (!f->trials || !f->values)
        return -1;
    static const char *const causes[] = {"", "exit:3", "signal:SIGKILL", "timeout", "nan"};
    srand(5);
    for (int64_t i = 0; i < N_ROWS; i++) {
        hps_trial *t = &f->trials[i];
        *t = (hps_trial){.trial_id = i,
                         .status = (int32_t)(i % 5),
                         .seed = UINT64_MAX - (uint64_t)i * 0x9e3779b97f4a7c15ull,
                         .bracket = (int32_t)(i % 4) - 1,
                         .rung = (int32_t)(i % 3) - 1,
                         .budget = (double)(i % 7) / 3,
                         .worker = (int32_t)(i % 9),
                         .start = 1.7e9 + (double)i / 7,
                         .end = i % 5 == 0 ? NAN : 1.7e9 + (double)i / 3,
                         .objective = (double)rand() / RAND_MAX - 0.5,
                         .exit_code = (int32_t)(i % 6) - 2,
                         .attempts = (int32_t)(i % 4),
                         .values = &f->values[4 * i]};
        snprintf(t->cause, sizeof t->cause, "%s", causes[i % 5]);
        t->values[0] = ldexp((double)rand() / RAND_MAX, -(int)(i % 17));
        t->values[1] = (double)(rand() % 103) - 3;
        t->values[2] = (double)(i % 3);
        t->values[3] = (double)(i % 2);
    }
    char err[512] = "";
    int rc = hps_store_write(f->path, &f->meta, f->trials, N_ROWS, NULL, 0, NULL, 0, NULL, 0,
                             err, sizeof err);
    if (rc != HPS_OK) {
        print_message("hps_store_write: %s\n", err);
        return -1;
    }
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

/* What each_row compares the streamed rows with. */
typedef struct seen {
    const fix *f;
    int64_t rows;
} seen;

static int each_row(const hps_results *r, int64_t first, void *arg)
{
    seen *s = arg;
    assert_int_equal(first, s->rows);
    for (int64_t i = 0; i < r->n_trials; i++) {
        const hps_trial *a = &r->trials[i], *b = &s->f->trials[first + i];
        assert_same_row(a, b, 4);
    }
    s->rows += r->n_trials;
    return HPS_OK;
}

/* Every row streamed, in blocks that do and do not line up with the chunks. */
static void assert_streams_whole(const fix *f)
{
    const int64_t blocks[] = {BLOCK, 1024, 7, 2999};
    for (size_t j = 0; j < sizeof blocks / sizeof blocks[0]; j++) {
        seen s = {.f = f};
        hps_results rest;
        char err[512] = "";
        int rc = hps_results_each_trials(f->path, blocks[j], each_row, &s, &rest, err, sizeof err);
        if (rc != HPS_OK)
            print_message("block %lld: %s\n", (long long)blocks[j], err);
        assert_int_equal(rc, HPS_OK);
        assert_int_equal(s.rows, N_ROWS);
        hps_results_free(&rest);
    }
}

static void reseal(const char *path)
{
    char err[256];
    hps_h5err e = {err, sizeof err};
    assert_int_equal(hps_store_seal(path, &e), HPS_OK);
}

/* /trials of the sweep, open read-write or read-only. */
typedef struct opened {
    hid_t file, ds;
    size_t rowsize;
    hsize_t chunk_rows;
} opened;

static opened open_trials(const char *path, unsigned mode)
{
    opened o;
    o.file = H5Fopen(path, mode, H5P_DEFAULT);
    assert_true(o.file >= 0);
    o.ds = H5Dopen2(o.file, "trials", H5P_DEFAULT);
    assert_true(o.ds >= 0);
    hid_t type = H5Dget_type(o.ds), dcpl = H5Dget_create_plist(o.ds);
    assert_true(type >= 0 && dcpl >= 0);
    o.rowsize = H5Tget_size(type);
    assert_int_equal(H5Pget_chunk(dcpl, 1, &o.chunk_rows), 1);
    H5Pclose(dcpl);
    H5Tclose(type);
    return o;
}

static void close_trials(opened *o)
{
    assert_true(H5Dclose(o->ds) >= 0);
    assert_true(H5Fclose(o->file) >= 0);
}

/* Chunk k of o as stored: its bytes (malloc'd) and size. */
static unsigned char *stored_chunk(const opened *o, hsize_t k, size_t *size)
{
    hsize_t off[1] = {k * o->chunk_rows}, n = 0;
    uint32_t mask = 1;
    assert_true(H5Dget_chunk_storage_size(o->ds, off, &n) >= 0 && n > 4);
    unsigned char *b = malloc(n);
    assert_non_null(b);
    assert_true(H5Dread_chunk(o->ds, H5P_DEFAULT, off, &mask, b) >= 0);
    assert_int_equal(mask, 0);
    *size = n;
    return b;
}

/* Store len bytes of b followed by their Fletcher-32 as chunk k, with filter mask
 * mask (its bit i set: filter i skipped). */
static void put_chunk(const opened *o, hsize_t k, unsigned char *b, size_t len, uint32_t mask)
{
    uint32_t sum = hps_fletcher32(b, len);
    for (int i = 0; i < 4; i++)
        b[len + (size_t)i] = (unsigned char)(sum >> (8 * i));
    hsize_t off[1] = {k * o->chunk_rows};
    assert_true(H5Dwrite_chunk(o->ds, H5P_DEFAULT, mask, off, len + 4, b) >= 0);
}

/* HDF5's shuffle of nbytes of in (elements of elem bytes) into out. */
static void shuffle(const unsigned char *in, unsigned char *out, size_t elem, size_t nbytes)
{
    size_t n = nbytes / elem;
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < elem; b++)
            out[b * n + i] = in[i * elem + b];
}

/* An in-memory file holding one dataset of n opaque elements of elem bytes each,
 * one chunk, with the filters set by add (shuffle or Fletcher-32), written from
 * data; *ds is the dataset. */
static hid_t filtered_file(size_t elem, size_t n, herr_t (*add)(hid_t), const void *data,
                           hid_t *ds)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_true(fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0);
    char name[64];
    snprintf(name, sizeof name, "mem-%zu-%zu.h5", elem, n);
    hid_t file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    assert_true(file >= 0);
    H5Pclose(fapl);
    hid_t type = H5Tcreate(H5T_OPAQUE, elem), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    assert_true(type >= 0 && dcpl >= 0 && space >= 0);
    assert_true(H5Pset_chunk(dcpl, 1, dims) >= 0 && add(dcpl) >= 0);
    *ds = H5Dcreate2(file, "d", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(*ds >= 0);
    assert_true(H5Dwrite(*ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Sclose(space);
    H5Pclose(dcpl);
    H5Tclose(type);
    return file;
}

/* The unshuffle gives back what HDF5's shuffle filter stored, for element sizes
 * and counts on and off the tiles (16 x 16 with SSE2, 8 x 8, bytes). */
static void test_unshuffle_matches_hdf5(void **state)
{
    (void)state;
    const size_t elems[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 33, 64, 141};
    const size_t counts[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 63, 1024};
    srand(9);
    for (size_t a = 0; a < sizeof elems / sizeof elems[0]; a++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t elem = elems[a], n = counts[c], nbytes = elem * n;
            unsigned char *data = malloc(nbytes), *stored = malloc(nbytes),
                          *mine = malloc(nbytes);
            assert_true(data && stored && mine);
            for (size_t i = 0; i < nbytes; i++)
                data[i] = (unsigned char)rand();
            hid_t ds, file = filtered_file(elem, n, H5Pset_shuffle, data, &ds);
            hsize_t off[1] = {0}, size = 0;
            uint32_t mask = 1;
            assert_true(H5Dget_chunk_storage_size(ds, off, &size) >= 0);
            assert_int_equal(size, nbytes);
            assert_true(H5Dread_chunk(ds, H5P_DEFAULT, off, &mask, stored) >= 0);
            assert_int_equal(mask, 0);
            hps_unshuffle(stored, mine, elem, nbytes);
            assert_memory_equal(mine, data, nbytes);
            H5Dclose(ds);
            H5Fclose(file);
            free(data);
            free(stored);
            free(mine);
        }
    }
    /* A part element at the end stays where it is. */
    unsigned char in[11] = {0, 3, 6, 1, 4, 7, 2, 5, 8, 9, 10}, out[11];
    hps_unshuffle(in, out, 3, sizeof in);
    for (unsigned char i = 0; i < 11; i++)
        assert_int_equal(out[i], i);
}

/* The checksum is the one HDF5's Fletcher-32 filter appends (little-endian), for
 * even and odd lengths and more than 360 words. */
static void test_fletcher32_matches_hdf5(void **state)
{
    (void)state;
    const size_t lens[] = {1, 2, 3, 719, 720, 721, 5000};
    srand(13);
    for (size_t a = 0; a < sizeof lens / sizeof lens[0]; a++) {
        size_t len = lens[a];
        unsigned char *data = malloc(len), *stored = malloc(len + 4);
        assert_true(data && stored);
        for (size_t i = 0; i < len; i++)
            data[i] = (unsigned char)(rand() | 0x80); /* high bits set: the sums carry */
        hid_t ds, file = filtered_file(len, 1, H5Pset_fletcher32, data, &ds);
        hsize_t off[1] = {0}, size = 0;
        uint32_t mask = 1;
        assert_true(H5Dget_chunk_storage_size(ds, off, &size) >= 0);
        assert_int_equal(size, len + 4);
        assert_true(H5Dread_chunk(ds, H5P_DEFAULT, off, &mask, stored) >= 0);
        uint32_t want = (uint32_t)stored[len] | (uint32_t)stored[len + 1] << 8 |
                        (uint32_t)stored[len + 2] << 16 | (uint32_t)stored[len + 3] << 24;
        assert_int_equal(hps_fletcher32(data, len), want);
        H5Dclose(ds);
        H5Fclose(file);
        free(data);
        free(stored);
    }
}

/* The sweep as written takes the chunk path for every chunk, and streams whole. */
static void test_chunks_decoded(void **state)
{
    fix *f = *state;
    opened o = open_trials(f->path, H5F_ACC_RDONLY);
    hps_chunks *c = NULL;
    hps_chunk_scratch *s = NULL;
    char err[512] = "";
    hps_h5err e = {err, sizeof err};
    assert_int_equal(hps_chunks_open(o.ds, o.rowsize, N_ROWS, &c, &e), HPS_OK);
    assert_int_equal(hps_chunks_rows(c), (int64_t)o.chunk_rows);
    assert_true(o.chunk_rows < N_ROWS); /* the table has several chunks */
    assert_int_equal(hps_chunk_scratch_init(c, &s), HPS_OK);
    unsigned char *rows = malloc(o.chunk_rows * o.rowsize);
    assert_non_null(rows);
    for (int64_t k = 0; k * (int64_t)o.chunk_rows < N_ROWS; k++) {
        const unsigned char *mine = NULL;
        assert_int_equal(hps_chunk_fetch(c, k, s, &e), HPS_OK);
        assert_int_equal(hps_chunk_decode(c, k, s, &mine, &e), HPS_OK);
        /* the same bytes as H5Dread gives with the file's own type */
        hsize_t first = (hsize_t)k * o.chunk_rows, n = o.chunk_rows;
        if (first + n > N_ROWS)
            n = N_ROWS - first;
        hid_t type = H5Dget_type(o.ds), fspace = H5Dget_space(o.ds);
        hid_t mspace = H5Screate_simple(1, &n, NULL);
        assert_true(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &first, NULL, &n, NULL) >= 0);
        assert_true(H5Dread(o.ds, type, mspace, fspace, H5P_DEFAULT, rows) >= 0);
        assert_memory_equal(mine, rows, n * o.rowsize);
        H5Sclose(mspace);
        H5Sclose(fspace);
        H5Tclose(type);
    }
    free(rows);
    hps_chunk_scratch_free(s);
    hps_chunk_scratch_free(NULL);
    hps_chunks_close(c);
    close_trials(&o);
    assert_streams_whole(f);
}

/* What a damaged chunk 1 looks like, and the words its error must hold. */
typedef enum damage { BAD_CHECKSUM, BAD_DEFLATE, SHORT_INFLATE, LONG_INFLATE, CUT } damage;

static void damage_chunk1(const fix *f, damage d)
{
    opened o = open_trials(f->path, H5F_ACC_RDWR);
    size_t size, chunk_bytes = o.chunk_rows * o.rowsize;
    unsigned char *b = stored_chunk(&o, 1, &size);
    size_t len = size - 4;
    if (d == BAD_CHECKSUM) {
        b[len / 2] ^= 0x40; /* the data, not the sum: HDF5's own check would fail too */
        hsize_t off[1] = {o.chunk_rows};
        assert_true(H5Dwrite_chunk(o.ds, H5P_DEFAULT, 0, off, size, b) >= 0);
    } else if (d == BAD_DEFLATE) {
        b[2] = 0xff; /* the first deflate block: final, of the reserved type 3 */
        put_chunk(&o, 1, b, len, 0);
    } else if (d == CUT) {
        put_chunk(&o, 1, b, len / 2, 0);
    } else {
        /* a valid zlib stream of too few or too many bytes */
        size_t raw = d == SHORT_INFLATE ? chunk_bytes / 2 : chunk_bytes + 100;
        unsigned char *src = calloc(1, raw);
        uLongf zlen = compressBound(raw);
        unsigned char *z = malloc(zlen + 4);
        assert_true(src && z);
        assert_int_equal(compress2(z, &zlen, src, raw, 1), Z_OK);
        put_chunk(&o, 1, z, zlen, 0);
        free(src);
        free(z);
    }
    free(b);
    close_trials(&o);
    reseal(f->path);
}

static int each_ok(const hps_results *r, int64_t first, void *arg)
{
    (void)r;
    (void)first;
    (void)arg;
    return HPS_OK;
}

/* Each damage is HPS_ECORRUPT, with a message naming chunk 1, its rows and the
 * fault, whichever block size; never a crash or made-up rows. */
static void test_damaged_chunk(void **state)
{
    fix *f = *state;
    static const struct {
        damage d;
        const char *says;
    } cases[] = {
        {BAD_CHECKSUM, "Fletcher-32 checksum does not match"},
        {BAD_DEFLATE, "inflate: invalid block type"},
        {SHORT_INFLATE, "inflates to "},
        {LONG_INFLATE, "inflates to more than"},
        {CUT, "deflate stream ends early"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i > 0) { /* a fresh, undamaged file */
            teardown(state);
            assert_int_equal(setup(state), 0);
            f = *state;
        }
        damage_chunk1(f, cases[i].d);
        char want[96];
        opened o = open_trials(f->path, H5F_ACC_RDONLY);
        snprintf(want, sizeof want, "/trials chunk 1 (rows %llu-%llu): ",
                 (unsigned long long)o.chunk_rows, (unsigned long long)(2 * o.chunk_rows - 1));
        close_trials(&o);
        const int64_t blocks[] = {BLOCK, 7};
        for (size_t j = 0; j < sizeof blocks / sizeof blocks[0]; j++) {
            char err[512] = "";
            hps_results rest;
            int rc = hps_results_each_trials(f->path, blocks[j], each_ok, NULL, &rest, err,
                                             sizeof err);
            print_message("damage %zu, block %lld: %s\n", i, (long long)blocks[j], err);
            assert_int_equal(rc, HPS_ECORRUPT);
            assert_non_null(strstr(err, want));
            assert_non_null(strstr(err, cases[i].says));
            assert_null(rest.trials);
        }
    }
}

/* /trials rewritten with the dataset creation list dcpl (the same rows). */
static void rewrite_trials(const fix *f, hid_t dcpl)
{
    opened o = open_trials(f->path, H5F_ACC_RDWR);
    hid_t type = H5Dget_type(o.ds), space = H5Dget_space(o.ds);
    assert_true(type >= 0 && space >= 0);
    unsigned char *rows = malloc(N_ROWS * o.rowsize);
    assert_non_null(rows);
    assert_true(H5Dread(o.ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    assert_true(H5Lmove(o.file, "trials", o.file, "old_trials", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    hid_t ds = H5Dcreate2(o.file, "trials", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    assert_true(hps_h5_write_rows_attr(ds, N_ROWS) >= 0); /* what the reader checks */
    H5Dclose(ds);
    assert_true(H5Ldelete(o.file, "old_trials", H5P_DEFAULT) >= 0);
    free(rows);
    H5Sclose(space);
    H5Tclose(type);
    close_trials(&o);
    reseal(f->path);
}

/* Whether hps_chunks_open takes the /trials of f as ours. */
static int takes_chunks(const fix *f)
{
    opened o = open_trials(f->path, H5F_ACC_RDONLY);
    hps_chunks *c = NULL;
    int rc = hps_chunks_open(o.ds, o.rowsize, N_ROWS, &c, &(hps_h5err){NULL, 0});
    hps_chunks_close(c);
    hps_chunks_close(NULL);
    close_trials(&o);
    return rc;
}

/* Files whose /trials is filtered otherwise (as other tools may write them) are
 * not taken and stream through HDF5, whole and alike. */
static void test_other_filters_fall_back(void **state)
{
    fix *f = *state;
    hsize_t chunk[1] = {700};
    /* no filters; deflate alone; our filters in another order; ours with one more */
    for (int variant = 0; variant < 4; variant++) {
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        assert_true(dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0);
        if (variant == 1)
            assert_true(H5Pset_deflate(dcpl, 1) >= 0);
        if (variant == 2)
            assert_true(H5Pset_deflate(dcpl, 1) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
                        H5Pset_fletcher32(dcpl) >= 0);
        if (variant == 3)
            assert_true(H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, 1) >= 0 &&
                        H5Pset_fletcher32(dcpl) >= 0 && H5Pset_deflate(dcpl, 9) >= 0);
        rewrite_trials(f, dcpl);
        H5Pclose(dcpl);
        assert_int_equal(takes_chunks(f), HPS_ENOSYS);
        assert_streams_whole(f);
    }
    /* and ours, as a check on the rewrite itself */
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
                H5Pset_deflate(dcpl, 1) >= 0 && H5Pset_fletcher32(dcpl) >= 0);
    rewrite_trials(f, dcpl);
    H5Pclose(dcpl);
    assert_int_equal(takes_chunks(f), HPS_OK);
    assert_streams_whole(f);
}

/* A chunk stored with deflate skipped (filter mask bit 1; what HDF5 does when an
 * optional filter fails) is read through HDF5, the chunks around it here. */
static void test_skipped_filter_falls_back(void **state)
{
    fix *f = *state;
    opened o = open_trials(f->path, H5F_ACC_RDWR);
    size_t chunk_bytes = o.chunk_rows * o.rowsize;
    unsigned char *rows = calloc(1, chunk_bytes), *shuffled = malloc(chunk_bytes + 4);
    assert_true(rows && shuffled);
    hid_t type = H5Dget_type(o.ds), fspace = H5Dget_space(o.ds);
    hsize_t first = o.chunk_rows, n = o.chunk_rows;
    hid_t mspace = H5Screate_simple(1, &n, NULL);
    assert_true(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &first, NULL, &n, NULL) >= 0);
    assert_true(H5Dread(o.ds, type, mspace, fspace, H5P_DEFAULT, rows) >= 0);
    shuffle(rows, shuffled, o.rowsize, chunk_bytes);
    put_chunk(&o, 1, shuffled, chunk_bytes, 1u << 1);
    H5Sclose(mspace);
    H5Sclose(fspace);
    H5Tclose(type);
    /* fetching it says: not here */
    hps_chunks *c = NULL;
    hps_chunk_scratch *s = NULL;
    hps_h5err e = {NULL, 0};
    assert_int_equal(hps_chunks_open(o.ds, o.rowsize, N_ROWS, &c, &e), HPS_OK);
    assert_int_equal(hps_chunk_scratch_init(c, &s), HPS_OK);
    assert_int_equal(hps_chunk_fetch(c, 0, s, &e), HPS_OK);
    assert_int_equal(hps_chunk_fetch(c, 1, s, &e), HPS_ENOSYS);
    assert_int_equal(hps_chunk_fetch(c, 2, s, &e), HPS_OK);
    hps_chunk_scratch_free(s);
    hps_chunks_close(c);
    free(rows);
    free(shuffled);
    close_trials(&o);
    reseal(f->path);
    assert_streams_whole(f);
}

int main(void)
{
    hps_store_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unshuffle_matches_hdf5),
        cmocka_unit_test(test_fletcher32_matches_hdf5),
        cmocka_unit_test_setup_teardown(test_chunks_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_filters_fall_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skipped_filter_falls_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
