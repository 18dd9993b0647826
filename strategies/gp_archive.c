/*
 * The `gp` strategy's archive of observations and the subset its bounded model
 * holds past max_model_points (see gp_archive.h). Choosing a subset costs
 * O(n log n) and happens once every few results, never per suggestion.
 */
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "gp_archive.h"
#include "strategies.h"

int gp_archive_add(gp_archive *a, const double *x, double y, int failed)
{
    if (a->n == a->cap) {
        size_t cap = hps_grow_cap((size_t)a->cap, (size_t)a->n + 1, 64);
        size_t dim = (size_t)(a->dim > 0 ? a->dim : 1);
        double *nx = realloc(a->x, sizeof(double) * cap * dim);
        if (!nx)
            return HPS_ENOMEM;
        a->x = nx;
        double *ny = realloc(a->y, sizeof(double) * cap);
        if (!ny)
            return HPS_ENOMEM;
        a->y = ny;
        unsigned char *nf = realloc(a->failed, cap);
        if (!nf)
            return HPS_ENOMEM;
        a->failed = nf;
        a->cap = (int)cap;
    }
    memcpy(a->x + (size_t)a->n * (size_t)a->dim, x, sizeof(double) * (size_t)a->dim);
    a->y[a->n] = failed ? 0.0 : y;
    a->failed[a->n] = (unsigned char)(failed != 0);
    a->n++;
    return HPS_OK;
}

void gp_archive_free(gp_archive *a)
{
    if (!a)
        return;
    free(a->x);
    free(a->y);
    free(a->failed);
    int dim = a->dim;
    memset(a, 0, sizeof *a);
    a->dim = dim;
}

typedef struct val_row {
    double v;
    int i;
} val_row;

static int cmp_val_row(const void *p, const void *q)
{
    const val_row *x = p, *y = q;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    return (x->i > y->i) - (x->i < y->i);
}

int gp_archive_subset(const gp_archive *a, int max_points, int n_first, uint64_t seed, int *idx)
{
    int n = a->n;
    if (max_points <= 0 || n <= max_points) {
        for (int i = 0; i < n; i++)
            idx[i] = i;
        return n;
    }
    unsigned char *taken = calloc((size_t)n, 1);
    val_row *vr = malloc(sizeof(val_row) * (size_t)n);
    int *pool = malloc(sizeof(int) * (size_t)n);
    if (!taken || !vr || !pool) {
        free(taken);
        free(vr);
        free(pool);
        return HPS_ENOMEM;
    }
    int k = 0;
    int first = n_first < max_points / 4 ? n_first : max_points / 4;
    for (int i = 0; i < first && i < n; i++)
        taken[i] = 1, k++;
    int nv = 0;
    for (int i = 0; i < n; i++)
        if (!a->failed[i])
            vr[nv++] = (val_row){a->y[i], i};
    qsort(vr, (size_t)nv, sizeof *vr, cmp_val_row);
    for (int j = 0, want = max_points / 3; j < nv && want > 0; j++)
        if (!taken[vr[j].i])
            taken[vr[j].i] = 1, k++, want--;
    for (int i = n - 1, want = max_points / 6; i >= 0 && want > 0; i--)
        if (!taken[i])
            taken[i] = 1, k++, want--;
    /* the rest: a partial Fisher-Yates shuffle of the rows not yet taken */
    int np = 0;
    for (int i = 0; i < n; i++)
        if (!taken[i])
            pool[np++] = i;
    for (int j = 0; k < max_points && j < np; j++, k++) {
        uint64_t r = hps_mix64(seed + HPS_GOLDEN * (uint64_t)(j + 1));
        int pick = j + (int)(r % (uint64_t)(np - j));
        int t = pool[j];
        pool[j] = pool[pick];
        pool[pick] = t;
        taken[pool[j]] = 1;
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (taken[i])
            idx[m++] = i;
    free(taken);
    free(vr);
    free(pool);
    return m;
}
