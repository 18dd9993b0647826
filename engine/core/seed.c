/*
 * The seed derivations documented in seed.h.
 */
#include <time.h>
#include <unistd.h>

#include "seed.h"

uint64_t hps_seed_trial(uint64_t sweep_seed, int64_t trial_id)
{
    return hps_mix64(sweep_seed + HPS_GOLDEN * ((uint64_t)trial_id + 1));
}

uint64_t hps_seed_strategy(uint64_t sweep_seed)
{
    return hps_mix64(sweep_seed ^ UINT64_C(0x5354524154454759));
}

uint64_t hps_fresh_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t z = (uint64_t)ts.tv_sec * UINT64_C(1000000007) + (uint64_t)ts.tv_nsec;
    z ^= (uint64_t)getpid() << 32;
    z ^= (uint64_t)(uintptr_t)&ts;
    /* Keep it below 2^53 so every tool that reads it as a double shows it exactly. */
    return hps_mix64(z) >> 11;
}
