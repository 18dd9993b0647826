/*
 * Small HDF5 and file helpers the trainer's dataset, synthetic-data and
 * checkpoint code share: the innermost HDF5 error message, a readable name for a
 * dataset's type and rank ("2-D float32"), scalar attributes, and the durable
 * commit of a file written to "<path>.tmp" (fsync, rename, fsync the directory).
 * The trainer cannot use the engine's store_h5.h (it depends on nothing of the
 * engine), hence its own.
 */
#ifndef HPS_TRAINER_H5UTIL_H
#define HPS_TRAINER_H5UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

/* Silence HDF5's automatic error printing on this thread (the library reports
 * through return codes and messages instead). */
void hps_tr_h5_quiet(void);

/* The innermost message on this thread's HDF5 error stack ("" when none). */
void hps_tr_h5_last(char *buf, size_t len);

/* Close any HDF5 identifier (H5Idec_ref); ids < 0 are skipped. */
void hps_tr_h5_close(hid_t id);

/*
 * Describe dataset ds as "<rank>-D <type>" with type one of int8..int64,
 * uint8..uint64, float16/32/64, string, compound, enum, other; dims[] receives
 * up to 2 dimensions and *rank the rank. Returns 0, or -1 when HDF5 fails.
 * *is_f32 / *is_i32: float32 / signed int32 (native or either byte order).
 */
int hps_tr_h5_describe(hid_t ds, char *buf, size_t len, int *rank, int64_t dims[2],
                       int *is_f32, int *is_i32);

/* Scalar attributes: write on loc (replacing an existing one is not supported),
 * read with a type check done by HDF5's conversion. Return 0 or -1. */
int hps_tr_attr_write(hid_t loc, const char *name, hid_t mem_type, const void *value);
int hps_tr_attr_read(hid_t loc, const char *name, hid_t mem_type, void *value);
int hps_tr_attr_write_str(hid_t loc, const char *name, const char *value);
/* Read a string attribute into buf (truncated, always terminated). */
int hps_tr_attr_read_str(hid_t loc, const char *name, char *buf, size_t len);

/*
 * Make tmp durable and move it over path: fsync tmp, rename, fsync the directory.
 * Returns 0, or -1 with the failing step and strerror in err (tmp is removed).
 */
int hps_tr_commit_file(const char *tmp, const char *path, char *err, size_t errlen);

#endif
