/*
 * The trial runner's group side (see trial.h) and the public API that concerns
 * the group: hps_trial_should_stop, hps_trial_attempt, hps_trial_mpi_comm,
 * hps_trial_nccl_comm, hps_trial_allreduce and hps_trial_allreduce_async
 * (hpsweep/objective.h).
 *
 * A grouped trial, on every rank of the group, in step:
 *
 *   begin   the leader decides: run, or skip because the sweep is stopping, the
 *           trial was pruned, or the job died in more than `retries` runs of it;
 *           one broadcast of {verdict, attempt} on the group's communicator
 *   run()   the objective, with collective should_stop polls in between
 *   agree   an allgather of {failed, cause} from every rank: the leader's outcome
 *           becomes failed with "rank k: <cause>" when rank k failed and it did
 *           not; when any rank failed, every rank aborts the group's NCCL
 *           communicator, so the next trial starts on a fresh one
 *
 * The attempt record (objectives that count crashes: plugins): before run() the
 * leader writes trials/<id>/attempt holding the runs of this trial that began
 * and never ended, plus one; it removes it once the group has agreed. A record
 * left behind means the job died while the trial ran (a segfault takes an MPI job
 * down; so does kill -9), so the next begin finds it: past `retries` such runs
 * the trial is failed, cause "crash: job died in N attempts", instead of running
 * (and crashing the job) again. The file is written without fsync: a process's
 * death keeps what it wrote (the page cache survives it); a machine's may lose
 * the record, and the trial is re-run once more than the rule says.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devcomm.h"
#include "hpsweep/error.h"
#include "trial.h"
#include "wire/mpi.h"

enum { START_GO = 0, START_INTERRUPT = 1, START_PRUNE = 2, START_CRASHED = 3 };

/* ---- the attempt record --------------------------------------------------------- */

static int attempt_path(hps_trial_ctx *c, char *path, size_t len)
{
    const char *dir = hps_trial_dir(c);
    return dir && snprintf(path, len, "%s/attempt", dir) < (int)len;
}

/* Runs begun and never ended: the record's number, 0 when there is none. */
static int read_died(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long v = strtol(buf, NULL, 10);
    return v > 0 && v < INT_MAX ? (int)v : 0;
}

static int write_record(const char *path, int runs)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%d\n", runs);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, buf, (size_t)len);
    int saved = errno;
    if (close(fd) != 0 || w != len) {
        errno = w != len ? saved : errno;
        return -1;
    }
    return 0;
}

/* ---- begin and agree ---------------------------------------------------------------- */

static int leader_verdict(hps_trial_ctx *c, int grouped, int32_t *msg)
{
    hps_objective *o = c->obj;
    if (grouped) {
        int p = hps_trial_poll_raw(c);
        if (p == HPS_POLL_INTERRUPT)
            return START_INTERRUPT;
        if (p == HPS_POLL_PRUNE)
            return START_PRUNE;
    }
    char path[HPS_PATH_MAX + 16];
    if (!o->count_crashes || !attempt_path(c, path, sizeof path))
        return START_GO;
    int died = read_died(path);
    if (died > o->crash_retries) {
        msg[1] = died;
        return START_CRASHED;
    }
    msg[1] = died + 1;
    if (write_record(path, died + 1) != 0)
        fprintf(stderr, "hpsweep: warning: cannot write %s (%s): a crash during trial %lld "
                "would not be counted\n", path, strerror(errno), (long long)c->spec->trial_id);
    else
        c->guarded = 1;
    return START_GO;
}

int hps_trial_begin(hps_trial_ctx *c)
{
    hps_objective *o = c->obj;
    int grouped = hps_objective_grouped(o);
    int32_t msg[2] = {START_GO, 1};
    if (o->rt.group_rank == 0)
        msg[0] = leader_verdict(c, grouped, msg);
    if (grouped)
        hps_group_bcast(o->rt.group, msg, (int)sizeof msg);
    c->attempt = msg[1];
    switch (msg[0]) {
    case START_INTERRUPT:
        c->stop = HPS_POLL_INTERRUPT;
        return 0;
    case START_PRUNE:
        c->stop = HPS_POLL_PRUNE;
        return 0;
    case START_CRASHED:
        snprintf(c->cause, sizeof c->cause, "crash: job died in %d attempts", (int)msg[1]);
        return 0;
    default:
        return 1;
    }
}

typedef struct rank_end {
    int32_t failed;
    char cause[HPS_CAUSE_LEN];
} rank_end;

void hps_trial_agree(hps_trial_ctx *c, int rc)
{
    hps_objective *o = c->obj;
    hps_group *g = o->rt.group;
    hps_outcome *out = c->out;
    int any = out->status == HPS_TRIAL_FAILED && o->rt.group_rank == 0;
    if (hps_objective_grouped(o)) {
        rank_end mine;
        memset(&mine, 0, sizeof mine);
        mine.failed = g->rank == 0 ? out->status == HPS_TRIAL_FAILED
                                   : rc != HPS_OK ||
                                         (c->own_outcome && out->status == HPS_TRIAL_FAILED);
        memcpy(mine.cause, out->cause, sizeof mine.cause);
        mine.cause[sizeof mine.cause - 1] = '\0';
        if (!c->ends && !(c->ends = calloc((size_t)g->size, sizeof mine)))
            hps_mpi_fail(MPI_ERR_NO_MEM, "agreeing on a trial's outcome", __FILE__, __LINE__);
        rank_end *all = c->ends;
        hps_group_allgather(g, &mine, all, (int)sizeof mine);
        for (int k = 0; k < g->size; k++)
            any |= all[k].failed;
        for (int k = 1; g->rank == 0 && out->status != HPS_TRIAL_FAILED && k < g->size; k++) {
            if (!all[k].failed)
                continue;
            out->status = HPS_TRIAL_FAILED;
            out->objective = 0;
            snprintf(out->cause, sizeof out->cause, "rank %d: %s", k,
                     all[k].cause[0] ? all[k].cause : "failed");
        }
    }
    if (any && g)
        hps_devcomm_reset(g);
    char path[HPS_PATH_MAX + 16];
    if (c->guarded && attempt_path(c, path, sizeof path) && unlink(path) != 0 && errno != ENOENT)
        fprintf(stderr, "hpsweep: warning: cannot remove %s: %s\n", path, strerror(errno));
    c->guarded = 0;
}

/* ---- the public API ------------------------------------------------------------------ */

int hps_trial_allreduce_async(hps_trial_ctx *ctx, void *buf, size_t count, hps_dtype type,
                              void *stream)
{
    if (!ctx || (type != HPS_FLOAT32 && type != HPS_FLOAT64) || (!buf && count > 0))
        return HPS_EINVAL;
    hps_group *g = ctx->obj->rt.group;
    if (!g || g->size <= 1 || count == 0)
        return HPS_OK;
    return hps_devcomm_allreduce(g, buf, count, type, stream, 0);
}

int hps_trial_attempt(const hps_trial_ctx *ctx)
{
    return ctx && ctx->attempt > 0 ? ctx->attempt : 1;
}

int hps_trial_should_stop(hps_trial_ctx *ctx)
{
    if (!hps_objective_grouped(ctx->obj))
        return hps_trial_poll(ctx) != HPS_POLL_GO;
    if (ctx->stop != HPS_POLL_GO)
        return 1; /* every rank latched at the same call */
    /* The most serious answer wins: an interruption over a prune. */
    int p = hps_trial_poll_raw(ctx);
    int v = p == HPS_POLL_INTERRUPT ? 2 : p == HPS_POLL_PRUNE ? 1 : 0;
    hps_group_max(ctx->obj->rt.group, &v, 1);
    if (v)
        ctx->stop = v == 2 ? HPS_POLL_INTERRUPT : HPS_POLL_PRUNE;
    return v != 0;
}

int hps_trial_mpi_comm(const hps_trial_ctx *ctx, void *comm_out)
{
    if (!ctx || !comm_out)
        return HPS_EINVAL;
    const hps_group *g = ctx->obj->rt.group;
    if (!g || !g->mpi || g->user == MPI_COMM_NULL)
        return HPS_ENOSYS;
    memcpy(comm_out, &g->user, sizeof g->user);
    return HPS_OK;
}

void *hps_trial_nccl_comm(hps_trial_ctx *ctx)
{
    hps_group *g = ctx ? ctx->obj->rt.group : NULL;
    return g ? hps_devcomm_nccl(g) : NULL;
}

int hps_trial_allreduce(hps_trial_ctx *ctx, void *buf, size_t count, hps_dtype type,
                        int on_device)
{
    if (!ctx || (type != HPS_FLOAT32 && type != HPS_FLOAT64) || (!buf && count > 0))
        return HPS_EINVAL;
    hps_group *g = ctx->obj->rt.group;
    if (!g || g->size <= 1 || count == 0)
        return HPS_OK;
    if (on_device)
        return hps_devcomm_allreduce(g, buf, count, type, NULL, 1);
    MPI_Datatype t = type == HPS_FLOAT32 ? MPI_FLOAT : MPI_DOUBLE;
    size_t size = type == HPS_FLOAT32 ? sizeof(float) : sizeof(double);
    for (size_t off = 0; off < count;) {
        size_t n = count - off < (size_t)INT_MAX ? count - off : (size_t)INT_MAX;
        MPI_Request req;
        int done;
        mpiCheck(MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + off * size, (int)n, t, MPI_SUM,
                                g->user, &req));
        mpiCheck(hps_mpi_wait(&req, NULL, &done));
        off += n;
    }
    return HPS_OK;
}
