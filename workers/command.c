/*
 * External-command trials (see command.h): the run loop (stdout streaming and
 * `@hpsweep` parsing, timeout, prune/interrupt), attempts and the classification
 * of how a command ended, as the `command` objective. Its argv and environment
 * are made in command_env.c; a launch: group command's agreement with its group
 * is in command_group.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "core/clock.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "trial.h"

#define LINE_MAX_BYTES 65536

/* ---- report lines ---------------------------------------------------------------------- */

static int parse_number(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    /* Out of range is still a number: 1e999 is inf (a failed trial with cause
     * "nan"), 1e-999 is 0; only text that is not a number is skipped. */
    if (end == buf || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

/* A metric name has no control characters: a NUL inside it would cut the name
 * short ("lo\0ss" read as "lo"), or leave it empty (found by fuzz_report_line). */
static int plain_name(const char *p, const char *end)
{
    for (; p < end; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int hps_report_parse(const char *line, size_t len, int64_t *auto_step, hps_report_line *out)
{
    static const char tag[] = "@hpsweep";
    size_t tl = sizeof tag - 1;
    if (len < tl || strncmp(line, tag, tl) != 0 || (len > tl && line[tl] != ' ' && line[tl] != '\t'))
        return 0;
    out->n = 0;
    int have_step = 0, have_resource = 0;
    const char *p = line + tl, *end = line + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        const char *tok = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        const char *eq = memchr(tok, '=', (size_t)(p - tok));
        if (!eq || eq == tok || (size_t)(eq - tok) > HPS_METRIC_NAME_MAX || !plain_name(tok, eq))
            continue;
        double v;
        if (!parse_number(eq + 1, (size_t)(p - eq - 1), &v))
            continue;
        size_t kl = (size_t)(eq - tok);
        if (kl == 4 && strncmp(tok, "step", 4) == 0) {
            /* A step beyond +-2^53 is no step (and converting one beyond int64
             * is undefined: found by fuzz_report_line with step=1e300). */
            if (!(fabs(v) <= 9007199254740992.0))
                continue;
            out->step = (int64_t)v;
            have_step = 1;
        } else if (kl == 8 && strncmp(tok, "resource", 8) == 0 && isfinite(v)) {
            out->resource = v;
            have_resource = 1;
        } else if (out->n < HPS_REPORT_MAX_METRICS) {
            memcpy(out->names[out->n], tok, kl);
            out->names[out->n][kl] = '\0';
            out->values[out->n] = v;
            out->n++;
        }
    }
    if (out->n == 0)
        return 0;
    if (!have_step)
        out->step = *auto_step;
    *auto_step = out->step + 1;
    if (!have_resource)
        out->resource = (double)out->step;
    return 1;
}

/* ---- one attempt ------------------------------------------------------------------------ */

typedef struct attempt {
    hps_trial_ctx *ctx;
    hps_spawner *spawner;
    const char *metric;
    int out_log;               /* stdout.log */
    size_t line_len;
    int line_overflow;
    int64_t auto_step;
    int have_metric;
    double last_metric;
    char line[LINE_MAX_BYTES]; /* the line being read (last: not cleared per attempt) */
} attempt;

static void take_line(attempt *a)
{
    hps_report_line r;
    if (!a->line_overflow &&
        hps_report_parse(a->line, a->line_len, &a->auto_step, &r)) {
        for (int i = 0; i < r.n; i++)
            if (strcmp(r.names[i], a->metric) == 0) {
                a->have_metric = 1;
                a->last_metric = r.values[i];
            }
        hps_trial_report_line(a->ctx, &r);
    }
    a->line_len = 0;
    a->line_overflow = 0;
}

static void take_output(attempt *a, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(a->out_log, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* the log is best effort; the trial goes on */
        off += (size_t)w;
    }
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            take_line(a);
        } else if (a->line_len < sizeof a->line) {
            a->line[a->line_len++] = buf[i];
        } else {
            a->line_overflow = 1;
        }
    }
}

/* Read what is available; returns 0 at EOF. */
static int drain(attempt *a, int fd)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            take_output(a, buf, (size_t)n);
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

static const char *signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGSEGV, "SIGSEGV"}, {SIGABRT, "SIGABRT"}, {SIGKILL, "SIGKILL"},
                 {SIGTERM, "SIGTERM"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
                 {SIGILL, "SIGILL"},   {SIGINT, "SIGINT"},   {SIGHUP, "SIGHUP"},
                 {SIGPIPE, "SIGPIPE"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"},
                 {SIGQUIT, "SIGQUIT"}, {SIGTRAP, "SIGTRAP"}, {SIGXCPU, "SIGXCPU"},
                 {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},   {SIGALRM, "SIGALRM"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    return NULL;
}

enum { END_EXITED, END_TIMEOUT, END_PRUNED, END_INTERRUPTED, END_EXEC, END_GROUP };

typedef struct outcome {
    int end;        /* END_* */
    int wstatus;
    double t_end;   /* wall time the command ended (or could not start) */
    char exec_err[HPS_CAUSE_LEN];
} outcome;

static int failed_by_itself(int wstatus)
{
    return WIFSIGNALED(wstatus) || (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0);
}

/* How an agreed stop ends this rank's command. */
static int stop_end(int stop)
{
    return stop == HPS_CMD_STOP_INTERRUPT ? END_INTERRUPTED
           : stop == HPS_CMD_STOP_PRUNE   ? END_PRUNED
                                          : END_TIMEOUT;
}

/* One attempt: start the command (unless exec_err says it cannot be), stream its
 * stdout, and end it on a timeout, a prune or an interruption. With sync (launch:
 * group in a group of several) the group decides those together, a rank's own
 * failure stops every rank's command, and the attempt ends when every rank's
 * command has ended; a rank whose command could not start takes part all the
 * same, so its peers never wait on it. */
static int run_attempt(const hps_objective_cfg *obj, attempt *a, char **argv, char **envp,
                       const char *stderr_path, hps_cmd_sync *sync, outcome *o)
{
    hps_child child = {.pid = 0, .stdout_fd = -1};
    int exited = 0, out_open = 0, ending = -1, rc = HPS_OK;
    if (o->exec_err[0]) {
        o->end = END_EXEC;
    } else {
        hps_spawn_req req = {.argv = (const char *const *)argv,
                             .envp = (const char *const *)envp, .cwd = obj->workdir,
                             .stderr_path = stderr_path};
        rc = hps_spawner_spawn(a->spawner, &req, &child, o->exec_err, sizeof o->exec_err);
        if (rc == HPS_EEXEC) {
            o->end = END_EXEC;
            rc = HPS_OK;
        } else if (rc != HPS_OK) {
            return rc;
        } else {
            out_open = 1;
        }
    }
    if (o->end == END_EXEC) {
        exited = 1;
        o->t_end = hps_wall();
        if (!sync)
            return HPS_OK;
    }
    double deadline = obj->timeout > 0 ? hps_monotonic() + obj->timeout : INFINITY;
    double kill_at = INFINITY, next_poll = 0, drain_until = INFINITY;
    if (sync)
        hps_cmd_sync_init(sync, a->ctx, deadline);
    for (;;) {
        struct pollfd pf[2] = {{.fd = out_open ? child.stdout_fd : -1, .events = POLLIN},
                               {.fd = hps_spawner_fd(a->spawner), .events = POLLIN}};
        int pr = poll(pf, 2, 10);
        if (pr < 0 && errno != EINTR) {
            rc = HPS_EIO;
            break;
        }
        if (out_open && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
            out_open = drain(a, child.stdout_fd);
        if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            pid_t pid;
            int ws;
            int r;
            while ((r = hps_spawner_reap(a->spawner, &pid, &ws)) == HPS_OK)
                if (!exited && pid == child.pid) {
                    /* The spawner has already killed what the command left behind
                     * in its group (before reaping it, so the id was not reused). */
                    exited = 1;
                    o->wstatus = ws;
                    o->t_end = hps_wall();
                    drain_until = hps_monotonic() + 2.0;
                }
            if (r == HPS_EIO) {
                rc = HPS_EIO;
                break;
            }
        }
        double now = hps_monotonic();
        int output_done = !out_open || now > drain_until; /* a grandchild may keep stdout */
        if (sync) {
            int own = exited && ending < 0 && (o->end == END_EXEC || failed_by_itself(o->wstatus));
            hps_cmd_sync_step(sync, now, exited, own);
            if (!exited && ending < 0 && (sync->stop || sync->peer_failed)) {
                ending = sync->stop ? stop_end(sync->stop) : END_GROUP;
                hps_child_signal(&child, SIGTERM);
                kill_at = now + obj->kill_grace;
            }
            if (exited && output_done && sync->all_exited)
                break;
        } else if (exited) {
            if (output_done)
                break;
            continue;
        } else if (ending < 0 && now >= next_poll) {
            next_poll = now + 0.01;
            int p = hps_trial_poll(a->ctx);
            if (p == HPS_POLL_INTERRUPT)
                ending = END_INTERRUPTED;
            else if (p == HPS_POLL_PRUNE)
                ending = END_PRUNED;
            else if (now >= deadline)
                ending = END_TIMEOUT;
            if (ending >= 0) {
                hps_child_signal(&child, SIGTERM);
                kill_at = now + obj->kill_grace;
            }
        }
        if (!exited && now >= kill_at) {
            hps_child_signal(&child, SIGKILL);
            kill_at = INFINITY;
        }
    }
    if (child.pid > 0 && !exited) /* the spawner died or poll failed: make sure it is gone */
        hps_child_signal(&child, SIGKILL);
    if (out_open)
        (void)drain(a, child.stdout_fd);
    if (a->line_len > 0)
        take_line(a); /* a last line without a newline */
    if (child.stdout_fd >= 0)
        close(child.stdout_fd);
    if (o->end != END_EXEC)
        o->end = ending >= 0 ? ending : END_EXITED;
    return rc;
}

/* The last bytes of path, from a line start, into out (size HPS_STDERR_TAIL_LEN). */
static void read_tail(const char *path, char *out)
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    size_t want = HPS_STDERR_TAIL_LEN - 1;
    off_t from = size > (off_t)want ? size - (off_t)want : 0;
    ssize_t n = size > 0 ? pread(fd, out, (size_t)(size - from), from) : 0;
    close(fd);
    if (n <= 0)
        return;
    out[n] = '\0';
    char *start = out;
    if (from > 0) {
        char *nl = strchr(out, '\n');
        if (nl && nl[1])
            start = nl + 1;
    }
    memmove(out, start, strlen(start) + 1);
}

/* Classify an ended attempt, as rank 0 sees it (lead: the trial's outcome, with its
 * metric) or as another rank of a launch: group command does (its own exit only),
 * into out and end (end->retry: it may be retried). */
static void classify(const outcome *o, const attempt *a, int lead, hps_outcome *out,
                     hps_cmd_end *end)
{
    memset(end, 0, sizeof *end);
    end->t_end = o->t_end;
    out->exit_code = -1;
    out->status = HPS_TRIAL_FAILED;
    switch (o->end) {
    case END_EXEC:
        snprintf(out->cause, sizeof out->cause, "%s", o->exec_err);
        end->own_failure = 1;
        break;
    case END_INTERRUPTED:
        out->status = HPS_TRIAL_INTERRUPTED;
        snprintf(out->cause, sizeof out->cause, "interrupted");
        break;
    case END_PRUNED:
        out->status = HPS_TRIAL_PRUNED;
        snprintf(out->cause, sizeof out->cause, "pruned");
        if (a->have_metric && isfinite(a->last_metric))
            out->objective = a->last_metric;
        break;
    case END_TIMEOUT: /* the leader's clock decides: its failure */
        snprintf(out->cause, sizeof out->cause, "timeout");
        end->own_failure = end->retry = lead;
        break;
    case END_GROUP: /* stopped because another rank's command failed */
        snprintf(out->cause, sizeof out->cause, "stopped");
        break;
    default:
        if (WIFSIGNALED(o->wstatus)) {
            int sig = WTERMSIG(o->wstatus);
            const char *name = signal_name(sig);
            if (name)
                snprintf(out->cause, sizeof out->cause, "signal:%s", name);
            else
                snprintf(out->cause, sizeof out->cause, "signal:%d", sig);
            end->own_failure = end->retry = 1;
            break;
        }
        out->exit_code = WIFEXITED(o->wstatus) ? WEXITSTATUS(o->wstatus) : -1;
        if (out->exit_code != 0) {
            snprintf(out->cause, sizeof out->cause, "exit:%d", out->exit_code);
            end->own_failure = end->retry = 1;
        } else if (!lead) {
            out->status = HPS_TRIAL_DONE;
        } else if (!a->have_metric) {
            snprintf(out->cause, sizeof out->cause, "no-metric");
            end->own_failure = 1;
        } else if (!isfinite(a->last_metric)) {
            snprintf(out->cause, sizeof out->cause, "nan");
            end->own_failure = 1;
        } else {
            out->status = HPS_TRIAL_DONE;
            out->objective = a->last_metric;
        }
    }
    end->status = out->status;
    end->exit_code = out->exit_code;
    memcpy(end->cause, out->cause, sizeof end->cause);
}

static int command_init(const hps_objective_env *env, void **state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *state = (void *)env->internal; /* the objective instance's hps_builtin_env */
    return HPS_OK;
}

/* Rank k's log of stream ("stdout", "stderr") in trial directory dir: rank 0's
 * (and a command on the leader's) are stdout.log and stderr.log. */
static void log_path(char *out, size_t len, const char *dir, int rank, const char *stream)
{
    if (rank > 0)
        snprintf(out, len, "%s/rank%d.%s.log", dir, rank, stream);
    else
        snprintf(out, len, "%s/%s.log", dir, stream);
}

static void open_log(attempt *a, const char *path, int n, int64_t trial_id)
{
    a->out_log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (a->out_log >= 0 && n > 1) {
        char sep[96];
        int sl = snprintf(sep, sizeof sep, "=== hpsweep: attempt %d of trial %lld ===\n", n,
                          (long long)trial_id);
        if (write(a->out_log, sep, (size_t)sl) < 0) {
            /* the log is best effort */
        }
    }
}

/* Run the command for one trial (all attempts) and fill the trial's outcome:
 * status, cause, exit_code, attempts and the stderr tail of a failure. With
 * launch: group this runs on every rank of the group, in step (see command.h). */
static int command_run(void *state, hps_trial_ctx *ctx)
{
    const hps_builtin_env *be = state;
    const hps_objective_cfg *obj = be->cfg;
    const hps_trial_spec *t = ctx->spec;
    hps_objective *ob = ctx->obj;
    hps_outcome *out = ctx->out;
    ctx->own_outcome = 1;
    int launch_group = (ob->ops->flags & HPS_OBJECTIVE_GROUP) != 0;
    int grouped = hps_objective_grouped(ob);
    const hps_group *g = ob->rt.group;
    int rank = ob->rt.group_rank;
    char dir_err[HPS_CAUSE_LEN] = "";
    const char *dir = hps_trial_dir(ctx);
    if (!dir) {
        snprintf(dir_err, sizeof dir_err, "trial-dir: %s", strerror(errno));
        if (!grouped) {
            snprintf(out->cause, sizeof out->cause, "%s", dir_err);
            return HPS_OK;
        }
    }
    char out_path[HPS_PATH_MAX + 32] = "", err_path[HPS_PATH_MAX + 32] = "";
    if (dir) {
        log_path(out_path, sizeof out_path, dir, rank, "stdout");
        log_path(err_path, sizeof err_path, dir, rank, "stderr");
    }
    hps_cmd_vars v = {be->space, t->values, t->trial_id, t->seed, t->budget, t->prev_budget,
                      dir ? dir : ""};
    attempt *a = malloc(sizeof *a);
    hps_cmd_end *ends = grouped ? calloc((size_t)g->size, sizeof *ends) : NULL;
    hps_cmd_sync *sync = grouped ? malloc(sizeof *sync) : NULL;
    char **argv = hps_cmd_argv(obj, &v);
    int rc = a && argv && (!grouped || (ends && sync)) ? HPS_OK : HPS_ENOMEM;
    int failing = -1;
    for (int n = 1; rc == HPS_OK && n <= obj->retries + 1; n++) {
        outcome o;
        memset(&o, 0, sizeof o);
        snprintf(o.exec_err, sizeof o.exec_err, "%s", dir_err);
        hps_cmd_dist dist;
        if (launch_group) {
            int port = hps_cmd_master_port(g, rank == 0, o.exec_err, sizeof o.exec_err);
            dist = (hps_cmd_dist){.rank = rank, .size = ob->rt.group_size,
                                  .local_rank = g ? g->local_rank : 0,
                                  .local_size = g ? g->local_size : 1,
                                  .master_addr = g ? g->leader_host : "127.0.0.1",
                                  .master_port = port};
        }
        char **envp = hps_cmd_env(obj, ob, &v, n, launch_group ? &dist : NULL);
        if (!envp) {
            rc = HPS_ENOMEM;
            break;
        }
        memset(a, 0, offsetof(attempt, line));
        a->ctx = ctx;
        a->spawner = be->rt->spawner;
        a->metric = ob->metric;
        open_log(a, out_path, n, t->trial_id);
        rc = run_attempt(obj, a, argv, envp, err_path, sync, &o);
        if (a->out_log >= 0)
            close(a->out_log);
        hps_cmd_free_vec(envp);
        out->attempts = n;
        if (rc != HPS_OK)
            break;
        out->objective = 0;
        hps_cmd_end mine;
        classify(&o, a, rank == 0, out, &mine);
        int retry = mine.retry;
        failing = mine.own_failure ? rank : -1;
        if (grouped)
            failing = hps_cmd_agree(g, &mine, ends, out, &retry);
        if (!retry || n == obj->retries + 1)
            break;
    }
    if (rc == HPS_OK && out->status == HPS_TRIAL_FAILED && rank == 0 && dir) {
        char tail_path[HPS_PATH_MAX + 32];
        log_path(tail_path, sizeof tail_path, dir, failing > 0 ? failing : 0, "stderr");
        read_tail(tail_path, ctx->tail);
        out->stderr_tail = ctx->tail;
        out->stderr_len = (uint32_t)strlen(ctx->tail);
    }
    free(a);
    free(ends);
    free(sync);
    hps_cmd_free_vec(argv);
    if (rc != HPS_OK)
        hps_trial_fatal(ctx, rc); /* the spawner is gone or memory ran out */
    return rc;
}

const hps_objective_ops hps_objective_command = {
    .version = HPS_OBJECTIVE_VERSION, .name = "command", .init = command_init,
    .run = command_run,
};

const hps_objective_ops hps_objective_command_group = {
    .version = HPS_OBJECTIVE_VERSION, .name = "command", .flags = HPS_OBJECTIVE_GROUP,
    .init = command_init, .run = command_run,
};
