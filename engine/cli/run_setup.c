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
 * Agreement. Each rank's setup may fail on its own (a plugin missing on one node,
 * an init() that fails on rank 3, too few GPUs on a node): every rank contributes
 * its verdict to one allreduce, so either all start the sweep or all leave with
 * exit status 2, and none waits for a peer that is gone.
 */
#include <libgen.h>
#include <limits.h>
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

/* This rank's index among the ranks of its node that take GPUs (collective). */
static int node_index(const rank_env *e, int takes)
{
    if (!e->use_mpi)
        return 0;
    MPI_Comm node;
    int nrank, nsize, index = 0;
    mpiCheck(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, e->rank, MPI_INFO_NULL,
                                 &node));
    mpiCheck(MPI_Comm_rank(node, &nrank));
    mpiCheck(MPI_Comm_size(node, &nsize));
    int *flags = malloc(sizeof(int) * (size_t)nsize);
    if (!flags)
        hps_mpi_fail(MPI_ERR_NO_MEM, "assigning GPUs", __FILE__, __LINE__);
    mpiCheck(MPI_Allgather(&takes, 1, MPI_INT, flags, 1, MPI_INT, node));
    for (int i = 0; i < nrank; i++)
        index += flags[i];
    free(flags);
    mpiCheck(MPI_Comm_free(&node));
    return index;
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
    int index = node_index(e, takes);
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
                                .group = &e->grt};
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
