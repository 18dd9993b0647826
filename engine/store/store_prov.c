/*
 * The tables of /provenance in sweep.h5, from every run's provenance (prov.h):
 *
 *   runs   one row per run (the first, then each resume): run, start_time,
 *          end_time, end_status, trials_ended, hosts, ranks, ranks_per_trial,
 *          hpsweep_version, hpsweep_commit, command_line, budget, changed (what
 *          differs from the run before: facts, host facts, files; "" for the first)
 *   hosts  one row per host of each run: run, then hps_prov_host_keys
 *   files  one row per fingerprinted file of each run: run, role, path, sha256,
 *          bytes (int64)
 *   facts  every fact of every run, long format: run, key, value
 *
 * run is an int32 (0 = the first run); every other column is a variable-length
 * UTF-8 string except bytes. pandas reads each with
 * pandas.DataFrame(f["provenance/hosts"][:]) (strings as bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "hpsweep/error.h"
#include "prov.h"
#include "store_h5.h"

typedef enum { PC_I32, PC_I64, PC_STR } pcol_type;

/* A table being built: rows of ncols 8-byte slots (int32, int64 or const char *). */
typedef struct ptable {
    int ncols;
    const char *const *names;
    const pcol_type *types;
    size_t n, cap;
    unsigned char *rows;
} ptable;

static unsigned char *slot(ptable *t, size_t r, int c)
{
    return t->rows + (r * (size_t)t->ncols + (size_t)c) * 8;
}

/* A new row (zeroed: strings NULL, written as ""); its index, or -1 when out of memory. */
static long add_row(ptable *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        unsigned char *p = realloc(t->rows, cap * (size_t)t->ncols * 8);
        if (!p)
            return -1;
        t->rows = p;
        t->cap = cap;
    }
    memset(slot(t, t->n, 0), 0, (size_t)t->ncols * 8);
    return (long)t->n++;
}

static void set_i64(ptable *t, size_t r, int c, int64_t v)
{
    if (t->types[c] == PC_I32) {
        int32_t v32 = (int32_t)v;
        memcpy(slot(t, r, c), &v32, sizeof v32);
    } else {
        memcpy(slot(t, r, c), &v, sizeof v);
    }
}

static void set_str(ptable *t, size_t r, int c, const char *v)
{
    memcpy(slot(t, r, c), &v, sizeof v);
}

static int col_index(const ptable *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0)
            return c;
    return -1;
}

static int write_table(hid_t g, const char *name, ptable *t, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t vstr = H5I_INVALID_HID, mtype = H5I_INVALID_HID, ftype = H5I_INVALID_HID;
    hid_t space = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    static const char empty[] = "";
    for (size_t r = 0; r < t->n; r++)
        for (int c = 0; c < t->ncols; c++) {
            const char *v;
            memcpy(&v, slot(t, r, c), sizeof v);
            if (t->types[c] == PC_STR && !v)
                set_str(t, r, c, empty);
        }
    h5Check(e, vstr = hps_h5_vstr_type());
    h5Check(e, mtype = H5Tcreate(H5T_COMPOUND, (size_t)t->ncols * 8));
    for (int c = 0; c < t->ncols; c++) {
        hid_t type = t->types[c] == PC_I32   ? H5T_NATIVE_INT32
                     : t->types[c] == PC_I64 ? H5T_NATIVE_INT64
                                             : vstr;
        h5Check(e, H5Tinsert(mtype, t->names[c], (size_t)c * 8, type));
    }
    h5Check(e, ftype = H5Tcopy(mtype));
    h5Check(e, H5Tpack(ftype));
    hsize_t dims[1] = {(hsize_t)t->n};
    h5Check(e, space = H5Screate_simple(1, dims, NULL));
    h5Check(e, ds = H5Dcreate2(g, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (t->n > 0)
        h5Check(e, H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->rows));
    rc = HPS_OK;
fail:
    if (rc != HPS_OK && e->buf) {
        size_t used = strlen(e->buf);
        if (used < e->len)
            snprintf(e->buf + used, e->len - used, " (/provenance/%s)", name);
    }
    hps_h5_close(ds);
    hps_h5_close(space);
    hps_h5_close(ftype);
    hps_h5_close(mtype);
    hps_h5_close(vstr);
    return rc;
}

/* ---- what changed between two runs ------------------------------------------------ */

typedef struct changes {
    char *buf;
    size_t len, used;
    int oom;
} changes;

static void note_change(void *ctx, const char *what, const char *a, const char *b)
{
    changes *ch = ctx;
    (void)a;
    (void)b;
    size_t n = strlen(what) + 2;
    if (ch->oom)
        return;
    if (ch->used + n + 1 > ch->len) {
        size_t len = 2 * (ch->len + n + 1);
        char *p = realloc(ch->buf, len);
        if (!p) {
            ch->oom = 1;
            return;
        }
        ch->buf = p;
        ch->len = len;
    }
    ch->used += (size_t)snprintf(ch->buf + ch->used, ch->len - ch->used, "%s%s",
                                 ch->used ? ", " : "", what);
}

/* ---- the four tables ----------------------------------------------------------------- */

static const char *const run_cols[] = {"run", "start_time", "end_time", "end_status",
                                       "trials_ended", "hosts", "ranks", "ranks_per_trial",
                                       "hpsweep_version", "hpsweep_commit", "command_line",
                                       "budget", "changed"};
#define N_RUN_COLS ((int)(sizeof run_cols / sizeof run_cols[0]))

static int write_runs(hid_t g, const hps_prov *runs, int n_runs, const hps_h5err *e)
{
    pcol_type types[N_RUN_COLS];
    for (int c = 0; c < N_RUN_COLS; c++)
        types[c] = c == 0 ? PC_I32 : PC_STR;
    ptable t = {.ncols = N_RUN_COLS, .names = run_cols, .types = types};
    changes *ch = calloc((size_t)n_runs, sizeof *ch);
    int rc = ch ? HPS_OK : HPS_ENOMEM;
    for (int k = 0; rc == HPS_OK && k < n_runs; k++) {
        long r = add_row(&t);
        if (r < 0) {
            rc = HPS_ENOMEM;
            break;
        }
        set_i64(&t, (size_t)r, 0, k);
        for (int c = 1; c < N_RUN_COLS - 1; c++)
            set_str(&t, (size_t)r, c, hps_prov_get(&runs[k], HPS_PROV_RUN, 0, run_cols[c]));
        if (k > 0) {
            hps_prov_diff(&runs[k - 1], &runs[k], note_change, &ch[k]);
            if (ch[k].oom)
                rc = HPS_ENOMEM;
        }
        set_str(&t, (size_t)r, N_RUN_COLS - 1, ch[k].buf);
    }
    if (rc == HPS_OK)
        rc = write_table(g, "runs", &t, e);
    else
        hps_h5_errf(e, "out of memory writing /provenance/runs");
    for (int k = 0; ch && k < n_runs; k++)
        free(ch[k].buf);
    free(ch);
    free(t.rows);
    return rc;
}

/* Rows of kind (hosts or files) of every run, columns "run" then keys[]. */
static int write_kind(hid_t g, const char *name, int kind, const char *const *keys,
                      const hps_prov *runs, int n_runs, const hps_h5err *e)
{
    int nk = 0;
    while (keys[nk])
        nk++;
    const char **names = malloc(sizeof *names * (size_t)(nk + 1));
    pcol_type *types = malloc(sizeof *types * (size_t)(nk + 1));
    ptable t = {.ncols = nk + 1, .names = names, .types = types};
    int rc = names && types ? HPS_OK : HPS_ENOMEM;
    for (int c = 0; rc == HPS_OK && c <= nk; c++) {
        names[c] = c == 0 ? "run" : keys[c - 1];
        types[c] = c == 0 ? PC_I32 : strcmp(names[c], "bytes") == 0 ? PC_I64 : PC_STR;
    }
    for (int k = 0; rc == HPS_OK && k < n_runs; k++) {
        const hps_prov *p = &runs[k];
        size_t first = t.n;
        int count = hps_prov_count(p, kind);
        for (int i = 0; i < count; i++) {
            long r = add_row(&t);
            if (r < 0) {
                rc = HPS_ENOMEM;
                break;
            }
            set_i64(&t, (size_t)r, 0, k);
        }
        for (int i = 0; rc == HPS_OK && i < p->n; i++) {
            const hps_prov_entry *en = &p->e[i];
            int c = en->kind == kind ? col_index(&t, en->key) : -1;
            if (c <= 0)
                continue;
            size_t r = first + (size_t)en->index;
            if (types[c] == PC_I64)
                set_i64(&t, r, c, strtoll(en->value, NULL, 10));
            else
                set_str(&t, r, c, en->value);
        }
    }
    if (rc == HPS_OK)
        rc = write_table(g, name, &t, e);
    else
        hps_h5_errf(e, "out of memory writing /provenance/%s", name);
    free(names);
    free(types);
    free(t.rows);
    return rc;
}

static int write_facts(hid_t g, const hps_prov *runs, int n_runs, const hps_h5err *e)
{
    static const char *const names[] = {"run", "key", "value"};
    static const pcol_type types[] = {PC_I32, PC_STR, PC_STR};
    ptable t = {.ncols = 3, .names = names, .types = types};
    int rc = HPS_OK;
    for (int k = 0; rc == HPS_OK && k < n_runs; k++)
        for (int i = 0; i < runs[k].n; i++) {
            const hps_prov_entry *en = &runs[k].e[i];
            if (en->kind != HPS_PROV_RUN)
                continue;
            long r = add_row(&t);
            if (r < 0) {
                rc = HPS_ENOMEM;
                break;
            }
            set_i64(&t, (size_t)r, 0, k);
            set_str(&t, (size_t)r, 1, en->key);
            set_str(&t, (size_t)r, 2, en->value);
        }
    if (rc == HPS_OK)
        rc = write_table(g, "facts", &t, e);
    else
        hps_h5_errf(e, "out of memory writing /provenance/facts");
    free(t.rows);
    return rc;
}

int hps_store_write_prov(hid_t g, const hps_prov *runs, int n_runs, const hps_h5err *e)
{
    int rc = write_runs(g, runs, n_runs, e);
    if (rc == HPS_OK)
        rc = write_kind(g, "hosts", HPS_PROV_HOST, hps_prov_host_keys, runs, n_runs, e);
    if (rc == HPS_OK)
        rc = write_kind(g, "files", HPS_PROV_FILE, hps_prov_file_keys, runs, n_runs, e);
    if (rc == HPS_OK)
        rc = write_facts(g, runs, n_runs, e);
    return rc;
}
