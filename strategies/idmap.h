/*
 * Private to strategies/: a map from trial id (any int64_t) to a non-negative
 * array index, for strategies that keep their trials in an array and look them up
 * by the id the engine hands them (hyperband.c, median.c).
 *
 * Open addressing with linear probing, kept at most half full; it grows itself by
 * doubling. Lookups never change it, so nothing a strategy decides depends on its
 * layout, and it has no iteration: a strategy that must visit its trials in order
 * walks its own array. Entries are never removed.
 */
#ifndef HPS_IDMAP_H
#define HPS_IDMAP_H

#include <stddef.h>
#include <stdint.h>

/* All fields are private. A zero-filled hps_idmap (calloc, `= {0}`) is a valid
 * empty map, the same as one passed to hps_idmap_init(). */
typedef struct hps_idmap {
    int64_t *keys;  /* [cap] */
    int *vals;      /* [cap]; -1 marks an empty slot */
    size_t cap;     /* 0 or a power of two */
    size_t n;       /* ids stored */
} hps_idmap;

/* Make m an empty map; allocates nothing. */
void hps_idmap_init(hps_idmap *m);

/* Release m's memory and leave it empty (reusable). m == NULL is a no-op. */
void hps_idmap_free(hps_idmap *m);

/* The index stored for id, or -1 when id is absent. */
int hps_idmap_get(const hps_idmap *m, int64_t id);

/* Store index (>= 0) for id, replacing the index id had. Returns HPS_OK,
 * HPS_EINVAL for a negative index, or HPS_ENOMEM when the map had to grow and
 * could not; on an error m is unchanged. */
int hps_idmap_put(hps_idmap *m, int64_t id, int index);

#endif
