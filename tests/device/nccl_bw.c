/*
 * NCCL per trial group on a GPU machine (run by tests/device/groups_check.sh;
 * built only with CUDA and NCCL). Under mpirun, ranks 0.. are split into groups
 * of G; each group makes its communicator through hpsweep's own bootstrap
 * (hps_group_init, hps_devcomm_nccl: unique id on group rank 0, MPI broadcast,
 * ncclCommInitRank on each rank's device), times it, sums a 256 MB float buffer
 * over the group with ncclAllReduce (out of place, 20 timed after 5 warm-ups),
 * checks the sum and hpsweep's own device sums (synchronous and on a stream, the
 * paths of hps_trial_allreduce and hps_trial_allreduce_async), then aborts the
 * communicator and makes it again as a failed trial makes the runner do.
 *
 *   mpirun -np N nccl_bw [G] [MB]      (default G = N, MB = 256)
 *
 * Prints per group: ranks, devices, comm creation ms, algorithm bandwidth
 * (bytes / time) and bus bandwidth (x 2(n-1)/n, nccl-tests' convention; 0 for
 * one rank, where an out-of-place allreduce is a device-to-device copy, so its
 * algorithm bandwidth is a copy's: read + write of the buffer per iteration).
 */
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>

#include "hpsweep/objective.h"
#include "wire/mpi.h"
#include "workers/devcomm.h"
#include "workers/gpus.h"
#include "workers/group.h"

#define CHECK(what, ok, msg)                                                                       \
    do {                                                                                           \
        if (!(ok)) {                                                                               \
            fprintf(stderr, "nccl_bw: %s:%d: %s failed: %s\n", __FILE__, __LINE__, what, msg);   \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)
#define cudaCheck(call)                                                                            \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        CHECK(#call, e_ == cudaSuccess, cudaGetErrorString(e_));                                   \
    } while (0)
#define ncclCheck(call)                                                                            \
    do {                                                                                           \
        ncclResult_t r_ = (call);                                                                  \
        CHECK(#call, r_ == ncclSuccess, ncclGetErrorString(r_));                                   \
    } while (0)

int main(int argc, char **argv)
{
    mpiCheck(MPI_Init(&argc, &argv));
    int rank, size;
    mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    mpiCheck(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int gsize = argc > 1 ? atoi(argv[1]) : size;
    size_t mb = argc > 2 ? (size_t)atol(argv[2]) : 256;
    if (gsize < 1 || size % gsize) {
        if (rank == 0)
            fprintf(stderr, "nccl_bw: %d ranks do not split into groups of %d\n", size, gsize);
        MPI_Finalize();
        return 2;
    }
    MPI_Comm c;
    mpiCheck(MPI_Comm_split(MPI_COMM_WORLD, rank / gsize, rank, &c));
    hps_group g;
    hps_group_init(&g, c, -1);
    int n_dev = 0;
    cudaCheck(cudaGetDeviceCount(&n_dev));
    g.device = hps_gpu_ordinal(g.local_rank, 1, n_dev);

    mpiCheck(MPI_Barrier(MPI_COMM_WORLD));
    double t0 = MPI_Wtime();
    ncclComm_t comm = hps_devcomm_nccl(&g);
    double t_comm = MPI_Wtime() - t0;
    CHECK("hps_devcomm_nccl", comm != NULL, "no communicator");

    size_t count = mb * 1024 * 1024 / sizeof(float);
    float *send, *recv;
    cudaCheck(cudaMalloc((void **)&send, count * sizeof(float)));
    cudaCheck(cudaMalloc((void **)&recv, count * sizeof(float)));
    float *host = malloc(count * sizeof(float));
    CHECK("malloc", host != NULL, "out of memory");
    for (size_t i = 0; i < count; i++)
        host[i] = 1.0f;
    cudaCheck(cudaMemcpy(send, host, count * sizeof(float), cudaMemcpyHostToDevice));
    for (int i = 0; i < 5; i++)
        ncclCheck(ncclAllReduce(send, recv, count, ncclFloat32, ncclSum, comm, 0));
    cudaCheck(cudaStreamSynchronize(0));
    mpiCheck(MPI_Barrier(g.comm));
    const int iters = 20;
    t0 = MPI_Wtime();
    for (int i = 0; i < iters; i++)
        ncclCheck(ncclAllReduce(send, recv, count, ncclFloat32, ncclSum, comm, 0));
    cudaCheck(cudaStreamSynchronize(0));
    double t = (MPI_Wtime() - t0) / iters;
    cudaCheck(cudaMemcpy(host, recv, sizeof(float) * 4, cudaMemcpyDeviceToHost));
    CHECK("the sum", host[0] == (float)gsize && host[3] == (float)gsize, "wrong value");
    /* hpsweep's own device sums (hps_trial_allreduce's and _async's path): the
     * group's sum of gsize is gsize * gsize, then summed once more on a stream. */
    CHECK("hps_devcomm_allreduce", hps_devcomm_allreduce(&g, recv, 4, HPS_FLOAT32, NULL, 1) == 0,
          "an error");
    cudaStream_t st;
    cudaCheck(cudaStreamCreate(&st));
    CHECK("hps_devcomm_allreduce (stream)",
          hps_devcomm_allreduce(&g, recv, 4, HPS_FLOAT32, st, 0) == 0, "an error");
    cudaCheck(cudaStreamSynchronize(st));
    cudaCheck(cudaStreamDestroy(st));
    cudaCheck(cudaMemcpy(host, recv, sizeof(float) * 4, cudaMemcpyDeviceToHost));
    CHECK("hpsweep's device sums", host[2] == (float)(gsize * gsize * gsize), "wrong value");
    double bytes = (double)count * sizeof(float);
    double alg = bytes / t / 1e9, bus = alg * 2.0 * (gsize - 1) / gsize;

    /* A failed trial: abort, then a fresh communicator works. */
    hps_devcomm_reset(&g);
    comm = hps_devcomm_nccl(&g);
    CHECK("re-making the communicator", comm != NULL, "none");
    ncclCheck(ncclAllReduce(send, recv, 16, ncclFloat32, ncclSum, comm, 0));
    cudaCheck(cudaStreamSynchronize(0));

    struct cudaDeviceProp prop;
    cudaCheck(cudaGetDeviceProperties(&prop, g.device));
    if (g.rank == 0)
        printf("group %d: %d rank%s, device %d (%s), comm %.1f ms, %zu MB allreduce %.3f ms, "
               "algbw %.1f GB/s, busbw %.1f GB/s, %d communicators made (abort + remake ok)\n",
               rank / gsize, gsize, gsize == 1 ? "" : "s", g.device, prop.name, t_comm * 1e3, mb,
               t * 1e3, alg, bus, g.nccl_made);
    fflush(stdout);
    free(host);
    cudaCheck(cudaFree(send));
    cudaCheck(cudaFree(recv));
    hps_group_free(&g);
    mpiCheck(MPI_Comm_free(&c));
    mpiCheck(MPI_Finalize());
    return 0;
}
