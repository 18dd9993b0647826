/*
 * What results.c and results_trials.c share: reading /trials (whole, the best
 * rows the file names, or block by block) and /failures into an hps_results.
 * Each returns HPS_OK, HPS_ECORRUPT or HPS_ENOMEM with e filled, unless it says
 * otherwise.
 */
#ifndef HPS_STORE_RESULTS_INTERNAL_H
#define HPS_STORE_RESULTS_INTERNAL_H

#include <stdint.h>

#include <hdf5.h>

#include "store_h5.h"
#include "hpsweep/results.h"

/* How hps_results_each_trials hands /trials over: blocks of block rows to each;
 * or, rows set, how hps_results_open_rows reads the n_rows rows named. */
typedef struct hps_trial_stream {
    int64_t block;
    int (*each)(const hps_results *r, int64_t first, void *arg);
    void *arg;
    const int64_t *rows;
    int n_rows;
} hps_trial_stream;

/* The rows rows[0..n) of /trials, each alone, into res->trials in that order (no
 * stderr tails). */
int hps_results_read_rows(hid_t file, hps_results *res, const int64_t *rows, int n,
                          const hps_h5err *e);

/* Every row of /trials into res->trials (the space must be read). */
int hps_results_read_trials(hid_t file, hps_results *res, const hps_h5err *e);

/* The stderr tails of /failures into res->trials (none from a file without it). */
int hps_results_read_failures(hid_t file, hps_results *res, const hps_h5err *e);

/*
 * The best best_k trials from the ranking stored with /trials (store_index.c),
 * best first; HPS_ENOSYS when the file has none, or it covers fewer than best_k
 * trials while more are ranked, or a row it names is not a done trial with a
 * finite objective (then the whole table must be read and ranked).
 */
int hps_results_read_best(hid_t file, hps_results *res, int best_k, const hps_h5err *e);

/* /trials block by block, each block handed to s->each (whose first error stops
 * it and is returned) as a copy of *out holding that block's trials; the next
 * block is read on a second thread meanwhile, so each must not call HDF5. out
 * gets no trials. */
int hps_results_stream_trials(hid_t file, hps_results *out, const hps_trial_stream *s,
                              const hps_h5err *e);

/*
 * /trials read as the file stores its rows, without HDF5's type conversion
 * (results_raw.c), for streaming: open it for blocks of at most block rows of a
 * table with (modern) or without the exit_code and attempts columns. Returns
 * HPS_OK, HPS_ENOMEM, or HPS_ENOSYS when the table's layout is not one it decodes
 * (read it through hps_h5_read_rows then); e is left alone.
 */
typedef struct hps_raw_trials hps_raw_trials;
int hps_raw_trials_open(hid_t file, const hps_space *space, int modern, int64_t block,
                        hps_raw_trials **out, const hps_h5err *e);

/* Rows first..first + n (n <= block, all in the table) into trials[0..n), whose
 * parameter values go to values[k * n_params ..]; every field of each trial is
 * set (no stderr tail). Returns HPS_OK, HPS_ECORRUPT or HPS_EINVAL with e filled. */
int hps_raw_trials_read(hps_raw_trials *r, int64_t first, int64_t n, hps_trial *trials,
                        double *values, const hps_h5err *e);

/* Close the dataset and free r; NULL is a no-op. */
void hps_raw_trials_close(hps_raw_trials *r);

#endif
