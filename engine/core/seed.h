/*
 * Seeds. Every random decision in a sweep derives from the sweep seed through
 * one fixed, documented mixing function, so a trial's seed depends only on the
 * sweep seed and the trial id (never on which worker ran it or when):
 *
 *   mix64(z)        = SplitMix64's finaliser:
 *                       z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
 *                       z = (z ^ (z >> 27)) * 0x94D049BB133111EB
 *                       z ^ (z >> 31)
 *   trial_seed      = mix64(sweep_seed + 0x9E3779B97F4A7C15 * (trial_id + 1))
 *   strategy_seed   = mix64(sweep_seed ^ 0x5354524154454759)   ("STRATEGY")
 *
 * All arithmetic is modulo 2^64. mix64 is the one mixer of the code base:
 * strategies and objectives derive their own streams with it too.
 */
#ifndef HPS_CORE_SEED_H
#define HPS_CORE_SEED_H

#include <stdint.h>

/* The golden-ratio increment SplitMix64 adds between draws. */
#define HPS_GOLDEN UINT64_C(0x9E3779B97F4A7C15)

/* SplitMix64's finaliser. Inline: strategies call it per candidate. */
static inline uint64_t hps_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A 64-bit value folded to the 32 bits a GSL generator's seed keeps. */
static inline unsigned long hps_fold32(uint64_t z)
{
    return (unsigned long)((z ^ (z >> 32)) & UINT64_C(0xFFFFFFFF));
}

uint64_t hps_seed_trial(uint64_t sweep_seed, int64_t trial_id);
uint64_t hps_seed_strategy(uint64_t sweep_seed);

/* A seed for a sweep whose config gave none: from the clock, pid and address
 * space layout, mixed. The engine records it, so the sweep stays reproducible. */
uint64_t hps_fresh_seed(void);

#endif
