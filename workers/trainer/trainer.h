/*
 * The data-parallel MLP trainer: the engine of the built-in objective
 * `objective: {trainer: mlp, dataset: data.h5}`, as a self-contained library.
 *
 * Design in one page
 * ------------------
 * A trial trains a multi-layer perceptron (hidden_layers x hidden_units, relu |
 * tanh | gelu, optional dropout) on an HDF5 dataset (layout below) for `epochs`
 * epochs, data-parallel over a group of G ranks. The library never calls MPI:
 * the caller passes the group as an hps_train_comm whose allreduce callback sums
 * host floats in place, and hooks for reports and stop requests.
 *
 * Data order (independent of G). Epoch e (0-based) visits the N training rows in
 * the permutation perm_e drawn by Fisher-Yates from the counter-based hash of
 * (seed, e, i) (rng.h). Global step k takes positions [kB, min((k+1)B, N)) of
 * perm_e: the last, short batch is KEPT. Rank r of G computes positions
 * [floor(r b / G), floor((r+1) b / G)) of a batch of b rows, so every global step
 * sees the same samples for any G. Each rank sums the per-sample gradients of
 * its slice into one flat float buffer (every layer's weights then bias,
 * contiguous), one allreduce per step sums it over the group and the optimiser
 * divides by b: an uneven split is exact up to float summation order.
 * Dropout masks are a hash of (seed, epoch, training row index, layer, unit), so
 * they do not depend on G either. Validation splits /val into G contiguous
 * slices; loss sums and counts are summed with the same allreduce.
 *
 * Determinism. Same params (seed included) + same G + threads = 1 => bit-identical
 * weights and metrics on the CPU path. Another G changes only the order of float
 * sums (inside GEMM and across ranks): after 3 epochs of a small model the
 * weights of G = 1, 2, 3 differ by ~2e-7 and the metrics by ~1e-7 (test_train
 * asserts 1e-5 / 1e-6 for SGD, 1e-4 / 1e-5 for Adam); the gap grows slowly with
 * training, as any reordering of float sums does. OpenBLAS with threads > 1
 * splits GEMMs by the thread count and may not be bit-reproducible run to run.
 *
 * Checkpoints. After every epoch group rank 0 writes the checkpoint (weights,
 * optimiser state, epoch, step count, last metrics, the shape-defining params and
 * a SHA-256 over all of it) to "<path>.tmp", fsyncs it and renames it over path.
 * The data order and dropout are stateless functions of (seed, epoch), so that is
 * all the state a bit-identical continuation needs. Only group rank 0 reads or
 * writes the file; it sends the state to the other ranks through the allreduce.
 *
 * Dataset layout (HDF5, serial):
 *   /train/X  float32 [N, D]       /val/X  float32 [Nv, D]   (no NaN/Inf)
 *   /train/y  int32 [N] or [N, 1]: classification, classes = max label + 1 over
 *             train and val (or the int attribute `classes` of /train/y when
 *             present), labels in [0, classes), classes >= 2
 *          or float32 [N] or [N, 1]: regression (MSE loss, val_rmse)
 *   /val/y    same type as /train/y, Nv rows; N >= 1 and Nv >= 1.
 *
 * GPUs (params.device >= 0, builds with CUDA). The same model, data order,
 * dropout masks (the same rng.h functions), optimiser arithmetic and checkpoint
 * format run on the CUDA backend (ops_cuda*.cu): cuBLAS SGEMM (TF32 when
 * params.tf32) and CUDA kernels on one stream. That backend lives in the GPU
 * module, hpsweep-gpu.so, which the first run on a device loads (gpu.h); the
 * program itself links no CUDA library. The loader stays on the host; each
 * step's batch goes to the device through page-locked buffers with an
 * asynchronous copy, and the step -- forward, backward, the gradient allreduce,
 * the optimiser -- is queued without the host waiting for it. The group sums the
 * gradient buffer in place on the device with comm.allreduce_device (NCCL);
 * everything else the group shares still goes through comm.allreduce.
 *
 * Check points. Besides the gradient allreduce a step has no collective: the
 * group compares notes at check points -- every params.stop_every steps (where
 * should_stop is asked) and at the last step of each epoch. There every rank
 * reads its training-loss sum and its non-finite flag (on a device: the one
 * wait for the device in those steps), and one allreduce sums the loss and
 * carries each rank's failure. So a rank that fails (a bad row, a device error)
 * fails every rank at the next check point, a non-finite update is reported at
 * the check point after it ("nan-loss at epoch 3 (found at step 50 ...)"), and
 * until then a failed rank adds zero gradients. The CPU and CUDA paths share
 * this loop (train.c) line for line.
 *
 * Cross-backend results. The CUDA path trains the same model as the CPU path up
 * to the order of float sums (cuBLAS against OpenBLAS, fused multiply-adds, the
 * GPU's tanhf/erff/exp): a checkpoint of either resumes on the other
 * (the format is one), and tests/device/trainer_gpu.sh checks on a GPU that
 * the masks agree bit for bit and the losses after an epoch within 1e-3
 * relative. TF32 rounds GEMM inputs to 10 mantissa bits: it is off unless asked
 * for. On one GPU model the CUDA path is deterministic run to run.
 *
 * Thread safety: every function may run concurrently in several threads (the
 * tests run a group as threads); HDF5 must then be a thread-safe build, as
 * Debian's libhdf5 is. hps_train_run sets OpenBLAS's (process-wide) thread count.
 * A trial on a GPU makes params.device the calling thread's current device.
 */
#ifndef HPS_WORKERS_TRAINER_H
#define HPS_WORKERS_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the group and the hooks, supplied by the caller ------------------------------ */

typedef struct hps_train_comm {
    int rank, size; /* this rank's place in the trial group: 0 <= rank < size <= 4096 */
    /*
     * Sum n floats in place across the group (host memory); every rank calls it
     * with the same n at the same point. Returns 0, or non-zero on failure (an
     * HPS_E* code is passed through, anything else becomes HPS_EIO). May be NULL
     * when size == 1.
     */
    int (*allreduce)(void *ctx, float *buf, size_t n);
    void *ctx;
    /*
     * Appended for trials on a GPU; may be NULL otherwise (and for a group of
     * one, where it is never called). Sum n floats in place across the group in
     * device memory (buf is on params.device): every rank calls it once per
     * training step with the gradient buffer. stream is the trial's
     * cudaStream_t: the sum must be ordered on it -- queued there, as
     * ncclAllReduce(buf, buf, n, ncclFloat, ncclSum, comm, stream) does -- and
     * the call may return before it is done. Returns 0, or non-zero on failure
     * like allreduce. Receives the same ctx.
     */
    int (*allreduce_device)(void *ctx, float *buf, size_t n, void *stream);
} hps_train_comm;

typedef struct hps_train_hooks {
    /*
     * Group rank 0 only: one report per completed epoch. epoch counts epochs done
     * (1-based, cumulative across resumes); names/values hold n metrics, valid for
     * the call only: train_loss (the mean loss of the epoch's training samples as
     * the steps computed them: with dropout, before each step's update), val_loss
     * (mean loss on /val, no dropout), then val_accuracy (classification) or
     * val_rmse (regression: sqrt(val_loss)). Non-zero return fails the trial on
     * every rank. May be NULL.
     */
    int (*report)(void *ctx, int64_t epoch, int n, const char *const *names,
                  const double *values);
    /*
     * Collective: called on every rank at the same points (after every
     * params.stop_every steps inside an epoch and after each epoch but the last);
     * it must return the same answer on every rank (e.g. rank 0 decides and
     * broadcasts). Non-zero: stop now. May be NULL.
     */
    int (*should_stop)(void *ctx);
    void *ctx;
} hps_train_hooks;

/* ---- hyper-parameters --------------------------------------------------------------- */

typedef enum hps_train_activation {
    HPS_ACT_RELU = 0,
    HPS_ACT_TANH = 1,
    HPS_ACT_GELU = 2 /* exact: x * Phi(x) */
} hps_train_activation;

typedef enum hps_train_optimizer {
    HPS_OPT_SGD = 0,  /* momentum (PyTorch's form), optional Nesterov, L2 weight decay */
    HPS_OPT_ADAM = 1, /* L2 weight decay added to the gradient */
    HPS_OPT_ADAMW = 2 /* decoupled weight decay: w -= lr * wd * w */
} hps_train_optimizer;

typedef enum hps_train_schedule {
    HPS_LR_CONSTANT = 0,
    HPS_LR_COSINE = 1, /* from lr to 0 over schedule_epochs (after warm-up) */
    HPS_LR_STEP = 2    /* lr * step_gamma^floor(epoch / step_epochs) */
} hps_train_schedule;

/*
 * Every knob of a trial; hps_train_params_default() fills the defaults listed in
 * hps_train_param_table. Fields are public; check them with
 * hps_train_params_check() when set by hand.
 */
typedef struct hps_train_params {
    double learning_rate;   /* peak learning rate, > 0 */
    int64_t batch_size;     /* GLOBAL batch, split across the group */
    int hidden_layers;      /* 0 (a linear model) .. HPS_TRAIN_MAX_HIDDEN */
    int hidden_units;       /* units in every hidden layer */
    int activation;         /* hps_train_activation */
    int optimizer;          /* hps_train_optimizer */
    double momentum;        /* sgd: momentum in [0, 1) */
    int nesterov;           /* sgd: 1 = Nesterov momentum */
    double beta1, beta2;    /* adam/adamw moment decay rates */
    double adam_eps;        /* adam/adamw denominator epsilon */
    double weight_decay;    /* >= 0; applies to every parameter, biases too */
    double dropout;         /* drop probability on hidden activations, [0, 0.95] */
    int lr_schedule;        /* hps_train_schedule */
    double warmup_epochs;   /* linear warm-up from ~0 to lr over this many epochs */
    int64_t schedule_epochs; /* cosine horizon; 0 = epochs. Set it to the largest
                                budget when trials are promoted, so a continued run
                                follows the curve of one that never stopped */
    int64_t step_epochs;    /* step schedule: epochs between decays */
    double step_gamma;      /* step schedule: decay factor */
    int64_t epochs;         /* the target budget (cumulative epochs) */
    int64_t prev_epochs;    /* > 0: continue from the checkpoint (a promotion) */
    uint64_t seed;          /* the trial seed: init, data order, dropout */
    int threads;            /* OpenBLAS threads for this rank */
    int64_t stop_every;     /* should_stop every this many steps; 0 = per epoch only */
    int64_t cache_mb;       /* group of 1: keep /train in memory up to this size */
    int device;             /* -1: the CPU; >= 0: this CUDA device (builds with CUDA) */
    int tf32;               /* GPU: 1 = TF32 tensor-core GEMMs (faster, ~1e-3 relative) */
} hps_train_params;

#define HPS_TRAIN_MAX_HIDDEN 16
#define HPS_TRAIN_MAX_CLASSES 65536
#define HPS_TRAIN_MAX_GROUP 4096

/* Fill p with the defaults of hps_train_param_table. */
void hps_train_params_default(hps_train_params *p);

typedef enum hps_train_ptype {
    HPS_TRAIN_FLOAT = 0,
    HPS_TRAIN_INT = 1,
    HPS_TRAIN_CATEGORICAL = 2
} hps_train_ptype;

/* One settable parameter: what a sweep's space may name and the README prints. */
typedef struct hps_train_param_info {
    const char *name;
    hps_train_ptype type;
    double min, max;              /* FLOAT/INT: allowed closed range */
    const char *const *choices;   /* CATEGORICAL: NULL-terminated allowed values */
    const char *default_text;     /* the default as it would be written in YAML */
    const char *help;             /* one line */
    int tunable;                  /* 1: a hyper-parameter a space would search;
                                     0: a run control hpsweep sets (epochs,
                                     prev_epochs, seed) or a resource knob */
} hps_train_param_info;

/* The table, in a stable order; hps_train_n_params entries. */
extern const hps_train_param_info hps_train_param_table[];
extern const int hps_train_n_params;

/* The entry called name, or NULL. */
const hps_train_param_info *hps_train_param_find(const char *name);

/*
 * Set parameter `name` from text ("0.01", "relu", "true") or from a number (a
 * categorical takes the index of its choice; an integer must be whole). Returns
 * HPS_OK, or HPS_ECONFIG with a message in err (unknown name with a did-you-mean
 * suggestion, unparsable text, value out of range, unknown choice). p is left
 * unchanged on error. err may be NULL.
 */
int hps_train_params_set_text(hps_train_params *p, const char *name, const char *text,
                              char *err, size_t errlen);
int hps_train_params_set_number(hps_train_params *p, const char *name, double value,
                                char *err, size_t errlen);

/*
 * Check every field's range and the cross-field rules (prev_epochs <= epochs,
 * ...). Returns HPS_OK or HPS_ECONFIG with a message naming the parameter.
 */
int hps_train_params_check(const hps_train_params *p, char *err, size_t errlen);

/*
 * The learning rate at fractional epoch t (epochs done + fraction of the current
 * epoch's steps done): the schedule, times the linear warm-up factor
 * min(1, (t + 1/steps) / warmup_epochs) when warmup_epochs > 0 (so the first
 * step is not at lr 0). steps_per_epoch >= 1.
 */
double hps_train_lr(const hps_train_params *p, double t, int64_t steps_per_epoch);

/* ---- datasets ------------------------------------------------------------------------- */

typedef enum hps_train_task {
    HPS_TASK_CLASSIFY = 0,
    HPS_TASK_REGRESS = 1
} hps_train_task;

typedef struct hps_dataset_info {
    int64_t n_train, n_val; /* rows */
    int64_t features;       /* D */
    int task;               /* hps_train_task */
    int classes;            /* classification: >= 2; regression: 0 */
    char sha256[65];        /* hex digest of the whole file (hps_dataset_check only) */
} hps_dataset_info;

/*
 * Validate the whole dataset file at path without loading it at once (reads in
 * chunks of a few MiB): layout, types, shapes, no NaN/Inf, labels in range,
 * train/val agree; and compute the file's SHA-256. Every message names the file
 * and the dataset inside it ("data.h5: /train/X: expected 2-D float32, got 1-D
 * int32"). info may be NULL. Returns HPS_OK, HPS_ENOENT (no file), HPS_ECORRUPT
 * (not HDF5, or any layout/content rule broken), HPS_EIO or HPS_ENOMEM.
 */
int hps_dataset_check(const char *path, hps_dataset_info *info, char *err, size_t errlen);

/* Defaults of hps_dataset_synth (a value <= 0 selects them). */
#define HPS_SYNTH_SAMPLES 20000
#define HPS_SYNTH_FEATURES 32
#define HPS_SYNTH_CLASSES 5

/*
 * Write a deterministic synthetic classification dataset (in the manner of
 * scikit-learn's make_classification): 3 Gaussian clusters per class on the
 * vertices of a hypercube in the informative subspace, redundant features that
 * are random linear mixes of the informative ones, pure-noise features, 3% of
 * labels replaced by random ones; rows shuffled, 80% /train, 20% /val (at least
 * one row each), /train/y carries the attribute `classes`. Written to
 * "<path>.tmp" then renamed: on error nothing is left behind. samples >= 10,
 * features >= 2, classes in [2, 1000], or <= 0 for the defaults. Returns HPS_OK,
 * HPS_EINVAL, HPS_EIO or HPS_ENOMEM.
 */
int hps_dataset_synth(const char *path, int64_t samples, int features, int classes,
                      uint64_t seed, char *err, size_t errlen);

/*
 * 1 when the file at path was written by this version of hps_dataset_synth with
 * these arguments (<= 0: the defaults), i.e. it holds exactly what a new call would
 * write; 0 otherwise (no file, not HDF5, another generator, version or argument).
 * Reads the root attributes only; the data itself is for hps_dataset_check.
 */
int hps_dataset_synth_same(const char *path, int64_t samples, int features, int classes,
                           uint64_t seed);

/* ---- training ------------------------------------------------------------------------ */

#define HPS_TRAIN_MAX_METRICS 4

typedef struct hps_train_result {
    int64_t epochs_done;  /* cumulative epochs the weights have seen */
    int64_t start_epoch;  /* where this run started (checkpoint epoch, or 0) */
    int stopped;          /* should_stop ended the run before `epochs` */
    int reused;           /* the checkpoint already held `epochs`: nothing trained */
    int n_metrics;        /* 0 when no epoch completed (stopped in the first) */
    const char *names[HPS_TRAIN_MAX_METRICS];  /* static strings */
    double values[HPS_TRAIN_MAX_METRICS];      /* the last completed epoch's metrics */
    double train_seconds; /* wall time of the training steps alone (not identical
                             across runs; not a metric) */
    int64_t samples;      /* training samples processed by the group in this run */
} hps_train_result;

/*
 * Train a trial on this rank of the group. Every rank of the group calls it with
 * the same params and dataset. checkpoint_path (NULL: no checkpoint) is read and
 * written by group rank 0 only: when the file exists training continues from
 * the epoch it holds (a checkpoint that already holds `epochs` is reported again
 * and nothing trains); when it is missing and prev_epochs > 0 the trial fails.
 * result (caller-owned) is filled on every rank, identically but for
 * train_seconds. err receives the
 * cause of a failure ("nan-loss at epoch 3", "checkpoint.h5: hidden_units is
 * 128 in the checkpoint, 64 in the trial", ...); a rank that fails makes every
 * rank fail at the next collective point, the others with "rank R of G failed".
 * Returns HPS_OK (finished, or stopped: see result->stopped), HPS_ECONFIG (bad
 * params), HPS_ENOENT / HPS_ECORRUPT / HPS_EIO (dataset or checkpoint),
 * HPS_EMISMATCH (a checkpoint of another shape or seed), HPS_EVERSION,
 * HPS_EOBJECTIVE (nan-loss, or a hook returned non-zero), HPS_ENOMEM, or the
 * allreduce callback's error. params.device >= 0: HPS_ENOSYS when this build has
 * no CUDA, the GPU module cannot be loaded ("device 0 asks for a GPU: cannot
 * load the GPU module hpsweep-gpu.so (tried PATH: DLERROR; ...)") or the device
 * cannot be used ("CUDA device 1: cudaSetDevice(...) (ops_cuda.cu:LINE): invalid
 * device ordinal"), HPS_EINVAL when a group of
 * several ranks has no allreduce_device, HPS_EIO for a failure on the device
 * (the CUDA or cuBLAS call is named the same way).
 */
int hps_train_run(const hps_train_params *params, const char *dataset_path,
                  const hps_train_comm *comm, const hps_train_hooks *hooks,
                  const char *checkpoint_path, hps_train_result *result, char *err,
                  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
