/*
 * OpenBLAS's thread pool, parked before any command starts (cli.h). The pthreads
 * build (Debian's default libopenblas0) starts one thread per core of the affinity
 * mask when it loads, before main, and each spins on sched_yield for about 0.1 s of
 * CPU before it sleeps: in every hpsweep process, those that never call BLAS
 * (`trials`, `status`) included, and in every rank of an mpirun, so that on a node
 * of N cores with N unbound ranks, N x (N - 1) threads spin while the ranks start.
 * The GP's matrices are small and the trainer asks for its own threads
 * (`threads`), so BLAS is set to one thread and the pool is shut down; OpenBLAS
 * starts it again by itself when a caller asks for more than one thread
 * (openblas_set_num_threads). A user's OPENBLAS_NUM_THREADS is their choice, and
 * the pool it made is left as it is.
 */
#include <stdlib.h>

#include "cli.h"

/* OpenBLAS's own calls; declared here so no OpenBLAS header is needed. The second
 * is exported but not in its headers (its fork handler calls it): the build checks
 * that it links (HPS_HAVE_BLAS_THREAD_SHUTDOWN). */
void openblas_set_num_threads(int num_threads);
#if HPS_HAVE_BLAS_THREAD_SHUTDOWN
int blas_thread_shutdown_(void);
#endif

void hps_cli_blas_start(void)
{
    if (getenv("OPENBLAS_NUM_THREADS"))
        return;
    openblas_set_num_threads(1); /* first: setting it on a shut pool starts it again */
#if HPS_HAVE_BLAS_THREAD_SHUTDOWN
    /* 0 always (it joins the threads it made); a pool that stayed would only spin
     * for its first 0.1 s, as before, so there is nothing to report */
    (void)blas_thread_shutdown_();
#endif
}
