/*
 * The map between the unit hypercube and parameter values (see space.h for the
 * rules). Discrete types give every value an equal slice of [0,1], so uniform
 * sampling in u is uniform over the values, and encode() returns slice centres so
 * that decode(encode(v)) == v exactly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "hpsweep/error.h"
#include "hpsweep/space.h"

static double clamp01(double u)
{
    if (!(u >= 0.0)) /* also catches NaN */
        return 0.0;
    return u > 1.0 ? 1.0 : u;
}

/* Index of the slice of [0,1] that u falls in, among k equal slices. */
static long slice(double u, long k)
{
    long i = (long)floor(clamp01(u) * (double)k);
    return i >= k ? k - 1 : i;
}

long hps_space_cardinality(const hps_space *space, int i)
{
    const hps_param *p = &space->params[i];
    switch (p->type) {
    case HPS_PARAM_INT:
        return (long)(p->high - p->low) + 1;
    case HPS_PARAM_CATEGORICAL:
        return p->n_choices;
    case HPS_PARAM_BOOL:
        return 2;
    case HPS_PARAM_FLOAT:
    default:
        return 0;
    }
}

/* An int parameter on a log scale spans log(low - 0.5) .. log(high + 0.5) (low >= 1,
 * so both are defined): integer v owns [log(v - 0.5), log(v + 0.5)), the stretch of
 * the log axis that rounds to it. */

static double decode_one(const hps_param *p, long card, double u)
{
    u = clamp01(u);
    switch (p->type) {
    case HPS_PARAM_FLOAT:
        if (u == 0.0 || u == 1.0) /* the ends exactly, whatever exp/log round to */
            return u == 0.0 ? p->low : p->high;
        if (p->log)
            return exp(log(p->low) + u * (log(p->high) - log(p->low)));
        return p->low + u * (p->high - p->low);
    case HPS_PARAM_INT:
        if (p->log) {
            double lo = log(p->low - 0.5), hi = log(p->high + 0.5);
            double v = floor(exp(lo + u * (hi - lo)) + 0.5);
            if (v < p->low)
                v = p->low;
            return v > p->high ? p->high : v;
        }
        return p->low + (double)slice(u, card);
    case HPS_PARAM_CATEGORICAL:
    case HPS_PARAM_BOOL:
        return (double)slice(u, card);
    }
    return 0.0;
}

static double encode_one(const hps_param *p, long card, double v)
{
    switch (p->type) {
    case HPS_PARAM_FLOAT:
        if (p->high == p->low)
            return 0.5;
        if (p->log)
            return clamp01((log(v) - log(p->low)) / (log(p->high) - log(p->low)));
        return clamp01((v - p->low) / (p->high - p->low));
    case HPS_PARAM_INT:
        if (p->log) {
            double lo = log(p->low - 0.5), hi = log(p->high + 0.5);
            return clamp01(((log(v - 0.5) + log(v + 0.5)) / 2.0 - lo) / (hi - lo));
        }
        return clamp01((v - p->low + 0.5) / (double)card);
    case HPS_PARAM_CATEGORICAL:
    case HPS_PARAM_BOOL:
        return clamp01((v + 0.5) / (double)card);
    }
    return 0.0;
}

void hps_space_decode(const hps_space *space, const double *u, double *values)
{
    for (int i = 0; i < space->n_params; i++)
        values[i] = decode_one(&space->params[i], hps_space_cardinality(space, i), u[i]);
}

void hps_space_encode(const hps_space *space, const double *values, double *u)
{
    for (int i = 0; i < space->n_params; i++)
        u[i] = encode_one(&space->params[i], hps_space_cardinality(space, i), values[i]);
}

/* Copy the n bytes of text into buf of len bytes as snprintf would; returns n. */
static int put_text(char *buf, size_t len, const char *text, int n)
{
    if (len > 0) {
        size_t c = (size_t)n < len ? (size_t)n : len - 1;
        memcpy(buf, text, c);
        buf[c] = '\0';
    }
    return n;
}

int hps_space_format(const hps_space *space, int i, double value, char *buf, size_t len)
{
    const hps_param *p = &space->params[i];
    char tmp[HPS_FMT_LEN];
    switch (p->type) {
    case HPS_PARAM_INT:
        /* "%.0f" of an integral value is its integer's digits ("-0" aside) */
        if (value == floor(value) && fabs(value) < 9e18 && value != 0)
            return put_text(buf, len, tmp, hps_fmt_i64(tmp, (int64_t)value));
        return snprintf(buf, len, "%.0f", value);
    case HPS_PARAM_CATEGORICAL: {
        long k = (long)value;
        if (k < 0 || k >= p->n_choices)
            return snprintf(buf, len, "<invalid %ld>", k);
        return snprintf(buf, len, "%s", p->choices[k].text);
    }
    case HPS_PARAM_BOOL:
        return snprintf(buf, len, "%s", value != 0.0 ? "true" : "false");
    case HPS_PARAM_FLOAT:
    default:
        return put_text(buf, len, tmp, hps_fmt_g17(tmp, value)); /* "%.17g" */
    }
}

const char *hps_space_value_text(const hps_space *space, int i, double value, char *buf,
                                 size_t len)
{
    const hps_param *p = &space->params[i];
    /* only a categorical value is an index: a float's may be beyond any long */
    if (p->type == HPS_PARAM_CATEGORICAL && value > -1.0 && value < (double)p->n_choices)
        return p->choices[(long)value].text;
    hps_space_format(space, i, value, buf, len);
    return buf;
}

const char *hps_space_type_name(hps_param_type type)
{
    switch (type) {
    case HPS_PARAM_FLOAT:
        return "float";
    case HPS_PARAM_INT:
        return "int";
    case HPS_PARAM_CATEGORICAL:
        return "categorical";
    case HPS_PARAM_BOOL:
        return "bool";
    }
    return "unknown";
}

int hps_space_find(const hps_space *space, const char *name)
{
    for (int i = 0; i < space->n_params; i++)
        if (strcmp(space->params[i].name, name) == 0)
            return i;
    return -1;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int hps_space_copy(hps_space *dst, const hps_space *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->n_params == 0)
        return HPS_OK;
    dst->params = calloc((size_t)src->n_params, sizeof *dst->params);
    if (!dst->params)
        return HPS_ENOMEM;
    dst->n_params = src->n_params;
    for (int i = 0; i < src->n_params; i++) {
        const hps_param *s = &src->params[i];
        hps_param *d = &dst->params[i];
        *d = *s;
        d->name = NULL;
        d->choices = NULL;
        d->n_choices = 0;
        if (!(d->name = dupstr(s->name)))
            goto oom;
        if (s->n_choices > 0) {
            d->choices = calloc((size_t)s->n_choices, sizeof *d->choices);
            if (!d->choices)
                goto oom;
            d->n_choices = s->n_choices;
            for (int k = 0; k < s->n_choices; k++) {
                d->choices[k] = s->choices[k];
                if (!(d->choices[k].text = dupstr(s->choices[k].text)))
                    goto oom;
            }
        }
    }
    return HPS_OK;
oom:
    hps_space_free(dst);
    return HPS_ENOMEM;
}

void hps_space_free(hps_space *space)
{
    if (!space)
        return;
    for (int i = 0; i < space->n_params; i++) {
        hps_param *p = &space->params[i];
        free(p->name);
        for (int k = 0; k < p->n_choices; k++)
            free(p->choices[k].text);
        free(p->choices);
    }
    free(space->params);
    memset(space, 0, sizeof *space);
}
