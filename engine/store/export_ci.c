/*
 * Exports for pipelines (see export.h, hps_export_best_many): the top K trials
 * as a JSON array or a YAML list, a trial's parameters alone (to feed a training
 * script), and GitHub Actions' $GITHUB_OUTPUT format. Kept apart from export.c's
 * single-trial formats, which it reuses for each trial.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "export.h"
#include "hpsweep/error.h"

/* One trial's export in fmt as a new string (NULL when out of memory). */
static char *one(const hps_results *r, const hps_trial *t, hps_export_format fmt, unsigned flags)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    int rc = hps_export_best(m, r, t, fmt, flags);
    if (fclose(m) != 0 || rc != HPS_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* text's lines, the first after first_prefix and the others after prefix. */
static void indented(FILE *f, const char *text, const char *first_prefix, const char *prefix)
{
    int line = 0;
    while (*text) {
        size_t n = strcspn(text, "\n");
        fprintf(f, "%s%.*s", line++ ? prefix : first_prefix, (int)n, text);
        text += n;
        if (*text == '\n') {
            text++;
            if (*text)
                fputc('\n', f);
        }
    }
}

static void params_json(FILE *f, const hps_results *r, const hps_trial *t)
{
    hps_json w;
    hps_json_init(&w, f, 0);
    hps_json_begin_object(&w);
    for (int i = 0; i < r->space.n_params; i++) {
        hps_json_key(&w, r->space.params[i].name);
        hps_json_put_value(f, &r->space, i, t->values[i]);
        w.after_key = 0; /* the value was written past the writer */
    }
    hps_json_end_object(&w);
}

static void params_yaml(FILE *f, const hps_results *r, const hps_trial *t, const char *first,
                        const char *rest)
{
    for (int i = 0; i < r->space.n_params; i++) {
        fprintf(f, "%s%s: ", i ? rest : first, r->space.params[i].name);
        hps_export_value_yaml(f, &r->space, i, t->values[i]);
        fputc('\n', f);
    }
}

/* ---- GitHub Actions ----------------------------------------------------------------- */

/* name as a $GITHUB_OUTPUT name: [A-Za-z0-9_-], starting with a letter or '_'. */
static void gh_name(const char *name, char *out, size_t len)
{
    size_t k = 0;
    if (!isalpha((unsigned char)name[0]) && name[0] != '_' && k + 1 < len)
        out[k++] = '_';
    for (const char *p = name; *p && k + 1 < len; p++)
        out[k++] = isalnum((unsigned char)*p) || *p == '_' || *p == '-' ? *p : '_';
    out[k] = '\0';
}

/* name=value, or for a value with a line break the heredoc form with a delimiter
 * the value does not contain. */
static void gh_line(FILE *f, const char *name, const char *value)
{
    if (!strpbrk(value, "\r\n")) {
        fprintf(f, "%s=%s\n", name, value);
        return;
    }
    char delim[48];
    int k = 0;
    do
        snprintf(delim, sizeof delim, "HPSWEEP_EOF_%d", k++);
    while (strstr(value, delim));
    fprintf(f, "%s<<%s\n%s\n%s\n", name, delim, value, delim);
}

static int github(FILE *f, const hps_results *r, const hps_trial *t, unsigned flags, char *err,
                  size_t errlen)
{
    int np = r->space.n_params, nfixed = 0;
    char (*names)[256] = calloc((size_t)np + 5, sizeof *names);
    if (!names)
        return HPS_EIO;
    if (!(flags & HPS_EXPORT_PARAMS_ONLY)) {
        snprintf(names[nfixed++], 256, "trial_id");
        snprintf(names[nfixed++], 256, "seed");
        snprintf(names[nfixed++], 256, "budget");
        snprintf(names[nfixed++], 256, "params");
        gh_name(r->metric ? r->metric : "objective", names[nfixed++], 256);
    }
    for (int i = 0; i < np; i++)
        gh_name(r->space.params[i].name, names[nfixed + i], 256);
    for (int a = 0; a < nfixed + np; a++)
        for (int b = a + 1; b < nfixed + np; b++)
            if (strcmp(names[a], names[b]) == 0 && b >= nfixed) {
                snprintf(err, errlen, "%s '%s' and %s would both be the output '%s'%s",
                         b - nfixed < np ? "parameter" : "output",
                         r->space.params[b - nfixed].name,
                         a >= nfixed ? "another parameter" : "hpsweep's own output",
                         names[b], a < nfixed ? "; --params-only leaves out hpsweep's outputs"
                                              : "");
                free(names);
                return HPS_EINVAL;
            }
    char buf[512];
    if (!(flags & HPS_EXPORT_PARAMS_ONLY)) {
        fprintf(f, "trial_id=%lld\nseed=%llu\n", (long long)t->trial_id,
                (unsigned long long)t->seed);
        if (t->budget > 0)
            fprintf(f, "budget=%.17g\n", t->budget);
        snprintf(buf, sizeof buf, "%.17g", t->objective);
        gh_line(f, names[4], buf);
        fputs("params=", f);
        params_json(f, r, t);
        fputc('\n', f);
    }
    for (int i = 0; i < np; i++)
        gh_line(f, names[nfixed + i],
                hps_space_value_text(&r->space, i, t->values[i], buf, sizeof buf));
    free(names);
    return HPS_OK;
}

int hps_export_best_many(FILE *f, const hps_results *r, const hps_trial *const *t, int n,
                         hps_export_format fmt, unsigned flags, char *err, size_t errlen)
{
    int list = n > 1 || (flags & HPS_EXPORT_LIST);
    int params = (flags & HPS_EXPORT_PARAMS_ONLY) != 0;
    if (n < 1)
        return HPS_EINVAL;
    if (n > 1 && (fmt == HPS_EXPORT_ENV || fmt == HPS_EXPORT_GITHUB)) {
        snprintf(err, errlen, "the %s format holds one trial (--top 1)",
                 fmt == HPS_EXPORT_ENV ? "env" : "github");
        return HPS_EINVAL;
    }
    int rc = HPS_OK;
    switch (fmt) {
    case HPS_EXPORT_JSON:
        if (list)
            fputs("[\n", f);
        for (int k = 0; k < n && rc == HPS_OK; k++) {
            if (params) {
                fputs(list ? "  " : "", f);
                params_json(f, r, t[k]);
                fputs(list && k + 1 < n ? ",\n" : "\n", f);
                continue;
            }
            char *text = one(r, t[k], fmt, flags);
            if (!text)
                return HPS_EIO;
            if (list) {
                indented(f, text, "  ", "  ");
                fputs(k + 1 < n ? ",\n" : "\n", f);
            } else {
                fputs(text, f);
            }
            free(text);
        }
        if (list)
            fputs("]\n", f);
        break;
    case HPS_EXPORT_YAML:
        for (int k = 0; k < n; k++) {
            if (params) {
                params_yaml(f, r, t[k], list ? "- " : "", list ? "  " : "");
                continue;
            }
            char *text = one(r, t[k], fmt, flags);
            if (!text)
                return HPS_EIO;
            if (list) {
                indented(f, text, "- ", "  ");
                fputc('\n', f);
            } else {
                fputs(text, f);
            }
            free(text);
        }
        break;
    case HPS_EXPORT_ENV:
    case HPS_EXPORT_ARGS:
        for (int k = 0; k < n && rc == HPS_OK; k++)
            rc = hps_export_best(f, r, t[k], fmt, flags);
        break;
    case HPS_EXPORT_GITHUB:
        rc = github(f, r, t[0], flags, err, errlen);
        break;
    default:
        return HPS_EINVAL;
    }
    if (rc == HPS_OK && ferror(f))
        rc = HPS_EIO;
    return rc;
}
