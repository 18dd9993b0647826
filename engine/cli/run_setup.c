/*
 * From a shared config to ranks ready to run trials (see run.h): trial groups,
 * GPUs, each group's runtime and the objective on every rank that runs trials,
 * agreed by all ranks before the sweep starts.
 *
 * GPUs. The ranks of a node that run trial code are numbered in rank order and
 * each gets its own devices from the node's list (the job's CUDA_VISIBLE_DEVICES
 * when set, else every GPU the driver lists):
 *
 *   objective on every rank (a plugin, launch: group): every rank of every
 *     group, gpus_per_rank each (default 1 on a node with GPUs, else 0); too few
 *     on a node is an error unless share_gpus: true (then a warning). A command
 *     gets CUDA_VISIBLE_DEVICES; in-process code its device's ordinal.
 *   a command on the leader (launch: leader): the group leaders, gpus_per_trial
 *     each; too few are shared with a warning (the rule before groups trained).
 *
 * CPUs. Each rank that runs trials gets a share of its CPUs for in-process code
 * (the trainer's BLAS threads): the CPUs of its affinity mask over the trial ranks
 * of its node whose masks overlap it -- all of them when nothing binds the ranks,
 * itself alone when each is bound to its own cores -- and at least 1, so ranks x
 * threads never oversubscribe the cores the job was given.
 *
 * Agreement. Each rank's setup may fail on its own (a plugin missing on one node,
 * an init() that fails on rank 3, too few GPUs on a node): every rank contributes
 * its verdict to one allreduce, so either all start the sweep or all leave with
 * exit status 2, and none waits for a peer that is gone.
 */
#define _GNU_SOURCE /* sched_getaffinity and the CPU_* macros */
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hpsweep/error.h"
#include "run.h"
#include "wire/mpi.h"
#include "workers/gpus.h"

/* Trial groups: ranks 1..N-1 split into groups of ranks_per_trial. HPS_EXIT_OK, or
 * HPS_EXIT_USAGE when there are too few ranks for one group (alike on all ranks). */
static int form_groups(rank_env *e)
{
    e->rpt = e->cfg->ranks_per_trial > 0 ? e->cfg->ranks_per_trial : 1;
    e->n_groups = (e->size - 1) / e->rpt;
    if (e->size > 1 && e->n_groups == 0) {
        if (e->rank == 0)
            fprintf(stderr, "hpsweep: ranks_per_trial is %d but only %d worker rank%s: start "
                    "at least %d ranks\n", e->rpt, e->size - 1, e->size == 2 ? "" : "s",
                    e->rpt + 1);
        return HPS_EXIT_USAGE;
    }
    int my_group = e->rank == 0 ? -1 : (e->rank - 1) / e->rpt;
    if (e->use_mpi)
        mpiCheck(MPI_Comm_split(MPI_COMM_WORLD, my_group >= 0 && my_group < e->n_groups
                                ? my_group : MPI_UNDEFINED, e->rank, &e->group));
    e->runs_trials = e->group != MPI_COMM_NULL || (e->rank == 0 && e->n_groups == 0);
    return HPS_EXIT_OK;
}

/* What a rank tells the others of its node. */
typedef struct node_entry {
    int takes;      /* takes GPUs */
    int runs;       /* runs trials */
    cpu_set_t cpus; /* its affinity mask */
} node_entry;

/* This rank's affinity mask; every online CPU when it cannot be read. */
static void my_cpus(cpu_set_t *set)
{
    CPU_ZERO(set);
    if (sched_getaffinity(0, sizeof *set, set) == 0 && CPU_COUNT(set) > 0)
        return;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < (n > 0 ? n : 1) && c < CPU_SETSIZE; c++)
        CPU_SET((int)c, set);
}

/* This rank's place on its node (collective): its index among the node's ranks that
 * take GPUs, and its threads (see the top of this file). */
static void node_place(const rank_env *e, int takes, int *index, int *threads)
{
    node_entry me = {.takes = takes, .runs = e->runs_trials};
    my_cpus(&me.cpus);
    *index = 0;
    if (!e->use_mpi) {
        *threads = CPU_COUNT(&me.cpus);
        return;
    }
    MPI_Comm node;
    int nrank, nsize;
    mpiCheck(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, e->rank, MPI_INFO_NULL,
                                 &node));
    mpiCheck(MPI_Comm_rank(node, &nrank));
    mpiCheck(MPI_Comm_size(node, &nsize));
    node_entry *all = malloc(sizeof *all * (size_t)nsize);
    if (!all)
        hps_mpi_fail(MPI_ERR_NO_MEM, "placing ranks on their node", __FILE__, __LINE__);
    mpiCheck(MPI_Allgather(&me, (int)sizeof me, MPI_BYTE, all, (int)sizeof me, MPI_BYTE, node));
    int sharers = 0;
    for (int i = 0; i < nsize; i++) {
        if (i < nrank)
            *index += all[i].takes;
        cpu_set_t both;
        CPU_AND(&both, &me.cpus, &all[i].cpus);
        sharers += all[i].runs && CPU_COUNT(&both) > 0;
    }
    *threads = CPU_COUNT(&me.cpus) / (sharers > 0 ? sharers : 1);
    free(all);
    mpiCheck(MPI_Comm_free(&node));
}

/* e->gpus and e->device (see the top of this file). HPS_OK, or HPS_ECONFIG with
 * err filled when ranks would share GPUs without share_gpus. */
static int assign_gpus(rank_env *e, char *err, size_t errlen)
{
    const hps_objective_cfg *oc = &e->cfg->objective;
    int every = hps_objective_cfg_every_rank(oc);
    int count = hps_gpu_count();
    int per;
    int takes;
    if (every) {
        per = oc->gpus_per_rank >= 0 ? oc->gpus_per_rank : count > 0;
        takes = e->runs_trials;
    } else {
        per = oc->gpus_per_trial;
        int grank = 0;
        if (e->group != MPI_COMM_NULL)
            mpiCheck(MPI_Comm_rank(e->group, &grank));
        takes = e->runs_trials && grank == 0;
    }
    int index;
    node_place(e, takes, &index, &e->threads);
    if (e->threads < 1)
        e->threads = 1;
    e->device = -1;
    if (!takes)
        return HPS_OK;
    int wrapped = 0;
    e->gpus = hps_gpu_list(index, per, count, &wrapped);
    e->device = every ? hps_gpu_ordinal(index, per, count) : -1;
    if (!wrapped)
        return HPS_OK;
    if (every && !oc->share_gpus) {
        snprintf(err, errlen, "this node has %d GPU%s but its trial ranks need %d each "
                 "(objective.gpus_per_rank %d); two ranks would share one: set "
                 "objective.share_gpus: true to allow it, gpus_per_rank: 0 to use none, or "
                 "start fewer ranks per node", count, count == 1 ? "" : "s", per, per);
        return HPS_ECONFIG;
    }
    fprintf(stderr, "hpsweep: warning: rank %d: this node has fewer GPUs than its %s need "
            "(%s %d); they share GPUs (%s)\n", e->rank, every ? "trial ranks" : "trial groups",
            every ? "gpus_per_rank" : "gpus_per_trial", per, e->gpus);
    return HPS_OK;
}

/* The group runtime and the objective of a rank that runs trials. */
static int open_objective(rank_env *e, char *err, size_t errlen)
{
    char src[HPS_PATH_MAX];
    snprintf(src, sizeof src, "%s", e->cfg->source ? e->cfg->source : ".");
    snprintf(e->config_dir, sizeof e->config_dir, "%s", dirname(src));
    hps_objective_runtime rt = {.spawner = e->spawner, .sweep_dir = e->sweep_dir,
                                .config_dir = e->config_dir, .gpus = e->gpus,
                                .group_rank = e->grt.rank, .group_size = e->grt.size,
                                .group = &e->grt, .threads = e->threads};
    int rc = hps_objective_open(&e->obj, &e->cfg->objective, &e->cfg->space, e->cfg->metric,
                                &rt, err, errlen);
    e->obj_open = rc == HPS_OK;
    return rc;
}

int hps_run_setup(rank_env *e)
{
    int code = form_groups(e);
    if (code != HPS_EXIT_OK)
        return code;
    char err[2048] = "";
    int failed = assign_gpus(e, err, sizeof err) != HPS_OK;
    if (e->runs_trials) {
        if (e->group != MPI_COMM_NULL)
            hps_group_init(&e->grt, e->group, e->device);
        else
            hps_group_init_solo(&e->grt, e->device);
    }
    if (!failed && e->runs_trials)
        failed = open_objective(e, err, sizeof err) != HPS_OK;
    if (failed)
        fprintf(stderr, "hpsweep: rank %d (%s): %s\n", e->rank, e->runs_trials ? e->grt.host :
                "", err);
    int n_failed = failed, first = failed ? e->rank : INT_MAX;
    if (e->use_mpi) {
        mpiCheck(MPI_Allreduce(MPI_IN_PLACE, &n_failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
        mpiCheck(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    }
    if (n_failed == 0)
        return HPS_EXIT_OK;
    if (e->rank == 0 && !failed)
        fprintf(stderr, "hpsweep: %d rank%s could not start the objective (the first, rank %d, "
                "said why above); no trial ran\n", n_failed, n_failed == 1 ? "" : "s", first);
    return HPS_EXIT_USAGE;
}

void hps_run_teardown(rank_env *e)
{
    if (e->obj_open)
        hps_objective_close(&e->obj);
    e->obj_open = 0;
    if (e->runs_trials)
        hps_group_free(&e->grt);
    e->runs_trials = 0;
}
