/*
 * The sweep.h5 reader: hps_results_open() loads a results file written by store.c
 * (layout in store.h) into an hps_results, so the CLI and user code never touch
 * HDF5 themselves. It checks the file's seal (a whole-file CRC-32C) before HDF5
 * parses anything, and each table's extent against the rows written, so damage is
 * reported as damage rather than crashing the library or inventing rows.
 *
 * Tables are read by column name (store_read.c), so the file's column order and
 * any extra columns do not matter. Enum columns (status, categoricals, bools) come
 * back as their integer values: the status code, the choice index and 0/1.
 *
 * Files written before /trials had exit_code and attempts, and before /failures
 * and /rungs existed, still read: their trials get exit_code -1, attempts 0 and no
 * stderr_tail, their parameter columns are named by the rule of that time, and
 * they have no rungs. A file without /provenance reads with none.
 *
 * /trials and /failures are read in results_trials.c: all of /trials, only the
 * best rows the file names (hps_results_open_best) or block by block
 * (hps_results_each_trials).
 */
#include "hpsweep/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "store.h"
#include "store_h5.h"
#include "results_internal.h"
#include "store_read.h"
#include "hpsweep/error.h"

const char *hps_trial_status_name(int status)
{
    static const char *const names[] = {"running", "done", "failed", "interrupted", "pruned"};
    return status >= 0 && status < (int)(sizeof names / sizeof names[0]) ? names[status]
                                                                         : "unknown";
}

/* Split s at '\n' into n new strings (n = newlines + 1). */
static char **split_lines(const char *s, int *n)
{
    int count = 1;
    for (const char *p = s; *p; p++)
        count += *p == '\n';
    char **parts = calloc((size_t)count, sizeof *parts);
    if (!parts)
        return NULL;
    for (int i = 0; i < count; i++) {
        const char *end = strchr(s, '\n');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        parts[i] = malloc(len + 1);
        if (!parts[i]) {
            for (int k = 0; k < i; k++)
                free(parts[k]);
            free(parts);
            return NULL;
        }
        memcpy(parts[i], s, len);
        parts[i][len] = '\0';
        s += len + (end != NULL);
    }
    *n = count;
    return parts;
}

/* A choice's kind: from its stored kind name, else guessed from its text. */
static hps_choice_kind choice_kind(const char *kind, const char *text)
{
    if (kind)
        return strcmp(kind, "number") == 0 ? HPS_CHOICE_NUMBER
               : strcmp(kind, "bool") == 0 ? HPS_CHOICE_BOOL
                                           : HPS_CHOICE_STRING;
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
        return HPS_CHOICE_BOOL;
    char *end;
    double v = strtod(text, &end);
    return text[0] && *end == '\0' && isfinite(v) ? HPS_CHOICE_NUMBER : HPS_CHOICE_STRING;
}

/* Fill p's choices from the '\n'-joined texts and (optional) kind names. */
static int param_choices(hps_param *p, const char *texts, const char *kinds, const hps_h5err *e)
{
    int n = 0, nk = 0;
    char **parts = split_lines(texts, &n);
    char **kparts = kinds ? split_lines(kinds, &nk) : NULL;
    int rc = parts && (!kinds || kparts) ? HPS_OK : HPS_ENOMEM;
    if (rc == HPS_OK && kparts && nk != n) {
        hps_h5_errf(e, "/space: parameter %s has %d choices but %d choice kinds", p->name, n, nk);
        rc = HPS_ECORRUPT;
    }
    if (rc == HPS_OK && !(p->choices = calloc((size_t)n, sizeof *p->choices)))
        rc = HPS_ENOMEM;
    for (int k = 0; rc == HPS_OK && k < n; k++) {
        hps_choice *c = &p->choices[k];
        c->text = parts[k];
        parts[k] = NULL;
        p->n_choices = k + 1;
        c->kind = choice_kind(kparts ? kparts[k] : NULL, c->text);
        c->number = c->kind == HPS_CHOICE_NUMBER ? strtod(c->text, NULL)
                    : c->kind == HPS_CHOICE_BOOL ? (strcmp(c->text, "true") == 0)
                                                 : 0;
    }
    for (int k = 0; parts && k < n; k++)
        free(parts[k]);
    for (int k = 0; kparts && k < nk; k++)
        free(kparts[k]);
    free(parts);
    free(kparts);
    return rc;
}

static int read_space(hid_t file, hps_space *space, const hps_h5err *e)
{
    h5col cols[] = {
        {.name = "name", .want = COL_VSTR},
        {.name = "type", .want = COL_I64},
        {.name = "low", .want = COL_F64},
        {.name = "high", .want = COL_F64},
        {.name = "log", .want = COL_I64},
        {.name = "choices", .want = COL_VSTR},
        {.name = "grid_points", .want = COL_I64},
        {.name = "choice_kinds", .want = COL_VSTR, .optional = 1},
    };
    h5table t;
    int rc = hps_h5_read_table(file, "space", cols, (int)(sizeof cols / sizeof cols[0]), &t, e);
    if (rc != HPS_OK)
        return rc;
    if (t.n > 0 && !(space->params = calloc((size_t)t.n, sizeof *space->params)))
        rc = HPS_ENOMEM;
    for (int64_t r = 0; rc == HPS_OK && r < t.n; r++) {
        hps_param *p = &space->params[r];
        space->n_params = (int)r + 1;
        int64_t type = hps_h5_get_i64(&t, &cols[1], r);
        if (!(p->name = strdup(hps_h5_get_vstr(&t, &cols[0], r)))) {
            rc = HPS_ENOMEM;
            break;
        }
        if (type < HPS_PARAM_FLOAT || type > HPS_PARAM_BOOL) {
            hps_h5_errf(e, "/space: parameter %s has unknown type %lld", p->name, (long long)type);
            rc = HPS_ECORRUPT;
            break;
        }
        p->type = (hps_param_type)type;
        p->low = hps_h5_get_f64(&t, &cols[2], r);
        p->high = hps_h5_get_f64(&t, &cols[3], r);
        p->log = hps_h5_get_i64(&t, &cols[4], r) != 0;
        p->grid_points = (int)hps_h5_get_i64(&t, &cols[6], r);
        if (p->type == HPS_PARAM_CATEGORICAL)
            rc = param_choices(p, hps_h5_get_vstr(&t, &cols[5], r),
                               cols[7].present ? hps_h5_get_vstr(&t, &cols[7], r) : NULL, e);
    }
    if (rc == HPS_ENOMEM)
        hps_h5_errf(e, "out of memory reading /space");
    hps_h5_table_free(&t);
    return rc;
}

static int read_metrics(hid_t file, hps_results *res, const hps_h5err *e)
{
    h5col cols[] = {
        {.name = "trial_id", .want = COL_I64}, {.name = "step", .want = COL_I64},
        {.name = "resource", .want = COL_F64}, {.name = "name_index", .want = COL_I64},
        {.name = "value", .want = COL_F64},
    };
    h5table t;
    int rc = hps_h5_read_table(file, "metrics", cols, (int)(sizeof cols / sizeof cols[0]), &t, e);
    if (rc != HPS_OK)
        return rc;
    if (t.n > 0 && !(res->metrics = calloc((size_t)t.n, sizeof *res->metrics))) {
        hps_h5_errf(e, "out of memory reading /metrics");
        rc = HPS_ENOMEM;
    }
    for (int64_t r = 0; rc == HPS_OK && r < t.n; r++) {
        hps_metric *m = &res->metrics[r];
        m->trial_id = hps_h5_get_i64(&t, &cols[0], r);
        m->step = hps_h5_get_i64(&t, &cols[1], r);
        m->resource = hps_h5_get_f64(&t, &cols[2], r);
        m->name_index = (int32_t)hps_h5_get_i64(&t, &cols[3], r);
        m->value = hps_h5_get_f64(&t, &cols[4], r);
    }
    if (rc == HPS_OK)
        res->n_metrics = t.n;
    hps_h5_table_free(&t);
    return rc;
}

/* /rungs into res->rungs; a file written before it existed has none. */
static int read_rungs(hid_t file, hps_results *res, const hps_h5err *e)
{
    if (H5Lexists(file, "rungs", H5P_DEFAULT) <= 0)
        return HPS_OK;
    h5col cols[] = {
        {.name = "trial_id", .want = COL_I64}, {.name = "bracket", .want = COL_I64},
        {.name = "rung", .want = COL_I64},     {.name = "budget", .want = COL_F64},
        {.name = "status", .want = COL_I64},   {.name = "objective", .want = COL_F64},
        {.name = "start", .want = COL_F64},    {.name = "end", .want = COL_F64},
        {.name = "worker", .want = COL_I64},
    };
    h5table t;
    int rc = hps_h5_read_table(file, "rungs", cols, (int)(sizeof cols / sizeof cols[0]), &t, e);
    if (rc != HPS_OK)
        return rc;
    if (t.n > 0 && !(res->rungs = calloc((size_t)t.n, sizeof *res->rungs))) {
        hps_h5_errf(e, "out of memory reading /rungs");
        rc = HPS_ENOMEM;
    }
    for (int64_t r = 0; rc == HPS_OK && r < t.n; r++) {
        hps_rung *g = &res->rungs[r];
        g->trial_id = hps_h5_get_i64(&t, &cols[0], r);
        g->bracket = (int32_t)hps_h5_get_i64(&t, &cols[1], r);
        g->rung = (int32_t)hps_h5_get_i64(&t, &cols[2], r);
        g->budget = hps_h5_get_f64(&t, &cols[3], r);
        g->status = (int32_t)hps_h5_get_i64(&t, &cols[4], r);
        g->objective = hps_h5_get_f64(&t, &cols[5], r);
        g->start = hps_h5_get_f64(&t, &cols[6], r);
        g->end = hps_h5_get_f64(&t, &cols[7], r);
        g->worker = (int32_t)hps_h5_get_i64(&t, &cols[8], r);
    }
    if (rc == HPS_OK)
        res->n_rungs = t.n;
    hps_h5_table_free(&t);
    return rc;
}

static int read_metric_names(hid_t file, hps_results *res, const hps_h5err *e)
{
    int rc = HPS_ECORRUPT;
    hid_t ds = H5I_INVALID_HID, ftype = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID;
    char **raw = NULL;
    hssize_t n = 0;
    if (H5Lexists(file, "metric_names", H5P_DEFAULT) <= 0) {
        hps_h5_errf(e, "not an hpsweep results file: no /metric_names");
        return HPS_ECORRUPT;
    }
    h5Check(e, ds = H5Dopen2(file, "metric_names", H5P_DEFAULT));
    h5Check(e, ftype = H5Dget_type(ds));
    h5Check(e, space = H5Dget_space(ds));
    h5Check(e, n = H5Sget_simple_extent_npoints(space));
    if (H5Tis_variable_str(ftype) <= 0 || n > INT32_MAX) {
        hps_h5_errf(e, "/metric_names is not a list of variable-length strings");
        goto fail;
    }
    rc = HPS_ENOMEM;
    if (n > 0 && (!(raw = calloc((size_t)n, sizeof *raw)) ||
                  !(res->metric_names = calloc((size_t)n, sizeof *res->metric_names))))
        goto fail;
    rc = HPS_ECORRUPT;
    h5Check(e, mt = hps_h5_vstr_type());
    h5Check(e, H5Tset_cset(mt, H5Tget_cset(ftype)));
    if (n > 0)
        h5Check(e, H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw));
    rc = HPS_OK;
    for (hssize_t i = 0; i < n; i++) {
        res->n_metric_names = (int)i + 1;
        if (!(res->metric_names[i] = strdup(raw[i] ? raw[i] : ""))) {
            rc = HPS_ENOMEM;
            break;
        }
    }
    if (n > 0)
        hps_h5_reclaim(mt, space, raw);
fail:
    if (rc == HPS_ENOMEM)
        hps_h5_errf(e, "out of memory reading /metric_names");
    free(raw);
    hps_h5_close(mt);
    hps_h5_close(space);
    hps_h5_close(ftype);
    hps_h5_close(ds);
    return rc;
}

/* Attribute names gathered by collect_attr_name: counted when keys is NULL. */
typedef struct attr_names {
    char **keys;
    int n, cap;
} attr_names;

static herr_t collect_attr_name(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    attr_names *a = data;
    if (a->keys) {
        if (a->n >= a->cap || !(a->keys[a->n] = strdup(name)))
            return -1;
    }
    a->n++;
    return 0;
}

/*
 * The string attributes of /provenance, in name order, into res->provenance_keys
 * and _values. Attributes of other types are skipped (the writer stores strings
 * only); a file without the group has none.
 */
static int read_provenance(hid_t file, hps_results *res, const hps_h5err *e)
{
    if (H5Lexists(file, "provenance", H5P_DEFAULT) <= 0)
        return HPS_OK;
    int rc = HPS_ECORRUPT;
    hid_t g = H5I_INVALID_HID, attr = H5I_INVALID_HID, type = H5I_INVALID_HID;
    attr_names names = {0};
    h5Check(e, g = H5Gopen2(file, "provenance", H5P_DEFAULT));
    h5Check(e, H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_attr_name, &names));
    if (names.n == 0) {
        rc = HPS_OK;
        goto fail;
    }
    names.cap = names.n;
    names.n = 0;
    rc = HPS_ENOMEM;
    if (!(names.keys = calloc((size_t)names.cap, sizeof *names.keys)) ||
        !(res->provenance_values = calloc((size_t)names.cap, sizeof *res->provenance_values)))
        goto fail;
    /* From here on hps_results_free() frees every slot of both arrays. */
    res->provenance_keys = names.keys;
    res->n_provenance = names.cap;
    rc = HPS_ECORRUPT;
    h5Check(e, H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_attr_name, &names));
    int kept = 0; /* keys[0..kept) are the string attributes, values[0..kept) theirs */
    for (int i = 0; i < names.n; i++) {
        h5Check(e, attr = H5Aopen(g, names.keys[i], H5P_DEFAULT));
        h5Check(e, type = H5Aget_type(attr));
        char *key = names.keys[i];
        names.keys[i] = NULL;
        if (H5Tget_class(type) == H5T_STRING) {
            names.keys[kept] = key;
            char what[300];
            snprintf(what, sizeof what, "/provenance attribute '%s'", key);
            if ((rc = hps_h5_read_string(attr, 1, what, &res->provenance_values[kept++], e)) !=
                HPS_OK)
                goto fail;
            rc = HPS_ECORRUPT;
        } else {
            free(key);
        }
        hps_h5_close(type);
        hps_h5_close(attr);
        type = attr = H5I_INVALID_HID;
    }
    res->n_provenance = kept;
    rc = HPS_OK;
fail:
    if (rc == HPS_ENOMEM) {
        hps_h5_errf(e, "out of memory reading /provenance");
        if (!res->provenance_keys)
            free(names.keys);
    }
    hps_h5_close(type);
    hps_h5_close(attr);
    hps_h5_close(g);
    return rc;
}

/*
 * Attributes, /config, /space, /trials, /failures, /rungs, /metrics,
 * /metric_names and /provenance, in that order; with best_k > 0, of /trials only
 * the best best_k rows (hps_results_read_best) and no /failures, /rungs or /metrics; with
 * best_k < 0 none of those four.
 */
static int read_all(hid_t file, hps_results *out, int best_k, const hps_h5err *e)
{
    int rc = hps_h5_read_num_attr(file, "format_version", H5T_NATIVE_INT, &out->format_version, e);
    if (rc != HPS_OK)
        return rc;
    if (out->format_version > HPS_STORE_FORMAT_VERSION) {
        hps_h5_errf(e, "format_version %d is newer than this build reads (%d)", out->format_version,
                    HPS_STORE_FORMAT_VERSION);
        return HPS_EVERSION;
    }
    if (out->format_version < 1) {
        hps_h5_errf(e, "invalid format_version %d", out->format_version);
        return HPS_ECORRUPT;
    }
    struct {
        const char *name;
        char **dst;
    } strs[] = {{"hpsweep_version", &out->hpsweep_version},
                {"name", &out->name},
                {"strategy", &out->strategy},
                {"objective", &out->objective},
                {"metric", &out->metric},
                {"goal", &out->goal},
                {"status", &out->status},
                {"created", &out->created},
                {"updated", &out->updated}};
    for (size_t i = 0; rc == HPS_OK && i < sizeof strs / sizeof strs[0]; i++)
        rc = hps_h5_read_str_attr(file, strs[i].name, strs[i].dst, e);
    if (rc == HPS_OK)
        rc = hps_h5_read_num_attr(file, "seed", H5T_NATIVE_UINT64, &out->seed, e);
    /* the mode attributes came later: a file without them is an asynchronous sweep */
    if (rc == HPS_OK && H5Aexists(file, "deterministic") > 0)
        rc = hps_h5_read_num_attr(file, "deterministic", H5T_NATIVE_INT, &out->deterministic, e);
    if (rc == HPS_OK && H5Aexists(file, "parallelism") > 0)
        rc = hps_h5_read_num_attr(file, "parallelism", H5T_NATIVE_INT, &out->parallelism, e);
    if (rc == HPS_OK) {
        hid_t ds = H5I_INVALID_HID;
        if (H5Lexists(file, "config", H5P_DEFAULT) <= 0 ||
            (ds = H5Dopen2(file, "config", H5P_DEFAULT)) < 0) {
            hps_h5_errf(e, "not an hpsweep results file: no readable /config");
            rc = HPS_ECORRUPT;
        } else {
            rc = hps_h5_read_string(ds, 0, "/config", &out->config_text, e);
        }
        hps_h5_close(ds);
    }
    if (rc == HPS_OK)
        rc = read_space(file, &out->space, e);
    if (rc != HPS_OK)
        return rc;
    if (best_k > 0) {
        rc = hps_results_read_best(file, out, best_k, e);
    } else if (best_k == 0) {
        rc = hps_results_read_trials(file, out, e);
        if (rc == HPS_OK)
            rc = hps_results_read_failures(file, out, e);
        if (rc == HPS_OK)
            rc = read_rungs(file, out, e);
        if (rc == HPS_OK)
            rc = read_metrics(file, out, e);
    }
    if (rc == HPS_OK)
        rc = read_metric_names(file, out, e);
    if (rc == HPS_OK)
        rc = read_provenance(file, out, e);
    return rc;
}

static int open_results(const char *path, int best_k, const hps_trial_stream *stream,
                        hps_results *out, char *err, size_t errlen)
{
    hps_h5err e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return HPS_EINVAL;
    memset(out, 0, sizeof *out);
    if (!path)
        return HPS_EINVAL;
    int rc;
    hid_t file = hps_store_open_read(path, &rc, &e);
    if (file < 0)
        return rc;
    rc = read_all(file, out, stream ? -1 : best_k, &e);
    if (rc == HPS_OK && stream)
        rc = stream->rows ? hps_results_read_rows(file, out, stream->rows, stream->n_rows, &e)
                          : hps_results_stream_trials(file, out, stream, &e);
    hps_h5_close(file);
    if (rc != HPS_OK)
        hps_results_free(out);
    return rc;
}

int hps_results_open(const char *path, hps_results *out, char *err, size_t errlen)
{
    return open_results(path, 0, NULL, out, err, errlen);
}

int hps_results_each_trials(const char *path, int64_t block,
                            int (*each)(const hps_results *r, int64_t first, void *arg),
                            void *arg, hps_results *out, char *err, size_t errlen)
{
    if (block < 1 || !each) {
        if (out)
            memset(out, 0, sizeof *out);
        return HPS_EINVAL;
    }
    hps_trial_stream s = {.block = block, .each = each, .arg = arg};
    return open_results(path, 0, &s, out, err, errlen);
}

int hps_results_stream_text(const char *path, const hps_trial_stream *s, hps_results *out,
                            char *err, size_t errlen)
{
    if (s->block < 1 || !s->text || !s->put || s->each || s->rows) {
        if (out)
            memset(out, 0, sizeof *out);
        return HPS_EINVAL;
    }
    return open_results(path, 0, s, out, err, errlen);
}

int hps_results_open_rows(const char *path, const int64_t *rows, int n, hps_results *out,
                          char *err, size_t errlen)
{
    static const int64_t none[1];
    hps_trial_stream s = {.rows = n > 0 ? rows : none, .n_rows = n > 0 ? n : 0};
    return open_results(path, 0, &s, out, err, errlen);
}

int hps_results_open_best(const char *path, int k, hps_results *out, char *err, size_t errlen)
{
    if (k < 1) {
        if (out)
            memset(out, 0, sizeof *out);
        return HPS_EINVAL;
    }
    return open_results(path, k, NULL, out, err, errlen);
}

void hps_results_free(hps_results *r)
{
    if (!r)
        return;
    char *strs[] = {r->hpsweep_version, r->name,    r->strategy, r->objective,  r->metric, r->goal,
                    r->status,          r->created, r->updated,  r->config_text};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(strs[i]);
    hps_space_free(&r->space);
    for (int64_t i = 0; i < r->n_trials; i++) {
        free(r->trials[i].values);
        free(r->trials[i].stderr_tail);
    }
    free(r->trials);
    for (int i = 0; i < r->n_metric_names; i++)
        free(r->metric_names[i]);
    free(r->metric_names);
    free(r->metrics);
    free(r->rungs);
    for (int i = 0; r->provenance_keys && i < r->n_provenance; i++)
        free(r->provenance_keys[i]);
    for (int i = 0; r->provenance_values && i < r->n_provenance; i++)
        free(r->provenance_values[i]);
    free(r->provenance_keys);
    free(r->provenance_values);
    memset(r, 0, sizeof *r);
}

int hps_trial_better(const hps_trial *a, const hps_trial *b, int maximize)
{
    if (a->budget != b->budget)
        return a->budget > b->budget;
    return maximize ? a->objective > b->objective : a->objective < b->objective;
}

const hps_trial *hps_results_best(const hps_results *r)
{
    int maximize = r->goal && strcmp(r->goal, "maximize") == 0;
    const hps_trial *best = NULL;
    for (int64_t k = 0; k < r->n_trials; k++) {
        const hps_trial *t = &r->trials[k];
        if (t->status != HPS_TRIAL_DONE || isnan(t->objective))
            continue;
        if (!best || hps_trial_better(t, best, maximize))
            best = t;
    }
    return best;
}
