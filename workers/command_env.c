/*
 * An external command's argv and environment for one trial (see command.h): the
 * templates with their placeholders substituted, and the worker's environment
 * less the MPI launcher's variables plus the trial's (HPSWEEP_*, the GPUs, and
 * torchrun's RANK ... MASTER_PORT with launch: group).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "core/envname.h"
#include "core/grow.h"
#include "core/json.h"

extern char **environ;

/* ---- strings ------------------------------------------------------------------------ */

/* A NUL-terminated string built in an hps_buf (the terminator is kept past len). */
static void sb_add(hps_buf *b, const char *p, size_t n)
{
    hps_buf_grow(b, n + 1);
    hps_buf_put(b, p, n);
    if (!b->failed)
        b->data[b->len] = '\0';
}

static void sb_str(hps_buf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* Take ownership of the string (an empty string when nothing was added). */
static char *sb_take(hps_buf *b)
{
    if (!b->failed && !b->data)
        sb_add(b, "", 0);
    if (b->failed) {
        hps_buf_free(b);
        return NULL;
    }
    char *s = (char *)b->data;
    b->data = NULL;
    return s;
}

void hps_cmd_free_vec(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* ---- argv ---------------------------------------------------------------------------- */

/* The text of placeholder name (len bytes) into b; 0 if unknown. */
static int placeholder(hps_buf *b, const hps_cmd_vars *v, const char *name, size_t len)
{
    char buf[128];
    if (len == 8 && strncmp(name, "trial_id", 8) == 0) {
        snprintf(buf, sizeof buf, "%lld", (long long)v->trial_id);
    } else if (len == 4 && strncmp(name, "seed", 4) == 0) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->seed);
    } else if (len == 6 && strncmp(name, "budget", 6) == 0) {
        snprintf(buf, sizeof buf, "%.17g", v->budget);
    } else if (len == 9 && strncmp(name, "trial_dir", 9) == 0) {
        sb_str(b, v->trial_dir);
        return 1;
    } else {
        for (int i = 0; i < v->space->n_params; i++) {
            const hps_param *p = &v->space->params[i];
            if (strlen(p->name) != len || strncmp(p->name, name, len) != 0)
                continue;
            sb_str(b, hps_space_value_text(v->space, i, v->values[i], buf, sizeof buf));
            return 1;
        }
        return 0;
    }
    sb_str(b, buf);
    return 1;
}

/* Expand "{name}", "{{" and "}}" in template t. NULL on an unknown placeholder
 * (the config rejects those) or out of memory. */
static char *expand(const char *t, const hps_cmd_vars *v)
{
    hps_buf b = {0};
    for (const char *p = t; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            sb_add(&b, p, 1);
            p += 2;
        } else if (p[0] == '{') {
            const char *end = strchr(p, '}');
            if (!end || !placeholder(&b, v, p + 1, (size_t)(end - p - 1))) {
                hps_buf_free(&b);
                return NULL;
            }
            p = end + 1;
        } else {
            sb_add(&b, p, 1);
            p++;
        }
    }
    return sb_take(&b);
}

char **hps_cmd_argv(const hps_objective_cfg *obj, const hps_cmd_vars *v)
{
    char **argv = calloc((size_t)obj->argc + 1, sizeof *argv);
    if (!argv)
        return NULL;
    for (int i = 0; i < obj->argc; i++) {
        if (!(argv[i] = expand(obj->argv[i], v))) {
            hps_cmd_free_vec(argv);
            return NULL;
        }
    }
    return argv;
}

/* ---- environment --------------------------------------------------------------------- */

typedef struct envvec {
    char **v;
    size_t n, cap;
    int failed;
} envvec;

static int env_is_launcher(const char *kv)
{
    static const char *prefixes[] = {"OMPI_", "PMIX_", "PMI_", "OPAL_", "HYDRA_", "ORTE_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Set key=value, replacing an earlier entry for key. */
static void env_set(envvec *e, const char *key, const char *value)
{
    if (e->failed)
        return;
    size_t kl = strlen(key);
    hps_buf b = {0};
    sb_str(&b, key);
    sb_add(&b, "=", 1);
    sb_str(&b, value);
    char *kv = sb_take(&b);
    if (!kv) {
        e->failed = 1;
        return;
    }
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], key, kl) == 0 && e->v[i][kl] == '=') {
            free(e->v[i]);
            e->v[i] = kv;
            return;
        }
    char **nv = hps_grow(e->v, &e->cap, e->n + 2, sizeof *nv, 64);
    if (!nv) {
        free(kv);
        e->failed = 1;
        return;
    }
    e->v = nv;
    e->v[e->n++] = kv;
    e->v[e->n] = NULL;
}

static void env_param_name(char *out, size_t len, const char *name)
{
    size_t o = (size_t)snprintf(out, len, "HPSWEEP_PARAM_");
    if (o < len)
        hps_env_name(name, 0, out + o, len - o);
}

/* HPSWEEP_PARAMS: {"name": value, ...} with JSON types. */
static char *params_json(const hps_space *sp, const double *values)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fputc('{', f);
    for (int i = 0; i < sp->n_params; i++) {
        fprintf(f, "%s\"", i ? ", " : "");
        for (const char *p = sp->params[i].name; *p; p++) {
            if (*p == '"' || *p == '\\')
                fputc('\\', f);
            fputc(*p, f);
        }
        fputs("\": ", f);
        hps_json_put_value(f, sp, i, values[i]);
    }
    fputc('}', f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

char **hps_cmd_env(const hps_objective_cfg *obj, const hps_objective *o, const hps_cmd_vars *v,
                   int attempt, const hps_cmd_dist *dist)
{
    envvec e = {0};
    for (char **p = environ; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq || env_is_launcher(*p))
            continue;
        char key[512];
        size_t kl = (size_t)(eq - *p);
        if (kl >= sizeof key)
            continue;
        memcpy(key, *p, kl);
        key[kl] = '\0';
        env_set(&e, key, eq + 1);
    }
    for (int i = 0; i < obj->n_env; i++)
        env_set(&e, obj->env_keys[i], obj->env_values[i]);
    char buf[128];
    snprintf(buf, sizeof buf, "%lld", (long long)v->trial_id);
    env_set(&e, "HPSWEEP_TRIAL_ID", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->seed);
    env_set(&e, "HPSWEEP_SEED", buf);
    snprintf(buf, sizeof buf, "%.17g", v->budget);
    env_set(&e, "HPSWEEP_BUDGET", buf);
    env_set(&e, "HPSWEEP_TRIAL_DIR", v->trial_dir);
    if (v->prev_budget > 0) {
        /* A promotion: continue from the checkpoint in HPSWEEP_TRIAL_DIR. */
        env_set(&e, "HPSWEEP_RESUME", "1");
        snprintf(buf, sizeof buf, "%.17g", v->prev_budget);
        env_set(&e, "HPSWEEP_PREV_BUDGET", buf);
    }
    snprintf(buf, sizeof buf, "%d", attempt);
    env_set(&e, "HPSWEEP_ATTEMPT", buf);
    env_set(&e, "HPSWEEP_METRIC", o->metric);
    char *json = params_json(v->space, v->values);
    if (!json)
        e.failed = 1;
    else
        env_set(&e, "HPSWEEP_PARAMS", json);
    free(json);
    for (int i = 0; i < v->space->n_params; i++) {
        char name[300], val[128];
        env_param_name(name, sizeof name, v->space->params[i].name);
        env_set(&e, name, hps_space_value_text(v->space, i, v->values[i], val, sizeof val));
    }
    if (o->rt.gpus)
        env_set(&e, "CUDA_VISIBLE_DEVICES", o->rt.gpus);
    if (dist) {
        /* What torchrun gives each process of a job (launch: group). */
        snprintf(buf, sizeof buf, "%d", dist->rank);
        env_set(&e, "RANK", buf);
        snprintf(buf, sizeof buf, "%d", dist->size);
        env_set(&e, "WORLD_SIZE", buf);
        snprintf(buf, sizeof buf, "%d", dist->local_rank);
        env_set(&e, "LOCAL_RANK", buf);
        snprintf(buf, sizeof buf, "%d", dist->local_size);
        env_set(&e, "LOCAL_WORLD_SIZE", buf);
        env_set(&e, "MASTER_ADDR", dist->master_addr);
        snprintf(buf, sizeof buf, "%d", dist->master_port);
        env_set(&e, "MASTER_PORT", buf);
    }
    if (e.failed) {
        hps_cmd_free_vec(e.v);
        return NULL;
    }
    return e.v;
}
