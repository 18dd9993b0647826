/*
 * `hpsweep run` and `hpsweep resume`: everything between the command line and
 * the coordinator/worker loops.
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
#include <libgen.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cli.h"
#include "engine/config.h"
#include "engine/coordinator.h"
#include "engine/protocol.h"
#include "engine/provenance.h"
#include "engine/seed.h"
#include "engine/sweepdir.h"
#include "hpsweep/error.h"
#include "workers/gpus.h"
#include "workers/spawner.h"
#include "workers/worker.h"

/* OpenBLAS's own API (its cblas.h would clash with GSL's). */
void openblas_set_num_threads(int num_threads);

static volatile sig_atomic_t g_signalled;

static void on_signal(int sig)
{
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

typedef struct run_args {
    int resume;             /* resume an existing sweep */
    const char *config;     /* run: the YAML; resume: optional --config */
    const char *dir;        /* resume: the sweep directory */
    const char *output;     /* --output override */
    int quiet;
    int64_t max_trials;     /* --max-trials override (0: none) */
    double max_time;        /* --max-time override (0: none) */
} run_args;

static void usage_run(FILE *f)
{
    fprintf(f,
            "usage: hpsweep run CONFIG.yaml [--resume] [--output DIR] [--max-trials N]\n"
            "                   [--max-time DURATION] [--quiet]\n"
            "       mpirun -np N hpsweep run CONFIG.yaml ...\n\n"
            "Run the sweep CONFIG describes into OUTPUT/NAME (default runs/NAME). Rank 0\n"
            "coordinates; the other ranks evaluate trials in groups of ranks_per_trial.\n"
            "Without mpirun the sweep runs serially and gives the same trials for the same\n"
            "seed.\n\n"
            "  --resume          if the directory already holds this sweep, continue it\n"
            "                    (the config must match the recorded one, budget aside)\n"
            "  --output DIR      parent directory of the sweep (overrides `output:`)\n"
            "  --max-trials N    override budget.max_trials\n"
            "  --max-time D      override budget.max_time (e.g. 90, 30s, 10m, 2h)\n"
            "  --quiet           no progress output\n\n"
            "Exit codes: 0 done, 1 error, 2 bad usage/config (nothing written),\n"
            "75 interrupted by SIGTERM/SIGINT/SIGUSR1 (resume it later).\n");
}

static void usage_resume(FILE *f)
{
    fprintf(f,
            "usage: hpsweep resume DIR [--config CONFIG.yaml] [--max-trials N]\n"
            "                      [--max-time DURATION] [--quiet]\n"
            "       mpirun -np N hpsweep resume DIR ...\n\n"
            "Continue the sweep in DIR after a kill, a time limit or Ctrl-C: the journal is\n"
            "replayed through a fresh strategy (exactly restoring it), trials that were\n"
            "running or interrupted are re-run first with their recorded seeds, and the\n"
            "sweep continues to its budget. The rank count may differ from the first run.\n\n"
            "  --config FILE     check FILE against the recorded config (keys other than\n"
            "                    budget, output and parallelism must match) and take its\n"
            "                    budget\n"
            "  --max-trials N    raise or lower the trial budget\n"
            "  --max-time D      time budget for this run\n"
            "  --quiet           no progress output\n");
}

static int parse_args(int argc, char **argv, int resume, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->resume = resume;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--resume") == 0 && !resume) {
            a->resume = 1;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(arg, "--output") == 0 && !resume && val) {
            a->output = val;
            i++;
        } else if (strcmp(arg, "--config") == 0 && resume && val) {
            a->config = val;
            i++;
        } else if (strcmp(arg, "--max-trials") == 0 && val) {
            char *end;
            errno = 0;
            long long n = strtoll(val, &end, 10);
            if (errno || *end || n <= 0) {
                fprintf(stderr, "hpsweep: --max-trials expects a positive integer, got '%s'\n",
                        val);
                return HPS_EXIT_USAGE;
            }
            a->max_trials = n;
            i++;
        } else if (strcmp(arg, "--max-time") == 0 && val) {
            if (hps_parse_duration(val, &a->max_time) != HPS_OK || a->max_time <= 0) {
                fprintf(stderr, "hpsweep: --max-time expects a duration such as 90, 30s, 10m "
                        "or 2h, got '%s'\n", val);
                return HPS_EXIT_USAGE;
            }
            i++;
        } else if (arg[0] == '-') {
            fprintf(stderr, "hpsweep %s: unknown or incomplete option '%s'\n",
                    resume ? "resume" : "run", arg);
            (resume ? usage_resume : usage_run)(stderr);
            return HPS_EXIT_USAGE;
        } else if (!resume && !a->config) {
            a->config = arg;
        } else if (resume && !a->dir) {
            a->dir = arg;
        } else {
            fprintf(stderr, "hpsweep %s: unexpected argument '%s'\n", resume ? "resume" : "run",
                    arg);
            return HPS_EXIT_USAGE;
        }
    }
    if ((!resume && !a->config) || (resume && !a->dir)) {
        (resume ? usage_resume : usage_run)(stderr);
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

/* ---- rank 0: prepare the sweep directory and state ------------------------------ */

typedef struct prepared {
    char dir[HPS_PATH_MAX];
    char journal_path[HPS_PATH_MAX];
    char h5_path[HPS_PATH_MAX];
    char config_dir[HPS_PATH_MAX];
    int lock_fd;
    hps_journal *j;
    hps_sweep s;
    hps_config file_cfg;        /* the config file given (run, or resume --config) */
    int have_file_cfg;
    int64_t max_trials;
    double max_time;
    double max_resource;
    int parallelism;
} prepared;

typedef struct replay_ctx {
    hps_sweep *s;
    char *err;
    size_t errlen;
} replay_ctx;

/* Replay callback: after the HEADER, create the strategy so the remaining
 * records are replayed through it. */
static int replay_cb(void *ctx, const hps_record *rec)
{
    replay_ctx *c = ctx;
    int rc = hps_sweep_apply(c->s, rec, c->err, c->errlen);
    if (rc != HPS_OK || rec->type != HPS_REC_HEADER)
        return rc;
    hps_sweep *s = c->s;
    s->ops = s->cfg.strategy_ops;
    char serr[512] = "";
    rc = s->ops->create(&s->cfg.space, &s->cfg.strategy_cfg, hps_strategy_seed(s->seed),
                        &s->strategy, serr, sizeof serr);
    if (rc != HPS_OK) {
        snprintf(c->err, c->errlen, "strategy '%s': %s", s->ops->name,
                 serr[0] ? serr : hps_strerror(rc));
        return rc;
    }
    if (s->cfg.pruner_ops) {
        s->pruner_ops = s->cfg.pruner_ops;
        rc = s->pruner_ops->create(&s->cfg.pruner_cfg, &s->pruner, serr, sizeof serr);
        if (rc != HPS_OK)
            snprintf(c->err, c->errlen, "pruner '%s': %s", s->pruner_ops->name,
                     serr[0] ? serr : hps_strerror(rc));
    }
    return rc;
}

static int open_and_replay(prepared *p, char *err, size_t errlen)
{
    int rc = hps_journal_open(p->journal_path, HPS_JOURNAL_WRITE, &p->j);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "cannot open %s: %s", p->journal_path, hps_strerror(rc));
        return rc;
    }
    if (hps_journal_truncated(p->j) > 0)
        fprintf(stderr, "hpsweep: %s: cut %llu bytes of torn tail (an unfinished write)\n",
                p->journal_path, (unsigned long long)hps_journal_truncated(p->j));
    hps_sweep_init(&p->s);
    p->s.replay_strategy = 1;
    replay_ctx c = {&p->s, err, errlen};
    rc = hps_journal_replay(p->j, replay_cb, &c);
    if (rc == HPS_OK && !p->s.have_header) {
        snprintf(err, errlen, "%s holds no sweep", p->journal_path);
        rc = HPS_ECORRUPT;
    }
    if (rc == HPS_OK && p->s.replay_diverged)
        fprintf(stderr, "hpsweep: warning: the strategy's replayed suggestions differ from the "
                "journal (was hpsweep or the strategy changed?); continuing from the journal\n");
    p->s.replay_strategy = 0; /* from here on the coordinator drives the strategy */
    return rc;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A new sweep: create the directory, lock it, write HEADER + the metric name. */
static int create_sweep(prepared *p, const hps_config *cfg, uint64_t seed, char *err,
                        size_t errlen)
{
    char trials[HPS_PATH_MAX];
    int rc = hps_mkdir_p(p->dir, err, errlen);
    if (rc == HPS_OK && hps_path_join(trials, sizeof trials, p->dir, "trials") == HPS_OK)
        rc = hps_mkdir_p(trials, err, errlen);
    if (rc != HPS_OK)
        return rc;
    if ((rc = hps_sweepdir_lock(p->dir, &p->lock_fd, err, errlen)) != HPS_OK)
        return rc;
    hps_journal *j;
    if ((rc = hps_journal_open(p->journal_path, HPS_JOURNAL_CREATE, &j)) != HPS_OK) {
        snprintf(err, errlen, "cannot create %s: %s", p->journal_path, hps_strerror(rc));
        return rc;
    }
    /* The config's absolute path: a resume from another directory must resolve
     * `workdir` (relative to the config file) the same way. */
    char source[HPS_PATH_MAX];
    if (!realpath(cfg->source, source))
        snprintf(source, sizeof source, "%s", cfg->source);
    hps_buf b = {0};
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = seed, .created = hps_now(),
                        .config_text = cfg->text, .config_len = (uint32_t)cfg->text_len,
                        .source = source, .source_len = (uint32_t)strlen(source)};
    rc = hps_rec_encode_header(&b, &h);
    if (rc == HPS_OK)
        rc = hps_journal_append(j, HPS_REC_HEADER, -1, b.data, (uint32_t)b.len);
    if (rc == HPS_OK)
        rc = hps_rec_encode_string(&b, 0, cfg->metric);
    if (rc == HPS_OK)
        rc = hps_journal_append(j, HPS_REC_METRIC_NAME, -1, b.data, (uint32_t)b.len);
    if (rc == HPS_OK)
        rc = hps_journal_sync(j);
    hps_journal_close(j);
    hps_buf_free(&b);
    if (rc != HPS_OK)
        snprintf(err, errlen, "cannot write %s: %s", p->journal_path, hps_strerror(rc));
    return rc;
}

static int set_paths(prepared *p, const char *dir, char *err, size_t errlen)
{
    if (snprintf(p->dir, sizeof p->dir, "%s", dir) >= (int)sizeof p->dir ||
        hps_path_join(p->journal_path, sizeof p->journal_path, dir, "journal") != HPS_OK ||
        hps_path_join(p->h5_path, sizeof p->h5_path, dir, "sweep.h5") != HPS_OK) {
        snprintf(err, errlen, "path too long: %s", dir);
        return HPS_EINVAL;
    }
    return HPS_OK;
}

/* Exit code for an error at preparation time: refusals and bad input are 2. */
static int prep_exit(int rc)
{
    switch (rc) {
    case HPS_ECONFIG:
    case HPS_EMISMATCH:
    case HPS_ELOCKED:
    case HPS_EEXIST:
    case HPS_ENOENT:
    case HPS_EINVAL:
        return HPS_EXIT_USAGE;
    default:
        return HPS_EXIT_ERROR;
    }
}

static int prepare(const run_args *a, prepared *p, char *err, size_t errlen)
{
    int rc;
    p->lock_fd = -1;
    if (a->config) {
        p->have_file_cfg = 1; /* freed whatever load returns */
        if ((rc = hps_config_load(a->config, &p->file_cfg, err, errlen)) != HPS_OK)
            return rc;
        char tmp[HPS_PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", a->config);
        snprintf(p->config_dir, sizeof p->config_dir, "%s", dirname(tmp));
    } else {
        snprintf(p->config_dir, sizeof p->config_dir, ".");
    }
    int fresh = 0;
    if (a->dir) {
        if ((rc = set_paths(p, a->dir, err, errlen)) != HPS_OK)
            return rc;
        if (!file_exists(p->journal_path)) {
            snprintf(err, errlen, "%s holds no sweep (no journal file there)", a->dir);
            return HPS_ENOENT;
        }
    } else {
        char dir[HPS_PATH_MAX];
        const char *out = a->output ? a->output : p->file_cfg.output;
        if (hps_path_join(dir, sizeof dir, out, p->file_cfg.name) != HPS_OK) {
            snprintf(err, errlen, "path too long: %s/%s", out, p->file_cfg.name);
            return HPS_EINVAL;
        }
        if ((rc = set_paths(p, dir, err, errlen)) != HPS_OK)
            return rc;
        if (file_exists(p->journal_path) && !a->resume) {
            snprintf(err, errlen, "%s already holds a sweep; continue it with `hpsweep resume "
                     "%s` (or `hpsweep run %s --resume`), or choose another name/output",
                     dir, dir, a->config);
            return HPS_EEXIST;
        }
        fresh = !file_exists(p->journal_path);
    }
    if (fresh) {
        uint64_t seed = p->file_cfg.seed_given ? p->file_cfg.seed : hps_fresh_seed();
        if ((rc = create_sweep(p, &p->file_cfg, seed, err, errlen)) != HPS_OK)
            return rc;
    } else if ((rc = hps_sweepdir_lock(p->dir, &p->lock_fd, err, errlen)) != HPS_OK) {
        return rc;
    }
    if ((rc = open_and_replay(p, err, errlen)) != HPS_OK)
        return rc;
    const hps_config *budget = &p->s.cfg;
    if (p->have_file_cfg && !fresh) {
        char diff[2048] = "";
        int n = hps_config_diff(&p->s.cfg, &p->file_cfg, diff, sizeof diff);
        if (n > 0) {
            snprintf(err, errlen, "%s differs from the config recorded in %s in %d key%s "
                     "(only budget, output and parallelism may change on resume):\n%s",
                     a->config, p->dir, n, n == 1 ? "" : "s", diff);
            return HPS_EMISMATCH;
        }
        budget = &p->file_cfg;
    }
    p->max_trials = a->max_trials ? a->max_trials : budget->max_trials;
    p->max_time = a->max_time > 0 ? a->max_time : budget->max_time;
    p->max_resource = budget->max_resource;
    p->parallelism = budget->parallelism;
    if (p->max_trials == 0 && p->max_time == 0 && p->max_resource == 0 &&
        !(p->s.cfg.strategy_ops->flags & HPS_STRATEGY_FINITE)) {
        snprintf(err, errlen, "the sweep has no budget: set budget.max_trials, "
                 "budget.max_time or budget.max_resource (or pass --max-trials/--max-time)");
        return HPS_ECONFIG;
    }
    return HPS_OK;
}

static void prepared_free(prepared *p)
{
    if (p->s.ops && p->s.strategy)
        p->s.ops->destroy(p->s.strategy);
    if (p->s.pruner_ops && p->s.pruner)
        p->s.pruner_ops->destroy(p->s.pruner);
    hps_sweep_free(&p->s);
    hps_journal_close(p->j);
    if (p->have_file_cfg)
        hps_config_free(&p->file_cfg);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
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

static int run_main(const run_args *a, char **full_argv, int full_argc)
{
    int use_mpi = under_mpi();
    int rank = 0, size = 1;
    if (install_signals() != HPS_OK) {
        fprintf(stderr, "hpsweep: cannot install signal handlers: %s\n", strerror(errno));
        return HPS_EXIT_ERROR;
    }
    /* The spawner must exist before MPI_Init: MPI processes never fork. */
    hps_spawner *spawner = NULL;
    char serr[512];
    if (hps_spawner_start(&spawner, serr, sizeof serr) != HPS_OK) {
        fprintf(stderr, "hpsweep: cannot start the process spawner: %s\n", serr);
        return HPS_EXIT_ERROR;
    }
    if (use_mpi) {
        mpiCheck(MPI_Init(NULL, NULL));
        mpiCheck(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
        mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
        mpiCheck(MPI_Comm_size(MPI_COMM_WORLD, &size));
    }
    hps_store_quiet();
    /* GSL's default handler aborts; strategies check every return instead. */
    gsl_set_error_handler_off();
    /* The GP's matrices are small: OpenBLAS threads cost more than they give (and
     * spin on the cores the workers need). The user's variable wins. */
    if (!getenv("OPENBLAS_NUM_THREADS"))
        openblas_set_num_threads(1);
    prepared p;
    memset(&p, 0, sizeof p);
    p.lock_fd = -1;
    char err[4096] = "";
    int verdict = 0;
    if (rank == 0) {
        int rc = prepare(a, &p, err, sizeof err);
        if (rc != HPS_OK) {
            fprintf(stderr, "hpsweep: %s\n", err);
            verdict = prep_exit(rc);
        }
    }
    char sweep_dir[HPS_PATH_MAX] = "";
    if (rank == 0 && verdict == 0 && !realpath(p.dir, sweep_dir)) {
        fprintf(stderr, "hpsweep: %s: %s\n", p.dir, strerror(errno));
        verdict = HPS_EXIT_ERROR;
    }
    hps_config worker_cfg;
    memset(&worker_cfg, 0, sizeof worker_cfg);
    verdict = share_config(use_mpi, rank, verdict, &p.s, &worker_cfg, sweep_dir,
                           sizeof sweep_dir);
    if (verdict != 0) {
        prepared_free(&p);
        if (use_mpi)
            mpiCheck(MPI_Finalize());
        hps_spawner_stop(spawner);
        return verdict;
    }
    const hps_config *cfg = rank == 0 ? &p.s.cfg : &worker_cfg;
    int rpt = cfg->ranks_per_trial > 0 ? cfg->ranks_per_trial : 1;
    int n_groups = (size - 1) / rpt;
    if (size > 1 && n_groups == 0) {
        if (rank == 0)
            fprintf(stderr, "hpsweep: ranks_per_trial is %d but only %d worker rank%s: start "
                    "at least %d ranks\n", rpt, size - 1, size == 2 ? "" : "s", rpt + 1);
        prepared_free(&p);
        hps_config_free(&worker_cfg);
        mpiCheck(MPI_Finalize());
        hps_spawner_stop(spawner);
        return HPS_EXIT_USAGE;
    }
    char *hosts = gather_hosts(use_mpi, rank, size);
    MPI_Comm group = MPI_COMM_NULL;
    int my_group = rank == 0 ? -1 : (rank - 1) / rpt;
    if (use_mpi)
        mpiCheck(MPI_Comm_split(MPI_COMM_WORLD, my_group >= 0 && my_group < n_groups ? my_group
                                : MPI_UNDEFINED, rank, &group));
    int wrapped = 0;
    char *gpus = assign_gpus(use_mpi, rank, size, group, cfg->objective.gpus_per_trial,
                             &wrapped);
    if (wrapped)
        fprintf(stderr, "hpsweep: warning: rank %d: this node has fewer GPUs than its trial "
                "groups need (gpus_per_trial %d); groups share GPUs (%s)\n", rank,
                cfg->objective.gpus_per_trial, gpus);
    int code = HPS_EXIT_OK;
    if (rank == 0) {
        if (size > 1 && (size - 1) % rpt != 0)
            fprintf(stderr, "hpsweep: warning: %d worker ranks do not fill groups of %d; %d "
                    "rank%s stay idle\n", size - 1, rpt, (size - 1) % rpt,
                    (size - 1) % rpt == 1 ? "" : "s");
        int *leaders = malloc(sizeof(int) * (size_t)(n_groups > 0 ? n_groups : 1));
        hps_provenance prov;
        hps_provenance_collect(&prov, full_argc, full_argv, p.config_dir, hosts, size, rpt,
                               spawner);
        if (!leaders)
            hps_mpi_fail(MPI_ERR_NO_MEM, "allocating groups", __FILE__, __LINE__);
        for (int g = 0; g < n_groups; g++)
            leaders[g] = 1 + g * rpt;
        hps_coord_opts o = {
            .h5_path = p.h5_path, .quiet = a->quiet, .tty = isatty(STDERR_FILENO),
            .n_groups = n_groups, .leaders = leaders, .signalled = &g_signalled,
            .provenance = prov.kv, .n_provenance = prov.n, .max_trials = p.max_trials,
            .max_time = p.max_time, .max_resource = p.max_resource,
            .parallelism = p.parallelism, .run_start = hps_now(),
            .spawner = spawner, .sweep_dir = sweep_dir, .gpus = gpus,
        };
        if (!a->quiet)
            fprintf(stderr, "hpsweep: sweep %s in %s: strategy %s, %d trial group%s, seed "
                    "%llu\n", p.s.cfg.name, p.dir, p.s.cfg.strategy, n_groups,
                    n_groups == 1 ? "" : "s", (unsigned long long)p.s.seed);
        int rc = hps_coordinator_run(&p.s, p.j, &o, err, sizeof err);
        if (rc == HPS_EINTR) {
            fprintf(stderr, "hpsweep: interrupted by signal %d; running trials were recorded "
                    "as interrupted. Continue with: hpsweep resume %s\n", (int)g_signalled,
                    p.dir);
            code = HPS_EXIT_INTERRUPTED;
        } else if (rc != HPS_OK) {
            fprintf(stderr, "hpsweep: %s\n", err[0] ? err : hps_strerror(rc));
            code = HPS_EXIT_ERROR;
        }
        free(leaders);
        hps_provenance_free(&prov);
    } else if (group != MPI_COMM_NULL) {
        hps_worker_env we = {.spawner = spawner, .sweep_dir = sweep_dir, .gpus = gpus};
        hps_worker_run(cfg, &we, group, &g_signalled);
    }
    free(hosts);
    free(gpus);
    if (group != MPI_COMM_NULL)
        mpiCheck(MPI_Comm_free(&group));
    prepared_free(&p);
    hps_config_free(&worker_cfg);
    if (use_mpi) {
        /* Ranks that finish early (idle ranks outside any group, workers after STOP)
         * wait here without spinning: MPI_Finalize's own wait polls a core. */
        MPI_Request req;
        int done;
        mpiCheck(MPI_Ibarrier(MPI_COMM_WORLD, &req));
        mpiCheck(hps_wait_request(&req, NULL, &done));
        mpiCheck(MPI_Finalize());
    }
    hps_spawner_stop(spawner);
    return code;
}

int hps_cli_run(int argc, char **argv, char **full_argv, int full_argc)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_run(stdout);
        return HPS_EXIT_OK;
    }
    run_args a;
    int rc = parse_args(argc, argv, 0, &a);
    return rc != HPS_EXIT_OK ? rc : run_main(&a, full_argv, full_argc);
}

int hps_cli_resume(int argc, char **argv, char **full_argv, int full_argc)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_resume(stdout);
        return HPS_EXIT_OK;
    }
    run_args a;
    int rc = parse_args(argc, argv, 1, &a);
    return rc != HPS_EXIT_OK ? rc : run_main(&a, full_argv, full_argc);
}

int hps_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}
