/*
 * Counter-based random numbers for the trainer: every draw is a pure function of
 * a key, so the data order, dropout masks and initial weights depend on nothing
 * but (seed, what, where) -- not on the group size, the rank or how many draws
 * came before. That is what makes a resumed run and a run with another group
 * size see the same numbers.
 *
 * The scheme (documented because results depend on it):
 *   mix(z)                 the SplitMix64 finaliser (Stafford's variant 13)
 *   base(tag, seed, a, b, c) = mix(mix(mix(mix(seed ^ tag) + PHI*(a+1)) + PHI*(b+1))
 *                              + PHI*(c+1))
 *   at(base, i)            = mix(base + PHI*(i+1)), the i-th SplitMix64 output
 *                            from state base
 * with PHI = 0x9E3779B97F4A7C15. Uses of it:
 *   permutation of epoch e:  base(TAG_PERM, seed, e, 0, 0); Fisher-Yates, i from
 *                            N-1 down to 1 swaps i with floor(at(base, i) * (i+1)
 *                            / 2^64) (the bias is below (i+1)/2^64)
 *   dropout:                 base(TAG_DROP, seed, epoch, row, layer); unit u is
 *                            kept when at(base, u) >> 40 >= llround(p * 2^24)
 *                            (hps_dropout_row / hps_dropout_keep below: the CPU
 *                            backend and the CUDA kernels call these very
 *                            functions, so their masks are identical bit for bit)
 *   initial weights:         base(TAG_INIT, seed, layer, 0, 0); weight j is a
 *                            Box-Muller normal from draws 2j and 2j+1
 *   synthetic datasets:      TAG_SYNTH with their own (a, b, c)
 */
#ifndef HPS_TRAINER_RNG_H
#define HPS_TRAINER_RNG_H

#include <math.h>
#include <stdint.h>

/* The functions the CUDA kernels share are compiled for host and device by nvcc. */
#ifdef __CUDACC__
#define HPS_RNG_FN static inline __host__ __device__
#else
#define HPS_RNG_FN static inline
#endif

#define HPS_RNG_PHI UINT64_C(0x9E3779B97F4A7C15)

enum {
    HPS_RNG_TAG_PERM = 0x5045524D,  /* "PERM" */
    HPS_RNG_TAG_DROP = 0x44524F50,  /* "DROP" */
    HPS_RNG_TAG_INIT = 0x494E4954,  /* "INIT" */
    HPS_RNG_TAG_SYNTH = 0x53594E54  /* "SYNT" */
};

HPS_RNG_FN uint64_t hps_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

HPS_RNG_FN uint64_t hps_rng_base(uint64_t tag, uint64_t seed, uint64_t a, uint64_t b,
                                  uint64_t c)
{
    uint64_t h = hps_rng_mix(seed ^ tag);
    h = hps_rng_mix(h + HPS_RNG_PHI * (a + 1));
    h = hps_rng_mix(h + HPS_RNG_PHI * (b + 1));
    return hps_rng_mix(h + HPS_RNG_PHI * (c + 1));
}

HPS_RNG_FN uint64_t hps_rng_at(uint64_t base, uint64_t i)
{
    return hps_rng_mix(base + HPS_RNG_PHI * (i + 1));
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double hps_rng_unit(uint64_t x)
{
    return (double)(x >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n) (multiply-shift; bias below n / 2^64). */
static inline uint64_t hps_rng_below(uint64_t x, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

/* Standard normal from draws 2j and 2j+1 of base (Box-Muller, cosine branch). */
static inline double hps_rng_normal(uint64_t base, uint64_t j)
{
    double u1 = ((double)(hps_rng_at(base, 2 * j) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = hps_rng_unit(hps_rng_at(base, 2 * j + 1));
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- dropout masks (both backends) ----------------------------------------------------- */

/* The drop threshold of probability p in [0, 1): units whose 24-bit draw is below it drop. */
static inline uint64_t hps_dropout_threshold(double p)
{
    return (uint64_t)llround(p * 16777216.0);
}

/* The key of one row's mask in one layer: training row `row` of epoch `epoch`. */
HPS_RNG_FN uint64_t hps_dropout_row(uint64_t seed, int64_t epoch, int64_t row, int layer)
{
    return hps_rng_base(HPS_RNG_TAG_DROP, seed, (uint64_t)epoch, (uint64_t)row, (uint64_t)layer);
}

/* 1 when unit u of the row keyed row_key is kept, for the threshold above. */
HPS_RNG_FN int hps_dropout_keep(uint64_t row_key, int u, uint64_t threshold)
{
    return (hps_rng_at(row_key, (uint64_t)u) >> 40) >= threshold;
}

#endif
