/*
 * CUDA device binding and the group's NCCL communicator (see devcomm.h). The
 * CUDA and NCCL calls themselves are in the GPU module (hpsweep-gpu.so,
 * trainer/gpu.h), which the first call here that needs a GPU loads; this file
 * keeps the group's side (who has a device, the unique id's broadcast, when a
 * communicator is made, aborted or destroyed) and links no CUDA library.
 * Without HPS_HAVE_CUDA only the "no NCCL" answers remain.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devcomm.h"
#include "hpsweep/error.h"
#include "hpsweep/objective.h"
#include "trainer/gpu.h"

#if HPS_HAVE_CUDA

/* A CUDA or NCCL call failed, or the module could not be loaded: say so, where and
 * on which rank, then end the job. */
static void gpu_fail(const hps_group *g, const char *msg)
{
    fprintf(stderr, "hpsweep: rank %d (group rank %d of %d, device %d) on host %s: %s\n",
            g->world_rank, g->rank, g->size, g->device, g->host, msg);
    fflush(stderr);
    if (g->mpi)
        MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

/* The module's table, loaded on first use; a module that cannot be loaded ends the job. */
static const hps_gpu_ops *gpu(const hps_group *g)
{
    char err[2048];
    const hps_gpu_ops *ops = hps_gpu_load(err, sizeof err);
    if (!ops)
        gpu_fail(g, err);
    return ops;
}

/* Every module call goes through this: a failure ends the job with the module's message. */
#define gpuCheck(g, call)                                                                          \
    do {                                                                                           \
        char gpu_err_[1024] = "";                                                                  \
        if ((call) != HPS_OK)                                                                      \
            gpu_fail((g), gpu_err_);                                                               \
    } while (0)
#define GPU_ERR gpu_err_, sizeof gpu_err_

int hps_devcomm_built(void)
{
    return 1;
}

void hps_devcomm_bind(const hps_group *g)
{
    if (g->device >= 0)
        gpuCheck(g, gpu(g)->set_device(g->device, GPU_ERR));
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
    const hps_gpu_ops *ops = gpu(g);
    char id[4096]; /* an ncclUniqueId: 128 bytes in every NCCL 2 */
    if (ops->nccl_id_bytes > sizeof id) {
        char msg[128];
        snprintf(msg, sizeof msg, "the GPU module's NCCL unique id has %zu bytes, more than "
                 "the %zu this hpsweep keeps", ops->nccl_id_bytes, sizeof id);
        gpu_fail(g, msg);
    }
    if (g->rank == 0)
        gpuCheck(g, ops->nccl_unique_id(id, GPU_ERR));
    hps_group_bcast(g, id, (int)ops->nccl_id_bytes);
    void *comm = NULL;
    gpuCheck(g, ops->nccl_init(&comm, g->size, id, g->rank, g->device, GPU_ERR));
    g->nccl = comm;
    g->nccl_state = 1;
    g->nccl_made++;
    return g->nccl;
}

int hps_devcomm_allreduce(hps_group *g, void *buf, size_t count, int type, void *stream,
                          int wait)
{
    void *comm = hps_devcomm_nccl(g);
    if (!comm)
        return HPS_ENOSYS;
    gpuCheck(g, gpu(g)->nccl_allreduce(comm, buf, count, type, stream, wait, GPU_ERR));
    return HPS_OK;
}

void hps_devcomm_reset(hps_group *g)
{
    if (g->nccl) {
        void *comm = g->nccl;
        g->nccl = NULL;
        gpuCheck(g, gpu(g)->nccl_abort(comm, GPU_ERR));
    }
    g->nccl_state = 0;
}

void hps_devcomm_free(hps_group *g)
{
    if (g->nccl) {
        void *comm = g->nccl;
        g->nccl = NULL;
        gpuCheck(g, gpu(g)->nccl_destroy(comm, GPU_ERR));
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
