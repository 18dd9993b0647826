/*
 * GPU discovery and assignment (see gpus.h). Discovery reads the driver's /proc
 * entries rather than initialising CUDA: a worker must not create a CUDA context
 * that the trial's own process would then compete with.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpus.h"

/* When the job already restricts devices (Slurm's --gpus), honour that list. */
static const char *job_devices(void)
{
    const char *v = getenv("CUDA_VISIBLE_DEVICES");
    return v && *v ? v : NULL;
}

int hps_gpu_count(void)
{
    const char *job = job_devices();
    if (job) {
        int n = 1;
        for (const char *p = job; *p; p++)
            n += *p == ',';
        return n;
    }
    DIR *d = opendir("/proc/driver/nvidia/gpus");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The id of the i-th usable device: from the job's list, else i itself. */
static void device_id(int i, char *out, size_t len)
{
    const char *job = job_devices();
    if (!job) {
        snprintf(out, len, "%d", i);
        return;
    }
    const char *p = job;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    size_t n = p ? strcspn(p, ",") : 0;
    snprintf(out, len, "%.*s", (int)n, p ? p : "");
}

char *hps_gpu_list(int local_index, int per_trial, int count, int *wrapped)
{
    *wrapped = 0;
    if (per_trial <= 0 || count <= 0)
        return NULL;
    size_t cap = (size_t)per_trial * 32 + 1;
    char *out = calloc(cap, 1);
    if (!out)
        return NULL;
    int first = local_index * per_trial;
    if (first + per_trial > count)
        *wrapped = 1;
    size_t off = 0;
    for (int k = 0; k < per_trial; k++) {
        char id[32];
        device_id((first + k) % count, id, sizeof id);
        off += (size_t)snprintf(out + off, cap - off, "%s%s", k ? "," : "", id);
    }
    return out;
}

int hps_gpu_ordinal(int local_index, int per, int count)
{
    if (per <= 0 || count <= 0)
        return -1;
    return (int)(((long long)local_index * per) % count);
}
