/*
 * The seed mixing function documented in seed.h.
 */
#include <time.h>
#include <unistd.h>

#include "engine/seed.h"

uint64_t hps_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

uint64_t hps_trial_seed(uint64_t sweep_seed, int64_t trial_id)
{
    return hps_mix64(sweep_seed + UINT64_C(0x9E3779B97F4A7C15) * ((uint64_t)trial_id + 1));
}

uint64_t hps_strategy_seed(uint64_t sweep_seed)
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
