/*
 * Reading sweep.h5 by name (results.c's helpers): a 1-D compound table is read
 * through a memory compound type holding only the columns asked for, so column
 * order and extra columns do not matter, and enum columns come back as their
 * native integer values. Also scalar string and integer attributes. Every
 * function returns HPS_OK, HPS_ECORRUPT or HPS_ENOMEM with e filled.
 */
#ifndef HPS_STORE_STORE_READ_H
#define HPS_STORE_STORE_READ_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "store_h5.h"

/*
 * How a column is wanted and how it was read: int64, uint64, double, a fixed
 * string of h5col.len bytes, a variable-length string, or (got only) a native
 * integer enum.
 */
typedef enum h5col_as { COL_I64, COL_U64, COL_F64, COL_FSTR, COL_VSTR, COL_ENUM } h5col_as;

typedef struct h5col {
    const char *name;
    h5col_as want;
    size_t len;    /* COL_FSTR: bytes of the string, NUL padding included */
    int optional;  /* a missing optional column is not an error */
    int present;   /* out: found in the file */
    h5col_as got;  /* out */
    size_t off;    /* out: offset in a row of the read buffer */
    size_t size;   /* out: bytes of a COL_ENUM value */
    int is_signed; /* out: whether a COL_ENUM base is signed */
} h5col;

typedef struct h5table {
    unsigned char *buf;
    size_t rowsize;
    int64_t n;          /* rows read */
    int64_t total;      /* rows in the dataset */
    hid_t mtype, space; /* kept to reclaim variable-length strings */
    int has_vstr;
} h5table;

/*
 * Read the columns cols[0..ncols) of the 1-D compound dataset name into t (free it
 * with hps_h5_table_free). A missing column is an error unless marked optional.
 */
int hps_h5_read_table(hid_t file, const char *name, h5col *cols, int ncols, h5table *t,
                      const hps_h5err *e);

/*
 * The same for at most max_rows rows from row first on (fewer at the end of the
 * table, none past it), so that a wide table can be read in blocks.
 */
int hps_h5_read_rows(hid_t file, const char *name, h5col *cols, int ncols, int64_t first,
                     int64_t max_rows, h5table *t, const hps_h5err *e);

/*
 * Whether the compound dataset name has a column col of class cls and size bytes:
 * 1 or 0, or HPS_ECORRUPT with e filled when name cannot be opened.
 */
int hps_h5_has_column(hid_t file, const char *name, const char *col, H5T_class_t cls, size_t size,
                      const hps_h5err *e);
void hps_h5_table_free(h5table *t);

/* Row r of column c: where it is, and as int64 (integers, enums), double or string. */
const unsigned char *hps_h5_cell(const h5table *t, const h5col *c, int64_t r);
int64_t hps_h5_get_i64(const h5table *t, const h5col *c, int64_t r);
double hps_h5_get_f64(const h5table *t, const h5col *c, int64_t r);
const char *hps_h5_get_vstr(const h5table *t, const h5col *c, int64_t r);

/* A scalar string attribute (is_attr) or dataset, of any string type, as a new string. */
int hps_h5_read_string(hid_t obj, int is_attr, const char *what, char **out, const hps_h5err *e);

/* Open the HDF5 file at path read-only into *file (close it with hps_h5_close):
 * HPS_OK, HPS_ENOENT (no file), HPS_EIO (cannot open it) or HPS_ECORRUPT (not
 * HDF5), with e filled. */
int hps_h5_open_read(const char *path, hid_t *file, const hps_h5err *e);

/* Root attribute name of file as a new string, or as an integer of memtype into out. */
int hps_h5_read_str_attr(hid_t file, const char *name, char **out, const hps_h5err *e);
int hps_h5_read_num_attr(hid_t file, const char *name, hid_t memtype, void *out,
                         const hps_h5err *e);

#endif
