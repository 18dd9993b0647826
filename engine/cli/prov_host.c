/*
 * Host facts of provenance (see provenance.h). Every rank describes its host as
 * "key=value" lines; one rank per host (the first on the node) adds the full
 * facts: operating system, kernel, CPU, memory, from /proc and uname, and the
 * NVIDIA GPUs, driver and CUDA libraries, from /proc/driver/nvidia and the
 * `hpsweep __probe-gpu` process (no CUDA context in this process). Rank 0
 * gathers the texts over MPI (run.c) and hps_prov_add_hosts turns them into one
 * host per distinct name, with the world ranks it held.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/buf.h"
#include "hpsweep/error.h"
#include "provenance.h"

void hps_prov_cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ')
                    colon++;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(out, len, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

void hps_nvidia_driver_version(const char *line, char *out, size_t len)
{
    /* the first whitespace-separated token of digits and dots with a dot in it */
    const char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, " \t\n");
        size_t digits = strspn(p, "0123456789.");
        if (n > 0 && digits == n && memchr(p, '.', n) && p[0] != '.') {
            snprintf(out, len, "%.*s", (int)n, p);
            return;
        }
        p += n;
        if (*p == '\n')
            break;
    }
    /* no version-like token: the line itself, trimmed */
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strcspn(line, "\n");
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    if (n == 0)
        snprintf(out, len, "none");
    else
        snprintf(out, len, "%.*s", (int)n, line);
}

/* The value after "key:" in one of /proc/driver/nvidia/gpus/<bus>/information's lines. */
static void info_field(const char *path, const char *key, char *out, size_t len)
{
    char line[512];
    size_t k = strlen(key);
    FILE *g = fopen(path, "r");
    while (g && fgets(line, sizeof line, g))
        if (strncmp(line, key, k) == 0 && line[k] == ':') {
            char *m = line + k + 1;
            while (*m == ' ' || *m == '\t')
                m++;
            m[strcspn(m, "\n")] = '\0';
            snprintf(out, len, "%s", m);
        }
    if (g)
        fclose(g);
}

/* GPUs from /proc/driver/nvidia: "<model> (<bus>)" joined into models, their UUIDs
 * into uuids (may be NULL), the driver version into driver. */
static void proc_gpus(char *models, size_t mlen, char *uuids, size_t ulen, char *driver,
                      size_t dlen)
{
    snprintf(models, mlen, "none");
    if (uuids)
        snprintf(uuids, ulen, "none");
    snprintf(driver, dlen, "none");
    FILE *f = fopen("/proc/driver/nvidia/version", "r");
    if (f) {
        char line[512];
        if (fgets(line, sizeof line, f))
            hps_nvidia_driver_version(line, driver, dlen);
        fclose(f);
    }
    DIR *d = opendir("/proc/driver/nvidia/gpus");
    if (!d)
        return;
    size_t off = 0, uoff = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[600], model[256] = "?", uuid[128] = "?";
        snprintf(path, sizeof path, "/proc/driver/nvidia/gpus/%s/information", e->d_name);
        info_field(path, "Model", model, sizeof model);
        info_field(path, "GPU UUID", uuid, sizeof uuid);
        int n = snprintf(models + off, mlen - off, "%s%s (%s)", off ? ", " : "", model, e->d_name);
        if (n < 0 || (size_t)n >= mlen - off)
            break;
        off += (size_t)n;
        if (uuids) {
            n = snprintf(uuids + uoff, ulen - uoff, "%s%s", uoff ? ", " : "", uuid);
            if (n > 0 && (size_t)n < ulen - uoff)
                uoff += (size_t)n;
        }
    }
    closedir(d);
}

void hps_prov_proc_gpus(char *models, size_t mlen, char *driver, size_t dlen)
{
    proc_gpus(models, mlen, NULL, 0, driver, dlen);
}

static void line(hps_buf *b, const char *key, const char *value)
{
    hps_buf_put(b, key, strlen(key));
    hps_buf_put(b, "=", 1);
    for (const char *p = value; *p; p++)
        hps_buf_put(b, *p == '\n' || *p == '\r' ? " " : p, 1);
    hps_buf_put(b, "\n", 1);
}

static void os_release(char *out, size_t len)
{
    snprintf(out, len, "unknown (no /etc/os-release)");
    FILE *f = fopen("/etc/os-release", "r");
    char l[512];
    while (f && fgets(l, sizeof l, f))
        if (strncmp(l, "PRETTY_NAME=", 12) == 0) {
            char *v = l + 12;
            v[strcspn(v, "\n")] = '\0';
            size_t n = strlen(v);
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v[n - 1] = '\0';
                v++;
            }
            snprintf(out, len, "%s", v);
        }
    if (f)
        fclose(f);
}

static void cpus(char *out, size_t len)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    int usable = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    if (usable > 0 && usable != online)
        snprintf(out, len, "%ld (%d usable by this rank)", online, usable);
    else
        snprintf(out, len, "%ld", online);
}

static void memory(char *out, size_t len)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0)
        snprintf(out, len, "unknown");
    else
        snprintf(out, len, "%.1f GiB", (double)pages * (double)size / (1024.0 * 1024 * 1024));
}

/* The probe's key=value lines (GPU libraries), or a note why there are none. */
static void probe(hps_spawner *sp, char *out, size_t len)
{
    char self[4096];
    hps_self_path(self, sizeof self);
    const char *argv[] = {self, "__probe-gpu", NULL};
    if (!self[0] || hps_prov_capture(sp, argv, out, len, 0) != 0)
        out[0] = '\0';
}

/* The value of key in probe output, or NULL (copied into buf). */
static const char *probed(const char *text, const char *key, char *buf, size_t len)
{
    size_t k = strlen(key);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > k && strncmp(p, key, k) == 0 && p[k] == '=') {
            snprintf(buf, len, "%.*s", (int)(n - k - 1), p + k + 1);
            return buf;
        }
        p += n + (p[n] == '\n');
    }
    return NULL;
}

char *hps_prov_host_facts(const char *name, int rank, int full, hps_spawner *spawner)
{
    hps_buf b = {0};
    char buf[8192], v[4096];
    line(&b, "host", name);
    snprintf(buf, sizeof buf, "%d", rank);
    line(&b, "rank", buf);
    if (full) {
        os_release(buf, sizeof buf);
        line(&b, "os", buf);
        struct utsname u;
        if (uname(&u) == 0)
            snprintf(buf, sizeof buf, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
        else
            snprintf(buf, sizeof buf, "unknown");
        line(&b, "kernel", buf);
        hps_prov_cpu_model(buf, sizeof buf);
        line(&b, "cpu_model", buf);
        cpus(buf, sizeof buf);
        line(&b, "cpus", buf);
        memory(buf, sizeof buf);
        line(&b, "memory", buf);
        char models[4096], uuids[4096], driver[256], out[8192];
        proc_gpus(models, sizeof models, uuids, sizeof uuids, driver, sizeof driver);
        probe(spawner, out, sizeof out);
        /* /proc names the GPUs by PCI address; NVML where /proc is not mounted */
        const char *nv = probed(out, "nvml_gpus", v, sizeof v);
        line(&b, "gpus", strcmp(models, "none") == 0 && nv ? nv : models);
        const char *nu = probed(out, "nvml_uuids", v, sizeof v);
        line(&b, "gpu_uuids", nu && strncmp(nu, "none", 4) != 0 ? nu : uuids);
        const char *nd = probed(out, "nvml_driver", v, sizeof v);
        line(&b, "nvidia_driver", strcmp(driver, "none") == 0 && nd ? nd : driver);
        const char *keys[] = {"gpu_memory", "cuda_driver", "cuda_runtime", "cublas", "nccl"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const char *pv = probed(out, keys[i], v, sizeof v);
            line(&b, keys[i], pv ? pv : "unknown (the GPU probe did not run)");
        }
    }
    hps_buf_put(&b, "\n", 1);
    hps_buf_put(&b, "", 1);
    if (b.failed) {
        hps_buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

/* ---- rank 0: the gathered texts into hosts ------------------------------------------ */

typedef struct host_acc {
    char name[256];
    hps_buf ranks;          /* "1,2,5" */
    const char *facts;      /* the block with the full facts, or NULL */
    size_t facts_len;
} host_acc;

/* The value of key in block [p, p + n), into out. */
static int block_value(const char *p, size_t n, const char *key, char *out, size_t len)
{
    size_t k = strlen(key);
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ln > k && strncmp(p, key, k) == 0 && p[k] == '=') {
            snprintf(out, len, "%.*s", (int)(ln - k - 1), p + k + 1);
            return 1;
        }
        p += ln + 1;
    }
    return 0;
}

static int add_block_facts(hps_prov *p, int index, const char *b, size_t n)
{
    const char *end = b + n;
    while (b < end) {
        const char *nl = memchr(b, '\n', (size_t)(end - b));
        size_t ln = nl ? (size_t)(nl - b) : (size_t)(end - b);
        const char *eq = memchr(b, '=', ln);
        if (eq && !(eq - b == 4 && strncmp(b, "host", 4) == 0) &&
            !(eq - b == 4 && strncmp(b, "rank", 4) == 0)) {
            int rc = hps_prov_addn(p, HPS_PROV_HOST, index, b, (size_t)(eq - b), eq + 1,
                                   ln - (size_t)(eq - b) - 1);
            if (rc != HPS_OK)
                return rc;
        }
        b += ln + 1;
    }
    return HPS_OK;
}

int hps_prov_add_hosts(hps_prov *p, const char *texts)
{
    host_acc *h = NULL;
    int n = 0, cap = 0, rc = HPS_OK;
    const char *t = texts;
    while (*t && rc == HPS_OK) {
        const char *end = strstr(t, "\n\n");
        size_t len = end ? (size_t)(end - t) + 1 : strlen(t);
        char name[256], rank[32];
        if (!block_value(t, len, "host", name, sizeof name))
            snprintf(name, sizeof name, "unknown");
        if (!block_value(t, len, "rank", rank, sizeof rank))
            rank[0] = '\0';
        int k = 0;
        while (k < n && strcmp(h[k].name, name) != 0)
            k++;
        if (k == n) {
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                host_acc *g = realloc(h, sizeof *g * (size_t)cap);
                if (!g) {
                    rc = HPS_ENOMEM;
                    break;
                }
                h = g;
            }
            memset(&h[n], 0, sizeof h[n]);
            snprintf(h[n].name, sizeof h[n].name, "%s", name);
            n++;
        }
        if (rank[0]) {
            if (h[k].ranks.len)
                hps_buf_put(&h[k].ranks, ",", 1);
            hps_buf_put(&h[k].ranks, rank, strlen(rank));
        }
        char os[8];
        if (!h[k].facts && block_value(t, len, "os", os, sizeof os)) {
            h[k].facts = t;
            h[k].facts_len = len;
        }
        t = end ? end + 2 : t + len;
    }
    hps_buf names = {0};
    for (int k = 0; k < n && rc == HPS_OK; k++) {
        hps_buf_put(&h[k].ranks, "", 1);
        if (h[k].ranks.failed) {
            rc = HPS_ENOMEM;
            break;
        }
        if ((rc = hps_prov_add(p, HPS_PROV_HOST, k, "host", h[k].name)) == HPS_OK)
            rc = hps_prov_add(p, HPS_PROV_HOST, k, "ranks", (const char *)h[k].ranks.data);
        if (rc == HPS_OK && h[k].facts)
            rc = add_block_facts(p, k, h[k].facts, h[k].facts_len);
        if (k)
            hps_buf_put(&names, ",", 1);
        hps_buf_put(&names, h[k].name, strlen(h[k].name));
    }
    hps_buf_put(&names, "", 1);
    if (rc == HPS_OK)
        rc = names.failed ? HPS_ENOMEM
                          : hps_prov_add(p, HPS_PROV_RUN, 0, "hosts", (const char *)names.data);
    for (int k = 0; k < n; k++)
        hps_buf_free(&h[k].ranks);
    free(h);
    hps_buf_free(&names);
    return rc;
}
