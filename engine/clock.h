/*
 * The two clocks hpsweep reads: monotonic seconds for intervals (timeouts,
 * backoff, rates) and wall-clock Unix seconds for what is recorded (a trial's
 * start and end). Inline: both sit on per-trial paths.
 */
#ifndef HPS_ENGINE_CLOCK_H
#define HPS_ENGINE_CLOCK_H

#include <time.h>

static inline double hps_clock_read(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds on a clock that never jumps (for intervals). */
static inline double hps_monotonic(void)
{
    return hps_clock_read(CLOCK_MONOTONIC);
}

/* Unix time in seconds (for records). */
static inline double hps_wall(void)
{
    return hps_clock_read(CLOCK_REALTIME);
}

#endif
