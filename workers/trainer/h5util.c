/*
 * HDF5 and durable-file helpers for the trainer (see h5util.h).
 */
#include "h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hps_tr_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct last_msg {
    char *buf;
    size_t len;
} last_msg;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    last_msg *m = data;
    /* H5E_WALK_UPWARD starts at the innermost (most specific) frame: keep it. */
    if (n == 0 && e->desc)
        snprintf(m->buf, m->len, "%s", e->desc);
    return 0;
}

void hps_tr_h5_last(char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    last_msg m = {buf, len};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &m);
}

void hps_tr_h5_close(hid_t id)
{
    /* Dropping the application's reference closes any kind of identifier the way
     * its H5?close() does; a failure to close leaves nothing the caller can do. */
    if (id >= 0)
        (void)H5Idec_ref(id);
}

int hps_tr_h5_describe(hid_t ds, char *buf, size_t len, int *rank, int64_t dims[2],
                       int *is_f32, int *is_i32)
{
    hid_t type = H5Dget_type(ds);
    hid_t space = H5Dget_space(ds);
    int rc = -1;
    if (type < 0 || space < 0)
        goto done;
    int r = H5Sget_simple_extent_ndims(space);
    if (r < 0)
        goto done;
    hsize_t d[H5S_MAX_RANK];
    if (H5Sget_simple_extent_dims(space, d, NULL) < 0)
        goto done;
    dims[0] = r > 0 ? (int64_t)d[0] : 1;
    dims[1] = r > 1 ? (int64_t)d[1] : 1;
    *rank = r;
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    char tname[32];
    *is_f32 = *is_i32 = 0;
    if (cls == H5T_INTEGER) {
        H5T_sign_t sign = H5Tget_sign(type);
        snprintf(tname, sizeof tname, "%sint%zu", sign == H5T_SGN_NONE ? "u" : "", size * 8);
        *is_i32 = sign == H5T_SGN_2 && size == 4;
    } else if (cls == H5T_FLOAT) {
        snprintf(tname, sizeof tname, "float%zu", size * 8);
        *is_f32 = size == 4 && H5Tget_precision(type) == 32;
    } else if (cls == H5T_STRING) {
        snprintf(tname, sizeof tname, "string");
    } else if (cls == H5T_COMPOUND) {
        snprintf(tname, sizeof tname, "compound");
    } else if (cls == H5T_ENUM) {
        snprintf(tname, sizeof tname, "enum");
    } else {
        snprintf(tname, sizeof tname, "other");
    }
    snprintf(buf, len, "%d-D %s", r, tname);
    rc = 0;
done:
    hps_tr_h5_close(space);
    hps_tr_h5_close(type);
    return rc;
}

int hps_tr_attr_write(hid_t loc, const char *name, hid_t mem_type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR), attr = H5I_INVALID_HID;
    int rc = -1;
    if (space < 0)
        return -1;
    attr = H5Acreate2(loc, name, mem_type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0 && H5Awrite(attr, mem_type, value) >= 0)
        rc = 0;
    hps_tr_h5_close(attr);
    hps_tr_h5_close(space);
    return rc;
}

int hps_tr_attr_read(hid_t loc, const char *name, hid_t mem_type, void *value)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    hid_t space = H5Aget_space(attr);
    int rc = -1;
    if (space >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
        H5Aread(attr, mem_type, value) >= 0)
        rc = 0;
    hps_tr_h5_close(space);
    hps_tr_h5_close(attr);
    return rc;
}

int hps_tr_attr_write_str(hid_t loc, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    int rc = -1;
    if (type < 0)
        return -1;
    if (H5Tset_size(type, strlen(value) + 1) >= 0 && H5Tset_strpad(type, H5T_STR_NULLTERM) >= 0)
        rc = hps_tr_attr_write(loc, name, type, value);
    H5Tclose(type);
    return rc;
}

int hps_tr_attr_read_str(hid_t loc, const char *name, char *buf, size_t len)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    hid_t ftype = H5Aget_type(attr), mtype = H5I_INVALID_HID;
    int rc = -1;
    char *tmp = NULL;
    if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) != 0)
        goto done;
    size_t size = H5Tget_size(ftype);
    if (size == 0 || size > (1u << 20) || !(tmp = calloc(size + 1, 1)))
        goto done;
    if ((mtype = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mtype, size) < 0)
        goto done;
    if (H5Aread(attr, mtype, tmp) < 0)
        goto done;
    snprintf(buf, len, "%s", tmp);
    rc = 0;
done:
    free(tmp);
    hps_tr_h5_close(mtype);
    hps_tr_h5_close(ftype);
    hps_tr_h5_close(attr);
    return rc;
}

int hps_tr_commit_file(const char *tmp, const char *path, char *err, size_t errlen)
{
    const char *step = "open";
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto fail;
    step = "fsync";
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        goto fail;
    }
    close(fd);
    step = "rename";
    if (rename(tmp, path) != 0)
        goto fail;
    /* The directory entry: fsync the parent so the rename survives a crash. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        int rc = fsync(dfd);
        int e = errno;
        close(dfd);
        if (rc != 0) {
            errno = e;
            step = "fsync of the directory";
            if (err && errlen)
                snprintf(err, errlen, "%s: %s: %s", path, step, strerror(errno));
            return -1;
        }
    }
    return 0;
fail:
    if (err && errlen)
        snprintf(err, errlen, "%s: %s of %s: %s", path, step, tmp, strerror(errno));
    unlink(tmp);
    return -1;
}
