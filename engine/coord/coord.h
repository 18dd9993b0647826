/*
 * The coordinator core: suggest, dispatch, record — behind a transport.
 *
 * It owns no MPI and no clock of its own: trial groups are reached through an
 * hps_transport (MPI, in-process or simulated; transport.h) and time is the
 * transport's. Every event is committed to the sweep (sweep.h: apply, then append
 * to the journal); results that arrive together share one fsync (group commit).
 * Trials go to groups in batches whose size adapts to the measured trial time
 * (about 5 ms of work per batch, 1 trial when trials are slow or the strategy is
 * adaptive), with a second batch in flight for very fast trials so workers never
 * wait on the coordinator's fsync. sweep.h5 is rewritten whole (temp + rename)
 * every few seconds (at most ~5% of the time) and at the end.
 *
 * In deterministic mode (sweep.h) a suggestion waits for the results the rule
 * needs (the groups meanwhile run what they have), and the stops that feeding in
 * order decides are journaled (PRUNE) and sent to the trials still running.
 */
#ifndef HPS_COORD_COORD_H
#define HPS_COORD_COORD_H

#include <signal.h>
#include <stdint.h>

#include "store/journal.h"
#include "store/prov.h"
#include "store/store.h"
#include "sweep.h"
#include "transport.h"

/* Where the coordinator's time goes (for benchmarks): seconds on clock(), which the
 * caller sets (hps_monotonic, hps_own_seconds, ...), added up over a run. */
typedef struct hps_coord_stats {
    double (*clock)(void);
    double suggest;             /* asking the strategy and committing SUGGESTs */
    double result;              /* committing results (the strategy's observe inside) */
    double sync;                /* journal writes and fdatasyncs (group commit) */
    double store, store_max;    /* sweep.h5 rewrites: all, and the longest */
    int64_t suggests, results, syncs, store_writes, loops;
} hps_coord_stats;

typedef struct hps_coord_opts {
    const char *h5_path;            /* sweep.h5; NULL: never written (benchmarks) */
    int quiet;                      /* no per-trial progress output */
    int tty;                        /* progress as one live line */
    volatile sig_atomic_t *signalled;
    const hps_prov *provenance;     /* this run's: journaled (RUN) when it starts, with its
                                       end time and status when it ends; NULL: none */
    hps_coord_stats *stats;         /* NULL: not measured */
} hps_coord_opts;

/*
 * Run the sweep s (replayed from journal j with HPS_SWEEP_STRATEGY) to its budget
 * (s->budget: max_trials, max_time for this run, max_resource, the failure limit,
 * parallelism) on the groups of t. Trials that were running or interrupted are re-run first,
 * with their recorded seeds. Returns HPS_OK when the sweep completed, HPS_EINTR
 * when a signal interrupted it (running trials journaled as interrupted, sweep.h5
 * written), HPS_EFAILURES when budget.max_consecutive_failures failed attempts in
 * a row stopped it (status "failed"), or an error with err filled. Always tells
 * the groups to stop.
 */
int hps_coordinator_run(hps_sweep *s, hps_journal *j, hps_transport *t, const hps_coord_opts *o,
                        char *err, size_t errlen);

#endif
