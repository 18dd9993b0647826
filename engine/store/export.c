/*
 * Writing trials and best configurations for other programs: JSON, YAML,
 * KEY=value environment lines, command-line arguments and CSV. Values keep their
 * types (numbers stay numbers, categorical strings are quoted as each format
 * needs) and floats are printed with 17 significant digits, so they round-trip.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/fmt.h"
#include "core/json.h"
#include "export.h"
#include "results_internal.h"
#include "core/envname.h"
#include "hpsweep/error.h"

static void yaml_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs(isnan(v) ? ".nan" : v > 0 ? ".inf" : "-.inf", f);
}

/* YAML needs quotes for strings that would read as something else. */
static int yaml_needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    const char *special[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strcasecmp(s, special[i]) == 0)
            return 1;
    const char *num = (s[0] == '+' || s[0] == '-') ? s + 1 : s;
    if (strcasecmp(s, ".nan") == 0 || strcasecmp(num, ".inf") == 0)
        return 1;
    char *end;
    (void)strtod(s, &end);
    if (*end == '\0')
        return 1;
    if (strchr(":#{}[],&*!|>'\"%@`", s[0]) || s[0] == '-' || s[0] == '?' || isspace((unsigned char)s[0]))
        return 1;
    for (const char *p = s; *p; p++)
        if ((*p == ':' && (p[1] == ' ' || p[1] == '\0')) || (*p == ' ' && p[1] == '#') ||
            *p == '\n' || (unsigned char)*p < 0x20)
            return 1;
    return isspace((unsigned char)s[strlen(s) - 1]);
}

void hps_export_value_yaml(FILE *f, const hps_space *sp, int i, double v)
{
    if (hps_space_value_is_string(sp, i, v)) {
        const char *s = sp->params[i].choices[(long)v].text;
        if (yaml_needs_quotes(s))
            hps_json_put_string(f, s); /* a JSON string is a valid YAML double-quoted scalar */
        else
            fputs(s, f);
        return;
    }
    if (sp->params[i].type == HPS_PARAM_FLOAT && !isfinite(v)) {
        yaml_number(f, v);
        return;
    }
    hps_json_put_value(f, sp, i, v);
}

/* Shell-quote s unless it is made of safe characters only. */
static void shell_word(FILE *f, const char *s)
{
    int safe = *s != '\0';
    for (const char *p = s; *p && safe; p++)
        safe = isalnum((unsigned char)*p) || strchr("@%+=:,./_-", *p);
    if (safe) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

void hps_export_env_name(FILE *f, const char *name)
{
    size_t len = strlen(name) + 2;
    char small[256], *buf = len <= sizeof small ? small : malloc(len);
    if (!buf)
        return;
    hps_env_name(name, 1, buf, len);
    fputs(buf, f);
    if (buf != small)
        free(buf);
}

int hps_export_env_check(const hps_results *r, char *err, size_t errlen)
{
    return hps_env_names_check(&r->space, 1, 1, err, errlen);
}

int hps_export_best(FILE *f, const hps_results *r, const hps_trial *t, hps_export_format fmt,
                    unsigned flags)
{
    const hps_space *sp = &r->space;
    char buf[256];
    switch (fmt) {
    case HPS_EXPORT_JSON:
        fprintf(f, "{\n  \"trial_id\": %lld,\n  \"seed\": %llu,\n  ", (long long)t->trial_id,
                (unsigned long long)t->seed);
        if (t->budget > 0)
            fprintf(f, "\"budget\": %.17g,\n  ", t->budget);
        hps_json_put_string(f, r->metric);
        fputs(": ", f);
        hps_json_put_number(f, t->objective);
        fputs(",\n  \"params\": {", f);
        for (int i = 0; i < sp->n_params; i++) {
            fputs(i ? ",\n    " : "\n    ", f);
            hps_json_put_string(f, sp->params[i].name);
            fputs(": ", f);
            hps_json_put_value(f, sp, i, t->values[i]);
        }
        fputs(sp->n_params ? "\n  }\n}\n" : "}\n}\n", f);
        break;
    case HPS_EXPORT_YAML:
        fprintf(f, "trial_id: %lld\nseed: %llu\n", (long long)t->trial_id,
                (unsigned long long)t->seed);
        if (t->budget > 0)
            fprintf(f, "budget: %.17g\n", t->budget);
        fprintf(f, "%s: ", r->metric);
        yaml_number(f, t->objective);
        fputs("\nparams:\n", f);
        for (int i = 0; i < sp->n_params; i++) {
            fprintf(f, "  %s: ", sp->params[i].name);
            hps_export_value_yaml(f, sp, i, t->values[i]);
            fputc('\n', f);
        }
        break;
    case HPS_EXPORT_ENV:
        if (hps_export_env_check(r, buf, sizeof buf) != HPS_OK)
            return HPS_EINVAL; /* two values for one variable: write none */
        for (int i = 0; i < sp->n_params; i++) {
            hps_export_env_name(f, sp->params[i].name);
            fputc('=', f);
            shell_word(f, hps_space_value_text(sp, i, t->values[i], buf, sizeof buf));
            fputc('\n', f);
        }
        /* What hpsweep set for the trial, so that `set -a; eval ...` re-runs it as ran. */
        if (flags & HPS_EXPORT_PARAMS_ONLY)
            break;
        fprintf(f, "HPSWEEP_SEED=%llu\n", (unsigned long long)t->seed);
        if (t->budget > 0)
            fprintf(f, "HPSWEEP_BUDGET=%.17g\n", t->budget);
        break;
    case HPS_EXPORT_ARGS:
        for (int i = 0; i < sp->n_params; i++) {
            fprintf(f, "%s--%s ", i ? " " : "", sp->params[i].name);
            shell_word(f, hps_space_value_text(sp, i, t->values[i], buf, sizeof buf));
        }
        if (flags & HPS_EXPORT_WITH_SEED) {
            fprintf(f, "%s--seed %llu", sp->n_params ? " " : "", (unsigned long long)t->seed);
            if (t->budget > 0)
                fprintf(f, " --budget %.17g", t->budget);
        }
        fputc('\n', f);
        break;
    default:
        return HPS_EINVAL;
    }
    return ferror(f) ? HPS_EIO : HPS_OK;
}

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void csv_double(FILE *f, double v)
{
    char num[HPS_FMT_LEN];
    if (!isnan(v)) /* NaN: an empty field, which pandas reads as NaN */
        fwrite(num, 1, (size_t)hps_fmt_g17(num, v), f);
}

static const char *fixed_columns[] = {"trial_id", "status", "seed",  "bracket", "rung",
                                      "budget",   "worker", "start", "end",     "objective",
                                      "cause",    "exit_code", "attempts"};

int hps_export_trials_head(FILE *f, const hps_results *r, hps_export_format fmt)
{
    const hps_space *sp = &r->space;
    if (fmt == HPS_EXPORT_CSV) {
        size_t nfixed = sizeof fixed_columns / sizeof fixed_columns[0];
        for (size_t c = 0; c < nfixed; c++)
            fprintf(f, "%s%s", c ? "," : "", fixed_columns[c]);
        for (int i = 0; i < sp->n_params; i++) {
            fputc(',', f);
            csv_field(f, sp->params[i].name);
        }
        fputc('\n', f);
    } else if (fmt == HPS_EXPORT_JSON) {
        fputs("[", f);
    } else {
        return HPS_EINVAL;
    }
    return ferror(f) ? HPS_EIO : HPS_OK;
}

/* s at p as one CSV field (quoted when it holds a comma, quote or line break, each
 * quote doubled: at most 2 * strlen(s) + 2 bytes); returns the field's end. */
static char *csv_field_at(char *p, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        size_t n = strlen(s);
        memcpy(p, s, n);
        return p + n;
    }
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

/* A double as "%.17g" (NaN: an empty field, which pandas reads as NaN), then sep. */
static char *csv_double_at(char *p, double v, char sep)
{
    if (!isnan(v))
        p += hps_fmt_g17(p, v);
    *p++ = sep;
    return p;
}

static char *csv_i64_at(char *p, int64_t v, char sep)
{
    p += hps_fmt_i64(p, v);
    *p++ = sep;
    return p;
}

/* Text of a non-float parameter value: hps_space_value_text's buffer, as it is sized. */
#define CSV_VALUE_TEXT 256

/* The most bytes one CSV row of sp can take (each number HPS_FMT_LEN at most, its
 * NUL included; every text field quoted with each byte doubled), and a margin. */
static size_t csv_row_bound(const hps_space *sp)
{
    size_t n = 13 * (HPS_FMT_LEN + 1) + 2 * HPS_CAUSE_LEN + 64;
    for (int i = 0; i < sp->n_params; i++) {
        const hps_param *p = &sp->params[i];
        size_t text = p->type == HPS_PARAM_FLOAT ? HPS_FMT_LEN : CSV_VALUE_TEXT;
        for (int k = 0; p->type == HPS_PARAM_CATEGORICAL && k < p->n_choices; k++) {
            size_t len = strlen(p->choices[k].text) + 1;
            text = len > text ? len : text;
        }
        n += 2 * text + 3;
    }
    return n;
}

/* Bytes of CSV gathered before each fwrite (more when one row needs more). */
#define CSV_FLUSH_BYTES (1u << 20)

/* The CSV row of t at p, which has room for csv_row_bound(sp) bytes; returns its
 * end. */
static char *csv_row_at(char *p, const hps_space *sp, const hps_trial *t)
{
    char text[CSV_VALUE_TEXT];
    int np = sp->n_params;
    p = csv_i64_at(p, t->trial_id, ',');
    const char *status = hps_trial_status_name(t->status);
    size_t sn = strlen(status);
    memcpy(p, status, sn);
    p += sn;
    *p++ = ',';
    p += hps_fmt_u64(p, t->seed);
    *p++ = ',';
    p = csv_i64_at(p, t->bracket, ',');
    p = csv_i64_at(p, t->rung, ',');
    p = csv_double_at(p, t->budget, ',');
    p = csv_i64_at(p, t->worker, ',');
    p = csv_double_at(p, t->start, ',');
    p = csv_double_at(p, t->end, ',');
    p = csv_double_at(p, t->objective, ',');
    p = csv_field_at(p, t->cause);
    *p++ = ',';
    p = csv_i64_at(p, t->exit_code, ',');
    p = csv_i64_at(p, t->attempts, np ? ',' : '\n');
    for (int i = 0; i < np; i++) {
        if (sp->params[i].type == HPS_PARAM_FLOAT) { /* what hps_space_value_text writes */
            p += hps_fmt_g17(p, t->values[i]);
        } else if (sp->params[i].type == HPS_PARAM_BOOL) {
            int yes = t->values[i] != 0.0;
            memcpy(p, yes ? "true" : "false", yes ? 4 : 5);
            p += yes ? 4 : 5;
        } else
            p = csv_field_at(p, hps_space_value_text(sp, i, t->values[i], text, sizeof text));
        *p++ = i + 1 < np ? ',' : '\n';
    }
    return p;
}

/* The CSV rows of t[0..n): formatted straight into one large buffer (every row
 * checked to fit before it is written), written in pieces of about a MiB. */
static int csv_rows(FILE *f, const hps_space *sp, const hps_trial *t, int64_t n)
{
    size_t bound = csv_row_bound(sp), cap = CSV_FLUSH_BYTES + bound, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return HPS_ENOMEM;
    int rc = HPS_OK;
    for (int64_t k = 0; k < n && rc == HPS_OK; k++, t++) {
        len = (size_t)(csv_row_at(buf + len, sp, t) - buf);
        if (len + bound > cap || k + 1 == n) {
            if (fwrite(buf, 1, len, f) != len)
                rc = HPS_EIO;
            len = 0;
        }
    }
    free(buf);
    return rc;
}

int hps_export_trials_text(const hps_results *r, const hps_trial *t, int64_t n, int64_t first,
                           hps_export_format fmt, hps_export_text *out)
{
    out->len = 0;
    if (fmt == HPS_EXPORT_CSV) {
        const hps_space *sp = &r->space;
        size_t bound = csv_row_bound(sp);
        for (int64_t k = 0; k < n; k++, t++) {
            if (out->cap - out->len < bound) {
                size_t cap = out->cap ? 2 * out->cap : CSV_FLUSH_BYTES + bound;
                char *p = cap > out->cap ? realloc(out->data, cap) : NULL;
                if (!p)
                    return HPS_ENOMEM;
                out->data = p;
                out->cap = cap;
            }
            out->len = (size_t)(csv_row_at(out->data + out->len, sp, t) - out->data);
        }
        return HPS_OK;
    }
    /* JSON through a stream of memory: the same code writes it as to a file */
    free(out->data); /* open_memstream makes its own */
    out->data = NULL;
    out->cap = 0;
    FILE *m = open_memstream(&out->data, &out->len);
    if (!m)
        return HPS_ENOMEM;
    int rc = hps_export_trials_rows(m, r, t, n, first, fmt);
    if (fclose(m) != 0 && rc == HPS_OK)
        rc = HPS_ENOMEM;
    out->cap = out->len;
    return rc;
}

int hps_export_trials_rows(FILE *f, const hps_results *r, const hps_trial *trials, int64_t n,
                           int64_t first, hps_export_format fmt)
{
    const hps_space *sp = &r->space;
    if (fmt == HPS_EXPORT_CSV) {
        int rc = csv_rows(f, sp, trials, n);
        if (rc != HPS_OK)
            return rc;
    } else if (fmt == HPS_EXPORT_JSON) {
        for (int64_t k = 0; k < n; k++) {
            const hps_trial *t = &trials[k];
            fprintf(f, "%s\n  {\"trial_id\": %lld, \"status\": \"%s\", \"seed\": %llu, "
                    "\"bracket\": %d, \"rung\": %d, \"budget\": ", first + k ? "," : "",
                    (long long)t->trial_id, hps_trial_status_name(t->status),
                    (unsigned long long)t->seed, t->bracket, t->rung);
            hps_json_put_number(f, t->budget);
            fprintf(f, ", \"worker\": %d, \"start\": ", t->worker);
            hps_json_put_number(f, t->start);
            fputs(", \"end\": ", f);
            hps_json_put_number(f, t->end);
            fputs(", \"objective\": ", f);
            hps_json_put_number(f, t->objective);
            fputs(", \"cause\": ", f);
            hps_json_put_string(f, t->cause);
            fprintf(f, ", \"exit_code\": %d, \"attempts\": %d", t->exit_code, t->attempts);
            fputs(", \"params\": {", f);
            for (int i = 0; i < sp->n_params; i++) {
                fputs(i ? ", " : "", f);
                hps_json_put_string(f, sp->params[i].name);
                fputs(": ", f);
                hps_json_put_value(f, sp, i, t->values[i]);
            }
            fputs("}}", f);
        }
    } else {
        return HPS_EINVAL;
    }
    return ferror(f) ? HPS_EIO : HPS_OK;
}

/* hps_export_trials_stream's stages: the text, on the reading threads (arg is read
 * only), and the write, on the caller's. */
typedef struct trials_stream {
    FILE *f;
    hps_export_format fmt;
    hps_export_progress *p;
} trials_stream;

static int stream_text(const hps_results *r, int64_t first, const void *arg,
                       hps_export_text *out)
{
    const trials_stream *ts = arg;
    return hps_export_trials_text(r, r->trials, r->n_trials, first, ts->fmt, out);
}

static int stream_put(const hps_results *r, int64_t first, const hps_export_text *text,
                      void *arg)
{
    (void)first;
    trials_stream *ts = arg;
    int rc = ts->p->head_done ? HPS_OK : hps_export_trials_head(ts->f, r, ts->fmt);
    ts->p->head_done = 1;
    if (rc == HPS_OK && text->len && fwrite(text->data, 1, text->len, ts->f) != text->len)
        rc = HPS_EIO;
    if (rc == HPS_OK)
        ts->p->rows += r->n_trials;
    ts->p->write_rc = rc;
    return rc;
}

int hps_export_trials_stream(const char *path, int64_t block, FILE *f, hps_export_format fmt,
                             hps_export_progress *p, hps_results *out, char *err,
                             size_t errlen)
{
    *p = (hps_export_progress){0};
    if (fmt != HPS_EXPORT_CSV && fmt != HPS_EXPORT_JSON) {
        memset(out, 0, sizeof *out);
        return HPS_EINVAL;
    }
    trials_stream ts = {f, fmt, p};
    hps_trial_stream s = {.block = block, .text = stream_text, .put = stream_put, .arg = &ts};
    return hps_results_stream_text(path, &s, out, err, errlen);
}

int hps_export_trials_tail(FILE *f, int64_t total, hps_export_format fmt)
{
    if (fmt == HPS_EXPORT_JSON)
        fputs(total ? "\n]\n" : "]\n", f);
    else if (fmt != HPS_EXPORT_CSV)
        return HPS_EINVAL;
    return ferror(f) ? HPS_EIO : HPS_OK;
}

int hps_export_trials(FILE *f, const hps_results *r, hps_export_format fmt)
{
    int rc = hps_export_trials_head(f, r, fmt);
    if (rc == HPS_OK)
        rc = hps_export_trials_rows(f, r, r->trials, r->n_trials, 0, fmt);
    if (rc == HPS_OK)
        rc = hps_export_trials_tail(f, r->n_trials, fmt);
    return rc;
}

int hps_export_rungs(FILE *f, const hps_results *r, hps_export_format fmt)
{
    if (fmt != HPS_EXPORT_CSV && fmt != HPS_EXPORT_JSON)
        return HPS_EINVAL;
    int csv = fmt == HPS_EXPORT_CSV;
    fputs(csv ? "trial_id,bracket,rung,budget,status,objective,start,end,worker\n" : "[", f);
    for (int64_t k = 0; k < r->n_rungs; k++) {
        const hps_rung *g = &r->rungs[k];
        if (csv) {
            fprintf(f, "%lld,%d,%d,", (long long)g->trial_id, g->bracket, g->rung);
            csv_double(f, g->budget);
            fprintf(f, ",%s,", hps_trial_status_name(g->status));
            csv_double(f, g->objective);
            fputc(',', f);
            csv_double(f, g->start);
            fputc(',', f);
            csv_double(f, g->end);
            fprintf(f, ",%d\n", g->worker);
        } else {
            fprintf(f, "%s\n  {\"trial_id\": %lld, \"bracket\": %d, \"rung\": %d, \"budget\": ",
                    k ? "," : "", (long long)g->trial_id, g->bracket, g->rung);
            hps_json_put_number(f, g->budget);
            fprintf(f, ", \"status\": \"%s\", \"objective\": ", hps_trial_status_name(g->status));
            hps_json_put_number(f, g->objective);
            fputs(", \"start\": ", f);
            hps_json_put_number(f, g->start);
            fputs(", \"end\": ", f);
            hps_json_put_number(f, g->end);
            fprintf(f, ", \"worker\": %d}", g->worker);
        }
    }
    if (!csv)
        fputs(r->n_rungs ? "\n]\n" : "]\n", f);
    return ferror(f) ? HPS_EIO : HPS_OK;
}

int hps_export_parse_format(const char *s, hps_export_format *out)
{
    static const struct {
        const char *name;
        hps_export_format fmt;
    } table[] = {{"json", HPS_EXPORT_JSON}, {"yaml", HPS_EXPORT_YAML}, {"env", HPS_EXPORT_ENV},
                 {"args", HPS_EXPORT_ARGS}, {"csv", HPS_EXPORT_CSV},
                 {"github", HPS_EXPORT_GITHUB}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(s, table[i].name) == 0) {
            *out = table[i].fmt;
            return HPS_OK;
        }
    return HPS_EINVAL;
}
