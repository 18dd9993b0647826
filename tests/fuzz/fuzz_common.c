/*
 * What the fuzz harnesses share: inputs handed to file APIs through a memfd, so
 * that fuzzing never touches the disk.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

const char *hps_fuzz_file(int *fd, const uint8_t *data, size_t size)
{
    static char path[64];
    if (*fd < 0 && (*fd = memfd_create("hps-fuzz", MFD_CLOEXEC)) < 0)
        return NULL;
    if (ftruncate(*fd, 0) != 0)
        return NULL;
    for (size_t off = 0; off < size;) {
        ssize_t w = pwrite(*fd, data + off, size - off, (off_t)off);
        if (w <= 0)
            return NULL;
        off += (size_t)w;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", *fd);
    return path;
}
