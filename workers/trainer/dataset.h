/*
 * An open trainer dataset (layout in trainer.h): its four HDF5 datasets checked
 * for shape and type, the class count, and value-checked reads of row ranges or
 * of sorted row sets. hps_dataset_check() and the per-rank loader are built on
 * it. Every message starts "<file>: <dataset>: ".
 */
#ifndef HPS_TRAINER_DATASET_H
#define HPS_TRAINER_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

enum { HPS_DS_TRAIN = 0, HPS_DS_VAL = 1 };

typedef struct hps_ds_split {
    hid_t X, y;             /* the datasets */
    hid_t X_space, y_space; /* their file dataspaces, reused for selections */
    int64_t n;              /* rows */
    int y_rank;             /* 1, or 2 for [n, 1] */
} hps_ds_split;

typedef struct hps_ds {
    const char *path;       /* borrowed, for messages */
    hid_t file;
    hps_ds_split s[2];      /* HPS_DS_TRAIN, HPS_DS_VAL */
    int64_t d;              /* features */
    int task;               /* hps_train_task */
    int classes;            /* classification: from the attribute or the scan; else 0 */
    int classes_from_attr;  /* /train/y has the attribute `classes` */
} hps_ds;

/* "/train/X" etc. */
const char *hps_ds_name(int split, int is_y);

/*
 * Open path and check the layout: groups and datasets present, types, ranks,
 * row counts >= 1 and matching, equal D, the optional `classes` attribute.
 * Reads no data. Returns HPS_OK, HPS_ENOENT, HPS_ECORRUPT or HPS_EIO with err
 * set; on error ds is closed. Close with hps_ds_close (safe after a failure).
 */
int hps_ds_open(hps_ds *ds, const char *path, char *err, size_t errlen);
void hps_ds_close(hps_ds *ds);

/*
 * Classification: read every label of both splits (in chunks), set ds->classes
 * to max + 1 (unless the attribute set it) and check the labels: >= 0, below
 * the attribute's count, at least 2 classes, at most HPS_TRAIN_MAX_CLASSES.
 * Regression: nothing to do. Returns HPS_OK, HPS_ECORRUPT, HPS_EIO or HPS_ENOMEM.
 */
int hps_ds_scan_labels(hps_ds *ds, char *err, size_t errlen);

/*
 * Read rows [start, start + count) of a split into X[count x d] and y[count]
 * (int32 labels or float32 targets; either may be NULL to skip it) and check
 * every value (finite features and targets, labels in [0, classes)). Returns
 * HPS_OK, HPS_EIO (HDF5 read failed) or HPS_ECORRUPT (a bad value, row named).
 */
int hps_ds_read(hps_ds *ds, int split, int64_t start, int64_t count, float *X, void *y,
                char *err, size_t errlen);

/*
 * The same for count rows listed in strictly increasing order in rows[]: row
 * rows[i] lands at position i. Consecutive rows are read as one run.
 */
int hps_ds_read_sorted(hps_ds *ds, int split, const int64_t *rows, int64_t count, float *X,
                       void *y, char *err, size_t errlen);

#endif
