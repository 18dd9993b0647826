/*
 * `hpsweep run` and `hpsweep resume`, private to the cli module: the parsed
 * arguments (run_args.c), the sweep rank 0 prepares before anything runs
 * (run_prepare.c), and the ranks' roles (run.c).
 */
#ifndef HPS_CLI_RUN_H
#define HPS_CLI_RUN_H

#include <stdint.h>

#include "config/config.h"
#include "coord/sweep.h"
#include "core/fs.h"
#include "store/journal.h"

typedef struct run_args {
    int resume;             /* resume an existing sweep */
    const char *config;     /* run: the YAML; resume: optional --config */
    const char *dir;        /* resume: the sweep directory */
    const char *output;     /* --output override */
    int quiet;
    int salvage;            /* resume --salvage: rewrite a damaged journal from what verifies */
    int64_t max_trials;     /* --max-trials override (0: none) */
    double max_time;        /* --max-time override (0: none) */
} run_args;

/* Parse the arguments of `run` (resume 0) or `resume` (1): HPS_EXIT_OK, or the
 * exit code after a message. */
int hps_run_parse_args(int argc, char **argv, int resume, run_args *a);

/* The usage texts of `run` and `resume`. */
void hps_run_usage(FILE *f, int resume);

/* What rank 0 holds once the sweep is ready to run. */
typedef struct prepared {
    char dir[HPS_PATH_MAX];
    char journal_path[HPS_PATH_MAX];
    char h5_path[HPS_PATH_MAX];
    char config_dir[HPS_PATH_MAX];
    int lock_fd;
    hps_journal *j;
    hps_journal_damage damage;  /* what the journal looked like under the lock */
    hps_sweep s;                /* replayed, with its strategy */
    hps_config file_cfg;        /* the config file given (run, or resume --config) */
    int have_file_cfg;
    int64_t max_trials;
    double max_time;
    double max_resource;
    int parallelism;
} prepared;

/*
 * Rank 0: load the config, make or open the sweep directory (locked), create the
 * journal or replay it, and settle the budget. HPS_OK, or an error with err
 * filled; hps_prepared_free() whatever it returns.
 */
int hps_prepare(const run_args *a, prepared *p, char *err, size_t errlen);

/* The exit code for an error hps_prepare returned: refusals and bad input are 2. */
int hps_prepare_exit(int rc);

void hps_prepared_free(prepared *p);

#endif
