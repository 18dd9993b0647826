/*
 * The simulated transport (see transport_sim.h).
 *
 * Each group holds at most two batches (the core's depth); the head batch runs
 * trial after trial. A group's next event is its current trial's next report or
 * the head batch's end; groups sit in a min-heap keyed by (event time, group), so
 * taking the next event costs O(log groups) and equal times go in group order
 * (deterministic).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/grow.h"
#include "hpsweep/error.h"
#include "transport_sim.h"
#include "wire/protocol.h"

typedef struct sim_trial {
    int64_t id;
    double duration;
    double start, end;          /* set when the trial starts */
    hps_buf outcome;            /* encoded outcome (times patched on delivery) */
    int32_t attempts;
    hps_buf reports;            /* REPORT messages, back to back */
    size_t *report_end;         /* [n_reports] end offset of each in reports */
    int n_reports, next_report;
    size_t cap_reports;
    int pruned;
} sim_trial;

typedef struct sim_batch {
    sim_trial *t;
    int n, cur;                 /* trials, the running one */
    size_t cap;
} sim_batch;

typedef struct sim_group {
    sim_batch b[2];
    int head, nb;               /* oldest batch, batches held */
    double free_at;             /* when the last queued work ends (for a new batch) */
    double idle_since;          /* when it last ran out of work (nb == 0) */
    int heap_pos;               /* index in the heap, -1 when not there */
} sim_group;

typedef struct sim_transport {
    hps_transport base;
    hps_sim_opts o;
    int32_t *workers;
    sim_group *g;
    int *heap, n_heap;          /* groups with a pending event */
    hps_buf send, results;
    double now, real_mark;
    hps_sim_stats st;
    int32_t worker;             /* the group whose batch is being run (for reports) */
    sim_trial *filling;         /* the trial whose reports are being taken */
    int rc;
} sim_transport;

/* ---- clock ----------------------------------------------------------------------- */

static double real_clock(const sim_transport *s)
{
    return s->o.charge == HPS_SIM_CHARGE_OWN ? hps_own_seconds() : hps_monotonic();
}

/* Move the clock on by the real time spent since the last mark (the coordinator's). */
static void charge(sim_transport *s)
{
    if (s->o.charge == HPS_SIM_CHARGE_NONE)
        return;
    double r = real_clock(s);
    s->now += r - s->real_mark;
    s->st.charged += r - s->real_mark;
    s->real_mark = r;
}

/* Leave the real time since the last mark uncharged (the transport's own work:
 * virtual workers cost the coordinator nothing). */
static void skip(sim_transport *s)
{
    if (s->o.charge != HPS_SIM_CHARGE_NONE)
        s->real_mark = real_clock(s);
}

static double sim_now(sim_transport *s)
{
    charge(s);
    return s->now;
}

static double sim_monotonic(hps_transport *t)
{
    return sim_now((sim_transport *)t);
}

static double sim_wall(hps_transport *t)
{
    sim_transport *s = (sim_transport *)t;
    return s->o.start_wall + sim_now(s);
}

/* ---- a group's next event ---------------------------------------------------------- */

static sim_trial *current(sim_group *gr)
{
    if (gr->nb == 0)
        return NULL;
    sim_batch *b = &gr->b[gr->head];
    return &b->t[b->cur];
}

static double report_time(const sim_trial *t, int k)
{
    return t->start + t->duration * (double)(k + 1) / (double)(t->n_reports + 1);
}

/* When group gr's next message is due (INFINITY: none). */
static double next_event(sim_group *gr)
{
    sim_trial *t = current(gr);
    if (!t)
        return INFINITY;
    if (!t->pruned && t->next_report < t->n_reports)
        return report_time(t, t->next_report);
    sim_batch *b = &gr->b[gr->head];
    return b->t[b->n - 1].end;
}

static int before(sim_transport *s, int a, int b)
{
    double ta = next_event(&s->g[a]), tb = next_event(&s->g[b]);
    return ta < tb || (ta == tb && a < b);
}

static void heap_swap(sim_transport *s, int i, int j)
{
    int a = s->heap[i], b = s->heap[j];
    s->heap[i] = b;
    s->heap[j] = a;
    s->g[b].heap_pos = i;
    s->g[a].heap_pos = j;
}

/* Restore the heap around group g after its next event changed. */
static void heap_fix(sim_transport *s, int g)
{
    sim_group *gr = &s->g[g];
    int in = isfinite(next_event(gr));
    if (gr->heap_pos < 0) {
        if (!in)
            return;
        gr->heap_pos = s->n_heap;
        s->heap[s->n_heap++] = g;
    } else if (!in) {
        int i = gr->heap_pos;
        heap_swap(s, i, s->n_heap - 1);
        s->n_heap--;
        gr->heap_pos = -1;
        if (i == s->n_heap)
            return;
        g = s->heap[i];
    }
    int i = s->g[g].heap_pos;
    while (i > 0 && before(s, s->heap[i], s->heap[(i - 1) / 2])) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n_heap && before(s, s->heap[l], s->heap[m]))
            m = l;
        if (r < s->n_heap && before(s, s->heap[r], s->heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

/* ---- running batches ---------------------------------------------------------------- */

/* Lay out the times of batch b's trials from trial k on, the first starting at t0. */
static void schedule(sim_batch *b, int k, double t0)
{
    for (int i = k; i < b->n; i++) {
        sim_trial *t = &b->t[i];
        t->start = t0;
        t->end = t->pruned ? t0 : t0 + t->duration;
        t0 = t->end;
    }
}

static void on_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    sim_transport *s = ctx;
    sim_trial *t = s->filling;
    if (s->rc != HPS_OK)
        return;
    size_t *e = hps_grow(t->report_end, &t->cap_reports, (size_t)t->n_reports + 1, sizeof *e, 8);
    if (!e) {
        s->rc = HPS_ENOMEM;
        return;
    }
    t->report_end = e;
    hps_buf msg = {0};
    hps_proto_report(&msg, trial_id, line);
    hps_buf_put(&t->reports, msg.data, msg.len);
    s->rc = msg.failed || t->reports.failed ? HPS_ENOMEM : HPS_OK;
    hps_buf_free(&msg);
    t->report_end[t->n_reports++] = t->reports.len;
}

static int on_poll(void *ctx, int64_t trial_id)
{
    (void)ctx;
    (void)trial_id;
    return HPS_POLL_GO;
}

static void trial_free(sim_trial *t)
{
    hps_buf_free(&t->outcome);
    hps_buf_free(&t->reports);
    free(t->report_end);
    memset(t, 0, sizeof *t);
}

static hps_buf *sim_buffer(hps_transport *t, int g)
{
    sim_transport *s = (sim_transport *)t;
    return s->g[g].nb < 2 ? &s->send : NULL;
}

/* Run every trial of the message in s->send now (outcomes and reports), as batch
 * b of group g. */
static int fill_batch(sim_transport *s, int g, sim_batch *b)
{
    uint32_t count, d;
    if (hps_proto_trials_count(s->send.data, s->send.len, &count, &d) != HPS_OK)
        return HPS_ECORRUPT;
    sim_trial *t = hps_grow(b->t, &b->cap, count, sizeof *t, 4);
    if (!t)
        return HPS_ENOMEM;
    b->t = t;
    b->n = b->cur = 0;
    hps_trial_hooks hooks = {.report = on_report, .poll = on_poll, .ctx = s};
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_trial_spec spec;
        if (hps_proto_trials_next(s->send.data, s->send.len, &off, d, &spec) != HPS_OK)
            return HPS_ECORRUPT;
        sim_trial *tr = &b->t[b->n++];
        memset(tr, 0, sizeof *tr);
        tr->id = spec.trial_id;
        tr->duration = s->o.duration(s->o.ctx, g, &spec);
        if (!(tr->duration >= 0) || !isfinite(tr->duration))
            tr->duration = 0;
        s->filling = tr;
        hps_outcome out;
        int rc = s->o.run(s->o.runner, &spec, &hooks, &out);
        if (rc == HPS_OK)
            rc = s->rc;
        if (rc != HPS_OK)
            return rc;
        out.worker = s->workers[g];
        tr->attempts = out.attempts;
        if ((rc = hps_outcome_encode(&tr->outcome, &out)) != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

static int sim_send(hps_transport *t, int g)
{
    sim_transport *s = (sim_transport *)t;
    sim_group *gr = &s->g[g];
    sim_batch *b = &gr->b[(gr->head + gr->nb) % 2];
    double now = sim_now(s);
    int rc = fill_batch(s, g, b);
    skip(s);
    if (rc != HPS_OK) {
        for (int i = 0; i < b->n; i++)
            trial_free(&b->t[i]);
        b->n = 0;
        return rc;
    }
    if (gr->nb == 0 && gr->idle_since < now)
        s->st.idle += now - gr->idle_since;
    s->st.last_send = now;
    schedule(b, 0, gr->nb == 0 || gr->free_at < now ? now : gr->free_at);
    gr->free_at = b->n ? b->t[b->n - 1].end : gr->free_at;
    gr->nb++;
    s->st.batches++;
    heap_fix(s, g);
    skip(s);
    return HPS_OK;
}

/* Hand a message to the coordinator, charging the time it takes to the clock. */
static int deliver(sim_transport *s, int g, int tag, const void *msg, size_t len)
{
    skip(s);
    int rc = s->base.deliver(s->base.core, g, tag, msg, len);
    charge(s);
    return rc;
}

/* The head batch of group g ended: one RESULTS message for all its trials. */
static int finish_batch(sim_transport *s, int g)
{
    sim_group *gr = &s->g[g];
    sim_batch *b = &gr->b[gr->head];
    double eval = 0;
    hps_proto_results_begin(&s->results, 0);
    for (int i = 0; i < b->n; i++) {
        sim_trial *t = &b->t[i];
        eval += t->end - t->start;
        s->st.busy += t->end - t->start;
        s->st.trials++;
        if (t->pruned) {
            hps_outcome o;
            hps_outcome_init(&o);
            o.status = HPS_TRIAL_PRUNED;
            memcpy(o.cause, "pruned", 7);
            o.worker = s->workers[g];
            o.attempts = t->attempts;
            o.start = s->o.start_wall + t->start;
            o.end = s->o.start_wall + t->end;
            hps_buf_reset(&t->outcome);
            if (hps_outcome_encode(&t->outcome, &o) != HPS_OK)
                return HPS_ENOMEM;
        } else if (hps_outcome_set_times(t->outcome.data, t->outcome.len,
                                         s->o.start_wall + t->start,
                                         s->o.start_wall + t->end) != HPS_OK) {
            return HPS_ECORRUPT;
        }
        HPS_BUF_PUT(&s->results, t->id);
        uint32_t len = (uint32_t)t->outcome.len;
        HPS_BUF_PUT(&s->results, len);
        hps_buf_put(&s->results, t->outcome.data, t->outcome.len);
    }
    uint32_t count = (uint32_t)b->n;
    if (s->results.failed)
        return HPS_ENOMEM;
    memcpy(s->results.data, &count, sizeof count);
    hps_proto_results_set_seconds(&s->results, eval);
    double ended = b->n ? b->t[b->n - 1].end : s->now;
    for (int i = 0; i < b->n; i++)
        trial_free(&b->t[i]);
    b->n = 0;
    gr->head = 1 - gr->head;
    gr->nb--;
    if (gr->nb > 0) /* the next batch starts where this one ended */
        schedule(&gr->b[gr->head], 0, ended);
    else
        gr->idle_since = ended;
    heap_fix(s, g);
    return deliver(s, g, HPS_TAG_RESULTS, s->results.data, s->results.len);
}

/* Deliver group g's next event (due now). */
static int fire(sim_transport *s, int g)
{
    sim_group *gr = &s->g[g];
    sim_trial *t = current(gr);
    if (!t->pruned && t->next_report < t->n_reports) {
        int k = t->next_report++;
        size_t from = k ? t->report_end[k - 1] : 0;
        heap_fix(s, g);
        /* The bytes stay put: delivering may prune this trial, which only flags it. */
        return deliver(s, g, HPS_TAG_REPORT, t->reports.data + from, t->report_end[k] - from);
    }
    sim_batch *b = &gr->b[gr->head];
    if (b->cur < b->n - 1) {
        b->cur++;
        heap_fix(s, g);
        return HPS_OK;
    }
    return finish_batch(s, g);
}

static int sim_poll(hps_transport *t, int *got)
{
    sim_transport *s = (sim_transport *)t;
    charge(s);
    /* s->now moves on while the coordinator takes each message: what came due
     * meanwhile is delivered in the same poll */
    while (s->n_heap > 0 && next_event(&s->g[s->heap[0]]) <= s->now) {
        int g = s->heap[0];
        sim_trial *tr = current(&s->g[g]);
        /* A trial that ended without a message moves the batch on silently. */
        int silent = (tr->pruned || tr->next_report >= tr->n_reports) &&
                     s->g[g].b[s->g[g].head].cur < s->g[g].b[s->g[g].head].n - 1;
        int rc = fire(s, g);
        if (rc != HPS_OK)
            return rc;
        if (!silent)
            *got = 1;
    }
    skip(s);
    return HPS_OK;
}

static int sim_prune(hps_transport *t, int g, int64_t trial_id)
{
    sim_transport *s = (sim_transport *)t;
    sim_group *gr = &s->g[g];
    double now = sim_now(s);
    for (int k = 0; k < gr->nb; k++) {
        sim_batch *b = &gr->b[(gr->head + k) % 2];
        for (int i = b->cur; i < b->n; i++) {
            sim_trial *tr = &b->t[i];
            if (tr->id != trial_id || tr->pruned || (k == 0 && i == b->cur && tr->end <= now &&
                                                     tr->next_report >= tr->n_reports))
                continue;
            tr->pruned = 1;
            s->st.pruned++;
            if (k == 0) {
                /* Cut it at now (or at its start, if queued), and move the rest up. */
                double at = i == b->cur && tr->start < now ? now : tr->start;
                tr->end = at;
                schedule(b, i + 1, at);
                gr->free_at = b->t[b->n - 1].end;
                if (gr->nb > 1) {
                    sim_batch *nb = &gr->b[(gr->head + 1) % 2];
                    schedule(nb, 0, gr->free_at);
                    gr->free_at = nb->t[nb->n - 1].end;
                }
            }
            heap_fix(s, g);
            skip(s);
            return HPS_OK;
        }
    }
    skip(s);
    return HPS_OK; /* already ended: the result is on its way */
}

static void sim_idle(hps_transport *t, int busy)
{
    sim_transport *s = (sim_transport *)t;
    if (busy || s->n_heap == 0)
        return;
    double next = next_event(&s->g[s->heap[0]]);
    if (next > sim_now(s))
        s->now = next;
    skip(s);
}

static void sim_stop(hps_transport *t)
{
    sim_transport *s = (sim_transport *)t;
    for (int g = 0; g < t->n_groups; g++) {
        sim_group *gr = &s->g[g];
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < gr->b[k].n; i++)
                trial_free(&gr->b[k].t[i]);
            gr->b[k].n = 0;
        }
        if (gr->nb > 0) /* stopped while busy: it was not idle before now */
            gr->idle_since = s->now;
        gr->nb = 0;
        gr->heap_pos = -1;
    }
    s->n_heap = 0;
}

static void sim_destroy(hps_transport *t)
{
    sim_transport *s = (sim_transport *)t;
    if (s->g) {
        sim_stop(t);
        for (int g = 0; g < t->n_groups; g++)
            for (int k = 0; k < 2; k++)
                free(s->g[g].b[k].t);
    }
    free(s->g);
    free(s->heap);
    free(s->workers);
    hps_buf_free(&s->send);
    hps_buf_free(&s->results);
    free(s);
}

static const hps_transport_ops sim_ops = {
    .name = "simulated", .buffer = sim_buffer, .send = sim_send, .poll = sim_poll,
    .prune = sim_prune, .idle = sim_idle, .stop = sim_stop, .monotonic = sim_monotonic,
    .wall = sim_wall, .destroy = sim_destroy,
};

int hps_transport_sim_create(const hps_sim_opts *o, hps_transport **out)
{
    *out = NULL;
    if (o->n_groups < 1 || !o->run || !o->duration)
        return HPS_EINVAL;
    sim_transport *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    s->base.ops = &sim_ops;
    s->base.n_groups = o->n_groups;
    s->o = *o;
    if (s->o.start_wall == 0)
        s->o.start_wall = 1.7e9;
    s->g = calloc((size_t)o->n_groups, sizeof *s->g);
    s->heap = malloc(sizeof(int) * (size_t)o->n_groups);
    s->workers = malloc(sizeof(int32_t) * (size_t)o->n_groups);
    if (!s->g || !s->heap || !s->workers) {
        sim_destroy(&s->base);
        return HPS_ENOMEM;
    }
    for (int g = 0; g < o->n_groups; g++) {
        s->g[g].heap_pos = -1;
        s->workers[g] = g + 1;
    }
    s->base.workers = s->workers;
    s->real_mark = real_clock(s);
    *out = &s->base;
    return HPS_OK;
}

void hps_transport_sim_stats(hps_transport *t, hps_sim_stats *out)
{
    sim_transport *s = (sim_transport *)t;
    *out = s->st;
    out->now = sim_now(s);
    for (int g = 0; g < t->n_groups; g++)
        if (s->g[g].nb == 0 && s->g[g].idle_since < s->st.last_send)
            out->idle += s->st.last_send - s->g[g].idle_since;
}
