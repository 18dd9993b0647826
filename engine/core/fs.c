/*
 * Path and directory helpers (see fs.h).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "hpsweep/error.h"

int hps_pwrite_full(int fd, const void *p, size_t n, long long off)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, b, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return errno;
        }
        b += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

int hps_pread_full(int fd, void *p, size_t n, long long off, size_t *got)
{
    unsigned char *b = p;
    size_t done = 0;
    int err = 0;
    while (done < n) {
        ssize_t r = pread(fd, b + done, n - done, (off_t)(off + (long long)done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = errno;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return err;
}

int hps_path_join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= len) ? HPS_EINVAL : HPS_OK;
}

int hps_mkdir_p(const char *path, char *err, size_t errlen)
{
    char tmp[HPS_PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        if (err)
            snprintf(err, errlen, "path too long: %s", path);
        return HPS_EINVAL;
    }
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                if (err)
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
        if (err)
            snprintf(err, errlen, "%s is not a directory", path);
        return HPS_EIO;
    }
    return HPS_OK;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int hps_rm_tree(const char *path)
{
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? HPS_OK : HPS_EIO;
}
