/*
 * Reading /trials for the results reader (results.c): every row, the few rows
 * the stored ranking names as the best (store_index.c), or a block of rows
 * (results_stream.c streams the table); and /failures, whose stderr tails join
 * the trials. Declared in results_internal.h.
 */
#include <math.h>
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

/* A parameter of a file without the int32 exit_code and attempts columns may
 * itself be called exit_code, but its column is then an int64, a double or an
 * enum, never a plain int32. */
int hps_results_trials_modern(hid_t file, const hps_h5err *e)
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
    int modern = hps_results_trials_modern(file, e);
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


int hps_results_read_block(hid_t file, hps_results *res, int64_t first, int64_t max_rows,
                           int64_t *total, double **values, const hps_h5err *e)
{
    trial_rows which = {.first = first, .max_rows = max_rows, .pack = 1};
    int rc = read_trials(file, res, &which, e);
    *total = which.total;
    *values = which.values;
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
