/*
 * The in-process transport: a sweep without workers (no mpirun, or one rank).
 * send() runs the batch right there through the one trial runner, one trial after
 * another, and delivers each trial's RESULTS (and its reports, as they come) to
 * the core before the next starts, so a failure limit or a signal stops the batch
 * between trials. Trials of a batch it did not run stay running in the sweep and
 * are journaled as interrupted when the coordinator ends.
 */
#include <stdlib.h>

#include "core/clock.h"
#include "hpsweep/error.h"
#include "transport.h"
#include "wire/protocol.h"

typedef struct inproc_transport {
    hps_transport base;
    int32_t worker;               /* 0: the coordinator itself */
    hps_trial_runner run;
    void *runner;
    volatile sig_atomic_t *signalled;
    hps_buf batch, results, report;
    int64_t prune_id;             /* the running trial, once the core asked to stop it */
    int rc;                       /* the first error the core returned from a report */
} inproc_transport;

static hps_buf *inproc_buffer(hps_transport *t, int g)
{
    (void)g;
    return &((inproc_transport *)t)->batch;
}

static void on_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    inproc_transport *p = ctx;
    if (p->rc != HPS_OK)
        return;
    hps_proto_report(&p->report, trial_id, line);
    p->rc = p->report.failed ? HPS_ENOMEM
                             : p->base.deliver(p->base.core, 0, HPS_TAG_REPORT, p->report.data,
                                               p->report.len);
}

static int on_poll(void *ctx, int64_t trial_id)
{
    inproc_transport *p = ctx;
    if (*p->signalled || p->rc != HPS_OK)
        return HPS_POLL_INTERRUPT;
    return p->prune_id == trial_id ? HPS_POLL_PRUNE : HPS_POLL_GO;
}

static int inproc_send(hps_transport *t, int g)
{
    inproc_transport *p = (inproc_transport *)t;
    uint32_t count, d;
    if (hps_proto_trials_count(p->batch.data, p->batch.len, &count, &d) != HPS_OK)
        return HPS_ECORRUPT;
    hps_trial_hooks hooks = {.report = on_report, .poll = on_poll, .ctx = p};
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (t->halted(t->core))
            break;
        hps_trial_spec spec;
        if (hps_proto_trials_next(p->batch.data, p->batch.len, &off, d, &spec) != HPS_OK)
            return HPS_ECORRUPT;
        p->prune_id = -1; /* a request can only come while its trial runs */
        hps_outcome out;
        double t0 = hps_monotonic();
        int rc = p->run(p->runner, &spec, &hooks, &out);
        if (rc == HPS_OK)
            rc = p->rc;
        if (rc != HPS_OK)
            return rc;
        out.worker = p->worker;
        hps_proto_results_begin(&p->results, hps_monotonic() - t0);
        hps_proto_results_add(&p->results, spec.trial_id, &out);
        if (p->results.failed)
            return HPS_ENOMEM;
        if ((rc = t->deliver(t->core, g, HPS_TAG_RESULTS, p->results.data, p->results.len)) !=
            HPS_OK)
            return rc;
    }
    return HPS_OK;
}

static int inproc_poll(hps_transport *t, int *got)
{
    (void)t;
    (void)got;
    return HPS_OK;
}

static int inproc_prune(hps_transport *t, int g, int64_t trial_id)
{
    (void)g;
    ((inproc_transport *)t)->prune_id = trial_id;
    return HPS_OK;
}

static void inproc_stop(hps_transport *t)
{
    (void)t;
}

static void inproc_destroy(hps_transport *t)
{
    inproc_transport *p = (inproc_transport *)t;
    hps_buf_free(&p->batch);
    hps_buf_free(&p->results);
    hps_buf_free(&p->report);
    free(p);
}

static const hps_transport_ops inproc_ops = {
    .name = "in-process", .buffer = inproc_buffer, .send = inproc_send, .poll = inproc_poll,
    .prune = inproc_prune, .idle = hps_transport_backoff_idle, .stop = inproc_stop,
    .monotonic = hps_transport_real_monotonic, .wall = hps_transport_real_wall, .destroy = inproc_destroy,
};

int hps_transport_inproc_create(hps_trial_runner run, void *runner,
                                volatile sig_atomic_t *signalled, hps_transport **out)
{
    inproc_transport *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return HPS_ENOMEM;
    p->base.ops = &inproc_ops;
    p->base.n_groups = 1;
    p->base.workers = &p->worker;
    p->run = run;
    p->runner = runner;
    p->signalled = signalled;
    p->prune_id = -1;
    *out = &p->base;
    return HPS_OK;
}
