/*
 * Collecting provenance (see provenance.h). Nothing here forks or runs a
 * program: it is called inside an MPI process.
 */
#include <dirent.h>
#include <errno.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <mpi.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

#include "cli.h"
#include "core/clock.h"
#include "provenance.h"
#include "hpsweep/error.h"
#include "hps_version.h"

void hps_provenance_add(hps_provenance *p, const char *key, const char *value)
{
    if (p->n >= HPS_PROVENANCE_MAX)
        return;
    size_t n = strlen(value) + 1;
    char *copy = malloc(n);
    if (!copy)
        return;
    memcpy(copy, value, n);
    p->owned[p->n] = copy;
    p->kv[p->n].key = key;
    p->kv[p->n].value = copy;
    p->n++;
}

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

/* The commit checked out in the git repository containing dir, or "none". */
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

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ')
                    colon++;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(out, len, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
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

/* Run argv through the spawner (this is an MPI process: no fork here) and keep
 * its first line of output in out. 0 on exit status 0 within 5 s, else -1. */
static int capture(hps_spawner *sp, const char *const *argv, char *out, size_t len)
{
    out[0] = '\0';
    if (!sp)
        return -1;
    extern char **environ;
    hps_spawn_req req = {.argv = argv, .envp = (const char *const *)environ};
    hps_child child;
    char err[256];
    if (hps_spawner_spawn(sp, &req, &child, err, sizeof err) != HPS_OK)
        return -1;
    size_t got = 0;
    int status = -1, exited = 0, open_ = 1;
    double deadline = hps_monotonic() + 5.0;
    while ((open_ || !exited) && hps_monotonic() < deadline) {
        struct pollfd pf[2] = {{.fd = open_ ? child.stdout_fd : -1, .events = POLLIN},
                               {.fd = hps_spawner_fd(sp), .events = POLLIN}};
        if (poll(pf, 2, 50) < 0 && errno != EINTR)
            break;
        if (open_ && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(child.stdout_fd, out + got, len - 1 - got);
            if (n > 0)
                got += (size_t)n;
            else if (n == 0 || (errno != EAGAIN && errno != EINTR) || got + 1 >= len)
                open_ = 0;
        }
        pid_t pid;
        int ws;
        while (hps_spawner_reap(sp, &pid, &ws) == HPS_OK)
            if (pid == child.pid) {
                exited = 1;
                status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
            }
    }
    if (!exited) {
        hps_child_signal(&child, SIGKILL);
        for (int i = 0; i < 100 && !exited; i++) { /* reap it, so no notice is left */
            pid_t pid;
            int ws;
            if (hps_spawner_reap(sp, &pid, &ws) == HPS_OK && pid == child.pid)
                exited = 1;
            else
                poll(NULL, 0, 10);
        }
    }
    close(child.stdout_fd);
    out[got] = '\0';
    out[strcspn(out, "\n")] = '\0';
    return status == 0 ? 0 : -1;
}

/* "<commit> (clean|dirty)" from git itself when it is installed. */
static int git_state(hps_spawner *sp, const char *dir, char *out, size_t len)
{
    char head[128], dirty[256];
    const char *rev[] = {"git", "-C", dir, "rev-parse", "HEAD", NULL};
    const char *st[] = {"git", "-C", dir, "status", "--porcelain", "--untracked-files=no", NULL};
    if (capture(sp, rev, head, sizeof head) != 0 || !head[0])
        return -1;
    if (capture(sp, st, dirty, sizeof dirty) != 0)
        return -1;
    snprintf(out, len, "%s (%s)", head, dirty[0] ? "dirty" : "clean");
    return 0;
}

void hps_nvidia_driver_version(const char *line, char *out, size_t len)
{
    /* the first whitespace-separated token of digits and dots with a dot in it */
    const char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, " \t\n");
        size_t digits = strspn(p, "0123456789.");
        if (n > 0 && digits == n && memchr(p, '.', n) && p[0] != '.') {
            snprintf(out, len, "%.*s", (int)n, p);
            return;
        }
        p += n;
        if (*p == '\n')
            break;
    }
    /* no version-like token: the line itself, trimmed */
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strcspn(line, "\n");
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    if (n == 0)
        snprintf(out, len, "none");
    else
        snprintf(out, len, "%.*s", (int)n, line);
}

/* NVIDIA GPUs and driver from /proc (no CUDA context is created here). */
static void gpus(char *models, size_t mlen, char *driver, size_t dlen)
{
    snprintf(models, mlen, "none");
    snprintf(driver, dlen, "none");
    FILE *f = fopen("/proc/driver/nvidia/version", "r");
    if (f) {
        char line[512];
        if (fgets(line, sizeof line, f))
            hps_nvidia_driver_version(line, driver, dlen);
        fclose(f);
    }
    DIR *d = opendir("/proc/driver/nvidia/gpus");
    if (!d)
        return;
    size_t off = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[600], line[512], model[256] = "?";
        snprintf(path, sizeof path, "/proc/driver/nvidia/gpus/%s/information", e->d_name);
        FILE *g = fopen(path, "r");
        while (g && fgets(line, sizeof line, g))
            if (strncmp(line, "Model:", 6) == 0) {
                char *m = line + 6;
                while (*m == ' ' || *m == '\t')
                    m++;
                m[strcspn(m, "\n")] = '\0';
                snprintf(model, sizeof model, "%s", m);
            }
        if (g)
            fclose(g);
        int n = snprintf(models + off, mlen - off, "%s%s (%s)", off ? ", " : "", model, e->d_name);
        if (n < 0 || (size_t)n >= mlen - off)
            break;
        off += (size_t)n;
    }
    closedir(d);
}

void hps_provenance_collect(hps_provenance *p, int argc, char **argv, const char *config_dir,
                            const char *hosts, int ranks, int ranks_per_trial,
                            hps_spawner *spawner)
{
    memset(p, 0, sizeof *p);
    char buf[4096];
    hps_provenance_add(p, "hpsweep_version", HPS_VERSION);
    hps_provenance_add(p, "hpsweep_commit", HPS_GIT_COMMIT);
#ifdef __VERSION__
    hps_provenance_add(p, "compiler", __VERSION__);
#endif
    mpi_library(buf, sizeof buf);
    hps_provenance_add(p, "mpi_library", buf);
    unsigned maj, min, rel;
    if (H5get_libversion(&maj, &min, &rel) >= 0) {
        snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
        hps_provenance_add(p, "hdf5", buf);
    }
    hps_provenance_add(p, "gsl", gsl_version);
    hps_provenance_add(p, "libyaml", yaml_get_version_string());
    hps_provenance_add(p, "hosts", hosts);
    snprintf(buf, sizeof buf, "%d", ranks);
    hps_provenance_add(p, "ranks", buf);
    snprintf(buf, sizeof buf, "%d", ranks_per_trial);
    hps_provenance_add(p, "ranks_per_trial", buf);
    cpu_model(buf, sizeof buf);
    hps_provenance_add(p, "cpu_model", buf);
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && off + 1 < sizeof buf; i++) {
        int n = snprintf(buf + off, sizeof buf - off, "%s%s", i ? " " : "", argv[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    hps_provenance_add(p, "command_line", buf);
    hps_iso_time(hps_wall(), buf, sizeof buf);
    hps_provenance_add(p, "start_time", buf);
    if (getcwd(buf, sizeof buf))
        hps_provenance_add(p, "cwd", buf);
    if (git_state(spawner, config_dir, buf, sizeof buf) != 0)
        git_commit(config_dir, buf, sizeof buf); /* no git: read .git, no dirty flag */
    hps_provenance_add(p, "user_code_commit", buf);
    char driver[512];
    gpus(buf, sizeof buf, driver, sizeof driver);
    hps_provenance_add(p, "gpus", buf);
    hps_provenance_add(p, "nvidia_driver", driver);
}

void hps_provenance_free(hps_provenance *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        free(p->owned[i]);
    memset(p, 0, sizeof *p);
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
