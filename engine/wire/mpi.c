/*
 * MPI helpers (see mpi.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/grow.h"
#include "mpi.h"

void hps_mpi_fail(int rc, const char *what, const char *file, int line)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", rc);
    fprintf(stderr, "hpsweep: %s:%d: %s failed: %s\n", file, line, what, msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

void hps_mpi_recv(const MPI_Status *st, MPI_Comm comm, unsigned char **buf, size_t *cap, int *len)
{
    int n;
    mpiCheck(MPI_Get_count(st, MPI_BYTE, &n));
    size_t need = (size_t)n > 64 ? (size_t)n : 64;
    unsigned char *nb = hps_grow(*buf, cap, need, 1, 64);
    if (!nb)
        hps_mpi_fail(MPI_ERR_NO_MEM, "allocating a message buffer", __FILE__, __LINE__);
    *buf = nb;
    mpiCheck(MPI_Recv(*buf, n, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, comm, MPI_STATUS_IGNORE));
    *len = n;
}

int hps_mpi_wait(MPI_Request *req, volatile int *stop_flag, int *done)
{
    hps_backoff bo;
    hps_backoff_reset(&bo);
    *done = 0;
    for (;;) {
        int rc = MPI_Test(req, done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || *done)
            return rc;
        if (stop_flag && *stop_flag)
            return MPI_SUCCESS;
        hps_backoff_sleep(&bo);
    }
}
