/*
 * Time formatting and the backoff sleep (see clock.h).
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

void hps_iso_time(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%.0f", t);
}

void hps_format_duration(double secs, char *buf, size_t len)
{
    if (!(secs >= 0) || !isfinite(secs)) {
        snprintf(buf, len, "--:--");
        return;
    }
    long s = (long)(secs + 0.5);
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", s / 60, s % 60);
}

void hps_backoff_reset(hps_backoff *b)
{
    b->ns = 0;
}

void hps_backoff_sleep(hps_backoff *b)
{
    if (b->ns == 0)
        b->ns = 20000;
    struct timespec ts = {0, b->ns};
    nanosleep(&ts, NULL);
    b->ns *= 2;
    if (b->ns > 1000000)
        b->ns = 1000000;
}

/* The run-queue wait of the calling thread in seconds, or a negative value when
 * schedstat cannot be read. The file stays open per thread (it names the thread
 * that opened it). */
static double runqueue_wait(void)
{
    static _Thread_local int fd = -2;
    if (fd == -2)
        fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[96];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    (void)strtoull(buf, &end, 10); /* time on a CPU */
    char *wait = end;
    unsigned long long ns = strtoull(wait, &end, 10);
    return end == wait ? -1 : (double)ns * 1e-9;
}

double hps_own_seconds(void)
{
    double wait = runqueue_wait();
    if (wait < 0)
        return hps_clock_read(CLOCK_THREAD_CPUTIME_ID);
    return hps_monotonic() - wait;
}
