/*
 * What a trial group costs (bench/groups.sh runs it; not a test):
 *
 *   bootstrap  making a group (of 2 by default): MPI_Comm_split, then hps_group_init (the
 *              objectives' duplicate communicator, the node split, the leader's
 *              host) -- as a multiple of the bare MPI_Comm_split; and, built with
 *              CUDA and NCCL on a node with a GPU per rank, the group's NCCL
 *              communicator (hps_devcomm_nccl: unique id, broadcast,
 *              ncclCommInitRank)
 *   per trial  a no-op trial through the one runner (hps_trial_run) on a group
 *              (the leader's start broadcast and the outcome allgather; none for
 *              a group of one),
 *              with and without the attempt record a plugin trial writes, against
 *              the same no-op on a rank alone (the in-process `noop` path)
 *
 *   mpirun -np 2 bench_groups [trials] [group size]   (default 20000, 2; the ranks
 *                                                     must fill the groups)
 *
 * Prints one "name value" line per figure and the ratios.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "wire/mpi.h"
#include "workers/devcomm.h"
#include "workers/gpus.h"
#include "workers/group.h"
#include "workers/trial.h"

static int noop_run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    return hps_trial_set_result(ctx, 0.0);
}

static const hps_objective_ops grouped_noop = {.version = HPS_OBJECTIVE_VERSION,
                                               .name = "noop", .flags = HPS_OBJECTIVE_GROUP,
                                               .run = noop_run};
static const hps_objective_ops alone_noop = {.version = HPS_OBJECTIVE_VERSION, .name = "noop",
                                             .run = noop_run};

/* The slowest rank's mean, in microseconds. */
static double slowest_us(double seconds, long n)
{
    double per = seconds / (double)n * 1e6;
    mpiCheck(MPI_Allreduce(MPI_IN_PLACE, &per, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    return per;
}

/* Seconds for n trials on o (every rank of o's group runs them, in step). */
static double trials(hps_objective *o, long n)
{
    hps_param p = {.name = "x", .type = HPS_PARAM_FLOAT, .low = 0, .high = 1};
    static hps_space sp;
    sp = (hps_space){.n_params = 1, .params = &p};
    o->space = &sp;
    double x = 0.5;
    hps_outcome out;
    mpiCheck(MPI_Barrier(MPI_COMM_WORLD));
    double t0 = MPI_Wtime();
    for (long i = 0; i < n; i++) {
        hps_trial_spec spec = {.trial_id = i % 64, .seed = (uint64_t)i, .values = &x};
        if (hps_trial_run(o, &spec, NULL, &out) != HPS_OK || out.status != HPS_TRIAL_DONE)
            hps_mpi_fail(MPI_ERR_OTHER, "a no-op trial", __FILE__, __LINE__);
    }
    return MPI_Wtime() - t0;
}

static void objective(hps_objective *o, const hps_objective_ops *ops, hps_group *g,
                      const char *dir, int count)
{
    memset(o, 0, sizeof *o);
    o->ops = ops;
    o->metric = "objective";
    o->rt = (hps_objective_runtime){.sweep_dir = dir, .group_rank = g ? g->rank : 0,
                                    .group_size = g ? g->size : 1, .group = g};
    o->ctx.obj = o;
    o->count_crashes = count;
    o->crash_retries = 1;
}

int main(int argc, char **argv)
{
    mpiCheck(MPI_Init(&argc, &argv));
    int rank, size;
    mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    mpiCheck(MPI_Comm_size(MPI_COMM_WORLD, &size));
    long n = argc > 1 ? atol(argv[1]) : 20000;
    int gs = argc > 2 ? atoi(argv[2]) : 2;
    if (gs < 1 || size % gs || n < 10) {
        if (rank == 0)
            fprintf(stderr, "bench_groups: %d ranks do not fill groups of %d (mpirun -np 2 "
                    "bench_groups [trials >= 10] [group size])\n", size, gs);
        MPI_Finalize();
        return 2;
    }
    const int reps = 50;

    /* Bootstrap. */
    double t_split = 0, t_init = 0;
    for (int r = 0; r < reps; r++) {
        MPI_Comm c;
        hps_group g;
        mpiCheck(MPI_Barrier(MPI_COMM_WORLD));
        double t0 = MPI_Wtime();
        mpiCheck(MPI_Comm_split(MPI_COMM_WORLD, rank / gs, rank, &c));
        double t1 = MPI_Wtime();
        hps_group_init(&g, c, -1);
        double t2 = MPI_Wtime();
        t_split += t1 - t0;
        t_init += t2 - t1;
        hps_group_free(&g);
        mpiCheck(MPI_Comm_free(&c));
    }
    double split_us = slowest_us(t_split, reps), init_us = slowest_us(t_init, reps);

    MPI_Comm c;
    mpiCheck(MPI_Comm_split(MPI_COMM_WORLD, rank / gs, rank, &c));
    hps_group g;
    hps_group_init(&g, c, -1);
    /* NCCL: only with a device for every rank of this node. */
    int gpus = hps_gpu_count();
    int can = hps_devcomm_built() && gpus >= g.local_size;
    mpiCheck(MPI_Allreduce(MPI_IN_PLACE, &can, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    double nccl_us = -1;
    if (can) {
        g.device = hps_gpu_ordinal(g.local_rank, 1, gpus);
        double t = 0;
        for (int r = 0; r < 5; r++) {
            mpiCheck(MPI_Barrier(MPI_COMM_WORLD));
            double t0 = MPI_Wtime();
            if (!hps_devcomm_nccl(&g))
                hps_mpi_fail(MPI_ERR_OTHER, "making an NCCL communicator", __FILE__, __LINE__);
            t += MPI_Wtime() - t0;
            hps_devcomm_free(&g);
        }
        nccl_us = slowest_us(t, 5);
    }

    /* Per trial. */
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/hps-bench-groups-%d-XXXXXX", rank);
    if (!mkdtemp(dir))
        hps_mpi_fail(MPI_ERR_OTHER, "mkdtemp", __FILE__, __LINE__);
    hps_objective o;
    objective(&o, &alone_noop, NULL, dir, 0);
    trials(&o, n / 10); /* warm up */
    double alone = slowest_us(trials(&o, n), n);
    objective(&o, &grouped_noop, &g, dir, 0);
    trials(&o, n / 10);
    double grouped = slowest_us(trials(&o, n), n);
    objective(&o, &grouped_noop, &g, dir, 1);
    trials(&o, 64); /* the 64 trial directories exist already: time the record alone */
    double recorded = slowest_us(trials(&o, n / 10), n / 10);
    free(o.ctx.ends);

    if (rank == 0) {
        printf("ranks %d (groups of %d), %ld trials\n", size, gs, n);
        printf("group_bootstrap_us %.1f  (%.1fx a bare MPI_Comm_split of %.1f us)\n", init_us,
               init_us / split_us, split_us);
        if (nccl_us >= 0)
            printf("nccl_comm_us %.1f  (%.0fx the CPU bootstrap)\n", nccl_us, nccl_us / init_us);
        else
            printf("nccl_comm_us not measured: %s\n",
                   hps_devcomm_built() ? "no GPU for every rank" : "built without CUDA/NCCL");
        printf("trial_alone_us %.3f\n", alone);
        printf("trial_group%d_us %.2f  (%.0fx alone)\n", gs, grouped, grouped / alone);
        printf("trial_group%d_record_us %.2f  (%.0fx alone, %.1fx without the record)\n", gs,
               recorded, recorded / alone, recorded / grouped);
    }
    hps_group_free(&g);
    mpiCheck(MPI_Comm_free(&c));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_groups: could not remove %s\n", dir);
    mpiCheck(MPI_Finalize());
    return 0;
}
