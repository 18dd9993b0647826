/*
 * The provenance container and its diff (see prov.h).
 */
#include "prov.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "hpsweep/error.h"

const char *const hps_prov_host_keys[] = {
    "host", "ranks", "os", "kernel", "cpu_model", "cpus", "memory", "gpus", "gpu_uuids",
    "gpu_memory", "nvidia_driver", "cuda_driver", "cuda_runtime", "cublas", "nccl", NULL};
const char *const hps_prov_file_keys[] = {"role", "path", "sha256", "bytes", NULL};

static char *copy(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    if (n)
        memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

int hps_prov_addn(hps_prov *p, int kind, int index, const char *key, size_t klen,
                  const char *value, size_t vlen)
{
    hps_prov_entry *e = hps_grow(p->e, &p->cap, (size_t)p->n + 1, sizeof *e, 32);
    if (!e)
        return HPS_ENOMEM;
    p->e = e;
    char *k = copy(key, klen), *v = copy(value ? value : "", value ? vlen : 0);
    if (!k || !v) {
        free(k);
        free(v);
        return HPS_ENOMEM;
    }
    p->e[p->n++] = (hps_prov_entry){.kind = kind, .index = index, .key = k, .value = v};
    return HPS_OK;
}

int hps_prov_add(hps_prov *p, int kind, int index, const char *key, const char *value)
{
    return hps_prov_addn(p, kind, index, key, strlen(key), value, value ? strlen(value) : 0);
}

const char *hps_prov_get(const hps_prov *p, int kind, int index, const char *key)
{
    for (int i = p->n - 1; i >= 0; i--)
        if (p->e[i].kind == kind && p->e[i].index == index && strcmp(p->e[i].key, key) == 0)
            return p->e[i].value;
    return NULL;
}

int hps_prov_count(const hps_prov *p, int kind)
{
    int n = 0;
    for (int i = 0; i < p->n; i++)
        if (p->e[i].kind == kind && p->e[i].index + 1 > n)
            n = p->e[i].index + 1;
    return n;
}

int hps_prov_find(const hps_prov *p, int kind, const char *name)
{
    const char *key = kind == HPS_PROV_HOST ? "host" : "path";
    for (int i = p->n - 1; i >= 0; i--)
        if (p->e[i].kind == kind && strcmp(p->e[i].key, key) == 0 &&
            strcmp(p->e[i].value, name) == 0)
            return p->e[i].index;
    return -1;
}

int hps_prov_append(hps_prov *dst, const hps_prov *src)
{
    for (int i = 0; i < src->n; i++) {
        const hps_prov_entry *e = &src->e[i];
        int rc = hps_prov_add(dst, e->kind, e->index, e->key, e->value);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

void hps_prov_free(hps_prov *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        free(p->e[i].key);
        free(p->e[i].value);
    }
    free(p->e);
    memset(p, 0, sizeof *p);
}

int hps_prov_volatile(const char *key)
{
    static const char *const keys[] = {"start_time", "end_time", "end_status", "command_line",
                                       "trials_ended", NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

/* Whether key already appeared for (kind, index) before entry i (only the last
 * value of a key counts). */
static int superseded(const hps_prov *p, int i)
{
    const hps_prov_entry *e = &p->e[i];
    for (int k = i + 1; k < p->n; k++)
        if (p->e[k].kind == e->kind && p->e[k].index == e->index &&
            strcmp(p->e[k].key, e->key) == 0)
            return 1;
    return 0;
}

static int diff_run(const hps_prov *a, const hps_prov *b,
                    void (*each)(void *, const char *, const char *, const char *), void *ctx)
{
    int n = 0;
    for (int i = 0; i < a->n; i++) {
        const hps_prov_entry *e = &a->e[i];
        if (e->kind != HPS_PROV_RUN || hps_prov_volatile(e->key) || superseded(a, i))
            continue;
        const char *other = hps_prov_get(b, HPS_PROV_RUN, 0, e->key);
        if (!other || strcmp(other, e->value) != 0) {
            each(ctx, e->key, e->value, other);
            n++;
        }
    }
    for (int i = 0; i < b->n; i++) {
        const hps_prov_entry *e = &b->e[i];
        if (e->kind != HPS_PROV_RUN || hps_prov_volatile(e->key) || superseded(b, i))
            continue;
        if (!hps_prov_get(a, HPS_PROV_RUN, 0, e->key)) {
            each(ctx, e->key, NULL, e->value);
            n++;
        }
    }
    return n;
}

/* Facts of host ha of a against host hb of b (hb -1: absent). */
static int diff_host(const hps_prov *a, int ha, const hps_prov *b, int hb, const char *name,
                     int reverse, void (*each)(void *, const char *, const char *, const char *),
                     void *ctx)
{
    char what[512];
    if (hb < 0) {
        snprintf(what, sizeof what, "host %s", name);
        each(ctx, what, reverse ? NULL : "present", reverse ? "present" : NULL);
        return 1;
    }
    int n = 0;
    for (int i = 0; i < a->n; i++) {
        const hps_prov_entry *e = &a->e[i];
        if (e->kind != HPS_PROV_HOST || e->index != ha || strcmp(e->key, "host") == 0 ||
            strcmp(e->key, "ranks") == 0)
            continue;
        const char *other = hps_prov_get(b, HPS_PROV_HOST, hb, e->key);
        if (!other || strcmp(other, e->value) != 0) {
            snprintf(what, sizeof what, "host %s: %s", name, e->key);
            each(ctx, what, e->value, other);
            n++;
        }
    }
    return n;
}

static int diff_files(const hps_prov *a, const hps_prov *b,
                      void (*each)(void *, const char *, const char *, const char *), void *ctx)
{
    char what[4200];
    int n = 0;
    int na = hps_prov_count(a, HPS_PROV_FILE), nb = hps_prov_count(b, HPS_PROV_FILE);
    for (int f = 0; f < na; f++) {
        const char *path = hps_prov_get(a, HPS_PROV_FILE, f, "path");
        if (!path)
            continue;
        int g = hps_prov_find(b, HPS_PROV_FILE, path);
        const char *sa = hps_prov_get(a, HPS_PROV_FILE, f, "sha256");
        const char *sb = g >= 0 ? hps_prov_get(b, HPS_PROV_FILE, g, "sha256") : NULL;
        if (!sb || !sa || strcmp(sa, sb) != 0) {
            snprintf(what, sizeof what, "file %s", path);
            each(ctx, what, sa, sb);
            n++;
        }
    }
    for (int g = 0; g < nb; g++) {
        const char *path = hps_prov_get(b, HPS_PROV_FILE, g, "path");
        if (path && hps_prov_find(a, HPS_PROV_FILE, path) < 0) {
            snprintf(what, sizeof what, "file %s", path);
            each(ctx, what, NULL, hps_prov_get(b, HPS_PROV_FILE, g, "sha256"));
            n++;
        }
    }
    return n;
}

int hps_prov_diff(const hps_prov *a, const hps_prov *b,
                  void (*each)(void *ctx, const char *what, const char *a, const char *b),
                  void *ctx)
{
    int n = diff_run(a, b, each, ctx);
    int ha = hps_prov_count(a, HPS_PROV_HOST), hb = hps_prov_count(b, HPS_PROV_HOST);
    for (int h = 0; h < ha; h++) {
        const char *name = hps_prov_get(a, HPS_PROV_HOST, h, "host");
        if (name)
            n += diff_host(a, h, b, hps_prov_find(b, HPS_PROV_HOST, name), name, 0, each, ctx);
    }
    for (int h = 0; h < hb; h++) {
        const char *name = hps_prov_get(b, HPS_PROV_HOST, h, "host");
        if (name && hps_prov_find(a, HPS_PROV_HOST, name) < 0)
            n += diff_host(b, h, a, -1, name, 1, each, ctx);
    }
    return n + diff_files(a, b, each, ctx);
}
