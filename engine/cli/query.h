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

#endif
