/*
 * The report's JSON document, apart from the plots' data (report_plots.c): the
 * sweep's attributes, trial counts, the parameters, provenance, the top trials
 * with exact values (the first row is what `hpsweep best` prints), failures by
 * cause with an example stderr tail, and the sweep's YAML.
 *
 * Parameter values are written as `hpsweep best --format json` writes them:
 * floats with 17 significant digits, ints as integers, categoricals as their
 * choice (a string, a number or a bool), bools as true/false. Seeds are strings,
 * since JavaScript numbers hold only 53 bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "hpsweep/error.h"

#define MAX_CAUSES 30 /* failure causes listed; the rest are summed as "other" */

/* Parameter i's value v as `hpsweep best` writes it. */
static void param_value(hps_json *w, const hps_space *sp, int i, double v)
{
    const hps_param *p = &sp->params[i];
    long k = (long)v;
    switch (p->type) {
    case HPS_PARAM_FLOAT:
        hps_json_number(w, v, 17);
        return;
    case HPS_PARAM_INT:
        hps_json_number(w, v, 17);
        return;
    case HPS_PARAM_BOOL:
        hps_json_bool(w, v != 0);
        return;
    case HPS_PARAM_CATEGORICAL:
        if (k < 0 || k >= p->n_choices)
            hps_json_null(w);
        else if (p->choices[k].kind == HPS_CHOICE_NUMBER)
            hps_json_number(w, p->choices[k].number, 17);
        else if (p->choices[k].kind == HPS_CHOICE_BOOL)
            hps_json_bool(w, p->choices[k].number != 0);
        else
            hps_json_string(w, p->choices[k].text);
        return;
    }
    hps_json_null(w);
}

static void write_sweep(const hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    hps_json_key(w, "sweep");
    hps_json_begin_object(w);
    struct {
        const char *key, *value;
    } attrs[] = {{"name", r->name},         {"strategy", r->strategy}, {"objective", r->objective},
                 {"metric", r->metric},     {"goal", r->goal},         {"seed", seed},
                 {"status", r->status},     {"created", r->created},   {"updated", r->updated},
                 {"hpsweep_version", r->hpsweep_version}};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        hps_json_key(w, attrs[i].key);
        hps_json_string(w, attrs[i].value);
    }
    hps_json_key(w, "format_version");
    hps_json_int(w, r->format_version);
    hps_json_end_object(w);
    hps_json_key(w, "best_json"); /* `hpsweep best --format json`'s own text, or null */
    hps_json_string(w, c->opts.best_json);

    int64_t counts[5] = {0};
    for (int64_t i = 0; i < r->n_trials; i++)
        if (r->trials[i].status >= 0 && r->trials[i].status < 5)
            counts[r->trials[i].status]++;
    hps_json_key(w, "counts");
    hps_json_begin_object(w);
    hps_json_key(w, "total");
    hps_json_int(w, r->n_trials);
    for (int s = 0; s < 5; s++) {
        hps_json_key(w, hps_trial_status_name(s));
        hps_json_int(w, counts[s]);
    }
    hps_json_key(w, "ranked");
    hps_json_int(w, c->n_ranked);
    hps_json_end_object(w);
}

static void write_params(const hps_report_ctx *c, hps_json *w)
{
    const hps_space *sp = &c->r->space;
    hps_json_key(w, "params");
    hps_json_begin_array(w);
    for (int i = 0; i < sp->n_params; i++) {
        const hps_param *p = &sp->params[i];
        hps_json_begin_object(w);
        hps_json_key(w, "name");
        hps_json_string(w, p->name);
        hps_json_key(w, "type");
        hps_json_string(w, hps_space_type_name(p->type));
        hps_json_key(w, "log");
        hps_json_bool(w, p->log);
        if (p->type == HPS_PARAM_FLOAT || p->type == HPS_PARAM_INT) {
            hps_json_key(w, "low");
            hps_json_number(w, p->low, 17);
            hps_json_key(w, "high");
            hps_json_number(w, p->high, 17);
        }
        if (p->type == HPS_PARAM_CATEGORICAL) {
            hps_json_key(w, "choices");
            hps_json_begin_array(w);
            for (int k = 0; k < p->n_choices; k++)
                hps_json_string(w, p->choices[k].text);
            hps_json_end_array(w);
        }
        hps_json_end_object(w);
    }
    hps_json_end_array(w);
}

/* The provenance keys shown first, in this order; the others follow by name. */
static const char *const provenance_order[] = {
    "hpsweep_version", "hpsweep_commit", "hosts",       "ranks",     "ranks_per_trial",
    "cpu_model",       "gpus",           "nvidia_driver", "start_time", "user_code_commit",
    "command_line",    "cwd",            "mpi_library", "hdf5",      "gsl",
    "libyaml",         "compiler"};
#define N_PROVENANCE_ORDER (sizeof provenance_order / sizeof provenance_order[0])

static int preferred(const char *key)
{
    for (size_t k = 0; k < N_PROVENANCE_ORDER; k++)
        if (strcmp(key, provenance_order[k]) == 0)
            return 1;
    return 0;
}

static void write_provenance(const hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    hps_json_key(w, "provenance");
    hps_json_begin_array(w);
    for (size_t k = 0; k < N_PROVENANCE_ORDER; k++)
        for (int i = 0; i < r->n_provenance; i++)
            if (strcmp(r->provenance_keys[i], provenance_order[k]) == 0) {
                hps_json_begin_array(w);
                hps_json_string(w, r->provenance_keys[i]);
                hps_json_string(w, r->provenance_values[i]);
                hps_json_end_array(w);
            }
    for (int i = 0; i < r->n_provenance; i++)
        if (!preferred(r->provenance_keys[i])) {
            hps_json_begin_array(w);
            hps_json_string(w, r->provenance_keys[i]);
            hps_json_string(w, r->provenance_values[i]);
            hps_json_end_array(w);
        }
    hps_json_end_array(w);
}

static void write_top(const hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    int64_t k = c->n_ranked < c->opts.top_k ? c->n_ranked : c->opts.top_k;
    hps_json_key(w, "top");
    hps_json_begin_object(w);
    hps_json_key(w, "k");
    hps_json_int(w, c->opts.top_k);
    hps_json_key(w, "rows");
    hps_json_begin_array(w);
    for (int64_t j = 0; j < k; j++) {
        const hps_trial *t = &r->trials[c->ranked[j]];
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
        hps_json_begin_object(w);
        hps_json_key(w, "rank");
        hps_json_int(w, j + 1);
        hps_json_key(w, "trial_id");
        hps_json_int(w, t->trial_id);
        hps_json_key(w, "seed");
        hps_json_string(w, seed);
        hps_json_key(w, "value");
        hps_json_number(w, t->objective, 17);
        hps_json_key(w, "budget");
        hps_json_number(w, t->budget, 17);
        hps_json_key(w, "rung");
        hps_json_int(w, t->rung);
        hps_json_key(w, "bracket");
        hps_json_int(w, t->bracket);
        hps_json_key(w, "seconds");
        hps_json_number(w, t->end - t->start, 6);
        hps_json_key(w, "params");
        hps_json_begin_array(w);
        for (int i = 0; i < r->space.n_params; i++)
            param_value(w, &r->space, i, t->values[i]);
        hps_json_end_array(w);
        hps_json_end_object(w);
    }
    hps_json_end_array(w);
    hps_json_end_object(w);
}

typedef struct cause_key {
    const char *cause;
    int64_t index;
} cause_key;

static int cmp_cause(const void *a, const void *b)
{
    const cause_key *x = a, *y = b;
    int d = strcmp(x->cause, y->cause);
    return d ? d : (x->index > y->index) - (x->index < y->index);
}

typedef struct cause_group {
    int64_t first, count; /* into the sorted keys */
} cause_group;

static int cmp_group(const void *a, const void *b)
{
    const cause_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* One cause: its count and the first of its trials that left a stderr tail. */
static void write_cause(const hps_results *r, const cause_key *keys, const cause_group *g,
                        hps_json *w)
{
    const hps_trial *ex = &r->trials[keys[g->first].index];
    for (int64_t j = g->first; j < g->first + g->count; j++)
        if (r->trials[keys[j].index].stderr_tail) {
            ex = &r->trials[keys[j].index];
            break;
        }
    hps_json_begin_object(w);
    hps_json_key(w, "cause");
    hps_json_string(w, keys[g->first].cause[0] ? keys[g->first].cause : "(no cause recorded)");
    hps_json_key(w, "count");
    hps_json_int(w, g->count);
    hps_json_key(w, "example");
    hps_json_begin_object(w);
    hps_json_key(w, "trial_id");
    hps_json_int(w, ex->trial_id);
    hps_json_key(w, "exit_code");
    hps_json_int(w, ex->exit_code);
    hps_json_key(w, "attempts");
    hps_json_int(w, ex->attempts);
    hps_json_key(w, "stderr_tail");
    hps_json_string(w, ex->stderr_tail);
    hps_json_end_object(w);
    hps_json_end_object(w);
}

static void write_failures(hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    hps_json_key(w, "failures");
    int64_t n = 0;
    for (int64_t i = 0; i < r->n_trials; i++)
        n += r->trials[i].status == HPS_TRIAL_FAILED;
    cause_key *keys = malloc((size_t)(n > 0 ? n : 1) * sizeof *keys);
    cause_group *groups = malloc((size_t)(n > 0 ? n : 1) * sizeof *groups);
    if (!keys || !groups) {
        free(keys);
        free(groups);
        c->rc = HPS_ENOMEM;
        hps_json_null(w);
        return;
    }
    n = 0;
    for (int64_t i = 0; i < r->n_trials; i++)
        if (r->trials[i].status == HPS_TRIAL_FAILED)
            keys[n++] = (cause_key){r->trials[i].cause, i};
    qsort(keys, (size_t)n, sizeof *keys, cmp_cause);
    int64_t ng = 0;
    for (int64_t a = 0; a < n;) {
        int64_t b = a + 1;
        while (b < n && strcmp(keys[b].cause, keys[a].cause) == 0)
            b++;
        groups[ng++] = (cause_group){a, b - a};
        a = b;
    }
    qsort(groups, (size_t)ng, sizeof *groups, cmp_group);
    hps_json_begin_object(w);
    hps_json_key(w, "n_failed");
    hps_json_int(w, n);
    hps_json_key(w, "n_causes");
    hps_json_int(w, ng);
    hps_json_key(w, "causes");
    hps_json_begin_array(w);
    int64_t other = 0;
    for (int64_t g = 0; g < ng; g++) {
        if (g < MAX_CAUSES)
            write_cause(r, keys, &groups[g], w);
        else
            other += groups[g].count;
    }
    hps_json_end_array(w);
    hps_json_key(w, "other");
    hps_json_int(w, other);
    hps_json_end_object(w);
    free(keys);
    free(groups);
}

void hps_report_data(hps_report_ctx *c, hps_json *w)
{
    const hps_results *r = c->r;
    hps_json_begin_object(w);
    hps_json_key(w, "generator");
    hps_json_string(w, c->opts.generator);
    hps_json_key(w, "generated");
    hps_json_string(w, c->opts.generated);
    write_sweep(c, w);
    write_params(c, w);
    write_provenance(c, w);
    hps_json_key(w, "multi_fidelity");
    hps_json_bool(w, c->multi_fidelity);
    hps_json_key(w, "maximize");
    hps_json_bool(w, c->maximize);
    hps_json_key(w, "t0");
    hps_json_number(w, c->t0, 17);
    write_top(c, w);
    write_failures(c, w);
    hps_json_key(w, "config");
    hps_json_string(w, r->config_text);
    hps_report_plots(c, w);
    hps_json_end_object(w);
}
