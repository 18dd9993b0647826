/*
 * Reading every run's provenance back from sweep.h5 (prov.h): /provenance/facts
 * gives each run's facts, /provenance/hosts and /provenance/files its hosts and
 * files (numbered in row order within the run). Older files have only the
 * attributes of /provenance: they read as one run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "prov.h"
#include "store_read.h"

void hps_prov_runs_free(hps_prov *runs, int n_runs)
{
    for (int i = 0; runs && i < n_runs; i++)
        hps_prov_free(&runs[i]);
    free(runs);
}

/* Make room for run k (runs grow to k + 1, new ones empty). */
static int need_run(hps_prov **runs, int *n_runs, int64_t k)
{
    if (k < 0 || k > 1000000)
        return HPS_ECORRUPT;
    if (k < *n_runs)
        return HPS_OK;
    hps_prov *p = realloc(*runs, sizeof *p * (size_t)(k + 1));
    if (!p)
        return HPS_ENOMEM;
    memset(p + *n_runs, 0, sizeof *p * (size_t)(k + 1 - *n_runs));
    *runs = p;
    *n_runs = (int)k + 1;
    return HPS_OK;
}

/* Rows of table name (columns run + keys) as entries of kind. */
static int read_kind(hid_t g, const char *name, int kind, const char *const *keys, hps_prov **runs,
                     int *n_runs, const hps_h5err *e)
{
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0)
        return HPS_OK;
    int nk = 0;
    while (keys[nk])
        nk++;
    h5col *cols = calloc((size_t)nk + 1, sizeof *cols);
    if (!cols)
        return HPS_ENOMEM;
    cols[0] = (h5col){.name = "run", .want = COL_I64};
    for (int c = 0; c < nk; c++)
        cols[c + 1] = (h5col){.name = keys[c], .want = strcmp(keys[c], "bytes") == 0 ? COL_I64
                                                                                  : COL_VSTR,
                              .optional = 1};
    h5table t;
    int rc = hps_h5_read_table(g, name, cols, nk + 1, &t, e);
    int64_t last_run = -1;
    int index = 0;
    for (int64_t r = 0; rc == HPS_OK && r < t.n; r++) {
        int64_t k = hps_h5_get_i64(&t, &cols[0], r);
        if ((rc = need_run(runs, n_runs, k)) != HPS_OK)
            break;
        index = k == last_run ? index + 1 : 0;
        last_run = k;
        for (int c = 1; rc == HPS_OK && c <= nk; c++) {
            if (!cols[c].present)
                continue;
            char num[32];
            const char *v = num;
            if (cols[c].want == COL_I64)
                snprintf(num, sizeof num, "%lld", (long long)hps_h5_get_i64(&t, &cols[c], r));
            else
                v = hps_h5_get_vstr(&t, &cols[c], r);
            rc = hps_prov_add(&(*runs)[k], kind, index, keys[c - 1], v ? v : "");
        }
    }
    hps_h5_table_free(&t);
    free(cols);
    return rc;
}

static int read_facts(hid_t g, hps_prov **runs, int *n_runs, const hps_h5err *e)
{
    h5col cols[3] = {{.name = "run", .want = COL_I64},
                     {.name = "key", .want = COL_VSTR},
                     {.name = "value", .want = COL_VSTR}};
    h5table t;
    int rc = hps_h5_read_table(g, "facts", cols, 3, &t, e);
    for (int64_t r = 0; rc == HPS_OK && r < t.n; r++) {
        int64_t k = hps_h5_get_i64(&t, &cols[0], r);
        const char *key = hps_h5_get_vstr(&t, &cols[1], r);
        const char *value = hps_h5_get_vstr(&t, &cols[2], r);
        if ((rc = need_run(runs, n_runs, k)) == HPS_OK && key && key[0])
            rc = hps_prov_add(&(*runs)[k], HPS_PROV_RUN, 0, key, value ? value : "");
    }
    hps_h5_table_free(&t);
    return rc;
}

/* A file without the tables: one run made of /provenance's string attributes. */
static int read_attrs(const char *path, hps_prov **runs, int *n_runs, char *err, size_t errlen)
{
    hps_results r;
    int rc = hps_results_open(path, &r, err, errlen);
    if (rc != HPS_OK)
        return rc;
    if (r.n_provenance > 0 && (rc = need_run(runs, n_runs, 0)) == HPS_OK)
        for (int i = 0; rc == HPS_OK && i < r.n_provenance; i++)
            rc = hps_prov_add(&(*runs)[0], HPS_PROV_RUN, 0, r.provenance_keys[i],
                              r.provenance_values[i]);
    hps_results_free(&r);
    return rc;
}

int hps_prov_read(const char *path, hps_prov **runs, int *n_runs, char *err, size_t errlen)
{
    hps_h5err e = {err, errlen};
    *runs = NULL;
    *n_runs = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int code = errno == ENOENT ? HPS_ENOENT : HPS_EIO;
        hps_h5_errf(&e, "%s: %s", path, strerror(errno));
        return code;
    }
    close(fd);
    int rc = HPS_ECORRUPT, tables = 0;
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID, g = H5I_INVALID_HID;
    h5Check(&e, fapl = H5Pcreate(H5P_FILE_ACCESS));
#if H5_VERSION_GE(1, 10, 7) && !(H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 12 && H5_VERS_RELEASE == 0)
    /* as results.c: lock where the file system can, read anyway where it cannot */
    h5Check(&e, H5Pset_file_locking(fapl, 1, 1));
#endif
    h5Check(&e, file = H5Fopen(path, H5F_ACC_RDONLY, fapl));
    if (H5Lexists(file, "provenance", H5P_DEFAULT) > 0) {
        h5Check(&e, g = H5Gopen2(file, "provenance", H5P_DEFAULT));
        tables = H5Lexists(g, "facts", H5P_DEFAULT) > 0;
    }
    rc = HPS_OK;
    if (tables) {
        rc = read_facts(g, runs, n_runs, &e);
        if (rc == HPS_OK)
            rc = read_kind(g, "hosts", HPS_PROV_HOST, hps_prov_host_keys, runs, n_runs, &e);
        if (rc == HPS_OK)
            rc = read_kind(g, "files", HPS_PROV_FILE, hps_prov_file_keys, runs, n_runs, &e);
    }
fail:
    hps_h5_close(g);
    hps_h5_close(file);
    hps_h5_close(fapl);
    if (rc == HPS_OK && !tables)
        rc = read_attrs(path, runs, n_runs, err, errlen);
    if (rc != HPS_OK) {
        if (rc == HPS_ENOMEM)
            hps_h5_errf(&e, "out of memory reading /provenance");
        hps_prov_runs_free(*runs, *n_runs);
        *runs = NULL;
        *n_runs = 0;
    }
    return rc;
}
