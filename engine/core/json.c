/*
 * JSON writing (see json.h): the one string escaper, values, and the structured
 * writer that places the commas.
 */
#include <math.h>
#include <string.h>

#include "fmt.h"
#include "json.h"

/*
 * Length of the valid UTF-8 sequence at p (1-4), or 0 when p does not start one
 * (stray continuation byte, overlong form, surrogate, past U+10FFFF, cut short).
 */
static int utf8_length(const unsigned char *p)
{
    unsigned c = p[0];
    int len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

void hps_json_escape(FILE *f, const char *s, int html)
{
    fputc('"', f);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int len = utf8_length(p);
        if (len == 0) {
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        if (html && len == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
            fputs(p[2] == 0xA8 ? "\\u2028" : "\\u2029", f);
            p += 3;
            continue;
        }
        if (len > 1) {
            fwrite(p, 1, (size_t)len, f);
            p += len;
            continue;
        }
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
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '<':
        case '>':
        case '&':
            if (html)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7F)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
        p++;
    }
    fputc('"', f);
}

void hps_json_put_string(FILE *f, const char *s)
{
    hps_json_escape(f, s, 0);
}

void hps_json_put_number(FILE *f, double v)
{
    char buf[HPS_FMT_LEN];
    if (isfinite(v))
        fwrite(buf, 1, (size_t)hps_fmt_g17(buf, v), f); /* "%.17g" */
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

void hps_json_put_value(FILE *f, const hps_space *sp, int i, double v)
{
    char buf[128];
    const hps_param *p = &sp->params[i];
    if (p->type == HPS_PARAM_FLOAT) {
        hps_json_put_number(f, v);
        return;
    }
    if (hps_space_value_is_string(sp, i, v)) {
        hps_json_put_string(f, p->choices[(long)v].text);
        return;
    }
    hps_space_format(sp, i, v, buf, sizeof buf);
    fputs(buf, f);
}

/* ---- the structured writer ---------------------------------------------------------- */

void hps_json_init(hps_json *w, FILE *f, int html)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->html = html;
    w->first[0] = 1;
}

/* Before a value: the comma that separates it from the previous one. */
static void before_value(hps_json *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->first[w->depth])
        fputc(',', w->f);
    w->first[w->depth] = 0;
}

static void open_level(hps_json *w, char c)
{
    before_value(w);
    fputc(c, w->f);
    if (w->depth < HPS_JSON_MAX_DEPTH - 1)
        w->depth++;
    w->first[w->depth] = 1;
}

static void close_level(hps_json *w, char c)
{
    fputc(c, w->f);
    if (w->depth > 0)
        w->depth--;
}

void hps_json_begin_object(hps_json *w) { open_level(w, '{'); }
void hps_json_end_object(hps_json *w) { close_level(w, '}'); }
void hps_json_begin_array(hps_json *w) { open_level(w, '['); }
void hps_json_end_array(hps_json *w) { close_level(w, ']'); }

void hps_json_key(hps_json *w, const char *key)
{
    before_value(w);
    hps_json_escape(w->f, key, w->html);
    fputc(':', w->f);
    w->after_key = 1;
}

void hps_json_string(hps_json *w, const char *s)
{
    before_value(w);
    if (s)
        hps_json_escape(w->f, s, w->html);
    else
        fputs("null", w->f);
}

void hps_json_number(hps_json *w, double v, int digits)
{
    before_value(w);
    if (isfinite(v))
        fprintf(w->f, "%.*g", digits, v);
    else
        fputs("null", w->f);
}

void hps_json_int(hps_json *w, int64_t v)
{
    before_value(w);
    fprintf(w->f, "%lld", (long long)v);
}

void hps_json_uint(hps_json *w, uint64_t v)
{
    before_value(w);
    fprintf(w->f, "%llu", (unsigned long long)v);
}

void hps_json_bool(hps_json *w, int v)
{
    before_value(w);
    fputs(v ? "true" : "false", w->f);
}

void hps_json_null(hps_json *w)
{
    before_value(w);
    fputs("null", w->f);
}
