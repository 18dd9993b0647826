/*
 * What differs between the run that made a trial and this machine (see
 * reproduce.h): the facts that can move a metric, not those that differ by
 * nature (times, the command line, host names, GPU serial numbers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "provenance.h"
#include "reproduce.h"

static const char *const run_keys[] = {
    "hpsweep_version", "hpsweep_commit", "build_type", "build_options", "compiler",
    "compiler_flags", "mpi_library", "hdf5", "gsl", "libyaml", "openblas", "openssl",
    "user_code_commit", "user_code_diff_sha256", NULL};

static const char *const host_keys[] = {"os", "kernel", "cpu_model", "cpus", "memory", "gpus",
                                        "gpu_memory", "nvidia_driver", "cuda_driver",
                                        "cuda_runtime", "cublas", "nccl", NULL};

static int differ(const char *what, const char *was, const char *now, int *n)
{
    if (was && now && strcmp(was, now) == 0)
        return 0;
    if (!was && !now)
        return 0;
    if ((*n)++ == 0)
        printf("\nprovenance that differs (recorded -> here):\n");
    printf("  %s: %s -> %s\n", what, was ? was : "(not recorded)", now ? now : "(none here)");
    return 1;
}

/* The recorded host whose ranks include the trial's worker (rank 0: in-process). */
static int host_of(const hps_prov *run, const hps_trial *t)
{
    int nh = hps_prov_count(run, HPS_PROV_HOST);
    char want[32];
    snprintf(want, sizeof want, "%d", t->worker);
    for (int h = 0; h < nh; h++) {
        const char *ranks = hps_prov_get(run, HPS_PROV_HOST, h, "ranks");
        for (const char *p = ranks; p && *p;) {
            size_t k = strcspn(p, ",");
            if (k == strlen(want) && strncmp(p, want, k) == 0)
                return h;
            p += k + (p[k] == ',');
        }
    }
    return nh > 0 ? 0 : -1;
}

int hps_repro_print_differences(const hps_prov *run, const hps_trial *t, const hps_config *cfg,
                                const char *config_dir, hps_spawner *sp)
{
    hps_prov now = {0};
    char name[256] = "";
    if (gethostname(name, sizeof name - 1) != 0)
        snprintf(name, sizeof name, "unknown");
    char *facts = hps_prov_host_facts(name, 0, 1, sp);
    int rc = facts ? hps_provenance_local(&now, config_dir, sp) : HPS_ENOMEM;
    if (rc == HPS_OK)
        rc = hps_prov_add_hosts(&now, facts);
    if (rc == HPS_OK)
        rc = hps_prov_add_files(&now, cfg, config_dir);
    free(facts);
    if (rc != HPS_OK) {
        hps_prov_free(&now);
        return rc;
    }
    int n = 0;
    if (!run) {
        printf("\nno provenance was recorded for this sweep: nothing to compare\n");
        hps_prov_free(&now);
        return HPS_OK;
    }
    for (int i = 0; run_keys[i]; i++)
        differ(run_keys[i], hps_prov_get(run, HPS_PROV_RUN, 0, run_keys[i]),
               hps_prov_get(&now, HPS_PROV_RUN, 0, run_keys[i]), &n);
    /* the allow-listed environment, both ways */
    for (int side = 0; side < 2; side++) {
        const hps_prov *p = side ? &now : run, *q = side ? run : &now;
        for (int i = 0; i < p->n; i++) {
            const hps_prov_entry *e = &p->e[i];
            if (e->kind != HPS_PROV_RUN || strncmp(e->key, "env.", 4) != 0)
                continue;
            const char *other = hps_prov_get(q, HPS_PROV_RUN, 0, e->key);
            if (side == 1 && other)
                continue; /* compared from the recorded side */
            differ(e->key, side ? other : e->value, side ? e->value : other, &n);
        }
    }
    int h = host_of(run, t);
    char what[512];
    for (int i = 0; h >= 0 && host_keys[i]; i++) {
        const char *was = hps_prov_get(run, HPS_PROV_HOST, h, host_keys[i]);
        if (!was)
            continue; /* a host described by name only */
        snprintf(what, sizeof what, "host %s -> %s: %s",
                 hps_prov_get(run, HPS_PROV_HOST, h, "host"), name, host_keys[i]);
        differ(what, was, hps_prov_get(&now, HPS_PROV_HOST, 0, host_keys[i]), &n);
    }
    int nf = hps_prov_count(run, HPS_PROV_FILE);
    for (int f = 0; f < nf; f++) {
        const char *path = hps_prov_get(run, HPS_PROV_FILE, f, "path");
        const char *role = hps_prov_get(run, HPS_PROV_FILE, f, "role");
        if (!path)
            continue;
        int g = hps_prov_find(&now, HPS_PROV_FILE, path);
        snprintf(what, sizeof what, "%s %s: sha256", role ? role : "file", path);
        differ(what, hps_prov_get(run, HPS_PROV_FILE, f, "sha256"),
               g >= 0 ? hps_prov_get(&now, HPS_PROV_FILE, g, "sha256") : NULL, &n);
    }
    if (n == 0)
        printf("\nprovenance: no recorded fact differs here (versions, build, user code, "
               "environment, host, datasets and objective files)\n");
    hps_prov_free(&now);
    return HPS_OK;
}
