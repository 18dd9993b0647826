/*
 * The MLP: its shape, the layout of the one flat parameter buffer, its
 * initialisation, and forward/backward over a batch of rows, composed from the
 * backend kernels of ops.h. Activations and gradients live in a workspace sized
 * once per trial for `cap` rows, so a training step allocates nothing.
 *
 * Flat buffer layout (parameters, gradients, optimiser moments and checkpoints
 * all share it): for each linear layer l = 0 .. n_lin-1, W_l as a row-major
 * [dims[l] x dims[l+1]] matrix (input-major: z = a W), then its bias
 * [dims[l+1]]; layers back to back, no padding.
 */
#ifndef HPS_TRAINER_MLP_H
#define HPS_TRAINER_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "trainer.h"

#define HPS_MLP_MAX_LIN (HPS_TRAIN_MAX_HIDDEN + 1)

typedef struct hps_mlp {
    const hps_train_ops *ops;   /* read-only after init */
    hps_backend *be;            /* the open backend the kernels run on (borrowed) */
    int n_lin;                  /* linear layers: hidden_layers + 1 */
    int dims[HPS_MLP_MAX_LIN + 1]; /* dims[0] = features, dims[n_lin] = outputs */
    int64_t w_off[HPS_MLP_MAX_LIN], b_off[HPS_MLP_MAX_LIN]; /* into the flat buffer */
    int64_t n_params;           /* floats in the flat buffer */
    int act;                    /* hps_train_activation */
    int task;                   /* hps_train_task */
    int64_t cap;                /* rows the workspace holds */

    /* Workspace, backend memory. The input the caller fills before a pass: */
    float *x;                   /* [cap x dims[0]] */
    void *y;                    /* [cap] int32 labels or float32 targets */
    int64_t *row_ids;           /* [cap] global training rows (dropout keys) */
    /* Internal: */
    float *z[HPS_MLP_MAX_LIN];  /* [cap x dims[l+1]] pre-activations; z[n_lin-1]: logits */
    float *a[HPS_MLP_MAX_LIN];  /* [cap x dims[l+1]] hidden activations (not the output) */
    float *mask[HPS_MLP_MAX_LIN]; /* [cap x dims[l+1]] dropout scales, hidden layers */
    float *d0, *d1;             /* [cap x max hidden/output dim] backward ping-pong */
} hps_mlp;

/*
 * Shape the model and allocate its workspace for cap rows. features >= 1,
 * hidden_layers in [0, HPS_TRAIN_MAX_HIDDEN], hidden_units >= 1, outputs =
 * classes (classification) or 1 (regression). Returns HPS_OK, HPS_EINVAL
 * (a dimension that does not fit an int, or a buffer over 2^31 floats per
 * GEMM operand) or HPS_ENOMEM. Free with hps_mlp_free (safe on a zeroed or
 * half-built model).
 */
int hps_mlp_init(hps_mlp *m, const hps_train_ops *ops, hps_backend *be, int64_t features,
                 int hidden_layers, int hidden_units, int outputs, int act, int task,
                 int64_t cap);
void hps_mlp_free(hps_mlp *m);

/*
 * Initial parameters from the seed into host memory w[n_params]: hidden layers
 * He-normal (relu, gelu: sd sqrt(2 / fan_in)) or Xavier-normal (tanh: sd
 * sqrt(2 / (fan_in + fan_out))), the output layer Xavier-normal, biases 0.
 */
void hps_mlp_init_params(const hps_mlp *m, uint64_t seed, float *w);

/*
 * Forward over the first `rows` (<= cap) rows of m->x / m->y, adding the sum of
 * the per-sample losses to sums[0] and the correct predictions (classification:
 * argmax == label) to sums[1] (backend memory, 2 doubles). drop: dropout for
 * training (NULL or p == 0: none; its row_ids is m->row_ids). When grad is not
 * NULL, backward too: grad [n_params] (backend memory) is overwritten with the
 * SUM over the rows of the per-sample gradients. rows == 0 leaves grad zeroed.
 * w: backend memory. Everything is queued on the backend: nothing waits.
 */
void hps_mlp_pass(hps_mlp *m, const float *w, int64_t rows, const hps_dropout *drop,
                  float *grad, double *sums);

#endif
