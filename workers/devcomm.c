/*
 * CUDA device binding and the group's NCCL communicator (see devcomm.h). The
 * CUDA runtime and NCCL headers are plain C, so this file builds with the C
 * compiler; without HPS_HAVE_CUDA only the "no NCCL" answers remain.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devcomm.h"
#include "hpsweep/error.h"
#include "hpsweep/objective.h"

#if HPS_HAVE_CUDA

#include <cuda_runtime.h>
#include <nccl.h>

/* A CUDA or NCCL call failed: say which, where and on which rank, then end the job. */
static void gpu_fail(const hps_group *g, const char *call, const char *msg, const char *detail,
                     const char *file, int line)
{
    fprintf(stderr, "hpsweep: %s:%d: %s failed on rank %d (group rank %d of %d, device %d) on "
            "host %s: %s%s%s%s\n", file, line, call, g->world_rank, g->rank, g->size, g->device,
            g->host, msg, detail && *detail ? " (" : "", detail ? detail : "",
            detail && *detail ? ")" : "");
    fflush(stderr);
    if (g->mpi)
        MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

#define cudaCheck(g, call)                                                                         \
    do {                                                                                           \
        cudaError_t cuda_rc_ = (call);                                                             \
        if (cuda_rc_ != cudaSuccess)                                                               \
            gpu_fail((g), #call, cudaGetErrorString(cuda_rc_), NULL, __FILE__, __LINE__);          \
    } while (0)

#define ncclCheck(g, comm, call)                                                                   \
    do {                                                                                           \
        ncclResult_t nccl_rc_ = (call);                                                            \
        if (nccl_rc_ != ncclSuccess)                                                               \
            gpu_fail((g), #call, ncclGetErrorString(nccl_rc_), ncclGetLastError(comm),             \
                     __FILE__, __LINE__);                                                          \
    } while (0)

int hps_devcomm_built(void)
{
    return 1;
}

void hps_devcomm_bind(const hps_group *g)
{
    if (g->device >= 0)
        cudaCheck(g, cudaSetDevice(g->device));
}

void *hps_devcomm_nccl(hps_group *g)
{
    if (g->nccl_state != 0)
        return g->nccl;
    /* Every rank of the group must have a device, or none makes a communicator. */
    int missing = g->device < 0;
    hps_group_max(g, &missing, 1);
    if (missing) {
        g->nccl_state = -1;
        return NULL;
    }
    ncclUniqueId id;
    if (g->rank == 0)
        ncclCheck(g, NULL, ncclGetUniqueId(&id));
    hps_group_bcast(g, &id, (int)sizeof id);
    cudaCheck(g, cudaSetDevice(g->device));
    ncclComm_t comm;
    ncclCheck(g, NULL, ncclCommInitRank(&comm, g->size, id, g->rank));
    g->nccl = comm;
    g->nccl_state = 1;
    g->nccl_made++;
    return g->nccl;
}

int hps_devcomm_allreduce(hps_group *g, void *buf, size_t count, int type, void *stream,
                          int wait)
{
    ncclComm_t comm = hps_devcomm_nccl(g);
    if (!comm)
        return HPS_ENOSYS;
    ncclDataType_t t = type == HPS_FLOAT32 ? ncclFloat32 : ncclFloat64;
    cudaStream_t s = (cudaStream_t)stream;
    ncclCheck(g, comm, ncclAllReduce(buf, buf, count, t, ncclSum, comm, s));
    if (wait)
        cudaCheck(g, cudaStreamSynchronize(s));
    return HPS_OK;
}

void hps_devcomm_reset(hps_group *g)
{
    if (g->nccl) {
        ncclComm_t comm = g->nccl;
        g->nccl = NULL;
        ncclCheck(g, NULL, ncclCommAbort(comm));
    }
    g->nccl_state = 0;
}

void hps_devcomm_free(hps_group *g)
{
    if (g->nccl) {
        ncclComm_t comm = g->nccl;
        g->nccl = NULL;
        ncclCheck(g, NULL, ncclCommDestroy(comm));
    }
    g->nccl_state = 0;
}

#else /* no CUDA/NCCL in this build: the same calls, answering "none" */

int hps_devcomm_built(void)
{
    return 0;
}

void hps_devcomm_bind(const hps_group *g)
{
    (void)g;
}

void *hps_devcomm_nccl(hps_group *g)
{
    g->nccl_state = -1;
    return NULL;
}

int hps_devcomm_allreduce(hps_group *g, void *buf, size_t count, int type, void *stream,
                          int wait)
{
    (void)g;
    (void)buf;
    (void)count;
    (void)type;
    (void)stream;
    (void)wait;
    return HPS_ENOSYS;
}

void hps_devcomm_reset(hps_group *g)
{
    g->nccl_state = 0;
}

void hps_devcomm_free(hps_group *g)
{
    g->nccl_state = 0;
}

#endif
