/*
 * What the files of the coordinator core (coord.h) share: its state and the
 * functions one file gives the other. coord.c runs the loop (dispatch, results,
 * lifecycle); coord_reports.c takes intermediate reports and stops trials
 * (the strategy's and pruner's decisions, deterministic mode's PRUNE records).
 */
#ifndef HPS_COORD_COORD_INTERNAL_H
#define HPS_COORD_COORD_INTERNAL_H

#include "coord.h"
#include "progress.h"
#include "wire/protocol.h"


/* A group's batches in flight, oldest first. A batch's results may arrive in one
 * message (MPI) or trial by trial (in-process). */
typedef struct group {
    int busy;             /* batches in flight (0..2) */
    int head;             /* index of the oldest in left[] */
    int64_t left[2];      /* trials of each batch still to report */
    int64_t in_flight;    /* trials in flight */
} group;

typedef struct coord {
    hps_sweep *s;
    hps_journal *j;
    hps_transport *t;
    const hps_coord_opts *o;
    char *err;
    size_t errlen;
    group *groups;
    int n_active;         /* groups that get trials (parallelism cap) */
    int64_t *requeue;     /* trials to re-run, ascending id */
    int64_t n_requeue, requeue_pos;
    int exhausted;        /* strategy said EDONE or the budget is spent */
    int waiting;          /* strategy said EAGAIN */
    double ewma;          /* seconds per trial (< 0: unknown) */
    hps_buf rec;          /* record payload scratch */
    double run_start;     /* wall time this run began */
    double last_store, store_cost, store_fixed;
    int64_t store_writes;       /* sweep.h5 rewrites of this run */
    int64_t held_max;           /* the most trials memory held at a rewrite */
    hps_progress progress;
    double loop_start, cpu_start;  /* for the summary line */
    int64_t ended_at_start;
    unsigned char *pruning;        /* [cap_pruning] 1: a PRUNE went out for the trial */
    size_t cap_pruning;
    int consecutive_failures;      /* failed attempts since the last good trial */
    int too_many_failures;         /* budget.max_consecutive_failures reached */
    hps_report_line *line;         /* REPORT decoding scratch */
} coord;

/* Commit a record whose payload is in payload (coord.c). */
int hps_coord_commit(coord *c, uint32_t type, int64_t trial_id, const hps_buf *payload,
                     hps_apply_out *out);

/* An intermediate report from group g: commit it, stop the trial if told to. */
int hps_coord_take_report(coord *c, int g, const void *msg, size_t len);

/* Deterministic mode: journal the stops the last records decided (PRUNE) and,
 * with send, stop those trials that still run. */
int hps_coord_settle_stops(coord *c, int send);

#endif
