/*
 * The sweep.h5 writer. hps_store_write() lays out the whole results file described
 * in store.h from the engine's in-memory tables into "<path>.tmp", through a file
 * driver that writes to disk without ever failing HDF5 (store_vfd.c: every disk
 * error is one of ours, checked), seals it (store_seal.c), fsyncs it, renames it
 * over path and fsyncs the directory, so a reader sees either the old file or the
 * new one, never a torn one.
 * hps_store_write_carry() takes the rows of /trials, /metrics, /rungs and
 * /failures that the caller has let go of from the file it replaces (opened read-only, its seal
 * checked first), so the old file is only read, and replaced only once the new
 * one is complete.
 *
 * This file writes the attributes, /config, /provenance's attributes, /space and
 * /metric_names and makes the file durable; store_tables.c writes /trials,
 * /failures, /rungs and /metrics, store_carry.c opens the file a rewrite replaces
 * and copies its rows, store_prov.c writes the tables of /provenance.
 * Strings are variable-length UTF-8 (h5py returns str for the attributes)
 * except /trials' cause and /failures' stderr_tail, fixed-length columns so the
 * tables stay plain fixed-size records.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "store_h5.h"
#include "hps_version.h"
#include "hpsweep/error.h"

void hps_store_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static int write_str_attr(hid_t loc, const char *name, const char *value, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    const char *v = value ? value : "";
    h5Check(e, type = hps_h5_vstr_type());
    h5Check(e, space = H5Screate(H5S_SCALAR));
    h5Check(e, attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
    h5Check(e, H5Awrite(attr, type, &v));
    rc = HPS_OK;
fail:
    if (rc != HPS_OK && e->buf) {
        size_t used = strlen(e->buf);
        if (used < e->len)
            snprintf(e->buf + used, e->len - used, " (attribute '%s')", name);
    }
    hps_h5_close(attr);
    hps_h5_close(space);
    hps_h5_close(type);
    return rc;
}

static int write_num_attr(hid_t loc, const char *name, hid_t type, const void *value,
                          const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    h5Check(e, space = H5Screate(H5S_SCALAR));
    h5Check(e, attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
    h5Check(e, H5Awrite(attr, type, value));
    rc = HPS_OK;
fail:
    hps_h5_close(attr);
    hps_h5_close(space);
    return rc;
}

static int write_root(hid_t file, const hps_store_meta *m, const hps_h5err *e)
{
    int version = HPS_STORE_FORMAT_VERSION;
    int rc = write_num_attr(file, "format_version", H5T_NATIVE_INT, &version, e);
    if (rc == HPS_OK)
        rc = write_str_attr(file, "hpsweep_version", HPS_VERSION, e);
    if (rc == HPS_OK)
        rc = write_str_attr(file, "name", m->name, e);
    if (rc == HPS_OK)
        rc = write_num_attr(file, "seed", H5T_NATIVE_UINT64, &m->seed, e);
    const char *names[] = {"strategy", "objective", "metric", "goal",
                           "status",   "created",   "updated"};
    const char *values[] = {m->strategy, m->objective, m->metric, m->goal,
                            m->status,   m->created,   m->updated};
    for (size_t i = 0; rc == HPS_OK && i < sizeof names / sizeof names[0]; i++)
        rc = write_str_attr(file, names[i], values[i], e);
    int det = m->deterministic != 0, par = m->parallelism;
    if (rc == HPS_OK)
        rc = write_num_attr(file, "deterministic", H5T_NATIVE_INT, &det, e);
    if (rc == HPS_OK)
        rc = write_num_attr(file, "parallelism", H5T_NATIVE_INT, &par, e);
    return rc;
}

/* A dataset of variable-length strings: scalar (one string) at rank 0, else n of them. */
static int write_strings(hid_t file, const char *name, int rank, hsize_t n,
                         const char *const *v, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    hsize_t dims[1] = {n};
    h5Check(e, type = hps_h5_vstr_type());
    h5Check(e, space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL));
    h5Check(e, ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (n > 0)
        h5Check(e, H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    rc = HPS_OK;
fail:
    hps_h5_close(ds);
    hps_h5_close(space);
    hps_h5_close(type);
    return rc;
}

static int write_config(hid_t file, const char *text, const hps_h5err *e)
{
    const char *v = text ? text : "";
    return write_strings(file, "config", 0, 1, &v, e);
}

static int write_provenance(hid_t file, const hps_store_meta *m, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    hid_t g = H5I_INVALID_HID;
    h5Check(e, g = H5Gcreate2(file, "provenance", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    rc = HPS_OK;
    for (int i = 0; rc == HPS_OK && i < m->n_provenance; i++) {
        if (!m->provenance[i].key || !m->provenance[i].key[0]) {
            hps_h5_errf(e, "provenance entry %d has no key", i);
            rc = HPS_EINVAL;
            break;
        }
        rc = write_str_attr(g, m->provenance[i].key, m->provenance[i].value, e);
    }
    if (rc == HPS_OK && m->n_runs > 0)
        rc = hps_store_write_prov(g, m->runs, m->n_runs, e);
fail:
    hps_h5_close(g);
    return rc;
}

/* Join n strings with '\n' into a new string; NULL when out of memory. */
static char *join_lines(const char *const *items, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(items[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++) {
        size_t k = strlen(items[i]);
        memcpy(p, items[i], k);
        p += k;
        if (i + 1 < n)
            *p++ = '\n';
    }
    *p = '\0';
    return s;
}

typedef struct space_row {
    const char *name;
    int8_t type;
    double low, high;
    int8_t log;
    const char *choices;
    int32_t grid_points;
    const char *choice_kinds;
} space_row;

/* Fill row from p; its choices and choice_kinds strings are new (free them). */
static int space_row_fill(space_row *row, const hps_param *p)
{
    static const char *const kind_names[] = {"string", "number", "bool"};
    row->name = p->name ? p->name : "";
    row->type = (int8_t)p->type;
    row->low = p->low;
    row->high = p->high;
    row->log = (int8_t)(p->log != 0);
    row->grid_points = p->grid_points;
    int n = p->type == HPS_PARAM_CATEGORICAL ? p->n_choices : 0;
    const char **texts = calloc((size_t)n + 1, sizeof *texts);
    const char **kinds = calloc((size_t)n + 1, sizeof *kinds);
    if (!texts || !kinds) {
        free(texts);
        free(kinds);
        return HPS_ENOMEM;
    }
    for (int k = 0; k < n; k++) {
        texts[k] = p->choices[k].text ? p->choices[k].text : "";
        unsigned kind = (unsigned)p->choices[k].kind;
        kinds[k] = kind < 3 ? kind_names[kind] : "string";
    }
    row->choices = join_lines(texts, n);
    row->choice_kinds = join_lines(kinds, n);
    free(texts);
    free(kinds);
    return row->choices && row->choice_kinds ? HPS_OK : HPS_ENOMEM;
}

static int write_space(hid_t file, const hps_space *space, const hps_h5err *e)
{
    int rc = HPS_EHDF5;
    int n = space ? space->n_params : 0;
    hid_t vstr = H5I_INVALID_HID, ptype = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
    hid_t ftype = H5I_INVALID_HID, dspace = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    space_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows)
        return HPS_ENOMEM;
    for (int i = 0; i < n; i++) {
        if (space_row_fill(&rows[i], &space->params[i]) != HPS_OK) {
            hps_h5_errf(e, "out of memory writing /space");
            rc = HPS_ENOMEM;
            goto fail;
        }
    }
    h5Check(e, vstr = hps_h5_vstr_type());
    h5Check(e, ptype = hps_h5_ptype_type());
    h5Check(e, mtype = H5Tcreate(H5T_COMPOUND, sizeof(space_row)));
    h5Check(e, H5Tinsert(mtype, "name", HOFFSET(space_row, name), vstr));
    h5Check(e, H5Tinsert(mtype, "type", HOFFSET(space_row, type), ptype));
    h5Check(e, H5Tinsert(mtype, "low", HOFFSET(space_row, low), H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(mtype, "high", HOFFSET(space_row, high), H5T_NATIVE_DOUBLE));
    h5Check(e, H5Tinsert(mtype, "log", HOFFSET(space_row, log), H5T_NATIVE_INT8));
    h5Check(e, H5Tinsert(mtype, "choices", HOFFSET(space_row, choices), vstr));
    h5Check(e, H5Tinsert(mtype, "grid_points", HOFFSET(space_row, grid_points), H5T_NATIVE_INT32));
    h5Check(e, H5Tinsert(mtype, "choice_kinds", HOFFSET(space_row, choice_kinds), vstr));
    h5Check(e, ftype = H5Tcopy(mtype));
    h5Check(e, H5Tpack(ftype));
    hsize_t dims[1] = {(hsize_t)n};
    h5Check(e, dspace = H5Screate_simple(1, dims, NULL));
    h5Check(e,
            ds = H5Dcreate2(file, "space", ftype, dspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (n > 0)
        h5Check(e, H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows));
    rc = HPS_OK;
fail:
    for (int i = 0; i < n; i++) {
        free((char *)rows[i].choices);
        free((char *)rows[i].choice_kinds);
    }
    free(rows);
    hps_h5_close(ds);
    hps_h5_close(dspace);
    hps_h5_close(ftype);
    hps_h5_close(mtype);
    hps_h5_close(ptype);
    hps_h5_close(vstr);
    return rc;
}

static int write_metric_names(hid_t file, const char *const *names, int n, const hps_h5err *e)
{
    for (int i = 0; i < n; i++) {
        if (!names[i]) {
            hps_h5_errf(e, "metric name %d is NULL", i);
            return HPS_EINVAL;
        }
    }
    return write_strings(file, "metric_names", 1, (hsize_t)n, names, e);
}

/* The cause of a failed write: a full disk or quota when the file driver said so. */
static int io_error(int sys_errno)
{
    return sys_errno == ENOSPC || sys_errno == EDQUOT ? HPS_ENOSPC : HPS_EIO;
}

/* fsync path (a file, or a directory when dir): open, fsync, close. */
static int fsync_path(const char *path, int dir, const hps_h5err *e)
{
    int fd = open(path, dir ? (O_RDONLY | O_DIRECTORY) : O_RDWR);
    if (fd < 0) {
        hps_h5_errf(e, "open %s: %s", path, strerror(errno));
        return HPS_EIO;
    }
    int rc = HPS_OK;
    /* Some file systems cannot fsync a directory; the rename is then as durable as they allow. */
    if (fsync(fd) != 0 && !(dir && (errno == EINVAL || errno == ENOTSUP))) {
        hps_h5_errf(e, "fsync %s: %s", path, strerror(errno));
        rc = io_error(errno);
    }
    if (close(fd) != 0 && rc == HPS_OK) {
        hps_h5_errf(e, "close %s: %s", path, strerror(errno));
        rc = HPS_EIO;
    }
    return rc;
}

static int fsync_parent(const char *path, const hps_h5err *e)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return fsync_path(".", 1, e);
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(len + 1);
    if (!dir)
        return HPS_ENOMEM;
    memcpy(dir, path, len);
    dir[len] = '\0';
    int rc = fsync_path(dir, 1, e);
    free(dir);
    return rc;
}

/* HPS_OK, or the first disk error the sink met writing tmp (HPS_ENOSPC, HPS_EIO or
 * HPS_ENOMEM) with e saying which call failed. */
static int disk_error(const hps_store_sink *sink, const char *tmp, const hps_h5err *e)
{
    const char *what = NULL;
    int err = hps_store_sink_error(sink, &what);
    if (err == 0)
        return HPS_OK;
    hps_h5_errf(e, "%s %s: %s", what, tmp, strerror(err));
    return err == ENOMEM ? HPS_ENOMEM : io_error(err);
}

hid_t hps_store_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return fapl;
    int ok = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0;
#if H5_VERSION_GE(1, 10, 7) && !(H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 12 && H5_VERS_RELEASE == 0)
    ok = ok && H5Pset_file_locking(fapl, 0, 1) >= 0;
#endif
    /* Object headers, the superblock and the chunk indexes of the 1.10 format carry
     * checksums that HDF5 itself verifies, for every reader. */
    ok = ok && H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST) >= 0;
    if (!ok) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
    return fapl;
}

int hps_store_write(const char *path, const hps_store_meta *meta, const hps_trial *trials,
                    int64_t n_trials, const hps_metric *metrics, int64_t n_metrics,
                    const char *const *metric_names, int n_metric_names, const hps_rung *rungs,
                    int64_t n_rungs, char *err, size_t errlen)
{
    return hps_store_write_carry(path, meta, NULL, trials, n_trials, metrics, n_metrics,
                                 metric_names, n_metric_names, rungs, n_rungs, err, errlen);
}

int hps_store_write_carry(const char *path, const hps_store_meta *meta,
                          const hps_store_carry *carry, const hps_trial *trials,
                          int64_t n_trials, const hps_metric *metrics, int64_t n_metrics,
                          const char *const *metric_names, int n_metric_names,
                          const hps_rung *rungs, int64_t n_rungs, char *err, size_t errlen)
{
    hps_h5err e = {err, errlen};
    hps_store_carry c = carry ? *carry : (hps_store_carry){0};
    if (meta && meta->row_seconds)
        *meta->row_seconds = 0;
    if (err && errlen)
        err[0] = '\0';
    int64_t packed = c.packed ? hps_store_pack_rows(c.packed) : 0;
    if (!path || !meta || c.trials < 0 || c.failure_rows < 0 || c.metrics < 0 || c.rungs < 0 ||
        c.n_failures < 0 || (c.trials + packed > 0 && !meta->index) ||
        (c.packed && hps_store_pack_first(c.packed) != c.trials) ||
        (c.n_failures > 0 && !c.failures) || n_trials < 0 ||
        (n_trials > 0 && !trials) || n_metrics < 0 || (n_metrics > 0 && !metrics) ||
        n_metric_names < 0 ||
        (n_metric_names > 0 && !metric_names) || n_rungs < 0 || (n_rungs > 0 && !rungs) ||
        meta->n_provenance < 0 || meta->n_runs < 0 || (meta->n_runs > 0 && !meta->runs) ||
        (meta->n_provenance > 0 && !meta->provenance)) {
        hps_h5_errf(&e, "hps_store_write: invalid arguments");
        return HPS_EINVAL;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp");
    if (!tmp) {
        hps_h5_errf(&e, "out of memory");
        return HPS_ENOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof ".tmp");

    /* The file is written through hps_store_sink (store_vfd.c): straight to disk,
     * but HDF5 never meets a disk error, so a full disk is one failed write of ours,
     * never a failure inside HDF5's cache flushes (which it could swallow, or crash
     * on at exit). */
    int rc = HPS_EHDF5, created = 0;
    hps_store_index built;
    const hps_store_index *ix = meta->index;
    if (!ix) {
        if (hps_store_index_build(&built, trials, n_trials,
                                  meta->goal && strcmp(meta->goal, "maximize") == 0) != HPS_OK) {
            hps_h5_errf(&e, "out of memory");
            free(tmp);
            return HPS_ENOMEM;
        }
        ix = &built;
    } else if (ix->n_rows != c.trials + packed + n_trials) {
        hps_h5_errf(&e, "hps_store_write: the index covers %lld rows, not %lld",
                    (long long)ix->n_rows, (long long)(c.trials + packed + n_trials));
        free(tmp);
        return HPS_EINVAL;
    }
    const char *from = meta->carry_from ? meta->carry_from : path;
    hps_store_sink *sink = NULL;
    int fd = -1;
    hid_t fapl = H5I_INVALID_HID, fcpl = H5I_INVALID_HID, file = H5I_INVALID_HID;
    hid_t prev = H5I_INVALID_HID, prev_metrics = H5I_INVALID_HID, prev_rungs = H5I_INVALID_HID;
    hid_t prev_failures = H5I_INVALID_HID, prev_trials = H5I_INVALID_HID;
    if ((c.trials > 0 || c.failure_rows > 0 || c.metrics > 0 || c.rungs > 0 ||
         c.n_failures > 0) &&
        (rc = hps_store_open_carry(from, meta, &c, &prev, &prev_trials, &prev_metrics,
                                   &prev_rungs, &prev_failures, &e)) != HPS_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", err ? err : "");
        hps_h5_errf(&e, "%s cannot supply the rows written before: %s", from, why);
        goto fail;
    }
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        hps_h5_errf(&e, "create %s: %s", tmp, strerror(errno));
        rc = io_error(errno);
        goto fail;
    }
    created = 1;
    if (hps_store_sink_open(&sink, fd) != HPS_OK) {
        hps_h5_errf(&e, "out of memory");
        rc = HPS_ENOMEM;
        goto fail;
    }
    h5Check(&e, fapl = hps_store_sink_fapl(sink));
    h5Check(&e, fcpl = H5Pcreate(H5P_FILE_CREATE));
    h5Check(&e, H5Pset_userblock(fcpl, HPS_STORE_USERBLOCK));
    h5Check(&e, file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl));
    rc = write_root(file, meta, &e);
    if (rc == HPS_OK)
        rc = write_config(file, meta->config_text, &e);
    if (rc == HPS_OK)
        rc = write_provenance(file, meta, &e);
    if (rc == HPS_OK)
        rc = write_space(file, meta->space, &e);
    if (rc == HPS_OK)
        rc = hps_store_write_trials(file, meta->space, prev_trials, c.trials, c.packed, trials,
                                    n_trials, meta->row_seconds, &e);
    if (rc == HPS_OK)
        rc = hps_store_write_best_rows(file, ix, &e);
    if (rc == HPS_OK)
        rc = hps_store_write_summary(file, path, meta, ix, &e);
    if (rc == HPS_OK)
        rc = hps_store_write_failures(file, trials, n_trials, prev_failures, c.failure_rows,
                                      c.failures, c.n_failures, &e);
    if (rc == HPS_OK)
        rc = hps_store_write_rungs(file, prev_rungs, c.rungs, rungs, n_rungs, meta->row_seconds,
                                   &e);
    if (rc == HPS_OK)
        rc = hps_store_write_metrics(file, prev_metrics, c.metrics, metrics, n_metrics,
                                     meta->row_seconds, &e);
    if (rc == HPS_OK)
        rc = write_metric_names(file, metric_names, n_metric_names, &e);
    if (rc != HPS_OK)
        goto fail;
    rc = HPS_EHDF5;
    hid_t closing = file;
    file = H5I_INVALID_HID;
    h5Check(&e, H5Fclose(closing));
    if ((rc = disk_error(sink, tmp, &e)) != HPS_OK)
        goto fail;
    uint64_t size = hps_store_sink_size(sink);
    if (size < HPS_STORE_USERBLOCK + 48) {
        hps_h5_errf(&e, "HDF5 left no file to seal in %s", tmp);
        rc = HPS_EHDF5;
        goto fail;
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        hps_h5_errf(&e, "ftruncate %s: %s", tmp, strerror(errno));
        rc = io_error(errno);
        goto fail;
    }
    if ((rc = hps_store_seal_fd(fd, size, tmp, &e)) != HPS_OK)
        goto fail;
    if (fsync(fd) != 0) {
        hps_h5_errf(&e, "fsync %s: %s", tmp, strerror(errno));
        rc = io_error(errno);
        goto fail;
    }
    int closing_fd = fd;
    fd = -1;
    if (close(closing_fd) != 0) {
        hps_h5_errf(&e, "close %s: %s", tmp, strerror(errno));
        rc = io_error(errno);
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        hps_h5_errf(&e, "rename %s to %s: %s", tmp, path, strerror(errno));
        rc = io_error(errno);
        goto fail;
    }
    created = 0;
    rc = fsync_parent(path, &e);
fail:
    hps_h5_close(file);
    /* A disk error is the cause of whatever HDF5 said after it. */
    if (rc != HPS_OK && sink) {
        int disk = disk_error(sink, tmp, &e);
        if (disk != HPS_OK)
            rc = disk;
    }
    hps_h5_close(prev_failures);
    hps_h5_close(prev_trials);
    hps_h5_close(prev_rungs);
    hps_h5_close(prev_metrics);
    hps_h5_close(prev);
    hps_h5_close(fcpl);
    hps_h5_close(fapl);
    hps_store_sink_free(sink);
    if (fd >= 0)
        close(fd); /* the file is thrown away: its close error says nothing more */
    if (created)
        unlink(tmp);
    free(tmp);
    if (ix == &built)
        hps_store_index_free(&built);
    return rc;
}
