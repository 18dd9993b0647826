/*
 * The trainer's compute backend: a const table of the few kernels the MLP is
 * built from (GEMM, fused bias + activation + dropout, fused activation-gradient
 * + mask + bias-gradient, the two losses, the optimiser step over the flat
 * parameter buffer) and the memory they run on. mlp.c composes them and never
 * touches the numbers itself, so the CUDA backend (cuBLAS plus a few element-wise
 * kernels, ops_cuda*.cu) implements this table over device memory while the
 * model, the flat buffer's layout, the data order and the checkpoints stay as
 * they are.
 *
 * A backend is opened once per trial (`open`: the CUDA backend's device, stream,
 * cuBLAS handle and scratch) and every entry takes that instance; the CPU
 * backend has none (NULL). Pointers documented as "backend memory" come from
 * `alloc`; host pointers are ordinary memory. Work is queued in order on the
 * instance: on a device the calls return before the kernels run, so nothing that
 * a step computes comes back to the host unless `to_host` asks for it -- the
 * loss sums and the non-finite flag stay in backend memory until the trial loop
 * reads them at its check points. Failures are sticky: the first one is kept
 * (code and message), later calls do nothing, and `status` reports it.
 *
 * An instance is used from the thread that opened it. The CPU backend
 * (hps_train_ops_cpu) is host memory throughout and is deterministic for a fixed
 * OpenBLAS thread count of 1; the CUDA backend is deterministic run to run on
 * one GPU model (no atomics in any sum; cuBLAS on one stream).
 */
#ifndef HPS_TRAINER_OPS_H
#define HPS_TRAINER_OPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HPS_TRAIN_OPS_VERSION 2

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

/* An open backend; the CPU backend's is NULL. */
typedef struct hps_backend hps_backend;

typedef struct hps_backend_cfg {
    int device;       /* the CUDA device ordinal (device backends) */
    int tf32;         /* 1: GEMMs may use TF32 tensor cores (device backends) */
    int64_t max_rows; /* the most rows any call will pass (scratch is sized for it) */
} hps_backend_cfg;

typedef struct hps_train_ops {
    int version; /* HPS_TRAIN_OPS_VERSION */
    const char *name;
    int host_memory; /* 1: backend memory is host memory (the copies are memcpy) */

    /*
     * Open an instance for cfg into *be. Returns HPS_OK, or HPS_ENOSYS (no usable
     * device), HPS_ENOMEM, HPS_EIO with the cause in err. close(NULL) is a no-op.
     */
    int (*open)(const hps_backend_cfg *cfg, hps_backend **be, char *err, size_t errlen);
    void (*close)(hps_backend *be);
    /*
     * Wait for the queued work and return the first failure since open (HPS_OK:
     * none), its message in err.
     */
    int (*status)(hps_backend *be, char *err, size_t errlen);
    /* The stream device work is queued on (a cudaStream_t), for device
     * collectives to join; NULL on host backends. */
    void *(*stream)(hps_backend *be);

    /* Backend memory: 64-byte aligned, zero-filled; NULL when out of memory;
     * free(be, NULL) is a no-op. */
    void *(*alloc)(hps_backend *be, size_t bytes);
    void (*free)(hps_backend *be, void *p);
    /* Host memory for staging batches (page-locked on a device, so copies from
     * it are asynchronous); NULL when out of memory; host_free(be, NULL) no-op. */
    void *(*host_alloc)(hps_backend *be, size_t bytes);
    void (*host_free)(hps_backend *be, void *p);
    /*
     * Queue a copy from host src to backend memory dst. src from host_alloc may
     * be read after the call returns: do not write it again before the
     * stage_wait of a stage_mark queued after the copy. Any other src may be
     * reused when the call returns.
     */
    void (*to_backend)(hps_backend *be, void *dst, const void *src, size_t bytes);
    /* Copy backend memory src to host dst after the queued work (this waits). */
    void (*to_host)(hps_backend *be, void *dst, const void *src, size_t bytes);
    /* Queue: set bytes of backend memory to zero. */
    void (*zero)(hps_backend *be, void *p, size_t bytes);
    /*
     * Staging slots 0 and 1: stage_mark(slot) marks the copies queued so far;
     * stage_wait(slot) returns once the copies before that slot's last mark have
     * read their host buffers (at once when there was no mark).
     */
    void (*stage_mark)(hps_backend *be, int slot);
    void (*stage_wait)(hps_backend *be, int slot);

    /*
     * Row-major C[m x n] = op(A) op(B) + beta C with op(X) = X or X^T
     * (CBLAS semantics, alpha = 1); all backend memory.
     */
    void (*gemm)(hps_backend *be, int trans_a, int trans_b, int m, int n, int k,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C,
                 int ldc);

    /*
     * Forward of a hidden layer, one pass: z[rows x n] += bias (in place, z keeps
     * the pre-activation), a = act(z) * mask. With drop->p > 0, mask[rows x n]
     * receives 0 or 1/(1-p) per unit (inverted dropout) keyed by layer; with
     * drop == NULL or p == 0 mask is not touched and no mask applies.
     */
    void (*bias_act)(hps_backend *be, float *z, float *a, float *mask, const float *bias,
                     int64_t rows, int n, int act, const hps_dropout *drop, int layer);

    /*
     * Backward of a hidden layer: dz = da * act'(z) * mask (mask NULL: none; dz
     * may alias da) and db[n] = column sums of dz (overwritten).
     */
    void (*act_back)(hps_backend *be, float *dz, const float *da, const float *z,
                     const float *mask, float *db, int64_t rows, int n, int act);

    /*
     * The output layer and the loss: logits[rows x n] += bias, then per row the
     * softmax cross-entropy against int32 labels (task classify; log-sum-exp in
     * double, argmax ties to the lowest index) or the squared error against
     * float32 targets (task regress, n == 1). sums (backend memory, 2 doubles):
     * sums[0] += the per-sample loss sum, sums[1] += the correct predictions.
     * When dlogits is not NULL it receives the per-sample gradients d loss /
     * d logit (p - onehot, or 2 (pred - y)) and dbias[n] their column sums.
     * labels: backend memory.
     */
    void (*loss)(hps_backend *be, float *logits, const float *bias, const void *labels,
                 int64_t rows, int n, int task, float *dlogits, float *dbias, double *sums);

    /*
     * The optimiser over the flat buffer of n floats: w, grad (sums over the
     * batch; scaled by s->grad_scale), m1 (sgd momentum / adam first moment),
     * m2 (adam second moment; unused by sgd). *bad (backend memory) is set to 1
     * when a gradient or a new weight is not finite (the step is still applied)
     * and left alone otherwise.
     */
    void (*optim)(hps_backend *be, const hps_optim_step *s, float *w, const float *grad,
                  float *m1, float *m2, int64_t n, int32_t *bad);
} hps_train_ops;

/* The CPU backend: OpenBLAS SGEMM and fused C loops. */
extern const hps_train_ops hps_train_ops_cpu;

/* The CUDA backend (ops_cuda.cu, ops_cuda_math.cu): cuBLAS SGEMM and CUDA kernels on one
 * stream. It lives in the GPU module, hpsweep-gpu.so, not in the program: reach it through
 * hps_gpu_load()->train (gpu.h) or hps_train_backend(). Defined only inside the module. */
extern const hps_train_ops hps_train_ops_cuda;

#ifdef __cplusplus
}
#endif

#endif
