/*
 * In-process objectives. A test function takes the parameter values in space
 * order; `sleep` waits (in 10 ms slices, so a stop request is honoured quickly)
 * and reports the seconds slept; `noop` reports 0.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "hpsweep/results.h"
#include "workers/objective.h"

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int do_sleep(double seconds, hps_stop_fn stop, void *ctx)
{
    double end = monotonic() + seconds;
    for (;;) {
        double left = end - monotonic();
        if (left <= 0)
            return HPS_TRIAL_DONE;
        if (stop && stop(ctx))
            return HPS_TRIAL_INTERRUPTED;
        double slice = left < 0.01 ? left : 0.01;
        struct timespec ts = {(time_t)slice, (long)((slice - (double)(time_t)slice) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

int hps_objective_eval(const hps_objective_cfg *obj, const hps_space *space,
                       const double *values, uint64_t seed, double budget, hps_stop_fn stop,
                       void *stop_ctx, double *objective, char *cause, size_t causelen)
{
    (void)seed;
    (void)budget;
    double v = 0.0;
    cause[0] = '\0';
    switch (obj->kind) {
    case HPS_OBJ_NOOP:
        v = 0.0;
        break;
    case HPS_OBJ_SLEEP: {
        double secs = obj->sleep_param >= 0 ? values[obj->sleep_param] : obj->sleep_seconds;
        if (!(secs >= 0.0) || !isfinite(secs)) {
            snprintf(cause, causelen, "bad-duration");
            return HPS_TRIAL_FAILED;
        }
        int st = do_sleep(secs, stop, stop_ctx);
        if (st != HPS_TRIAL_DONE) {
            snprintf(cause, causelen, "interrupted");
            return st;
        }
        v = secs;
        break;
    }
    case HPS_OBJ_TESTFUNC:
        v = obj->testfunc->fn(values, space->n_params);
        break;
    case HPS_OBJ_COMMAND:
        /* Commands need the spawner and a trial directory: hps_command_run(). */
        snprintf(cause, causelen, "internal: command objective evaluated in-process");
        return HPS_TRIAL_FAILED;
    }
    if (!isfinite(v)) {
        snprintf(cause, causelen, "nan");
        return HPS_TRIAL_FAILED;
    }
    *objective = v;
    return HPS_TRIAL_DONE;
}
