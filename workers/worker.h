/*
 * The worker loop: what every rank but the coordinator runs.
 *
 * Ranks 1..N-1 form trial groups of ranks_per_trial ranks (MPI_Comm_split); a
 * group's lowest rank is its leader. The leader receives batches of trials from
 * the coordinator, relays them to its group, runs each through the one trial
 * runner (trial.h) and sends one RESULTS message per batch (wire/protocol.h).
 * For grouped objectives (HPS_OBJECTIVE_GROUP: plugins, launch: group) the other
 * ranks run the same trials in the same order, in step with the leader through
 * the runner; only the leader reports. Waiting never spins a core.
 */
#ifndef HPS_WORKERS_WORKER_H
#define HPS_WORKERS_WORKER_H

#include <mpi.h>
#include <signal.h>

#include "objective.h"

/*
 * Serve trials until the coordinator says stop. o is this rank's open objective;
 * group is this rank's trial-group communicator (rank 0 in it is the leader).
 * signalled is set by the process's SIGTERM/SIGINT/SIGUSR1 handler: a trial
 * running then is abandoned and reported INTERRUPTED. Returns HPS_OK; MPI errors
 * and a rank that cannot go on (its spawner gone) abort the job.
 */
int hps_worker_run(hps_objective *o, MPI_Comm group, volatile sig_atomic_t *signalled);

#endif
