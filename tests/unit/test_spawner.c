/*
 * Unit tests for the spawner (workers/spawner.c). The tests use sh as the program to
 * script children (hpsweep itself never runs a shell): stdout and exit codes come
 * back, signals are reported, process groups die with their leader or on request,
 * exec failures are errors and not pids, arguments and environments arrive exactly,
 * and no child outlives a stopped, killed or orphaned spawner. Every test checks
 * that no fd leaked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "workers/spawner.h"

static const char *const ENV[] = {"PATH=/usr/local/bin:/usr/bin:/bin", NULL};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static hps_spawner *start(void)
{
    hps_spawner *sp = NULL;
    char err[256] = "";
    int rc = hps_spawner_start(&sp, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("hps_spawner_start: %s", err);
    assert_non_null(sp);
    return sp;
}

static hps_child spawn(hps_spawner *sp, const char *const *argv, const char *const *envp,
                       const char *cwd, const char *stderr_path)
{
    hps_spawn_req req = {argv, envp, cwd, stderr_path};
    hps_child c;
    char err[256] = "";
    int rc = hps_spawner_spawn(sp, &req, &c, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("spawn %s: %s (%s)", argv[0], hps_err_name(rc), err);
    assert_true(c.pid > 0);
    assert_true(c.stdout_fd >= 0);
    assert_true(fcntl(c.stdout_fd, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(c.stdout_fd, F_GETFL) & O_NONBLOCK);
    return c;
}

/* Read fd until EOF, or until the output holds `lines` newlines when lines > 0. */
static char *read_out(int fd, size_t *len, int lines)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    long deadline = now_ms() + 20000;
    int nl = 0;
    for (;;) {
        if (lines > 0 && nl >= lines)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        long left = deadline - now_ms();
        assert_true(left > 0);
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0)
            continue;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        assert_true(k >= 0);
        if (k == 0)
            break;
        for (ssize_t i = 0; i < k; i++)
            nl += buf[n + (size_t)i] == '\n';
        n += (size_t)k;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Wait (at most timeout_ms) for the next exit notice; assert it is pid's. */
static int wait_exit(hps_spawner *sp, pid_t pid, long timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        pid_t got;
        int st;
        int rc = hps_spawner_reap(sp, &got, &st);
        if (rc == HPS_OK) {
            assert_int_equal(got, pid);
            return st;
        }
        assert_int_equal(rc, HPS_EAGAIN);
        long left = deadline - now_ms();
        if (left <= 0)
            fail_msg("no exit notice for %d", (int)pid);
        struct pollfd p = {hps_spawner_fd(sp), POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        assert_true(r >= 0 || errno == EINTR);
    }
}

/* A process is gone when kill finds nothing or only a zombie (orphans go to an init
 * that may reap them late). */
static int gone(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

static void wait_gone(pid_t pid, long timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    while (!gone(pid)) {
        if (now_ms() > deadline)
            fail_msg("process %d still running", (int)pid);
        usleep(5000);
    }
}

static pid_t ppid_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    int ppid = -1;
    if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1)
        return -1;
    return ppid;
}

static void test_stdout_and_exit_code(void **state)
{
    (void)state;
    int fds = count_fds();
    hps_spawner *sp = start();
    const char *const argv[] = {"sh", "-c", "echo hi; exit 3", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 0);
    assert_string_equal(out, "hi\n");
    free(out);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 3);
    assert_int_equal(hps_child_signal(&c, 0), HPS_ENOENT); /* reaped, group empty */
    close(c.stdout_fd);
    pid_t p;
    assert_int_equal(hps_spawner_reap(sp, &p, &st), HPS_EAGAIN);
    hps_spawner_stop(sp);
    hps_spawner_stop(NULL);
    assert_int_equal(count_fds(), fds);
}

static void test_killed_by_signal(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    const char *const argv[] = {"sh", "-c", "kill -SEGV $$", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

/* hps_child_signal reaches the whole group: grandchildren die too. */
static void test_group_kill(void **state)
{
    (void)state;
    int fds = count_fds();
    hps_spawner *sp = start();
    const char *const argv[] = {"sh", "-c", "sleep 100 & echo $!; sleep 100 & echo $!; wait",
                                NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 2);
    int g1 = 0, g2 = 0;
    assert_int_equal(sscanf(out, "%d %d", &g1, &g2), 2);
    free(out);
    assert_false(gone(g1));
    assert_false(gone(g2));
    assert_int_equal(getpgid(g1), c.pid);
    assert_int_equal(getpgid(c.pid), c.pid);
    assert_int_equal(hps_child_signal(&c, SIGKILL), HPS_OK);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    wait_gone(g1, 2000);
    wait_gone(g2, 2000);
    /* The pipe reaches EOF: nobody holds its write end any more. */
    out = read_out(c.stdout_fd, NULL, 0);
    free(out);
    close(c.stdout_fd);
    hps_child bad = {0, -1};
    assert_int_equal(hps_child_signal(&bad, SIGKILL), HPS_EINVAL);
    hps_spawner_stop(sp);
    assert_int_equal(count_fds(), fds);
}

/* A process that left its trial's group with setsid (a daemon) is adopted by the
 * spawner (a subreaper) when the trial exits and killed then, with its own group:
 * it neither outlives the trial nor holds its stdout open. Before, it lived on
 * and the trial waited 2 s for the pipe. */
static void test_setsid_escape_killed(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    const char *const argv[] = {"sh", "-c", "setsid sh -c 'sleep 100 & sleep 100' & echo $!; "
                                            "sleep 0.3", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 1);
    int esc = 0;
    assert_int_equal(sscanf(out, "%d", &esc), 1);
    free(out);
    for (long until = now_ms() + 5000; getsid(esc) != esc && now_ms() < until;)
        usleep(5000);
    assert_int_equal(getsid(esc), esc);        /* it escaped into a session of its own */
    assert_int_not_equal(getpgid(esc), c.pid); /* so the group kill cannot reach it */
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFEXITED(st));
    wait_gone(esc, 2000);
    /* Its children (sleep 100 x2, in its group) are gone too: the pipe ends. */
    out = read_out(c.stdout_fd, NULL, 0);
    free(out);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

/* A leader that exits takes its group with it, so a background process cannot hold
 * the stdout pipe open after the trial ended. */
static void test_group_dies_with_leader(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    const char *const argv[] = {"sh", "-c", "sleep 100 & echo $!; exit 0", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 0); /* EOF only once the sleep is dead */
    int g = 0;
    assert_int_equal(sscanf(out, "%d", &g), 1);
    free(out);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    wait_gone(g, 2000);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

static void expect_spawn_error(hps_spawner *sp, const char *const *argv,
                               const char *const *envp, const char *cwd,
                               const char *stderr_path, int code, const char *prefix,
                               int errnum)
{
    hps_spawn_req req = {argv, envp, cwd, stderr_path};
    hps_child c = {123, 123};
    char err[256] = "";
    assert_int_equal(hps_spawner_spawn(sp, &req, &c, err, sizeof err), code);
    assert_int_equal(c.pid, -1);
    assert_int_equal(c.stdout_fd, -1);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", err, prefix);
    if (errnum && !strstr(err, strerror(errnum)))
        fail_msg("message '%s' lacks '%s'", err, strerror(errnum));
}

static void test_exec_failures(void **state)
{
    (void)state;
    int fds = count_fds();
    hps_spawner *sp = start();
    char dir[] = "/tmp/hps-spawn-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof file, "%s/not-exec", dir);
    int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);

    const char *const missing[] = {"hps-no-such-program-4711", NULL};
    expect_spawn_error(sp, missing, ENV, NULL, NULL, HPS_EEXEC, "exec: ", ENOENT);
    const char *const noexec[] = {file, NULL};
    expect_spawn_error(sp, noexec, ENV, NULL, NULL, HPS_EEXEC, "exec: ", EACCES);
    const char *const ok[] = {"true", NULL};
    expect_spawn_error(sp, ok, ENV, "/nonexistent/hps-dir", NULL, HPS_EEXEC,
                       "exec: ", ENOENT);
    expect_spawn_error(sp, ok, ENV, NULL, "/nonexistent/hps-dir/err.log", HPS_EEXEC,
                       "exec: ", ENOENT);
    /* PATH comes from the child's environment, not the spawner's. */
    const char *const nopath[] = {"PATH=/nonexistent", NULL};
    expect_spawn_error(sp, ok, nopath, NULL, NULL, HPS_EEXEC, "exec: ", ENOENT);
    const char *const empty[] = {NULL};
    expect_spawn_error(sp, empty, ENV, NULL, NULL, HPS_EINVAL, "spawn: ", 0);
    const char *const blank[] = {"", NULL};
    expect_spawn_error(sp, blank, ENV, NULL, NULL, HPS_EINVAL, "spawn: ", 0);

    /* No notice came for any failure: the first one is for this child. */
    hps_child c = spawn(sp, ok, ENV, dir, NULL);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
    unlink(file);
    rmdir(dir);
    assert_int_equal(count_fds(), fds);
}

/* Shell metacharacters stay literal: no shell runs. */
static void test_no_shell(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    char target[64], arg[128], expect[512];
    snprintf(target, sizeof target, "/tmp/hps-owned-%d", (int)getpid());
    unlink(target);
    snprintf(arg, sizeof arg, "x; touch %s", target);
    const char *const argv[] = {"printf", "%s\\n", arg, "$(id)", "*", "`id`", "a\"b'c", NULL};
    snprintf(expect, sizeof expect, "%s\n$(id)\n*\n`id`\na\"b'c\n", arg);
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 0);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(out, expect);
    free(out);
    assert_int_equal(access(target, F_OK), -1);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

static void test_large_output(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    const char *const argv[] = {"head", "-c", "10485760", "/dev/zero", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    size_t len = 0;
    char *out = read_out(c.stdout_fd, &len, 0);
    assert_int_equal(len, 10485760);
    free(out);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

static void test_environment_exact(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    const char *const envp[] = {"PATH=/usr/bin:/bin", "HPS_X=a b;c=d", "EMPTY=", NULL};
    const char *const argv[] = {"env", NULL};
    hps_child c = spawn(sp, argv, envp, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 0);
    assert_string_equal(out, "PATH=/usr/bin:/bin\nHPS_X=a b;c=d\nEMPTY=\n");
    free(out);
    assert_int_equal(WEXITSTATUS(wait_exit(sp, c.pid, 10000)), 0);
    close(c.stdout_fd);

    /* No environment at all: NULL envp, absolute program path. */
    const char *const abs[] = {"/usr/bin/env", NULL};
    c = spawn(sp, abs, NULL, NULL, NULL);
    out = read_out(c.stdout_fd, NULL, 0);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(WEXITSTATUS(wait_exit(sp, c.pid, 10000)), 0);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

/* An environment and argv far larger than one socket message (each string stays
 * under the kernel's 128 KiB limit for one argument or variable). */
static void test_large_request(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    enum { NVAR = 8, VARLEN = 120000, NARG = 2000 };
    const char *envp[NVAR + 2] = {"PATH=/usr/bin:/bin"};
    for (int i = 0; i < NVAR; i++) {
        char *var = malloc(VARLEN + 8);
        assert_non_null(var);
        snprintf(var, 8, "BIG%d=", i);
        memset(var + 5, 'v', VARLEN);
        var[VARLEN + 5] = '\0';
        envp[i + 1] = var;
    }
    const char **argv = calloc(NARG + 5, sizeof *argv);
    assert_non_null(argv);
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = "printf '%s %s %s\\n' \"${#BIG7}\" \"$#\" \"${2000}\"";
    argv[3] = "sh";
    char num[NARG][8];
    for (int i = 0; i < NARG; i++) {
        snprintf(num[i], sizeof num[i], "%d", i + 1);
        argv[4 + i] = num[i];
    }
    hps_child c = spawn(sp, argv, envp, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 0);
    assert_string_equal(out, "120000 2000 2000\n");
    free(out);
    assert_int_equal(WEXITSTATUS(wait_exit(sp, c.pid, 10000)), 0);
    close(c.stdout_fd);
    free(argv);
    for (int i = 0; i < NVAR; i++)
        free((char *)envp[i + 1]);
    hps_spawner_stop(sp);
}

static void test_stderr_path_and_cwd(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    char dir[] = "/tmp/hps-spawn-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/stderr.log", dir);
    const char *const argv[] = {"sh", "-c", "echo out; echo err1 >&2; pwd >&2", NULL};
    for (int i = 0; i < 2; i++) { /* appended, not truncated */
        hps_child c = spawn(sp, argv, ENV, dir, path);
        char *out = read_out(c.stdout_fd, NULL, 0);
        assert_string_equal(out, "out\n");
        free(out);
        assert_int_equal(WEXITSTATUS(wait_exit(sp, c.pid, 10000)), 0);
        close(c.stdout_fd);
    }
    char expect[512];
    snprintf(expect, sizeof expect, "err1\n%s\nerr1\n%s\n", dir, dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    char got[512] = "";
    ssize_t n = read(fd, got, sizeof got - 1);
    assert_true(n > 0);
    got[n] = '\0';
    close(fd);
    assert_string_equal(got, expect);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(sb.st_mode & 0777, 0644 & ~mask);
    unlink(path);
    rmdir(dir);
    hps_spawner_stop(sp);
}

/* stdin is /dev/null; the child starts with no blocked or ignored signals although
 * the spawner blocks and ignores several. */
static void test_child_stdio_and_signals(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    const char *const cat[] = {"sh", "-c", "cat; echo done", NULL};
    hps_child c = spawn(sp, cat, ENV, NULL, NULL);
    char *out = read_out(c.stdout_fd, NULL, 0);
    assert_string_equal(out, "done\n");
    free(out);
    assert_int_equal(WEXITSTATUS(wait_exit(sp, c.pid, 10000)), 0);
    close(c.stdout_fd);

    const char *const grep[] = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL};
    c = spawn(sp, grep, ENV, NULL, NULL);
    out = read_out(c.stdout_fd, NULL, 0);
    assert_string_equal(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    free(out);
    assert_int_equal(WEXITSTATUS(wait_exit(sp, c.pid, 10000)), 0);
    close(c.stdout_fd);

    const char *const intr[] = {"sh", "-c", "kill -INT $$; echo survived", NULL};
    c = spawn(sp, intr, ENV, NULL, NULL);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGINT);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

/* A rank that ignores SIGCHLD when it starts the spawner does not pass that on:
 * the spawner still reaps and reports its children. */
static void test_rank_ignored_sigchld(void **state)
{
    (void)state;
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
    hps_spawner *sp = start();
    assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
    const char *const argv[] = {"sh", "-c", "exit 5", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 5);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

/* Signals sent to the job do not stop the spawner. */
static void test_spawner_ignores_job_signals(void **state)
{
    (void)state;
    hps_spawner *sp = start();
    const char *const argv[] = {"sleep", "100", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    pid_t spid = ppid_of(c.pid);
    assert_true(spid > 1 && spid != getpid());
    assert_int_equal(getpgid(spid), spid); /* its own group, not ours */
    assert_true(getpgid(spid) != getpgrp());
    const int sigs[] = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        assert_int_equal(kill(spid, sigs[i]), 0);
    usleep(100000);
    assert_false(gone(spid));
    assert_false(gone(c.pid));
    const char *const t[] = {"true", NULL};
    hps_child c2 = spawn(sp, t, ENV, NULL, NULL);
    assert_int_equal(WEXITSTATUS(wait_exit(sp, c2.pid, 10000)), 0);
    close(c2.stdout_fd);
    assert_int_equal(hps_child_signal(&c, SIGTERM), HPS_OK);
    int st = wait_exit(sp, c.pid, 10000);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    close(c.stdout_fd);
    hps_spawner_stop(sp);
}

/* The rank exits (or is killed) without stopping its spawner: the spawner sees its
 * sockets close, kills the children and exits. */
static void test_parent_death(void **state)
{
    (void)state;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t rank = fork();
    assert_true(rank >= 0);
    if (rank == 0) {
        close(pfd[0]);
        hps_spawner *sp;
        char err[256];
        if (hps_spawner_start(&sp, err, sizeof err) != HPS_OK)
            _exit(1);
        const char *const argv[] = {"sleep", "100", NULL};
        hps_spawn_req req = {argv, ENV, NULL, NULL};
        hps_child c;
        if (hps_spawner_spawn(sp, &req, &c, err, sizeof err) != HPS_OK)
            _exit(2);
        int pids[2] = {(int)c.pid, (int)ppid_of(c.pid)};
        if (write(pfd[1], pids, sizeof pids) != (ssize_t)sizeof pids)
            _exit(3);
        _exit(0);
    }
    close(pfd[1]);
    int pids[2] = {0, 0};
    assert_int_equal(read(pfd[0], pids, sizeof pids), (ssize_t)sizeof pids);
    close(pfd[0]);
    int st;
    assert_int_equal(waitpid(rank, &st, 0), rank);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(pids[0] > 0 && pids[1] > 1);
    wait_gone(pids[0], 2000);
    wait_gone(pids[1], 2000);
}

static void test_stop_kills_children(void **state)
{
    (void)state;
    int fds = count_fds();
    hps_spawner *sp = start();
    const char *const argv[] = {"sh", "-c", "sleep 100 & echo $!; sleep 100", NULL};
    pid_t pids[6];
    for (int i = 0; i < 3; i++) {
        hps_child c = spawn(sp, argv, ENV, NULL, NULL);
        char *out = read_out(c.stdout_fd, NULL, 1);
        int g = 0;
        assert_int_equal(sscanf(out, "%d", &g), 1);
        free(out);
        pids[2 * i] = c.pid;
        pids[2 * i + 1] = g;
        close(c.stdout_fd);
    }
    hps_spawner_stop(sp);
    for (int i = 0; i < 6; i += 2) /* the spawner reaped its children before exiting */
        assert_true(kill(pids[i], 0) < 0 && errno == ESRCH);
    for (int i = 1; i < 6; i += 2)
        wait_gone(pids[i], 2000);
    assert_int_equal(count_fds(), fds);
}

/* A spawner killed outright: calls report HPS_EIO, children die of PDEATHSIG. */
static void test_spawner_killed(void **state)
{
    (void)state;
    int fds = count_fds();
    hps_spawner *sp = start();
    const char *const argv[] = {"sleep", "100", NULL};
    hps_child c = spawn(sp, argv, ENV, NULL, NULL);
    pid_t spid = ppid_of(c.pid);
    assert_true(spid > 1);
    assert_int_equal(kill(spid, SIGKILL), 0);
    wait_gone(c.pid, 2000);
    struct pollfd p = {hps_spawner_fd(sp), POLLIN, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
    pid_t got;
    int st;
    assert_int_equal(hps_spawner_reap(sp, &got, &st), HPS_EIO);
    hps_spawn_req req = {argv, ENV, NULL, NULL};
    hps_child c2;
    char err[256] = "";
    assert_int_equal(hps_spawner_spawn(sp, &req, &c2, err, sizeof err), HPS_EIO);
    assert_non_null(strstr(err, "gone"));
    close(c.stdout_fd);
    hps_spawner_stop(sp);
    assert_int_equal(count_fds(), fds);
}

/* Many quick children spawned before any notice is read (the notices back up in the
 * spawner), then every notice collected exactly once. */
static void test_many_spawns(void **state)
{
    (void)state;
    int fds = count_fds();
    hps_spawner *sp = start();
    enum { N = 300 };
    pid_t pids[N];
    int seen[N] = {0};
    const char *const argv[] = {"true", NULL};
    for (int i = 0; i < N; i++) {
        hps_child c = spawn(sp, argv, ENV, NULL, NULL);
        pids[i] = c.pid;
        close(c.stdout_fd);
    }
    long deadline = now_ms() + 30000;
    for (int done = 0; done < N;) {
        pid_t got;
        int st;
        int rc = hps_spawner_reap(sp, &got, &st);
        if (rc == HPS_EAGAIN) {
            assert_true(now_ms() < deadline);
            struct pollfd p = {hps_spawner_fd(sp), POLLIN, 0};
            assert_true(poll(&p, 1, 1000) >= 0 || errno == EINTR);
            continue;
        }
        assert_int_equal(rc, HPS_OK);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        int k = 0;
        while (k < N && pids[k] != got)
            k++;
        assert_true(k < N);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
        done++;
    }
    pid_t got;
    int st;
    assert_int_equal(hps_spawner_reap(sp, &got, &st), HPS_EAGAIN);
    hps_spawner_stop(sp);
    assert_int_equal(count_fds(), fds);
}

int main(void)
{
    /* Children that die of SIGSEGV must not write core files. */
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdout_and_exit_code),
        cmocka_unit_test(test_killed_by_signal),
        cmocka_unit_test(test_group_kill),
        cmocka_unit_test(test_setsid_escape_killed),
        cmocka_unit_test(test_group_dies_with_leader),
        cmocka_unit_test(test_exec_failures),
        cmocka_unit_test(test_no_shell),
        cmocka_unit_test(test_large_output),
        cmocka_unit_test(test_environment_exact),
        cmocka_unit_test(test_large_request),
        cmocka_unit_test(test_stderr_path_and_cwd),
        cmocka_unit_test(test_child_stdio_and_signals),
        cmocka_unit_test(test_rank_ignored_sigchld),
        cmocka_unit_test(test_spawner_ignores_job_signals),
        cmocka_unit_test(test_parent_death),
        cmocka_unit_test(test_stop_kills_children),
        cmocka_unit_test(test_spawner_killed),
        cmocka_unit_test(test_many_spawns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
