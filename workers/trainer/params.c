/*
 * The trainer's hyper-parameters: defaults, the reference table a config checks
 * a sweep's space against (and the README prints), setting a field by name from
 * text or a number with a clear message for a bad name or value, the whole-struct
 * check, and the learning-rate schedule.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "trainer.h"

static const char *const activation_choices[] = {"relu", "tanh", "gelu", NULL};
static const char *const optimizer_choices[] = {"sgd", "adam", "adamw", NULL};
static const char *const schedule_choices[] = {"constant", "cosine", "step", NULL};
static const char *const bool_choices[] = {"false", "true", NULL};

#define BIG 1e9

/* Order matters: setters[] below follows it. */
const hps_train_param_info hps_train_param_table[] = {
    {"learning_rate", HPS_TRAIN_FLOAT, 1e-7, 10.0, NULL, "0.001",
     "peak learning rate (reached after warm-up)", 1},
    {"batch_size", HPS_TRAIN_INT, 1, 1 << 24, NULL, "128",
     "global batch size, split across the trial group's ranks", 1},
    {"hidden_layers", HPS_TRAIN_INT, 0, HPS_TRAIN_MAX_HIDDEN, NULL, "2",
     "number of hidden layers (0: a linear model)", 1},
    {"hidden_units", HPS_TRAIN_INT, 1, 65536, NULL, "128", "units in every hidden layer", 1},
    {"activation", HPS_TRAIN_CATEGORICAL, 0, 0, activation_choices, "relu",
     "hidden-layer activation (gelu is the exact erf form)", 1},
    {"optimizer", HPS_TRAIN_CATEGORICAL, 0, 0, optimizer_choices, "adam",
     "sgd (momentum), adam (L2 decay) or adamw (decoupled decay)", 1},
    {"momentum", HPS_TRAIN_FLOAT, 0.0, 0.999, NULL, "0.9", "sgd momentum", 1},
    {"nesterov", HPS_TRAIN_CATEGORICAL, 0, 0, bool_choices, "false",
     "sgd: Nesterov momentum", 1},
    {"beta1", HPS_TRAIN_FLOAT, 0.0, 0.9999, NULL, "0.9", "adam/adamw first-moment decay", 1},
    {"beta2", HPS_TRAIN_FLOAT, 0.0, 0.99999, NULL, "0.999",
     "adam/adamw second-moment decay", 1},
    {"adam_eps", HPS_TRAIN_FLOAT, 1e-12, 1.0, NULL, "1e-08", "adam/adamw epsilon", 1},
    {"weight_decay", HPS_TRAIN_FLOAT, 0.0, 1.0, NULL, "0",
     "weight decay on every parameter: L2 (sgd, adam) or decoupled (adamw)", 1},
    {"dropout", HPS_TRAIN_FLOAT, 0.0, 0.95, NULL, "0",
     "drop probability on hidden activations (inverted dropout)", 1},
    {"lr_schedule", HPS_TRAIN_CATEGORICAL, 0, 0, schedule_choices, "constant",
     "learning-rate schedule after warm-up", 1},
    {"warmup_epochs", HPS_TRAIN_FLOAT, 0.0, BIG, NULL, "0",
     "linear warm-up length in epochs (fractional allowed)", 1},
    {"schedule_epochs", HPS_TRAIN_INT, 0, BIG, NULL, "0",
     "cosine horizon in epochs; 0 = epochs (set it to the largest budget under promotion)",
     0},
    {"step_epochs", HPS_TRAIN_INT, 1, BIG, NULL, "10", "step schedule: epochs per decay", 1},
    {"step_gamma", HPS_TRAIN_FLOAT, 0.0, 1.0, NULL, "0.1", "step schedule: decay factor", 1},
    {"epochs", HPS_TRAIN_INT, 1, BIG, NULL, "10",
     "epochs to reach (the budget; hpsweep sets it for multi-fidelity sweeps)", 0},
    {"prev_epochs", HPS_TRAIN_INT, 0, BIG, NULL, "0",
     "epochs already trained: continue from the checkpoint (set by hpsweep)", 0},
    {"seed", HPS_TRAIN_INT, 0, 18446744073709551615.0, NULL, "0",
     "trial seed: initial weights, data order, dropout (set by hpsweep)", 0},
    {"threads", HPS_TRAIN_INT, 1, 256, NULL, "1",
     "OpenBLAS threads per rank (1 is bit-reproducible)", 0},
    {"stop_every", HPS_TRAIN_INT, 0, BIG, NULL, "50",
     "ask should_stop every this many steps (0: once per epoch)", 0},
    {"cache_mb", HPS_TRAIN_INT, 0, 1 << 30, NULL, "1024",
     "a group of one keeps /train in memory up to this many MiB; /val slices too", 0},
    {"device", HPS_TRAIN_INT, -1, 1023, NULL, "-1",
     "-1: train on the CPU; >= 0: on this CUDA device (builds with CUDA)", 0},
    {"tf32", HPS_TRAIN_CATEGORICAL, 0, 0, bool_choices, "false",
     "GPU: TF32 tensor-core GEMMs (faster; inputs rounded to 10 mantissa bits)", 0},
};
const int hps_train_n_params = (int)(sizeof hps_train_param_table / sizeof hps_train_param_table[0]);

typedef enum field_kind { F_DOUBLE, F_INT, F_INT64, F_UINT64 } field_kind;

typedef struct setter {
    field_kind kind;
    size_t offset;
} setter;

#define FIELD(k, f) {k, offsetof(hps_train_params, f)}
static const setter setters[] = {
    FIELD(F_DOUBLE, learning_rate),  FIELD(F_INT64, batch_size),
    FIELD(F_INT, hidden_layers),     FIELD(F_INT, hidden_units),
    FIELD(F_INT, activation),        FIELD(F_INT, optimizer),
    FIELD(F_DOUBLE, momentum),       FIELD(F_INT, nesterov),
    FIELD(F_DOUBLE, beta1),          FIELD(F_DOUBLE, beta2),
    FIELD(F_DOUBLE, adam_eps),       FIELD(F_DOUBLE, weight_decay),
    FIELD(F_DOUBLE, dropout),        FIELD(F_INT, lr_schedule),
    FIELD(F_DOUBLE, warmup_epochs),  FIELD(F_INT64, schedule_epochs),
    FIELD(F_INT64, step_epochs),     FIELD(F_DOUBLE, step_gamma),
    FIELD(F_INT64, epochs),          FIELD(F_INT64, prev_epochs),
    FIELD(F_UINT64, seed),           FIELD(F_INT, threads),
    FIELD(F_INT64, stop_every),      FIELD(F_INT64, cache_mb),
    FIELD(F_INT, device),            FIELD(F_INT, tf32),
};
_Static_assert(sizeof setters / sizeof setters[0] ==
                   sizeof hps_train_param_table / sizeof hps_train_param_table[0],
               "one setter per table entry");

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void hps_train_params_default(hps_train_params *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < hps_train_n_params; i++) {
        const hps_train_param_info *info = &hps_train_param_table[i];
        int rc = hps_train_params_set_text(p, info->name, info->default_text, NULL, 0);
        (void)rc; /* the defaults are valid by construction (test_train checks) */
    }
}

const hps_train_param_info *hps_train_param_find(const char *name)
{
    for (int i = 0; name && i < hps_train_n_params; i++)
        if (strcmp(hps_train_param_table[i].name, name) == 0)
            return &hps_train_param_table[i];
    return NULL;
}

/* Levenshtein distance, capped at 64 characters a side. */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    int prev[65], cur[65];
    for (int j = 0; j <= lb; j++)
        prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                     tolower((unsigned char)b[j - 1]));
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}

static int unknown_name(const char *name, char *err, size_t errlen)
{
    const char *best = NULL;
    int best_d = 99;
    for (int i = 0; i < hps_train_n_params; i++) {
        int d = edit_distance(name, hps_train_param_table[i].name);
        if (d < best_d) {
            best_d = d;
            best = hps_train_param_table[i].name;
        }
    }
    int limit = (int)strlen(name) / 3 > 2 ? (int)strlen(name) / 3 : 2;
    if (best && best_d <= limit)
        errf(err, errlen, "unknown trainer parameter '%s' (did you mean '%s'?)", name, best);
    else
        errf(err, errlen, "unknown trainer parameter '%s'", name);
    return HPS_ECONFIG;
}

static int find_index(const char *name)
{
    for (int i = 0; name && i < hps_train_n_params; i++)
        if (strcmp(hps_train_param_table[i].name, name) == 0)
            return i;
    return -1;
}

static void store(hps_train_params *p, int i, double v, uint64_t u)
{
    char *f = (char *)p + setters[i].offset;
    switch (setters[i].kind) {
    case F_DOUBLE:
        *(double *)f = v;
        break;
    case F_INT:
        *(int *)f = (int)v;
        break;
    case F_INT64:
        *(int64_t *)f = (int64_t)v;
        break;
    case F_UINT64:
        *(uint64_t *)f = u;
        break;
    }
}

static void list_choices(const hps_train_param_info *info, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; info->choices[c] && used < len; c++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", c ? ", " : "",
                                 info->choices[c]);
}

int hps_train_params_set_number(hps_train_params *p, const char *name, double value,
                                char *err, size_t errlen)
{
    int i = find_index(name);
    if (i < 0)
        return unknown_name(name ? name : "(null)", err, errlen);
    const hps_train_param_info *info = &hps_train_param_table[i];
    if (!isfinite(value)) {
        errf(err, errlen, "trainer parameter '%s': %g is not a finite number", name, value);
        return HPS_ECONFIG;
    }
    if (info->type == HPS_TRAIN_CATEGORICAL) {
        int n = 0;
        while (info->choices[n])
            n++;
        if (value != floor(value) || value < 0 || value >= n) {
            char list[160];
            list_choices(info, list, sizeof list);
            errf(err, errlen, "trainer parameter '%s': %g is not a choice index 0..%d (%s)",
                 name, value, n - 1, list);
            return HPS_ECONFIG;
        }
        store(p, i, value, 0);
        return HPS_OK;
    }
    if (info->type == HPS_TRAIN_INT && value != floor(value)) {
        errf(err, errlen, "trainer parameter '%s' must be a whole number, got %g", name, value);
        return HPS_ECONFIG;
    }
    if (value < info->min || value > info->max) {
        errf(err, errlen, "trainer parameter '%s': %g is outside [%g, %g]", name, value,
             info->min, info->max);
        return HPS_ECONFIG;
    }
    /* A uint64 seed above 2^63 cannot come through int64; 2^64 itself is out of range.
     * Only unsigned fields read u, and their minimum is 0; a negative value (the device
     * index -1) must still not be converted, since that conversion is undefined. */
    uint64_t u = value < 0 ? 0 : value >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)value;
    store(p, i, value, u);
    return HPS_OK;
}

int hps_train_params_set_text(hps_train_params *p, const char *name, const char *text,
                              char *err, size_t errlen)
{
    int i = find_index(name);
    if (i < 0)
        return unknown_name(name ? name : "(null)", err, errlen);
    const hps_train_param_info *info = &hps_train_param_table[i];
    if (!text || !*text) {
        errf(err, errlen, "trainer parameter '%s': empty value", name);
        return HPS_ECONFIG;
    }
    if (info->type == HPS_TRAIN_CATEGORICAL) {
        for (int c = 0; info->choices[c]; c++)
            if (strcmp(info->choices[c], text) == 0) {
                store(p, i, c, 0);
                return HPS_OK;
            }
    }
    if (setters[i].kind == F_UINT64) {
        char *end = NULL;
        errno = 0;
        unsigned long long u = strtoull(text, &end, 0);
        if (errno == 0 && end != text && *end == '\0' && text[0] != '-') {
            store(p, i, (double)u, (uint64_t)u);
            return HPS_OK;
        }
        errf(err, errlen, "trainer parameter '%s': '%s' is not an unsigned 64-bit integer",
             name, text);
        return HPS_ECONFIG;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE) {
        if (info->type == HPS_TRAIN_CATEGORICAL) {
            char list[160];
            list_choices(info, list, sizeof list);
            errf(err, errlen, "trainer parameter '%s': '%s' is not one of %s", name, text,
                 list);
        } else {
            errf(err, errlen, "trainer parameter '%s': '%s' is not a number", name, text);
        }
        return HPS_ECONFIG;
    }
    return hps_train_params_set_number(p, name, v, err, errlen);
}

int hps_train_params_check(const hps_train_params *p, char *err, size_t errlen)
{
    if (!p) {
        errf(err, errlen, "no trainer parameters");
        return HPS_ECONFIG;
    }
    for (int i = 0; i < hps_train_n_params; i++) {
        const hps_train_param_info *info = &hps_train_param_table[i];
        const char *f = (const char *)p + setters[i].offset;
        double v = 0;
        switch (setters[i].kind) {
        case F_DOUBLE:
            v = *(const double *)f;
            break;
        case F_INT:
            v = *(const int *)f;
            break;
        case F_INT64:
            v = (double)*(const int64_t *)f;
            break;
        case F_UINT64:
            continue; /* every uint64 is a valid seed */
        }
        double lo = info->min, hi = info->max;
        if (info->type == HPS_TRAIN_CATEGORICAL) {
            int n = 0;
            while (info->choices[n])
                n++;
            lo = 0;
            hi = n - 1;
        }
        if (!(v >= lo && v <= hi)) {
            errf(err, errlen, "trainer parameter '%s': %g is outside [%g, %g]", info->name, v,
                 lo, hi);
            return HPS_ECONFIG;
        }
    }
    if (p->prev_epochs > p->epochs) {
        errf(err, errlen,
             "trainer parameter 'prev_epochs' (%lld) is larger than 'epochs' (%lld)",
             (long long)p->prev_epochs, (long long)p->epochs);
        return HPS_ECONFIG;
    }
    return HPS_OK;
}

double hps_train_lr(const hps_train_params *p, double t, int64_t steps_per_epoch)
{
    double f = 1.0, warm = p->warmup_epochs;
    switch (p->lr_schedule) {
    case HPS_LR_COSINE: {
        double horizon = (double)(p->schedule_epochs > 0 ? p->schedule_epochs : p->epochs);
        if (horizon > warm && t > warm) {
            double progress = (t - warm) / (horizon - warm);
            if (progress > 1.0)
                progress = 1.0;
            f = 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
        }
        break;
    }
    case HPS_LR_STEP:
        f = pow(p->step_gamma, floor(t / (double)p->step_epochs));
        break;
    default:
        break;
    }
    if (warm > 0.0 && t < warm) {
        double ramp = (t + 1.0 / (double)(steps_per_epoch > 0 ? steps_per_epoch : 1)) / warm;
        if (ramp < 1.0)
            f *= ramp;
    }
    return p->learning_rate * f;
}
