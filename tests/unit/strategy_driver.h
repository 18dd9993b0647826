/*
 * A test driver for strategies: it makes the calls the engine makes and records
 * what the strategy decides, so two runs can be compared byte for byte. Shared by
 * the strategy contract suite and any strategy's own tests (include after
 * cmocka.h; everything is static inline, so unused parts cost nothing).
 *
 * The driver keeps up to `batch` trials pending and observes them in order or in
 * a scrambled order; every 7th trial fails (value NaN, which a strategy must
 * ignore), every 5th sends an intermediate report first (and ends there when the
 * strategy pauses or stops it), and promotions keep their trial id. A trace is
 * the byte record of every return code, suggestion and decision; an event log is
 * the list of calls, for replaying them into a fresh state.
 */
#ifndef HPS_TEST_STRATEGY_DRIVER_H
#define HPS_TEST_STRATEGY_DRIVER_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "hpsweep/strategy.h"

#define MAXD 48   /* largest space a driver handles */
#define MAXP 8    /* most pending trials the driver keeps */

typedef struct pending_trial {
    int64_t id;
    double budget;
    double u[MAXD];
} pending_trial;

typedef struct driver {
    const hps_strategy_ops *ops;
    void *st;
    int d;
    int batch;            /* most pending trials */
    int scramble;         /* observe pending trials in a pseudo-random order */
    uint64_t lcg;         /* the scrambler's state */
    int64_t next_id;      /* the id the next new trial gets */
    int npend;
    pending_trial pend[MAXP];
    int done;             /* suggest returned HPS_EDONE */
    long n_ok;            /* HPS_OK suggestions so far */
    long n_oob;           /* coordinates outside [0,1] */
    long n_promotions;    /* HPS_OK suggestions that promoted an earlier trial */
} driver;

/* A byte record of everything a strategy decided, compared with memcmp. */
typedef struct trace {
    unsigned char *buf;
    size_t len, cap;
} trace;

static inline void trace_put(trace *t, const void *p, size_t n)
{
    if (!t)
        return;
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + n)
            cap *= 2;
        unsigned char *b = realloc(t->buf, cap);
        assert_non_null(b);
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
}

/* One recorded call, for the replay test. */
typedef struct event {
    int is_suggest;
    int rc;
    hps_suggestion sug;   /* sug.u points at u */
    hps_observation obs;  /* obs.u points at u */
    double u[MAXD];
} event;

typedef struct event_log {
    event *ev;
    size_t n, cap;
} event_log;

static inline event *log_add(event_log *lg)
{
    if (!lg)
        return NULL;
    if (lg->n == lg->cap) {
        lg->cap = lg->cap ? lg->cap * 2 : 256;
        event *e = realloc(lg->ev, lg->cap * sizeof *e);
        assert_non_null(e);
        lg->ev = e;
    }
    event *e = &lg->ev[lg->n++];
    memset(e, 0, sizeof *e);
    return e;
}

/* The objective the driver reports: a deterministic function of u. */
static inline double objective(const double *u, int d)
{
    double v = 0.1 * sin(7.0 * u[0]);
    for (int i = 0; i < d; i++)
        v += (u[i] - 0.25 - 0.05 * i) * (u[i] - 0.25 - 0.05 * i);
    return v;
}

static inline void driver_init(driver *dr, const hps_strategy_ops *ops, void *st, int d, int batch,
                        int scramble)
{
    memset(dr, 0, sizeof *dr);
    dr->ops = ops;
    dr->st = st;
    dr->d = d;
    dr->batch = batch;
    dr->scramble = scramble;
    dr->lcg = 0x2545F4914F6CDD1Dull;
}

static inline void observe_logged(driver *dr, const hps_observation *obs, hps_decision *dec,
                           trace *t, event_log *lg)
{
    int rc = dr->ops->observe(dr->st, obs, dec);
    assert_int_equal(rc, HPS_OK);
    event *e = log_add(lg);
    if (e) {
        e->obs = *obs;
        memcpy(e->u, obs->u, (size_t)dr->d * sizeof(double));
    }
    int decision = dec ? (int)*dec : -1;
    trace_put(t, &decision, sizeof decision);
}

/* Observe pending trial k (and drop it): an intermediate report first for every
 * 5th trial, then a final (every 7th fails) unless the strategy paused/stopped it. */
static inline void driver_observe(driver *dr, int k, trace *t, event_log *lg)
{
    pending_trial p = dr->pend[k];
    memmove(&dr->pend[k], &dr->pend[k + 1], (size_t)(dr->npend - k - 1) * sizeof p);
    dr->npend--;

    double full = objective(p.u, dr->d);
    hps_observation obs = {.trial_id = p.id, .u = p.u, .resource = p.budget, .step = 1};
    if (p.id % 5 == 1) {
        hps_decision dec = HPS_DECISION_CONTINUE;
        obs.kind = HPS_OBS_INTERMEDIATE;
        obs.value = full + 0.5;
        obs.resource = p.budget > 0 ? p.budget / 2 : 0.5;
        observe_logged(dr, &obs, &dec, t, lg);
        assert_true(dec == HPS_DECISION_CONTINUE || dec == HPS_DECISION_PAUSE ||
                    dec == HPS_DECISION_STOP);
        if (dec != HPS_DECISION_CONTINUE)
            return;
    }
    obs.kind = p.id % 7 == 3 ? HPS_OBS_FAILED : HPS_OBS_FINAL;
    obs.value = obs.kind == HPS_OBS_FAILED ? NAN : full;
    obs.resource = p.budget;
    obs.step = 2;
    observe_logged(dr, &obs, NULL, t, lg);
}

/*
 * One decision: a suggestion while fewer than `batch` trials are pending and the
 * strategy is not done, else an observation of a pending trial. Returns 1 when it
 * did something, 0 when there is nothing left to do.
 */
static inline int driver_step(driver *dr, trace *t, event_log *lg)
{
    if (!dr->done && dr->npend < dr->batch) {
        pending_trial *p = &dr->pend[dr->npend];
        hps_suggestion s = {.u = p->u, .trial_id = dr->next_id, .bracket = -1, .rung = -1};
        for (int i = 0; i < dr->d; i++)
            p->u[i] = -1.0; /* a strategy must write every coordinate */
        int rc = dr->ops->suggest(dr->st, &s);
        trace_put(t, &rc, sizeof rc);
        event *e = log_add(lg);
        if (e) {
            e->is_suggest = 1;
            e->rc = rc;
        }
        if (rc == HPS_OK) {
            for (int i = 0; i < dr->d; i++)
                if (!(p->u[i] >= 0.0 && p->u[i] <= 1.0))
                    dr->n_oob++;
            trace_put(t, p->u, (size_t)dr->d * sizeof(double));
            trace_put(t, &s.trial_id, sizeof s.trial_id);
            trace_put(t, &s.promotion, sizeof s.promotion);
            trace_put(t, &s.budget, sizeof s.budget);
            trace_put(t, &s.bracket, sizeof s.bracket);
            trace_put(t, &s.rung, sizeof s.rung);
            if (e) {
                e->sug = s;
                memcpy(e->u, p->u, (size_t)dr->d * sizeof(double));
            }
            if (!s.promotion) {
                assert_int_equal(s.trial_id, dr->next_id);
                dr->next_id++;
            }
            dr->n_promotions += s.promotion != 0;
            p->id = s.trial_id;
            p->budget = s.budget;
            dr->npend++;
            dr->n_ok++;
            return 1;
        }
        if (rc == HPS_EDONE)
            dr->done = 1;
        else if (rc != HPS_EAGAIN)
            fail_msg("suggest returned %s", hps_err_name(rc));
        if (dr->npend == 0 && rc == HPS_EAGAIN)
            fail_msg("suggest returned HPS_EAGAIN with nothing pending");
    }
    if (dr->npend == 0)
        return 0;
    int k = 0;
    if (dr->scramble) {
        dr->lcg = dr->lcg * 6364136223846793005ull + 1442695040888963407ull;
        k = (int)((dr->lcg >> 33) % (uint64_t)dr->npend);
    }
    driver_observe(dr, k, t, lg);
    return 1;
}

/* Run until n_ok reaches want suggestions or the strategy is done (at most
 * max_steps decisions). */
static inline void driver_run_until(driver *dr, long want, long max_steps, trace *t, event_log *lg)
{
    for (long i = 0; i < max_steps && dr->n_ok < want; i++)
        if (!driver_step(dr, t, lg))
            break;
}

static inline void driver_run_steps(driver *dr, long steps, trace *t, event_log *lg)
{
    for (long i = 0; i < steps; i++)
        if (!driver_step(dr, t, lg))
            break;
}

#endif
