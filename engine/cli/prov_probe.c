/*
 * `hpsweep __probe-gpu`: this host's GPUs and NVIDIA libraries, as key=value
 * lines, for provenance (prov_host.c runs it through the spawner, once per host).
 *
 * It runs as a process of its own and dlopens the libraries a CUDA program on this
 * host would load (the loader's search path, LD_LIBRARY_PATH included), asking
 * each only for versions: NVML (nvmlInit, device names, UUIDs and memory, the
 * driver version), libcuda's cuDriverGetVersion (the CUDA version the driver
 * supports), libcudart's cudaRuntimeGetVersion, libcublas's cublasGetProperty and
 * libnccl's ncclGetVersion. None of these creates a CUDA context, and the process
 * exits before any trial starts, so no hpsweep rank ever holds one that a trial's
 * own process would compete with. A library that is not there gives
 * "none (<library> not found)".
 *
 * A framework that bundles its own CUDA libraries (PyTorch wheels do) may use
 * other versions than these: a training script should log its own (see the
 * README's provenance section).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "provenance.h"

/* The first of names that loads, its name in *which; NULL when none does. The
 * libraries stay loaded (never dlclose()d): the probe exits at once, and unloading
 * a C++ library such as cuBLAS would leave its allocations unreachable. */
static void *open_first(const char *const *names, const char **which)
{
    for (int i = 0; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            *which = names[i];
            return h;
        }
    }
    return NULL;
}

/* A CUDA-style version number (1000 * major + 10 * minor) as "major.minor". */
static void cuda_version(int v, char *out, size_t len)
{
    snprintf(out, len, "%d.%d", v / 1000, (v % 1000) / 10);
}

typedef struct nvml_memory {
    unsigned long long total, free, used;
} nvml_memory;

static void probe_nvml(void)
{
    static const char *const names[] = {"libnvidia-ml.so.1", "libnvidia-ml.so", NULL};
    const char *which = NULL;
    void *h = open_first(names, &which);
    if (!h) {
        printf("gpu_memory=none (libnvidia-ml.so.1 not found)\nnvml_uuids=none\n");
        return;
    }
    int (*init)(void) = (int (*)(void))dlsym(h, "nvmlInit_v2");
    int (*shutdown)(void) = (int (*)(void))dlsym(h, "nvmlShutdown");
    int (*count)(unsigned *) = (int (*)(unsigned *))dlsym(h, "nvmlDeviceGetCount_v2");
    int (*handle)(unsigned, void **) =
        (int (*)(unsigned, void **))dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
    int (*name)(void *, char *, unsigned) =
        (int (*)(void *, char *, unsigned))dlsym(h, "nvmlDeviceGetName");
    int (*uuid)(void *, char *, unsigned) =
        (int (*)(void *, char *, unsigned))dlsym(h, "nvmlDeviceGetUUID");
    int (*mem)(void *, nvml_memory *) =
        (int (*)(void *, nvml_memory *))dlsym(h, "nvmlDeviceGetMemoryInfo");
    int (*driver)(char *, unsigned) =
        (int (*)(char *, unsigned))dlsym(h, "nvmlSystemGetDriverVersion");
    unsigned n = 0;
    if (!init || !shutdown || !count || !handle || !name || !uuid || !mem || !driver ||
        init() != 0) {
        printf("gpu_memory=unknown (NVML could not start)\nnvml_uuids=none\n");
        return;
    }
    char d[96] = "";
    if (driver(d, sizeof d) == 0)
        printf("nvml_driver=%s\n", d);
    char names_line[4096] = "", uuids[4096] = "", mems[2048] = "";
    if (count(&n) == 0)
        for (unsigned i = 0; i < n; i++) {
            void *dev = NULL;
            char nm[96] = "?", id[96] = "?", mb[48] = "?";
            nvml_memory m;
            if (handle(i, &dev) != 0)
                continue;
            if (name(dev, nm, sizeof nm) != 0)
                snprintf(nm, sizeof nm, "?");
            if (uuid(dev, id, sizeof id) != 0)
                snprintf(id, sizeof id, "?");
            if (mem(dev, &m) == 0)
                snprintf(mb, sizeof mb, "%llu MiB", m.total / (1024ull * 1024ull));
            size_t a = strlen(names_line), b = strlen(uuids), c = strlen(mems);
            snprintf(names_line + a, sizeof names_line - a, "%s%s", a ? ", " : "", nm);
            snprintf(uuids + b, sizeof uuids - b, "%s%s", b ? ", " : "", id);
            snprintf(mems + c, sizeof mems - c, "%s%s", c ? ", " : "", mb);
        }
    printf("nvml_gpus=%s\nnvml_uuids=%s\ngpu_memory=%s\n", n ? names_line : "none",
           n ? uuids : "none", n ? mems : "none (no GPU visible to NVML)");
    shutdown();
}

/* One library's version: fn(&v) returning 0 gives v, as format() prints it. */
static void probe_version(const char *key, const char *const *names, const char *sym,
                          void (*format)(int, char *, size_t))
{
    const char *which = NULL;
    void *h = open_first(names, &which);
    if (!h) {
        printf("%s=none (%s not found)\n", key, names[0]);
        return;
    }
    int (*fn)(int *) = (int (*)(int *))dlsym(h, sym);
    int v = 0;
    char text[64];
    if (fn && fn(&v) == 0) {
        format(v, text, sizeof text);
        printf("%s=%s (%s)\n", key, text, which);
    } else {
        printf("%s=unknown (%s has no working %s)\n", key, which, sym);
    }
}

static void nccl_version(int v, char *out, size_t len)
{
    /* NCCL_VERSION(X,Y,Z): X*10000+Y*100+Z since 2.9, X*1000+Y*100+Z before */
    if (v >= 10000)
        snprintf(out, len, "%d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
    else
        snprintf(out, len, "%d.%d.%d", v / 1000, (v % 1000) / 100, v % 100);
}

static void probe_cublas(void)
{
    static const char *const names[] = {"libcublas.so", "libcublas.so.13", "libcublas.so.12",
                                        "libcublas.so.11", NULL};
    const char *which = NULL;
    void *h = open_first(names, &which);
    if (!h) {
        printf("cublas=none (libcublas.so not found)\n");
        return;
    }
    /* cublasGetProperty(libraryPropertyType: MAJOR 0, MINOR 1, PATCH 2, int *) */
    int (*prop)(int, int *) = (int (*)(int, int *))dlsym(h, "cublasGetProperty");
    int v[3] = {0, 0, 0};
    if (prop && prop(0, &v[0]) == 0 && prop(1, &v[1]) == 0 && prop(2, &v[2]) == 0)
        printf("cublas=%d.%d.%d (%s)\n", v[0], v[1], v[2], which);
    else
        printf("cublas=unknown (%s has no working cublasGetProperty)\n", which);
}

int hps_cli_probe_gpu(void)
{
    static const char *const cuda[] = {"libcuda.so.1", "libcuda.so", NULL};
    static const char *const cudart[] = {"libcudart.so", "libcudart.so.13", "libcudart.so.12",
                                         "libcudart.so.11.0", NULL};
    static const char *const nccl[] = {"libnccl.so.2", "libnccl.so", NULL};
    probe_nvml();
    probe_version("cuda_driver", cuda, "cuDriverGetVersion", cuda_version);
    probe_version("cuda_runtime", cudart, "cudaRuntimeGetVersion", cuda_version);
    probe_cublas();
    probe_version("nccl", nccl, "ncclGetVersion", nccl_version);
    return fflush(stdout) == 0 ? HPS_EXIT_OK : HPS_EXIT_ERROR;
}
