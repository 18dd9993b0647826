/*
 * `hpsweep reproduce`'s two halves, private to the cli module: re-running the
 * trial (reproduce.c) and telling what differs between the machine and code
 * that made it and this one (reproduce_diff.c).
 */
#ifndef HPS_CLI_REPRODUCE_H
#define HPS_CLI_REPRODUCE_H

#include "config/config.h"
#include "hpsweep/results.h"
#include "store/prov.h"
#include "workers/spawner.h"

/*
 * Print the provenance facts that differ between run (the recorded run that made
 * trial t; NULL: none recorded) and this machine now: versions of hpsweep and its
 * libraries, the build, the user code's commit, dirty flag and diff, the
 * allow-listed environment, the facts of the host that ran t against this host's
 * (OS, kernel, CPU, memory, GPUs, driver, CUDA runtime, cuBLAS, NCCL), and the
 * SHA-256 of every recorded dataset and objective file against the file now.
 * HPS_OK or HPS_ENOMEM.
 */
int hps_repro_print_differences(const hps_prov *run, const hps_trial *t, const hps_config *cfg,
                                const char *config_dir, hps_spawner *sp);

#endif
