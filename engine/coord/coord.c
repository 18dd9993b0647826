/*
 * The coordinator loop (see coord.h for the design). One iteration:
 *   1. take every message waiting (results, reports: commit + decisions)
 *   2. fill every idle trial group with a batch (re-runs first, then suggestions)
 *   3. fsync the journal once if anything was appended (group commit)
 *   4. every few seconds, or when many rows could be let go of: rewrite sweep.h5
 *      (at once when there is none yet, so a sweep killed in its first seconds
 *      still leaves its provenance -- the dataset a resume checks -- and its
 *      config); on a terminal, redraw the live line
 *   5. if nothing happened, wait (the transport's idle: a backoff sleep, or the
 *      simulated clock moving on)
 * After each record that may show the strategy a run in deterministic mode, the
 * stops it decided are journaled and sent (coord_reports.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "coord_internal.h"
#include "core/clock.h"
#include "core/grow.h"
#include "hpsweep/error.h"

#define BATCH_TARGET_SECONDS 0.005
#define BATCH_MAX 1024
#define STORE_MIN_INTERVAL 2.0

int hps_coord_commit(coord *c, uint32_t type, int64_t trial_id, const hps_buf *payload,
                     hps_apply_out *out)
{
    if (payload->failed)
        return HPS_ENOMEM;
    return hps_sweep_commit(c->s, c->j, type, trial_id, payload->data, (uint32_t)payload->len,
                            out, c->err, c->errlen);
}

/* The stats clock (0 when nothing is measured). */
static double tick(const coord *c)
{
    return c->o->stats ? c->o->stats->clock() : 0.0;
}

static int write_store(coord *c, char *err, size_t errlen)
{
    if (!c->o->h5_path)
        return HPS_OK;
    int64_t held = c->s->n_trials - c->s->trials_spilled;
    c->held_max = held > c->held_max ? held : c->held_max;
    c->store_writes++;
    double t0 = tick(c);
    int rc = hps_sweep_write_store(c->s, c->o->h5_path, err, errlen);
    hps_coord_stats *st = c->o->stats;
    if (st) {
        double dt = tick(c) - t0;
        st->store += dt;
        st->store_max = fmax(st->store_max, dt);
        st->store_writes++;
    }
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
    int max = c->s->budget.max_consecutive_failures;
    if (max > 0 && c->consecutive_failures >= max && !c->too_many_failures) {
        c->too_many_failures = 1;
        snprintf(c->err, c->errlen, "stopped after %d failed attempts in a row "
                 "(budget.max_consecutive_failures); the last, trial %lld, failed with '%s'%s%s",
                 c->consecutive_failures, (long long)t->trial_id, t->cause,
                 t->stderr_tail ? ". The end of its stderr:\n" : "",
                 t->stderr_tail ? t->stderr_tail : "");
    }
}

static int handle_result(coord *c, int g, int64_t trial_id, const void *bytes, uint32_t len)
{
    hps_sweep *s = c->s;
    int32_t status;
    double end;
    if (hps_outcome_peek(bytes, len, &status, &end) != HPS_OK) {
        snprintf(c->err, c->errlen, "malformed result in a message from worker %d",
                 c->t->workers[g]);
        return HPS_ECORRUPT;
    }
    const hps_trial *running = hps_sweep_trial(s, trial_id);
    if (!running || running->status != HPS_TRIAL_RUNNING) {
        snprintf(c->err, c->errlen, "worker %d reported trial %lld, which is not running",
                 c->t->workers[g], (long long)trial_id);
        return HPS_ECORRUPT;
    }
    int rc;
    if (status == HPS_TRIAL_INTERRUPTED) {
        /* The worker itself was signalled (preemption reaches every rank): the
         * trial will be re-run on resume; the coordinator shuts down too. */
        if ((rc = hps_rec_encode_interrupt(&c->rec, end)) != HPS_OK ||
            (rc = hps_coord_commit(c, HPS_REC_INTERRUPT, trial_id, &c->rec, NULL)) != HPS_OK)
            return rc;
        if (!*c->o->signalled)
            *c->o->signalled = SIGTERM;
        return HPS_OK;
    }
    if ((rc = hps_sweep_commit(s, c->j, HPS_REC_RESULT, trial_id, bytes, len, NULL, c->err,
                               c->errlen)) != HPS_OK ||
        (rc = hps_coord_settle_stops(c, 1)) != HPS_OK)
        return rc;
    const hps_trial *t = hps_sweep_trial(s, trial_id);
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

static int take_results(coord *c, int g, const void *msg, size_t len)
{
    uint32_t count;
    double eval;
    group *gr = &c->groups[g];
    if (hps_proto_results_count(msg, len, &count, &eval) != HPS_OK) {
        snprintf(c->err, c->errlen, "malformed RESULTS message from worker %d",
                 c->t->workers[g]);
        return HPS_ECORRUPT;
    }
    if (count > gr->in_flight) {
        snprintf(c->err, c->errlen, "unexpected RESULTS from worker %d", c->t->workers[g]);
        return HPS_ECORRUPT;
    }
    gr->in_flight -= count;
    for (int64_t k = count; k > 0;) {
        int64_t take = k < gr->left[gr->head] ? k : gr->left[gr->head];
        gr->left[gr->head] -= take;
        k -= take;
        if (gr->left[gr->head] == 0) {
            gr->head = 1 - gr->head;
            gr->busy--;
        }
    }
    learn_speed(c, eval, count);
    double t0 = tick(c);
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        int64_t id;
        const void *bytes;
        uint32_t n;
        if (hps_proto_results_next(msg, len, &off, &id, &bytes, &n) != HPS_OK) {
            snprintf(c->err, c->errlen, "malformed result in a message from worker %d",
                     c->t->workers[g]);
            return HPS_ECORRUPT;
        }
        int rc = handle_result(c, g, id, bytes, n);
        if (rc != HPS_OK)
            return rc;
    }
    if (c->o->stats) {
        c->o->stats->result += tick(c) - t0;
        c->o->stats->results += count;
    }
    return HPS_OK;
}

/* The transport's deliver callback: one message from group g. */
static int deliver(void *core, int g, int tag, const void *msg, size_t len)
{
    coord *c = core;
    if (g < 0 || g >= c->t->n_groups) {
        snprintf(c->err, c->errlen, "a message from an unknown trial group (%d)", g);
        return HPS_ECORRUPT;
    }
    if (tag == HPS_TAG_REPORT)
        return hps_coord_take_report(c, g, msg, len);
    if (tag == HPS_TAG_RESULTS)
        return take_results(c, g, msg, len);
    snprintf(c->err, c->errlen, "unexpected message (tag %d) from worker %d", tag,
             c->t->workers[g]);
    return HPS_ECORRUPT;
}

static int halted(void *core)
{
    const coord *c = core;
    return *c->o->signalled || c->too_many_failures;
}

/* ---- dispatch ------------------------------------------------------------------------ */

static int budget_left(coord *c)
{
    const hps_coord_opts *o = c->o;
    const hps_rec_budget *b = &c->s->budget;
    if (*o->signalled || c->too_many_failures)
        return 0;
    if (b->max_time > 0 && c->t->ops->wall(c->t) - c->run_start >= b->max_time)
        return 0;
    if (b->max_resource > 0 && c->s->resource_dispatched >= b->max_resource)
        return 0;
    return 1;
}

/* The next trial to run: a re-run first, else a new suggestion. Returns HPS_OK
 * with *id set, HPS_EAGAIN or HPS_EDONE. */
static int next_trial(coord *c, int32_t worker, double now, int64_t *id)
{
    hps_sweep *s = c->s;
    int rc;
    if (c->requeue_pos < c->n_requeue) {
        *id = c->requeue[c->requeue_pos++];
        if ((rc = hps_rec_encode_dispatch(&c->rec, worker, now)) != HPS_OK)
            return rc;
        return hps_coord_commit(c, HPS_REC_DISPATCH, *id, &c->rec, NULL);
    }
    if (c->exhausted || !budget_left(c))
        return HPS_EDONE;
    /* max_trials counts configurations (trial ids). Every suggest() that returns a
     * suggestion is journaled, so none is asked for that could not be run: at the
     * limit, promotions stop too (budget.max_resource bounds multi-fidelity sweeps). */
    if (s->budget.max_trials > 0 && s->n_trials >= s->budget.max_trials) {
        c->exhausted = 1;
        return HPS_EDONE;
    }
    hps_apply_out out;
    double t0 = tick(c);
    rc = hps_sweep_commit_suggest(s, c->j, worker, now, &out, c->err, c->errlen);
    if (c->o->stats) {
        c->o->stats->suggest += tick(c) - t0;
        c->o->stats->suggests++;
    }
    if (rc != HPS_ENOMEM) {
        /* a FEED before the suggestion, or the suggestion itself, may have shown runs */
        int src = hps_coord_settle_stops(c, 1);
        if (src != HPS_OK)
            return src;
    }
    if (rc == HPS_EDONE)
        c->exhausted = 1;
    else if (rc == HPS_EAGAIN)
        c->waiting = 1;
    if (rc != HPS_OK)
        return rc;
    if (out.promotion && (size_t)out.trial_id < c->cap_pruning)
        c->pruning[out.trial_id] = 0; /* a new run: it may be stopped again */
    *id = out.trial_id;
    return HPS_OK;
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
static int fill_group(coord *c, int g, int *sent)
{
    hps_sweep *s = c->s;
    group *gr = &c->groups[g];
    int want = batch_size(c);
    int depth = want > 1 ? 2 : 1;
    if (gr->busy >= depth)
        return HPS_OK;
    /* Nothing to run until a message comes (the strategy waits for results, or the
     * budget is spent): with 10,000 groups, asking again for each would cost the
     * loop 10,000 suggests and clock reads. A pure strategy asked again with no new
     * result gives the same answer. */
    if (c->requeue_pos >= c->n_requeue && (c->exhausted || c->waiting))
        return HPS_OK;
    hps_buf *b = c->t->ops->buffer(c->t, g);
    if (!b)
        return HPS_OK;
    hps_proto_trials_begin(b, (uint32_t)s->d);
    int n = 0;
    double now = c->t->ops->wall(c->t); /* one dispatch time for the batch */
    while (n < want) {
        int64_t id;
        int rc = next_trial(c, c->t->workers[g], now, &id);
        if (rc == HPS_EDONE || rc == HPS_EAGAIN)
            break;
        if (rc != HPS_OK)
            return rc;
        const hps_trial *t = hps_sweep_trial(s, id);
        hps_trial_spec spec = {.trial_id = id, .seed = t->seed, .budget = t->budget,
                               .prev_budget = t->prev_budget, .values = t->values};
        hps_proto_trials_add(b, &spec, (uint32_t)s->d);
        n++;
    }
    if (n == 0)
        return HPS_OK;
    if (b->failed)
        return HPS_ENOMEM;
    gr->left[(gr->head + gr->busy) % 2] = n;
    gr->busy++;
    gr->in_flight += n;
    *sent = 1;
    return c->t->ops->send(c->t, g);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int64_t running(const coord *c)
{
    int64_t r = 0;
    for (int g = 0; g < c->t->n_groups; g++)
        r += c->groups[g].in_flight;
    return r;
}

/*
 * Rewrite sweep.h5 every few seconds (at least 20 times as long as a rewrite takes,
 * so rewrites cost at most 5% of the loop), and sooner when the memory it would
 * let go of (hps_sweep_held_bytes) reaches HPS_SWEEP_SPILL_BYTES -- but not sooner
 * than the rewrite's fixed part after the last, so that part takes at most half
 * the loop. A rewrite writes the whole file: its fixed part (the rows carried
 * from the file it replaces, the write, the fsync) grows with the sweep, about
 * 0.14 s at a million trials here, while the rows it holds cost the same in total
 * however often it runs (each is packed and compressed once), so only the fixed
 * part is a floor. Between rewrites the finished trials are packed as the
 * compressed rows the rewrite takes (hps_sweep_pack: some 20 bytes a trial
 * rather than 240), so the trials that end faster than a rewrite (no-op trials)
 * cost little to hold. Memory, not rows, sets the pace: counted in rows (65,536),
 * packed trials made a million no-op trials take 30 rewrites instead of 18-19,
 * and 25-40% longer (11 now); without a floor they took 3x as long (32 rewrites
 * of up to 20 MB); with the whole rewrite's time as the floor, the rows held made
 * the next rewrite longer and the next hold larger (290,000 of a million held at
 * once).
 */
static int maybe_write_store(coord *c, int force)
{
    double now = c->t->ops->monotonic(c->t);
    double since = now - c->last_store;
    if (c->o->h5_path)
        hps_sweep_pack(c->s);
    if (!force && since < fmax(STORE_MIN_INTERVAL, 20.0 * c->store_cost) &&
        !(since >= c->store_fixed && hps_sweep_held_bytes(c->s) >= HPS_SWEEP_SPILL_BYTES))
        return HPS_OK;
    int rc = write_store(c, c->err, c->errlen);
    double after = c->t->ops->monotonic(c->t);
    c->store_cost = after - now;
    c->store_fixed = fmax(0.0, c->store_cost - c->s->store_row_seconds);
    c->last_store = after;
    return rc;
}

static int set_status(coord *c, const char *status)
{
    int rc = hps_rec_encode_string(&c->rec, 0, status);
    if (rc != HPS_OK)
        return rc;
    return hps_coord_commit(c, HPS_REC_STATUS, -1, &c->rec, NULL);
}

static int sync_journal(coord *c)
{
    if (hps_journal_pending(c->j) == 0)
        return HPS_OK;
    double t0 = tick(c);
    int rc = hps_journal_sync(c->j);
    if (c->o->stats) {
        c->o->stats->sync += tick(c) - t0;
        c->o->stats->syncs++;
    }
    if (rc != HPS_OK)
        snprintf(c->err, c->errlen, "writing the journal: %s", hps_strerror(rc));
    return rc;
}

/* Commit every running trial as interrupted, then the sweep's status. */
static int interrupt_running(coord *c, const char *status)
{
    hps_sweep *s = c->s;
    double now = c->t->ops->wall(c->t);
    for (int64_t i = s->trials_spilled; i < s->n_trials; i++) {
        if (hps_sweep_trial(s, i)->status != HPS_TRIAL_RUNNING)
            continue;
        int rc = hps_rec_encode_interrupt(&c->rec, now);
        if (rc == HPS_OK)
            rc = hps_coord_commit(c, HPS_REC_INTERRUPT, i, &c->rec, NULL);
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
 * coordinator (benchmarks read it). In-process, the CPU is the trials' too. */
static void summary(const coord *c)
{
    const hps_sweep *s = c->s;
    double wall = hps_monotonic() - c->loop_start;
    double cpu = cpu_seconds() - c->cpu_start;
    int64_t ended = s->n_done + s->n_failed + s->n_pruned - c->ended_at_start;
    char share[48] = "", best[160];
    if (wall >= 0.5) /* a share of a shorter interval means little */
        snprintf(share, sizeof share, " (%.1f%% of one core)", 100.0 * cpu / wall);
    if (s->best_id >= 0)
        snprintf(best, sizeof best, "best %s = %.10g (trial %lld)", s->cfg.metric,
                 hps_sweep_best(s)->objective, (long long)s->best_id);
    else
        snprintf(best, sizeof best, "no trial completed");
    char store[96] = "";
    if (c->store_writes > 0)
        snprintf(store, sizeof store, "; sweep.h5 written %lld times, at most %lld trials held",
                 (long long)c->store_writes, (long long)c->held_max);
    fprintf(stderr, "hpsweep: %s: %lld trials ended in %.3f s (%.0f trials/s); %s CPU %.3f s%s; "
            "%s%s\n", s->status, (long long)ended, wall, wall > 0 ? (double)ended / wall : 0.0,
            c->t->workers[0] == 0 ? "process" : "coordinator", cpu, share, best, store);
}

static int setup(coord *c)
{
    hps_sweep *s = c->s;
    hps_transport *t = c->t;
    c->ewma = -1;
    c->n_active = t->n_groups;
    if (s->budget.parallelism > 0 && s->budget.parallelism < c->n_active)
        c->n_active = s->budget.parallelism;
    c->groups = calloc((size_t)(t->n_groups > 0 ? t->n_groups : 1), sizeof *c->groups);
    c->requeue = malloc(sizeof(int64_t) * (size_t)(s->n_trials > 0 ? s->n_trials : 1));
    c->line = malloc(sizeof *c->line);
    if (!c->groups || !c->requeue || !c->line)
        return HPS_ENOMEM;
    t->deliver = deliver;
    t->halted = halted;
    t->core = c;
    for (int64_t i = s->trials_spilled; i < s->n_trials; i++)
        if (hps_sweep_trial(s, i)->status == HPS_TRIAL_RUNNING ||
            hps_sweep_trial(s, i)->status == HPS_TRIAL_INTERRUPTED)
            c->requeue[c->n_requeue++] = i;
    hps_progress_init(&c->progress, c->o->tty, s->budget.max_trials, s);
    c->run_start = t->ops->wall(t);
    c->last_store = t->ops->monotonic(t);
    c->loop_start = hps_monotonic();
    c->cpu_start = cpu_seconds();
    c->ended_at_start = s->n_done + s->n_failed + s->n_pruned;
    int rc;
    if (c->o->provenance &&
        (rc = hps_sweep_commit_run(s, c->j, 0, c->o->provenance, c->err, c->errlen)) != HPS_OK)
        return rc;
    /* stops a replay decided whose PRUNE a torn journal tail lost (their trials run
     * nowhere now) */
    if ((rc = hps_coord_settle_stops(c, 0)) != HPS_OK)
        return rc;
    if (strcmp(s->status, "running") != 0)
        return set_status(c, "running");
    return HPS_OK;
}

/* The RUN record of this run's end: when, how, and how many trials ended. */
static int end_run(coord *c)
{
    if (!c->o->provenance)
        return HPS_OK;
    hps_sweep *s = c->s;
    hps_prov p = {0};
    char when[40], ended[32];
    hps_iso_time(c->t->ops->wall(c->t), when, sizeof when);
    snprintf(ended, sizeof ended, "%lld",
             (long long)(s->n_done + s->n_failed + s->n_pruned - c->ended_at_start));
    int rc = hps_prov_add(&p, HPS_PROV_RUN, 0, "end_time", when);
    if (rc == HPS_OK)
        rc = hps_prov_add(&p, HPS_PROV_RUN, 0, "end_status", s->status);
    if (rc == HPS_OK)
        rc = hps_prov_add(&p, HPS_PROV_RUN, 0, "trials_ended", ended);
    if (rc == HPS_OK)
        rc = hps_sweep_commit_run(s, c->j, 1, &p, c->err, c->errlen);
    hps_prov_free(&p);
    return rc;
}

static void teardown(coord *c)
{
    free(c->groups);
    free(c->requeue);
    free(c->pruning);
    free(c->line);
    hps_buf_free(&c->rec);
}

static int loop(coord *c)
{
    hps_transport *t = c->t;
    for (;;) {
        int busy = 0, rc;
        if (c->o->stats)
            c->o->stats->loops++;
        if ((rc = t->ops->poll(t, &busy)) != HPS_OK)
            return rc;
        if (busy)
            c->waiting = 0;
        if (*c->o->signalled || c->too_many_failures)
            return HPS_OK;
        for (int g = 0; g < c->n_active; g++)
            if ((rc = fill_group(c, g, &busy)) != HPS_OK)
                return rc;
        if ((rc = sync_journal(c)) != HPS_OK)
            return rc;
        if (!c->o->quiet)
            hps_progress_tick(&c->progress, c->s, 0);
        if ((rc = maybe_write_store(c, 0)) != HPS_OK)
            return rc;
        int more = c->requeue_pos < c->n_requeue ||
                   (!c->exhausted && budget_left(c) &&
                    !(c->s->budget.max_trials > 0 &&
                      c->s->n_trials >= c->s->budget.max_trials));
        if (running(c) == 0 && (!more || (c->waiting && !busy))) {
            if (more && c->waiting) {
                snprintf(c->err, c->errlen, "strategy '%s' is waiting for results, but no "
                         "trial is running", c->s->ops->name);
                return HPS_EAGAIN;
            }
            return HPS_OK;
        }
        t->ops->idle(t, busy);
    }
}

int hps_coordinator_run(hps_sweep *s, hps_journal *j, hps_transport *t, const hps_coord_opts *o,
                        char *err, size_t errlen)
{
    coord c = {.s = s, .j = j, .t = t, .o = o, .err = err, .errlen = errlen};
    int rc = setup(&c);
    if (rc == HPS_OK && o->h5_path && access(o->h5_path, F_OK) != 0)
        rc = maybe_write_store(&c, 1);
    if (rc == HPS_OK)
        rc = loop(&c);
    int interrupted = rc == HPS_OK && *o->signalled;
    if (rc == HPS_OK && c.too_many_failures) {
        (void)interrupt_running(&c, "failed");
        rc = HPS_EFAILURES; /* err says why */
    } else if (rc == HPS_OK) {
        rc = interrupted ? interrupt_running(&c, "interrupted") : set_status(&c, "completed");
    } else if (rc != HPS_ENOMEM) {
        (void)interrupt_running(&c, "interrupted"); /* keep the record straight; the error wins */
    }
    int erc = rc == HPS_ENOMEM ? HPS_OK : end_run(&c);
    if (rc == HPS_OK)
        rc = erc;
    int src = sync_journal(&c);
    if (rc == HPS_OK)
        rc = src;
    /* sweep.h5 shows what the journal holds: when the journal could not be
     * written, the file stays as it was (the next resume rebuilds it). */
    char serr[512] = "";
    int wrc = src == HPS_OK ? write_store(&c, serr, sizeof serr) : HPS_OK;
    if (rc == HPS_OK && wrc != HPS_OK) {
        snprintf(err, errlen, "writing %s: %s", o->h5_path, serr);
        rc = wrc;
    }
    if (!o->quiet)
        hps_progress_tick(&c.progress, s, 1);
    summary(&c);
    t->ops->stop(t);
    teardown(&c);
    if (rc == HPS_OK && interrupted)
        return HPS_EINTR;
    return rc;
}
