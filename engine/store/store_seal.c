/*
 * The seal of sweep.h5: a whole-file CRC-32C in the file's HDF5 user block.
 *
 * sweep.h5 is written with a 512-byte user block, bytes HDF5 reserves for the
 * application and never reads (h5py, pandas and h5dump skip it). The writer
 * builds the file in memory; before writing it out it checksums everything after
 * the first 24 bytes and puts the result there:
 *
 *   0   8  magic "HPSWEEP\0"
 *   8   4  seal version (1), little-endian
 *   12  4  CRC-32C of bytes [24, file size): the rest of the user block and the
 *          whole HDF5 file
 *   16  8  the file size
 *   24     a line of text saying what this is; zeros to 512
 *
 * hpsweep's reader checks the seal before HDF5 parses a single byte, so a damaged
 * file (a flipped bit, a truncated copy) is reported as damaged instead of being
 * handed to a library that can crash on malformed metadata or return invented
 * rows. A file whose HDF5 signature sits at offset 0 has no seal (written before
 * seals existed, or by another program) and is read without this check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "crc32c.h"
#include "store_h5.h"
#include "hpsweep/error.h"

static const unsigned char seal_magic[8] = {'H', 'P', 'S', 'W', 'E', 'E', 'P', '\0'};
static const unsigned char h5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
#define SEAL_VERSION 1u

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int err_of(int e)
{
    return e == ENOSPC || e == EDQUOT ? HPS_ENOSPC : HPS_EIO;
}

/* Where the checksummed bytes start: after magic, version, CRC and size. */
#define SEAL_FROM 24u

/* CRC-32C of [from, size) of fd. */
static int crc_from(int fd, uint64_t from, uint64_t size, uint32_t *crc)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf)
        return HPS_ENOMEM;
    uint32_t c = 0;
    int rc = HPS_OK;
    for (uint64_t off = from; off < size;) {
        size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK, got = 0;
        int err = hps_pread_full(fd, buf, want, (long long)off, &got);
        if (err != 0 || got < want) {
            errno = err != 0 ? err : EIO; /* short: the file shrank under us */
            rc = HPS_EIO;
            break;
        }
        c = hps_crc32c(c, buf, got);
        off += got;
    }
    free(buf);
    *crc = c;
    return rc;
}

static void seal_text(unsigned char *block)
{
    memset(block + SEAL_FROM, 0, HPS_STORE_USERBLOCK - SEAL_FROM);
    snprintf((char *)block + SEAL_FROM, HPS_STORE_USERBLOCK - SEAL_FROM,
             "\nhpsweep results: an HDF5 file follows this 512-byte user block; "
             "the CRC-32C above covers it.\n");
}

static void seal_head(unsigned char *block, uint32_t crc, uint64_t size)
{
    memcpy(block, seal_magic, 8);
    put_le(block + 8, SEAL_VERSION, 4);
    put_le(block + 12, crc, 4);
    put_le(block + 16, size, 8);
}

void hps_store_seal_image(unsigned char *image, size_t size)
{
    seal_text(image);
    seal_head(image, hps_crc32c(0, image + SEAL_FROM, size - SEAL_FROM), (uint64_t)size);
}

/* Write n bytes at off: HPS_OK, or the error of errno (a short write of 0 bytes: EIO). */
static int pwrite_all(int fd, const unsigned char *p, size_t n, off_t off)
{
    int e = hps_pwrite_full(fd, p, n, (long long)off);
    return e == 0 ? HPS_OK : err_of(e);
}

int hps_store_seal_fd(int fd, uint64_t size, const char *path, const hps_h5err *e)
{
    int rc = HPS_OK;
    if (size < HPS_STORE_USERBLOCK) {
        errno = EIO;
        rc = HPS_EIO;
    }
    unsigned char block[HPS_STORE_USERBLOCK];
    seal_text(block);
    /* The text first (the checksum covers it), then the checksum of it all. */
    if (rc == HPS_OK)
        rc = pwrite_all(fd, block + SEAL_FROM, sizeof block - SEAL_FROM, SEAL_FROM);
    uint32_t crc = 0;
    if (rc == HPS_OK)
        rc = crc_from(fd, SEAL_FROM, size, &crc);
    if (rc == HPS_OK) {
        seal_head(block, crc, size);
        rc = pwrite_all(fd, block, SEAL_FROM, 0);
    }
    if (rc != HPS_OK)
        hps_h5_errf(e, "sealing %s: %s", path, rc == HPS_ENOMEM ? "out of memory"
                                                              : strerror(errno));
    return rc;
}

int hps_store_seal(const char *path, const hps_h5err *e)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        hps_h5_errf(e, "open %s: %s", path, strerror(errno));
        return err_of(errno);
    }
    struct stat st;
    int rc = HPS_OK;
    if (fstat(fd, &st) != 0) {
        rc = err_of(errno);
        hps_h5_errf(e, "sealing %s: %s", path, strerror(errno));
    } else {
        rc = hps_store_seal_fd(fd, (uint64_t)st.st_size, path, e);
    }
    if (close(fd) != 0 && rc == HPS_OK) {
        hps_h5_errf(e, "close %s: %s", path, strerror(errno));
        rc = err_of(errno);
    }
    return rc;
}

int hps_store_check_seal(const char *path, int *sealed, const hps_h5err *e)
{
    *sealed = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        hps_h5_errf(e, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? HPS_ENOENT : HPS_EIO;
    }
    unsigned char block[HPS_STORE_USERBLOCK + 8];
    struct stat st;
    int rc = HPS_OK;
    ssize_t got = fstat(fd, &st) == 0 ? pread(fd, block, sizeof block, 0) : -1;
    if (got < 0) {
        hps_h5_errf(e, "%s: cannot read: %s", path, strerror(errno));
        close(fd);
        return HPS_EIO;
    }
    uint64_t size = (uint64_t)st.st_size;
    int sig0 = got >= 8 && memcmp(block, h5_signature, 8) == 0;
    int magic = got >= 24 && memcmp(block, seal_magic, 8) == 0;
    int sig512 = got >= (ssize_t)sizeof block &&
                 memcmp(block + HPS_STORE_USERBLOCK, h5_signature, 8) == 0;
    if (sig0) {
        close(fd); /* no user block: a file written before seals, or by another program */
        return HPS_OK;
    }
    if (!magic && !sig512) {
        hps_h5_errf(e, "%s is not an HDF5 file (no HDF5 signature where one belongs)", path);
        close(fd);
        return HPS_ECORRUPT;
    }
    if (!magic || get_le(block + 8, 4) != SEAL_VERSION) {
        hps_h5_errf(e, "%s is damaged: its hpsweep seal (the first 512 bytes) is not intact",
                    path);
        close(fd);
        return HPS_EDAMAGED;
    }
    uint64_t want_size = get_le(block + 16, 8);
    uint32_t want_crc = (uint32_t)get_le(block + 12, 4), crc = 0;
    if (want_size != size) {
        hps_h5_errf(e, "%s is damaged or was changed after hpsweep wrote it: it has %llu "
                    "bytes, but hpsweep wrote %llu", path,
                    (unsigned long long)size, (unsigned long long)want_size);
        rc = HPS_EDAMAGED;
    } else if ((rc = crc_from(fd, SEAL_FROM, size, &crc)) != HPS_OK) {
        hps_h5_errf(e, "%s: cannot read: %s", path,
                    rc == HPS_ENOMEM ? "out of memory" : strerror(errno));
    } else if (crc != want_crc) {
        hps_h5_errf(e, "%s is damaged or was changed after hpsweep wrote it: its checksum "
                    "does not match (CRC-32C %08x, sealed as %08x)", path, crc, want_crc);
        rc = HPS_EDAMAGED;
    }
    close(fd);
    *sealed = rc == HPS_OK;
    return rc;
}

hid_t hps_store_open_read(const char *path, int *rc, const hps_h5err *e)
{
    int sealed;
    if ((*rc = hps_store_check_seal(path, &sealed, e)) != HPS_OK)
        return H5I_INVALID_HID;
    *rc = HPS_ECORRUPT;
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID;
    h5Check(e, fapl = H5Pcreate(H5P_FILE_ACCESS));
    h5Check(e, H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG));
#if H5_VERSION_GE(1, 10, 7) && !(H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 12 && H5_VERS_RELEASE == 0)
    h5Check(e, H5Pset_file_locking(fapl, 1, 1));
#endif
    h5Check(e, file = H5Fopen(path, H5F_ACC_RDONLY, fapl));
    *rc = HPS_OK;
fail:
    hps_h5_close(fapl);
    return file;
}
