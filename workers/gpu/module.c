/*
 * The GPU module's entry (hpsweep-gpu.so; workers/trainer/gpu.h has the design):
 * the table the program dlopen()s and looks up, with the CUDA device binding
 * and the NCCL calls of a trial group's communicator behind it, and the
 * trainer's CUDA backend (workers/trainer/ops_cuda*.cu, linked into this
 * module). The group logic -- who has a device, the unique id's broadcast over
 * MPI, when a communicator is made, aborted or destroyed -- stays in the
 * program (workers/devcomm.c); here are only the CUDA and NCCL calls, each
 * checked, a failure written to err as the call, file, line and the library's
 * message. Nothing here exits, and nothing calls back into the program.
 *
 * Built with the module only (never part of libhpsweep.a), with every symbol
 * hidden but the table.
 */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>
#include <nccl.h>

#include "hpsweep/error.h"
#include "hpsweep/objective.h"
#include "trainer/gpu.h"
#include "trainer/ops.h"

static int cuda_failed(cudaError_t e, const char *call, int line, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "module.c:%d: %s failed: %s", line, call,
                 cudaGetErrorString(e));
    return e == cudaErrorNoDevice || e == cudaErrorInvalidDevice ||
                   e == cudaErrorInsufficientDriver
               ? HPS_ENOSYS
               : HPS_EIO;
}

static int nccl_failed(ncclResult_t r, ncclComm_t comm, const char *call, int line, char *err,
                       size_t errlen)
{
    const char *detail = ncclGetLastError(comm);
    if (err && errlen)
        snprintf(err, errlen, "module.c:%d: %s failed: %s%s%s%s", line, call,
                 ncclGetErrorString(r), detail && *detail ? " (" : "", detail ? detail : "",
                 detail && *detail ? ")" : "");
    return HPS_EIO;
}

#define cudaCheck(call)                                                                            \
    do {                                                                                           \
        cudaError_t cuda_rc_ = (call);                                                             \
        if (cuda_rc_ != cudaSuccess)                                                               \
            return cuda_failed(cuda_rc_, #call, __LINE__, err, errlen);                            \
    } while (0)

#define ncclCheck(comm, call)                                                                      \
    do {                                                                                           \
        ncclResult_t nccl_rc_ = (call);                                                            \
        if (nccl_rc_ != ncclSuccess)                                                               \
            return nccl_failed(nccl_rc_, (comm), #call, __LINE__, err, errlen);                    \
    } while (0)

static int gpu_set_device(int device, char *err, size_t errlen)
{
    cudaCheck(cudaSetDevice(device));
    return HPS_OK;
}

static int gpu_nccl_unique_id(void *id, char *err, size_t errlen)
{
    ncclCheck(NULL, ncclGetUniqueId((ncclUniqueId *)id));
    return HPS_OK;
}

static int gpu_nccl_init(void **comm, int nranks, const void *id, int rank, int device,
                         char *err, size_t errlen)
{
    *comm = NULL;
    ncclUniqueId uid;
    memcpy(&uid, id, sizeof uid);
    cudaCheck(cudaSetDevice(device));
    ncclComm_t c;
    ncclCheck(NULL, ncclCommInitRank(&c, nranks, uid, rank));
    *comm = c;
    return HPS_OK;
}

static int gpu_nccl_allreduce(void *comm, void *buf, size_t count, int type, void *stream,
                              int wait, char *err, size_t errlen)
{
    ncclComm_t c = comm;
    ncclDataType_t t = type == HPS_FLOAT32 ? ncclFloat32 : ncclFloat64;
    cudaStream_t s = (cudaStream_t)stream;
    ncclCheck(c, ncclAllReduce(buf, buf, count, t, ncclSum, c, s));
    if (wait)
        cudaCheck(cudaStreamSynchronize(s));
    return HPS_OK;
}

static int gpu_nccl_abort(void *comm, char *err, size_t errlen)
{
    ncclCheck(NULL, ncclCommAbort((ncclComm_t)comm));
    return HPS_OK;
}

static int gpu_nccl_destroy(void *comm, char *err, size_t errlen)
{
    ncclCheck(NULL, ncclCommDestroy((ncclComm_t)comm));
    return HPS_OK;
}

__attribute__((visibility("default"))) extern const hps_gpu_ops hps_gpu_module_ops;
const hps_gpu_ops hps_gpu_module_ops = {
    .version = HPS_GPU_OPS_VERSION,
    .name = "cuda",
    .train = &hps_train_ops_cuda,
    .set_device = gpu_set_device,
    .nccl_id_bytes = sizeof(ncclUniqueId),
    .nccl_unique_id = gpu_nccl_unique_id,
    .nccl_init = gpu_nccl_init,
    .nccl_allreduce = gpu_nccl_allreduce,
    .nccl_abort = gpu_nccl_abort,
    .nccl_destroy = gpu_nccl_destroy,
};
