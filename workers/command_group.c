/*
 * A launch: group command's coordination (see command.h): the leader's
 * MASTER_PORT, the rounds in which the group's ranks agree while their commands
 * run, and the settling of an attempt.
 *
 * A round is one non-blocking allreduce (MAX) of three numbers from every rank:
 * the stop it asks for (the leader: its timeout or the coordinator's prune or
 * stop; any rank: a signal it got), whether its command failed by itself, and
 * whether its command still runs. A rank starts the next round once the last one
 * is in and 10 ms have passed, and keeps taking part after its own command has
 * ended, until a round says no command runs: every rank sees that same round, so
 * all leave the attempt together and their next collective matches.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "command.h"
#include "hpsweep/error.h"
#include "trial.h"

void hps_cmd_sync_init(hps_cmd_sync *s, hps_trial_ctx *ctx, double deadline)
{
    memset(s, 0, sizeof *s);
    s->g = ctx->obj->rt.group;
    s->ctx = ctx;
    s->deadline = deadline;
}

void hps_cmd_sync_step(hps_cmd_sync *s, double now, int exited, int own_failed)
{
    if (s->round.active && hps_group_round_test(s->g, &s->round)) {
        if (s->round.out[0] > s->stop)
            s->stop = s->round.out[0];
        if (s->round.out[1])
            s->peer_failed = 1;
        if (!s->round.out[2])
            s->all_exited = 1;
    }
    if (s->round.active || s->all_exited || now < s->next_round)
        return;
    s->next_round = now + 0.01;
    int p = hps_trial_poll_raw(s->ctx);
    int stop = p == HPS_POLL_INTERRUPT ? HPS_CMD_STOP_INTERRUPT
               : p == HPS_POLL_PRUNE   ? HPS_CMD_STOP_PRUNE
               : s->ctx->obj->rt.group_rank == 0 && now >= s->deadline ? HPS_CMD_STOP_TIMEOUT
                                                                       : HPS_CMD_STOP_NONE;
    int v[3] = {stop, own_failed, !exited};
    hps_group_round_start(s->g, &s->round, v, 3);
}

int hps_cmd_agree(const hps_group *g, const hps_cmd_end *mine, hps_cmd_end *all,
                  hps_outcome *out, int *retry)
{
    hps_group_allgather(g, mine, all, (int)sizeof *mine);
    int f = -1;
    for (int k = 0; k < g->size; k++)
        if (all[k].own_failure && (f < 0 || all[k].t_end < all[f].t_end))
            f = k;
    const hps_cmd_end *e = &all[f >= 0 ? f : 0];
    *retry = e->retry;
    if (f < 0 && g->rank == 0)
        return -1; /* the leader's own view stands */
    out->status = f >= 0 ? HPS_TRIAL_FAILED : e->status;
    out->exit_code = e->exit_code;
    if (out->status == HPS_TRIAL_FAILED)
        out->objective = 0;
    char cause[HPS_CAUSE_LEN];
    memcpy(cause, e->cause, sizeof cause);
    cause[sizeof cause - 1] = '\0';
    if (f > 0)
        snprintf(out->cause, sizeof out->cause, "rank %d: %s", f, cause);
    else
        snprintf(out->cause, sizeof out->cause, "%s", cause);
    return f;
}

int hps_cmd_master_port(const hps_group *g, int leader, char *err, size_t errlen)
{
    int port = 0;
    if (leader) {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
            snprintf(err, errlen, "exec: no free port for MASTER_PORT: %s", strerror(errno));
        else
            port = ntohs(sa.sin_port);
        if (fd >= 0)
            close(fd);
    }
    if (g && g->size > 1)
        hps_group_bcast(g, &port, (int)sizeof port);
    return port;
}
