/*
 * Private to strategies/: the ops tables the registry (registry.c) lists. Each
 * strategy lives in its own file and exports exactly one hps_strategy_ops; adding
 * a strategy means one extern line here and one table line in registry.c. Also the
 * strategies' small shared helpers; growth (core/grow.h) and seed mixing
 * (core/seed.h) are the engine's one copy of each.
 */
#ifndef HPS_STRATEGIES_H
#define HPS_STRATEGIES_H

#include <stdlib.h>

#include "core/grow.h"
#include "core/seed.h"
#include "hpsweep/strategy.h"

extern const hps_strategy_ops hps_strategy_random; /* random.c: uniform, sobol, halton */
extern const hps_strategy_ops hps_strategy_grid;   /* grid.c: Cartesian product */
extern const hps_strategy_ops hps_strategy_gp, hps_strategy_tpe; /* gp.c: Bayesian (GP); tpe.c */
/* hyperband.c: the multi-fidelity family (schedulers in hyperband_sched.c) */
extern const hps_strategy_ops hps_strategy_hyperband, hps_strategy_asha, hps_strategy_bohb;

extern const hps_pruner_ops hps_pruner_median; /* median.c: median stopping rule */

/* qsort comparator: doubles in ascending order (the callers pass no NaN). */
static inline int hps_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
