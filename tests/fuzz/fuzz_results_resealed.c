/*
 * Fuzz target: the sweep.h5 reader past its seal. The input's seal is recomputed
 * before reading (when the input has hpsweep's user block), so mutations reach
 * HDF5's parser and the reader's own checks of what HDF5 returns: row counts,
 * enum indices, column types, strings. This models a crafted file, not damage
 * (damage never passes the seal; fuzz_results covers that); through
 * hps_results_open, hps_results_open_best (the file's best_rows believed) and
 * hps_results_each_trials (/trials in blocks). A crash inside
 * libhdf5 found here is HDF5's to fix, and is reported in the README.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "store/store.h"
#include "store/store_h5.h"

static int count_block(const hps_results *r, int64_t first, void *arg)
{
    (void)arg;
    return r->n_trials > 0 && first >= 0 ? HPS_OK : HPS_EINVAL;
}

int hps_fuzz_results_resealed(const uint8_t *data, size_t size)
{
    static int fd = -1;
    uint8_t *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (size >= HPS_STORE_USERBLOCK + 8 && memcmp(copy, "HPSWEEP", 8) == 0)
        hps_store_seal_image(copy, size);
    const char *path = hps_fuzz_file(&fd, copy, size);
    free(copy);
    if (!path)
        return 0;
    hps_results r;
    char err[1024];
    if (hps_results_open(path, &r, err, sizeof err) == HPS_OK)
        hps_results_free(&r);
    /* the readers that trust the file's own best_rows and read /trials in blocks */
    if (hps_results_open_best(path, 3, &r, err, sizeof err) == HPS_OK)
        hps_results_free(&r);
    if (hps_results_each_trials(path, 5, count_block, NULL, &r, err, sizeof err) == HPS_OK)
        hps_results_free(&r);
    return 0;
}

#ifdef HPS_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet++)
        hps_store_quiet();
    return hps_fuzz_results_resealed(data, size);
}
#endif
