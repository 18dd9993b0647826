/*
 * Killing what a trial left outside its process group (strays.h). The spawner
 * calls this when its last running trial has exited: every child it has then,
 * other than trials it started and still tracks, was adopted from a trial.
 */
#define _GNU_SOURCE

#include "strays.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int hps_strays_kill(const pid_t *keep, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[8192];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (len += (size_t)r) == sizeof buf - 1)
            break; /* a list longer than the buffer: the rest on the next call */
    }
    close(fd);
    buf[len] = '\0';
    int killed = 0;
    pid_t me = getpgrp();
    for (char *p = buf, *end; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        int kept = 0;
        for (size_t i = 0; i < n && !kept; i++)
            kept = keep[i] == (pid_t)pid;
        if (kept || pid <= 0)
            continue;
        pid_t group = getpgid((pid_t)pid);
        if (group == (pid_t)pid && group != me)
            (void)kill(-group, SIGKILL); /* gone already: nothing to do */
        (void)kill((pid_t)pid, SIGKILL);
        killed++;
    }
    return killed;
}
