/*
 * Time formatting and the backoff sleep (see clock.h).
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

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
