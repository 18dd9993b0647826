/*
 * Batch staging: how a batch the host loader reads reaches the model's inputs
 * (m->x, m->y, m->row_ids) without the host waiting for the device each step.
 *
 * On a host-memory backend (CPU) the loader writes straight into the model's
 * inputs: nothing is copied. On a device backend there are two slots of
 * page-locked host buffers used in turn: the loader fills slot k while the
 * device may still be copying out of slot 1 - k, the copies of slot k are queued
 * on the backend's stream behind the previous step's kernels, and slot k is
 * filled again only once those copies have read it (stage_wait). The host thus
 * runs at most one batch ahead of the device, and waits only when it is.
 */
#ifndef HPS_TRAINER_STAGE_H
#define HPS_TRAINER_STAGE_H

#include <stdint.h>

#include "mlp.h"

typedef struct hps_stage {
    hps_mlp *m;            /* borrowed: the model whose inputs the batches go to */
    int direct;            /* host-memory backend: the loader fills m's inputs */
    int slot;              /* the slot the next batch goes to */
    float *x[2];           /* [cap x features] */
    void *y[2];            /* [cap] int32 labels or float32 targets */
    int64_t *row_ids[2];   /* [cap] */
} hps_stage;

/* The host buffers a batch is read into, from hps_stage_begin. */
typedef struct hps_stage_buf {
    float *x;
    void *y;
    int64_t *row_ids;
} hps_stage_buf;

/* Set up staging for m (its cap rows). Returns HPS_OK or HPS_ENOMEM. */
int hps_stage_init(hps_stage *st, hps_mlp *m);
void hps_stage_free(hps_stage *st); /* safe on a zeroed or half-built one */

/* The buffers to read the next batch into (waits until their last copies are done). */
hps_stage_buf hps_stage_begin(hps_stage *st);

/*
 * Queue the copies of the batch's first `rows` rows into the model's inputs (the
 * row ids too when with_ids) and move to the other slot.
 */
void hps_stage_end(hps_stage *st, int64_t rows, int with_ids);

#endif
