/*
 * What the commands that read a sweep's results share (query.c: best, trials;
 * report.c: report). Private to the cli module.
 */
#ifndef HPS_CLI_QUERY_H
#define HPS_CLI_QUERY_H

#include <stddef.h>

#include "hpsweep/results.h"

/*
 * Load the results arg names: a sweep.h5 file, or the sweep directory holding one
 * (path[len] gets the file's path). HPS_EXIT_OK, or the exit code after a message:
 * HPS_EXIT_USAGE for a missing file, HPS_EXIT_ERROR for one that cannot be read.
 */
int hps_cli_open_results(const char *arg, hps_results *r, char *path, size_t len);

/*
 * The same, but of the trials only the best k (r->trials best first; none when
 * no trial has completed) when the file names its best rows (/trials best_rows),
 * else every trial (then r is as hps_cli_open_results leaves it). /failures,
 * /rungs and /metrics are read only in that second case: a caller that needs
 * them, or another metric's values, opens with hps_cli_open_results.
 */
int hps_cli_open_results_best(const char *arg, int k, hps_results *r, char *path, size_t len);

/*
 * The completed trials of r (done, finite objective), best first by the sweep's
 * metric and goal (the largest budget first in a multi-fidelity sweep; ties by
 * trial id): *out is new (free it), *n of them.
 */
int hps_cli_ranked(const hps_results *r, const hps_trial ***out, int64_t *n);

/* The last value trial_id reported of metric name (its result for the sweep's own
 * metric), or NaN when none. */
double hps_cli_metric_value(const hps_results *r, const hps_trial *t, const char *name);

/* A number with an optional '%': *relative = 1 with the '%'. HPS_OK or HPS_EINVAL. */
int hps_cli_parse_amount(const char *text, double *v, int *relative);

#endif
