/*
 * hpsweep error codes.
 *
 * Every error is listed once in HPS_ERRNO_MAP; the X-macro generates the negative
 * HPS_E* codes, hps_strerror() and hps_err_name(). Library code returns these
 * codes (HPS_OK == 0 on success); only the CLI decides to exit.
 */
#ifndef HPSWEEP_ERROR_H
#define HPSWEEP_ERROR_H

#define HPS_ERRNO_MAP(X)                                                      \
    X(EINVAL, "invalid argument")                                             \
    X(ENOMEM, "out of memory")                                                \
    X(EIO, "input/output error")                                              \
    X(ECONFIG, "invalid configuration")                                       \
    X(EAGAIN, "nothing to suggest until a running trial reports")             \
    X(EDONE, "search space exhausted")                                        \
    X(ECORRUPT, "corrupt or unreadable data")                                 \
    X(ENOENT, "no such file or entry")                                        \
    X(EEXIST, "already exists")                                               \
    X(ELOCKED, "sweep directory is locked by another coordinator")            \
    X(EMISMATCH, "configuration differs from the recorded one")               \
    X(EMPI, "MPI error")                                                      \
    X(EHDF5, "HDF5 error")                                                    \
    X(EOBJECTIVE, "objective failed")                                         \
    X(EVERSION, "unsupported format version")                                 \
    X(ENOSYS, "operation not supported")                                      \
    X(EINTR, "interrupted by a signal")                                       \
    X(EEXEC, "the program cannot be run")                                     \
    X(EFAILURES, "too many trials failed in a row")                           \
    X(ENOSPC, "no space left on device")                                      \
    X(EDAMAGED, "damaged data: a bad record or checksum with valid data after it")

enum {
    HPS_OK = 0,
    HPS_ERRNO_BASE_ = -1000,
#define HPS_ERR_ENUM_(name, msg) HPS_##name,
    HPS_ERRNO_MAP(HPS_ERR_ENUM_)
#undef HPS_ERR_ENUM_
    HPS_ERRNO_END_
};

/* Human-readable message for an HPS_* code (static storage, never NULL). */
const char *hps_strerror(int err);

/* Symbolic name ("HPS_EINVAL") for an HPS_* code (static storage, never NULL). */
const char *hps_err_name(int err);

#endif
