/*
 * The one growth rule for arrays: capacities double (from `first`) until they
 * hold what is needed. hps_grow reallocates one array; hps_grow_cap only computes
 * the next capacity, for callers that grow several parallel arrays together.
 */
#ifndef HPS_CORE_GROW_H
#define HPS_CORE_GROW_H

#include <stddef.h>

/* The capacity for `need` elements: cap while need <= cap, else cap (or first when
 * cap is 0) doubled until it holds need. 0 when that would overflow size_t. */
size_t hps_grow_cap(size_t cap, size_t need, size_t first);

/*
 * Make p (capacity *cap elements of elem bytes) hold at least need elements:
 * p itself when it already does, else p reallocated to hps_grow_cap(*cap, need,
 * first) elements with *cap updated. NULL when out of memory or on overflow; p is
 * then still valid and *cap unchanged.
 */
void *hps_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first);

#endif
