/*
 * The MPI floor for bench/dispatch.sh: the round-trip time of a small message
 * between rank 0 and rank 1 (blocking MPI_Send/MPI_Recv, Open MPI's fastest
 * path, busy-polling). Prints "pingpong_rtt_us <value>".
 *
 *   mpirun -np 2 bench_pingpong [iterations]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire/mpi.h"

int main(int argc, char **argv)
{
    mpiCheck(MPI_Init(&argc, &argv));
    int rank, size;
    mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    mpiCheck(MPI_Comm_size(MPI_COMM_WORLD, &size));
    if (size < 2) {
        if (rank == 0)
            fprintf(stderr, "bench_pingpong: run with mpirun -np 2\n");
        MPI_Finalize();
        return 2;
    }
    long iters = argc > 1 ? atol(argv[1]) : 100000;
    char msg[64] = {0};
    for (int pass = 0; pass < 2; pass++) { /* pass 0 warms up */
        long n = pass == 0 ? iters / 10 : iters;
        mpiCheck(MPI_Barrier(MPI_COMM_WORLD));
        double t0 = MPI_Wtime();
        for (long i = 0; i < n; i++) {
            if (rank == 0) {
                mpiCheck(MPI_Send(msg, sizeof msg, MPI_BYTE, 1, 0, MPI_COMM_WORLD));
                mpiCheck(MPI_Recv(msg, sizeof msg, MPI_BYTE, 1, 0, MPI_COMM_WORLD,
                                  MPI_STATUS_IGNORE));
            } else if (rank == 1) {
                mpiCheck(MPI_Recv(msg, sizeof msg, MPI_BYTE, 0, 0, MPI_COMM_WORLD,
                                  MPI_STATUS_IGNORE));
                mpiCheck(MPI_Send(msg, sizeof msg, MPI_BYTE, 0, 0, MPI_COMM_WORLD));
            }
        }
        double dt = MPI_Wtime() - t0;
        if (pass == 1 && rank == 0)
            printf("pingpong_rtt_us %.3f\n", dt / (double)n * 1e6);
    }
    mpiCheck(MPI_Finalize());
    return 0;
}
