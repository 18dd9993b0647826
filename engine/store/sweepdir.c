/*
 * Sweep directory helpers (see sweepdir.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sweepdir.h"
#include "hpsweep/error.h"

int hps_sweepdir_lock(const char *dir, int *fd, char *err, size_t errlen)
{
    char path[HPS_PATH_MAX];
    if (hps_path_join(path, sizeof path, dir, "lock") != HPS_OK) {
        snprintf(err, errlen, "path too long: %s", dir);
        return HPS_EINVAL;
    }
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return HPS_EIO;
    }
    /* `hpsweep status` probes the lock with a shared flock for a moment: retry
     * briefly, so that a probe never turns a coordinator away. One that really
     * holds the lock holds it far longer than this. */
    int locked = flock(f, LOCK_EX | LOCK_NB) == 0;
    for (int i = 0; i < 20 && !locked && errno == EWOULDBLOCK; i++) {
        struct timespec pause = {0, 25 * 1000 * 1000};
        nanosleep(&pause, NULL);
        locked = flock(f, LOCK_EX | LOCK_NB) == 0;
    }
    if (!locked) {
        int e = errno;
        char holder[256] = "";
        ssize_t n = pread(f, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(f);
        if (e == EWOULDBLOCK) {
            snprintf(err, errlen, "%s is in use by another coordinator (%s); wait for it to end "
                     "or stop it first", dir, holder[0] ? holder : "unknown process");
            return HPS_ELOCKED;
        }
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        return HPS_EIO;
    }
    char host[256] = "?";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = '\0';
    char line[400];
    int n = snprintf(line, sizeof line, "pid %ld on %s\n", (long)getpid(), host);
    int rc = ftruncate(f, 0) == 0 ? HPS_OK : HPS_EIO;
    if (rc == HPS_OK && hps_pwrite_full(f, line, (size_t)n, 0) != 0)
        rc = HPS_EIO;
    if (rc != HPS_OK) {
        int e = errno;
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        close(f);
        return e == ENOSPC || e == EDQUOT ? HPS_ENOSPC : HPS_EIO;
    }
    *fd = f;
    return HPS_OK;
}

int hps_sweepdir_locked(const char *dir)
{
    char path[HPS_PATH_MAX];
    if (hps_path_join(path, sizeof path, dir, "lock") != HPS_OK)
        return 0;
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    int held = flock(f, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(f);
    return held;
}
