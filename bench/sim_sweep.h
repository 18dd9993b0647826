/*
 * bench/sim_sweep.h — the start of a sweep that a benchmark drives through the
 * coordinator core on the simulated transport (bench/determinism.c, bench/scale.c):
 * the journal's HEADER record (the config text, as `hpsweep run` journals it) and
 * the one metric name, "loss", committed through the sweep so its state follows;
 * and the coordinator run with its summary line kept out of the bench's table.
 */
#ifndef HPS_BENCH_SIM_SWEEP_H
#define HPS_BENCH_SIM_SWEEP_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coord/coord.h"
#include "coord/sweep.h"
#include "hpsweep/error.h"
#include "store/record.h"

/* Commit the header (config yaml, seed; `source` names the config file) and the
 * metric name to j through sw. HPS_OK, or an error code with err filled. */
static inline int bench_sweep_start(hps_sweep *sw, hps_journal *j, const char *yaml,
                                    uint64_t seed, const char *source, char *err,
                                    size_t errlen)
{
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = seed, .created = 1.7e9,
                        .config_text = yaml, .config_len = (uint32_t)strlen(yaml),
                        .source = source, .source_len = (uint32_t)strlen(source)};
    return hps_sweep_commit_start(sw, j, &h, "loss", err, errlen);
}

/* hps_coordinator_run with stderr sent to /dev/null meanwhile (the coordinator's
 * summary line would land in the middle of the table). */
static inline int bench_coordinator_run_quiet(hps_sweep *sw, hps_journal *j, hps_transport *t,
                                              const hps_coord_opts *co, char *err,
                                              size_t errlen)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved < 0 || null < 0 || dup2(null, STDERR_FILENO) < 0) {
        snprintf(err, errlen, "redirecting stderr to /dev/null");
        if (saved >= 0)
            close(saved);
        if (null >= 0)
            close(null);
        return HPS_EIO;
    }
    int rc = hps_coordinator_run(sw, j, t, co, err, errlen);
    fflush(stderr);
    int restored = dup2(saved, STDERR_FILENO);
    close(saved);
    close(null);
    if (restored < 0 && rc == HPS_OK) {
        snprintf(err, errlen, "restoring stderr");
        rc = HPS_EIO;
    }
    return rc;
}

#endif
