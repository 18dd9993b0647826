/*
 * The CUDA and NCCL side of a trial group: binding a rank to its device and the
 * group's NCCL communicator.
 *
 * Compiled in every build, and linking no CUDA library: built with CUDA and NCCL
 * (HPS_HAVE_CUDA, found by the top CMakeLists), the CUDA and NCCL calls are made
 * through the GPU module, hpsweep-gpu.so (trainer/gpu.h), which the first call
 * here that needs a GPU (a bind to a device, a communicator) loads; a module
 * that cannot be loaded ends the job like a failed call, its message naming
 * the paths tried and dlopen's reason. The group's communicator is made the
 * way llm.c does it:
 * group rank 0 calls ncclGetUniqueId, broadcasts the id over the group's MPI
 * communicator, and every rank calls ncclCommInitRank on its own device. It is
 * made lazily, on the first call that needs it (collective: every rank of the
 * group makes the call at the same point), kept for later trials, aborted
 * (ncclCommAbort) when a trial fails, so a failed trial's half-done collectives
 * never reach the next trial, made again when next needed, and destroyed when
 * the group is freed. A group with a rank that has no device gets none (all its
 * ranks agree on that first). Without HPS_HAVE_CUDA the same calls answer "no
 * NCCL" (NULL, HPS_ENOSYS) and touch no GPU.
 *
 * Every CUDA and NCCL return code is checked (in the module); a failure prints
 * the call, its message, the rank (world and group), its device and the host, and ends the job
 * (MPI_Abort; exit(1) without MPI): a rank cannot leave a collective half done
 * without its peers hanging. A resumed sweep re-runs the trial (the README's
 * crash rule counts it).
 */
#ifndef HPS_WORKERS_DEVCOMM_H
#define HPS_WORKERS_DEVCOMM_H

#include <stddef.h>

#include "group.h"

/* 1 when built with CUDA and NCCL. */
int hps_devcomm_built(void);

/* Make g->device this thread's current CUDA device (cudaSetDevice) when it is
 * >= 0 and CUDA is built in; else nothing. */
void hps_devcomm_bind(const hps_group *g);

/* The group's ncclComm_t (made on first use; collective), or NULL without NCCL
 * or when a rank of the group has no device. */
void *hps_devcomm_nccl(hps_group *g);

/* Sum count elements of type (HPS_FLOAT32 or HPS_FLOAT64, hpsweep/objective.h)
 * at device pointer buf over the group, in place, with ncclAllReduce queued on
 * stream (a cudaStream_t; NULL: the default stream); with wait, synchronise the
 * stream before returning. HPS_OK, or HPS_ENOSYS without NCCL. Collective. */
int hps_devcomm_allreduce(hps_group *g, void *buf, size_t count, int type, void *stream,
                          int wait);

/* After a failed trial: abort the communicator (ncclCommAbort) so the next use
 * makes a fresh one. Called on every rank of the group alike. */
void hps_devcomm_reset(hps_group *g);

/* Destroy the communicator (ncclCommDestroy); called by hps_group_free(). */
void hps_devcomm_free(hps_group *g);

#endif
