/*
 * The per-rank loader of loader.h: in-memory gathers for a group of one, sorted
 * block reads otherwise, and the validation slice.
 */
#include "loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "rng.h"

/* Target size of one block of training rows. */
#define BLOCK_BYTES (8u << 20)
/* Rows per chunk when filling a cache. */
#define FILL_BYTES (4u << 20)

void hps_loader_permutation(int64_t *perm, int64_t n, uint64_t seed, int64_t epoch)
{
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t base = hps_rng_base(HPS_RNG_TAG_PERM, seed, (uint64_t)epoch, 0, 0);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)hps_rng_below(hps_rng_at(base, (uint64_t)i), (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static int nomem(char *err, size_t errlen, const char *what, int64_t bytes)
{
    if (err && errlen)
        snprintf(err, errlen, "out of memory for the %s (%lld bytes)", what, (long long)bytes);
    return HPS_ENOMEM;
}

/* Read rows [start, start + n) of a split into X, y in chunks. */
static int fill(hps_ds *ds, int split, int64_t start, int64_t n, float *X, int32_t *y,
                char *err, size_t errlen)
{
    int64_t chunk = FILL_BYTES / (uint64_t)(ds->d * 4);
    if (chunk < 1)
        chunk = 1;
    for (int64_t off = 0; off < n; off += chunk) {
        int64_t k = n - off < chunk ? n - off : chunk;
        int rc = hps_ds_read(ds, split, start + off, k, X + off * ds->d, y + off, err, errlen);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

int hps_loader_init(hps_loader *ld, hps_ds *ds, int rank, int size, int64_t batch,
                    int64_t cache_bytes, char *err, size_t errlen)
{
    memset(ld, 0, sizeof *ld);
    ld->ds = ds;
    ld->rank = rank;
    ld->size = size;
    ld->batch = batch;
    const int64_t n = ds->s[HPS_DS_TRAIN].n, d = ds->d;
    ld->steps = (n + batch - 1) / batch;
    int64_t b = batch < n ? batch : n;
    ld->cap = (b + size - 1) / size;
    if (ld->cap < 1)
        ld->cap = 1;
    ld->blk_first = -1;

    if (size == 1 && n * d * 4 <= cache_bytes) {
        ld->train_X = malloc((size_t)(n * d) * sizeof(float));
        ld->train_y = malloc((size_t)n * 4);
        if (!ld->train_X || !ld->train_y) {
            hps_loader_free(ld);
            return nomem(err, errlen, "in-memory training set", n * (d + 1) * 4);
        }
        int rc = fill(ds, HPS_DS_TRAIN, 0, n, ld->train_X, ld->train_y, err, errlen);
        if (rc != HPS_OK) {
            hps_loader_free(ld);
            return rc;
        }
    } else {
        int64_t target = BLOCK_BYTES / (uint64_t)(d * 4);
        ld->block_steps = target / ld->cap;
        if (ld->block_steps < 1)
            ld->block_steps = 1;
        if (ld->block_steps > ld->steps)
            ld->block_steps = ld->steps;
        int64_t rows = ld->block_steps * ld->cap;
        ld->blk_step_off = malloc((size_t)(ld->block_steps + 1) * sizeof(int64_t));
        ld->blk_rows = malloc((size_t)rows * sizeof(int64_t));
        ld->blk_pos = malloc((size_t)rows * sizeof(int64_t));
        ld->pairs = malloc((size_t)rows * sizeof(hps_loader_pair));
        ld->blk_X = malloc((size_t)(rows * d) * sizeof(float));
        ld->blk_y = malloc((size_t)rows * 4);
        if (!ld->blk_step_off || !ld->blk_rows || !ld->blk_pos || !ld->pairs || !ld->blk_X ||
            !ld->blk_y) {
            hps_loader_free(ld);
            return nomem(err, errlen, "training block buffer", rows * (d * 4 + 36));
        }
    }

    const int64_t nv = ds->s[HPS_DS_VAL].n;
    int64_t hi;
    hps_slice(nv, rank, size, &ld->val_lo, &hi);
    ld->val_n = hi - ld->val_lo;
    if (ld->val_n > 0 && ld->val_n * d * 4 <= cache_bytes) {
        ld->val_X = malloc((size_t)(ld->val_n * d) * sizeof(float));
        ld->val_y = malloc((size_t)ld->val_n * 4);
        if (!ld->val_X || !ld->val_y) {
            hps_loader_free(ld);
            return nomem(err, errlen, "validation slice", ld->val_n * (d + 1) * 4);
        }
        int rc = fill(ds, HPS_DS_VAL, ld->val_lo, ld->val_n, ld->val_X, ld->val_y, err, errlen);
        if (rc != HPS_OK) {
            hps_loader_free(ld);
            return rc;
        }
    }
    return HPS_OK;
}

void hps_loader_free(hps_loader *ld)
{
    if (!ld)
        return;
    free(ld->train_X);
    free(ld->train_y);
    free(ld->blk_step_off);
    free(ld->blk_rows);
    free(ld->blk_pos);
    free(ld->pairs);
    free(ld->blk_X);
    free(ld->blk_y);
    free(ld->val_X);
    free(ld->val_y);
    memset(ld, 0, sizeof *ld);
}

void hps_loader_epoch(hps_loader *ld, const int64_t *perm)
{
    ld->perm = perm;
    ld->blk_first = -1;
    ld->blk_count = 0;
}

static int cmp_pair(const void *a, const void *b)
{
    int64_t x = ((const hps_loader_pair *)a)->row, y = ((const hps_loader_pair *)b)->row;
    return (x > y) - (x < y);
}

/* Step s's rows of this rank: perm[s B + lo .. s B + hi). */
static const int64_t *step_rows(const hps_loader *ld, int64_t s, int64_t *count)
{
    const int64_t n = ld->ds->s[HPS_DS_TRAIN].n;
    int64_t start = s * ld->batch;
    int64_t b = n - start < ld->batch ? n - start : ld->batch;
    int64_t lo, hi;
    hps_slice(b, ld->rank, ld->size, &lo, &hi);
    *count = hi - lo;
    return ld->perm + start + lo;
}

/* Read the block of steps [first, first + block_steps) (clipped to the epoch). */
static int load_block(hps_loader *ld, int64_t first, char *err, size_t errlen)
{
    int64_t count = ld->steps - first < ld->block_steps ? ld->steps - first : ld->block_steps;
    int64_t k = 0;
    for (int64_t s = 0; s < count; s++) {
        int64_t nr;
        const int64_t *rows = step_rows(ld, first + s, &nr);
        ld->blk_step_off[s] = k;
        for (int64_t i = 0; i < nr; i++, k++) {
            ld->pairs[k].row = rows[i];
            ld->pairs[k].pos = k;
        }
    }
    ld->blk_step_off[count] = k;
    qsort(ld->pairs, (size_t)k, sizeof *ld->pairs, cmp_pair);
    for (int64_t i = 0; i < k; i++) {
        ld->blk_rows[i] = ld->pairs[i].row;
        ld->blk_pos[ld->pairs[i].pos] = i;
    }
    ld->blk_first = -1; /* invalid until the read succeeds */
    int rc = hps_ds_read_sorted(ld->ds, HPS_DS_TRAIN, ld->blk_rows, k, ld->blk_X, ld->blk_y,
                                err, errlen);
    if (rc != HPS_OK)
        return rc;
    ld->blk_first = first;
    ld->blk_count = count;
    return HPS_OK;
}

int hps_loader_step(hps_loader *ld, int64_t step, float *X, void *y, int64_t *row_ids,
                     int64_t *rows, char *err, size_t errlen)
{
    const int64_t d = ld->ds->d;
    const size_t row_bytes = (size_t)d * sizeof(float);
    int64_t nr;
    const int64_t *ids = step_rows(ld, step, &nr);
    *rows = nr;
    memcpy(row_ids, ids, (size_t)nr * sizeof(int64_t));
    /* Labels and targets are 4 bytes either way; memcpy keeps a float a float. */
    char *yo = y;
    if (ld->train_X) {
        for (int64_t i = 0; i < nr; i++) {
            memcpy(X + i * d, ld->train_X + ids[i] * d, row_bytes);
            memcpy(yo + 4 * i, ld->train_y + ids[i], 4);
        }
        return HPS_OK;
    }
    if (ld->blk_first < 0 || step < ld->blk_first || step >= ld->blk_first + ld->blk_count) {
        int rc = load_block(ld, step, err, errlen);
        if (rc != HPS_OK)
            return rc;
    }
    const int64_t off = ld->blk_step_off[step - ld->blk_first];
    for (int64_t i = 0; i < nr; i++) {
        int64_t src = ld->blk_pos[off + i];
        memcpy(X + i * d, ld->blk_X + src * d, row_bytes);
        memcpy(yo + 4 * i, ld->blk_y + src, 4);
    }
    return HPS_OK;
}

int hps_loader_val(hps_loader *ld, int64_t off, int64_t n, float *X, void *y, char *err,
                   size_t errlen)
{
    const int64_t d = ld->ds->d;
    if (ld->val_X) {
        memcpy(X, ld->val_X + off * d, (size_t)(n * d) * sizeof(float));
        memcpy(y, ld->val_y + off, (size_t)n * 4);
        return HPS_OK;
    }
    return hps_ds_read(ld->ds, HPS_DS_VAL, ld->val_lo + off, n, X, y, err, errlen);
}
