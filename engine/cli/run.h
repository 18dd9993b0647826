/*
 * `hpsweep run` and `hpsweep resume`, private to the cli module: the parsed
 * arguments (run_args.c), the sweep rank 0 prepares before anything runs
 * (run_prepare.c), and the ranks' roles (run.c).
 */
#ifndef HPS_CLI_RUN_H
#define HPS_CLI_RUN_H

#include <mpi.h>
#include <stdint.h>

#include "config/config.h"
#include "coord/sweep.h"
#include "core/fs.h"
#include "store/journal.h"
#include "trainer_check.h"
#include "workers/group.h"
#include "workers/objective.h"
#include "workers/spawner.h"

typedef struct run_args {
    int resume;             /* resume an existing sweep */
    const char *config;     /* run: the YAML; resume: optional --config */
    const char *dir;        /* resume: the sweep directory */
    const char *output;     /* --output override */
    int quiet;
    int salvage;            /* resume --salvage: rewrite a damaged journal from what verifies */
    int64_t max_trials;     /* --max-trials override (0: none) */
    double max_time;        /* --max-time override (0: none) */
    int ranks;              /* the job's ranks (1: serial), to check ranks_per_trial */
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
    int fresh;                  /* this run created the sweep */
    int64_t n_rerun;            /* trials that were running or interrupted */
    hps_trainer_data data;      /* a trainer's dataset, as checked (data.have) */
} prepared;

/*
 * Rank 0: load the config, make or open the sweep directory (locked), create the
 * journal or replay it, check a trainer's parameters and dataset
 * (trainer_check.h), and settle the budget (a BUDGET record when it differs
 * from the recorded one). Everything a run can be refused for is checked before
 * anything is written, so a refusal leaves no trace. HPS_OK, or an error with err
 * filled; hps_prepared_free() whatever it returns.
 */
int hps_prepare(const run_args *a, prepared *p, char *err, size_t errlen);

/* The exit code for an error hps_prepare returned: refusals and bad input are 2. */
int hps_prepare_exit(int rc);

void hps_prepared_free(prepared *p);

/* A new sweep that will not run after all (the objective did not open on every
 * rank): remove what hps_prepare made (journal, lock, an empty trials/ and the
 * directory when empty), so the same command can be run again. Nothing for a
 * resumed sweep. */
void hps_prepare_abandon(prepared *p);

/* What every rank knows once rank 0 has shared the sweep (run.c, run_setup.c). */
typedef struct rank_env {
    int use_mpi, rank, size;
    hps_spawner *spawner;
    const hps_config *cfg;          /* rank 0: the sweep's; workers: their parsed copy */
    char sweep_dir[HPS_PATH_MAX];   /* absolute */
    char config_dir[HPS_PATH_MAX];  /* the config file's directory (from cfg->source) */
    int rpt, n_groups;              /* ranks per trial, trial groups */
    MPI_Comm group;                 /* this rank's trial group (MPI_COMM_NULL: none) */
    char *gpus;                     /* this rank's CUDA_VISIBLE_DEVICES, or NULL */
    int device;                     /* its CUDA ordinal for in-process code, or -1 */
    int threads;                    /* compute threads for its in-process code (run_setup.c) */
    char *hosts;                    /* rank 0: every rank's host facts (provenance.h) */
    int runs_trials;                /* a group member, or rank 0 without workers */
    hps_group grt;                  /* its trial group's runtime, when runs_trials */
    hps_objective obj;              /* its open objective, when runs_trials */
    int obj_open;
} rank_env;

/*
 * Every rank, once it has the config: form the trial groups (MPI_Comm_split of
 * ranks 1..N-1), place each rank that runs trial code on its GPUs, set up its
 * group (communicators, NCCL later) and open the objective (a plugin is loaded
 * and init() runs). Collective: the ranks agree (an allreduce) that every one of
 * them succeeded before any trial runs; otherwise each failing rank prints why
 * and every rank returns HPS_EXIT_USAGE.
 */
int hps_run_setup(rank_env *e);

/* Close the objective and free the group's runtime (collective with the group). */
void hps_run_teardown(rank_env *e);

#endif
