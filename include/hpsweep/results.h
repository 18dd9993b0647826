/*
 * Trials and the results reader.
 *
 * hps_trial is one row of /trials in sweep.h5; hps_metric one row of /metrics.
 * hps_results_open() loads a whole sweep.h5 (attributes, space, trials, metrics,
 * provenance) so tools (the CLI's best/trials, user C code) need not speak HDF5.
 */
#ifndef HPSWEEP_RESULTS_H
#define HPSWEEP_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "hpsweep/space.h"

/* Stored as an HDF5 enum with these names (lower case) and values. */
typedef enum hps_trial_status {
    HPS_TRIAL_RUNNING = 0,
    HPS_TRIAL_DONE = 1,
    HPS_TRIAL_FAILED = 2,
    HPS_TRIAL_INTERRUPTED = 3,
    HPS_TRIAL_PRUNED = 4
} hps_trial_status;

#define HPS_CAUSE_LEN 64
#define HPS_STDERR_TAIL_LEN 2048   /* bytes of stderr kept for a failed trial */

typedef struct hps_trial {
    int64_t trial_id;
    int32_t status;            /* hps_trial_status */
    uint64_t seed;
    int32_t bracket, rung;     /* -1 when not applicable */
    double budget;             /* 0 = full */
    int32_t worker;            /* MPI rank of the group leader that ran it (0: in-process) */
    double start, end;         /* Unix time, seconds; end is NaN while running */
    double objective;          /* the metric's final value (NaN unless done) */
    char cause[HPS_CAUSE_LEN]; /* failure cause ("" unless failed/interrupted/pruned):
                                  exit:<code>, signal:<NAME>, timeout, no-metric, nan,
                                  exec: <reason>, interrupted, pruned */
    double *values;            /* [space.n_params] parameter values (see space.h); owned */
    int32_t exit_code;         /* external command's last exit code (-1: none / killed) */
    int32_t attempts;          /* attempts made (retries + 1); 0 for in-process objectives */
    char *stderr_tail;         /* last lines of a failed command's stderr, or NULL; owned */
    double prev_budget;        /* budget of the rung this run continues (0: a fresh start);
                                  in memory only */
} hps_trial;

/* One rung a trial ran (every result of a multi-fidelity trial; /rungs). */
typedef struct hps_rung {
    int64_t trial_id;
    int32_t bracket, rung;
    double budget;
    int32_t status;            /* hps_trial_status of that run */
    double objective;          /* NaN unless done */
    double start, end;
    int32_t worker;
} hps_rung;

typedef struct hps_metric {
    int64_t trial_id;
    int64_t step;
    double resource;
    int32_t name_index;        /* into metric_names */
    double value;
} hps_metric;

/*
 * Is done trial a better than done trial b? The larger budget wins (a result at a
 * higher fidelity is the one to trust in a multi-fidelity sweep; every budget is
 * 0 otherwise), then the better objective for the goal. Both must be done with a
 * finite objective.
 */
int hps_trial_better(const hps_trial *a, const hps_trial *b, int maximize);

/* Lower-case name of a status ("done"), or "unknown". */
const char *hps_trial_status_name(int status);

typedef struct hps_results {
    int format_version;
    char *hpsweep_version, *name, *strategy, *objective, *metric, *goal, *status;
    char *created, *updated;   /* ISO 8601 UTC */
    uint64_t seed;
    char *config_text;         /* the sweep YAML, verbatim */
    hps_space space;
    int64_t n_trials;
    hps_trial *trials;
    int n_metric_names;
    char **metric_names;
    int64_t n_metrics;
    hps_metric *metrics;
    int64_t n_rungs;           /* /rungs: one row per result (0 in files without it) */
    hps_rung *rungs;
    int n_provenance;          /* /provenance string attributes, by name (0 without it) */
    char **provenance_keys;    /* [n_provenance] "hpsweep_version", "hosts", ...; owned */
    char **provenance_values;  /* [n_provenance]; owned */
    int deterministic;         /* 1: a deterministic sweep (0 in files without the attribute) */
    int parallelism;           /* its P; else the cap on concurrent trials (0: none) */
} hps_results;

/*
 * Load sweep.h5 at path into out (zeroed first). Returns HPS_OK, HPS_ENOENT,
 * HPS_ECORRUPT (not an hpsweep file / unreadable; err says why), HPS_EDAMAGED
 * (its checksum or a table's row count does not match what was written: rebuild
 * it from the journal with `hpsweep resume`), HPS_EIO or HPS_EVERSION
 * (format_version newer than this build reads).
 */
int hps_results_open(const char *path, hps_results *out, char *err, size_t errlen);

/*
 * Load sweep.h5 as hps_results_open does, except that of its trials only the k
 * best are read (out->trials[0..n_trials), n_trials <= k, best first: the order of
 * hps_results_best, ties to the earlier trial; 0 when no trial has completed),
 * from the ranking stored with the file, and /failures, /rungs and /metrics are
 * not read (out has none). A few rows of a million-trial file are read instead of
 * all of them. Returns what hps_results_open returns, HPS_EINVAL for k < 1, and
 * HPS_ENOSYS (out empty) when the file has no usable ranking (written before it
 * was stored, or k is beyond it): then read the file with hps_results_open.
 */
int hps_results_open_best(const char *path, int k, hps_results *out, char *err, size_t errlen);

/*
 * Load sweep.h5 as hps_results_open does, but hand its trials over block by block
 * instead of keeping them all: each(r, first, arg) is called for every block in
 * table order with r->trials[0..r->n_trials) (at most block of them) the rows from
 * row first on; the trials are freed after each call, so memory is that of a few
 * blocks (the next ones, up to four, are read ahead on a second thread while each
 * runs) whatever the table's size. each must therefore not call HDF5 itself.
 * /failures (stderr tails), /rungs and /metrics are not read. On return out holds
 * the rest of the file (no trials; free it with hps_results_free) when the result
 * is HPS_OK. Returns what hps_results_open returns (HPS_EINVAL for block < 1), or
 * the first return of each that is not HPS_OK, which stops the reading.
 */
int hps_results_each_trials(const char *path, int64_t block,
                            int (*each)(const hps_results *r, int64_t first, void *arg),
                            void *arg, hps_results *out, char *err, size_t errlen);

/* The best done trial of r by hps_trial_better and r's goal (what `hpsweep best`
 * prints), or NULL when no trial has completed. */
const hps_trial *hps_results_best(const hps_results *r);

/* Free everything in r and zero it; NULL-safe. */
void hps_results_free(hps_results *r);

#endif
