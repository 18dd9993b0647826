/*
 * The GPU module: every call into the CUDA runtime, cuBLAS and NCCL lives in a
 * shared module, hpsweep-gpu.so (workers/gpu/module.c and the trainer's CUDA
 * backend, workers/trainer/ops_cuda*.cu), built only with the GPU path
 * (HPS_HAVE_CUDA). The hpsweep program links none of those libraries: it
 * dlopen()s the module the first time a GPU is actually needed -- a rank binds
 * its device, a trial group makes its NCCL communicator, the trainer opens its
 * CUDA backend -- and from then on calls it through the one const table below
 * (version first, fields only ever appended). So `hpsweep --version`, `best`,
 * `status` and every CPU-only sweep start without loading CUDA, and a binary
 * built where CUDA is found starts on a node without it.
 *
 * Where the module is looked for (hps_gpu_load), in order:
 *   1. $HPS_GPU_MODULE, when set and not empty: that file and no other;
 *   2. <directory of /proc/self/exe>/hpsweep-gpu.so (the build tree: CMake puts
 *      it next to the program);
 *   3. <directory of /proc/self/exe>/HPS_GPU_MODULE_RELDIR/hpsweep-gpu.so (the
 *      installed layout, <prefix>/lib/hpsweep/ beside <prefix>/bin/).
 * The module is self-contained: it calls nothing of the program (it needs none
 * of the symbols cmake/hpsweep.dynlist exports) and exports one symbol, the
 * table HPS_GPU_MODULE_SYMBOL. It is loaded once per process and never
 * unloaded.
 *
 * Errors: the module's entries return HPS_OK or an HPS_E* code and write the
 * failed call, its file and line and the library's message into err; they
 * never exit. Deciding what a failure ends is the caller's (devcomm.c ends the
 * job, the trainer fails the trial).
 */
#ifndef HPS_TRAINER_GPU_H
#define HPS_TRAINER_GPU_H

#include <stddef.h>

#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HPS_GPU_OPS_VERSION 1
#define HPS_GPU_MODULE_FILE "hpsweep-gpu.so"
#define HPS_GPU_MODULE_SYMBOL "hps_gpu_module_ops"
#define HPS_GPU_MODULE_ENV "HPS_GPU_MODULE"

typedef struct hps_gpu_ops {
    int version;       /* HPS_GPU_OPS_VERSION */
    const char *name;  /* "cuda" */
    /* The trainer's CUDA backend (ops_cuda.cu). */
    const hps_train_ops *train;
    /* cudaSetDevice(device) for the calling thread. */
    int (*set_device)(int device, char *err, size_t errlen);
    /* The size of an ncclUniqueId: what group rank 0 broadcasts. */
    size_t nccl_id_bytes;
    /* ncclGetUniqueId into id (nccl_id_bytes bytes). */
    int (*nccl_unique_id)(void *id, char *err, size_t errlen);
    /* cudaSetDevice(device), then ncclCommInitRank: *comm is an ncclComm_t. Collective. */
    int (*nccl_init)(void **comm, int nranks, const void *id, int rank, int device, char *err,
                     size_t errlen);
    /* In-place ncclAllReduce (sum) of count elements of type (HPS_FLOAT32 or
     * HPS_FLOAT64, hpsweep/objective.h) on stream (a cudaStream_t; NULL: the
     * default stream); with wait, cudaStreamSynchronize after. Collective. */
    int (*nccl_allreduce)(void *comm, void *buf, size_t count, int type, void *stream, int wait,
                          char *err, size_t errlen);
    /* ncclCommAbort / ncclCommDestroy. */
    int (*nccl_abort)(void *comm, char *err, size_t errlen);
    int (*nccl_destroy)(void *comm, char *err, size_t errlen);
} hps_gpu_ops;

/* 1 when this build has the GPU path (the module exists to be loaded), else 0. */
int hps_gpu_built(void);

/*
 * The module's table, loading the module on the first call (thread-safe; later
 * calls return the same table or the same failure). NULL on failure, with err
 * saying which paths were tried and dlopen's or dlsym's message, or that this
 * build has no GPU path. Checks the table's version and that every entry is set.
 */
const hps_gpu_ops *hps_gpu_load(char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
