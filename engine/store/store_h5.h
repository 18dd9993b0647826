/*
 * What the sweep.h5 writer (store.c) and reader (results.c) share: the h5Check
 * macro that turns a failed HDF5 call into file:line plus HDF5's own message, the
 * datatypes both sides must agree on (strings, the status/type/bool enums) and the
 * rule that names each parameter's column in /trials.
 */
#ifndef HPS_STORE_STORE_H5_H
#define HPS_STORE_STORE_H5_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "hpsweep/results.h"
#include "hpsweep/space.h"
#include "prov.h"
#include "store.h"

/* Where a failed check writes its message; buf may be NULL. */
typedef struct hps_h5err {
    char *buf;
    size_t len;
} hps_h5err;

/*
 * Evaluate an HDF5 call (or an assignment from one); if it returns a negative
 * value, record "file:line: expr: <innermost HDF5 message>" in *e and jump to the
 * enclosing function's fail label.
 */
#define h5Check(e, expr)                                                                           \
    do {                                                                                           \
        if ((expr) < 0) {                                                                          \
            hps_h5_report((e), __FILE__, __LINE__, #expr);                                         \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Fill e with where a call failed and the innermost message on HDF5's error stack;
 * when a file driver put an errno there ("Permission denied"), that comes first. */
void hps_h5_report(const hps_h5err *e, const char *file, int line, const char *expr);

/* printf into e (no-op when e->buf is NULL). */
void hps_h5_errf(const hps_h5err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close any HDF5 identifier (file, group, dataset, attribute, type, space, plist); skips < 0. */
void hps_h5_close(hid_t id);

/* A new variable-length UTF-8 string type; close it with H5Tclose. */
hid_t hps_h5_vstr_type(void);

/* The /trials status enum over int8 (running=0 .. pruned=4). */
hid_t hps_h5_status_type(void);

/* The /space type enum over int8 (float=0, int=1, categorical=2, bool=3). */
hid_t hps_h5_ptype_type(void);

/* The bool column enum over int8 {FALSE=0, TRUE=1}, which h5py reads as numpy bool. */
hid_t hps_h5_bool_type(void);

/* Write the `rows` attribute (int64 n) of table ds. Negative on failure. */
herr_t hps_h5_write_rows_attr(hid_t ds, int64_t n);

/* Free the strings of a variable-length buffer read with type over space. */
herr_t hps_h5_reclaim(hid_t type, hid_t space, void *buf);

/*
 * The /trials column name of every parameter, in space order: the parameter's own
 * name, or "param." prepended (repeatedly) while it equals a fixed column or an
 * earlier parameter's column. Returns HPS_OK or HPS_ENOMEM; free with
 * hps_store_columns_free.
 */
int hps_store_param_columns(const hps_space *space, char ***out);

/*
 * The same rule against only the first n_fixed fixed columns: the reader names the
 * columns of a file written before exit_code and attempts existed with
 * n_fixed = hps_store_n_legacy_columns.
 */
int hps_store_param_columns_n(const hps_space *space, int n_fixed, char ***out);
void hps_store_columns_free(char **cols, int n);

/* Rows per chunk of a table whose rows take rowsize bytes. */
hsize_t hps_store_chunk_rows(size_t rowsize);

/* Create the 1-D chunked, extendible table name of file type ftype with n rows
 * (shuffle, deflate, Fletcher-32, its `rows` attribute), into *out. */
int hps_store_create_table(hid_t file, const char *name, hid_t ftype, int64_t n, hid_t *out,
                           const hps_h5err *e);

/* The packed /trials row type (file and memory alike), its size in *rowsize and
 * each parameter's offset in off[] (space->n_params entries); cols from
 * hps_store_param_columns. */
int hps_store_trials_type(const hps_space *space, char **cols, hid_t *out, size_t *rowsize,
                          size_t *off, const hps_h5err *e);

/* Pack trial t into row (rowsize bytes, zeroed) as the type above lays it out.
 * HPS_OK, or HPS_EINVAL (a status, attempts count or value the row cannot hold)
 * with e filled. */
int hps_store_pack_trial(unsigned char *row, const hps_trial *t, const hps_space *space,
                         const size_t *off, char *const *cols, const hps_h5err *e);

/* Write every row of pk into ds, a /trials made by hps_store_create_table with
 * the pack's type (store_pack.c): its whole chunks as the pack stored them.
 * HPS_OK, HPS_EHDF5 or HPS_EINVAL (ds does not store rows as the pack does). */
int hps_store_pack_write(hid_t ds, const hps_store_pack *pk, const hps_h5err *e);

/*
 * Create /trials with carried + p + n rows: rows [0, carried) copied from from (an
 * earlier file's /trials; unused when carried is 0), then packed's p rows (NULL:
 * none), then n rows from trials (each
 * with space->n_params values),
 * /failures with one row per trial that has a non-empty stderr_tail, /rungs with n
 * rows from rungs and /metrics with n rows from metrics. Return HPS_OK, HPS_EHDF5,
 * HPS_ENOMEM or HPS_EINVAL (a status, attempts count or parameter value the column
 * cannot hold), with e filled. row_seconds (may be NULL; here and for /rungs and
 * /metrics): the seconds spent packing, compressing and writing the n rows given
 * (not the carried ones) are added to it.
 */
int hps_store_write_trials(hid_t file, const hps_space *space, hid_t from, int64_t carried,
                           const hps_store_pack *packed, const hps_trial *trials, int64_t n,
                           double *row_seconds, const hps_h5err *e);
/* /failures: rows [0, carried) copied from from (an earlier file's /failures: the
 * rows of trials before trials[0]), then a row per trial with a tail, and per
 * trial ids[0..n_ids) (ascending, trials without a tail), whose row is copied
 * from from (HPS_EDAMAGED when it lacks one). */
int hps_store_write_failures(hid_t file, const hps_trial *trials, int64_t n, hid_t from,
                             int64_t carried, const int64_t *ids, int64_t n_ids,
                             const hps_h5err *e);
/* /rungs and /metrics hold carried + n rows: rows [0, carried) copied from the
 * dataset from (the same table of an earlier file, read in blocks; unused when
 * carried is 0), then the n rows given. */
int hps_store_write_rungs(hid_t file, hid_t from, int64_t carried, const hps_rung *rungs,
                          int64_t n, double *row_seconds, const hps_h5err *e);
int hps_store_write_metrics(hid_t file, hid_t from, int64_t carried, const hps_metric *metrics,
                            int64_t n, double *row_seconds, const hps_h5err *e);

/* ---- rows a rewrite takes from the file it replaces (store_carry.c) ---- */

/* Write / read count rows (laid out as mtype) of the 1-D table ds from row first
 * on. HPS_OK or HPS_EHDF5 with e filled. */
int hps_store_write_rows(hid_t ds, hid_t mtype, int64_t first, int64_t count, const void *buf,
                         const hps_h5err *e);
int hps_store_read_rows(hid_t ds, hid_t mtype, int64_t first, int64_t count, void *buf,
                        const hps_h5err *e);

/* Copy rows [0, count) of from (the same table of an earlier file) into ds: whole
 * chunks as stored when both store rows alike (same file type and chunk size),
 * the rest a block at a time through mtype. HPS_OK, HPS_EHDF5 or HPS_ENOMEM. */
int hps_store_copy_rows(hid_t ds, hid_t from, hid_t mtype, int64_t count, const hps_h5err *e);

/* Whether the tables ds and from store their rows alike: the same file type and
 * rows per chunk (then a stored chunk of from is a valid chunk of ds; both were
 * made by hps_store_create_table, so their filters agree too). */
int hps_store_same_storage(hid_t ds, hid_t from);

/*
 * Open the file an earlier write left at path to copy c's rows from: sealed and
 * intact, meta's name and created attributes, enough rows in each table asked
 * for. HPS_OK with *file, *trials, *metrics, *rungs and *failures open (a table
 * nothing is
 * carried from stays H5I_INVALID_HID), else HPS_ENOENT or HPS_EDAMAGED with e
 * saying why and nothing left open.
 */
int hps_store_open_carry(const char *path, const hps_store_meta *meta, const hps_store_carry *c,
                         hid_t *file, hid_t *trials, hid_t *metrics, hid_t *rungs,
                         hid_t *failures, const hps_h5err *e);

/*
 * The ranking of /trials (written by then) as its attributes ranked_rows (how
 * many trials are done with a finite objective) and best_rows (the row indices
 * of the best HPS_STORE_BEST_ROWS of them, best first, by hps_trial_better for
 * the goal, ties to the earlier row; absent when none). HPS_OK or HPS_EHDF5.
 */
int hps_store_write_best_rows(hid_t file, const hps_store_index *ix, const hps_h5err *e);

/*
 * Read that ranking: *rows (malloc'd, *n of them, NULL when *ranked is 0) and
 * *ranked. HPS_OK, HPS_ENOSYS (a file written before the ranking existed),
 * HPS_ECORRUPT or HPS_ENOMEM with e filled.
 */
int hps_store_read_best_rows(hid_t file, int64_t **rows, int *n, int64_t *ranked,
                             const hps_h5err *e);

/*
 * The status summary (hps_store_summary in store.h) as attributes of /trials,
 * when m->facts is set and a journal lies beside path (the file being written):
 * that journal's size, mtime, inode and device, the trial counts, the rate's
 * inputs, failure causes, the best, running and latest failed rows. Nothing is
 * written otherwise. HPS_OK or HPS_EHDF5.
 */
int hps_store_write_summary(hid_t file, const char *path, const hps_store_meta *m,
                            const hps_store_index *ix, const hps_h5err *e);

/*
 * The tables of /provenance (group g) from every run's provenance (store_prov.c):
 * runs, hosts, files and facts. HPS_OK, HPS_EHDF5 or HPS_ENOMEM with e filled.
 */
int hps_store_write_prov(hid_t g, const hps_prov *runs, int n_runs, const hps_h5err *e);

/*
 * The /failures stderr_tail column: a fixed-length UTF-8 string of
 * HPS_STDERR_TAIL_LEN bytes, NUL-padded. A new type; close it with H5Tclose.
 */
hid_t hps_h5_tail_type(void);

/*
 * Fixed /trials columns, in file order; files written before exit_code and
 * attempts existed have only the first hps_store_n_legacy_columns of them.
 */
extern const char *const hps_store_fixed_columns[];
extern const int hps_store_n_fixed_columns;
extern const int hps_store_n_legacy_columns;

/* sweep.h5's user block: 512 bytes before the HDF5 data, holding the seal. */
#define HPS_STORE_USERBLOCK 512

/*
 * Seal a file image of size bytes (at least HPS_STORE_USERBLOCK; store_seal.c):
 * write the seal's text, then the CRC-32C of everything after the first 24 bytes,
 * and the size, into its user block.
 */
void hps_store_seal_image(unsigned char *image, size_t size);

/* The same for a closed HDF5 file on disk at path (tests that edit a file use it
 * to seal it again). HPS_OK, HPS_EIO, HPS_ENOSPC or HPS_ENOMEM with e filled. */
int hps_store_seal(const char *path, const hps_h5err *e);

/* The same for the size bytes of the file open read-write at fd (path names it in
 * e). Not synced. */
int hps_store_seal_fd(int fd, uint64_t size, const char *path, const hps_h5err *e);

/*
 * ---- the file driver sweep.h5 is written through (store_vfd.c) ----
 * HDF5 writes the file straight to fd, an empty file open read-write, and never
 * sees a disk error: the first is recorded for the caller. Open a sink, create the
 * file with hps_store_sink_fapl (hps_store_fapl's settings and this driver), close
 * it, then ask hps_store_sink_error before trusting a byte of it: 0, or the errno
 * of the first failed I/O (ENOMEM when the driver ran out of memory) with *what
 * naming the call. hps_store_sink_size is the file's size as HDF5 closed it (the
 * file may be longer: cut it there). The fd stays the caller's to close.
 */
typedef struct hps_store_sink hps_store_sink;
int hps_store_sink_open(hps_store_sink **out, int fd); /* HPS_OK or HPS_ENOMEM */
hid_t hps_store_sink_fapl(hps_store_sink *sink);
int hps_store_sink_error(const hps_store_sink *sink, const char **what);
uint64_t hps_store_sink_size(const hps_store_sink *sink);
void hps_store_sink_free(hps_store_sink *sink); /* NULL: no-op */

/*
 * Check the seal of the file at path before HDF5 reads it. HPS_OK: sealed and
 * intact (*sealed 1), or a file without a user block (*sealed 0: written before
 * seals existed). HPS_EDAMAGED (the checksum, the size or the seal itself does
 * not match), HPS_ECORRUPT (not an HDF5 file), HPS_ENOENT or HPS_EIO, with e filled.
 */
int hps_store_check_seal(const char *path, int *sealed, const hps_h5err *e);

/*
 * Open the sweep.h5 at path read-only for a reader, its seal checked first (HDF5
 * never sees a file whose checksum does not match): objects close with the file,
 * HDF5's lock taken where the file system has one and skipped where it has none
 * (NFS, Lustre). The file's id, or H5I_INVALID_HID with *rc set (what
 * hps_store_check_seal returns, or HPS_ECORRUPT when HDF5 cannot open it) and e
 * filled.
 */
hid_t hps_store_open_read(const char *path, int *rc, const hps_h5err *e);

/* The writer's file-access properties (also for the layout check): objects close
 * with the file, no locks on the private temp file, format bounds from HDF5 1.10
 * on (checksummed metadata). H5I_INVALID_HID on failure. */
hid_t hps_store_fapl(void);

#endif
