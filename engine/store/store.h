/*
 * The HDF5 results file (sweep.h5), written whole from the engine's in-memory
 * trial table: to "<path>.tmp", seal, fsync, rename over path. Readers (h5py,
 * h5dump, `hpsweep best`) therefore always see a complete file, even while the
 * sweep runs or after a kill -9, and the file can be rebuilt from the journal at
 * any time.
 *
 * Integrity: the file has a 512-byte user block holding a CRC-32C of the rest
 * (store_seal.c), which hps_results_open() checks before HDF5 reads anything; it is
 * written in HDF5's 1.10 format, whose metadata HDF5 checksums itself; every
 * chunked table has the Fletcher-32 filter and a `rows` attribute (int64) that
 * the reader compares with the table's extent.
 *
 * Layout (format_version 1), readable without hpsweep:
 *   /  attrs   format_version (int), hpsweep_version, name, seed (uint64), strategy,
 *              objective, metric, goal, status, created, updated (strings),
 *              deterministic (int 0/1), parallelism (int: the P of a deterministic
 *              sweep, else the cap on concurrent trials, 0 = none)
 *   /config                 the sweep YAML verbatim (variable-length string)
 *   /provenance             group; one string attribute per provenance key (the
 *                           latest run's facts), and tables of every run's
 *                           (store_prov.c): runs, hosts, files, facts
 *   /space                  compound: name, type, low, high, log, choices
 *                           (choices joined with '\n'), grid_points
 *   /trials                 compound, chunked, extendible (unlimited rows):
 *                           trial_id, status (enum), seed, bracket, rung, budget,
 *                           worker, start, end, objective, cause, exit_code (int32,
 *                           -1: none), attempts (int32), then one column per
 *                           parameter: float/int as double/int64, categorical as an
 *                           int32 enum of its choices, bool as an int8 enum
 *                           FALSE/TRUE (h5py reads it as numpy bool); attributes
 *                           rows, ranked_rows and best_rows (the best trials' rows,
 *                           store_index.c), and the status summary status_*
 *                           (hps_store_summary below, store_index.c)
 *   /failures               compound, chunked, extendible: trial_id (int64),
 *                           exit_code (int32), attempts (int32), stderr_tail (fixed
 *                           string of HPS_STDERR_TAIL_LEN bytes, NUL-padded, UTF-8);
 *                           one row per trial with a non-empty stderr_tail, in trial
 *                           order; always present, 0 rows when there are none
 *   /rungs                  compound, chunked, extendible: trial_id (int64),
 *                           bracket, rung (int32), budget (double), status (the
 *                           /trials enum), objective, start, end (double), worker
 *                           (int32); one row per result: every rung a trial ran,
 *                           for Hyperband-family sweeps; /trials keeps each trial's
 *                           latest. Always present, 0 rows when there are none
 *   /metrics                compound, chunked, extendible: trial_id, step,
 *                           resource, name_index, value
 *   /metric_names           variable-length strings
 *
 * A parameter's /trials column is named after the parameter unless that equals a
 * fixed column or an earlier parameter's column; then "param." is prepended until
 * it is unique (a parameter "seed" gets the column "param.seed"). /space also has
 * choice_kinds ("string", "number" or "bool" per choice, joined with '\n') so that
 * choices read back with their kind; a categorical enum's members are the choice
 * texts, "<empty>" for an empty one and a "~1", "~2", ... suffix on a repeat.
 *
 * exit_code, attempts and /failures were added within format_version 1: files
 * written before them lack those columns (and name a parameter "exit_code" or
 * "attempts" without the prefix); hps_results_open() reads such a file with
 * exit_code -1, attempts 0 and no stderr tails. A tail longer than
 * HPS_STDERR_TAIL_LEN - 1 bytes is stored cut to that length (back to the start of
 * a UTF-8 character). /rungs was added within format_version 1 too: a file
 * without it reads with n_rungs = 0.
 */
#ifndef HPS_STORE_STORE_H
#define HPS_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hpsweep/results.h"
#include "hpsweep/space.h"
#include "prov.h"

#define HPS_STORE_FORMAT_VERSION 1

typedef struct hps_kv {
    const char *key;
    const char *value;
} hps_kv;

/*
 * What the sweep knows that its trial table does not say, for the status summary
 * stored with /trials (store_index.c): the best trial as the sweep chose it (ties go
 * to the result applied first) and the budget in force (the config's, or the last
 * BUDGET record's).
 */
typedef struct hps_store_sweep_facts {
    int64_t best_id;           /* -1: no trial done */
    int64_t max_trials;
    double max_time, max_resource;
    int32_t parallelism;
} hps_store_sweep_facts;

typedef struct hps_store_meta {
    const char *name;
    uint64_t seed;
    const char *strategy;
    const char *objective;
    const char *metric;
    const char *goal;          /* "minimize" | "maximize" */
    const char *status;        /* "running" | "completed" | "interrupted" | ... */
    const char *created;       /* ISO 8601 UTC */
    const char *updated;
    const char *config_text;
    const hps_space *space;
    int n_provenance;
    const hps_kv *provenance;
    int deterministic;         /* root attribute deterministic (0/1) */
    int parallelism;           /* root attribute parallelism */
    const hps_prov *runs;      /* every run's provenance, first to latest (may be NULL) */
    int n_runs;
    const hps_store_sweep_facts *facts; /* NULL: no status summary is stored */
    const struct hps_store_index *index; /* the /trials index attributes are written from
                                            (its n_rows the trials given); NULL: built
                                            from the trials */
    const char *carry_from;    /* hps_store_write_carry: the file the carried rows are
                                  copied from, when not the one at path it replaces (a
                                  resume's replay writes its own, hps_sweep_replay_spilling) */
    double *row_seconds;       /* not NULL: set to the seconds the write spent on the
                                  /trials, /rungs and /metrics rows given (packing and
                                  compressing them), the part of its time that grows
                                  with them rather than with the file */
} hps_store_meta;

/*
 * Write the whole file: path.tmp, seal, fsync, rename to path. trials[i].values
 * has meta->space->n_params entries; rungs (n_rungs rows, NULL when 0) are every
 * result of the sweep's trials, written to /rungs in the order given. Nothing is
 * taken over: the caller keeps every array. Returns HPS_OK, HPS_EHDF5, HPS_EIO,
 * HPS_ENOSPC (the disk or quota is full), HPS_ENOMEM or HPS_EINVAL (a trial or
 * rung status out of range, a negative attempts count or a parameter value its
 * column cannot hold) with err filled (err may be NULL). On failure path is left
 * as it was and no temp file remains.
 */
int hps_store_write(const char *path, const hps_store_meta *meta, const hps_trial *trials,
                    int64_t n_trials, const hps_metric *metrics, int64_t n_metrics,
                    const char *const *metric_names, int n_metric_names, const hps_rung *rungs,
                    int64_t n_rungs, char *err, size_t errlen);

/*
 * /trials rows packed ahead of a write (store_pack.c): rows [first, first + n) in
 * the file's row layout, each whole chunk of them compressed and checksummed as
 * sweep.h5 stores it, so a writer holds a finished trial in about what the file
 * takes (some 20 bytes) rather than as an hps_trial, and a rewrite copies the
 * chunks as they are (hps_store_carry.packed). The rows before the pack's first
 * whole chunk and after its last stay packed but uncompressed (under two chunks).
 */
typedef struct hps_store_pack hps_store_pack;

/* A pack of /trials rows over space starting at row first (space must outlive
 * it). HPS_OK, HPS_ENOMEM, HPS_EINVAL (a space sweep.h5 cannot hold) or
 * HPS_EHDF5, with err filled. */
int hps_store_pack_open(hps_store_pack **out, const hps_space *space, int64_t first, char *err,
                        size_t errlen);

/* Add trial t as the row after the last. HPS_OK, or HPS_EINVAL (a row /trials
 * cannot hold: hps_store_write would refuse it too), HPS_ENOMEM or HPS_EHDF5
 * (compressing the chunk before it), with err filled; the pack is unchanged then. */
int hps_store_pack_add(hps_store_pack *pk, const hps_trial *t, char *err, size_t errlen);

/* Take back the row the last successful hps_store_pack_add added. */
void hps_store_pack_undo(hps_store_pack *pk);

int64_t hps_store_pack_first(const hps_store_pack *pk);
int64_t hps_store_pack_rows(const hps_store_pack *pk);

/* The bytes the pack holds (rows, chunks and its compressor's scratch file). */
size_t hps_store_pack_bytes(const hps_store_pack *pk);

void hps_store_pack_free(hps_store_pack *pk); /* NULL: no-op */

/* Rows of the append-only tables that an earlier write put in the file at path
 * and the caller no longer holds (hps_store_write_carry). */
typedef struct hps_store_carry {
    int64_t trials;            /* /trials rows [0, trials): trials[] holds the rows after
                                  them (trials[0] is trial `trials`) */
    int64_t failure_rows;      /* /failures rows [0, failure_rows): those of the trials
                                  before carry->trials */
    int64_t metrics;           /* /metrics rows [0, metrics) */
    int64_t rungs;             /* /rungs rows [0, rungs) */
    const int64_t *failures;   /* the trials (ascending ids, stderr_tail NULL in trials)
                                  whose /failures row is the earlier file's, after the
                                  failure_rows carried whole */
    int64_t n_failures;
    const hps_store_pack *packed; /* NULL, or /trials rows [trials, trials + its rows),
                                  which trials[] follows (trials[0] is the row after
                                  them); the packed trials have no /failures row */
} hps_store_carry;

/*
 * hps_store_write, except that the first carry->trials rows of /trials,
 * carry->failure_rows rows of /failures, carry->metrics rows of /metrics and
 * carry->rungs rows of /rungs are not the caller's: they are copied from the
 * file now at path, which an earlier write of this sweep made (whole chunks as
 * stored, the rest a block at a time); trials, metrics and rungs hold the rows
 * after them. So a coordinator that keeps only the rows since its last write still
 * writes whole tables (those rows are only ever appended: what was written never
 * changes; a trial's row is let go of only once it is final). With carry->trials
 * > 0, meta->index must be given and cover all carry->trials + n_trials rows (the
 * writer does not hold the early rows to rank them). Likewise the /failures rows
 * of the trials carry->failures names (finished for good; their stderr_tail is
 * NULL in trials) come from that file.
 * The file at path (or meta->carry_from, when given) must be sealed and intact,
 * have meta's name and created attributes, and hold every row asked for. Returns
 * what hps_store_write returns, or, before path is touched, HPS_ENOENT (no such
 * file) or HPS_EDAMAGED (the file cannot supply the rows: damaged, another
 * sweep's, rows missing; err says which): take the rows from elsewhere (the
 * journal) then.
 * carry NULL or all zero is hps_store_write.
 */
int hps_store_write_carry(const char *path, const hps_store_meta *meta,
                          const hps_store_carry *carry, const hps_trial *trials,
                          int64_t n_trials, const hps_metric *metrics, int64_t n_metrics,
                          const char *const *metric_names, int n_metric_names,
                          const hps_rung *rungs, int64_t n_rungs, char *err, size_t errlen);

/*
 * Whether sweep.h5 can hold a sweep over space: HPS_OK, or HPS_EINVAL with err
 * saying which parameter or how many are too many (HDF5 keeps a table's row type
 * in at most 64 KiB: a few thousand parameters or some thousands of choices do
 * not fit). Call it before a sweep runs. Linear in the number of choices for
 * spaces far over the limit.
 */
int hps_store_check_space(const hps_space *space, char *err, size_t errlen);

/* The status summary's limits: `hpsweep status` shows at most these. */
enum {
    HPS_STORE_STATUS_CAUSES = 16,   /* distinct failure causes counted by name */
    HPS_STORE_STATUS_FAILURES = 20, /* recent failures listed */
    HPS_STORE_RATE_WINDOW = 900     /* seconds of finished trials the rate is measured over */
};

/* Row indices of the best trials stored with /trials (store_index.c). */
#define HPS_STORE_BEST_ROWS 64

/*
 * What the /trials index attributes (ranked_rows, best_rows and the status
 * summary, store_index.c) are written from, kept small: the top
 * HPS_STORE_BEST_ROWS ranked rows with the budget and objective that order them,
 * the counts, the first causes, the latest failed rows, the finished trials still
 * inside the rate window, and the running rows (store_rank.c). Rows are added in
 * row order (hps_store_index_add), so a copy of the index of rows 0..k-1 extended
 * with rows k..n-1 is the index of all n: a writer that no longer holds the early
 * rows keeps their index instead. Its size does not grow with the rows added,
 * except for the running rows: the rate window is counted per whole second of the
 * last HPS_STORE_RATE_WINDOW (hps_store_in_rate_window), not kept row by row.
 */
typedef struct hps_store_index_top {
    int64_t row;
    double budget, objective;
} hps_store_index_top;

/* One second of the rate window: the finished trials that ended in it (Unix
 * seconds, rounded down) and the earliest start among them. */
typedef struct hps_store_index_second {
    int64_t second;            /* INT64_MIN: none yet */
    int64_t n;
    double first;
} hps_store_index_second;

typedef struct hps_store_index {
    int maximize;
    int64_t n_rows;            /* rows added: 0..n_rows-1 */
    int64_t ranked;            /* of them done with a finite objective */
    int n_top;                 /* the best of those, best first */
    hps_store_index_top top[HPS_STORE_BEST_ROWS];
    int64_t counts[6];         /* as hps_store_summary's */
    int n_causes;              /* distinct causes, first seen first */
    char causes[HPS_STORE_STATUS_CAUSES][HPS_CAUSE_LEN];
    int64_t cause_rows[HPS_STORE_STATUS_CAUSES];
    int64_t cause_counts[HPS_STORE_STATUS_CAUSES];
    int64_t other_causes;
    int64_t n_failed;          /* failed rows seen; the latest are in failed[n % F] */
    int64_t failed[HPS_STORE_STATUS_FAILURES];
    double last;               /* the latest finite end of a finished trial (-inf: none) */
    hps_store_index_second window[HPS_STORE_RATE_WINDOW]; /* second s in slot s mod the
                                  window; those before the window's are stale */
    size_t n_running, cap_running;
    int64_t *running;          /* running rows, in row order */
} hps_store_index;

/* Empty index for the goal (maximize: 1 for "maximize"). */
void hps_store_index_init(hps_store_index *ix, int maximize);

/* Free what ix owns and empty it (as init, the goal kept); NULL-safe. */
void hps_store_index_free(hps_store_index *ix);

/* Add trial t as row ix->n_rows. HPS_OK or HPS_ENOMEM; ix is unchanged on
 * failure. */
int hps_store_index_add(hps_store_index *ix, const hps_trial *t);

/* dst (not initialised) := a copy of src. HPS_OK or HPS_ENOMEM (dst empty). */
int hps_store_index_copy(hps_store_index *dst, const hps_store_index *src);

/* dst (not initialised) := the index of src's rows, then trials[0..n) as the rows
 * after them; src is unchanged. HPS_OK or HPS_ENOMEM (dst empty). */
int hps_store_index_extend(hps_store_index *dst, const hps_store_index *src,
                           const hps_trial *trials, int64_t n);

/* ix (not initialised) := the index of trials[0..n). HPS_OK or HPS_ENOMEM (ix
 * empty). */
int hps_store_index_build(hps_store_index *ix, const hps_trial *trials, int64_t n,
                          int maximize);

/*
 * The rate window up to t1 (the latest end, or now): whether a finished trial
 * that ended at `end` is in it. It is the HPS_STORE_RATE_WINDOW whole seconds
 * (Unix seconds, rounded down) up to and including t1's, and ends after t1 are
 * not in it: counted per second, a window that moves on forgets whole seconds,
 * so it costs the same memory at any rate of trials.
 */
int hps_store_in_rate_window(double end, double t1);

/* ix's rate window, up to its latest end: the finished trials in it (*n) and the
 * earliest start among them (*first; ix->last when none has a start). */
void hps_store_index_rate(const hps_store_index *ix, int64_t *n, double *first);

/*
 * The status summary stored with /trials (store_index.c; the README's HDF5
 * layout lists its attributes): what `hpsweep status` shows of a sweep that no
 * coordinator runs, as of the journal position it was written from. Row numbers
 * are /trials rows (the trial ids).
 */
typedef struct hps_store_summary {
    int64_t journal[4];        /* the journal beside the file as the writer saw it:
                                  bytes, mtime (ns since the epoch), inode, device */
    hps_store_sweep_facts facts;
    int64_t counts[6];         /* trials: total, done, running, failed, interrupted, pruned */
    double rate_last;          /* the last finished trial's end (NaN: none) */
    int64_t rate_n;            /* finished trials that ended in the window before it */
    double rate_first;         /* the earliest start among those */
    int n_causes;              /* distinct causes of failed trials, in first-seen order */
    int64_t cause_rows[HPS_STORE_STATUS_CAUSES];   /* each cause's first failed row */
    int64_t cause_counts[HPS_STORE_STATUS_CAUSES];
    int64_t other_causes;      /* failures whose cause did not fit */
    int n_failed_rows;         /* the latest failed rows, newest first */
    int64_t failed_rows[HPS_STORE_STATUS_FAILURES];
    int64_t n_running_rows;
    int64_t *running_rows;     /* every running trial's row, in row order (malloc'd) */
} hps_store_summary;

/*
 * Read the status summary of the sweep.h5 at path into out (free it with
 * hps_store_summary_free). HPS_OK; HPS_ENOSYS when the file has none (written
 * before it existed, or without a journal beside it); HPS_ECORRUPT, HPS_EHDF5,
 * HPS_ENOMEM, HPS_EIO with err filled.
 */
int hps_store_read_summary(const char *path, hps_store_summary *out, char *err, size_t errlen);

/*
 * Open the sweep.h5 at path as hps_results_open() does, with only the /trials
 * rows rows[0..n) as out->trials, in that order (without stderr tails): what the
 * status summary names. Same return codes as hps_results_open().
 */
int hps_results_open_rows(const char *path, const int64_t *rows, int n, hps_results *out,
                          char *err, size_t errlen);

/* Free what out owns; NULL-safe. */
void hps_store_summary_free(hps_store_summary *out);

/* Silence HDF5's automatic error stack printing (call once per process). */
void hps_store_quiet(void);

#endif
