/*
 * The per-rank data loader. For each global step it delivers this rank's slice
 * of the global batch (trainer.h: positions [floor(r b/G), floor((r+1) b/G)) of
 * the step's b rows of the epoch's permutation), and reads only those rows:
 *   - a group of one whose /train fits cache_bytes reads /train once, in chunks,
 *     and gathers from memory;
 *   - otherwise the rows of the next `block_steps` steps are collected, sorted,
 *     read from HDF5 in runs of consecutive rows (one hyperslab each) into a
 *     block buffer of about 8 MiB, then handed out step by step.
 * Validation: this rank's contiguous slice [floor(r Nv/G), floor((r+1) Nv/G)) of
 * /val, kept in memory when it fits cache_bytes, else read per chunk.
 * Every value read is checked (finite, labels in range) with the row named.
 */
#ifndef HPS_TRAINER_LOADER_H
#define HPS_TRAINER_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/*
 * The order of epoch `epoch` (0-based): perm[n] receives a permutation of
 * 0 .. n-1 drawn by Fisher-Yates from (seed, epoch) alone (rng.h).
 */
void hps_loader_permutation(int64_t *perm, int64_t n, uint64_t seed, int64_t epoch);

/* Positions [*lo, *hi) of a b-row batch that rank r of g computes. */
static inline void hps_slice(int64_t b, int r, int g, int64_t *lo, int64_t *hi)
{
    *lo = b * r / g;
    *hi = b * (r + 1) / g;
}

typedef struct hps_loader_pair {
    int64_t row, pos;
} hps_loader_pair;

typedef struct hps_loader {
    hps_ds *ds;                 /* borrowed */
    int rank, size;
    int64_t batch, steps, cap;  /* global batch, steps per epoch, largest slice */
    const int64_t *perm;        /* this epoch's permutation (borrowed) */

    float *train_X;             /* whole /train (group of one), or NULL */
    int32_t *train_y;

    int64_t block_steps;        /* steps per block read */
    int64_t blk_first, blk_count; /* the block held: steps [first, first + count) */
    int64_t *blk_step_off;      /* [block_steps + 1] first block position of each step */
    int64_t *blk_rows;          /* sorted rows of the block */
    int64_t *blk_pos;           /* block position (step order) -> index in blk_X */
    hps_loader_pair *pairs;     /* sort scratch */
    float *blk_X;
    int32_t *blk_y;

    int64_t val_lo, val_n;      /* this rank's validation slice */
    float *val_X;               /* cached slice, or NULL to read per call */
    int32_t *val_y;
} hps_loader;

/*
 * Prepare the loader of rank `rank` of `size` for global batch `batch` over ds
 * (whose labels were scanned). Reads /train (group of one, if it fits) and the
 * validation slice (if it fits) now. cache_bytes: the in-memory limit.
 * Returns HPS_OK, HPS_ENOMEM, HPS_EIO or HPS_ECORRUPT (a bad value) with err set.
 */
int hps_loader_init(hps_loader *ld, hps_ds *ds, int rank, int size, int64_t batch,
                    int64_t cache_bytes, char *err, size_t errlen);
void hps_loader_free(hps_loader *ld);

/* Start an epoch whose order is perm[n_train] (kept by the caller until the next). */
void hps_loader_epoch(hps_loader *ld, const int64_t *perm);

/*
 * This rank's slice of global step `step` (0-based) of the epoch: *rows rows
 * into X[rows x d], y[rows] (int32 or float32, 4 bytes each) and row_ids[rows]
 * (their /train row numbers). Returns HPS_OK, HPS_EIO, HPS_ECORRUPT.
 */
int hps_loader_step(hps_loader *ld, int64_t step, float *X, void *y, int64_t *row_ids,
                     int64_t *rows, char *err, size_t errlen);

/* Rows [off, off + n) of this rank's validation slice into X, y. */
int hps_loader_val(hps_loader *ld, int64_t off, int64_t n, float *X, void *y, char *err,
                   size_t errlen);

#endif
