/*
 * The sweep's in-memory state, made only by applying journal records.
 *
 * Everything the engine knows about a sweep (the config, every trial, metrics,
 * counters, the best trial) comes from hps_sweep_apply(), one record at a time.
 * The running coordinator changes state only through hps_sweep_commit(): apply the
 * record, then append it to the journal. Resume, `hpsweep status` and the HDF5
 * rebuild replay the journal through the same hps_sweep_apply(). So live and
 * replayed state cannot differ: there is one path.
 *
 * With HPS_SWEEP_STRATEGY the HEADER record creates the strategy (and pruner) of
 * the recorded config, and every record feeds them inside apply: a SUGGEST is one
 * strategy.suggest() call, a REPORT one observe() (and pruner report()) per metric,
 * a RESULT one observe() (and pruner finish()). Live, the coordinator commits a
 * SUGGEST without a payload and the strategy's answer becomes the record; on
 * replay the recorded SUGGEST is checked against the answer. Strategies are pure,
 * so a replay restores them exactly.
 */
#ifndef HPS_COORD_SWEEP_H
#define HPS_COORD_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/buf.h"
#include "store/journal.h"
#include "store/record.h"
#include "store/store.h"
#include "hpsweep/results.h"
#include "hpsweep/strategy.h"

/* hps_sweep_init flags */
enum {
    /* The HEADER creates the strategy and pruner and every record feeds them. */
    HPS_SWEEP_STRATEGY = 1u << 0
};

typedef struct hps_sweep {
    unsigned flags;             /* HPS_SWEEP_* */
    hps_config cfg;             /* parsed from the HEADER record's YAML */
    int have_header;
    uint64_t seed;              /* the sweep seed (resolved) */
    double created;             /* Unix time */
    char status[32];            /* last STATUS record ("running" if none) */
    int d;                      /* number of parameters */

    int64_t n_trials;
    size_t cap_trials;
    hps_trial *trials;          /* indexed by trial id */
    double *u;                  /* unit points, d per trial */
    double *values;             /* decoded values, d per trial (trials[i].values points here) */

    int64_t n_metrics;
    size_t cap_metrics;
    hps_metric *metrics;
    int n_metric_names;
    size_t cap_metric_names;
    char **metric_names;

    int64_t n_done, n_failed, n_running, n_interrupted, n_pruned;
    int64_t best_id;            /* -1 when none done */

    int64_t n_rungs;
    size_t cap_rungs;
    hps_rung *rungs;            /* every result of a multi-fidelity trial (rung >= 0) */
    double resource_dispatched; /* sum of budget increments of all SUGGEST records */

    /* HPS_SWEEP_STRATEGY: made from the HEADER, destroyed by hps_sweep_free. */
    const hps_strategy_ops *ops;
    void *strategy;
    const hps_pruner_ops *pruner_ops;
    void *pruner;               /* NULL: no pruner */
    int replay_diverged;        /* a replayed suggestion differed from the record */

    /* Scratch (allocated with the HEADER). */
    double *u_scratch, *u_check;
    hps_rec_metric *m_scratch;
    uint32_t m_cap;
    hps_buf rec;                /* a committed SUGGEST's payload */
} hps_sweep;

/* What applying a record decided (for the coordinator; replay ignores it). */
typedef struct hps_apply_out {
    int64_t trial_id;           /* the trial the record touched (-1: none) */
    int promotion;              /* SUGGEST: a promotion of an existing trial */
    hps_decision decision;      /* REPORT: STOP or PAUSE when the strategy or pruner
                                   said so for any metric, else CONTINUE */
} hps_apply_out;

/* Zero s with flags (HPS_SWEEP_*). */
void hps_sweep_init(hps_sweep *s, unsigned flags);

/* Free what s owns, strategy and pruner included, and zero it; NULL-safe. */
void hps_sweep_free(hps_sweep *s);

/*
 * Apply one record. out may be NULL. HPS_OK, HPS_ECORRUPT (err says why),
 * HPS_ECONFIG (the recorded YAML no longer parses), HPS_EVERSION, HPS_ENOMEM, or
 * a strategy error. A record refused with HPS_ECORRUPT changed nothing (every
 * check comes before the first change), so a salvage can skip it and go on; a
 * strategy's or pruner's refusal may come after the trial table changed.
 */
int hps_sweep_apply(hps_sweep *s, const hps_record *rec, hps_apply_out *out, char *err,
                    size_t errlen);

/*
 * Apply a record, then append it to j (not yet synced): the one way a running
 * sweep changes. Nothing is appended when apply fails.
 */
int hps_sweep_commit(hps_sweep *s, hps_journal *j, uint32_t type, int64_t trial_id,
                     const void *payload, uint32_t len, hps_apply_out *out, char *err,
                     size_t errlen);

/*
 * Commit the strategy's next suggestion (HPS_SWEEP_STRATEGY): a new trial, or a
 * promotion, dispatched to worker at Unix time start. HPS_OK (out->trial_id),
 * HPS_EAGAIN (the strategy waits for a result) or HPS_EDONE (it has nothing more):
 * then nothing changed. Other codes with err filled.
 */
int hps_sweep_commit_suggest(hps_sweep *s, hps_journal *j, int32_t worker, double start,
                             hps_apply_out *out, char *err, size_t errlen);

/* Replay every record of j into s. */
int hps_sweep_replay(hps_sweep *s, hps_journal *j, char *err, size_t errlen);

/* Oriented value of a done trial: lower is better (negated for maximize). */
double hps_sweep_oriented(const hps_sweep *s, double objective);

/* Index of a known metric name, or -1 (names are added by METRIC_NAME records). */
int hps_sweep_metric_index(const hps_sweep *s, const char *name);

/* Write sweep.h5 from s (temp + fsync + rename), with provenance prov[n_prov]. */
int hps_sweep_write_store(const hps_sweep *s, const char *h5_path, const hps_kv *prov,
                          int n_prov, char *err, size_t errlen);

#endif
