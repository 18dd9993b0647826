/*
 * Tests of the file driver sweep.h5 is written through (engine/store/store_vfd.c):
 * - random writes of metadata and raw blocks, overlapping or following one another
 *   (gathered into one pwrite), through the driver read back as a byte model of
 *   the file says, and the file on disk holds them;
 * - when every disk write fails, HDF5 is never told: the writes succeed, the
 *   metadata still reads back as written (raw blocks read as what the disk has),
 *   and the sink reports the first error;
 * - an HDF5 file made through a failing sink closes cleanly and its attributes
 *   read back through the sink; made through a working one it is an ordinary
 *   file every reader opens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/fs.h"
#include "store/store_h5.h"
#include "hpsweep/error.h"

enum { SPAN = 4096, WRITES = 400 };

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static char dir[] = "/tmp/hps-vfd-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hps_rm_tree(dir) == HPS_OK ? 0 : -1;
}

/* An empty file in dir, open read-write (or read-only: every write fails). */
static int empty_file(const char *name, int writable, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    if (!writable) {
        close(fd);
        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
    }
    return fd;
}

/* Random overlapping writes through the driver against a byte model: what a read
 * returns is the model where the last write over a byte was metadata, and where
 * it was raw data the model when the disk works, zero when every write failed. */
static void random_writes(int writable)
{
    char path[256];
    int fd = empty_file(writable ? "works" : "fails", writable, path, sizeof path);
    hps_store_sink *sink = NULL;
    assert_int_equal(hps_store_sink_open(&sink, fd), HPS_OK);
    hid_t fapl = hps_store_sink_fapl(sink);
    assert_true(fapl >= 0);
    H5FD_t *f = H5FDopen(path, H5F_ACC_RDWR, fapl, HADDR_UNDEF);
    assert_non_null(f);
    assert_true(H5FDset_eoa(f, H5FD_MEM_DEFAULT, SPAN) >= 0);
    static unsigned char model[SPAN], meta[SPAN], got[SPAN], buf[SPAN];
    memset(model, 0, sizeof model);
    memset(meta, 0, sizeof meta);
    size_t last_end = 0;
    for (int w = 0; w < WRITES; w++) {
        /* Half the writes follow the one before (the driver gathers those). */
        size_t addr = next() % 2 && last_end < SPAN - 1 ? last_end : next() % (SPAN - 1);
        size_t size = 1 + next() % 300;
        if (addr + size > SPAN)
            size = SPAN - addr;
        int raw = next() % 3 == 0;
        for (size_t i = 0; i < size; i++)
            buf[i] = (unsigned char)next();
        assert_true(H5FDwrite(f, raw ? H5FD_MEM_DRAW : H5FD_MEM_OHDR, H5P_DEFAULT, addr, size,
                              buf) >= 0);
        memcpy(model + addr, buf, size);
        last_end = addr + size;
        memset(meta + addr, !raw, size);
        if (w % 37 == 0) { /* read back a random range now and then, and all at the end */
            size_t a = next() % SPAN, n = next() % (SPAN - a) + 1;
            assert_true(H5FDread(f, H5FD_MEM_OHDR, H5P_DEFAULT, a, n, got) >= 0);
            for (size_t i = a; i < a + n; i++)
                assert_int_equal(got[i - a], writable || meta[i] ? model[i] : 0);
        }
    }
    assert_true(H5FDread(f, H5FD_MEM_DRAW, H5P_DEFAULT, 0, SPAN, got) >= 0);
    for (size_t i = 0; i < SPAN; i++)
        assert_int_equal(got[i], writable || meta[i] ? model[i] : 0);
    assert_true(H5FDclose(f) >= 0);
    const char *what = NULL;
    int err = hps_store_sink_error(sink, &what);
    if (writable) {
        assert_int_equal(err, 0);
        /* The disk holds every byte written. */
        assert_int_equal(pread(fd, got, SPAN, 0), SPAN);
        assert_memory_equal(got, model, SPAN);
    } else {
        assert_int_equal(err, EBADF);
        assert_string_equal(what, "write");
    }
    H5Pclose(fapl);
    hps_store_sink_free(sink);
    close(fd);
}

static void test_writes_read_back(void **state)
{
    (void)state;
    random_writes(1);
}

static void test_failed_disk_keeps_metadata(void **state)
{
    (void)state;
    random_writes(0);
}

/* An HDF5 file with an attribute and a chunked, checksummed dataset through a sink
 * over fd, closed: HPS_OK from every HDF5 call. */
static void make_file(hps_store_sink *sink, const char *path)
{
    hid_t fapl = hps_store_sink_fapl(sink);
    assert_true(fapl >= 0);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    assert_true(H5Pset_userblock(fcpl, HPS_STORE_USERBLOCK) >= 0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    assert_true(file >= 0);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(file, "answer", H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT);
    int64_t v = 42;
    assert_true(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
    hsize_t dims[1] = {100000}, chunk[1] = {4096};
    hid_t dsp = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(H5Pset_chunk(dcpl, 1, chunk) >= 0);
    assert_true(H5Pset_fletcher32(dcpl) >= 0);
    hid_t ds = H5Dcreate2(file, "x", H5T_NATIVE_DOUBLE, dsp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(ds >= 0);
    double *x = malloc(sizeof *x * dims[0]);
    assert_non_null(x);
    for (hsize_t i = 0; i < dims[0]; i++)
        x[i] = (double)i * 0.5;
    assert_true(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
    free(x);
    assert_true(H5Dclose(ds) >= 0);
    H5Pclose(dcpl);
    H5Sclose(dsp);
    H5Aclose(a);
    H5Sclose(sp);
    assert_true(H5Fclose(file) >= 0);
    H5Pclose(fcpl);
    H5Pclose(fapl);
}

static int64_t read_answer(hid_t fapl, const char *path)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    assert_true(file >= 0);
    hid_t a = H5Aopen(file, "answer", H5P_DEFAULT);
    int64_t v = 0;
    assert_true(a >= 0 && H5Aread(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    assert_true(H5Fclose(file) >= 0);
    return v;
}

/* make_file through a sink over a new file name (every write failing unless
 * writable): the fd, with *sink and path filled and the sink's error checked. */
static int made_through(const char *name, int writable, hps_store_sink **sink, char *path,
                        size_t len)
{
    int fd = empty_file(name, writable, path, len);
    assert_int_equal(hps_store_sink_open(sink, fd), HPS_OK);
    make_file(*sink, path);
    const char *what = NULL;
    assert_int_equal(hps_store_sink_error(*sink, &what), writable ? 0 : EBADF);
    if (!writable)
        assert_string_equal(what, "write");
    return fd;
}

static void test_hdf5_through_failing_disk(void **state)
{
    (void)state;
    char path[256];
    hps_store_sink *sink = NULL;
    int fd = made_through("h5-fails", 0, &sink, path, sizeof path);
    assert_true(hps_store_sink_size(sink) > 100000 * sizeof(double) / 2);
    /* Nothing reached the disk, yet HDF5 reads its metadata back through the sink. */
    hid_t fapl = hps_store_sink_fapl(sink);
    assert_int_equal(read_answer(fapl, path), 42);
    H5Pclose(fapl);
    hps_store_sink_free(sink);
    close(fd);
}

static void test_hdf5_through_working_disk(void **state)
{
    (void)state;
    char path[256];
    hps_store_sink *sink = NULL;
    int fd = made_through("h5-works", 1, &sink, path, sizeof path);
    uint64_t size = hps_store_sink_size(sink);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    hps_h5err e = {NULL, 0};
    assert_int_equal(hps_store_seal_fd(fd, size, path, &e), HPS_OK);
    hps_store_sink_free(sink);
    assert_int_equal(close(fd), 0);
    /* An ordinary, sealed HDF5 file: the seal holds, any reader opens it. */
    int sealed = 0;
    assert_int_equal(hps_store_check_seal(path, &sealed, &e), HPS_OK);
    assert_int_equal(sealed, 1);
    assert_int_equal(read_answer(H5P_DEFAULT, path), 42);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(file, "x", H5P_DEFAULT);
    double x[3];
    hsize_t start[1] = {99997}, count[1] = {3};
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(1, count, NULL);
    assert_true(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0);
    assert_true(H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, x) >= 0);
    assert_true(x[0] == 99997 * 0.5 && x[2] == 99999 * 0.5);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(ds);
    H5Fclose(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_read_back),
        cmocka_unit_test(test_failed_disk_keeps_metadata),
        cmocka_unit_test(test_hdf5_through_failing_disk),
        cmocka_unit_test(test_hdf5_through_working_disk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
