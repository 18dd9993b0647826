/*
 * libhpsfi.so: an LD_PRELOAD shim that makes one chosen I/O call of a process
 * fail, for the fault-injection test (run_faults.sh) and the torture test.
 *
 * Only calls on files under HPS_FI_DIR count: opens of paths there, and writes,
 * syncs and truncations of the descriptors those opens returned (tracked per fd;
 * close and dup keep the table right), and renames touching it. So Open MPI's own
 * files, the config, shared libraries and the terminal are never touched.
 *
 *   HPS_FI_DIR=dir        the sweep directory (absolute, or relative to the cwd)
 *   HPS_FI_AT=k           the k-th counted call misbehaves (0: none; just count)
 *   HPS_FI_MODE=m         EIO or ENOSPC: that call fails with that errno;
 *                         SHORT: a write writes half (at least one byte) and
 *                         returns that, other calls fail with EIO;
 *                         KILL: SIGKILL the process just before the call
 *   HPS_FI_REPORT=file    at exit, append "<calls counted> <what call k was>";
 *                         in KILL mode, "KILL <call> <path>" just before the kill
 *   HPS_FI_MATCH=text     count only calls whose "<call> <path>" contains text
 *                         ("sweep.h5", "rename", "fdatasync"): to aim at one kind
 *   HPS_FI_STOP_SUFFIX=s  raise SIGSTOP when a path ending in s is opened
 *                         (to catch a process during start-up, deterministically)
 *
 * Counting is per process: a forked child (the spawner) inherits the count but
 * runs no counted I/O of its own.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 4096

static char g_dir[PATH_MAX];
static size_t g_dirlen;
static long g_at;
static int g_mode; /* 0 EIO, 1 ENOSPC, 2 SHORT, 3 KILL */
static const char *g_report, *g_stop, *g_match;
static atomic_long g_count;
static char g_what[256];
static unsigned char g_ours[MAX_FD];
static char *g_path[MAX_FD]; /* what each of our fds was opened as, for reports */

#define REAL(name) real_##name
#define DECL(ret, name, ...)                                                                       \
    static ret (*real_##name)(__VA_ARGS__);
DECL(int, open, const char *, int, ...)
DECL(int, open64, const char *, int, ...)
DECL(int, openat, int, const char *, int, ...)
DECL(int, creat, const char *, mode_t)
DECL(ssize_t, write, int, const void *, size_t)
DECL(ssize_t, pwrite, int, const void *, size_t, off_t)
DECL(ssize_t, pwrite64, int, const void *, size_t, off_t)
DECL(ssize_t, writev, int, const struct iovec *, int)
DECL(int, fsync, int)
DECL(int, fdatasync, int)
DECL(int, ftruncate, int, off_t)
DECL(int, ftruncate64, int, off_t)
DECL(int, rename, const char *, const char *)
DECL(int, renameat, int, const char *, int, const char *)
DECL(int, close, int)
DECL(int, dup, int)
DECL(int, dup2, int, int)

static void load(void)
{
#define LOAD(name) real_##name = dlsym(RTLD_NEXT, #name)
    LOAD(open); LOAD(open64); LOAD(openat); LOAD(creat); LOAD(write); LOAD(pwrite);
    LOAD(pwrite64); LOAD(writev); LOAD(fsync); LOAD(fdatasync); LOAD(ftruncate);
    LOAD(ftruncate64); LOAD(rename); LOAD(renameat); LOAD(close); LOAD(dup); LOAD(dup2);
#undef LOAD
}

/* path made absolute against the cwd (not normalised: the tests use plain paths). */
static int absolute(const char *path, char *out, size_t len)
{
    if (path[0] == '/')
        return snprintf(out, len, "%s", path) < (int)len ? 0 : -1;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    const char *p = path;
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    return snprintf(out, len, "%s/%s", cwd, p) < (int)len ? 0 : -1;
}

static int under_dir(const char *path)
{
    char abs[PATH_MAX];
    if (!g_dirlen || !path || absolute(path, abs, sizeof abs) != 0)
        return 0;
    return strncmp(abs, g_dir, g_dirlen) == 0 && (abs[g_dirlen] == '/' || abs[g_dirlen] == '\0');
}

__attribute__((constructor)) static void init(void)
{
    load();
    const char *d = getenv("HPS_FI_DIR");
    if (d && *d && absolute(d, g_dir, sizeof g_dir) == 0) {
        g_dirlen = strlen(g_dir);
        while (g_dirlen > 1 && g_dir[g_dirlen - 1] == '/')
            g_dir[--g_dirlen] = '\0';
    }
    const char *at = getenv("HPS_FI_AT");
    g_at = at ? atol(at) : 0;
    const char *m = getenv("HPS_FI_MODE");
    g_mode = !m || !strcmp(m, "EIO") ? 0 : !strcmp(m, "ENOSPC") ? 1 : !strcmp(m, "SHORT") ? 2 : 3;
    g_report = getenv("HPS_FI_REPORT");
    g_stop = getenv("HPS_FI_STOP_SUFFIX");
    g_match = getenv("HPS_FI_MATCH");
    if (g_match && !*g_match)
        g_match = NULL;
}

__attribute__((destructor)) static void fini(void)
{
    if (!g_report || !g_dirlen)
        return;
    char line[400];
    int n = snprintf(line, sizeof line, "%ld %s\n", (long)atomic_load(&g_count),
                     g_what[0] ? g_what : "-");
    int fd = real_open(g_report, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (real_write(fd, line, (size_t)n) < 0) {
            /* nothing to do: the report is best effort */
        }
        real_close(fd);
    }
}

/* Count one call; 1 when this is the one to misbehave (KILL never returns: it
 * appends "KILL <call> <path>" to the report first). */
static int hit(const char *what, const char *path)
{
    char call[256];
    snprintf(call, sizeof call, "%s %s", what, path ? path : "");
    if (g_match && !strstr(call, g_match))
        return 0;
    long n = atomic_fetch_add(&g_count, 1) + 1;
    if (g_at <= 0 || n != g_at)
        return 0;
    memcpy(g_what, call, sizeof g_what);
    if (g_mode == 3) {
        if (g_report) {
            char line[400];
            int len = snprintf(line, sizeof line, "KILL %s\n", g_what);
            int fd = real_open(g_report, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                if (real_write(fd, line, (size_t)len) < 0) {
                    /* best effort */
                }
                real_close(fd);
            }
        }
        kill(getpid(), SIGKILL);
    }
    return 1;
}

static const char *fd_path(int fd)
{
    return fd >= 0 && fd < MAX_FD && g_path[fd] ? g_path[fd] : "";
}

static int fail(void)
{
    errno = g_mode == 1 ? ENOSPC : EIO;
    return -1;
}

static int ours(int fd)
{
    return fd >= 0 && fd < MAX_FD && g_ours[fd];
}

static void track_path(int fd, int yes, const char *path)
{
    if (fd < 0 || fd >= MAX_FD)
        return;
    g_ours[fd] = (unsigned char)(yes != 0);
    free(g_path[fd]);
    g_path[fd] = yes && path ? strdup(path) : NULL;
}


static void maybe_stop(const char *path)
{
    size_t n = g_stop ? strlen(g_stop) : 0, m = path ? strlen(path) : 0;
    if (n && m >= n && strcmp(path + m - n, g_stop) == 0)
        raise(SIGSTOP);
}

static int do_open(int (*real)(const char *, int, ...), const char *path, int flags,
                   mode_t mode)
{
    maybe_stop(path);
    int mine = under_dir(path);
    if (mine && hit("open", path))
        return fail();
    int fd = real(path, flags, mode);
    track_path(fd, mine && fd >= 0, path);
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(real_open, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(real_open64, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int mine = (dirfd == AT_FDCWD || path[0] == '/') && under_dir(path);
    maybe_stop(path);
    if (mine && hit("open", path))
        return fail();
    int fd = real_openat(dirfd, path, flags, mode);
    track_path(fd, mine && fd >= 0, path);
    return fd;
}

int creat(const char *path, mode_t mode)
{
    return do_open(real_open, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

static ssize_t short_or_fail(ssize_t (*doit)(size_t), size_t n)
{
    if (g_mode == 2 && n > 1)
        return doit(n / 2);
    return fail();
}

static int w_fd;
static const void *w_buf;
static off_t w_off;
static ssize_t w_write(size_t n) { return real_write(w_fd, w_buf, n); }
static ssize_t w_pwrite(size_t n) { return real_pwrite(w_fd, w_buf, n, w_off); }

ssize_t write(int fd, const void *buf, size_t n)
{
    if (ours(fd) && hit("write", fd_path(fd))) {
        w_fd = fd;
        w_buf = buf;
        return short_or_fail(w_write, n);
    }
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (ours(fd) && hit("pwrite", fd_path(fd))) {
        w_fd = fd;
        w_buf = buf;
        w_off = off;
        return short_or_fail(w_pwrite, n);
    }
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    if (ours(fd) && hit("pwrite", fd_path(fd))) {
        w_fd = fd;
        w_buf = buf;
        w_off = off;
        return short_or_fail(w_pwrite, n);
    }
    return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    if (ours(fd) && hit("writev", fd_path(fd)))
        return fail(); /* a short writev is a write of the first half of the first iov */
    return real_writev(fd, iov, cnt);
}

int fsync(int fd)
{
    if (ours(fd) && hit("fsync", fd_path(fd)))
        return fail();
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    if (ours(fd) && hit("fdatasync", fd_path(fd)))
        return fail();
    return real_fdatasync(fd);
}

int ftruncate(int fd, off_t len)
{
    if (ours(fd) && hit("ftruncate", fd_path(fd)))
        return fail();
    return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
    if (ours(fd) && hit("ftruncate", fd_path(fd)))
        return fail();
    return real_ftruncate64(fd, len);
}

int rename(const char *from, const char *to)
{
    if ((under_dir(from) || under_dir(to)) && hit("rename", to))
        return fail();
    return real_rename(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
    if (((fd1 == AT_FDCWD && under_dir(from)) || (fd2 == AT_FDCWD && under_dir(to))) &&
        hit("rename", to))
        return fail();
    return real_renameat(fd1, from, fd2, to);
}

int close(int fd)
{
    track_path(fd, 0, NULL);
    return real_close(fd);
}

int dup(int fd)
{
    int r = real_dup(fd);
    track_path(r, ours(fd), fd_path(fd));
    return r;
}

int dup2(int fd, int to)
{
    int r = real_dup2(fd, to);
    if (r >= 0 && r != fd)
        track_path(r, ours(fd), fd_path(fd));
    return r;
}
