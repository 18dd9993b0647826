/*
 * Private to strategies/: the ops tables the registry (registry.c) lists. Each
 * strategy lives in its own file and exports exactly one hps_strategy_ops; adding
 * a strategy means one extern line here and one table line in registry.c. Also the
 * strategies' small shared helpers.
 */
#ifndef HPS_STRATEGIES_H
#define HPS_STRATEGIES_H

#include <stdlib.h>

#include "hpsweep/strategy.h"

extern const hps_strategy_ops hps_strategy_random; /* random.c: uniform, sobol, halton */
extern const hps_strategy_ops hps_strategy_grid;   /* grid.c: Cartesian product */
extern const hps_strategy_ops hps_strategy_gp, hps_strategy_tpe; /* gp.c: Bayesian (GP); tpe.c */
/* hyperband.c: the multi-fidelity family (schedulers in hyperband_sched.c) */
extern const hps_strategy_ops hps_strategy_hyperband, hps_strategy_asha, hps_strategy_bohb;

extern const hps_pruner_ops hps_pruner_median; /* median.c: median stopping rule */

/* Room for element n of the array p whose capacity is *cap (elements of elem bytes):
 * p itself while n < *cap, else p reallocated to twice *cap (first when 0) and *cap
 * updated. NULL when out of memory (p is then still valid and *cap unchanged). */
static inline void *hps_grow(void *p, int n, int *cap, size_t elem, int first)
{
    if (n < *cap)
        return p;
    int c = *cap ? 2 * *cap : first;
    void *q = realloc(p, elem * (size_t)c);
    if (q)
        *cap = c;
    return q;
}

/* qsort comparator: doubles in ascending order (the callers pass no NaN). */
static inline int hps_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
