/*
 * A set of borrowed byte strings (open addressing, FNV-1a), for the linear-time
 * duplicate checks of config keys, categorical choices and HDF5 enum names: a
 * pairwise check is quadratic, and 100,000 choices made it take minutes.
 */
#ifndef HPS_CORE_STRSET_H
#define HPS_CORE_STRSET_H

#include <stddef.h>

typedef struct hps_strset {
    size_t cap;       /* slots, a power of two (0: empty set) */
    size_t n;
    const char **key; /* borrowed: the caller keeps every string alive */
    size_t *len;
    size_t *tag;      /* the caller's value for each key (an index, say) */
} hps_strset;

/*
 * Add the len bytes at s with tag unless an equal string is there. Returns 1 when
 * added, 0 when already present (*old_tag, if not NULL, gets its tag), or a
 * negative HPS_ENOMEM.
 */
int hps_strset_add(hps_strset *set, const char *s, size_t len, size_t tag, size_t *old_tag);

/* Free the set's arrays (not the strings) and empty it; NULL-safe. */
void hps_strset_free(hps_strset *set);

#endif
