/*
 * Provenance: what ran the sweep, stored under /provenance in sweep.h5 so a
 * result can be traced to its code, libraries and hardware.
 *
 * Keys: hpsweep_version, hpsweep_commit, compiler, mpi_library, hdf5, gsl,
 * libyaml, hosts (distinct host names, comma-separated), ranks, ranks_per_trial,
 * cpu_model, command_line, start_time, cwd, user_code_commit (the git commit of
 * the repository holding the config file, read from .git without running git;
 * "none" outside a repository), gpus (model and PCI address of each NVIDIA GPU),
 * nvidia_driver (its version), both from /proc/driver/nvidia, "none" without.
 * A sweep of the built-in trainer adds its dataset (trainer_check.h): dataset,
 * dataset_sha256, dataset_shape, dataset_task.
 */
#ifndef HPS_CLI_PROVENANCE_H
#define HPS_CLI_PROVENANCE_H

#include <stddef.h>

#include "store/store.h"
#include "workers/spawner.h"

#define HPS_PROVENANCE_MAX 24

typedef struct hps_provenance {
    int n;
    hps_kv kv[HPS_PROVENANCE_MAX];
    char *owned[HPS_PROVENANCE_MAX];
} hps_provenance;

/* Fill p. hosts: comma-separated host names (already gathered over MPI). */
void hps_provenance_collect(hps_provenance *p, int argc, char **argv, const char *config_dir,
                            const char *hosts, int ranks, int ranks_per_trial,
                            hps_spawner *spawner);

void hps_provenance_free(hps_provenance *p);

/* Add key (a string that outlives p, e.g. a literal) with a copy of value; nothing
 * when p is full (HPS_PROVENANCE_MAX) or out of memory. */
void hps_provenance_add(hps_provenance *p, const char *key, const char *value);

/* The driver version ("580.159.04") from the first line of /proc/driver/nvidia/version
 * ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release
 * Build ..."); the trimmed line when it holds none; "none" for an empty one. */
void hps_nvidia_driver_version(const char *line, char *out, size_t len);

#endif
