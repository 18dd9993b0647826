/*
 * External-command trials (see command.h): argv and environment, the run loop
 * (stdout streaming and `@hpsweep` parsing, timeout, prune/interrupt), attempts
 * and the classification of how a command ended, as the `command` objective.
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
#include "core/envname.h"
#include "core/grow.h"
#include "core/json.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "trial.h"

extern char **environ;

#define LINE_MAX_BYTES 65536

/* ---- strings ------------------------------------------------------------------------ */

/* A NUL-terminated string built in an hps_buf (the terminator is kept past len). */
static void sb_add(hps_buf *b, const char *p, size_t n)
{
    hps_buf_grow(b, n + 1);
    hps_buf_put(b, p, n);
    if (!b->failed)
        b->data[b->len] = '\0';
}

static void sb_str(hps_buf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* Take ownership of the string (an empty string when nothing was added). */
static char *sb_take(hps_buf *b)
{
    if (!b->failed && !b->data)
        sb_add(b, "", 0);
    if (b->failed) {
        hps_buf_free(b);
        return NULL;
    }
    char *s = (char *)b->data;
    b->data = NULL;
    return s;
}

static void free_vec(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* ---- argv ---------------------------------------------------------------------------- */

typedef struct trial_vars {
    const hps_space *space;
    const double *values;
    int64_t trial_id;
    uint64_t seed;
    double budget;
    double prev_budget;     /* > 0: a promotion continuing from this budget */
    const char *trial_dir;
} trial_vars;

/* The text of placeholder name (len bytes) into b; 0 if unknown. */
static int placeholder(hps_buf *b, const trial_vars *v, const char *name, size_t len)
{
    char buf[128];
    if (len == 8 && strncmp(name, "trial_id", 8) == 0) {
        snprintf(buf, sizeof buf, "%lld", (long long)v->trial_id);
    } else if (len == 4 && strncmp(name, "seed", 4) == 0) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->seed);
    } else if (len == 6 && strncmp(name, "budget", 6) == 0) {
        snprintf(buf, sizeof buf, "%.17g", v->budget);
    } else if (len == 9 && strncmp(name, "trial_dir", 9) == 0) {
        sb_str(b, v->trial_dir);
        return 1;
    } else {
        for (int i = 0; i < v->space->n_params; i++) {
            const hps_param *p = &v->space->params[i];
            if (strlen(p->name) != len || strncmp(p->name, name, len) != 0)
                continue;
            sb_str(b, hps_space_value_text(v->space, i, v->values[i], buf, sizeof buf));
            return 1;
        }
        return 0;
    }
    sb_str(b, buf);
    return 1;
}

/* Expand "{name}", "{{" and "}}" in template t. NULL on an unknown placeholder
 * (the config rejects those) or out of memory. */
static char *expand(const char *t, const trial_vars *v)
{
    hps_buf b = {0};
    for (const char *p = t; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            sb_add(&b, p, 1);
            p += 2;
        } else if (p[0] == '{') {
            const char *end = strchr(p, '}');
            if (!end || !placeholder(&b, v, p + 1, (size_t)(end - p - 1))) {
                hps_buf_free(&b);
                return NULL;
            }
            p = end + 1;
        } else {
            sb_add(&b, p, 1);
            p++;
        }
    }
    return sb_take(&b);
}

static char **build_argv(const hps_objective_cfg *obj, const trial_vars *v)
{
    char **argv = calloc((size_t)obj->argc + 1, sizeof *argv);
    if (!argv)
        return NULL;
    for (int i = 0; i < obj->argc; i++) {
        if (!(argv[i] = expand(obj->argv[i], v))) {
            free_vec(argv);
            return NULL;
        }
    }
    return argv;
}

/* ---- environment --------------------------------------------------------------------- */

typedef struct envvec {
    char **v;
    size_t n, cap;
    int failed;
} envvec;

static int env_is_launcher(const char *kv)
{
    static const char *prefixes[] = {"OMPI_", "PMIX_", "PMI_", "OPAL_", "HYDRA_", "ORTE_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Set key=value, replacing an earlier entry for key. */
static void env_set(envvec *e, const char *key, const char *value)
{
    if (e->failed)
        return;
    size_t kl = strlen(key);
    hps_buf b = {0};
    sb_str(&b, key);
    sb_add(&b, "=", 1);
    sb_str(&b, value);
    char *kv = sb_take(&b);
    if (!kv) {
        e->failed = 1;
        return;
    }
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], key, kl) == 0 && e->v[i][kl] == '=') {
            free(e->v[i]);
            e->v[i] = kv;
            return;
        }
    char **nv = hps_grow(e->v, &e->cap, e->n + 2, sizeof *nv, 64);
    if (!nv) {
        free(kv);
        e->failed = 1;
        return;
    }
    e->v = nv;
    e->v[e->n++] = kv;
    e->v[e->n] = NULL;
}

static void env_param_name(char *out, size_t len, const char *name)
{
    size_t o = (size_t)snprintf(out, len, "HPSWEEP_PARAM_");
    if (o < len)
        hps_env_name(name, 0, out + o, len - o);
}

/* HPSWEEP_PARAMS: {"name": value, ...} with JSON types. */
static char *params_json(const hps_space *sp, const double *values)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fputc('{', f);
    for (int i = 0; i < sp->n_params; i++) {
        fprintf(f, "%s\"", i ? ", " : "");
        for (const char *p = sp->params[i].name; *p; p++) {
            if (*p == '"' || *p == '\\')
                fputc('\\', f);
            fputc(*p, f);
        }
        fputs("\": ", f);
        hps_json_put_value(f, sp, i, values[i]);
    }
    fputc('}', f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static char **build_env(const hps_objective_cfg *obj, const hps_objective *o, const trial_vars *v,
                        int attempt)
{
    envvec e = {0};
    for (char **p = environ; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq || env_is_launcher(*p))
            continue;
        char key[512];
        size_t kl = (size_t)(eq - *p);
        if (kl >= sizeof key)
            continue;
        memcpy(key, *p, kl);
        key[kl] = '\0';
        env_set(&e, key, eq + 1);
    }
    for (int i = 0; i < obj->n_env; i++)
        env_set(&e, obj->env_keys[i], obj->env_values[i]);
    char buf[128];
    snprintf(buf, sizeof buf, "%lld", (long long)v->trial_id);
    env_set(&e, "HPSWEEP_TRIAL_ID", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->seed);
    env_set(&e, "HPSWEEP_SEED", buf);
    snprintf(buf, sizeof buf, "%.17g", v->budget);
    env_set(&e, "HPSWEEP_BUDGET", buf);
    env_set(&e, "HPSWEEP_TRIAL_DIR", v->trial_dir);
    if (v->prev_budget > 0) {
        /* A promotion: continue from the checkpoint in HPSWEEP_TRIAL_DIR. */
        env_set(&e, "HPSWEEP_RESUME", "1");
        snprintf(buf, sizeof buf, "%.17g", v->prev_budget);
        env_set(&e, "HPSWEEP_PREV_BUDGET", buf);
    }
    snprintf(buf, sizeof buf, "%d", attempt);
    env_set(&e, "HPSWEEP_ATTEMPT", buf);
    env_set(&e, "HPSWEEP_METRIC", o->metric);
    char *json = params_json(v->space, v->values);
    if (!json)
        e.failed = 1;
    else
        env_set(&e, "HPSWEEP_PARAMS", json);
    free(json);
    for (int i = 0; i < v->space->n_params; i++) {
        char name[300], val[128];
        env_param_name(name, sizeof name, v->space->params[i].name);
        env_set(&e, name, hps_space_value_text(v->space, i, v->values[i], val, sizeof val));
    }
    if (o->rt.gpus)
        env_set(&e, "CUDA_VISIBLE_DEVICES", o->rt.gpus);
    if (e.failed) {
        free_vec(e.v);
        return NULL;
    }
    return e.v;
}

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

enum { END_EXITED, END_TIMEOUT, END_PRUNED, END_INTERRUPTED, END_EXEC };

typedef struct outcome {
    int end;        /* END_* */
    int wstatus;
    char exec_err[HPS_CAUSE_LEN];
} outcome;

static int run_attempt(const hps_objective_cfg *obj, attempt *a, char **argv, char **envp,
                       const char *stderr_path, outcome *o)
{
    hps_spawn_req req = {.argv = (const char *const *)argv, .envp = (const char *const *)envp,
                         .cwd = obj->workdir, .stderr_path = stderr_path};
    hps_child child;
    char err[256] = "";
    int rc = hps_spawner_spawn(a->spawner, &req, &child, err, sizeof err);
    if (rc == HPS_EEXEC) {
        o->end = END_EXEC;
        snprintf(o->exec_err, sizeof o->exec_err, "%s", err);
        return HPS_OK;
    }
    if (rc != HPS_OK)
        return rc;
    double start = hps_monotonic();
    double deadline = obj->timeout > 0 ? start + obj->timeout : INFINITY;
    double kill_at = INFINITY, next_poll = 0;
    int exited = 0, out_open = 1, ending = -1;
    double drain_until = INFINITY;
    while (!exited || out_open) {
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
                if (pid == child.pid) {
                    /* The spawner has already killed what the command left behind
                     * in its group (before reaping it, so the id was not reused). */
                    exited = 1;
                    o->wstatus = ws;
                    drain_until = hps_monotonic() + 2.0;
                }
            if (r == HPS_EIO) {
                rc = HPS_EIO;
                break;
            }
        }
        double now = hps_monotonic();
        if (exited) {
            if (now > drain_until)
                break; /* a grandchild kept stdout open: stop reading */
            continue;
        }
        if (ending < 0 && now >= next_poll) {
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
        if (now >= kill_at) {
            hps_child_signal(&child, SIGKILL);
            kill_at = INFINITY;
        }
    }
    if (!exited) /* the spawner died or poll failed: make sure the group is gone */
        hps_child_signal(&child, SIGKILL);
    if (out_open)
        (void)drain(a, child.stdout_fd);
    if (a->line_len > 0)
        take_line(a); /* a last line without a newline */
    close(child.stdout_fd);
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

/* Classify an ended attempt into out; returns 1 when it may be retried. */
static int classify(const outcome *o, const attempt *a, hps_outcome *out)
{
    out->exit_code = -1;
    switch (o->end) {
    case END_EXEC:
        out->status = HPS_TRIAL_FAILED;
        snprintf(out->cause, sizeof out->cause, "%s", o->exec_err);
        return 0;
    case END_INTERRUPTED:
        out->status = HPS_TRIAL_INTERRUPTED;
        snprintf(out->cause, sizeof out->cause, "interrupted");
        return 0;
    case END_PRUNED:
        out->status = HPS_TRIAL_PRUNED;
        snprintf(out->cause, sizeof out->cause, "pruned");
        if (a->have_metric && isfinite(a->last_metric))
            out->objective = a->last_metric;
        return 0;
    case END_TIMEOUT:
        out->status = HPS_TRIAL_FAILED;
        snprintf(out->cause, sizeof out->cause, "timeout");
        return 1;
    default:
        break;
    }
    if (WIFSIGNALED(o->wstatus)) {
        int sig = WTERMSIG(o->wstatus);
        const char *name = signal_name(sig);
        out->status = HPS_TRIAL_FAILED;
        if (name)
            snprintf(out->cause, sizeof out->cause, "signal:%s", name);
        else
            snprintf(out->cause, sizeof out->cause, "signal:%d", sig);
        return 1;
    }
    out->exit_code = WIFEXITED(o->wstatus) ? WEXITSTATUS(o->wstatus) : -1;
    if (out->exit_code != 0) {
        out->status = HPS_TRIAL_FAILED;
        snprintf(out->cause, sizeof out->cause, "exit:%d", out->exit_code);
        return 1;
    }
    if (!a->have_metric) {
        out->status = HPS_TRIAL_FAILED;
        snprintf(out->cause, sizeof out->cause, "no-metric");
        return 0;
    }
    if (!isfinite(a->last_metric)) {
        out->status = HPS_TRIAL_FAILED;
        snprintf(out->cause, sizeof out->cause, "nan");
        return 0;
    }
    out->status = HPS_TRIAL_DONE;
    out->objective = a->last_metric;
    return 0;
}

static int command_init(const hps_objective_env *env, void **state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *state = (void *)env->internal; /* the objective instance's hps_builtin_env */
    return HPS_OK;
}

/* Run the command for one trial (all attempts) and fill the trial's outcome:
 * status, cause, exit_code, attempts and the stderr tail of a failure. */
static int command_run(void *state, hps_trial_ctx *ctx)
{
    const hps_builtin_env *be = state;
    const hps_objective_cfg *obj = be->cfg;
    const hps_trial_spec *t = ctx->spec;
    hps_outcome *out = ctx->out;
    ctx->own_outcome = 1;
    const char *dir = hps_trial_dir(ctx);
    if (!dir) {
        snprintf(out->cause, sizeof out->cause, "trial-dir: %s", strerror(errno));
        return HPS_OK;
    }
    char out_path[HPS_PATH_MAX + 16], err_path[HPS_PATH_MAX + 16];
    snprintf(out_path, sizeof out_path, "%s/stdout.log", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.log", dir);
    trial_vars v = {be->space, t->values, t->trial_id, t->seed, t->budget, t->prev_budget, dir};
    attempt *a = malloc(sizeof *a);
    char **argv = build_argv(obj, &v);
    int rc = a && argv ? HPS_OK : HPS_ENOMEM;
    for (int n = 1; rc == HPS_OK && n <= obj->retries + 1; n++) {
        char **envp = build_env(obj, ctx->obj, &v, n);
        if (!envp) {
            rc = HPS_ENOMEM;
            break;
        }
        memset(a, 0, offsetof(attempt, line));
        a->ctx = ctx;
        a->spawner = be->rt->spawner;
        a->metric = ctx->obj->metric;
        a->out_log = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (a->out_log >= 0 && n > 1) {
            char sep[96];
            int sl = snprintf(sep, sizeof sep, "=== hpsweep: attempt %d of trial %lld ===\n", n,
                              (long long)t->trial_id);
            if (write(a->out_log, sep, (size_t)sl) < 0) {
                /* the log is best effort */
            }
        }
        outcome o = {0};
        rc = run_attempt(obj, a, argv, envp, err_path, &o);
        if (a->out_log >= 0)
            close(a->out_log);
        free_vec(envp);
        out->attempts = n;
        if (rc != HPS_OK)
            break;
        out->objective = 0;
        if (!classify(&o, a, out) || n == obj->retries + 1)
            break;
    }
    if (rc == HPS_OK && out->status == HPS_TRIAL_FAILED) {
        read_tail(err_path, ctx->tail);
        out->stderr_tail = ctx->tail;
        out->stderr_len = (uint32_t)strlen(ctx->tail);
    }
    free(a);
    free_vec(argv);
    if (rc != HPS_OK)
        hps_trial_fatal(ctx, rc); /* the spawner is gone or memory ran out */
    return rc;
}

const hps_objective_ops hps_objective_command = {
    .version = HPS_OBJECTIVE_VERSION, .name = "command", .init = command_init,
    .run = command_run,
};
