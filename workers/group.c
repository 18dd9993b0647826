/*
 * Trial groups (see group.h): setting one up and the runner's collectives.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devcomm.h"
#include "group.h"
#include "wire/mpi.h"

static void own_host(hps_group *g)
{
    int len = 0;
    char name[MPI_MAX_PROCESSOR_NAME + 1] = "";
    if (g->mpi && MPI_Get_processor_name(name, &len) == MPI_SUCCESS && len > 0)
        name[len] = '\0';
    else if (gethostname(name, sizeof name - 1) != 0)
        strcpy(name, "unknown");
    name[sizeof name - 1] = '\0';
    snprintf(g->host, sizeof g->host, "%s", name);
}

void hps_group_init_solo(hps_group *g, int device)
{
    memset(g, 0, sizeof *g);
    int flag = 0;
    if (MPI_Initialized(&flag) != MPI_SUCCESS)
        flag = 0;
    g->mpi = flag;
    g->comm = MPI_COMM_NULL;
    g->user = flag ? MPI_COMM_SELF : MPI_COMM_NULL;
    g->size = g->local_size = 1;
    g->device = device;
    if (flag)
        mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &g->world_rank));
    own_host(g);
    memcpy(g->leader_host, g->host, sizeof g->host);
}

void hps_group_init(hps_group *g, MPI_Comm comm, int device)
{
    memset(g, 0, sizeof *g);
    g->mpi = 1;
    g->comm = comm;
    g->device = device;
    mpiCheck(MPI_Comm_rank(comm, &g->rank));
    mpiCheck(MPI_Comm_size(comm, &g->size));
    mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &g->world_rank));
    mpiCheck(MPI_Comm_dup(comm, &g->user));
    /* An objective that ignores an MPI error would train on garbage: its errors end
     * the job (resume recovers), as MPI's own default would. */
    mpiCheck(MPI_Comm_set_errhandler(g->user, MPI_ERRORS_ARE_FATAL));
    MPI_Comm node;
    mpiCheck(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, g->rank, MPI_INFO_NULL, &node));
    mpiCheck(MPI_Comm_rank(node, &g->local_rank));
    mpiCheck(MPI_Comm_size(node, &g->local_size));
    mpiCheck(MPI_Comm_free(&node));
    own_host(g);
    memcpy(g->leader_host, g->host, sizeof g->host);
    hps_group_bcast(g, g->leader_host, (int)sizeof g->leader_host);
}

void hps_group_free(hps_group *g)
{
    if (!g)
        return;
    hps_devcomm_free(g);
    if (g->comm != MPI_COMM_NULL && g->user != MPI_COMM_NULL)
        mpiCheck(MPI_Comm_free(&g->user));
    g->user = MPI_COMM_NULL;
    g->comm = MPI_COMM_NULL;
}

void hps_group_bcast(const hps_group *g, void *buf, int bytes)
{
    if (g->size <= 1 || bytes <= 0)
        return;
    MPI_Request req;
    int done;
    mpiCheck(MPI_Ibcast(buf, bytes, MPI_BYTE, 0, g->comm, &req));
    mpiCheck(hps_mpi_wait(&req, NULL, &done));
}

void hps_group_allgather(const hps_group *g, const void *mine, void *all, int bytes)
{
    if (g->size <= 1) {
        memmove(all, mine, (size_t)bytes);
        return;
    }
    MPI_Request req;
    int done;
    mpiCheck(MPI_Iallgather(mine, bytes, MPI_BYTE, all, bytes, MPI_BYTE, g->comm, &req));
    mpiCheck(hps_mpi_wait(&req, NULL, &done));
}

void hps_group_max(const hps_group *g, int *v, int n)
{
    if (g->size <= 1 || n <= 0)
        return;
    MPI_Request req;
    int done;
    mpiCheck(MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_INT, MPI_MAX, g->comm, &req));
    mpiCheck(hps_mpi_wait(&req, NULL, &done));
}

void hps_group_round_start(const hps_group *g, hps_group_round *r, const int *v, int n)
{
    r->n = n < HPS_ROUND_MAX ? n : HPS_ROUND_MAX;
    memcpy(r->in, v, sizeof(int) * (size_t)r->n);
    r->active = 1;
    if (g->size <= 1)
        return;
    mpiCheck(MPI_Iallreduce(r->in, r->out, r->n, MPI_INT, MPI_MAX, g->comm, &r->req));
}

int hps_group_round_test(const hps_group *g, hps_group_round *r)
{
    if (!r->active)
        return 0;
    int done = 1;
    if (g->size > 1)
        mpiCheck(MPI_Test(&r->req, &done, MPI_STATUS_IGNORE));
    else
        memcpy(r->out, r->in, sizeof(int) * (size_t)r->n);
    if (done)
        r->active = 0;
    return done;
}
