/*
 * Can sweep.h5 hold a sweep of this space? (hps_store_check_space, store.h.)
 *
 * HDF5 keeps a dataset's datatype in one object-header message of at most 64 KiB,
 * and /trials has one column per parameter, each categorical an enum of its
 * choices. A few thousand parameters, or some thousands of choices, do not fit,
 * and HDF5 says so only when the table is created: after the sweep has run. So
 * the run refuses such a space before it starts. Lower bounds on the encoded size
 * turn obviously hopeless spaces away in linear time (HDF5's own enum insertion
 * is quadratic: 100,000 choices would take minutes); the rest is settled by
 * creating an empty /trials, with the writer's own code and file format, in a
 * file that lives in memory only.
 */
#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include "store.h"
#include "store_h5.h"
#include "hpsweep/error.h"

/* HDF5's limit on one object-header message (H5O_MESG_MAX_SIZE). */
#define MESSAGE_MAX 65536u

/* At least the bytes an enum of p's choices takes: each member's name, its NUL and
 * its 4-byte value. */
static size_t enum_bytes_at_least(const hps_param *p)
{
    size_t n = 0;
    for (int k = 0; k < p->n_choices; k++)
        n += (p->choices[k].text && p->choices[k].text[0] ? strlen(p->choices[k].text) : 7) + 5;
    return n;
}

int hps_store_check_space(const hps_space *space, char *err, size_t errlen)
{
    hps_h5err e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!space)
        return HPS_EINVAL;
    size_t total = 0;
    for (int i = 0; i < space->n_params; i++) {
        const hps_param *p = &space->params[i];
        size_t b = p->type == HPS_PARAM_CATEGORICAL ? enum_bytes_at_least(p) : 8;
        if (b >= MESSAGE_MAX) {
            hps_h5_errf(&e, "space.%s: %d choices are more than sweep.h5 can describe: its "
                        "/trials column would be an HDF5 enum of at least %zu bytes, and HDF5 "
                        "stores a table's types in at most 64 KiB; use fewer or shorter "
                        "choices (or an int parameter indexing them)", p->name, p->n_choices, b);
            return HPS_EINVAL;
        }
        total += b + (p->name ? strlen(p->name) : 0) + 2;
    }
    if (total >= MESSAGE_MAX) {
        hps_h5_errf(&e, "space: %d parameters are more than sweep.h5 can describe: the /trials "
                    "row type would take at least %zu bytes, and HDF5 stores a table's types "
                    "in at most 64 KiB; use fewer parameters or shorter names",
                    space->n_params, total);
        return HPS_EINVAL;
    }
    int rc = HPS_EHDF5;
    char why[512] = "";
    hps_h5err dry = {why, sizeof why};
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID;
    h5Check(&e, fapl = hps_store_fapl());
    h5Check(&e, H5Pset_fapl_core(fapl, 1 << 16, 0));
    h5Check(&e, file = H5Fcreate("hpsweep-layout-check", H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    /* HDF5 prints its error stack on failure unless told not to: this one is expected. */
    H5E_BEGIN_TRY
    {
        rc = hps_store_write_trials(file, space, H5I_INVALID_HID, 0, NULL, NULL, 0, NULL, &dry);
    }
    H5E_END_TRY;
    if (rc == HPS_EHDF5) {
        hps_h5_errf(&e, "space: these %d parameters make a /trials row type larger than "
                    "HDF5 can store (64 KiB per type; HDF5: %s); use fewer parameters or "
                    "categorical choices, or shorter names", space->n_params, why);
        rc = HPS_EINVAL;
    } else if (rc != HPS_OK) {
        hps_h5_errf(&e, "%s", why);
    }
fail:
    hps_h5_close(file);
    hps_h5_close(fapl);
    return rc;
}
