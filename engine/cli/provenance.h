/*
 * Provenance: every input that shaped a run, collected automatically when a run
 * starts (store/prov.h holds it; a RUN record journals it; sweep.h5's /provenance
 * shows it; `show`, `compare` and `reproduce` read it back).
 *
 *   run facts   (provenance.c) hpsweep_version, hpsweep_commit, build_type,
 *               build_options, compiler, compiler_flags, mpi_library, hdf5, gsl,
 *               libyaml, openblas, openssl, hosts (distinct host names), ranks,
 *               ranks_per_trial, cpu_model, gpus, nvidia_driver (of rank 0's host),
 *               command_line, start_time, cwd, config_path, hpsweep_path, budget,
 *               user_code_commit ("<sha> (clean|dirty)" of the git repository holding
 *               the config, "none" outside one), user_code_root, user_code_diff_sha256
 *               (SHA-256 of `git diff HEAD`, "none" when clean), and env.<NAME> for
 *               each allow-listed environment variable that is set (prov_env.c)
 *   host facts  (prov_host.c) per distinct host: host, ranks (world ranks there),
 *               os, kernel, cpu_model, cpus, memory, gpus, gpu_uuids, gpu_memory,
 *               nvidia_driver, cuda_driver, cuda_runtime, cublas, nccl; a fact that
 *               does not exist there says so ("none (...)")
 *   file facts  (prov_files.c) role (dataset, objective, script), path, sha256, bytes
 *               of every `datasets` entry and of the objective's executable or script
 *
 * Nothing here forks: programs (git, the GPU probe) run through the rank's spawner.
 * No CUDA context is ever created in an hpsweep rank: GPU library versions come
 * from `hpsweep __probe-gpu`, a short-lived process that dlopens the NVIDIA
 * libraries and asks only for versions (NVML, cuDriverGetVersion,
 * cudaRuntimeGetVersion, cublasGetProperty, ncclGetVersion: none initialises a
 * device context), so a trial's own process never competes with one of ours.
 */
#ifndef HPS_CLI_PROVENANCE_H
#define HPS_CLI_PROVENANCE_H

#include <stddef.h>

#include "config/config.h"
#include "store/prov.h"
#include "workers/spawner.h"

/* What a run's facts are collected from. */
typedef struct hps_prov_input {
    int argc;
    char **argv;                  /* the whole command line */
    const hps_config *cfg;        /* the sweep's config */
    const char *config_dir;       /* the directory of the config file */
    int ranks, ranks_per_trial;
    const char *budget;           /* the budget in words */
    hps_spawner *spawner;
    const char *host_facts;       /* every rank's host facts (hps_prov_host_facts texts, one
                                     after the other, each ended by an empty line) */
} hps_prov_input;

/* Fill p (empty) with the run's facts, its hosts and files. HPS_OK or HPS_ENOMEM. */
int hps_provenance_collect(hps_prov *p, const hps_prov_input *in);

/* The run facts of this process alone (no hosts, files or MPI): versions, build,
 * user code of config_dir, environment. HPS_OK or HPS_ENOMEM. */
int hps_provenance_local(hps_prov *p, const char *config_dir, hps_spawner *spawner);

/*
 * This host's facts as "key=value" lines (a new string): host (name), rank, and
 * with full (one rank per host is enough) everything else, the GPU libraries from
 * the probe run through spawner. NULL when out of memory.
 */
char *hps_prov_host_facts(const char *name, int rank, int full, hps_spawner *spawner);

/* Parse gathered host facts texts into p's hosts (one per distinct name, their
 * ranks joined) and the run fact "hosts". HPS_OK or HPS_ENOMEM. */
int hps_prov_add_hosts(hps_prov *p, const char *texts);

/* The files' facts: every `datasets` entry of cfg (relative to config_dir) and the
 * objective's executable and script. HPS_OK or HPS_ENOMEM. */
int hps_prov_add_files(hps_prov *p, const hps_config *cfg, const char *config_dir);

/* Add env.<NAME> for each allow-listed environment variable that is set. */
int hps_prov_add_env(hps_prov *p);

/* The allow-list itself (exact names, NULL-terminated): what may be recorded. */
extern const char *const hps_prov_env_allowed[];

/* SHA-256 of the file at path as 64 hex digits into hex[65], its size in *bytes.
 * HPS_OK, or HPS_EIO / HPS_ENOENT with hex holding the reason. */
int hps_sha256_file(const char *path, char hex[65], long long *bytes);

/* The program's own absolute path (/proc/self/exe) into out; "" when unknown. */
void hps_self_path(char *out, size_t len);

/* Run argv through the spawner and pass its stdout to chunk as it comes; give up
 * after timeout seconds. 0 when it exited 0 having closed its output, else -1. */
int hps_prov_exec(hps_spawner *sp, const char *const *argv, const char *const *envp,
                  double timeout, void (*chunk)(void *ctx, const char *p, size_t n), void *ctx);

/* The same keeping stdout (its first line with first_line) in out. */
int hps_prov_capture(hps_spawner *sp, const char *const *argv, char *out, size_t len,
                     int first_line);

/* This host's CPU model ("unknown" when /proc/cpuinfo names none), and its NVIDIA
 * GPUs ("<model> (<PCI address>)", ...) and driver version from /proc/driver/nvidia
 * ("none" without it). */
void hps_prov_cpu_model(char *out, size_t len);
void hps_prov_proc_gpus(char *models, size_t mlen, char *driver, size_t dlen);

/* The driver version ("580.159.04") from the first line of /proc/driver/nvidia/version
 * ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release
 * Build ..."); the trimmed line when it holds none; "none" for an empty one. */
void hps_nvidia_driver_version(const char *line, char *out, size_t len);

#endif
