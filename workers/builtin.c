/*
 * The in-process built-in objectives: a test function evaluated on the
 * parameters in space order (with optional noise that shrinks with the budget),
 * `sleep` (waits in 10 ms slices, so a stop request is honoured quickly, and
 * reports the seconds slept) and `noop` (reports 0). Each reads its settings from
 * the parsed objective section (hps_builtin_env) at init.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/seed.h"
#include "hpsweep/error.h"
#include "trial.h"

static int builtin_init(const hps_objective_env *env, void **state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *state = (void *)env->internal; /* the objective instance's hps_builtin_env */
    return HPS_OK;
}

/* z ~ N(0,1) / sqrt(max(budget, 1)), deterministic in (seed, budget): a lower
 * fidelity is a noisier view of the same function, and a re-run gives the same. */
static double fidelity_noise(uint64_t seed, double budget)
{
    uint64_t bits;
    memcpy(&bits, &budget, sizeof bits);
    uint64_t a = hps_mix64(seed ^ hps_mix64(bits)), b = hps_mix64(a);
    double u1 = ((double)(a >> 11) + 0.5) * 0x1.0p-53, u2 = (double)(b >> 11) * 0x1.0p-53;
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    return z / sqrt(budget > 1.0 ? budget : 1.0);
}

static int testfunc_run(void *state, hps_trial_ctx *ctx)
{
    const hps_builtin_env *b = state;
    const hps_trial_spec *t = ctx->spec;
    double v = b->cfg->testfunc->fn(t->values, b->space->n_params);
    if (b->cfg->noise > 0)
        v += b->cfg->noise * fidelity_noise(t->seed, t->budget);
    return hps_trial_set_result(ctx, v);
}

static int sleep_run(void *state, hps_trial_ctx *ctx)
{
    const hps_builtin_env *b = state;
    double secs = b->cfg->sleep_param >= 0 ? ctx->spec->values[b->cfg->sleep_param]
                                           : b->cfg->sleep_seconds;
    if (!(secs >= 0.0) || !isfinite(secs))
        return hps_trial_fail(ctx, "bad-duration");
    double end = hps_monotonic() + secs;
    for (;;) {
        double left = end - hps_monotonic();
        if (left <= 0)
            return hps_trial_set_result(ctx, secs);
        if (hps_trial_should_stop(ctx))
            return HPS_OK;
        double slice = left < 0.01 ? left : 0.01;
        struct timespec ts = {(time_t)slice, (long)((slice - (double)(time_t)slice) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static int noop_run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    return hps_trial_set_result(ctx, 0.0);
}

const hps_objective_ops hps_objective_testfunc = {
    .version = HPS_OBJECTIVE_VERSION, .name = "testfunc", .init = builtin_init,
    .run = testfunc_run,
};

const hps_objective_ops hps_objective_sleep = {
    .version = HPS_OBJECTIVE_VERSION, .name = "sleep", .init = builtin_init, .run = sleep_run,
};

const hps_objective_ops hps_objective_noop = {
    .version = HPS_OBJECTIVE_VERSION, .name = "noop", .run = noop_run,
};
