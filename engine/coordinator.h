/*
 * The coordinator loop (rank 0): suggest, dispatch, record.
 *
 * It owns the sweep state, the journal and the strategy. Every event is first
 * appended to the journal and then applied to the in-memory sweep (sweep.h);
 * results that arrive together share one fsync (group commit). Trials are sent
 * to trial-group leaders in batches whose size adapts to the measured trial time
 * (about 5 ms of work per batch, 1 trial when trials are slow), with a second
 * batch in flight for very fast trials so workers never wait on the coordinator's
 * fsync. With no workers (a single rank), trials are evaluated in-process through
 * the same path. sweep.h5 is rewritten whole (temp + rename) every few seconds
 * (at most ~5% of the time) and at the end.
 */
#ifndef HPS_ENGINE_COORDINATOR_H
#define HPS_ENGINE_COORDINATOR_H

#include <signal.h>
#include <stdint.h>

#include "engine/journal.h"
#include "engine/store.h"
#include "engine/sweep.h"

typedef struct hps_coord_opts {
    const char *h5_path;            /* sweep.h5 */
    int quiet;                      /* no progress output */
    int tty;                        /* progress as one live line */
    int n_groups;                   /* trial groups (0: evaluate in-process) */
    const int *leaders;             /* [n_groups] world rank of each group's leader */
    volatile sig_atomic_t *signalled;
    const hps_kv *provenance;
    int n_provenance;
    int64_t max_trials;             /* 0: unlimited */
    double max_time;                /* seconds for this run; 0: unlimited */
    double max_resource;            /* total budget dispatched; 0: unlimited */
    int parallelism;                /* max groups busy at once; 0: all */
    double run_start;               /* Unix time this run began */
    /* In-process command trials (no workers): */
    struct hps_spawner *spawner;
    const char *sweep_dir;          /* absolute */
    const char *gpus;               /* CUDA_VISIBLE_DEVICES, or NULL */
} hps_coord_opts;

/*
 * Run the sweep s (replayed from journal j; s->ops/s->strategy set, replay done)
 * to its budget. Trials that were running or interrupted are re-run first with
 * their recorded seeds. Returns HPS_OK when the sweep completed, HPS_EINTR when a
 * signal interrupted it (running trials journaled as interrupted, sweep.h5
 * written), HPS_EOBJECTIVE when budget.max_consecutive_failures failed attempts in
 * a row stopped it (status "failed"), or an error with err filled. Always tells
 * the workers to stop.
 */
int hps_coordinator_run(hps_sweep *s, hps_journal *j, const hps_coord_opts *o, char *err,
                        size_t errlen);

/* Append a record to j and apply it to s (the one way the engine changes state). */
int hps_coord_record(hps_sweep *s, hps_journal *j, uint32_t type, int64_t trial_id,
                     const hps_buf *payload, char *err, size_t errlen);

/* Write sweep.h5 from s (temp + rename). */
int hps_coord_write_store(const hps_sweep *s, const char *h5_path, const hps_kv *prov, int n_prov,
                          char *err, size_t errlen);

#endif
