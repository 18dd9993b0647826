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
 *
 * A deterministic sweep (`deterministic: true`, window P = `parallelism`) feeds
 * them in suggestion order instead (sweep_det.c): suggestion k is made knowing
 * exactly the results of runs 0..k-P-1, and a run's reports are shown at its turn,
 * so what the strategy and pruner see depends only on the config and the seed,
 * never on arrival order or rank count. The same records replayed make the same
 * calls.
 *
 * The sweep also keeps every run's provenance (RUN records: the first run, then
 * one per resume), which sweep.h5's /provenance is written from.
 *
 * Files: sweep.c (state, HEADER, SUGGEST, DISPATCH, apply and commit, replay),
 * sweep_metrics.c (REPORT, RESULT, INTERRUPT), sweep_det.c (deterministic mode),
 * sweep_store.c (STATUS, METRIC_NAME, BUDGET, RUN records and writing sweep.h5).
 */
#ifndef HPS_COORD_SWEEP_H
#define HPS_COORD_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/buf.h"
#include "store/journal.h"
#include "store/prov.h"
#include "store/record.h"
#include "store/store.h"
#include "hpsweep/results.h"
#include "hpsweep/strategy.h"

/* hps_sweep_init flags */
enum {
    /* The HEADER creates the strategy and pruner and every record feeds them. */
    HPS_SWEEP_STRATEGY = 1u << 0
};

/* Deterministic mode: one run per SUGGEST (a new trial, or a promotion), in
 * suggestion order, and what came of it. */
typedef struct hps_det_run {
    int64_t trial_id;
    double budget;
    int32_t ended;              /* its RESULT was applied */
    int32_t status;             /* the RESULT's status */
    double objective;           /* the RESULT's objective */
    int32_t stop;               /* its reports made the strategy or pruner stop it */
    int64_t stop_step;          /* at the report of this step */
    int32_t stop_rep;           /* which of its reports that was (0, 1, ...) */
    int64_t rep_head, rep_tail; /* its reports the strategy was not shown yet (det.reps;
                                   -1: none) */
    int32_t n_seen;             /* its reports taken so far */
    int32_t n_skip;             /* reports of a re-run still to skip (taken before the
                                   interruption) */
    int64_t rung_row;           /* its row of s->rungs, -1: none */
} hps_det_run;

typedef struct hps_det_rep {
    int64_t next;               /* the run's next report, -1: none */
    int32_t index;              /* which of the run's reports (0, 1, ...) */
    int64_t step;
    double resource;
    double value;               /* the sweep's metric, as reported */
} hps_det_rep;

/* A stop decided while feeding a run (for the coordinator: journal a PRUNE, and
 * stop the trial if it still runs). */
typedef struct hps_det_stop {
    int64_t trial_id, run, step;
} hps_det_stop;

typedef struct hps_det {
    int on;                     /* the recorded config says deterministic: true */
    int p;                      /* its window P (parallelism) */
    int64_t n_runs;
    size_t cap_runs;
    hps_det_run *runs;
    int64_t fed;                /* runs[0..fed) were shown whole; runs[fed] maybe partly */
    size_t cap_run_of;
    int64_t *run_of;            /* per trial id: its latest run */
    int64_t n_reps;
    size_t cap_reps;
    hps_det_rep *reps;
    int n_stops;                /* stops decided since the coordinator last took them */
    size_t cap_stops;
    hps_det_stop *stops;
    int64_t waiting_for;        /* live: the trial a refused SUGGEST waits for (-1: none,
                                   or the strategy itself asked to wait) */
} hps_det;

typedef struct hps_sweep {
    unsigned flags;             /* HPS_SWEEP_* */
    hps_config cfg;             /* parsed from the HEADER record's YAML */
    int have_header;
    uint64_t seed;              /* the sweep seed (resolved) */
    double created;             /* Unix time */
    char status[32];            /* last STATUS record ("running" if none) */
    int d;                      /* number of parameters */

    int64_t n_trials;           /* trial ids 0..n_trials-1 */
    int64_t trials_spilled;     /* trials [0, trials_spilled) are final and sweep.h5 holds
                                   them, or pack does: memory keeps only trials
                                   [trials_spilled, n_trials) (a live sweep lets go of a
                                   final prefix once written, or packs it before; see
                                   hps_sweep_trial) */
    size_t cap_trials;
    hps_trial *trials;          /* trial id i is trials[i - trials_spilled] */
    double *u;                  /* unit points, d per trial kept, in the same order */
    double *values;             /* decoded values, d per trial kept (trials[k].values points
                                   here) */
    int64_t final_upto;         /* trials [trials_spilled, final_upto) are known final */
    hps_store_pack *pack;       /* the spilled trials sweep.h5 does not hold yet, packed as
                                   /trials rows [first, trials_spilled) (hps_sweep_pack);
                                   NULL: none */
    int pack_off;               /* packing failed: not again until the next write */
    double store_row_seconds;   /* the last hps_sweep_write_store's time spent on the
                                   rows it held (hps_store_meta.row_seconds) */
    int64_t store_rebuilds;     /* writes that took the spilled rows from the journal
                                   (the file that held them was gone or damaged) */
    char *carry_path;           /* the file the spilled rows are in when not sweep.h5:
                                   hps_sweep_replay_spilling's, removed once sweep.h5
                                   holds them (or by hps_sweep_free); NULL: none */
    hps_store_index spilled_index; /* the /trials index of the spilled trials */
    int64_t failure_rows_spilled; /* /failures rows of the spilled trials */
    hps_trial best_spilled;     /* the best spilled trial (trial_id -1: none); its values
                                   point to best_spilled_values */
    double *best_spilled_values;

    int64_t n_metrics;          /* rows in metrics[]: the /metrics rows after metrics_spilled */
    size_t cap_metrics;
    hps_metric *metrics;
    int64_t metrics_spilled;    /* /metrics rows that sweep.h5 holds and memory no longer
                                   does (a live sweep drops them once written) */
    hps_journal *journal;       /* the journal this sweep commits to (NULL: replayed only);
                                   not owned, and must stay open while the sweep writes
                                   sweep.h5 (spilled rows are read back from it) */
    int n_metric_names;
    size_t cap_metric_names;
    char **metric_names;

    int64_t n_done, n_failed, n_running, n_interrupted, n_pruned;
    int64_t best_id;            /* -1 when none done */

    hps_rec_budget budget;      /* in force: the config's, then the last BUDGET record's */

    int64_t n_rungs;
    size_t cap_rungs;
    hps_rung *rungs;            /* every result of a multi-fidelity trial (rung >= 0), after
                                   the rungs_spilled rows written and dropped */
    int64_t rungs_spilled;      /* /rungs rows that sweep.h5 holds and memory no longer does */
    int64_t *tails_spilled;     /* ascending ids of the failed or pruned trials whose stderr
                                   tail sweep.h5 holds (/failures) and memory no longer does */
    int64_t n_tails_spilled;
    double resource_dispatched; /* sum of budget increments of all SUGGEST records */

    /* HPS_SWEEP_STRATEGY: made from the HEADER, destroyed by hps_sweep_free. */
    const hps_strategy_ops *ops;
    void *strategy;
    const hps_pruner_ops *pruner_ops;
    void *pruner;               /* NULL: no pruner */
    int replay_diverged;        /* a replayed suggestion differed from the record */

    hps_det det;                /* deterministic mode's order of feeding */

    int n_runs;                 /* runs of the sweep so far (RUN records) */
    size_t cap_runs;
    hps_prov *runs;             /* each run's provenance: the first, then each resume */

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

/* Trial id as memory holds it, or NULL: no such trial, or spilled (final, and only
 * sweep.h5 holds it now). */
hps_trial *hps_sweep_trial(const hps_sweep *s, int64_t id);

/* Trial id's unit point (d values); id must be a trial hps_sweep_trial holds. */
const double *hps_sweep_unit(const hps_sweep *s, int64_t id);

/* The best done trial (best_id), held or spilled; NULL when none is done. */
const hps_trial *hps_sweep_best(const hps_sweep *s);

/*
 * Rows a write of sweep.h5 would let go of now: the metric and rung rows a live
 * sweep holds, and its final trials before the first that is not (running,
 * interrupted, or done under a strategy that may promote it, or in deterministic
 * mode). 0 when nothing is ever let go of (no journal: a replay keeps everything).
 */
int64_t hps_sweep_spillable(hps_sweep *s);

/*
 * The memory a write of sweep.h5 would let go of now, in bytes: the rows
 * hps_sweep_spillable counts, each as it is held (a metric or rung row as its
 * struct, a final trial as its hps_trial and values, a packed one as its share of
 * the pack). What an early write is measured by: packed trials take a tenth of
 * the memory of held ones, so counting rows would write ten times too often.
 */
int64_t hps_sweep_held_bytes(hps_sweep *s);

/*
 * Between writes, let go of the final trials before the first that is not into
 * s->pack, as the /trials rows the next write takes as they are (store.h,
 * hps_store_pack): a trial held as a compressed row takes some 20 bytes instead of
 * some 240. Trials with a stderr tail wait for the write (their /failures row is
 * the write's). Packs only once the trials it would pack are at least
 * HPS_SWEEP_PACK_ROWS and as many as the trials it keeps (so moving those down
 * costs at most a copy per trial packed). A failure (out of memory, a row
 * /trials cannot hold) packs nothing more until the next write, which reports
 * what it must; nothing is lost.
 */
void hps_sweep_pack(hps_sweep *s);
#define HPS_SWEEP_PACK_ROWS 1024

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
 * HPS_EAGAIN (the strategy waits for a result; in deterministic mode also: the
 * rule needs a result not in yet, s->det.waiting_for) or HPS_EDONE (it has
 * nothing more): then no SUGGEST was committed. In deterministic mode a strategy
 * that waits with its window complete is shown the next run in order first (a
 * FEED record each). Other codes with err filled.
 */
int hps_sweep_commit_suggest(hps_sweep *s, hps_journal *j, int32_t worker, double start,
                             hps_apply_out *out, char *err, size_t errlen);

/* The budget cfg sets (its budget: section and parallelism). */
void hps_sweep_config_budget(const hps_config *cfg, hps_rec_budget *out);

/* Commit a BUDGET record when g differs from the budget in force (else nothing). */
int hps_sweep_commit_budget(hps_sweep *s, hps_journal *j, const hps_rec_budget *g, char *err,
                            size_t errlen);

/* Commit a new sweep's first records: its HEADER h, then a METRIC_NAME for metric
 * (index 0). What a sweep driven without the CLI starts with (tests, benchmarks);
 * `hpsweep run` queues the same records with the rest of its set-up. */
int hps_sweep_commit_start(hps_sweep *s, hps_journal *j, const hps_rec_header *h,
                           const char *metric, char *err, size_t errlen);

/* Replay every record of j into s. */
int hps_sweep_replay(hps_sweep *s, hps_journal *j, char *err, size_t errlen);

/* Memory a live sweep lets go of at a time: an early sweep.h5 write comes when a
 * write would free this many bytes (hps_sweep_held_bytes). */
#define HPS_SWEEP_SPILL_BYTES ((int64_t)8 << 20)

/*
 * hps_sweep_replay for a resume, which then commits to j: s lets go of trials as
 * a live sweep does, so that memory holds about what the sweep held when it
 * stopped rather than every trial of the journal. Whenever HPS_SWEEP_SPILL_BYTES
 * could be let go of (and not sooner than the last write's fixed part after it,
 * as the coordinator), it writes spill_path, a file of the sweep.h5 layout
 * without the status summary (it describes the journal's prefix) that is not
 * sweep.h5: a resume that stops before its first write leaves sweep.h5 as it
 * was. The first hps_sweep_write_store copies the spilled rows from it and
 * removes it (hps_sweep_free removes it otherwise). A write that fails is not an
 * error: the rest is held in memory. Deterministic sweeps keep every trial, as
 * live.
 */
int hps_sweep_replay_spilling(hps_sweep *s, hps_journal *j, const char *spill_path, char *err,
                              size_t errlen);

/* Oriented value of a done trial: lower is better (negated for maximize). */
double hps_sweep_oriented(const hps_sweep *s, double objective);

/* Index of a known metric name, or -1 (names are added by METRIC_NAME records). */
int hps_sweep_metric_index(const hps_sweep *s, const char *name);

/* Commit a RUN record: phase 0, this run began, with provenance p; phase 1, it
 * ended (p: the facts to add, such as end_time and end_status). */
int hps_sweep_commit_run(hps_sweep *s, hps_journal *j, uint32_t phase, const hps_prov *p,
                         char *err, size_t errlen);

/*
 * Deterministic mode: the stops decided since the last call (*n of them, valid
 * until the next apply), and forget them. The caller journals each as a PRUNE
 * record (hps_sweep_commit_prune) and stops the trial when it still runs.
 */
const hps_det_stop *hps_sweep_take_stops(hps_sweep *s, int *n);

/* Commit the PRUNE record of a stop hps_sweep_take_stops returned. */
int hps_sweep_commit_prune(hps_sweep *s, hps_journal *j, const hps_det_stop *stop, char *err,
                           size_t errlen);

/*
 * Write sweep.h5 from s (temp + fsync + rename), its provenance from the RUN
 * records (/provenance: the latest run's facts as attributes, every run's in
 * tables).
 *
 * A live sweep (one that has committed to a journal) then spills: the /metrics
 * rows just written leave memory (metrics_spilled counts them), and so do the
 * /rungs rows unless the sweep is deterministic (a run's rung row may still turn
 * pruned there), and the stderr tails of failed and pruned trials (which never
 * run again; tails_spilled names them). The next write copies them from the
 * sweep.h5 it finds at h5_path (hps_store_write_carry). When that file is
 * missing or cannot supply them (deleted, damaged, replaced), the file is
 * rebuilt with rows from a replay of the journal instead, so that journal must
 * still be open. A sweep only replayed (status, tests) keeps every row.
 */
int hps_sweep_write_store(hps_sweep *s, const char *h5_path, char *err, size_t errlen);

#endif
