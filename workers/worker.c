/*
 * Worker ranks: a leader's serve loop and the other group members' loop (see
 * worker.h and wire/protocol.h). Members receive each batch the leader relays;
 * for grouped objectives (trial.h) they run its trials too, in the same order,
 * with hooks that only see this rank's signals; only the leader talks to the
 * coordinator.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/grow.h"
#include "hpsweep/error.h"
#include "trial.h"
#include "wire/mpi.h"
#include "wire/protocol.h"
#include "worker.h"

#define PRUNE_MEMORY 64
/* After sending a batch's results the next batch is due within a millisecond or
 * two: after the backoff's first sleeps (20, 40 us), poll every FINE_NS until
 * FINE_SECONDS have passed, then back off to 1 ms sleeps (a doubling backoff alone
 * added about 1 ms to every dispatch). Still no spinning. */
#define FINE_SECONDS 0.005
#define FINE_NS 50000L

typedef struct leader {
    volatile sig_atomic_t *signalled;
    double next_probe;
    int stop_pending;
    int64_t pruned[PRUNE_MEMORY];  /* PRUNE requests received (ring) */
    int n_pruned;
    hps_buf report;                /* REPORT message scratch */
} leader;

static int was_pruned(const leader *c, int64_t trial_id)
{
    int n = c->n_pruned < PRUNE_MEMORY ? c->n_pruned : PRUNE_MEMORY;
    for (int i = 0; i < n; i++)
        if (c->pruned[i] == trial_id)
            return 1;
    return 0;
}

/* A promoted trial's new run starts: a request received so far was for its
 * earlier run (which ended before the request arrived). Requests sent before this
 * batch are all in the ring: the serve loop receives in the coordinator's order. */
static void forget_prune(leader *c, int64_t trial_id)
{
    int n = c->n_pruned < PRUNE_MEMORY ? c->n_pruned : PRUNE_MEMORY;
    for (int i = 0; i < n; i++)
        if (c->pruned[i] == trial_id)
            c->pruned[i] = -1;
}

/* Take every PRUNE waiting from the coordinator. */
static void take_prunes(leader *c)
{
    for (;;) {
        int flag = 0;
        mpiCheck(MPI_Iprobe(0, HPS_TAG_PRUNE, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
        if (!flag)
            return;
        int64_t id;
        mpiCheck(MPI_Recv(&id, (int)sizeof id, MPI_BYTE, 0, HPS_TAG_PRUNE, MPI_COMM_WORLD,
                          MPI_STATUS_IGNORE));
        c->pruned[c->n_pruned++ % PRUNE_MEMORY] = id;
    }
}

/* A signal, or a STOP waiting from the coordinator (probed at most every 10 ms so
 * fast trials pay nothing). */
static int should_stop(leader *c)
{
    if (*c->signalled)
        return 1;
    double now = hps_monotonic();
    if (now >= c->next_probe) {
        c->next_probe = now + 0.01;
        int flag = 0;
        mpiCheck(MPI_Iprobe(0, HPS_TAG_STOP, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
        if (flag)
            c->stop_pending = 1;
    }
    return c->stop_pending;
}

/* The runner's hooks: reports go to the coordinator as they arrive; polls see
 * signals, the STOP and PRUNE requests. */
static void send_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    leader *c = ctx;
    hps_proto_report(&c->report, trial_id, line);
    if (c->report.failed)
        hps_mpi_fail(MPI_ERR_NO_MEM, "building a REPORT message", __FILE__, __LINE__);
    mpiCheck(MPI_Send(c->report.data, (int)c->report.len, MPI_BYTE, 0, HPS_TAG_REPORT,
                      MPI_COMM_WORLD));
}

static int poll_trial(void *ctx, int64_t trial_id)
{
    leader *c = ctx;
    if (should_stop(c))
        return HPS_POLL_INTERRUPT;
    take_prunes(c);
    return was_pruned(c, trial_id) ? HPS_POLL_PRUNE : HPS_POLL_GO;
}

/* Relay a batch (or, with count 0, the stop) to the rest of the group. */
static void group_bcast(MPI_Comm group, uint32_t count, void *data, uint32_t len)
{
    int size;
    mpiCheck(MPI_Comm_size(group, &size));
    if (size <= 1)
        return;
    uint32_t hdr[2] = {count, len};
    MPI_Request req;
    int done;
    mpiCheck(MPI_Ibcast(hdr, 2, MPI_UINT32_T, 0, group, &req));
    mpiCheck(hps_mpi_wait(&req, NULL, &done));
    if (count == 0 || len == 0)
        return;
    mpiCheck(MPI_Ibcast(data, (int)len, MPI_BYTE, 0, group, &req));
    mpiCheck(hps_mpi_wait(&req, NULL, &done));
}

/* A member's poll: only its own signals (the leader polls the coordinator). */
static int member_poll(void *ctx, int64_t trial_id)
{
    (void)trial_id;
    return *(volatile sig_atomic_t *)ctx ? HPS_POLL_INTERRUPT : HPS_POLL_GO;
}

/* A member runs a relayed batch's trials in the leader's order (grouped
 * objectives); outcomes stay here, the leader's go to the coordinator. */
static void member_batch(hps_objective *o, const unsigned char *msg, size_t len,
                         volatile sig_atomic_t *signalled)
{
    uint32_t count, d;
    if (hps_proto_trials_count(msg, len, &count, &d) != HPS_OK ||
        d != (uint32_t)o->space->n_params)
        hps_mpi_fail(MPI_ERR_TRUNCATE, "decoding a relayed batch", __FILE__, __LINE__);
    hps_trial_hooks hooks = {.poll = member_poll, .ctx = (void *)signalled};
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_trial_spec t;
        if (hps_proto_trials_next(msg, len, &off, d, &t) != HPS_OK)
            hps_mpi_fail(MPI_ERR_TRUNCATE, "decoding a relayed trial", __FILE__, __LINE__);
        hps_outcome r;
        if (hps_trial_run(o, &t, &hooks, &r) != HPS_OK)
            hps_mpi_fail(MPI_ERR_OTHER, "running a trial (spawner gone?)", __FILE__, __LINE__);
    }
}

/* A non-leader group member: receive each relayed batch until the stop, and run
 * it when the objective is grouped. */
static int member_loop(hps_objective *o, MPI_Comm group, volatile sig_atomic_t *signalled)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    int grouped = hps_objective_grouped(o);
    for (;;) {
        uint32_t hdr[2];
        MPI_Request req;
        int done;
        mpiCheck(MPI_Ibcast(hdr, 2, MPI_UINT32_T, 0, group, &req));
        mpiCheck(hps_mpi_wait(&req, NULL, &done));
        if (hdr[0] == 0)
            break;
        unsigned char *nb = hps_grow(buf, &cap, hdr[1], 1, 64);
        if (!nb)
            hps_mpi_fail(MPI_ERR_NO_MEM, "allocating a batch buffer", __FILE__, __LINE__);
        buf = nb;
        mpiCheck(MPI_Ibcast(buf, (int)hdr[1], MPI_BYTE, 0, group, &req));
        mpiCheck(hps_mpi_wait(&req, NULL, &done));
        if (grouped)
            member_batch(o, buf, hdr[1], signalled);
    }
    free(buf);
    return HPS_OK;
}

static void run_batch(hps_objective *o, int32_t rank, const unsigned char *msg, size_t len,
                      hps_buf *out, leader *lc)
{
    uint32_t count, d;
    if (hps_proto_trials_count(msg, len, &count, &d) != HPS_OK ||
        d != (uint32_t)o->space->n_params)
        hps_mpi_fail(MPI_ERR_TRUNCATE, "decoding a TRIALS message", __FILE__, __LINE__);
    hps_trial_hooks hooks = {.report = send_report, .poll = poll_trial, .ctx = lc};
    double t0 = hps_monotonic();
    hps_proto_results_begin(out, 0.0);
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_trial_spec t;
        if (hps_proto_trials_next(msg, len, &off, d, &t) != HPS_OK)
            hps_mpi_fail(MPI_ERR_TRUNCATE, "decoding a trial", __FILE__, __LINE__);
        hps_outcome r;
        /* A grouped objective's members must learn of a stop too: the runner's
         * begin asks the same poll and tells them. */
        if (!hps_objective_grouped(o) && should_stop(lc)) {
            hps_outcome_init(&r);
            r.status = HPS_TRIAL_INTERRUPTED;
            strcpy(r.cause, "interrupted");
            r.start = r.end = hps_wall();
        } else {
            if (t.prev_budget > 0)
                forget_prune(lc, t.trial_id);
            int rc = hps_trial_run(o, &t, &hooks, &r);
            if (rc != HPS_OK)
                hps_mpi_fail(MPI_ERR_OTHER, "running a trial (spawner gone?)", __FILE__,
                             __LINE__);
        }
        r.worker = rank;
        hps_proto_results_add(out, t.trial_id, &r);
    }
    hps_proto_results_set_seconds(out, hps_monotonic() - t0);
    if (out->failed)
        hps_mpi_fail(MPI_ERR_NO_MEM, "building a RESULTS message", __FILE__, __LINE__);
}

int hps_worker_run(hps_objective *o, MPI_Comm group, volatile sig_atomic_t *signalled)
{
    int grank, rank;
    mpiCheck(MPI_Comm_rank(group, &grank));
    mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    if (grank != 0)
        return member_loop(o, group, signalled);

    leader lc = {.signalled = signalled};
    hps_buf out = {0};
    unsigned char *msg = NULL;
    size_t cap = 0;
    hps_backoff bo;
    hps_backoff_reset(&bo);
    double fine_until = 0;
    for (;;) {
        MPI_Status st;
        int flag = 0;
        mpiCheck(MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st));
        if (!flag) {
            if (bo.ns >= FINE_NS && fine_until > 0 && hps_monotonic() < fine_until) {
                struct timespec ts = {0, FINE_NS};
                nanosleep(&ts, NULL);
            } else {
                hps_backoff_sleep(&bo);
            }
            continue;
        }
        hps_backoff_reset(&bo);
        int n;
        hps_mpi_recv(&st, MPI_COMM_WORLD, &msg, &cap, &n);
        if (st.MPI_TAG == HPS_TAG_STOP)
            break;
        if (st.MPI_TAG == HPS_TAG_PRUNE && n == (int)sizeof(int64_t)) {
            memcpy(&lc.pruned[lc.n_pruned++ % PRUNE_MEMORY], msg, sizeof(int64_t));
            continue;
        }
        if (st.MPI_TAG != HPS_TAG_TRIALS)
            continue;
        uint32_t count = 0, d = 0;
        if (hps_proto_trials_count(msg, (size_t)n, &count, &d) == HPS_OK)
            group_bcast(group, count, msg, (uint32_t)n);
        run_batch(o, rank, msg, (size_t)n, &out, &lc);
        if (lc.stop_pending)
            continue; /* the STOP is next in the queue: leave without reporting */
        mpiCheck(MPI_Send(out.data, (int)out.len, MPI_BYTE, 0, HPS_TAG_RESULTS, MPI_COMM_WORLD));
        fine_until = hps_monotonic() + FINE_SECONDS;
    }
    mpiCheck(MPI_Send(NULL, 0, MPI_BYTE, 0, HPS_TAG_BYE, MPI_COMM_WORLD));
    group_bcast(group, 0, NULL, 0);
    free(msg);
    hps_buf_free(&out);
    hps_buf_free(&lc.report);
    return HPS_OK;
}
