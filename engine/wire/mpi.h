/*
 * MPI at the edges: the check macro every MPI call goes through, receiving a
 * probed message, and waiting on a request without spinning (Open MPI's blocking
 * calls poll a core; hpsweep's waits test, then back off: core/clock.h).
 */
#ifndef HPS_WIRE_MPI_H
#define HPS_WIRE_MPI_H

#include <mpi.h>
#include <stddef.h>

/* Report an MPI error (file, line, the call, MPI's message) and MPI_Abort. */
void hps_mpi_fail(int rc, const char *what, const char *file, int line);

#define mpiCheck(call)                                                                             \
    do {                                                                                           \
        int mpi_rc_ = (call);                                                                      \
        if (mpi_rc_ != MPI_SUCCESS)                                                                \
            hps_mpi_fail(mpi_rc_, #call, __FILE__, __LINE__);                                      \
    } while (0)

/*
 * Receive the message st describes (from MPI_Iprobe) into *buf, growing it (*cap
 * bytes; at least 64) as needed; *len gets its size. An allocation failure aborts
 * the job (a rank cannot go on without its messages).
 */
void hps_mpi_recv(const MPI_Status *st, MPI_Comm comm, unsigned char **buf, size_t *cap,
                  int *len);

/* Wait for req to complete without spinning. Returns the MPI error code. If
 * stop_flag becomes non-zero while waiting, returns MPI_SUCCESS with *done = 0. */
int hps_mpi_wait(MPI_Request *req, volatile int *stop_flag, int *done);

#endif
