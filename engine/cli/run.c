/*
 * `hpsweep run` and `hpsweep resume`: the ranks and their roles.
 *
 * Rank 0 does all file work (config, sweep directory, lock, journal) and then
 * broadcasts a verdict: on failure every rank exits with the same code and
 * nothing was written. On success it broadcasts the sweep's YAML (the recorded
 * one on resume) and seed; every rank parses it, the workers form trial groups
 * and open the objective (run_setup.c: all ranks agree it opened everywhere
 * before anything runs), then serve, and rank 0 coordinates. Without an MPI
 * launcher (no mpirun/srun variables in the environment) hpsweep runs serially
 * without initialising MPI.
 */
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "coord/coord.h"
#include "hpsweep/error.h"
#include "provenance.h"
#include "run.h"
#include "store/store.h"
#include "wire/mpi.h"
#include "workers/spawner.h"
#include "workers/trial.h"
#include "workers/worker.h"

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

/* Every rank's host facts, to rank 0 (its result; NULL elsewhere): the first rank
 * on each node describes its host in full, the others only name it (provenance.h). */
static char *gather_host_facts(int use_mpi, int rank, int size, hps_spawner *spawner)
{
    char name[MPI_MAX_PROCESSOR_NAME + 1] = "";
    int len = 0, node_rank = 0;
    if (use_mpi) {
        mpiCheck(MPI_Get_processor_name(name, &len));
        MPI_Comm node;
        mpiCheck(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL,
                                     &node));
        mpiCheck(MPI_Comm_rank(node, &node_rank));
        mpiCheck(MPI_Comm_free(&node));
    } else if (gethostname(name, sizeof name - 1) != 0) {
        snprintf(name, sizeof name, "unknown");
    }
    name[MPI_MAX_PROCESSOR_NAME] = '\0';
    char *mine = hps_prov_host_facts(name, rank, node_rank == 0, spawner);
    if (!mine)
        hps_mpi_fail(MPI_ERR_NO_MEM, "describing this host", __FILE__, __LINE__);
    if (!use_mpi)
        return mine;
    int n = (int)strlen(mine), *counts = NULL, *displs = NULL, total = 0;
    char *all = NULL;
    if (rank == 0 && (!(counts = malloc(sizeof(int) * (size_t)size)) ||
                      !(displs = malloc(sizeof(int) * (size_t)size))))
        hps_mpi_fail(MPI_ERR_NO_MEM, "gathering host facts", __FILE__, __LINE__);
    mpiCheck(MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD));
    if (rank == 0) {
        for (int i = 0; i < size; i++) {
            displs[i] = total;
            total += counts[i];
        }
        if (!(all = malloc((size_t)total + 1)))
            hps_mpi_fail(MPI_ERR_NO_MEM, "gathering host facts", __FILE__, __LINE__);
    }
    mpiCheck(MPI_Gatherv(mine, n, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, MPI_COMM_WORLD));
    free(mine);
    free(counts);
    free(displs);
    if (all)
        all[total] = '\0';
    return all;
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

static int trial_runner(void *runner, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                        hps_outcome *out)
{
    return hps_trial_run(runner, spec, hooks, out);
}

/* The budget as words: "max_trials 100, max_time 1:00:00", or "none (grid: every point)". */
static void budget_words(const hps_rec_budget *g, char *buf, size_t len)
{
    char t[32];
    size_t off = 0;
    buf[0] = '\0';
    if (g->max_trials > 0)
        off += (size_t)snprintf(buf + off, len - off, "max_trials %lld", (long long)g->max_trials);
    if (g->max_time > 0 && off < len) {
        hps_format_duration(g->max_time, t, sizeof t);
        off += (size_t)snprintf(buf + off, len - off, "%smax_time %s per run", off ? ", " : "", t);
    }
    if (g->max_resource > 0 && off < len)
        off += (size_t)snprintf(buf + off, len - off, "%smax_resource %g", off ? ", " : "",
                                g->max_resource);
    if (off == 0)
        snprintf(buf, len, "until the strategy runs out");
}

/* The first line of a run: what starts (or what a resume restored and will re-run),
 * where, on what, with which budget. */
static void say_start(const prepared *p, const rank_env *e)
{
    const hps_sweep *s = &p->s;
    char where[64], budget[160];
    if (e->n_groups > 0)
        snprintf(where, sizeof where, "%d trial group%s of %d rank%s", e->n_groups,
                 e->n_groups == 1 ? "" : "s", e->rpt, e->rpt == 1 ? "" : "s");
    else
        snprintf(where, sizeof where, "serial (trials run in this process)");
    budget_words(&s->budget, budget, sizeof budget);
    if (p->fresh) {
        fprintf(stderr, "hpsweep: sweep %s in %s: strategy %s, %s, seed %llu; budget: %s\n",
                s->cfg.name, p->dir, s->cfg.strategy, where, (unsigned long long)s->seed,
                budget);
        return;
    }
    fprintf(stderr, "hpsweep: resuming sweep %s in %s: %lld trials recorded (%lld done, %lld "
            "failed, %lld pruned), %lld to re-run first with their seeds; strategy %s "
            "restored, %s, seed %llu; budget: %s\n", s->cfg.name, p->dir,
            (long long)s->n_trials, (long long)s->n_done, (long long)s->n_failed,
            (long long)s->n_pruned, (long long)p->n_rerun, s->cfg.strategy, where,
            (unsigned long long)s->seed, budget);
}

/* The directory of the sweep's config (the recorded one's on a plain resume, when
 * it still exists), for the user code's provenance; else fallback. */
static void config_dir_of(const hps_config *cfg, const char *fallback, char *out, size_t len)
{
    char tmp[HPS_PATH_MAX];
    struct stat st;
    snprintf(tmp, sizeof tmp, "%s", cfg->source ? cfg->source : "");
    char *slash = strrchr(tmp, '/');
    if (slash && slash != tmp)
        *slash = '\0';
    if (slash && stat(tmp, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(out, len, "%s", tmp);
    else
        snprintf(out, len, "%s", fallback);
}

/* Rank 0: coordinate the groups (or, without workers, run trials itself). */
static int coordinate(const run_args *a, prepared *p, rank_env *e, char **full_argv,
                      int full_argc)
{
    char err[4096] = "";
    if (e->size > 1 && (e->size - 1) % e->rpt != 0)
        fprintf(stderr, "hpsweep: warning: %d worker ranks do not fill groups of %d; %d "
                "rank%s stay idle\n", e->size - 1, e->rpt, (e->size - 1) % e->rpt,
                (e->size - 1) % e->rpt == 1 ? "" : "s");
    hps_transport *t = NULL;
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
        rc = hps_transport_inproc_create(trial_runner, &e->obj, &g_signalled, &t);
    }
    if (rc != HPS_OK)
        hps_mpi_fail(MPI_ERR_NO_MEM, "making the transport", __FILE__, __LINE__);
    hps_prov prov = {0};
    char budget[160], user_dir[HPS_PATH_MAX];
    budget_words(&p->s.budget, budget, sizeof budget);
    config_dir_of(&p->s.cfg, p->config_dir, user_dir, sizeof user_dir);
    hps_prov_input in = {.argc = full_argc, .argv = full_argv, .cfg = &p->s.cfg,
                         .config_dir = user_dir, .ranks = e->size, .ranks_per_trial = e->rpt,
                         .budget = budget, .spawner = e->spawner, .host_facts = e->hosts};
    if (hps_provenance_collect(&prov, &in) != HPS_OK ||
        hps_trainer_provenance(&p->data, &prov) != HPS_OK)
        hps_mpi_fail(MPI_ERR_NO_MEM, "collecting provenance", __FILE__, __LINE__);
    hps_coord_opts o = {
        .h5_path = p->h5_path, .quiet = a->quiet, .tty = isatty(STDERR_FILENO),
        .signalled = &g_signalled, .provenance = &prov,
    };
    if (!a->quiet)
        say_start(p, e);
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
    hps_prov_free(&prov);
    return code;
}

/* A worker rank: serve its group's trials until the coordinator says stop. */
static void serve(rank_env *e)
{
    hps_worker_run(&e->obj, e->group, &g_signalled);
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
    /* OpenBLAS runs on one thread (the GP's matrices are small) unless the user's
     * OPENBLAS_NUM_THREADS says otherwise: main's hps_cli_blas_start */
    return HPS_EXIT_OK;
}

/* Leave: ranks that finish early (idle ranks outside any group, workers after
 * STOP) wait without spinning (MPI_Finalize's own wait polls a core). */
static void end_process(rank_env *e)
{
    hps_run_teardown(e);
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

static const char *exit_meaning(int code)
{
    switch (code) {
    case HPS_EXIT_INTERRUPTED:
        return "interrupted: resume it";
    case HPS_EXIT_USAGE:
        return "refused: nothing was written";
    case HPS_EXIT_NO_RESULT:
        return "no trial completed";
    case HPS_EXIT_DAMAGED:
        return "damaged data, nothing changed: see above";
    default:
        return "an error, said above";
    }
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
        run_args ra = *a;
        ra.ranks = e.size;
        int rc = hps_prepare(&ra, &p, err, sizeof err);
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
    if (code == HPS_EXIT_OK) {
        e.hosts = gather_host_facts(e.use_mpi, e.rank, e.size, e.spawner);
        code = hps_run_setup(&e);
        if (code != HPS_EXIT_OK && e.rank == 0)
            hps_prepare_abandon(&p); /* a new sweep that never ran leaves nothing behind */
    }
    g_starting = 0; /* from here a signal stops the sweep cleanly (exit 75) */
    if (code == HPS_EXIT_OK && e.rank == 0)
        code = coordinate(a, &p, &e, full_argv, full_argc);
    else if (code == HPS_EXIT_OK && e.group != MPI_COMM_NULL)
        serve(&e);
    if (e.rank == 0 && e.use_mpi && code != HPS_EXIT_OK)
        fprintf(stderr, "hpsweep: exit status %d (%s). Open MPI's mpirun may add that \"1 "
                "process returned a non-zero exit code\": that is this status, not a crash "
                "(mpirun -q leaves the note out)\n", code, exit_meaning(code));
    hps_prepared_free(&p);
    hps_config_free(&worker_cfg);
    end_process(&e);
    /* Rank 0 alone carries the job's status (it said why); the other ranks' 0 keeps
     * Open MPI from naming them too. */
    return e.rank == 0 ? code : HPS_EXIT_OK;
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
