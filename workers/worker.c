/*
 * Worker ranks: a leader's serve loop and the other group members' relay loop
 * (see worker.h and engine/protocol.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/protocol.h"
#include "engine/record.h"
#include "hpsweep/error.h"
#include "workers/command.h"
#include "workers/objective.h"
#include "workers/worker.h"

#define PRUNE_MEMORY 64

typedef struct stop_ctx {
    volatile sig_atomic_t *signalled;
    double next_probe;
    int stop_pending;
    int64_t pruned[PRUNE_MEMORY];  /* PRUNE requests received (ring) */
    int n_pruned;
    hps_buf report;                /* REPORT message scratch */
} stop_ctx;

static int was_pruned(const stop_ctx *c, int64_t trial_id)
{
    int n = c->n_pruned < PRUNE_MEMORY ? c->n_pruned : PRUNE_MEMORY;
    for (int i = 0; i < n; i++)
        if (c->pruned[i] == trial_id)
            return 1;
    return 0;
}

/* Take every PRUNE waiting from the coordinator. */
static void take_prunes(stop_ctx *c)
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

/* Polled by long evaluations: a signal, or a STOP waiting from the coordinator
 * (probed at most every 10 ms so fast trials pay nothing). */
static int should_stop(void *p)
{
    stop_ctx *c = p;
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
    mpiCheck(hps_wait_request(&req, NULL, &done));
    if (count == 0 || len == 0)
        return;
    mpiCheck(MPI_Ibcast(data, (int)len, MPI_BYTE, 0, group, &req));
    mpiCheck(hps_wait_request(&req, NULL, &done));
}

/* A non-leader group member: receive each relayed batch until the stop. The
 * built-in objectives run on the leader alone; data-parallel objectives join in
 * here with the group communicator. */
static int member_loop(MPI_Comm group)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    for (;;) {
        uint32_t hdr[2];
        MPI_Request req;
        int done;
        mpiCheck(MPI_Ibcast(hdr, 2, MPI_UINT32_T, 0, group, &req));
        mpiCheck(hps_wait_request(&req, NULL, &done));
        if (hdr[0] == 0)
            break;
        if (hdr[1] > cap) {
            unsigned char *nb = realloc(buf, hdr[1]);
            if (!nb)
                hps_mpi_fail(MPI_ERR_NO_MEM, "allocating a batch buffer", __FILE__, __LINE__);
            buf = nb;
            cap = hdr[1];
        }
        mpiCheck(MPI_Ibcast(buf, (int)hdr[1], MPI_BYTE, 0, group, &req));
        mpiCheck(hps_wait_request(&req, NULL, &done));
    }
    free(buf);
    return HPS_OK;
}

/* Command trials: report lines go to the coordinator as they arrive. */
static void send_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    stop_ctx *c = ctx;
    hps_proto_report_begin(&c->report, trial_id);
    for (int i = 0; i < line->n; i++)
        hps_proto_report_add(&c->report, line->step, line->resource, line->names[i],
                             line->values[i]);
    if (c->report.failed)
        hps_mpi_fail(MPI_ERR_NO_MEM, "building a REPORT message", __FILE__, __LINE__);
    mpiCheck(MPI_Send(c->report.data, (int)c->report.len, MPI_BYTE, 0, HPS_TAG_REPORT,
                      MPI_COMM_WORLD));
}

static int poll_command(void *ctx, int64_t trial_id)
{
    stop_ctx *c = ctx;
    if (should_stop(c))
        return HPS_POLL_INTERRUPT;
    take_prunes(c);
    return was_pruned(c, trial_id) ? HPS_POLL_PRUNE : HPS_POLL_GO;
}

static void run_batch(const hps_config *cfg, const hps_worker_env *we, const unsigned char *msg,
                      size_t len, hps_buf *out, stop_ctx *sc)
{
    hps_cmd_env cmd = {.spawner = we->spawner, .sweep_dir = we->sweep_dir,
                       .metric = cfg->metric, .gpus = we->gpus, .report = send_report,
                       .poll = poll_command, .ctx = sc};
    uint32_t count, d;
    if (hps_proto_trials_count(msg, len, &count, &d) != HPS_OK || d != (uint32_t)cfg->space.n_params)
        hps_mpi_fail(MPI_ERR_TRUNCATE, "decoding a TRIALS message", __FILE__, __LINE__);
    double t0 = hps_monotonic();
    hps_proto_results_begin(out, 0.0);
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        hps_wire_trial t;
        if (hps_proto_trials_next(msg, len, &off, d, &t) != HPS_OK)
            hps_mpi_fail(MPI_ERR_TRUNCATE, "decoding a trial", __FILE__, __LINE__);
        hps_wire_result r; /* not zeroed whole: stderr_tail is 2 KiB, per no-op trial */
        hps_wire_result_init(&r, t.trial_id);
        r.start = hps_wall();
        if (should_stop(sc)) {
            r.status = HPS_TRIAL_INTERRUPTED;
            strcpy(r.cause, "interrupted");
        } else if (cfg->objective.kind == HPS_OBJ_COMMAND) {
            take_prunes(sc);
            if (was_pruned(sc, t.trial_id)) {
                r.status = HPS_TRIAL_PRUNED;
                strcpy(r.cause, "pruned");
            } else if (hps_command_run(&cfg->objective, &cfg->space, &cmd, t.trial_id, t.seed,
                                       t.budget, t.prev_budget, t.values, &r) != HPS_OK) {
                hps_mpi_fail(MPI_ERR_OTHER, "running a command trial (spawner gone?)", __FILE__,
                             __LINE__);
            }
        } else {
            r.status = hps_objective_eval(&cfg->objective, &cfg->space, t.values, t.seed,
                                          t.budget, should_stop, sc, &r.objective, r.cause,
                                          sizeof r.cause);
        }
        r.end = hps_wall();
        hps_proto_results_add(out, &r);
    }
    double secs = hps_monotonic() - t0;
    if (out->len >= sizeof(uint32_t) + sizeof(double))
        memcpy(out->data + sizeof(uint32_t), &secs, sizeof secs);
    if (out->failed)
        hps_mpi_fail(MPI_ERR_NO_MEM, "building a RESULTS message", __FILE__, __LINE__);
}

int hps_worker_run(const hps_config *cfg, const hps_worker_env *we, MPI_Comm group,
                   volatile sig_atomic_t *signalled)
{
    int grank;
    mpiCheck(MPI_Comm_rank(group, &grank));
    if (grank != 0)
        return member_loop(group);

    stop_ctx sc = {.signalled = signalled};
    hps_buf out = {0};
    unsigned char *msg = NULL;
    size_t cap = 0;
    hps_backoff bo;
    hps_backoff_reset(&bo);
    for (;;) {
        MPI_Status st;
        int flag = 0;
        mpiCheck(MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st));
        if (!flag) {
            hps_backoff_sleep(&bo);
            continue;
        }
        hps_backoff_reset(&bo);
        int n;
        hps_proto_recv(&st, &msg, &cap, &n);
        if (st.MPI_TAG == HPS_TAG_STOP)
            break;
        if (st.MPI_TAG == HPS_TAG_PRUNE && n == (int)sizeof(int64_t)) {
            memcpy(&sc.pruned[sc.n_pruned++ % PRUNE_MEMORY], msg, sizeof(int64_t));
            continue;
        }
        if (st.MPI_TAG != HPS_TAG_TRIALS)
            continue;
        uint32_t count = 0, d = 0;
        if (hps_proto_trials_count(msg, (size_t)n, &count, &d) == HPS_OK)
            group_bcast(group, count, msg, (uint32_t)n);
        run_batch(cfg, we, msg, (size_t)n, &out, &sc);
        if (sc.stop_pending)
            continue; /* the STOP is next in the queue: leave without reporting */
        mpiCheck(MPI_Send(out.data, (int)out.len, MPI_BYTE, 0, HPS_TAG_RESULTS, MPI_COMM_WORLD));
    }
    mpiCheck(MPI_Send(NULL, 0, MPI_BYTE, 0, HPS_TAG_BYE, MPI_COMM_WORLD));
    group_bcast(group, 0, NULL, 0);
    free(msg);
    hps_buf_free(&out);
    hps_buf_free(&sc.report);
    return HPS_OK;
}
