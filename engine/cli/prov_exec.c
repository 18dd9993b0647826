/*
 * Running a helper program for provenance (git, hpsweep's own GPU probe) through
 * the rank's spawner — this is an MPI process, which must not fork — and reading
 * its standard output as it comes, with a time limit. Called before any trial
 * runs, so every exit notice the spawner sends is this program's.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "hpsweep/error.h"
#include "provenance.h"

int hps_prov_exec(hps_spawner *sp, const char *const *argv, const char *const *envp,
                  double timeout, void (*chunk)(void *ctx, const char *p, size_t n), void *ctx)
{
    if (!sp)
        return -1;
    extern char **environ;
    hps_spawn_req req = {.argv = argv, .envp = envp ? envp : (const char *const *)environ};
    hps_child child;
    char err[256], buf[4096];
    if (hps_spawner_spawn(sp, &req, &child, err, sizeof err) != HPS_OK)
        return -1;
    int status = -1, exited = 0, open_ = 1;
    double deadline = hps_monotonic() + timeout;
    while ((open_ || !exited) && hps_monotonic() < deadline) {
        struct pollfd pf[2] = {{.fd = open_ ? child.stdout_fd : -1, .events = POLLIN},
                               {.fd = hps_spawner_fd(sp), .events = POLLIN}};
        if (poll(pf, 2, 50) < 0 && errno != EINTR)
            break;
        if (open_ && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(child.stdout_fd, buf, sizeof buf);
            if (n > 0)
                chunk(ctx, buf, (size_t)n);
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                open_ = 0;
        }
        pid_t pid;
        int ws;
        while (hps_spawner_reap(sp, &pid, &ws) == HPS_OK)
            if (pid == child.pid) {
                exited = 1;
                status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
            }
    }
    if (!exited) {
        hps_child_signal(&child, SIGKILL);
        for (int i = 0; i < 100 && !exited; i++) { /* reap it, so no notice is left */
            pid_t pid;
            int ws;
            if (hps_spawner_reap(sp, &pid, &ws) == HPS_OK && pid == child.pid)
                exited = 1;
            else
                poll(NULL, 0, 10);
        }
        status = -1;
    }
    close(child.stdout_fd);
    return status == 0 && !open_ ? 0 : -1;
}

typedef struct text_sink {
    char *out;
    size_t len, got;
} text_sink;

static void to_text(void *ctx, const char *p, size_t n)
{
    text_sink *t = ctx;
    size_t room = t->len - 1 - t->got;
    if (n > room)
        n = room;
    memcpy(t->out + t->got, p, n);
    t->got += n;
}

int hps_prov_capture(hps_spawner *sp, const char *const *argv, char *out, size_t len,
                     int first_line)
{
    text_sink t = {out, len, 0};
    out[0] = '\0';
    int rc = hps_prov_exec(sp, argv, NULL, 5.0, to_text, &t);
    out[t.got] = '\0';
    if (first_line)
        out[strcspn(out, "\n")] = '\0';
    return rc;
}
