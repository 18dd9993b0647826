/*
 * Array growth (see grow.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

size_t hps_grow_cap(size_t cap, size_t need, size_t first)
{
    if (need <= cap)
        return cap;
    size_t c = cap ? cap : (first ? first : 1);
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return 0;
        c *= 2;
    }
    return c;
}

void *hps_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return p;
    size_t c = hps_grow_cap(*cap, need, first);
    if (c == 0 || (elem && c > SIZE_MAX / elem))
        return NULL;
    void *q = realloc(p, c * elem);
    if (q)
        *cap = c;
    return q;
}
