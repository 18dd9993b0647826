/*
 * The coordinator loop (see coordinator.h for the design). One iteration:
 *   1. take every RESULTS message waiting (journal + apply + strategy.observe)
 *   2. fill every idle trial group with a batch (re-runs first, then suggest())
 *   3. fsync the journal once if anything was appended (group commit)
 *   4. every few seconds: rewrite sweep.h5; on a terminal, redraw the live line
 *   5. if nothing happened, sleep with backoff (never spin)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/coordinator.h"
#include "engine/progress.h"
#include "engine/protocol.h"
#include "engine/seed.h"
#include "hpsweep/error.h"
#include "workers/command.h"
#include "workers/objective.h"

#define BATCH_TARGET_SECONDS 0.005
#define BATCH_MAX 1024
#define STORE_MIN_INTERVAL 2.0

typedef struct group {
    int leader;
    int busy;             /* batches in flight (0..2) */
    int64_t in_flight;    /* trials in flight */
    hps_buf send[2];      /* one buffer per in-flight batch */
    MPI_Request req[2];
    int slot;             /* next buffer to use */
} group;

typedef struct coord {
    hps_sweep *s;
    hps_journal *j;
    const hps_coord_opts *o;
    char *err;
    size_t errlen;
    group *groups;
    int n_groups;         /* every group (all must be told to stop) */
    int n_active;         /* groups that get trials (parallelism cap) */
    int64_t *requeue;     /* trials to re-run, ascending id */
    int64_t n_requeue, requeue_pos;
    int exhausted;        /* strategy said EDONE or the budget is spent */
    int waiting;          /* strategy said EAGAIN */
    double ewma;          /* seconds per trial (< 0: unknown) */
    hps_buf rec;          /* record payload scratch */
    double *u;            /* suggestion scratch */
    double last_store, store_cost;
    hps_progress progress;
    double loop_start, cpu_start;  /* for the summary line */
    int64_t ended_at_start;
    unsigned char *pruning;        /* [cap_pruning] 1: a PRUNE went out for the trial */
    int64_t cap_pruning;
    int64_t local_prune;           /* in-process: the trial the strategy stopped, or -1 */
    int consecutive_failures;      /* failed attempts since the last good trial */
    int too_many_failures;         /* budget.max_consecutive_failures reached */
    hps_buf msg;                   /* PRUNE/REPORT scratch */
    int local_rc;                  /* in-process command trials: first report error */
} coord;

int hps_coord_record(hps_sweep *s, hps_journal *j, uint32_t type, int64_t trial_id,
                     const hps_buf *payload, char *err, size_t errlen)
{
    if (payload->failed)
        return HPS_ENOMEM;
    int rc = hps_journal_append(j, type, trial_id, payload->data, (uint32_t)payload->len);
    if (rc != HPS_OK) {
        if (err)
            snprintf(err, errlen, "appending to the journal: %s", hps_strerror(rc));
        return rc;
    }
    hps_record r = {.seq = hps_journal_last_seq(j), .type = type, .trial_id = trial_id,
                    .payload = payload->data, .len = (uint32_t)payload->len};
    return hps_sweep_apply(s, &r, err, errlen);
}

int hps_coord_write_store(const hps_sweep *s, const char *h5_path, const hps_kv *prov, int n_prov,
                          char *err, size_t errlen)
{
    char created[40], updated[40];
    hps_iso_time(s->created, created, sizeof created);
    hps_iso_time(hps_now(), updated, sizeof updated);
    hps_store_meta meta;
    hps_sweep_store_meta(s, &meta, created, updated);
    meta.provenance = prov;
    meta.n_provenance = n_prov;
    return hps_store_write(h5_path, &meta, s->trials, s->n_trials, s->metrics, s->n_metrics,
                           (const char *const *)s->metric_names, s->n_metric_names, s->rungs,
                           s->n_rungs, err, errlen);
}

/* ---- reports ------------------------------------------------------------------------ */

/* Metric index of name, journaling a METRIC_NAME record the first time. */
static int metric_index(coord *c, const char *name, int *index)
{
    int i = hps_sweep_metric_index(c->s, name);
    if (i >= 0) {
        *index = i;
        return HPS_OK;
    }
    int rc = hps_rec_encode_string(&c->msg, c->s->n_metric_names, name);
    if (rc == HPS_OK)
        rc = hps_coord_record(c->s, c->j, HPS_REC_METRIC_NAME, -1, &c->msg, c->err, c->errlen);
    *index = c->s->n_metric_names - 1;
    return rc;
}

/* Ask for trial_id to stop (once): in-process, or a PRUNE to its group leader. */
static int prune(coord *c, int64_t trial_id, int worker)
{
    if (trial_id >= c->cap_pruning) {
        int64_t cap = c->cap_pruning ? c->cap_pruning : 1024;
        while (cap <= trial_id)
            cap *= 2;
        unsigned char *p = realloc(c->pruning, (size_t)cap);
        if (!p)
            return HPS_ENOMEM;
        memset(p + c->cap_pruning, 0, (size_t)(cap - c->cap_pruning));
        c->pruning = p;
        c->cap_pruning = cap;
    }
    if (c->pruning[trial_id])
        return HPS_OK;
    c->pruning[trial_id] = 1;
    if (worker == 0)
        c->local_prune = trial_id;
    else
        mpiCheck(MPI_Send(&trial_id, (int)sizeof trial_id, MPI_BYTE, worker, HPS_TAG_PRUNE,
                          MPI_COMM_WORLD));
    return HPS_OK;
}

/* An intermediate report: journal its metrics, show the sweep's metric to the
 * strategy, and stop the trial if the strategy says so. */
static int handle_report(coord *c, int64_t trial_id, int worker, const hps_report_line *line)
{
    hps_sweep *s = c->s;
    if (trial_id < 0 || trial_id >= s->n_trials || s->trials[trial_id].status != HPS_TRIAL_RUNNING)
        return HPS_OK; /* a late report of a trial already journaled as ended */
    hps_rec_metric m[HPS_REPORT_MAX_METRICS];
    int rc;
    for (int i = 0; i < line->n; i++) {
        if ((rc = metric_index(c, line->names[i], &m[i].name_index)) != HPS_OK)
            return rc;
        m[i].step = line->step;
        m[i].resource = line->resource;
        m[i].value = line->values[i];
    }
    if ((rc = hps_rec_encode_report(&c->rec, m, (uint32_t)line->n)) != HPS_OK ||
        (rc = hps_coord_record(s, c->j, HPS_REC_REPORT, trial_id, &c->rec, c->err, c->errlen)) !=
            HPS_OK)
        return rc;
    for (int i = 0; i < line->n; i++) {
        hps_observation obs;
        if (!hps_sweep_intermediate(s, trial_id, &m[i], &obs))
            continue;
        hps_decision d = HPS_DECISION_CONTINUE;
        if ((rc = s->ops->observe(s->strategy, &obs, &d)) != HPS_OK) {
            snprintf(c->err, c->errlen, "strategy '%s' refused a report of trial %lld: %s",
                     s->ops->name, (long long)trial_id, hps_strerror(rc));
            return rc;
        }
        /* The pruner sees what the strategy let continue (replay does the same). */
        if (d == HPS_DECISION_CONTINUE && s->pruner &&
            (rc = s->pruner_ops->report(s->pruner, &obs, &d)) != HPS_OK) {
            snprintf(c->err, c->errlen, "pruner '%s' refused a report of trial %lld: %s",
                     s->pruner_ops->name, (long long)trial_id, hps_strerror(rc));
            return rc;
        }
        if (d != HPS_DECISION_CONTINUE && (rc = prune(c, trial_id, worker)) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

static int take_report(coord *c, const void *msg, size_t len, int worker)
{
    int64_t trial_id;
    uint32_t count;
    hps_report_line *line = malloc(sizeof *line);
    if (!line)
        return HPS_ENOMEM;
    int rc = hps_proto_report_count(msg, len, &trial_id, &count);
    size_t off = 0;
    line->n = 0;
    for (uint32_t i = 0; rc == HPS_OK && i < count && i < HPS_REPORT_MAX_METRICS; i++) {
        hps_wire_metric wm;
        if ((rc = hps_proto_report_next(msg, len, &off, &wm)) != HPS_OK)
            break;
        line->step = wm.step;
        line->resource = wm.resource;
        memcpy(line->names[i], wm.name, wm.name_len);
        line->names[i][wm.name_len] = '\0';
        line->values[i] = wm.value;
        line->n++;
    }
    if (rc != HPS_OK)
        snprintf(c->err, c->errlen, "malformed REPORT message from rank %d", worker);
    else
        rc = handle_report(c, trial_id, worker, line);
    free(line);
    return rc;
}

/* ---- results ----------------------------------------------------------------------- */

/* Failed attempts in a row stop the sweep at budget.max_consecutive_failures. */
static void count_failures(coord *c, const hps_trial *t)
{
    if (t->status == HPS_TRIAL_FAILED)
        c->consecutive_failures += t->attempts > 1 ? t->attempts : 1;
    else if (t->status == HPS_TRIAL_DONE || t->status == HPS_TRIAL_PRUNED)
        c->consecutive_failures = 0;
    int max = c->s->cfg.max_consecutive_failures;
    if (max > 0 && c->consecutive_failures >= max && !c->too_many_failures) {
        c->too_many_failures = 1;
        snprintf(c->err, c->errlen, "stopped after %d failed attempts in a row "
                 "(budget.max_consecutive_failures); the last, trial %lld, failed with '%s'%s%s",
                 c->consecutive_failures, (long long)t->trial_id, t->cause,
                 t->stderr_tail ? ". The end of its stderr:\n" : "",
                 t->stderr_tail ? t->stderr_tail : "");
    }
}

static int handle_result(coord *c, const hps_wire_result *w, int worker)
{
    hps_sweep *s = c->s;
    if (w->trial_id < 0 || w->trial_id >= s->n_trials ||
        s->trials[w->trial_id].status != HPS_TRIAL_RUNNING) {
        snprintf(c->err, c->errlen, "worker %d reported trial %lld, which is not running", worker,
                 (long long)w->trial_id);
        return HPS_ECORRUPT;
    }
    int rc;
    if (w->status == HPS_TRIAL_INTERRUPTED) {
        /* The worker itself was signalled (preemption reaches every rank): the
         * trial will be re-run on resume; the coordinator shuts down too. */
        if ((rc = hps_rec_encode_interrupt(&c->rec, w->end)) != HPS_OK)
            return rc;
        if ((rc = hps_coord_record(s, c->j, HPS_REC_INTERRUPT, w->trial_id, &c->rec, c->err,
                                   c->errlen)) != HPS_OK)
            return rc;
        if (!*c->o->signalled)
            *c->o->signalled = SIGTERM;
        return HPS_OK;
    }
    hps_trial *t = &s->trials[w->trial_id];
    /* In-process objectives report their value once; commands reported theirs. */
    int own_metric = w->status == HPS_TRIAL_DONE && s->cfg.objective.kind != HPS_OBJ_COMMAND;
    hps_rec_metric m = {.name_index = 0, .step = 0, .resource = t->budget, .value = w->objective};
    hps_rec_result r = {.status = w->status, .worker = worker, .objective = w->objective,
                        .start = w->start, .end = w->end, .exit_code = w->exit_code,
                        .attempts = w->attempts,
                        .stderr_tail = w->stderr_tail[0] ? w->stderr_tail : NULL,
                        .n_metrics = own_metric ? 1u : 0u, .metrics = &m};
    memcpy(r.cause, w->cause, HPS_CAUSE_LEN);
    if ((rc = hps_rec_encode_result(&c->rec, &r)) != HPS_OK)
        return rc;
    if ((rc = hps_coord_record(s, c->j, HPS_REC_RESULT, w->trial_id, &c->rec, c->err,
                               c->errlen)) != HPS_OK)
        return rc;
    hps_observation obs = {
        .trial_id = t->trial_id,
        .kind = t->status == HPS_TRIAL_DONE ? HPS_OBS_FINAL : HPS_OBS_FAILED,
        .u = s->u + (size_t)t->trial_id * (size_t)s->d,
        .value = t->status == HPS_TRIAL_DONE ? hps_sweep_oriented(s, t->objective) : NAN,
        .resource = t->budget,
    };
    if ((rc = s->ops->observe(s->strategy, &obs, NULL)) != HPS_OK) {
        snprintf(c->err, c->errlen, "strategy '%s' refused the result of trial %lld: %s",
                 s->ops->name, (long long)t->trial_id, hps_strerror(rc));
        return rc;
    }
    if (s->pruner && (rc = s->pruner_ops->finish(s->pruner, &obs)) != HPS_OK) {
        snprintf(c->err, c->errlen, "pruner '%s' refused the result of trial %lld: %s",
                 s->pruner_ops->name, (long long)t->trial_id, hps_strerror(rc));
        return rc;
    }
    count_failures(c, t);
    if (!c->o->quiet)
        hps_progress_trial(&c->progress, s, t);
    return HPS_OK;
}

static void learn_speed(coord *c, double eval_seconds, uint32_t count)
{
    if (count == 0)
        return;
    double per = eval_seconds / count;
    c->ewma = c->ewma < 0 ? per : 0.7 * c->ewma + 0.3 * per;
}

static int take_results(coord *c, const void *msg, size_t len, int worker)
{
    uint32_t count;
    double eval;
    if (hps_proto_results_count(msg, len, &count, &eval) != HPS_OK) {
        snprintf(c->err, c->errlen, "malformed RESULTS message from rank %d", worker);
        return HPS_ECORRUPT;
    }
    learn_speed(c, eval, count);
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_wire_result w;
        if (hps_proto_results_next(msg, len, &off, &w) != HPS_OK) {
            snprintf(c->err, c->errlen, "malformed result in a message from rank %d", worker);
            return HPS_ECORRUPT;
        }
        int rc = handle_result(c, &w, worker);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

static group *group_of(coord *c, int rank)
{
    for (int g = 0; g < c->n_groups; g++)
        if (c->groups[g].leader == rank)
            return &c->groups[g];
    return NULL;
}

/* Receive every RESULTS and REPORT message already waiting (any tag: MPI keeps a
 * sender's order only across one receive stream, and a trial's reports must come
 * before its result). Sets *got when any arrived. */
static int poll_results(coord *c, unsigned char **buf, size_t *cap, int *got)
{
    for (int k = 0; k < 16 * c->n_groups + 1; k++) {
        int flag = 0;
        MPI_Status st;
        mpiCheck(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st));
        if (flag && st.MPI_TAG != HPS_TAG_RESULTS && st.MPI_TAG != HPS_TAG_REPORT) {
            snprintf(c->err, c->errlen, "unexpected message (tag %d) from rank %d", st.MPI_TAG,
                     st.MPI_SOURCE);
            return HPS_ECORRUPT;
        }
        if (!flag)
            return HPS_OK;
        int n;
        hps_proto_recv(&st, buf, cap, &n);
        *got = 1;
        if (st.MPI_TAG == HPS_TAG_REPORT) {
            int rc = take_report(c, *buf, (size_t)n, st.MPI_SOURCE);
            if (rc != HPS_OK)
                return rc;
            continue;
        }
        group *g = group_of(c, st.MPI_SOURCE);
        if (!g || g->busy == 0) {
            snprintf(c->err, c->errlen, "unexpected RESULTS from rank %d", st.MPI_SOURCE);
            return HPS_ECORRUPT;
        }
        uint32_t count = 0;
        double eval;
        if (hps_proto_results_count(*buf, (size_t)n, &count, &eval) == HPS_OK) {
            g->busy--;
            g->in_flight -= count;
        }
        int rc = take_results(c, *buf, (size_t)n, st.MPI_SOURCE);
        if (rc != HPS_OK)
            return rc;
        *got = 1;
    }
    return HPS_OK;
}

/* ---- dispatch ------------------------------------------------------------------------ */

static int budget_left(coord *c)
{
    const hps_coord_opts *o = c->o;
    if (*o->signalled || c->too_many_failures)
        return 0;
    if (o->max_time > 0 && hps_now() - o->run_start >= o->max_time)
        return 0;
    if (o->max_resource > 0 && c->s->resource_dispatched >= o->max_resource)
        return 0;
    return 1;
}

/* The next trial to run: a re-run first, else a new suggestion. Returns HPS_OK
 * with *id set, HPS_EAGAIN or HPS_EDONE. */
static int next_trial(coord *c, int worker, double now, int64_t *id)
{
    hps_sweep *s = c->s;
    int rc;
    if (c->requeue_pos < c->n_requeue) {
        *id = c->requeue[c->requeue_pos++];
        if ((rc = hps_rec_encode_dispatch(&c->rec, worker, now)) != HPS_OK)
            return rc;
        return hps_coord_record(s, c->j, HPS_REC_DISPATCH, *id, &c->rec, c->err, c->errlen);
    }
    if (c->exhausted || !budget_left(c))
        return HPS_EDONE;
    /* max_trials counts configurations (trial ids). Every suggest() that returns a
     * suggestion is journaled, so none is asked for that could not be run: at the
     * limit, promotions stop too (budget.max_resource bounds multi-fidelity sweeps). */
    if (c->o->max_trials > 0 && s->n_trials >= c->o->max_trials) {
        c->exhausted = 1;
        return HPS_EDONE;
    }
    hps_suggestion sg = {.u = c->u, .trial_id = s->n_trials, .bracket = -1, .rung = -1};
    rc = s->ops->suggest(s->strategy, &sg);
    if (rc == HPS_EDONE) {
        c->exhausted = 1;
        return rc;
    }
    if (rc == HPS_EAGAIN) {
        c->waiting = 1;
        return rc;
    }
    if (rc != HPS_OK) {
        snprintf(c->err, c->errlen, "strategy '%s' failed to suggest: %s", s->ops->name,
                 hps_strerror(rc));
        return rc;
    }
    uint64_t seed = hps_trial_seed(s->seed, sg.trial_id);
    if (sg.promotion) {
        /* The trial keeps its id, seed and configuration; it continues from its
         * last rung's checkpoint at the larger budget. */
        if (sg.trial_id < 0 || sg.trial_id >= s->n_trials ||
            s->trials[sg.trial_id].status != HPS_TRIAL_DONE ||
            !(sg.budget > s->trials[sg.trial_id].budget)) {
            snprintf(c->err, c->errlen, "strategy '%s' promoted trial %lld, which is not a "
                     "completed trial with a smaller budget", s->ops->name,
                     (long long)sg.trial_id);
            return HPS_EINVAL;
        }
        seed = s->trials[sg.trial_id].seed;
        memcpy(c->u, s->u + (size_t)sg.trial_id * (size_t)s->d, sizeof(double) * (size_t)s->d);
        if (sg.trial_id < c->cap_pruning) /* a new run: it may be stopped again */
            c->pruning[sg.trial_id] = 0;
        if (c->local_prune == sg.trial_id)
            c->local_prune = -1;
    } else if (sg.trial_id != s->n_trials) {
        snprintf(c->err, c->errlen, "strategy '%s' changed a new trial's id", s->ops->name);
        return HPS_EINVAL;
    }
    hps_rec_suggest rs = {.seed = seed, .budget = sg.budget, .bracket = sg.bracket,
                          .rung = sg.rung, .promotion = sg.promotion, .worker = worker,
                          .start = now, .n = (uint32_t)s->d, .u = c->u};
    if ((rc = hps_rec_encode_suggest(&c->rec, &rs)) != HPS_OK)
        return rc;
    *id = sg.trial_id;
    return hps_coord_record(s, c->j, HPS_REC_SUGGEST, sg.trial_id, &c->rec, c->err, c->errlen);
}

static int batch_size(const coord *c)
{
    /* A model-based strategy suggests better with every result: no batching ahead. */
    if (c->ewma < 0 || (c->s->ops->flags & HPS_STRATEGY_ADAPTIVE))
        return 1;
    double n = BATCH_TARGET_SECONDS / (c->ewma > 1e-9 ? c->ewma : 1e-9);
    if (n < 1)
        return 1;
    return n > BATCH_MAX ? BATCH_MAX : (int)n;
}

/* Fill group g with one batch. Sets *sent when a batch went out. */
static int fill_group(coord *c, group *g, int *sent)
{
    hps_sweep *s = c->s;
    int want = batch_size(c);
    int depth = want > 1 ? 2 : 1;
    if (g->busy >= depth)
        return HPS_OK;
    int slot = g->slot;
    if (g->req[slot] != MPI_REQUEST_NULL) {
        int done = 0;
        mpiCheck(MPI_Test(&g->req[slot], &done, MPI_STATUS_IGNORE));
        if (!done)
            return HPS_OK;
    }
    hps_buf *b = &g->send[slot];
    hps_proto_trials_begin(b, (uint32_t)s->d);
    int n = 0;
    double now = hps_now(); /* one dispatch time for the batch */
    while (n < want) {
        int64_t id;
        int rc = next_trial(c, g->leader, now, &id);
        if (rc == HPS_EDONE || rc == HPS_EAGAIN)
            break;
        if (rc != HPS_OK)
            return rc;
        const hps_trial *t = &s->trials[id];
        hps_proto_trials_add(b, id, t->seed, t->budget, t->prev_budget, t->values,
                             (uint32_t)s->d);
        n++;
    }
    if (n == 0)
        return HPS_OK;
    if (b->failed)
        return HPS_ENOMEM;
    mpiCheck(MPI_Isend(b->data, (int)b->len, MPI_BYTE, g->leader, HPS_TAG_TRIALS, MPI_COMM_WORLD,
                       &g->req[slot]));
    g->slot = 1 - slot;
    g->busy++;
    g->in_flight += n;
    *sent = 1;
    return HPS_OK;
}

static int stop_local(void *ctx)
{
    const coord *c = ctx;
    return *c->o->signalled != 0;
}

static void report_local(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    coord *c = ctx;
    if (c->local_rc == HPS_OK)
        c->local_rc = handle_report(c, trial_id, 0, line);
}

static int poll_local(void *ctx, int64_t trial_id)
{
    coord *c = ctx;
    if (*c->o->signalled || c->local_rc != HPS_OK)
        return HPS_POLL_INTERRUPT;
    return c->local_prune == trial_id ? HPS_POLL_PRUNE : HPS_POLL_GO;
}

/* No workers: run one batch in this process through the same result path. */
static int run_local(coord *c, int *ran)
{
    hps_sweep *s = c->s;
    int want = batch_size(c);
    double t0 = hps_monotonic();
    int n = 0;
    while (n < want) {
        int64_t id;
        int rc = next_trial(c, 0, hps_now(), &id);
        if (rc == HPS_EDONE || rc == HPS_EAGAIN)
            break;
        if (rc != HPS_OK)
            return rc;
        const hps_trial *t = &s->trials[id];
        hps_wire_result w;
        hps_wire_result_init(&w, id);
        if (s->cfg.objective.kind == HPS_OBJ_COMMAND) {
            hps_cmd_env env = {.spawner = c->o->spawner, .sweep_dir = c->o->sweep_dir,
                               .metric = s->cfg.metric, .gpus = c->o->gpus,
                               .report = report_local, .poll = poll_local, .ctx = c};
            rc = hps_command_run(&s->cfg.objective, &s->cfg.space, &env, id, t->seed,
                                 t->budget, t->prev_budget, t->values, &w);
            if (rc == HPS_OK)
                rc = c->local_rc;
            if (rc != HPS_OK) {
                if (!c->err[0])
                    snprintf(c->err, c->errlen, "running trial %lld: %s", (long long)id,
                             hps_strerror(rc));
                return rc;
            }
        } else {
            w.start = hps_now();
            w.status = hps_objective_eval(&s->cfg.objective, &s->cfg.space, t->values, t->seed,
                                          t->budget, stop_local, c, &w.objective, w.cause,
                                          sizeof w.cause);
            w.end = hps_now();
        }
        rc = handle_result(c, &w, 0);
        if (rc != HPS_OK)
            return rc;
        n++;
        if (*c->o->signalled || c->too_many_failures)
            break;
    }
    if (n > 0) {
        learn_speed(c, hps_monotonic() - t0, (uint32_t)n);
        *ran = 1;
    }
    return HPS_OK;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int64_t running(const coord *c)
{
    int64_t r = 0;
    for (int g = 0; g < c->n_groups; g++)
        r += c->groups[g].in_flight;
    return r;
}

static int maybe_write_store(coord *c, int force)
{
    double now = hps_monotonic();
    if (!force && now - c->last_store < fmax(STORE_MIN_INTERVAL, 20.0 * c->store_cost))
        return HPS_OK;
    int rc = hps_coord_write_store(c->s, c->o->h5_path, c->o->provenance, c->o->n_provenance,
                                   c->err, c->errlen);
    double after = hps_monotonic();
    c->store_cost = after - now;
    c->last_store = after;
    return rc;
}

static int set_status(coord *c, const char *status)
{
    int rc = hps_rec_encode_string(&c->rec, 0, status);
    if (rc != HPS_OK)
        return rc;
    return hps_coord_record(c->s, c->j, HPS_REC_STATUS, -1, &c->rec, c->err, c->errlen);
}

static int sync_journal(coord *c)
{
    if (hps_journal_pending(c->j) == 0)
        return HPS_OK;
    int rc = hps_journal_sync(c->j);
    if (rc != HPS_OK)
        snprintf(c->err, c->errlen, "writing the journal: %s", hps_strerror(rc));
    return rc;
}

/* Tell every leader to stop and drain what they still send until each says BYE. */
static void stop_workers(coord *c)
{
    for (int g = 0; g < c->n_groups; g++)
        mpiCheck(MPI_Send(NULL, 0, MPI_BYTE, c->groups[g].leader, HPS_TAG_STOP, MPI_COMM_WORLD));
    int byes = 0;
    unsigned char *buf = NULL;
    size_t cap = 0;
    hps_backoff bo;
    hps_backoff_reset(&bo);
    while (byes < c->n_groups) {
        int flag = 0;
        MPI_Status st;
        mpiCheck(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st));
        if (!flag) {
            hps_backoff_sleep(&bo);
            continue;
        }
        hps_backoff_reset(&bo);
        int n;
        hps_proto_recv(&st, &buf, &cap, &n);
        if (st.MPI_TAG == HPS_TAG_BYE)
            byes++;
    }
    free(buf);
    for (int g = 0; g < c->n_groups; g++)
        for (int k = 0; k < 2; k++)
            if (c->groups[g].req[k] != MPI_REQUEST_NULL)
                mpiCheck(MPI_Wait(&c->groups[g].req[k], MPI_STATUS_IGNORE));
}

/* Journal every running trial as interrupted, then the sweep's status. */
static int interrupt_running(coord *c, const char *status)
{
    hps_sweep *s = c->s;
    double now = hps_now();
    for (int64_t i = 0; i < s->n_trials; i++) {
        if (s->trials[i].status != HPS_TRIAL_RUNNING)
            continue;
        int rc = hps_rec_encode_interrupt(&c->rec, now);
        if (rc == HPS_OK)
            rc = hps_coord_record(s, c->j, HPS_REC_INTERRUPT, i, &c->rec, c->err, c->errlen);
        if (rc != HPS_OK)
            return rc;
    }
    return set_status(c, status);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* One line, even with --quiet: what this run did and what it cost the
 * coordinator (benchmarks read it). */
static void summary(const coord *c)
{
    const hps_sweep *s = c->s;
    double wall = hps_monotonic() - c->loop_start;
    double cpu = cpu_seconds() - c->cpu_start;
    int64_t ended = s->n_done + s->n_failed + s->n_pruned - c->ended_at_start;
    fprintf(stderr, "hpsweep: %s: %lld trials ended in %.3f s (%.0f trials/s); coordinator CPU "
            "%.3f s (%.1f%% of one core); best %s = %.10g (trial %lld)\n", s->status,
            (long long)ended, wall, wall > 0 ? (double)ended / wall : 0.0, cpu,
            wall > 0 ? 100.0 * cpu / wall : 0.0, s->cfg.metric,
            s->best_id >= 0 ? s->trials[s->best_id].objective : NAN, (long long)s->best_id);
}

static int setup(coord *c)
{
    hps_sweep *s = c->s;
    c->ewma = -1;
    c->n_groups = c->n_active = c->o->n_groups;
    if (c->o->parallelism > 0 && c->o->parallelism < c->n_groups)
        c->n_active = c->o->parallelism;
    c->u = malloc(sizeof(double) * (size_t)(s->d > 0 ? s->d : 1));
    c->groups = calloc((size_t)(c->o->n_groups > 0 ? c->o->n_groups : 1), sizeof *c->groups);
    c->requeue = malloc(sizeof(int64_t) * (size_t)(s->n_trials > 0 ? s->n_trials : 1));
    if (!c->u || !c->groups || !c->requeue)
        return HPS_ENOMEM;
    for (int g = 0; g < c->o->n_groups; g++) {
        c->groups[g].leader = c->o->leaders[g];
        c->groups[g].req[0] = c->groups[g].req[1] = MPI_REQUEST_NULL;
    }
    for (int64_t i = 0; i < s->n_trials; i++)
        if (s->trials[i].status == HPS_TRIAL_RUNNING ||
            s->trials[i].status == HPS_TRIAL_INTERRUPTED)
            c->requeue[c->n_requeue++] = i;
    hps_progress_init(&c->progress, c->o->tty, c->o->max_trials, s);
    c->last_store = c->loop_start = hps_monotonic();
    c->cpu_start = cpu_seconds();
    c->ended_at_start = s->n_done + s->n_failed + s->n_pruned;
    if (strcmp(s->status, "running") != 0)
        return set_status(c, "running");
    return HPS_OK;
}

static void teardown(coord *c)
{
    for (int g = 0; g < c->n_groups && c->groups; g++)
        for (int k = 0; k < 2; k++)
            hps_buf_free(&c->groups[g].send[k]);
    free(c->groups);
    free(c->requeue);
    free(c->u);
    free(c->pruning);
    hps_buf_free(&c->rec);
    hps_buf_free(&c->msg);
}

static int loop(coord *c)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    hps_backoff bo;
    hps_backoff_reset(&bo);
    int rc = HPS_OK;
    for (;;) {
        int busy = 0;
        if (c->n_groups > 0 && (rc = poll_results(c, &buf, &cap, &busy)) != HPS_OK)
            break;
        if (busy)
            c->waiting = 0;
        if (*c->o->signalled || c->too_many_failures)
            break;
        if (c->n_groups == 0) {
            if ((rc = run_local(c, &busy)) != HPS_OK)
                break;
        } else {
            for (int g = 0; g < c->n_active; g++)
                if ((rc = fill_group(c, &c->groups[g], &busy)) != HPS_OK)
                    goto out;
        }
        if ((rc = sync_journal(c)) != HPS_OK)
            break;
        if (!c->o->quiet)
            hps_progress_tick(&c->progress, c->s, 0);
        if ((rc = maybe_write_store(c, 0)) != HPS_OK)
            break;
        int more = c->requeue_pos < c->n_requeue || (!c->exhausted && budget_left(c) &&
                   !(c->o->max_trials > 0 && c->s->n_trials >= c->o->max_trials));
        if (running(c) == 0 && (!more || (c->waiting && !busy))) {
            if (more && c->waiting) {
                snprintf(c->err, c->errlen, "strategy '%s' is waiting for results, but no "
                         "trial is running", c->s->ops->name);
                rc = HPS_EAGAIN;
            }
            break;
        }
        if (busy)
            hps_backoff_reset(&bo);
        else
            hps_backoff_sleep(&bo);
    }
out:
    free(buf);
    return rc;
}

int hps_coordinator_run(hps_sweep *s, hps_journal *j, const hps_coord_opts *o, char *err,
                        size_t errlen)
{
    coord c = {.s = s, .j = j, .o = o, .err = err, .errlen = errlen, .local_prune = -1};
    int rc = setup(&c);
    if (rc == HPS_OK)
        rc = loop(&c);
    int interrupted = rc == HPS_OK && *o->signalled;
    if (rc == HPS_OK && c.too_many_failures) {
        (void)interrupt_running(&c, "failed");
        rc = HPS_EOBJECTIVE; /* err says why */
    } else if (rc == HPS_OK) {
        rc = interrupted ? interrupt_running(&c, "interrupted") : set_status(&c, "completed");
    } else if (rc != HPS_ENOMEM) {
        (void)interrupt_running(&c, "interrupted"); /* keep the record straight; the error wins */
    }
    int src = sync_journal(&c);
    if (rc == HPS_OK)
        rc = src;
    char serr[512] = "";
    int wrc = hps_coord_write_store(s, o->h5_path, o->provenance, o->n_provenance, serr,
                                    sizeof serr);
    if (rc == HPS_OK && wrc != HPS_OK) {
        snprintf(err, errlen, "writing %s: %s", o->h5_path, serr);
        rc = wrc;
    }
    if (!o->quiet)
        hps_progress_tick(&c.progress, s, 1);
    summary(&c);
    stop_workers(&c);
    teardown(&c);
    if (rc == HPS_OK && interrupted)
        return HPS_EINTR;
    return rc;
}
