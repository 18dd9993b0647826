/*
 * The worker loop: what every rank but the coordinator runs.
 *
 * Ranks 1..N-1 form trial groups of ranks_per_trial ranks (MPI_Comm_split); a
 * group's lowest rank is its leader. The leader receives batches of trials from
 * the coordinator, relays them to its group, evaluates them and sends one results
 * message per batch (engine/protocol.h). Waiting never spins a core.
 */
#ifndef HPS_WORKERS_WORKER_H
#define HPS_WORKERS_WORKER_H

#include <mpi.h>
#include <signal.h>

#include "engine/config.h"
#include "workers/spawner.h"

/* What a worker needs besides the config to run command trials. */
typedef struct hps_worker_env {
    hps_spawner *spawner;     /* forked before MPI_Init */
    const char *sweep_dir;    /* absolute */
    const char *gpus;         /* CUDA_VISIBLE_DEVICES for this worker, or NULL */
} hps_worker_env;

/*
 * Serve trials until the coordinator says stop. group is this rank's trial-group
 * communicator (rank 0 in it is the leader). signalled is set by the process's
 * SIGTERM/SIGINT/SIGUSR1 handler: a trial running then is abandoned and reported
 * INTERRUPTED. Returns HPS_OK; MPI errors abort the job (mpiCheck).
 */
int hps_worker_run(const hps_config *cfg, const hps_worker_env *we, MPI_Comm group,
                   volatile sig_atomic_t *signalled);

#endif
