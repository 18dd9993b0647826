/*
 * The string set of strset.h: linear probing in a table kept at most half full.
 */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"

static size_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 32));
}

/* The slot of s: where it is, or the empty slot where it would go. */
static size_t find(const hps_strset *set, const char *s, size_t len)
{
    size_t mask = set->cap - 1, i = hash(s, len) & mask;
    while (set->key[i] && !(set->len[i] == len && memcmp(set->key[i], s, len) == 0))
        i = (i + 1) & mask;
    return i;
}

static int rehash(hps_strset *set, size_t cap)
{
    hps_strset big = {.cap = cap};
    big.key = calloc(cap, sizeof *big.key);
    big.len = calloc(cap, sizeof *big.len);
    big.tag = calloc(cap, sizeof *big.tag);
    if (!big.key || !big.len || !big.tag) {
        hps_strset_free(&big);
        return HPS_ENOMEM;
    }
    for (size_t i = 0; i < set->cap; i++) {
        if (!set->key[i])
            continue;
        size_t j = find(&big, set->key[i], set->len[i]);
        big.key[j] = set->key[i];
        big.len[j] = set->len[i];
        big.tag[j] = set->tag[i];
    }
    big.n = set->n;
    hps_strset_free(set);
    *set = big;
    return HPS_OK;
}

int hps_strset_add(hps_strset *set, const char *s, size_t len, size_t tag, size_t *old_tag)
{
    if (2 * (set->n + 1) > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        if (cap < set->cap || rehash(set, cap) != HPS_OK)
            return HPS_ENOMEM;
    }
    size_t i = find(set, s, len);
    if (set->key[i]) {
        if (old_tag)
            *old_tag = set->tag[i];
        return 0;
    }
    set->key[i] = s;
    set->len[i] = len;
    set->tag[i] = tag;
    set->n++;
    return 1;
}

void hps_strset_free(hps_strset *set)
{
    if (!set)
        return;
    free(set->key);
    free(set->len);
    free(set->tag);
    memset(set, 0, sizeof *set);
}
