/*
 * `hpsweep show FILE|DIR`: a sweep and its provenance, for people. The sweep's
 * attributes and counts, the facts of its latest run grouped (hpsweep and its
 * build, libraries, user code, command, environment), every host with its OS,
 * CPU, memory, GPUs, driver and CUDA libraries, the fingerprinted files, and the
 * history of runs (the first, then each resume) with what changed at each.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/fs.h"
#include "hpsweep/error.h"
#include "query.h"
#include "store/prov.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hpsweep show SWEEP.h5|DIR\n\n"
               "The sweep (name, status, strategy, seed, mode, trial counts, best) and its\n"
               "provenance as recorded in sweep.h5's /provenance: the latest run's versions,\n"
               "build, libraries, user code (commit, dirty flag, diff hash), command line\n"
               "and environment; each host's OS, kernel, CPU, memory, GPUs, NVIDIA driver,\n"
               "CUDA runtime, cuBLAS and NCCL; the SHA-256 of datasets and of the\n"
               "objective's program or script; and every run (the first, then each resume)\n"
               "with what changed from the one before.\n\n"
               "Exit codes: 0 done, 1 error (unreadable file), 2 bad usage or no such file.\n");
}

static const char *get(const hps_prov *p, const char *key)
{
    const char *v = hps_prov_get(p, HPS_PROV_RUN, 0, key);
    return v ? v : "(not recorded)";
}

static void fact(const char *label, const char *value)
{
    printf("  %-15s %s\n", label, value);
}

/* The run facts shown in groups; the others follow as they are. */
static const char *const grouped[] = {
    "hpsweep_version", "hpsweep_commit", "hpsweep_path", "build_type", "build_options",
    "compiler", "compiler_flags", "mpi_library", "hdf5", "gsl", "libyaml", "openblas", "openssl",
    "user_code_commit", "user_code_root", "user_code_diff_sha256", "command_line", "cwd",
    "config_path", "budget", "ranks", "ranks_per_trial", "hosts", "start_time", "end_time",
    "end_status", "trials_ended", "cpu_model", "gpus", "nvidia_driver", NULL};

static int is_grouped(const char *key)
{
    for (int i = 0; grouped[i]; i++)
        if (!strcmp(grouped[i], key))
            return 1;
    return strncmp(key, "env.", 4) == 0;
}

static void show_run_facts(const hps_prov *p)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "%s (commit %s), %s", get(p, "hpsweep_version"),
             get(p, "hpsweep_commit"), get(p, "hpsweep_path"));
    fact("hpsweep", buf);
    snprintf(buf, sizeof buf, "%s; %s", get(p, "build_type"), get(p, "build_options"));
    fact("build", buf);
    snprintf(buf, sizeof buf, "%s; flags %s", get(p, "compiler"), get(p, "compiler_flags"));
    fact("compiler", buf);
    snprintf(buf, sizeof buf, "%s; HDF5 %s; GSL %s; libyaml %s", get(p, "mpi_library"),
             get(p, "hdf5"), get(p, "gsl"), get(p, "libyaml"));
    fact("libraries", buf);
    fact("openblas", get(p, "openblas"));
    fact("openssl", get(p, "openssl"));
    snprintf(buf, sizeof buf, "%s in %s; SHA-256 of its diff: %s", get(p, "user_code_commit"),
             get(p, "user_code_root"), get(p, "user_code_diff_sha256"));
    fact("user code", buf);
    fact("command", get(p, "command_line"));
    fact("cwd", get(p, "cwd"));
    fact("config", get(p, "config_path"));
    fact("budget", get(p, "budget"));
    snprintf(buf, sizeof buf, "%s (%s per trial) on %s", get(p, "ranks"),
             get(p, "ranks_per_trial"), get(p, "hosts"));
    fact("ranks", buf);
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < p->n && off + 1 < sizeof buf; i++)
        if (p->e[i].kind == HPS_PROV_RUN && !strncmp(p->e[i].key, "env.", 4))
            off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s=%s", off ? ", " : "",
                                    p->e[i].key + 4, p->e[i].value);
    fact("environment", off ? buf : "none of the recorded variables was set");
    for (int i = 0; i < p->n; i++)
        if (p->e[i].kind == HPS_PROV_RUN && !is_grouped(p->e[i].key))
            fact(p->e[i].key, p->e[i].value);
}

static void show_hosts(const hps_prov *p)
{
    int n = hps_prov_count(p, HPS_PROV_HOST);
    printf("\nhosts (%d)\n", n);
    for (int h = 0; h < n; h++) {
        const char *v = hps_prov_get(p, HPS_PROV_HOST, h, "ranks");
        printf("  %s (ranks %s)\n", hps_prov_get(p, HPS_PROV_HOST, h, "host"), v ? v : "?");
        for (int k = 0; hps_prov_host_keys[k]; k++) {
            const char *key = hps_prov_host_keys[k];
            if (!strcmp(key, "host") || !strcmp(key, "ranks"))
                continue;
            v = hps_prov_get(p, HPS_PROV_HOST, h, key);
            printf("    %-14s %s\n", key, v ? v : "(not recorded: a rank that named its host "
                                             "only)");
        }
    }
}

static void show_files(const hps_prov *p)
{
    int n = hps_prov_count(p, HPS_PROV_FILE);
    printf("\nfiles (%d)\n", n);
    for (int f = 0; f < n; f++) {
        const char *role = hps_prov_get(p, HPS_PROV_FILE, f, "role");
        const char *path = hps_prov_get(p, HPS_PROV_FILE, f, "path");
        const char *sha = hps_prov_get(p, HPS_PROV_FILE, f, "sha256");
        const char *bytes = hps_prov_get(p, HPS_PROV_FILE, f, "bytes");
        printf("  %-9s %s\n            sha256 %s, %s bytes\n", role ? role : "?",
               path ? path : "?", sha ? sha : "?", bytes ? bytes : "?");
    }
}

typedef struct changes {
    char buf[2048];
    size_t used;
} changes;

static void note(void *ctx, const char *what, const char *a, const char *b)
{
    changes *c = ctx;
    (void)a;
    (void)b;
    if (c->used + 1 < sizeof c->buf)
        c->used += (size_t)snprintf(c->buf + c->used, sizeof c->buf - c->used, "%s%s",
                                    c->used ? ", " : "", what);
}

static void show_runs(const hps_prov *runs, int n)
{
    printf("\nruns (%d: the first, then each resume)\n", n);
    for (int k = 0; k < n; k++) {
        const hps_prov *p = &runs[k];
        printf("  %d  %s -> %s  %s, %s trials ended; %s rank%s on %s\n", k, get(p, "start_time"),
               hps_prov_get(p, HPS_PROV_RUN, 0, "end_time") ? get(p, "end_time") : "(running)",
               hps_prov_get(p, HPS_PROV_RUN, 0, "end_status") ? get(p, "end_status")
                                                              : "running or killed",
               hps_prov_get(p, HPS_PROV_RUN, 0, "trials_ended") ? get(p, "trials_ended") : "?",
               get(p, "ranks"), strcmp(get(p, "ranks"), "1") ? "s" : "", get(p, "hosts"));
        if (k > 0) {
            changes c = {.used = 0};
            c.buf[0] = '\0';
            hps_prov_diff(&runs[k - 1], p, note, &c);
            printf("     changed: %s\n", c.used ? c.buf : "nothing recorded");
        }
    }
}

int hps_cli_show(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage(stdout);
        return HPS_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        usage(stderr);
        return HPS_EXIT_USAGE;
    }
    hps_results r;
    char path[HPS_PATH_MAX], err[1024] = "";
    int rc = hps_cli_open_results(argv[1], &r, path, sizeof path);
    if (rc != HPS_EXIT_OK)
        return rc;
    hps_prov *runs = NULL;
    int n_runs = 0;
    if (hps_prov_read(path, &runs, &n_runs, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: %s\n", path, err);
        hps_results_free(&r);
        return HPS_EXIT_ERROR;
    }
    int64_t c[5] = {0};
    for (int64_t i = 0; i < r.n_trials; i++)
        if (r.trials[i].status >= 0 && r.trials[i].status < 5)
            c[r.trials[i].status]++;
    printf("sweep           %s (%s)\n", r.name, path);
    printf("status          %s; created %s, updated %s\n", r.status, r.created, r.updated);
    printf("strategy        %s, seed %llu, objective %s, %s %s\n", r.strategy,
           (unsigned long long)r.seed, r.objective, r.goal, r.metric);
    if (r.deterministic)
        printf("mode            deterministic, parallelism %d (suggestion k knows the results "
               "of trials 0..k-%d)\n", r.parallelism, r.parallelism + 1);
    else
        printf("mode            asynchronous\n");
    printf("trials          %lld: %lld done, %lld failed, %lld pruned, %lld interrupted, %lld "
           "running\n", (long long)r.n_trials, (long long)c[HPS_TRIAL_DONE],
           (long long)c[HPS_TRIAL_FAILED], (long long)c[HPS_TRIAL_PRUNED],
           (long long)c[HPS_TRIAL_INTERRUPTED], (long long)c[HPS_TRIAL_RUNNING]);
    const hps_trial **ranked;
    int64_t n;
    if (hps_cli_ranked(&r, &ranked, &n) == HPS_OK) {
        if (n > 0)
            printf("best            %s = %.10g (trial %lld)\n", r.metric, ranked[0]->objective,
                   (long long)ranked[0]->trial_id);
        else
            printf("best            (no trial completed)\n");
        free(ranked);
    }
    if (n_runs == 0) {
        printf("\nprovenance      none recorded\n");
    } else {
        const hps_prov *last = &runs[n_runs - 1];
        printf("\nprovenance of run %d (the latest of %d)\n", n_runs - 1, n_runs);
        show_run_facts(last);
        show_hosts(last);
        show_files(last);
        show_runs(runs, n_runs);
    }
    rc = fflush(stdout) == 0 ? HPS_EXIT_OK : HPS_EXIT_ERROR;
    hps_prov_runs_free(runs, n_runs);
    hps_results_free(&r);
    return rc;
}
