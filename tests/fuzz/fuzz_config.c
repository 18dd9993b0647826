/*
 * Fuzz target: the config loader (engine/config), YAML text in memory, and the
 * store's check that a parsed space fits sweep.h5.
 */
#include <stdlib.h>

#include "config/config.h"
#include "fuzz.h"
#include "store/store.h"

int hps_fuzz_config(const uint8_t *data, size_t size)
{
    hps_config cfg;
    char err[1024];
    if (hps_config_parse((const char *)data, size, "fuzz.yaml", &cfg, err, sizeof err) ==
        0) {
        char why[512];
        (void)hps_store_check_space(&cfg.space, why, sizeof why);
        (void)hps_config_diff(&cfg, &cfg, NULL, 0);
    }
    hps_config_free(&cfg);
    return 0;
}

#ifdef HPS_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet++)
        hps_store_quiet();
    return hps_fuzz_config(data, size);
}
#endif
