/*
 * Loading a C plugin: a shared library that exports one const hps_objective_ops
 * table under HPS_OBJECTIVE_SYMBOL (hpsweep/objective.h). Checked here, before
 * any of its code runs: the file can be loaded with every symbol resolved
 * (RTLD_NOW, so a plugin that calls something missing fails now, not mid-sweep),
 * the table is there, speaks this hpsweep's API version and has a run().
 * RTLD_LOCAL keeps the plugin's own symbols from interposing anyone else's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hpsweep/error.h"
#include "objective.h"

int hps_plugin_load(const char *path, void **dl, const hps_objective_ops **ops, char *err,
                    size_t errlen)
{
    *dl = NULL;
    *ops = NULL;
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "plugin %s: %s (objective.plugin is relative to the config file)",
                 path, strerror(errno));
        return HPS_ENOENT;
    }
    (void)dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(err, errlen, "plugin %s cannot be loaded: %s", path, why ? why : "dlopen failed");
        return HPS_ENOENT;
    }
    (void)dlerror();
    void *sym = dlsym(h, HPS_OBJECTIVE_SYMBOL);
    const char *why = dlerror();
    if (why || !sym) {
        snprintf(err, errlen, "plugin %s exports no '%s' (a const hps_objective_ops table, "
                 "see hpsweep/objective.h)%s%s", path, HPS_OBJECTIVE_SYMBOL, why ? ": " : "",
                 why ? why : "");
        if (dlclose(h) != 0)
            fprintf(stderr, "hpsweep: dlclose(%s): %s\n", path, dlerror());
        return HPS_ENOENT;
    }
    const hps_objective_ops *o = sym;
    int rc = HPS_OK;
    if (o->version != HPS_OBJECTIVE_VERSION) {
        snprintf(err, errlen, "plugin %s: its ops table has API version %d, this hpsweep speaks "
                 "version %d; rebuild it against this hpsweep's hpsweep/objective.h", path,
                 o->version, HPS_OBJECTIVE_VERSION);
        rc = HPS_EVERSION;
    } else if (!o->run) {
        snprintf(err, errlen, "plugin %s: its ops table '%s' has no run()", path,
                 HPS_OBJECTIVE_SYMBOL);
        rc = HPS_EINVAL;
    }
    if (rc != HPS_OK) {
        if (dlclose(h) != 0)
            fprintf(stderr, "hpsweep: dlclose(%s): %s\n", path, dlerror());
        return rc;
    }
    *dl = h;
    *ops = o;
    return HPS_OK;
}
