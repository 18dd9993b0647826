/*
 * In-process objectives. A test function takes the parameter values in space
 * order; `sleep` waits (in 10 ms slices, so a stop request is honoured quickly)
 * and reports the seconds slept; `noop` reports 0.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "hpsweep/results.h"
#include "workers/objective.h"

/* SplitMix64's finaliser (the same mixing as engine/seed.c; workers do not
 * depend on the engine). */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int do_sleep(double seconds, hps_stop_fn stop, void *ctx)
{
    double end = hps_monotonic() + seconds;
    for (;;) {
        double left = end - hps_monotonic();
        if (left <= 0)
            return HPS_TRIAL_DONE;
        if (stop && stop(ctx))
            return HPS_TRIAL_INTERRUPTED;
        double slice = left < 0.01 ? left : 0.01;
        struct timespec ts = {(time_t)slice, (long)((slice - (double)(time_t)slice) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* z ~ N(0,1) / sqrt(max(budget, 1)), deterministic in (seed, budget): a lower
 * fidelity is a noisier view of the same function, and a re-run gives the same. */
static double fidelity_noise(uint64_t seed, double budget)
{
    uint64_t bits;
    memcpy(&bits, &budget, sizeof bits);
    uint64_t a = mix(seed ^ mix(bits)), b = mix(a);
    double u1 = ((double)(a >> 11) + 0.5) * 0x1.0p-53, u2 = (double)(b >> 11) * 0x1.0p-53;
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    return z / sqrt(budget > 1.0 ? budget : 1.0);
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
        if (obj->noise > 0)
            v += obj->noise * fidelity_noise(seed, budget);
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
