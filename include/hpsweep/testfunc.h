/*
 * The built-in test functions.
 *
 * A built-in test function is evaluated on the numeric values of the sweep's
 * parameters, in the order the space lists them (x[0] = first parameter, ...).
 * Each knows its standard domain and its global minimum, so sweeps and benchmarks
 * can report simple regret (best found - known minimum).
 */
#ifndef HPSWEEP_TESTFUNC_H
#define HPSWEEP_TESTFUNC_H

typedef struct hps_testfunc {
    const char *name;      /* "branin", "hartmann6", ... */
    int min_dim, max_dim;  /* dimensions accepted (max_dim 0: any >= min_dim) */
    /* Evaluate at x[d]. */
    double (*fn)(const double *x, int d);
    /* The standard domain: low[d], high[d]. */
    void (*domain)(int d, double *low, double *high);
    /* The global minimum value in d dimensions. */
    double (*minimum)(int d);
    /* One global minimiser in d dimensions, written to x[d]. */
    void (*argmin)(int d, double *x);
} hps_testfunc;

/* The test function called name, or NULL. */
const hps_testfunc *hps_testfunc_find(const char *name);

/* All test functions, NULL-terminated. */
const hps_testfunc *const *hps_testfunc_list(void);

#endif
