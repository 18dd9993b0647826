/*
 * The search-strategy plug-in interface.
 *
 * A strategy is a const table of function pointers (hps_strategy_ops, version
 * first, fields only ever appended, optional hooks may be NULL) plus an opaque
 * state. Strategies are pure: they never touch MPI, files, clocks or exit(). Same
 * seed + same sequence of suggest/observe calls => same decisions, bit for bit.
 * This is what makes resume exact: the engine replays the journal through a fresh
 * strategy.
 *
 * Strategies work in the unit hypercube [0,1]^d (see space.h). Values passed to
 * observe() are always "lower is better": the engine negates the metric when the
 * goal is maximize.
 */
#ifndef HPSWEEP_STRATEGY_H
#define HPSWEEP_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "hpsweep/space.h"

/* 2: the save/restore hooks of version 1 are gone (resume replays the journal
 * through a fresh strategy, which is exact because strategies are pure). */
#define HPS_STRATEGY_VERSION 2

/* hps_strategy_ops.flags */
enum {
    /* Suggestions learn from observations (a model): the engine keeps at most one
     * trial per worker in flight instead of batching trials ahead. */
    HPS_STRATEGY_ADAPTIVE = 1u << 0,
    /* The strategy runs out by itself (suggest returns HPS_EDONE), so a sweep
     * needs no budget (grid). */
    HPS_STRATEGY_FINITE = 1u << 1,
    /* suggest never promotes an earlier trial: once a trial has ended, the engine
     * may let go of it (sweep.h5 keeps it) instead of holding every trial in
     * memory. A strategy without the flag may promote any completed trial. */
    HPS_STRATEGY_NO_PROMOTION = 1u << 2
};

/* ---- options a strategy accepts under `strategy:` in the YAML ---------------- */

typedef enum hps_opt_type {
    HPS_OPT_INT = 0,    /* integer in [min, max] */
    HPS_OPT_FLOAT = 1,  /* real in [min, max] */
    HPS_OPT_ENUM = 2,   /* one of choices (NULL-terminated) */
    HPS_OPT_BOOL = 3,   /* true/false */
    HPS_OPT_STRING = 4  /* any scalar, kept as text (e.g. a resource's name) */
} hps_opt_type;

typedef struct hps_option_spec {
    const char *name;
    hps_opt_type type;
    double min, max;             /* INT/FLOAT bounds (inclusive) */
    const char *const *choices;  /* ENUM: NULL-terminated list */
    const char *help;            /* one line for the README/--help */
} hps_option_spec;

/*
 * The validated options from the config, as text (the config checked each key
 * exists in the strategy's option list and each value has the right type and
 * range, so the getters below cannot fail on them).
 */
typedef struct hps_strategy_cfg {
    int n;                /* number of options given */
    const char **keys;    /* option names */
    const char **values;  /* option values as written (scalars) */
} hps_strategy_cfg;

/*
 * The multi-fidelity strategies (hyperband, asha, bohb: those whose options include
 * max_resource) run each trial to a budget between their options min_resource and
 * max_resource; these are the defaults when the options are absent.
 */
#define HPS_MIN_RESOURCE_DEFAULT 1.0
#define HPS_MAX_RESOURCE_DEFAULT 81.0

/* Option getters: the value given in cfg, or dflt when absent (cfg may be NULL). */
long hps_strategy_cfg_int(const hps_strategy_cfg *cfg, const char *key, long dflt);
double hps_strategy_cfg_double(const hps_strategy_cfg *cfg, const char *key, double dflt);
const char *hps_strategy_cfg_str(const hps_strategy_cfg *cfg, const char *key, const char *dflt);
int hps_strategy_cfg_bool(const hps_strategy_cfg *cfg, const char *key, int dflt);

/* ---- suggestions, observations, decisions ------------------------------------ */

/*
 * What suggest() fills in. The engine allocates u[n_params] and presets trial_id
 * to the id a new trial would get (ids are dense: 0, 1, 2, ...). A strategy that
 * promotes a trial sets trial_id to that trial's id, promotion = 1 and a larger
 * budget (u is then ignored: the trial keeps its configuration). Only a trial
 * whose last rung completed (observed FINAL) may be promoted; the objective then
 * continues it from its checkpoint (HPSWEEP_RESUME=1). The FINAL observation of a
 * trial reports resource = the budget it ran to.
 */
typedef struct hps_suggestion {
    double *u;           /* [n_params] point in the unit hypercube (engine-owned buffer) */
    int64_t trial_id;    /* preset by the engine; changed only for promotions */
    int promotion;       /* 1: continue trial_id at a larger budget */
    double budget;       /* resource for multi-fidelity strategies; 0 = full */
    int32_t bracket;     /* -1 when not applicable */
    int32_t rung;        /* -1 when not applicable */
} hps_suggestion;

typedef enum hps_obs_kind {
    HPS_OBS_INTERMEDIATE = 0, /* a report at `resource`; the trial is still running */
    HPS_OBS_FINAL = 1,        /* the trial completed with `value` */
    HPS_OBS_FAILED = 2        /* the trial failed: value is meaningless */
} hps_obs_kind;

typedef struct hps_observation {
    int64_t trial_id;
    hps_obs_kind kind;
    const double *u;     /* the trial's unit point (as suggested) */
    double value;        /* lower is better */
    double resource;     /* budget/step at which value was measured */
    int64_t step;
    /* Pruners' report() only: with has_horizon, decide as if only the first
     * `horizon` finish() calls had been made (and the curves of those trials as
     * they were when they finished). Deterministic mode sets it to what the
     * trial's own suggestion knew; 0 otherwise (decide on everything). */
    int has_horizon;
    int64_t horizon;
} hps_observation;

typedef enum hps_decision {
    HPS_DECISION_CONTINUE = 0,
    HPS_DECISION_PAUSE = 1,  /* stop now, may be promoted later */
    HPS_DECISION_STOP = 2    /* stop now for good (pruned) */
} hps_decision;

/* ---- the ops table ----------------------------------------------------------- */

typedef struct hps_strategy_ops {
    int version;                      /* HPS_STRATEGY_VERSION */
    const char *name;                 /* "random", "grid", "gp", ... */
    const hps_option_spec *options;   /* accepted options, terminated by {NULL} */

    /* Create a state for space (which outlives the state). HPS_OK, HPS_ECONFIG
     * (with an explanation in err[errlen] when err != NULL), HPS_ENOMEM. */
    int (*create)(const hps_space *space, const hps_strategy_cfg *cfg, uint64_t seed,
                  void **state, char *err, size_t errlen);
    void (*destroy)(void *state);     /* NULL-safe */

    /* HPS_OK (out filled), HPS_EAGAIN (wait for an observation), HPS_EDONE. A call
     * that returns HPS_EAGAIN or HPS_EDONE must leave the state unchanged (the
     * journal does not record it, so replay does not repeat it). */
    int (*suggest)(void *state, hps_suggestion *out);

    /* Record an observation; for HPS_OBS_INTERMEDIATE also decide (decision may be
     * NULL for other kinds). HPS_OK or an error code. */
    int (*observe)(void *state, const hps_observation *obs, hps_decision *decision);

    unsigned flags;                   /* HPS_STRATEGY_* */
} hps_strategy_ops;

/* ---- pruners ------------------------------------------------------------------ */

/*
 * A pruner stops unpromising trials early, for any strategy: `strategy.pruner`
 * in the YAML. Like strategies, pruners are pure (no MPI, files, clocks) and
 * deterministic, so replay restores them exactly. The engine calls report() for
 * every intermediate observation of the sweep's metric the strategy answered
 * CONTINUE to, and finish() for every final or failed trial (so it can learn
 * completed curves). In deterministic mode report() is called as each report
 * arrives, with a horizon (hps_observation): the decision must use only the
 * first `horizon` finish() calls, which makes it independent of arrival order;
 * finish() comes once per run, in suggestion order.
 */
typedef struct hps_pruner_ops {
    int version;                      /* HPS_STRATEGY_VERSION */
    const char *name;                 /* "median" */
    const hps_option_spec *options;   /* accepted options, terminated by {NULL} */
    int (*create)(const hps_strategy_cfg *cfg, void **state, char *err, size_t errlen);
    void (*destroy)(void *state);     /* NULL-safe */
    /* An intermediate value (obs->kind INTERMEDIATE): CONTINUE or STOP. */
    int (*report)(void *state, const hps_observation *obs, hps_decision *decision);
    /* The trial ended (FINAL or FAILED). */
    int (*finish)(void *state, const hps_observation *obs);
} hps_pruner_ops;

/* The registered pruner called name, or NULL; all pruners, NULL-terminated. */
const hps_pruner_ops *hps_pruner_find(const char *name);
const hps_pruner_ops *const *hps_pruner_list(void);

/* The registered strategy called name, or NULL. */
const hps_strategy_ops *hps_strategy_find(const char *name);

/* All registered strategies, NULL-terminated. */
const hps_strategy_ops *const *hps_strategy_list(void);

#endif
