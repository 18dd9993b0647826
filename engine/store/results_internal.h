/*
 * What results.c, results_trials.c, results_stream.c, results_raw.c and
 * results_inflate.c share: reading /trials (whole, the best rows the file names,
 * or block by block) and /failures into an hps_results.
 * Each returns HPS_OK, HPS_ECORRUPT or HPS_ENOMEM with e filled, unless it says
 * otherwise.
 */
#ifndef HPS_STORE_RESULTS_INTERNAL_H
#define HPS_STORE_RESULTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "export.h"
#include "store_h5.h"
#include "hpsweep/results.h"

/* How hps_results_each_trials hands /trials over: blocks of block rows to each;
 * or, text set, each block turned into text by text (on the thread that read it,
 * several at once: it may change only out) and that text handed to put, in
 * order; or, rows set, how hps_results_open_rows reads the n_rows rows named. */
typedef struct hps_trial_stream {
    int64_t block;
    int (*each)(const hps_results *r, int64_t first, void *arg);
    int (*text)(const hps_results *r, int64_t first, const void *arg, hps_export_text *out);
    int (*put)(const hps_results *r, int64_t first, const hps_export_text *text, void *arg);
    void *arg;
    const int64_t *rows;
    int n_rows;
} hps_trial_stream;

/* hps_results_each_trials with s's text and put stages (s->rows NULL). */
int hps_results_stream_text(const char *path, const hps_trial_stream *s, hps_results *out,
                            char *err, size_t errlen);

/* The rows rows[0..n) of /trials, each alone, into res->trials in that order (no
 * stderr tails). */
int hps_results_read_rows(hid_t file, hps_results *res, const int64_t *rows, int n,
                          const hps_h5err *e);

/* Every row of /trials into res->trials (the space must be read). */
int hps_results_read_trials(hid_t file, hps_results *res, const hps_h5err *e);

/* The stderr tails of /failures into res->trials (none from a file without it). */
int hps_results_read_failures(hid_t file, hps_results *res, const hps_h5err *e);

/*
 * The best best_k trials from the ranking stored with /trials (store_index.c),
 * best first; HPS_ENOSYS when the file has none, or it covers fewer than best_k
 * trials while more are ranked, or a row it names is not a done trial with a
 * finite objective (then the whole table must be read and ranked).
 */
int hps_results_read_best(hid_t file, hps_results *res, int best_k, const hps_h5err *e);

/* /trials block by block, each block handed to s->each (whose first error stops
 * it and is returned) as a copy of *out holding that block's trials; the next
 * blocks are read and decoded on other threads meanwhile (results_stream.c), so
 * each must not call HDF5. out gets no trials. */
int hps_results_stream_trials(hid_t file, hps_results *out, const hps_trial_stream *s,
                              const hps_h5err *e);

/* At most max_rows rows of /trials from row first on into res->trials, through
 * HDF5's conversion, with every check a whole read makes; their parameter values
 * share one allocation, *values (free it, not each trial's); *total: the rows in
 * the table. */
int hps_results_read_block(hid_t file, hps_results *res, int64_t first, int64_t max_rows,
                           int64_t *total, double **values, const hps_h5err *e);

/* Whether /trials has the exit_code and attempts columns (1), lacks them as files
 * written before they existed do (0), or cannot be read (< 0, e filled). */
int hps_results_trials_modern(hid_t file, const hps_h5err *e);

/*
 * /trials read as the file stores its rows, without HDF5's type conversion
 * (results_raw.c), for streaming: open it for a table with (modern) or without
 * the exit_code and attempts columns. Returns HPS_OK, HPS_ENOMEM, or HPS_ENOSYS
 * when the table's layout is not one it decodes (read it through
 * hps_results_read_block then); e is left alone.
 */
typedef struct hps_raw_trials hps_raw_trials;
int hps_raw_trials_open(hid_t file, const hps_space *space, int modern, hps_raw_trials **out,
                        const hps_h5err *e);

/* Bytes per row as the file stores them; the open /trials (owned by r). */
size_t hps_raw_trials_rowsize(const hps_raw_trials *r);
hid_t hps_raw_trials_dataset(const hps_raw_trials *r);

/* HDF5: rows first..first + n (all in the table) as stored into buf (n rows of
 * hps_raw_trials_rowsize bytes). HPS_OK or HPS_ECORRUPT with e filled. */
int hps_raw_trials_fetch(hps_raw_trials *r, int64_t first, int64_t n, unsigned char *buf,
                         const hps_h5err *e);

/* No HDF5: the n stored rows at rows, rows first.. of the table, into
 * trials[0..n), whose parameter values go to values[k * n_params ..]; every field
 * of each trial is set (no stderr tail). HPS_OK, or HPS_ECORRUPT with e filled. */
int hps_raw_trials_decode(const hps_raw_trials *r, const unsigned char *rows, int64_t first,
                          int64_t n, hps_trial *trials, double *values, const hps_h5err *e);

/* Close the dataset and free r; NULL is a no-op. */
void hps_raw_trials_close(hps_raw_trials *r);

/*
 * /trials' chunks as stored, decoded here (results_inflate.c): HDF5 only reads a
 * chunk's bytes (hps_chunk_fetch, under the caller's HDF5 lock); the checksum,
 * inflate and unshuffle (hps_chunk_decode) call no HDF5, so threads run them at
 * once, each with its own hps_chunk_scratch.
 *
 * hps_chunks_open takes ds (borrowed; total rows) only when its chunks are
 * filtered exactly as store_tables.c writes them: shuffle over rowsize-byte
 * elements, deflate, Fletcher-32, in that order; HPS_ENOSYS otherwise (read
 * through H5Dread), HPS_ENOMEM.
 */
typedef struct hps_chunks hps_chunks;
typedef struct hps_chunk_scratch hps_chunk_scratch;
int hps_chunks_open(hid_t ds, size_t rowsize, int64_t total, hps_chunks **out,
                    const hps_h5err *e);
int64_t hps_chunks_rows(const hps_chunks *c); /* rows per chunk */
void hps_chunks_close(hps_chunks *c);         /* NULL: no-op */

/* One thread's buffers and zlib stream: HPS_OK or HPS_ENOMEM; _free(NULL) no-op. */
int hps_chunk_scratch_init(const hps_chunks *c, hps_chunk_scratch **out);
void hps_chunk_scratch_free(hps_chunk_scratch *s);

/* HDF5: chunk k (rows k * hps_chunks_rows(c) on) as stored into s (nothing to
 * do when s holds it decoded already: small blocks ask for a chunk again). HPS_OK;
 * HPS_ENOSYS when its filter mask says a filter was skipped or it was never
 * written (read its rows through H5Dread: HDF5 knows how); HPS_ECORRUPT or
 * HPS_ENOMEM with e filled. */
int hps_chunk_fetch(const hps_chunks *c, int64_t k, hps_chunk_scratch *s, const hps_h5err *e);

/* No HDF5: the chunk k fetched into s, checked and decoded; *rows: its
 * hps_chunks_rows(c) rows as the file lays them out (in s, until its next
 * fetch). HPS_OK, or HPS_ECORRUPT with e naming the chunk, its rows and what is
 * wrong (checksum, inflate error, size). */
int hps_chunk_decode(const hps_chunks *c, int64_t k, hps_chunk_scratch *s,
                     const unsigned char **rows, const hps_h5err *e);

/* HDF5's shuffle filter undone: nbytes of in, elements of elem bytes stored
 * byte plane by byte plane, into out as elements (a trailing part element is
 * copied as is; one element, or 1-byte elements, are left as they are). */
void hps_unshuffle(const unsigned char *in, unsigned char *out, size_t elem, size_t nbytes);

/* HDF5's Fletcher-32 checksum of len bytes (H5_checksum_fletcher32). */
uint32_t hps_fletcher32(const void *data, size_t len);

#endif
