/*
 * `hpsweep run` and `hpsweep resume`: the ranks and their roles.
 *
 * Rank 0 does all file work (config, sweep directory, lock, journal) and then
 * broadcasts a verdict: on failure every rank exits with the same code and
 * nothing was written. On success it broadcasts the sweep's YAML (the recorded
 * one on resume) and seed; every rank parses it, the workers form trial groups
 * and serve, rank 0 coordinates. Without an MPI launcher (no mpirun/srun
 * variables in the environment) hpsweep runs serially without initialising MPI.
 */
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "coord/coord.h"
#include "hpsweep/error.h"
#include "provenance.h"
#include "run.h"
#include "store/store.h"
#include "wire/mpi.h"
#include "workers/gpus.h"
#include "workers/spawner.h"
#include "workers/trial.h"
#include "workers/worker.h"

/* OpenBLAS's own API (its cblas.h would clash with GSL's). */
void openblas_set_num_threads(int num_threads);

static volatile sig_atomic_t g_signalled;
static volatile sig_atomic_t g_starting = 1;

/*
 * Running, a signal is a request: stop dispatching, journal the running trials as
 * interrupted, exit 75. Starting up (reading the config, replaying or salvaging
 * the journal, forming groups) there is no trial to stop and nothing a kill could
 * leave half-done (each step is crash-safe), so SIGTERM and SIGINT end the process
 * at once, the way they end any program; a long read can no longer ignore them.
 * SIGUSR1 (a batch system's early warning) is kept for the coordinator, which
 * then stops as soon as it starts, with exit 75.
 */
static void on_signal(int sig)
{
    if (g_starting && sig != SIGUSR1) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_signalled = sig;
}

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return HPS_EIO;
    return HPS_OK;
}

/* Was this process started by an MPI launcher? */
static int under_mpi(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
                          "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

/* ---- all ranks ------------------------------------------------------------------ */

/* Distinct processor names over all ranks, comma-separated (rank 0's result). */
static char *gather_hosts(int use_mpi, int rank, int size)
{
    char name[MPI_MAX_PROCESSOR_NAME + 1] = "";
    int len = 0;
    if (use_mpi) {
        mpiCheck(MPI_Get_processor_name(name, &len));
    } else if (gethostname(name, sizeof name - 1) != 0) {
        snprintf(name, sizeof name, "unknown");
    }
    name[MPI_MAX_PROCESSOR_NAME] = '\0';
    char *all = NULL;
    if (rank == 0) {
        all = calloc((size_t)size, MPI_MAX_PROCESSOR_NAME + 1);
        if (!all)
            hps_mpi_fail(MPI_ERR_NO_MEM, "gathering host names", __FILE__, __LINE__);
    }
    if (use_mpi)
        mpiCheck(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME + 1, MPI_CHAR, all,
                            MPI_MAX_PROCESSOR_NAME + 1, MPI_CHAR, 0, MPI_COMM_WORLD));
    else
        memcpy(all, name, sizeof name);
    if (rank != 0)
        return NULL;
    size_t cap = (size_t)size * (MPI_MAX_PROCESSOR_NAME + 2) + 1;
    char *out = calloc(cap, 1);
    if (!out)
        hps_mpi_fail(MPI_ERR_NO_MEM, "gathering host names", __FILE__, __LINE__);
    for (int i = 0; i < size; i++) {
        const char *h = all + (size_t)i * (MPI_MAX_PROCESSOR_NAME + 1);
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp(h, all + (size_t)k * (MPI_MAX_PROCESSOR_NAME + 1)) == 0;
        if (!seen) {
            if (out[0])
                strcat(out, ",");
            strcat(out, h);
        }
    }
    free(all);
    return out;
}

/* Rank 0's verdict, the sweep's YAML and the sweep directory (absolute), to every
 * rank. Workers parse the YAML into cfg and get the directory in dir. */
static int share_config(int use_mpi, int rank, int verdict, const hps_sweep *s, hps_config *cfg,
                        char *dir, size_t dirlen)
{
    if (!use_mpi)
        return verdict;
    int ok = rank == 0 && verdict == 0;
    uint32_t hdr[4] = {(uint32_t)verdict, ok ? (uint32_t)s->cfg.text_len : 0,
                       rank == 0 ? (uint32_t)strlen(dir) + 1 : 0,
                       ok ? (uint32_t)strlen(s->cfg.source) + 1 : 0};
    mpiCheck(MPI_Bcast(hdr, 4, MPI_UINT32_T, 0, MPI_COMM_WORLD));
    if (hdr[0] != 0)
        return (int)hdr[0];
    if (hdr[2] > dirlen)
        hps_mpi_fail(MPI_ERR_TRUNCATE, "receiving the sweep directory", __FILE__, __LINE__);
    mpiCheck(MPI_Bcast(dir, (int)hdr[2], MPI_CHAR, 0, MPI_COMM_WORLD));
    /* The config's path: workers resolve `workdir` against it exactly as rank 0 did. */
    char *source = rank == 0 ? s->cfg.source : malloc(hdr[3]);
    if (!source)
        hps_mpi_fail(MPI_ERR_NO_MEM, "receiving the config path", __FILE__, __LINE__);
    mpiCheck(MPI_Bcast(source, (int)hdr[3], MPI_CHAR, 0, MPI_COMM_WORLD));
    char *text = rank == 0 ? s->cfg.text : malloc(hdr[1] + 1);
    if (!text)
        hps_mpi_fail(MPI_ERR_NO_MEM, "receiving the config", __FILE__, __LINE__);
    mpiCheck(MPI_Bcast(text, (int)hdr[1], MPI_CHAR, 0, MPI_COMM_WORLD));
    if (rank != 0) {
        char err[1024];
        int rc = hps_config_parse(text, hdr[1], source, cfg, err, sizeof err);
        free(text);
        free(source);
        if (rc != HPS_OK) {
            fprintf(stderr, "hpsweep: rank %d cannot parse the sweep config: %s\n", rank, err);
            MPI_Abort(MPI_COMM_WORLD, HPS_EXIT_ERROR);
        }
    }
    return 0;
}

/* CUDA_VISIBLE_DEVICES for this rank: group leaders on a node are numbered in
 * rank order and each gets gpus_per_trial GPUs. NULL when there are none to give
 * (or this rank runs no trials). */
static char *assign_gpus(int use_mpi, int rank, int size, MPI_Comm group, int per_trial,
                         int *wrapped)
{
    /* Who runs trials: group leaders, or rank 0 itself when it has no workers. */
    int leader = rank == 0 && size == 1, index = 0;
    if (use_mpi) {
        if (group != MPI_COMM_NULL) {
            int grank;
            mpiCheck(MPI_Comm_rank(group, &grank));
            leader = grank == 0;
        }
        MPI_Comm node;
        int nrank, nsize;
        mpiCheck(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL,
                                     &node));
        mpiCheck(MPI_Comm_rank(node, &nrank));
        mpiCheck(MPI_Comm_size(node, &nsize));
        int *flags = malloc(sizeof(int) * (size_t)nsize);
        if (!flags)
            hps_mpi_fail(MPI_ERR_NO_MEM, "assigning GPUs", __FILE__, __LINE__);
        mpiCheck(MPI_Allgather(&leader, 1, MPI_INT, flags, 1, MPI_INT, node));
        for (int i = 0; i < nrank; i++)
            index += flags[i];
        free(flags);
        mpiCheck(MPI_Comm_free(&node));
    }
    if (!leader)
        return NULL;
    return hps_gpu_list(index, per_trial, hps_gpu_count(), wrapped);
}

/* What every rank knows once rank 0 has shared the sweep. */
typedef struct rank_env {
    int use_mpi, rank, size;
    hps_spawner *spawner;
    const hps_config *cfg;          /* rank 0: the sweep's; workers: worker_cfg */
    char sweep_dir[HPS_PATH_MAX];   /* absolute */
    int rpt, n_groups;              /* ranks per trial, trial groups */
    MPI_Comm group;                 /* this rank's trial group (MPI_COMM_NULL: none) */
    char *gpus;                     /* this rank's CUDA_VISIBLE_DEVICES, or NULL */
    char *hosts;                    /* rank 0: every rank's host */
} rank_env;

static int trial_runner(void *runner, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                        hps_outcome *out)
{
    return hps_trial_run(runner, spec, hooks, out);
}

/* Open this rank's objective; a failure is fatal to the job (every rank runs the
 * same one, so all fail alike). */
static void open_objective(const rank_env *e, const char *config_dir, int grank, int gsize,
                           hps_objective *o)
{
    hps_objective_runtime rt = {.spawner = e->spawner, .sweep_dir = e->sweep_dir,
                                .config_dir = config_dir, .gpus = e->gpus,
                                .group_rank = grank, .group_size = gsize};
    char err[1024];
    if (hps_objective_open(o, &e->cfg->objective, &e->cfg->space, e->cfg->metric, &rt, err,
                           sizeof err) == HPS_OK)
        return;
    fprintf(stderr, "hpsweep: rank %d: %s\n", e->rank, err);
    if (e->use_mpi)
        MPI_Abort(MPI_COMM_WORLD, HPS_EXIT_USAGE);
    exit(HPS_EXIT_USAGE);
}

/* Rank 0: coordinate the groups (or, without workers, run trials itself). */
static int coordinate(const run_args *a, prepared *p, const rank_env *e, char **full_argv,
                      int full_argc)
{
    char err[4096] = "";
    if (e->size > 1 && (e->size - 1) % e->rpt != 0)
        fprintf(stderr, "hpsweep: warning: %d worker ranks do not fill groups of %d; %d "
                "rank%s stay idle\n", e->size - 1, e->rpt, (e->size - 1) % e->rpt,
                (e->size - 1) % e->rpt == 1 ? "" : "s");
    hps_transport *t = NULL;
    hps_objective local = {0};
    int rc;
    if (e->n_groups > 0) {
        int32_t *leaders = malloc(sizeof(int32_t) * (size_t)e->n_groups);
        if (!leaders)
            hps_mpi_fail(MPI_ERR_NO_MEM, "allocating groups", __FILE__, __LINE__);
        for (int g = 0; g < e->n_groups; g++)
            leaders[g] = 1 + g * e->rpt;
        rc = hps_transport_mpi_create(e->n_groups, leaders, &t);
        free(leaders);
    } else {
        open_objective(e, p->config_dir, 0, 1, &local);
        rc = hps_transport_inproc_create(trial_runner, &local, &g_signalled, &t);
    }
    if (rc != HPS_OK)
        hps_mpi_fail(MPI_ERR_NO_MEM, "making the transport", __FILE__, __LINE__);
    hps_provenance prov;
    hps_provenance_collect(&prov, full_argc, full_argv, p->config_dir, e->hosts, e->size, e->rpt,
                           e->spawner);
    hps_coord_opts o = {
        .h5_path = p->h5_path, .quiet = a->quiet, .tty = isatty(STDERR_FILENO),
        .signalled = &g_signalled, .provenance = prov.kv, .n_provenance = prov.n,
        .max_trials = p->max_trials, .max_time = p->max_time, .max_resource = p->max_resource,
        .parallelism = p->parallelism,
    };
    if (!a->quiet)
        fprintf(stderr, "hpsweep: sweep %s in %s: strategy %s, %d trial group%s, seed %llu\n",
                p->s.cfg.name, p->dir, p->s.cfg.strategy, e->n_groups,
                e->n_groups == 1 ? "" : "s", (unsigned long long)p->s.seed);
    rc = hps_coordinator_run(&p->s, p->j, t, &o, err, sizeof err);
    int code = HPS_EXIT_OK;
    if (rc == HPS_EINTR) {
        fprintf(stderr, "hpsweep: interrupted by signal %d; running trials were recorded "
                "as interrupted. Continue with: hpsweep resume %s\n", (int)g_signalled, p->dir);
        code = HPS_EXIT_INTERRUPTED;
    } else if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s\n", err[0] ? err : hps_strerror(rc));
        code = HPS_EXIT_ERROR;
    } else if (p->s.n_done == 0) {
        fprintf(stderr, "hpsweep: the sweep ended without one completed trial (%lld failed, "
                "%lld pruned): see `hpsweep trials %s` and the trials' stderr.log\n",
                (long long)p->s.n_failed, (long long)p->s.n_pruned, p->dir);
        code = HPS_EXIT_NO_RESULT;
    }
    hps_transport_destroy(t);
    hps_objective_close(&local);
    hps_provenance_free(&prov);
    return code;
}

/* A worker rank: serve its group's trials until the coordinator says stop. */
static void serve(const rank_env *e)
{
    int grank, gsize;
    mpiCheck(MPI_Comm_rank(e->group, &grank));
    mpiCheck(MPI_Comm_size(e->group, &gsize));
    hps_objective o;
    open_objective(e, NULL, grank, gsize, &o);
    hps_worker_run(&o, e->group, &g_signalled);
    hps_objective_close(&o);
}

/* Trial groups and GPUs, once every rank has the config. HPS_EXIT_OK, or
 * HPS_EXIT_USAGE when there are too few ranks for one group. */
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
    e->hosts = gather_hosts(e->use_mpi, e->rank, e->size);
    int my_group = e->rank == 0 ? -1 : (e->rank - 1) / e->rpt;
    if (e->use_mpi)
        mpiCheck(MPI_Comm_split(MPI_COMM_WORLD, my_group >= 0 && my_group < e->n_groups
                                ? my_group : MPI_UNDEFINED, e->rank, &e->group));
    int wrapped = 0;
    e->gpus = assign_gpus(e->use_mpi, e->rank, e->size, e->group,
                          e->cfg->objective.gpus_per_trial, &wrapped);
    if (wrapped)
        fprintf(stderr, "hpsweep: warning: rank %d: this node has fewer GPUs than its trial "
                "groups need (gpus_per_trial %d); groups share GPUs (%s)\n", e->rank,
                e->cfg->objective.gpus_per_trial, e->gpus);
    return HPS_EXIT_OK;
}

/* Set up the process before MPI: signals, the spawner (an MPI process never
 * forks), then MPI itself when a launcher started us. */
static int start_process(rank_env *e)
{
    e->use_mpi = under_mpi();
    e->size = 1;
    e->group = MPI_COMM_NULL;
    if (install_signals() != HPS_OK) {
        fprintf(stderr, "hpsweep: cannot install signal handlers: %s\n", strerror(errno));
        return HPS_EXIT_ERROR;
    }
    char serr[512];
    if (hps_spawner_start(&e->spawner, serr, sizeof serr) != HPS_OK) {
        fprintf(stderr, "hpsweep: cannot start the process spawner: %s\n", serr);
        return HPS_EXIT_ERROR;
    }
    if (e->use_mpi) {
        mpiCheck(MPI_Init(NULL, NULL));
        mpiCheck(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
        mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &e->rank));
        mpiCheck(MPI_Comm_size(MPI_COMM_WORLD, &e->size));
    }
    hps_store_quiet();
    /* GSL's default handler aborts; strategies check every return instead. */
    gsl_set_error_handler_off();
    /* The GP's matrices are small: OpenBLAS threads cost more than they give (and
     * spin on the cores the workers need). The user's variable wins. */
    if (!getenv("OPENBLAS_NUM_THREADS"))
        openblas_set_num_threads(1);
    return HPS_EXIT_OK;
}

/* Leave: ranks that finish early (idle ranks outside any group, workers after
 * STOP) wait without spinning (MPI_Finalize's own wait polls a core). */
static void end_process(rank_env *e)
{
    free(e->hosts);
    free(e->gpus);
    if (e->group != MPI_COMM_NULL)
        mpiCheck(MPI_Comm_free(&e->group));
    if (e->use_mpi) {
        MPI_Request req;
        int done;
        mpiCheck(MPI_Ibarrier(MPI_COMM_WORLD, &req));
        mpiCheck(hps_mpi_wait(&req, NULL, &done));
        mpiCheck(MPI_Finalize());
    }
    hps_spawner_stop(e->spawner);
}

static int run_main(const run_args *a, char **full_argv, int full_argc)
{
    rank_env e = {0};
    int code = start_process(&e);
    if (code != HPS_EXIT_OK)
        return code;
    prepared p;
    memset(&p, 0, sizeof p);
    p.lock_fd = -1;
    char err[4096] = "";
    if (e.rank == 0) {
        int rc = hps_prepare(a, &p, err, sizeof err);
        if (rc != HPS_OK) {
            fprintf(stderr, "hpsweep: %s\n", err);
            code = hps_prepare_exit(rc);
        } else if (!realpath(p.dir, e.sweep_dir)) {
            fprintf(stderr, "hpsweep: %s: %s\n", p.dir, strerror(errno));
            code = HPS_EXIT_ERROR;
        }
    }
    hps_config worker_cfg;
    memset(&worker_cfg, 0, sizeof worker_cfg);
    code = share_config(e.use_mpi, e.rank, code, &p.s, &worker_cfg, e.sweep_dir,
                        sizeof e.sweep_dir);
    e.cfg = e.rank == 0 ? &p.s.cfg : &worker_cfg;
    if (code == HPS_EXIT_OK)
        code = form_groups(&e);
    g_starting = 0; /* from here a signal stops the sweep cleanly (exit 75) */
    if (code == HPS_EXIT_OK && e.rank == 0)
        code = coordinate(a, &p, &e, full_argv, full_argc);
    else if (code == HPS_EXIT_OK && e.group != MPI_COMM_NULL)
        serve(&e);
    hps_prepared_free(&p);
    hps_config_free(&worker_cfg);
    end_process(&e);
    return code;
}

int hps_cli_run(int argc, char **argv, char **full_argv, int full_argc)
{
    if (hps_cli_wants_help(argc, argv)) {
        hps_run_usage(stdout, 0);
        return HPS_EXIT_OK;
    }
    run_args a;
    int rc = hps_run_parse_args(argc, argv, 0, &a);
    return rc != HPS_EXIT_OK ? rc : run_main(&a, full_argv, full_argc);
}

int hps_cli_resume(int argc, char **argv, char **full_argv, int full_argc)
{
    if (hps_cli_wants_help(argc, argv)) {
        hps_run_usage(stdout, 1);
        return HPS_EXIT_OK;
    }
    run_args a;
    int rc = hps_run_parse_args(argc, argv, 1, &a);
    return rc != HPS_EXIT_OK ? rc : run_main(&a, full_argv, full_argc);
}

int hps_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}
