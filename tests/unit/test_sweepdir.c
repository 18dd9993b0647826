/*
 * The sweep directory's lock (engine/store/sweepdir): one coordinator at a time,
 * the holder named in the refusal, and `hpsweep status`'s probe, which holds a
 * shared lock for a moment, never turning a coordinator away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "store/sweepdir.h"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hps_sweepdir_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/lock", dir);
    unlink(path);
    return rmdir(dir);
}

/* A child that holds dir/lock shared for ms milliseconds, as a status probe
 * would for a moment; returns its pid once the lock is held. */
static pid_t hold_shared(int ms)
{
    int ready[2];
    if (pipe(ready) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        char path[128];
        snprintf(path, sizeof path, "%s/lock", dir);
        int fd = open(path, O_RDONLY);
        char ok = fd >= 0 && flock(fd, LOCK_SH) == 0 ? 'y' : 'n';
        if (write(ready[1], &ok, 1) != 1)
            _exit(1);
        struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&t, NULL);
        _exit(0);
    }
    close(ready[1]);
    char ok = 'n';
    if (pid < 0 || read(ready[0], &ok, 1) != 1 || ok != 'y')
        pid = -1;
    close(ready[0]);
    return pid;
}

static void test_one_coordinator_at_a_time(void **state)
{
    (void)state;
    char err[512] = "";
    int fd = -1, fd2 = -1;
    assert_int_equal(hps_sweepdir_locked(dir), 0);
    assert_int_equal(hps_sweepdir_lock(dir, &fd, err, sizeof err), HPS_OK);
    assert_int_equal(hps_sweepdir_locked(dir), 1);
    /* flock belongs to the open file: a second open in this process conflicts too. */
    assert_int_equal(hps_sweepdir_lock(dir, &fd2, err, sizeof err), HPS_ELOCKED);
    assert_non_null(strstr(err, "in use by another coordinator (pid "));
    close(fd);
    assert_int_equal(hps_sweepdir_locked(dir), 0);
    assert_int_equal(hps_sweepdir_lock(dir, &fd, err, sizeof err), HPS_OK);
    close(fd);
}

static void test_a_status_probe_does_not_refuse_a_coordinator(void **state)
{
    (void)state;
    char err[512] = "";
    int fd = -1;
    assert_int_equal(hps_sweepdir_lock(dir, &fd, err, sizeof err), HPS_OK);
    close(fd);
    /* Shared for 100 ms, far longer than a probe: the coordinator waits it out. */
    pid_t probe = hold_shared(100);
    assert_true(probe > 0);
    assert_int_equal(hps_sweepdir_lock(dir, &fd, err, sizeof err), HPS_OK);
    close(fd);
    int ws;
    assert_int_equal(waitpid(probe, &ws, 0), probe);
    /* Shared for 3 s is someone else holding it: refused, and said so. */
    probe = hold_shared(3000);
    assert_true(probe > 0);
    assert_int_equal(hps_sweepdir_lock(dir, &fd, err, sizeof err), HPS_ELOCKED);
    kill(probe, SIGKILL);
    assert_int_equal(waitpid(probe, &ws, 0), probe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_coordinator_at_a_time),
        cmocka_unit_test(test_a_status_probe_does_not_refuse_a_coordinator),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
