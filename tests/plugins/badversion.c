/*
 * A plugin built for another version of the objective API (99): hpsweep must
 * refuse it at start, naming both versions, without calling run(). Built for
 * tests/integration/test_plugin.sh.
 */
#include <hpsweep/error.h>
#include <hpsweep/objective.h>

static int never_run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    return hps_trial_fail(ctx, "a plugin of another API version ran");
}

const hps_objective_ops hpsweep_objective = {
    .version = 99, .name = "from-the-future", .flags = HPS_OBJECTIVE_GROUP, .run = never_run,
};
