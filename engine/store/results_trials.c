/*
 * Reading /trials for the results reader (results.c): every row, the few rows
 * the stored ranking names as the best (store_index.c), or block by block for
 * a caller that streams them; and /failures, whose stderr tails join the trials.
 * Declared in results_internal.h.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "results_internal.h"
#include "store.h"
#include "store_h5.h"
#include "store_read.h"
#include "hpsweep/error.h"

/* Parameter value of p stored in column c of row r, as space.h defines values. */
static int param_value(const h5table *t, const h5col *c, const hps_param *p, int64_t r, double *v)
{
    if (p->type == HPS_PARAM_FLOAT) {
        *v = hps_h5_get_f64(t, c, r);
        return HPS_OK;
    }
    int64_t x = hps_h5_get_i64(t, c, r);
    if (p->type == HPS_PARAM_CATEGORICAL && (x < 0 || x >= p->n_choices))
        return HPS_ECORRUPT;
    *v = p->type == HPS_PARAM_BOOL ? (x != 0) : (double)x;
    return HPS_OK;
}

/*
 * Whether /trials has the int32 exit_code and attempts columns (1), lacks them as
 * a file written before they existed does (0), or cannot be opened (< 0). A
 * parameter of such a file may itself be called exit_code, but its column is then
 * an int64, a double or an enum, never a plain int32.
 */
static int trials_have_exit_columns(hid_t file, const hps_h5err *e)
{
    if (H5Lexists(file, "trials", H5P_DEFAULT) <= 0)
        return 0; /* hps_h5_read_table reports the missing table */
    int rc = hps_h5_has_column(file, "trials", "exit_code", H5T_INTEGER, 4, e);
    return rc == 1 ? hps_h5_has_column(file, "trials", "attempts", H5T_INTEGER, 4, e) : rc;
}

/* Where read_trials reads: rows[0..n_rows) each alone (a few rows of a large
 * table); or, rows NULL, max_rows rows from row first on (every row: max_rows < 0).
 * With pack set, the parameter values of all the rows read share one allocation,
 * values (free it, not each trial's), rather than one malloc per row. */
typedef struct trial_rows {
    const int64_t *rows;
    int n_rows;
    int64_t first, max_rows;
    int pack;
    int64_t total;  /* out: rows in the table (block reads) */
    double *values; /* out, pack set: every row's values, row k's at k * n_params */
} trial_rows;

/* /trials, the rows `which` says, into res->trials. */
static int read_trials(hid_t file, hps_results *res, trial_rows *which, const hps_h5err *e)
{
    const int64_t *rows = which->rows;
    enum {
        C_ID,
        C_STATUS,
        C_SEED,
        C_BRACKET,
        C_RUNG,
        C_BUDGET,
        C_WORKER,
        C_START,
        C_END,
        C_OBJECTIVE,
        C_CAUSE,
        C_FIXED /* the columns of every version; exit_code and attempts follow the parameters */
    };
    static const h5col_as fixed_as[C_FIXED] = {COL_I64, COL_I64, COL_U64, COL_I64,
                                               COL_I64, COL_F64, COL_I64, COL_F64,
                                               COL_F64, COL_F64, COL_FSTR};
    const hps_space *space = &res->space;
    int np = space->n_params, c_exit = C_FIXED + np, c_attempts = c_exit + 1;
    char **names = NULL;
    h5table t = {.mtype = H5I_INVALID_HID, .space = H5I_INVALID_HID};
    h5col *cols = calloc((size_t)(C_FIXED + np + 2), sizeof *cols);
    int modern = trials_have_exit_columns(file, e);
    int rc = !cols ? HPS_ENOMEM : modern < 0 ? modern : HPS_OK;
    if (rc == HPS_OK)
        rc = hps_store_param_columns_n(
            space, modern ? hps_store_n_fixed_columns : hps_store_n_legacy_columns, &names);
    if (rc != HPS_OK)
        goto done;
    for (int i = 0; i < C_FIXED; i++)
        cols[i] = (h5col){.name = hps_store_fixed_columns[i], .want = fixed_as[i]};
    cols[C_CAUSE].len = HPS_CAUSE_LEN;
    for (int i = 0; i < np; i++)
        cols[C_FIXED + i] = (h5col){
            .name = names[i], .want = space->params[i].type == HPS_PARAM_FLOAT ? COL_F64 : COL_I64};
    cols[c_exit] = (h5col){.name = "exit_code", .want = COL_I64};
    cols[c_attempts] = (h5col){.name = "attempts", .want = COL_I64};
    int ncols = c_exit + (modern ? 2 : 0);
    int64_t n_out = rows ? which->n_rows : 0;
    if (!rows) {
        rc = which->max_rows < 0 ? hps_h5_read_table(file, "trials", cols, ncols, &t, e)
                                 : hps_h5_read_rows(file, "trials", cols, ncols, which->first,
                                                    which->max_rows, &t, e);
        n_out = t.n;
        which->total = t.total;
    }
    if (rc != HPS_OK)
        goto done;
    if (n_out > 0 && !(res->trials = calloc((size_t)n_out, sizeof *res->trials))) {
        rc = HPS_ENOMEM;
        goto done;
    }
    if (which->pack && n_out > 0 && np > 0 &&
        !(which->values = malloc((size_t)n_out * (size_t)np * sizeof *which->values))) {
        rc = HPS_ENOMEM;
        goto done;
    }
    for (int64_t k = 0; k < n_out; k++) {
        int64_t r = k; /* the row of t */
        if (rows) {
            hps_h5_table_free(&t);
            rc = hps_h5_read_rows(file, "trials", cols, ncols, rows[k], 1, &t, e);
            if (rc == HPS_OK && (rows[k] < 0 || t.n != 1)) {
                hps_h5_errf(e, "/trials has no row %lld (of %lld)", (long long)rows[k],
                            (long long)t.total);
                rc = HPS_ECORRUPT;
            }
            if (rc != HPS_OK)
                goto done;
            r = 0;
        }
        hps_trial *tr = &res->trials[k];
        res->n_trials = k + 1;
        tr->trial_id = hps_h5_get_i64(&t, &cols[C_ID], r);
        tr->status = (int32_t)hps_h5_get_i64(&t, &cols[C_STATUS], r);
        memcpy(&tr->seed, hps_h5_cell(&t, &cols[C_SEED], r), sizeof tr->seed);
        tr->bracket = (int32_t)hps_h5_get_i64(&t, &cols[C_BRACKET], r);
        tr->rung = (int32_t)hps_h5_get_i64(&t, &cols[C_RUNG], r);
        tr->budget = hps_h5_get_f64(&t, &cols[C_BUDGET], r);
        tr->worker = (int32_t)hps_h5_get_i64(&t, &cols[C_WORKER], r);
        tr->start = hps_h5_get_f64(&t, &cols[C_START], r);
        tr->end = hps_h5_get_f64(&t, &cols[C_END], r);
        tr->objective = hps_h5_get_f64(&t, &cols[C_OBJECTIVE], r);
        memcpy(tr->cause, hps_h5_cell(&t, &cols[C_CAUSE], r), HPS_CAUSE_LEN);
        tr->cause[HPS_CAUSE_LEN - 1] = '\0';
        tr->exit_code = modern ? (int32_t)hps_h5_get_i64(&t, &cols[c_exit], r) : -1;
        tr->attempts = modern ? (int32_t)hps_h5_get_i64(&t, &cols[c_attempts], r) : 0;
        if (np == 0)
            continue;
        if (which->pack)
            tr->values = which->values + k * np;
        else if (!(tr->values = malloc((size_t)np * sizeof *tr->values))) {
            rc = HPS_ENOMEM;
            goto done;
        }
        for (int i = 0; i < np; i++) {
            if (param_value(&t, &cols[C_FIXED + i], &space->params[i], r, &tr->values[i]) !=
                HPS_OK) {
                hps_h5_errf(e, "/trials row %lld: %s is not a valid choice index",
                            (long long)(rows ? rows[k] : r), names[i]);
                rc = HPS_ECORRUPT;
                goto done;
            }
        }
    }
done:
    if (rc == HPS_ENOMEM)
        hps_h5_errf(e, "out of memory reading /trials");
    hps_h5_table_free(&t);
    hps_store_columns_free(names, np);
    free(cols);
    return rc;
}

/* Index of the trial with id that has no stderr_tail yet, searching from *from on, then wrapping. */
static int64_t failed_trial(const hps_results *res, int64_t id, int64_t *from)
{
    for (int64_t k = 0; k < res->n_trials; k++) {
        int64_t i = (*from + k) % res->n_trials;
        if (res->trials[i].trial_id == id && !res->trials[i].stderr_tail) {
            *from = i + 1;
            return i;
        }
    }
    return -1;
}

/* /failures rows read per block: each holds a HPS_STDERR_TAIL_LEN string. */
#define FAILURE_BLOCK_ROWS 1024

/*
 * Give each trial with a /failures row its stderr_tail. Rows are in trial order,
 * so each is looked for after the previous one's trial. A file without /failures
 * (written before it existed) leaves every stderr_tail NULL.
 */
int hps_results_read_failures(hid_t file, hps_results *res, const hps_h5err *e)
{
    if (H5Lexists(file, "failures", H5P_DEFAULT) <= 0)
        return HPS_OK;
    h5col cols[] = {
        {.name = "trial_id", .want = COL_I64},
        {.name = "stderr_tail", .want = COL_FSTR, .len = HPS_STDERR_TAIL_LEN},
    };
    int rc = HPS_OK;
    int64_t next = 0;
    h5table t = {.total = 1};
    for (int64_t first = 0; rc == HPS_OK && first < t.total; first += FAILURE_BLOCK_ROWS) {
        rc = hps_h5_read_rows(file, "failures", cols, 2, first, FAILURE_BLOCK_ROWS, &t, e);
        if (rc != HPS_OK)
            break;
        for (int64_t r = 0; rc == HPS_OK && r < t.n; r++) {
            int64_t id = hps_h5_get_i64(&t, &cols[0], r);
            const char *tail = (const char *)hps_h5_cell(&t, &cols[1], r);
            size_t len = strnlen(tail, HPS_STDERR_TAIL_LEN - 1);
            int64_t i = failed_trial(res, id, &next);
            if (i < 0) {
                hps_h5_errf(e, "/failures row %lld: trial %lld is not in /trials",
                            (long long)(first + r), (long long)id);
                rc = HPS_ECORRUPT;
            } else if (len > 0) {
                char *copy = malloc(len + 1);
                if (!copy) {
                    hps_h5_errf(e, "out of memory reading /failures");
                    rc = HPS_ENOMEM;
                    break;
                }
                memcpy(copy, tail, len);
                copy[len] = '\0';
                res->trials[i].stderr_tail = copy;
            }
        }
        int64_t total = t.total;
        hps_h5_table_free(&t);
        t.total = total;
    }
    return rc;
}

int hps_results_read_best(hid_t file, hps_results *res, int best_k, const hps_h5err *e)
{
    int64_t *rows, ranked;
    int n;
    int rc = hps_store_read_best_rows(file, &rows, &n, &ranked, e);
    if (rc != HPS_OK)
        return rc;
    if (n < best_k && ranked > n) {
        free(rows);
        return HPS_ENOSYS;
    }
    if (n == 0) /* no trial is done */
        return HPS_OK;
    trial_rows which = {.rows = rows, .n_rows = n < best_k ? n : best_k};
    rc = read_trials(file, res, &which, e);
    for (int64_t k = 0; rc == HPS_OK && k < res->n_trials; k++)
        if (res->trials[k].status != HPS_TRIAL_DONE || !isfinite(res->trials[k].objective))
            rc = HPS_ENOSYS;
    free(rows);
    return rc;
}


/*
 * One block of /trials for hps_results_stream_trials: res is a shallow copy of
 * the caller's results (its space, goal and names) holding this block's trials,
 * read by read_block, on another thread while earlier blocks are handed over:
 * through read_trials (raw NULL), or as stored into rows and values, which are
 * kept from block to block.
 */
typedef struct trial_block {
    hid_t file;
    hps_results res;
    trial_rows which;
    hps_raw_trials *raw;
    hps_trial *rows;
    double *values;
    const hps_h5err *e;
    H5E_auto2_t quiet; /* the reading thread's HDF5 error printing (per thread in */
    void *quiet_data;  /* a thread-safe HDF5): the caller's */
    int rc;
} trial_block;

/* Read block b (its which.first set) into it; b->rc says how that went. */
static void read_block(trial_block *b)
{
    H5Eset_auto2(H5E_DEFAULT, b->quiet, b->quiet_data);
    if (!b->raw) {
        b->rc = read_trials(b->file, &b->res, &b->which, b->e);
        return;
    }
    int64_t left = b->which.total - b->which.first;
    int64_t n = left < b->which.max_rows ? left : b->which.max_rows;
    b->rc = hps_raw_trials_read(b->raw, b->which.first, n, b->rows, b->values, b->e);
    b->res.trials = b->rows;
    b->res.n_trials = b->rc == HPS_OK ? n : 0;
}

/* Block b (read or not) emptied: trials read_trials allocated are freed. */
static void free_block(trial_block *b)
{
    if (b->res.trials != b->rows) {
        free(b->res.trials);
        free(b->which.values);
    }
    b->res.trials = NULL;
    b->res.n_trials = 0;
    b->which.values = NULL;
}

/* Blocks read ahead of the one being handed over, at most. */
#define STREAM_SLOTS 4

/*
 * The blocks after the first, between the reading thread and the caller's: block
 * j (0 for the table's second) goes to slot[j % STREAM_SLOTS]. The reader waits
 * only when every slot holds a block not yet handed over, the caller only when
 * the next block is not read yet, so neither waits on the other's every block
 * (on a busy machine each wake-up can take milliseconds).
 */
typedef struct stream_ring {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* produced, consumed or stop changed */
    trial_block slot[STREAM_SLOTS];
    int64_t n_blocks, block, produced, consumed;
    int stop; /* the caller has stopped: read no more */
} stream_ring;

/* The reading thread: every block in turn, until one fails or the caller stops. */
static void *read_ahead(void *arg)
{
    stream_ring *q = arg;
    for (int64_t j = 0; j < q->n_blocks; j++) {
        pthread_mutex_lock(&q->mu);
        while (q->produced - q->consumed >= STREAM_SLOTS && !q->stop)
            pthread_cond_wait(&q->cv, &q->mu);
        int stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stop)
            break;
        trial_block *b = &q->slot[j % STREAM_SLOTS];
        b->which.first = (j + 1) * q->block;
        read_block(b);
        pthread_mutex_lock(&q->mu);
        q->produced++;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        if (b->rc != HPS_OK)
            break;
    }
    return NULL;
}

/*
 * For the blocks after the first, read as stored (hps_raw_trials_open) into rows
 * and values each slot keeps: *raw stays NULL (read_trials then, which allocates
 * per block) when the layout is not one raw reading decodes or memory is short.
 */
static void open_raw(hid_t file, const hps_space *space, int64_t block, stream_ring *q,
                     hps_raw_trials **raw, const hps_h5err *e)
{
    int modern = trials_have_exit_columns(file, e), np = space->n_params;
    *raw = NULL;
    if (modern < 0 || hps_raw_trials_open(file, space, modern, block, raw, e) != HPS_OK)
        return;
    int ok = 1;
    for (int i = 0; i < STREAM_SLOTS; i++) {
        trial_block *b = &q->slot[i];
        b->rows = malloc((size_t)block * sizeof *b->rows);
        b->values = np ? malloc((size_t)block * (size_t)np * sizeof *b->values) : NULL;
        ok = ok && b->rows && (b->values || !np);
    }
    for (int i = 0; i < STREAM_SLOTS; i++)
        q->slot[i].raw = ok ? *raw : NULL;
    if (!ok) {
        hps_raw_trials_close(*raw);
        *raw = NULL;
    }
}

/*
 * The blocks after the first are read and decompressed on a second thread, up to
 * STREAM_SLOTS ahead, while each handles the earlier ones on this thread, so that
 * a large export takes about the longer of the two rather than their sum. HDF5 is
 * only ever called by one thread at a time: this one calls it again only after
 * the reader has ended (pthread_join); without a thread (pthread_create failed)
 * each block is read here before it is handed over. The first block goes through
 * read_trials, which checks the table (its columns, the rows written) as every
 * read does.
 */
int hps_results_stream_trials(hid_t file, hps_results *out, const hps_trial_stream *s,
                              const hps_h5err *e)
{
    trial_block first = {.file = file, .res = *out, .which = {.max_rows = s->block, .pack = 1},
                         .e = e};
    first.res.trials = NULL;
    first.res.n_trials = 0;
    H5Eget_auto2(H5E_DEFAULT, &first.quiet, &first.quiet_data);
    int rc = read_trials(file, &first.res, &first.which, e);
    int64_t total = first.which.total;
    if (rc != HPS_OK || first.res.n_trials == 0) {
        free_block(&first);
        return rc;
    }
    stream_ring *q = calloc(1, sizeof *q);
    if (!q) {
        free_block(&first);
        hps_h5_errf(e, "out of memory reading /trials");
        return HPS_ENOMEM;
    }
    q->block = s->block;
    q->n_blocks = (total - 1) / s->block; /* blocks after the first */
    for (int i = 0; i < STREAM_SLOTS; i++) {
        q->slot[i] = first;
        q->slot[i].res.trials = NULL;
        q->slot[i].res.n_trials = 0;
        q->slot[i].which = (trial_rows){.max_rows = s->block, .pack = 1, .total = total};
    }
    hps_raw_trials *raw = NULL;
    if (q->n_blocks > 0)
        open_raw(file, &out->space, s->block, q, &raw, e);
    pthread_t reader;
    int ahead = q->n_blocks > 0 && pthread_mutex_init(&q->mu, NULL) == 0;
    if (ahead && pthread_cond_init(&q->cv, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        ahead = 0;
    }
    if (ahead && pthread_create(&reader, NULL, read_ahead, q) != 0) {
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
        ahead = 0;
    }
    rc = s->each(&first.res, 0, s->arg);
    free_block(&first);
    for (int64_t j = 0; rc == HPS_OK && j < q->n_blocks; j++) {
        trial_block *b = &q->slot[j % STREAM_SLOTS];
        if (ahead) {
            pthread_mutex_lock(&q->mu);
            while (q->produced <= j)
                pthread_cond_wait(&q->cv, &q->mu);
            pthread_mutex_unlock(&q->mu);
        } else {
            b->which.first = (j + 1) * s->block;
            read_block(b);
        }
        rc = b->rc;
        if (rc == HPS_OK)
            rc = s->each(&b->res, b->which.first, s->arg);
        free_block(b);
        if (ahead) {
            pthread_mutex_lock(&q->mu);
            q->consumed++;
            pthread_cond_broadcast(&q->cv);
            pthread_mutex_unlock(&q->mu);
        }
    }
    if (ahead) {
        pthread_mutex_lock(&q->mu);
        q->stop = 1;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        pthread_join(reader, NULL);
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
    }
    for (int i = 0; i < STREAM_SLOTS; i++) {
        trial_block *b = &q->slot[i];
        free_block(b); /* read ahead, never handed over */
        free(b->rows);
        free(b->values);
    }
    hps_raw_trials_close(raw);
    free(q);
    return rc;
}

int hps_results_read_trials(hid_t file, hps_results *res, const hps_h5err *e)
{
    trial_rows all = {.max_rows = -1};
    return read_trials(file, res, &all, e);
}

int hps_results_read_rows(hid_t file, hps_results *res, const int64_t *rows, int n,
                          const hps_h5err *e)
{
    trial_rows which = {.rows = rows, .n_rows = n};
    return n > 0 ? read_trials(file, res, &which, e) : HPS_OK;
}
