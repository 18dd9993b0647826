/*
 * Sweep directory helpers (see sweepdir.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/sweepdir.h"
#include "hpsweep/error.h"

int hps_path_join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= len) ? HPS_EINVAL : HPS_OK;
}

int hps_mkdir_p(const char *path, char *err, size_t errlen)
{
    char tmp[HPS_PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "path too long: %s", path);
        return HPS_EINVAL;
    }
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create directory %s: %s", tmp, strerror(errno));
                return HPS_EIO;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", path);
        return HPS_EIO;
    }
    return HPS_OK;
}

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
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
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
    if (ftruncate(f, 0) != 0 || pwrite(f, line, (size_t)n, 0) != n) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(f);
        return HPS_EIO;
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
