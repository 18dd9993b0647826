/*
 * Private to strategies/: every observation of the `gp` strategy, and which of them
 * its model holds once there are more than max_model_points (gp_archive.c).
 *
 * Below the cap the model's rows are the archive's rows, one for one. Past it the
 * model is rebuilt every few results (gp.c) on a subset of max_model_points rows:
 * the initial design (the first rows: space-filling, and the rows the output warp
 * is chosen on), the best third by value (so the incumbent), the newest sixth (where
 * the search is looking now) and a seeded random draw from the rest, in archive
 * order. A subset depends only on the archive and the seed, so a replay rebuilds
 * the same model.
 */
#ifndef HPS_GP_ARCHIVE_H
#define HPS_GP_ARCHIVE_H

#include <stdint.h>

typedef struct gp_archive {
    int n, cap, dim;
    double *x;              /* [cap][dim] features */
    double *y;              /* [cap] raw values (failed rows: 0, imputed by the caller) */
    unsigned char *failed;  /* [cap] */
} gp_archive;

/* Append a row. HPS_OK or HPS_ENOMEM. */
int gp_archive_add(gp_archive *a, const double *x, double y, int failed);
void gp_archive_free(gp_archive *a); /* NULL-safe; keeps dim */

/* Choose min(a->n, max_points) rows into idx[] in ascending order: the first
 * min(n_first, max_points / 4) rows, the max_points / 3 lowest values among the rows
 * that did not fail (ties: the earlier row), the max_points / 6 newest rows, and
 * rows drawn uniformly (from seed) among the others to fill up. Returns the count,
 * or HPS_ENOMEM. */
int gp_archive_subset(const gp_archive *a, int max_points, int n_first, uint64_t seed, int *idx);

/* For tests: the real rows the model of a `gp` strategy state holds now, and the
 * results it has observed (gp.c). */
int gp_state_model_rows(const void *gp_state);
int gp_state_results(const void *gp_state);

#endif
