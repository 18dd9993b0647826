/*
 * Trainer checkpoints: everything a bit-identical continuation needs, in one
 * small HDF5 file anyone can open (h5py, h5dump).
 *
 * Layout (format_version 1):
 *   / attributes  format = "hpsweep-trainer-checkpoint", format_version,
 *                 seed, features, outputs, task, hidden_layers, hidden_units,
 *                 activation, optimizer, n_params   (must match the trial)
 *                 epoch (epochs done), step (optimiser steps done), n_metrics,
 *                 metric_names ("train_loss,val_loss,val_accuracy"),
 *                 sha256 (hex, over the canonical bytes below)
 *   /weights      float32 [n_params]  the flat buffer (mlp.h layout)
 *   /metrics      float64 [n_metrics] the last epoch's metrics, report order
 *   /optimizer/m1 float32 [n_params]  sgd momentum buffer / adam first moment
 *   /optimizer/m2 float32 [n_params]  adam second moment (adam, adamw only)
 * sha256 covers: every numeric attribute above as 8 little-endian bytes in that
 * order, the metrics' bits, then weights, m1, m2 as stored -- so a flipped byte
 * in the data is caught even where HDF5's own metadata checks do not look.
 * The data order and dropout are pure functions of (seed, epoch): no RNG state
 * is needed beyond them.
 */
#ifndef HPS_TRAINER_CHECKPOINT_H
#define HPS_TRAINER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "trainer.h"

#define HPS_CKPT_FORMAT "hpsweep-trainer-checkpoint"
#define HPS_CKPT_VERSION 1

typedef struct hps_ckpt {
    /* What must match the trial (shape, seed, optimiser state layout, activation). */
    uint64_t seed;
    int64_t features;
    int64_t outputs, task, hidden_layers, hidden_units, activation, optimizer;
    int64_t n_params;
    /* Progress. */
    int64_t epoch, step;
    int64_t n_metrics;
    double metrics[HPS_TRAIN_MAX_METRICS];
} hps_ckpt;

/* Optimiser moment arrays an optimiser keeps: 1 for sgd, 2 for adam/adamw. */
int hps_ckpt_n_moments(int64_t optimizer);

/*
 * Write ck and the arrays (n_params floats each; m2 only for adam/adamw) to
 * "<path>.tmp", fsync, rename over path, fsync the directory. Returns HPS_OK or
 * HPS_EIO / HPS_ENOMEM with the cause in err; the temp file is removed on error.
 */
int hps_ckpt_write(const char *path, const hps_ckpt *ck, const float *w, const float *m1,
                   const float *m2, const char *metric_names, char *err, size_t errlen);

/*
 * Read the checkpoint at path into *got and the arrays (caller-allocated,
 * expect->n_params floats; m2 ignored unless adam/adamw). Fields of *expect that
 * must match are compared first. Returns HPS_OK; HPS_ENOENT (no file);
 * HPS_EVERSION; HPS_EMISMATCH ("hidden_units is 128 in the checkpoint, 64 in
 * the trial"); HPS_ECORRUPT (not HDF5, truncated, missing pieces, checksum
 * mismatch); HPS_ENOMEM. Every message starts with path.
 */
int hps_ckpt_read(const char *path, const hps_ckpt *expect, hps_ckpt *got, float *w,
                  float *m1, float *m2, char *err, size_t errlen);

#endif
