/*
 * The run facts of provenance (see provenance.h): versions of hpsweep and the
 * libraries it was built with, the build itself, the user's code (git commit,
 * dirty flag, a hash of the diff), the command line and the environment; and
 * putting a run's provenance together with its hosts and files. Also
 * `hpsweep --version`.
 */
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <mpi.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "cli.h"
#include "core/clock.h"
#include "hps_version.h"
#include "hpsweep/error.h"
#include "provenance.h"

/* OpenBLAS's own API (its cblas.h would clash with GSL's). */
char *openblas_get_config(void);

static void read_line(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)len, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
}

/* Resolve ref (e.g. "refs/heads/main") in gitdir: loose ref file, else packed-refs. */
static void resolve_ref(const char *gitdir, const char *ref, char *out, size_t len)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", gitdir, ref);
    read_line(path, out, len);
    if (out[0])
        return;
    snprintf(path, sizeof path, "%s/packed-refs", gitdir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *sp = strchr(line, ' ');
        if (sp && strcmp(sp + 1, ref) == 0) {
            *sp = '\0';
            snprintf(out, len, "%.64s", line);
            break;
        }
    }
    fclose(f);
}

/* The commit checked out in the git repository containing dir, or "none" (no git
 * program: read from .git, without a dirty flag). */
static void git_commit(const char *dir, char *out, size_t len)
{
    char cur[4096];
    snprintf(out, len, "none");
    if (!realpath(dir, cur))
        return;
    for (;;) {
        char gitdir[4200], head[1024];
        snprintf(gitdir, sizeof gitdir, "%s/.git", cur);
        char headpath[4300];
        snprintf(headpath, sizeof headpath, "%s/HEAD", gitdir);
        read_line(headpath, head, sizeof head);
        if (head[0]) {
            if (strncmp(head, "ref: ", 5) == 0) {
                char sha[128] = "";
                resolve_ref(gitdir, head + 5, sha, sizeof sha);
                snprintf(out, len, "%s (%s)", sha[0] ? sha : "unborn", head + 5);
            } else {
                snprintf(out, len, "%s (detached)", head);
            }
            return;
        }
        char *slash = strrchr(cur, '/');
        if (!slash || slash == cur)
            return;
        *slash = '\0';
    }
}

static void mpi_library(char *out, size_t len)
{
    char lib[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int n = 0, major = 0, minor = 0;
    if (MPI_Get_library_version(lib, &n) != MPI_SUCCESS)
        lib[0] = '\0';
    if (MPI_Get_version(&major, &minor) != MPI_SUCCESS)
        major = minor = 0;
    lib[strcspn(lib, "\n,")] = '\0';
    snprintf(out, len, "MPI %d.%d (%s)", major, minor, lib);
}

typedef struct sha_sink {
    EVP_MD_CTX *md;
    long long bytes;
    int bad;
} sha_sink;

static void to_sha(void *ctx, const char *p, size_t n)
{
    sha_sink *s = ctx;
    s->bytes += (long long)n;
    if (EVP_DigestUpdate(s->md, p, n) != 1)
        s->bad = 1;
}

/* SHA-256 of `git -C dir diff HEAD` (tracked files' changes, binary included):
 * 64 hex digits, "none" for an empty diff; -1 when git failed. */
static int git_diff_hash(hps_spawner *sp, const char *dir, char *out, size_t len)
{
    const char *argv[] = {"git", "-C", dir, "diff", "--binary", "HEAD", NULL};
    sha_sink s = {.md = EVP_MD_CTX_new()};
    if (!s.md || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(s.md);
        return -1;
    }
    int rc = hps_prov_exec(sp, argv, NULL, 30.0, to_sha, &s);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (rc == 0 && !s.bad && EVP_DigestFinal_ex(s.md, md, &n) == 1) {
        if (s.bytes == 0) {
            snprintf(out, len, "none");
        } else {
            for (unsigned i = 0; i < n && 2 * i + 2 < len; i++)
                snprintf(out + 2 * i, len - 2 * i, "%02x", md[i]);
        }
    } else {
        rc = -1;
    }
    EVP_MD_CTX_free(s.md);
    return rc;
}

/* The user's code: commit, dirty flag, root and diff hash, from git itself when it
 * is installed (else the commit read from .git, the rest "unknown"). */
static int add_user_code(hps_prov *p, const char *dir, hps_spawner *sp)
{
    char head[128], dirty[256], root[4096], diff[80], buf[4400];
    const char *rev[] = {"git", "-C", dir, "rev-parse", "HEAD", NULL};
    const char *st[] = {"git", "-C", dir, "status", "--porcelain", "--untracked-files=no", NULL};
    const char *top[] = {"git", "-C", dir, "rev-parse", "--show-toplevel", NULL};
    int rc;
    if (hps_prov_capture(sp, rev, head, sizeof head, 1) == 0 && head[0] &&
        hps_prov_capture(sp, st, dirty, sizeof dirty, 1) == 0) {
        snprintf(buf, sizeof buf, "%s (%s)", head, dirty[0] ? "dirty" : "clean");
        if (hps_prov_capture(sp, top, root, sizeof root, 1) != 0)
            snprintf(root, sizeof root, "unknown");
        if (git_diff_hash(sp, dir, diff, sizeof diff) != 0)
            snprintf(diff, sizeof diff, "unknown (git diff failed)");
    } else {
        git_commit(dir, buf, sizeof buf);
        int none = strcmp(buf, "none") == 0;
        snprintf(root, sizeof root, none ? "none (not in a git repository)" : "unknown (no git "
                 "program)");
        snprintf(diff, sizeof diff, none ? "none" : "unknown (no git program)");
    }
    if ((rc = hps_prov_add(p, HPS_PROV_RUN, 0, "user_code_commit", buf)) != HPS_OK ||
        (rc = hps_prov_add(p, HPS_PROV_RUN, 0, "user_code_root", root)) != HPS_OK)
        return rc;
    return hps_prov_add(p, HPS_PROV_RUN, 0, "user_code_diff_sha256", diff);
}

void hps_self_path(char *out, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    out[n > 0 ? n : 0] = '\0';
}

static int add(hps_prov *p, const char *key, const char *value)
{
    return hps_prov_add(p, HPS_PROV_RUN, 0, key, value);
}

int hps_provenance_local(hps_prov *p, const char *config_dir, hps_spawner *spawner)
{
    char buf[4096], driver[512];
    int rc = add(p, "hpsweep_version", HPS_VERSION);
    if (rc == HPS_OK)
        rc = add(p, "hpsweep_commit", HPS_GIT_COMMIT);
    if (rc == HPS_OK)
        rc = add(p, "build_type", HPS_BUILD_TYPE);
    if (rc == HPS_OK)
        rc = add(p, "build_options", HPS_BUILD_OPTIONS);
#ifdef __VERSION__
    if (rc == HPS_OK)
        rc = add(p, "compiler", __VERSION__);
#endif
    if (rc == HPS_OK)
        rc = add(p, "compiler_flags", HPS_C_FLAGS);
    mpi_library(buf, sizeof buf);
    if (rc == HPS_OK)
        rc = add(p, "mpi_library", buf);
    unsigned maj, min, rel;
    if (H5get_libversion(&maj, &min, &rel) >= 0) {
        snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
        if (rc == HPS_OK)
            rc = add(p, "hdf5", buf);
    }
    if (rc == HPS_OK)
        rc = add(p, "gsl", gsl_version);
    if (rc == HPS_OK)
        rc = add(p, "libyaml", yaml_get_version_string());
    const char *ob = openblas_get_config();
    if (rc == HPS_OK)
        rc = add(p, "openblas", ob ? ob : "unknown");
    if (rc == HPS_OK)
        rc = add(p, "openssl", OpenSSL_version(OPENSSL_VERSION));
    hps_prov_cpu_model(buf, sizeof buf);
    if (rc == HPS_OK)
        rc = add(p, "cpu_model", buf);
    hps_prov_proc_gpus(buf, sizeof buf, driver, sizeof driver);
    if (rc == HPS_OK)
        rc = add(p, "gpus", buf);
    if (rc == HPS_OK)
        rc = add(p, "nvidia_driver", driver);
    if (rc == HPS_OK && getcwd(buf, sizeof buf))
        rc = add(p, "cwd", buf);
    hps_self_path(buf, sizeof buf);
    if (rc == HPS_OK)
        rc = add(p, "hpsweep_path", buf[0] ? buf : "unknown");
    if (rc == HPS_OK)
        rc = add_user_code(p, config_dir, spawner);
    if (rc == HPS_OK)
        rc = hps_prov_add_env(p);
    return rc;
}

int hps_provenance_collect(hps_prov *p, const hps_prov_input *in)
{
    char buf[8192];
    int rc = hps_provenance_local(p, in->config_dir, in->spawner);
    if (rc == HPS_OK && in->host_facts)
        rc = hps_prov_add_hosts(p, in->host_facts);
    snprintf(buf, sizeof buf, "%d", in->ranks);
    if (rc == HPS_OK)
        rc = add(p, "ranks", buf);
    snprintf(buf, sizeof buf, "%d", in->ranks_per_trial);
    if (rc == HPS_OK)
        rc = add(p, "ranks_per_trial", buf);
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < in->argc && off + 1 < sizeof buf; i++) {
        int n = snprintf(buf + off, sizeof buf - off, "%s%s", i ? " " : "", in->argv[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    if (rc == HPS_OK)
        rc = add(p, "command_line", buf);
    hps_iso_time(hps_wall(), buf, sizeof buf);
    if (rc == HPS_OK)
        rc = add(p, "start_time", buf);
    if (rc == HPS_OK && in->cfg->source) {
        if (!realpath(in->cfg->source, buf))
            snprintf(buf, sizeof buf, "%s", in->cfg->source);
        rc = add(p, "config_path", buf);
    }
    if (rc == HPS_OK && in->budget)
        rc = add(p, "budget", in->budget);
    if (rc == HPS_OK)
        rc = hps_prov_add_files(p, in->cfg, in->config_dir);
    return rc;
}

int hps_cli_version(void)
{
    char buf[1024];
    printf("hpsweep %s (commit %s, %s)\n", HPS_VERSION, HPS_GIT_COMMIT,
           HPS_BUILD_HAVE_CUDA ? "CUDA/NCCL enabled" : "CPU only");
    mpi_library(buf, sizeof buf);
    printf("  %s\n", buf);
    printf("  HDF5 %d.%d.%d\n", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
    printf("  GSL %s\n", GSL_VERSION);
    printf("  libyaml %s\n", yaml_get_version_string());
    return ferror(stdout) ? HPS_EXIT_ERROR : HPS_EXIT_OK;
}
