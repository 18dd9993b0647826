/*
 * Damaged sweep.h5 files (engine/store/store_seal.c, the reader's checks): a
 * flipped byte anywhere, a truncated copy, an edit made after hpsweep wrote the
 * file and a table whose extent grew are all reported as damage (HPS_EDAMAGED),
 * never read as data and never handed to HDF5 to crash on. Before the seal,
 * single flipped bytes crashed libhdf5 and one made `trials` print 65,321 rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "file_fixture.h"
#include "store_fixture.h"

static int open_rc(const char *path, char *err, size_t len)
{
    hps_results r;
    int rc = hps_results_open(path, &r, err, len);
    if (rc == HPS_OK)
        hps_results_free(&r);
    return rc;
}

/* Every byte of the seal and of the first KiB of HDF5 data, then every 61st: each
 * flip is damage. */
static void test_flipped_bytes(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    char err[512];
    assert_int_equal(open_rc(f->path, err, sizeof err), HPS_OK);
    size_t size;
    unsigned char *b = slurp(f->path, &size);
    int tried = 0;
    for (size_t at = 0; at < size; at += at < 1536 ? 1 : 61) {
        b[at] ^= 0x10;
        spit(f->path, b, size);
        b[at] ^= 0x10;
        err[0] = '\0';
        int rc = open_rc(f->path, err, sizeof err);
        if (rc != HPS_EDAMAGED)
            print_error("byte %zu: %s (%s)\n", at, hps_err_name(rc), err);
        assert_int_equal(rc, HPS_EDAMAGED);
        assert_non_null(strstr(err, "damaged"));
        tried++;
    }
    print_message("%d flipped bytes, every one reported as damage\n", tried);
    spit(f->path, b, size);
    assert_int_equal(open_rc(f->path, err, sizeof err), HPS_OK);

    /* Cut short, or grown by a byte. */
    spit(f->path, b, size - 100);
    assert_int_equal(open_rc(f->path, err, sizeof err), HPS_EDAMAGED);
    assert_non_null(strstr(err, "bytes, but hpsweep wrote"));
    unsigned char *longer = calloc(size + 1, 1);
    assert_non_null(longer);
    memcpy(longer, b, size);
    spit(f->path, longer, size + 1);
    assert_int_equal(open_rc(f->path, err, sizeof err), HPS_EDAMAGED);
    free(longer);
    free(b);
}

/* An edit through HDF5 after hpsweep wrote the file breaks the seal. */
static void test_edit_breaks_the_seal(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    hid_t file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Ldelete(file, "metrics", H5P_DEFAULT) >= 0);
    assert_true(H5Fclose(file) >= 0);
    char err[512];
    assert_int_equal(open_rc(f->path, err, sizeof err), HPS_EDAMAGED);
    assert_non_null(strstr(err, "changed after hpsweep wrote it"));
}

/*
 * A table whose extent grew (the 65,280 invented rows the probe found) is damage
 * even when the seal is intact, through the `rows` attribute.
 */
static void test_rows_attribute(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    hid_t file = H5Fopen(f->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t ds = H5Dopen2(file, "trials", H5P_DEFAULT);
    assert_true(ds >= 0);
    hsize_t dims[1] = {N_TRIALS + 65280};
    assert_true(H5Dset_extent(ds, dims) >= 0);
    H5Dclose(ds);
    H5Fclose(file);
    reseal(f->path);
    char err[512];
    assert_int_equal(open_rc(f->path, err, sizeof err), HPS_EDAMAGED);
    assert_non_null(strstr(err, "/trials is damaged: it has 65287 rows, but 7 were written"));
}

/* HDF5 and h5py read the sealed file as any other (the user block is skipped). */
static void test_sealed_file_is_plain_hdf5(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, N_TRIALS, N_METRICS, 2), HPS_OK);
    size_t size;
    unsigned char *b = slurp(f->path, &size);
    assert_memory_equal(b, "HPSWEEP", 8);
    assert_memory_equal(b + HPS_STORE_USERBLOCK, "\x89HDF\r\n\x1a\n", 8);
    free(b);
    assert_true(H5Fis_hdf5(f->path) > 0);
    hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t fcpl = H5Fget_create_plist(file);
    hsize_t ub = 0;
    assert_true(H5Pget_userblock(fcpl, &ub) >= 0);
    assert_int_equal(ub, HPS_STORE_USERBLOCK);
    H5Pclose(fcpl);
    H5Fclose(file);
}

int main(void)
{
    hps_store_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flipped_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_breaks_the_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_attribute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_file_is_plain_hdf5, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
