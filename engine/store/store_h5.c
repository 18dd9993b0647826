/*
 * HDF5 helpers shared by the results writer (store.c) and reader (results.c): error
 * reporting for h5Check, the datatypes both must build identically, and the
 * parameter-column naming rule of /trials.
 */
#include "store_h5.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"

const char *const hps_store_fixed_columns[] = {
    "trial_id", "status",    "seed",  "bracket",   "rung",     "budget", "worker",
    "start",    "end",       "objective", "cause", "exit_code", "attempts",
};
const int hps_store_n_fixed_columns =
    (int)(sizeof hps_store_fixed_columns / sizeof hps_store_fixed_columns[0]);

typedef struct h5_innermost {
    int found;
    int sys_errno;
    char func[64];
    char desc[256];
} h5_innermost;

/* H5Ewalk2 callback: keep the first record of an upward walk, the innermost one,
 * and any "errno = N" a file driver put in its message. */
static herr_t keep_innermost(unsigned n, const H5E_error2_t *rec, void *data)
{
    h5_innermost *m = data;
    const char *at = rec->desc ? strstr(rec->desc, "errno = ") : NULL;
    if (at && !m->sys_errno)
        m->sys_errno = atoi(at + 8);
    if (m->found)
        return 0;
    m->found = 1;
    snprintf(m->func, sizeof m->func, "%s", rec->func_name ? rec->func_name : "?");
    snprintf(m->desc, sizeof m->desc, "%s", rec->desc ? rec->desc : "");
    /* A driver's message runs on with times and addresses: keep what failed. */
    char *noise = strstr(m->desc, ", time = ");
    if (noise)
        *noise = '\0';
    return 0;
}

void hps_h5_report(const hps_h5err *e, const char *file, int line, const char *expr)
{
    if (!e || !e->buf || e->len == 0)
        return;
    h5_innermost m = {0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &m);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (m.sys_errno)
        snprintf(e->buf, e->len, "%s (%s:%d: %s failed: %s())", strerror(m.sys_errno), base,
                 line, expr, m.func);
    else if (m.found)
        snprintf(e->buf, e->len, "%s:%d: %s failed: %s(): %s", base, line, expr, m.func, m.desc);
    else
        snprintf(e->buf, e->len, "%s:%d: %s failed", base, line, expr);
}

void hps_h5_errf(const hps_h5err *e, const char *fmt, ...)
{
    if (!e || !e->buf || e->len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->buf, e->len, fmt, ap);
    va_end(ap);
}

herr_t hps_h5_write_rows_attr(hid_t ds, int64_t n)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = space < 0 ? H5I_INVALID_HID
                           : H5Acreate2(ds, "rows", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite(attr, H5T_NATIVE_INT64, &n);
    hps_h5_close(attr);
    hps_h5_close(space);
    return rc;
}

void hps_h5_close(hid_t id)
{
    if (id < 0)
        return;
    switch (H5Iget_type(id)) {
    case H5I_FILE:
        H5Fclose(id);
        break;
    case H5I_GROUP:
        H5Gclose(id);
        break;
    case H5I_DATASET:
        H5Dclose(id);
        break;
    case H5I_ATTR:
        H5Aclose(id);
        break;
    case H5I_DATATYPE:
        H5Tclose(id);
        break;
    case H5I_DATASPACE:
        H5Sclose(id);
        break;
    case H5I_GENPROP_LST:
        H5Pclose(id);
        break;
    default:
        H5Idec_ref(id);
        break;
    }
}

hid_t hps_h5_vstr_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* An enum over int8 with members names[i] = i. */
static hid_t enum_int8(const char *const *names, int n)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    if (t < 0)
        return t;
    for (int i = 0; i < n; i++) {
        int8_t v = (int8_t)i;
        if (H5Tenum_insert(t, names[i], &v) < 0) {
            H5Tclose(t);
            return H5I_INVALID_HID;
        }
    }
    return t;
}

hid_t hps_h5_status_type(void)
{
    static const char *const names[] = {"running", "done", "failed", "interrupted", "pruned"};
    return enum_int8(names, 5);
}

hid_t hps_h5_ptype_type(void)
{
    static const char *const names[] = {"float", "int", "categorical", "bool"};
    return enum_int8(names, 4);
}

hid_t hps_h5_bool_type(void)
{
    static const char *const names[] = {"FALSE", "TRUE"};
    return enum_int8(names, 2);
}

hid_t hps_h5_tail_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, HPS_STDERR_TAIL_LEN) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

herr_t hps_h5_reclaim(hid_t type, hid_t space, void *buf)
{
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

/* The fixed columns of files written before exit_code and attempts were added. */
const int hps_store_n_legacy_columns = 11;

/* Whether name is one of the first n_fixed fixed columns or of the first n names in cols. */
static int column_taken(const char *name, int n_fixed, char **cols, int n)
{
    if (name[0] == '\0')
        return 1;
    for (int i = 0; i < n_fixed; i++)
        if (strcmp(name, hps_store_fixed_columns[i]) == 0)
            return 1;
    for (int i = 0; i < n; i++)
        if (strcmp(name, cols[i]) == 0)
            return 1;
    return 0;
}

int hps_store_param_columns(const hps_space *space, char ***out)
{
    return hps_store_param_columns_n(space, hps_store_n_fixed_columns, out);
}

int hps_store_param_columns_n(const hps_space *space, int n_fixed, char ***out)
{
    *out = NULL;
    int n = space ? space->n_params : 0;
    if (n == 0)
        return HPS_OK;
    char **cols = calloc((size_t)n, sizeof *cols);
    if (!cols)
        return HPS_ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *pname = space->params[i].name ? space->params[i].name : "";
        char *name = strdup(pname);
        while (name && column_taken(name, n_fixed, cols, i)) {
            size_t len = strlen(name);
            char *longer = malloc(len + sizeof "param.");
            if (longer) {
                memcpy(longer, "param.", 6);
                memcpy(longer + 6, name, len + 1);
            }
            free(name);
            name = longer;
        }
        if (!name) {
            hps_store_columns_free(cols, i);
            return HPS_ENOMEM;
        }
        cols[i] = name;
    }
    *out = cols;
    return HPS_OK;
}

void hps_store_columns_free(char **cols, int n)
{
    if (!cols)
        return;
    for (int i = 0; i < n; i++)
        free(cols[i]);
    free(cols);
}
