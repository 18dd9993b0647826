/*
 * The cheapest data-parallel plugin: every rank of the group runs the trial, the
 * result is 0. bench/groups.sh times a sweep of it on groups of 2 against the
 * built-in `noop` on one rank: what the plugin path costs per trial end to end.
 */
#include <hpsweep/objective.h>

static int run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    return hps_trial_set_result(ctx, 0.0);
}

const hps_objective_ops hpsweep_objective = {
    .version = HPS_OBJECTIVE_VERSION, .name = "noop-plugin", .flags = HPS_OBJECTIVE_GROUP,
    .run = run,
};
