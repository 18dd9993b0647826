/*
 * Finding and loading the GPU module, hpsweep-gpu.so (gpu.h says where it is
 * looked for and why it is a module). Built in every build; without the GPU
 * path (HPS_HAVE_CUDA 0) hps_gpu_load says so and loads nothing.
 */
#include "gpu.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HPS_GPU_MODULE_RELDIR
#define HPS_GPU_MODULE_RELDIR "../lib/hpsweep"
#endif

int hps_gpu_built(void)
{
    return HPS_HAVE_CUDA;
}

#if HPS_HAVE_CUDA

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const hps_gpu_ops *g_ops;
static char g_err[2048];

/* Append to g_err what trying path said (dlerror's messages name the path themselves). */
static void tried(const char *path, const char *why)
{
    size_t used = strlen(g_err);
    size_t n = strlen(path);
    int named = strncmp(why, path, n) == 0 && why[n] == ':';
    snprintf(g_err + used, sizeof g_err - used, "%s%s%s%s", used ? "; " : "",
             named ? "" : path, named ? "" : ": ", why);
}

/* The table from the module at path, or NULL with what went wrong added to g_err. */
static const hps_gpu_ops *try_path(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        tried(path, e ? e : "dlopen failed");
        return NULL;
    }
    (void)dlerror();
    const hps_gpu_ops *ops = (const hps_gpu_ops *)dlsym(h, HPS_GPU_MODULE_SYMBOL);
    const char *e = dlerror();
    char why[512];
    if (e || !ops) {
        snprintf(why, sizeof why, "no %s in it (%s)", HPS_GPU_MODULE_SYMBOL,
                 e ? e : "a NULL symbol");
    } else if (ops->version != HPS_GPU_OPS_VERSION) {
        snprintf(why, sizeof why, "its table has version %d, this hpsweep speaks %d (a module "
                 "of another build: install both from one build)", ops->version,
                 HPS_GPU_OPS_VERSION);
    } else if (!ops->name || !ops->train || !ops->set_device || !ops->nccl_unique_id ||
               !ops->nccl_init || !ops->nccl_allreduce || !ops->nccl_abort ||
               !ops->nccl_destroy || ops->nccl_id_bytes == 0) {
        snprintf(why, sizeof why, "its table has an entry missing");
    } else if (ops->train->version != HPS_TRAIN_OPS_VERSION) {
        snprintf(why, sizeof why, "its trainer backend has version %d, this hpsweep speaks %d",
                 ops->train->version, HPS_TRAIN_OPS_VERSION);
    } else {
        return ops; /* kept loaded for the life of the process */
    }
    tried(path, why);
    dlclose(h);
    return NULL;
}

static void load_once(void)
{
    g_err[0] = '\0';
    const char *env = getenv(HPS_GPU_MODULE_ENV);
    if (env && *env) {
        g_ops = try_path(env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(g_err, sizeof g_err, "/proc/self/exe: cannot read the program's path; set %s "
                 "to the module's path", HPS_GPU_MODULE_ENV);
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    static const char *const rel[] = {"", "/" HPS_GPU_MODULE_RELDIR};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s%s/%s", slash ? exe : ".", rel[i], HPS_GPU_MODULE_FILE);
        if ((g_ops = try_path(path)))
            return;
    }
}

const hps_gpu_ops *hps_gpu_load(char *err, size_t errlen)
{
    pthread_once(&g_once, load_once);
    if (!g_ops && err && errlen)
        snprintf(err, errlen, "cannot load the GPU module %s (tried %s; %s sets its path)",
                 HPS_GPU_MODULE_FILE, g_err, HPS_GPU_MODULE_ENV);
    return g_ops;
}

#else /* no GPU path in this build */

const hps_gpu_ops *hps_gpu_load(char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "this build of hpsweep has no CUDA (configure it where the CUDA "
                 "toolkit and NCCL are found, with HPS_CUDA=ON)");
    return NULL;
}

#endif
