/*
 * The trainer's compute backend: a const table of the few kernels the MLP is
 * built from (GEMM, fused bias + activation + dropout, fused activation-gradient
 * + mask + bias-gradient, the two losses, the optimiser step over the flat
 * parameter buffer) and the memory they run on. mlp.c composes them and never
 * touches the numbers itself, so another backend (CUDA: cuBLAS plus a few
 * element-wise kernels) implements this table over device memory and the model,
 * the flat buffer's layout, the data order and the checkpoints stay as they are.
 *
 * Pointers documented as "backend memory" come from ops->alloc; host pointers
 * are ordinary memory. The CPU backend (hps_train_ops_cpu) is host memory
 * throughout and is deterministic for a fixed OpenBLAS thread count of 1.
 */
#ifndef HPS_TRAINER_OPS_H
#define HPS_TRAINER_OPS_H

#include <stddef.h>
#include <stdint.h>

#define HPS_TRAIN_OPS_VERSION 1

/* What keys a dropout mask: unit u of row i in this layer is kept with
 * probability 1 - p, keyed by (seed, epoch, row_ids[i], layer, u) (rng.h). */
typedef struct hps_dropout {
    double p;          /* drop probability; 0: no dropout */
    uint64_t seed;
    int64_t epoch;
    const int64_t *row_ids; /* backend memory: global training row of each row */
} hps_dropout;

/* One optimiser step's settings (hps_train_params plus the step's values). */
typedef struct hps_optim_step {
    int kind;              /* hps_train_optimizer */
    float lr;              /* this step's learning rate */
    float grad_scale;      /* the gradient buffer holds sums: 1 / global batch */
    float momentum;        /* sgd */
    int nesterov;          /* sgd */
    float beta1, beta2, eps; /* adam/adamw */
    float weight_decay;
    int64_t t;             /* adam: this step's number, 1-based (bias correction) */
} hps_optim_step;

typedef struct hps_train_ops {
    int version; /* HPS_TRAIN_OPS_VERSION */
    const char *name;

    /* Backend memory: 64-byte aligned, zero-filled; free(NULL) is a no-op. */
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
    /* Copy bytes between host and backend memory (CPU: memcpy). */
    void (*to_backend)(void *dst, const void *src, size_t bytes);
    void (*to_host)(void *dst, const void *src, size_t bytes);
    /* Set bytes of backend memory to zero. */
    void (*zero)(void *p, size_t bytes);

    /*
     * Row-major C[m x n] = op(A) op(B) + beta C with op(X) = X or X^T
     * (CBLAS semantics, alpha = 1); all backend memory.
     */
    void (*gemm)(int trans_a, int trans_b, int m, int n, int k, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);

    /*
     * Forward of a hidden layer, one pass: z[rows x n] += bias (in place, z keeps
     * the pre-activation), a = act(z) * mask. With drop->p > 0, mask[rows x n]
     * receives 0 or 1/(1-p) per unit (inverted dropout) keyed by layer; with
     * drop == NULL or p == 0 mask is not touched and no mask applies.
     */
    void (*bias_act)(float *z, float *a, float *mask, const float *bias, int64_t rows,
                     int n, int act, const hps_dropout *drop, int layer);

    /*
     * Backward of a hidden layer, one pass: dz = da * act'(z) * mask (mask NULL:
     * none; dz may alias da) and db[n] = column sums of dz (overwritten).
     */
    void (*act_back)(float *dz, const float *da, const float *z, const float *mask,
                     float *db, int64_t rows, int n, int act);

    /*
     * The output layer and the loss: logits[rows x n] += bias, then per row the
     * softmax cross-entropy against int32 labels (task classify; log-sum-exp
     * stable, argmax ties to the lowest index) or the squared error against
     * float32 targets (task regress, n == 1). Adds the per-sample loss sum to
     * *loss_sum and the correct predictions to *correct (host). When dlogits is
     * not NULL it receives the per-sample gradients d loss / d logit (p - onehot,
     * or 2 (pred - y)) and dbias[n] their column sums. labels: backend memory.
     */
    void (*loss)(float *logits, const float *bias, const void *labels, int64_t rows, int n,
                 int task, float *dlogits, float *dbias, double *loss_sum,
                 int64_t *correct);

    /*
     * The optimiser over the flat buffer of n floats: w, grad (sums over the
     * batch; scaled by s->grad_scale), m1 (sgd momentum / adam first moment),
     * m2 (adam second moment; unused by sgd). Returns 1 when a gradient or a new
     * weight is not finite (the step is still applied), else 0.
     */
    int (*optim)(const hps_optim_step *s, float *w, const float *grad, float *m1, float *m2,
                 int64_t n);
} hps_train_ops;

/* The CPU backend: OpenBLAS SGEMM and fused C loops. */
extern const hps_train_ops hps_train_ops_cpu;

#endif
