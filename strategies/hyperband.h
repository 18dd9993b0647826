/*
 * Private to strategies/: the multi-fidelity family (hyperband, asha, bohb).
 *
 *   hyperband.c        options, create/destroy, observe, the three ops tables
 *   hyperband_sched.c  successive-halving arithmetic, Hyperband brackets, ASHA rungs
 *   hyperband_model.c  where new configurations come from: uniform, Sobol, or a
 *                      model (tpe/gp ops) per budget level, as in BOHB
 *
 * Budgets. With R = max_resource / min_resource and eta, s_max = floor(log_eta R).
 * A budget level j in 0..s_max is the budget max_resource * eta^-j (level 0 is the
 * full budget). Hyperband bracket s has rungs i = 0..s at level s - i; ASHA's rung
 * k is level s_max - k. Every rung of either scheduler is a list of entries
 * (trial, value at that rung, state).
 */
#ifndef HPS_HYPERBAND_H
#define HPS_HYPERBAND_H

#include <stdint.h>

#include <gsl/gsl_qrng.h>

#include "core/grow.h"
#include "core/seed.h"
#include "hpsweep/strategy.h"
#include "idmap.h"

#define HB_MAX_RATIO 1099511627776.0 /* 2^40: the largest max_resource / min_resource */

/* ---- successive-halving arithmetic (Li et al. 2018, Algorithm 1) ------------------ */

/* s_max = floor(log_eta(max_r / min_r)), computed without rounding trouble
 * (max_r >= min_r > 0, eta >= 2, ratio <= HB_MAX_RATIO). */
int hb_s_max(double min_r, double max_r, int eta);

/* Configurations in rung i of bracket s: n_i = floor(n * eta^-i) with
 * n = ceil((s_max + 1) / (s + 1) * eta^s), in exact integer arithmetic. */
int64_t hb_rung_n(int s_max, int s, int i, int eta);

/* Budget of rung i of bracket s: max_r * eta^(i - s) (= r * eta^i, r = R eta^-s). */
double hb_rung_budget(double max_r, int s, int i, int eta);

/* ---- state ---------------------------------------------------------------------------- */

typedef enum hb_kind { HB_HYPERBAND = 0, HB_ASHA = 1 } hb_kind;
typedef enum hb_sampler { HB_RANDOM = 0, HB_SOBOL = 1, HB_GP = 2, HB_TPE = 3 } hb_sampler;

enum { HB_RUNNING = 0, HB_DONE = 1, HB_FAILED = 2 };

typedef struct hb_entry {
    int t;                  /* index in the trial table */
    unsigned char state;    /* HB_RUNNING, HB_DONE, HB_FAILED */
    unsigned char promoted; /* continued into the next rung */
    double value;           /* at this rung, when HB_DONE */
} hb_entry;

typedef struct hb_rung {
    hb_entry *e;
    int n;
    size_t cap;
    int n_done;             /* entries HB_DONE or HB_FAILED */
} hb_rung;

typedef struct hb_bracket {
    int s;                  /* bracket index: s + 1 rungs */
    int64_t n0, started;    /* rung-0 size and configurations started */
    int cur;                /* the rung being run */
    int *queue;             /* trial indices to promote into rung cur (cur > 0) */
    int nq, next;           /* queue length, next to pop */
    hb_rung *rungs;         /* [s + 1] */
    int finished;
} hb_bracket;

/* One finished entry of a rung, as ranked: value (HUGE_VAL when failed), ties by id. */
typedef struct hb_rank_item {
    double value;
    int64_t id;
    int idx;                /* entry index in the rung */
} hb_rank_item;

typedef struct hb_trial {
    int64_t id;
    int bracket;            /* index into brackets (hyperband), -1 (asha) */
    int rung;               /* last rung started */
    int entry;              /* its entry in that rung */
    int running;
    int model_level;        /* level whose model suggested it and holds it pending, -1 */
} hb_trial;

/* Observations at one budget level, and the model fitted on them (lazily). */
typedef struct hb_level {
    int n, cap, n_final;
    int64_t *id;
    double *u;              /* [cap][d] */
    double *y;
    unsigned char *failed;
    void *inner;            /* model_ops state, or NULL until needed */
} hb_level;

typedef struct hb_state {
    hb_kind kind;
    const hps_space *space;
    int d;
    uint64_t seed;
    double min_r, max_r;
    int eta, s_max;

    hb_sampler sampler;
    const hps_strategy_ops *model_ops; /* tpe or gp, or NULL */
    double random_fraction;
    int min_points;
    const char *model_keys[3], *model_vals[3];
    char model_buf[3][32];
    hps_strategy_cfg model_cfg;

    hb_trial *t;            /* trials, in the order they were started */
    double *us;             /* [capt][d] their unit points */
    int nt, capt;
    hps_idmap ids;          /* trial id -> index in t */

    hb_bracket *br;         /* hyperband: every bracket opened */
    int nbr, first_active, next_s;
    size_t capbr;

    hb_rung *asha;          /* asha: [s_max + 1] */

    gsl_qrng *qrng;         /* sobol */
    double *shift, *q;      /* [d] */
    hb_level *levels;       /* [s_max + 1] */

    hb_rank_item *sortbuf;  /* scratch for ranking a rung */
    int sortcap;
} hb_state;

/* ---- hyperband.c ------------------------------------------------------------------------ */

/* A new configuration for out->trial_id (sampled into out->u), entered running in
 * rung r (rung index `rung` of bracket index `bracket`, -1 for asha); the trial's
 * index, or HPS_EINVAL (the id is taken) / HPS_ENOMEM. */
int hb_new_trial(hb_state *s, hps_suggestion *out, hb_rung *r, int bracket, int rung);

/* The index of trial id, or -1. */
int hb_trial_find(const hb_state *s, int64_t id);

/* ---- hyperband_sched.c -------------------------------------------------------------- */

/* Append an entry for trial t (running) to rung r; its index, or HPS_ENOMEM (< 0). */
int hb_rung_add(hb_rung *r, int t);

/* The rung and entry a trial's current run is recorded in. */
hb_entry *hb_trial_entry(hb_state *s, int t);

/* A rung's finished entries ranked best first (failed last, ties by trial id) into
 * s->sortbuf; their count, or HPS_ENOMEM. */
int hb_rank(hb_state *s, const hb_rung *r);

/* Hyperband / ASHA suggest; and the hyperband bookkeeping after trial t finished. */
int hb_suggest_hyperband(hb_state *s, hps_suggestion *out);
int hb_suggest_asha(hb_state *s, hps_suggestion *out);
int hb_after_result(hb_state *s, int t);

/* ---- hyperband_model.c ---------------------------------------------------------------- */

/* Fill out->u with a new configuration for trial out->trial_id and record, in
 * *model_level, the level whose model produced it (-1: uniform/Sobol). */
int hb_sample(hb_state *s, hps_suggestion *out, int *model_level);

/* Record a finished run of trial t at budget level j (FINAL value or failure). */
int hb_level_add(hb_state *s, int j, int t, double value, int failed);

void hb_levels_free(hb_state *s);

#endif
