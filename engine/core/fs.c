/*
 * Path and directory helpers (see fs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
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
