/*
 * A trial group as each of its ranks sees it: the group's communicators, this
 * rank's place in the group and on its node, the leader's host, the CUDA device
 * this rank's in-process code uses, and the group's NCCL communicator (devcomm.h).
 *
 * Ranks 1..N-1 are split into groups of ranks_per_trial (engine/cli/run.c); a
 * rank that runs trials alone (serial mode, or rank 0 without workers) has a
 * group of one without a communicator. Two communicators, so the runner's own
 * traffic (batches relayed by the leader, the start and end of each trial,
 * should_stop answers) never meets an objective's:
 *
 *   comm  the runner's (the split of MPI_COMM_WORLD); MPI_COMM_NULL alone
 *   user  a duplicate of comm handed to objectives (hps_trial_mpi_comm);
 *         MPI_COMM_SELF alone under MPI, MPI_COMM_NULL without MPI
 *
 * The collectives here are the runner's: non-blocking ones waited on without
 * spinning (wire/mpi.h), since a rank waiting for its peers must not burn the
 * core they may be training on. MPI errors abort the job (mpiCheck).
 */
#ifndef HPS_WORKERS_GROUP_H
#define HPS_WORKERS_GROUP_H

#include <mpi.h>

#define HPS_HOST_MAX 256

typedef struct hps_group {
    MPI_Comm comm;                  /* the runner's; MPI_COMM_NULL for a group of one */
    MPI_Comm user;                  /* objectives' (see above) */
    int mpi;                        /* MPI is initialised in this process */
    int rank, size;                 /* this rank's place in the group */
    int local_rank, local_size;     /* among the group's ranks on this node */
    int world_rank;                 /* in MPI_COMM_WORLD (0 without MPI) */
    char host[HPS_HOST_MAX];        /* this rank's host name */
    char leader_host[HPS_HOST_MAX]; /* group rank 0's host name (MASTER_ADDR) */
    int device;                     /* CUDA device ordinal of this rank's in-process code;
                                       -1 without GPUs */
    void *nccl;                     /* ncclComm_t once made (devcomm.c); NULL before */
    int nccl_state;                 /* 0: not asked yet, 1: made, -1: none to be had */
    int nccl_made;                  /* communicators made so far (for tests and figures) */
} hps_group;

/*
 * Collective over comm (a communicator of the group's ranks, rank 0 the
 * leader; owned by the caller, not freed here): fill g, duplicate comm for
 * objectives, find each rank's place on its node and the leader's host.
 * device: this rank's CUDA ordinal (-1: none). Aborts the job on MPI errors.
 */
void hps_group_init(hps_group *g, MPI_Comm comm, int device);

/* A group of one (serial mode, rank 0 without workers); no MPI calls but
 * MPI_Initialized. */
void hps_group_init_solo(hps_group *g, int device);

/* Destroy the NCCL communicator and free the duplicate; NULL-safe. Collective
 * when the group has more than one rank. */
void hps_group_free(hps_group *g);

/* Broadcast bytes from group rank 0. No-op for a group of one. */
void hps_group_bcast(const hps_group *g, void *buf, int bytes);

/* Every rank's `bytes` bytes at mine, in group-rank order, into all (size *
 * bytes). A group of one copies. */
void hps_group_allgather(const hps_group *g, const void *mine, void *all, int bytes);

/* v[0..n) := the maximum over the group, element by element. */
void hps_group_max(const hps_group *g, int *v, int n);

/*
 * A maximum computed while the caller goes on with other work (an external
 * command's poll loop): start it, then test it each time round. At most one
 * in flight per group at a time, started in the same order on every rank.
 */
#define HPS_ROUND_MAX 4
typedef struct hps_group_round {
    MPI_Request req;
    int active;
    int n;
    int in[HPS_ROUND_MAX], out[HPS_ROUND_MAX];
} hps_group_round;

void hps_group_round_start(const hps_group *g, hps_group_round *r, const int *v, int n);

/* 1 once r->out holds the result (and r is no longer active), else 0. A group of
 * one completes at once. */
int hps_group_round_test(const hps_group *g, hps_group_round *r);

#endif
