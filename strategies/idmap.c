/*
 * The trial id -> index map of idmap.h: open addressing, linear probing, a
 * multiplicative (Fibonacci) hash of the id, at most half full.
 */
#include <stdlib.h>

#include "hpsweep/error.h"
#include "idmap.h"

#define IDMAP_MIN_CAP 64

static size_t slot(int64_t id, size_t cap)
{
    uint64_t z = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)((z ^ (z >> 29)) & (cap - 1));
}

/* The slot holding id, or the empty slot where it would go (cap > 0, not full). */
static size_t probe(const int64_t *keys, const int *vals, size_t cap, int64_t id)
{
    size_t i = slot(id, cap);
    while (vals[i] >= 0 && keys[i] != id)
        i = (i + 1) & (cap - 1);
    return i;
}

void hps_idmap_init(hps_idmap *m)
{
    *m = (hps_idmap){0};
}

void hps_idmap_free(hps_idmap *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    *m = (hps_idmap){0};
}

int hps_idmap_get(const hps_idmap *m, int64_t id)
{
    if (!m->cap)
        return -1;
    size_t i = probe(m->keys, m->vals, m->cap, id);
    return m->vals[i] >= 0 ? m->vals[i] : -1;
}

/* Move every entry into tables of cap slots; HPS_ENOMEM leaves m as it was. */
static int grow(hps_idmap *m, size_t cap)
{
    int64_t *keys = malloc(sizeof *keys * cap);
    int *vals = malloc(sizeof *vals * cap);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return HPS_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        vals[i] = -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->vals[i] >= 0) {
            size_t j = probe(keys, vals, cap, m->keys[i]);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return HPS_OK;
}

int hps_idmap_put(hps_idmap *m, int64_t id, int index)
{
    if (index < 0)
        return HPS_EINVAL;
    if (m->cap) {
        size_t i = probe(m->keys, m->vals, m->cap, id);
        if (m->vals[i] >= 0) {
            m->vals[i] = index;
            return HPS_OK;
        }
    }
    if (2 * (m->n + 1) > m->cap) {
        if (m->cap > SIZE_MAX / 4 / sizeof(int64_t))
            return HPS_ENOMEM;
        int rc = grow(m, m->cap ? 2 * m->cap : IDMAP_MIN_CAP);
        if (rc != HPS_OK)
            return rc;
    }
    size_t i = probe(m->keys, m->vals, m->cap, id);
    m->keys[i] = id;
    m->vals[i] = index;
    m->n++;
    return HPS_OK;
}
