/*
 * Filesystem helpers every module shares: joining paths, making and removing
 * directories, writing a buffer whole.
 */
#ifndef HPS_CORE_FS_H
#define HPS_CORE_FS_H

#include <stddef.h>

#define HPS_PATH_MAX 4096

/* dir/name into buf; HPS_EINVAL if it does not fit. */
int hps_path_join(char *buf, size_t len, const char *dir, const char *name);

/* mkdir -p (mode 0777 & ~umask). HPS_OK, HPS_EINVAL (path too long) or HPS_EIO
 * with err (may be NULL) saying which directory could not be made and why. */
int hps_mkdir_p(const char *path, char *err, size_t errlen);

/* rm -rf path (symbolic links removed, never followed). HPS_OK or HPS_EIO. */
int hps_rm_tree(const char *path);

/* Write all n bytes of p at offset off of fd, through short writes and EINTR: 0, or
 * the errno of the call that failed (EIO for a write of 0 bytes), errno set to it. */
int hps_pwrite_full(int fd, const void *p, size_t n, long long off);

/* Read n bytes at offset off of fd into p, through short reads and EINTR, stopping
 * early only at the end of the file: 0 with *got the bytes read, or the errno of
 * the call that failed (errno set to it; *got the bytes read before it). */
int hps_pread_full(int fd, void *p, size_t n, long long off, size_t *got);

#endif
