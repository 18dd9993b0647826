/*
 * The clocks hpsweep reads and the one way it waits.
 *
 * Monotonic seconds for intervals (timeouts, backoff, rates) and wall-clock Unix
 * seconds for what is recorded (a trial's start and end). Inline: both sit on
 * per-trial paths.
 *
 * Waiting never spins a core: Open MPI's blocking calls poll, so every wait in
 * hpsweep is "test, then hps_backoff_sleep()", which sleeps 20 us, doubling up to
 * 1 ms, and keeps idle ranks near 0% CPU.
 */
#ifndef HPS_CORE_CLOCK_H
#define HPS_CORE_CLOCK_H

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

/*
 * Seconds this thread has spent running or blocked (on I/O, a page fault), but not
 * waiting for a CPU that other processes held: wall time less the run-queue wait
 * Linux reports in /proc/thread-self/schedstat. What the thread's work would take
 * on a machine of its own, for benchmarks that charge real costs to simulated time
 * on a shared one. Where schedstat cannot be read, the thread's CPU time. Only
 * differences mean anything.
 */
double hps_own_seconds(void);

/* Format Unix time t as ISO 8601 UTC ("2026-11-30T12:00:00Z") into buf (>= 32 bytes). */
void hps_iso_time(double t, char *buf, size_t len);

/* Format seconds as [h:]mm:ss into buf ("--:--" for a negative or non-finite value). */
void hps_format_duration(double secs, char *buf, size_t len);

/* Backoff state for cheap waiting; zero it (or hps_backoff_reset) to start. */
typedef struct hps_backoff {
    long ns;
} hps_backoff;

void hps_backoff_reset(hps_backoff *b);

/* Sleep for the current interval, then double it (20 us up to 1 ms). */
void hps_backoff_sleep(hps_backoff *b);

#endif
