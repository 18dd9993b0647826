/*
 * JSON writing (see json.h).
 */
#include <math.h>

#include "json.h"

void hps_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void hps_json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

int hps_space_value_is_string(const hps_space *sp, int i, double v)
{
    const hps_param *p = &sp->params[i];
    if (p->type != HPS_PARAM_CATEGORICAL)
        return 0;
    long k = (long)v;
    return k >= 0 && k < p->n_choices && p->choices[k].kind == HPS_CHOICE_STRING;
}

void hps_json_value(FILE *f, const hps_space *sp, int i, double v)
{
    char buf[128];
    const hps_param *p = &sp->params[i];
    if (p->type == HPS_PARAM_FLOAT) {
        hps_json_number(f, v);
        return;
    }
    if (hps_space_value_is_string(sp, i, v)) {
        hps_json_string(f, p->choices[(long)v].text);
        return;
    }
    hps_space_format(sp, i, v, buf, sizeof buf);
    fputs(buf, f);
}
