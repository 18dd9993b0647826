/*
 * Fuzz target: the sweep.h5 reader (engine/store/results.c) on the bytes of a
 * file, as damage (or anything else) leaves them.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "store/store.h"

int hps_fuzz_results(const uint8_t *data, size_t size)
{
    static int fd = -1;
    const char *path = hps_fuzz_file(&fd, data, size);
    if (!path)
        return 0;
    hps_results r;
    char err[1024];
    if (hps_results_open(path, &r, err, sizeof err) == HPS_OK)
        hps_results_free(&r);
    return 0;
}

#ifdef HPS_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet++)
        hps_store_quiet();
    return hps_fuzz_results(data, size);
}
#endif
