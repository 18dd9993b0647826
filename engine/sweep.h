/*
 * The sweep's in-memory state, rebuilt from the journal.
 *
 * Everything the engine knows about a sweep (the config, every trial, metrics,
 * counters, the best trial) comes from applying journal records in order with
 * hps_sweep_apply(). The coordinator appends a record and then applies that same
 * record, so the live state and a replayed state cannot drift apart. When a
 * strategy is attached, SUGGEST records also call strategy.suggest() and RESULT
 * records strategy.observe(): that is how resume restores a strategy exactly.
 */
#ifndef HPS_ENGINE_SWEEP_H
#define HPS_ENGINE_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"
#include "engine/journal.h"
#include "engine/record.h"
#include "hpsweep/results.h"
#include "hpsweep/strategy.h"

typedef struct hps_sweep {
    hps_config cfg;             /* parsed from the HEADER record's YAML */
    int have_header;
    uint64_t seed;              /* the sweep seed (resolved) */
    double created;             /* Unix time */
    char status[32];            /* last STATUS record ("running" if none) */
    int d;                      /* number of parameters */

    int64_t n_trials, cap_trials;
    hps_trial *trials;          /* indexed by trial id */
    double *u;                  /* unit points, d per trial */
    double *values;             /* decoded values, d per trial (trials[i].values points here) */

    int64_t n_metrics, cap_metrics;
    hps_metric *metrics;
    int n_metric_names;
    char **metric_names;

    int64_t n_done, n_failed, n_running, n_interrupted, n_pruned;
    int64_t best_id;            /* -1 when none done */

    int64_t n_rungs, cap_rungs;
    hps_rung *rungs;            /* every result of a multi-fidelity trial (rung >= 0) */
    double resource_dispatched; /* sum of budget increments of all SUGGEST records */

    /* Optional: replay into a strategy (and its pruner). */
    const hps_strategy_ops *ops;
    void *strategy;
    const hps_pruner_ops *pruner_ops;
    void *pruner;               /* NULL: no pruner */
    int replay_strategy;        /* 1: SUGGEST/RESULT records call the strategy */
    int replay_diverged;        /* a replayed suggestion differed from the record */

    /* Scratch for decoding. */
    double *u_scratch;
    hps_rec_metric *m_scratch;
    uint32_t m_cap;
} hps_sweep;

/* Zero s. */
void hps_sweep_init(hps_sweep *s);

/* Free what s owns (not the strategy) and zero it; NULL-safe. */
void hps_sweep_free(hps_sweep *s);

/* Apply one journal record. HPS_OK, HPS_ECORRUPT (err says why), HPS_ECONFIG
 * (the recorded YAML no longer parses), HPS_ENOMEM, or a strategy error. */
int hps_sweep_apply(hps_sweep *s, const hps_record *rec, char *err, size_t errlen);

/* Replay every record of j into s. */
int hps_sweep_replay(hps_sweep *s, hps_journal *j, char *err, size_t errlen);

/* Oriented value of a done trial: lower is better (negated for maximize). */
double hps_sweep_oriented(const hps_sweep *s, double objective);

/*
 * The intermediate observation a reported metric gives the strategy: only the
 * sweep's own metric (name index 0) with a finite value counts. Returns 1 and
 * fills obs, or 0. The coordinator and replay both use this, so they make the
 * same observe() calls.
 */
int hps_sweep_intermediate(const hps_sweep *s, int64_t trial_id, const hps_rec_metric *m,
                           hps_observation *obs);

/* Index of a known metric name, or -1 (names are added by METRIC_NAME records). */
int hps_sweep_metric_index(const hps_sweep *s, const char *name);

/* Fill the store meta for s (strings point into s; provenance supplied by caller). */
struct hps_store_meta;
void hps_sweep_store_meta(const hps_sweep *s, struct hps_store_meta *meta, const char *created,
                          const char *updated);

/* Format Unix time t as ISO 8601 UTC into buf (>= 32 bytes). */
void hps_iso_time(double t, char *buf, size_t len);

/* Wall-clock Unix time in seconds. */
double hps_now(void);

#endif
