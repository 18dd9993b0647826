/*
 * `hpsweep compare A B`: two sweeps side by side — their best values, trial
 * counts by status and mode — and what differs between them: config keys (the
 * parsed configs, budget included) and provenance (their latest runs: versions,
 * build, libraries, user code, environment, hosts, files). Text, or JSON for
 * programs. It judges nothing: `check --baseline` is the gate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config/config.h"
#include "core/fs.h"
#include "core/json.h"
#include "hpsweep/error.h"
#include "query.h"
#include "store/prov.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hpsweep compare A.h5|DIR B.h5|DIR [--format text|json]\n\n"
               "Two sweeps side by side: the best value of each (and B - A when they share\n"
               "metric and goal), trial counts by status, deterministic or not, then the\n"
               "config keys that differ (budget included) and the provenance facts that\n"
               "differ between their latest runs (versions, build, libraries, user code,\n"
               "environment, hosts and their GPUs and drivers, datasets' and the\n"
               "objective's SHA-256). --format json writes one object: a, b,\n"
               "best_difference, config_differences and provenance_differences (lists of\n"
               "{key|what, a, b}).\n\n"
               "Exit codes: 0 done, 1 error (unreadable file), 2 bad usage or no such file.\n");
}

typedef struct side {
    const char *arg;
    char path[HPS_PATH_MAX];
    hps_results r;
    hps_config cfg;
    int have_cfg;
    hps_prov *runs;
    int n_runs;
    const hps_trial *best;
    int64_t counts[5];
} side;

typedef struct diff_item {
    char *what, *a, *b;
} diff_item;

typedef struct diffs {
    diff_item *d;
    int n, cap, oom;
} diffs;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void collect(void *ctx, const char *what, const char *a, const char *b)
{
    diffs *l = ctx;
    if (l->oom)
        return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        diff_item *d = realloc(l->d, sizeof *d * (size_t)cap);
        if (!d) {
            l->oom = 1;
            return;
        }
        l->d = d;
        l->cap = cap;
    }
    diff_item *it = &l->d[l->n];
    it->what = strdup(what);
    it->a = dup_or_null(a);
    it->b = dup_or_null(b);
    if (!it->what || (a && !it->a) || (b && !it->b)) {
        free(it->what);
        free(it->a);
        free(it->b);
        l->oom = 1;
        return;
    }
    l->n++;
}

static void diffs_free(diffs *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->d[i].what);
        free(l->d[i].a);
        free(l->d[i].b);
    }
    free(l->d);
}

static int load(side *s)
{
    int rc = hps_cli_open_results(s->arg, &s->r, s->path, sizeof s->path);
    if (rc != HPS_EXIT_OK)
        return rc;
    char err[1024] = "";
    s->have_cfg = hps_config_parse(s->r.config_text, strlen(s->r.config_text), s->path, &s->cfg,
                                   err, sizeof err) == HPS_OK;
    if (!s->have_cfg)
        fprintf(stderr, "hpsweep: %s: its /config does not parse here (%s); its keys are not "
                "compared\n", s->path, err);
    if (hps_prov_read(s->path, &s->runs, &s->n_runs, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: %s\n", s->path, err);
        return HPS_EXIT_ERROR;
    }
    const hps_trial **ranked;
    int64_t n;
    if (hps_cli_ranked(&s->r, &ranked, &n) != HPS_OK)
        return HPS_EXIT_ERROR;
    s->best = n > 0 ? ranked[0] : NULL;
    free(ranked);
    for (int64_t i = 0; i < s->r.n_trials; i++)
        if (s->r.trials[i].status >= 0 && s->r.trials[i].status < 5)
            s->counts[s->r.trials[i].status]++;
    return HPS_EXIT_OK;
}

static void side_free(side *s)
{
    hps_results_free(&s->r);
    if (s->have_cfg)
        hps_config_free(&s->cfg);
    hps_prov_runs_free(s->runs, s->n_runs);
}

/* The budget and the keys hps_config_diff leaves out (they may change on resume). */
static void budget_diffs(const hps_config *a, const hps_config *b, diffs *l)
{
    char x[64], y[64];
    struct {
        const char *key;
        double a, b;
    } nums[] = {{"budget.max_trials", (double)a->max_trials, (double)b->max_trials},
                {"budget.max_time", a->max_time, b->max_time},
                {"budget.max_resource", a->max_resource, b->max_resource},
                {"budget.max_consecutive_failures", a->max_consecutive_failures,
                 b->max_consecutive_failures},
                {"parallelism", a->parallelism, b->parallelism}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (nums[i].a == nums[i].b ||
            (!strcmp(nums[i].key, "parallelism") && a->deterministic && b->deterministic))
            continue; /* a deterministic parallelism is hps_config_diff's already */
        snprintf(x, sizeof x, "%.10g", nums[i].a);
        snprintf(y, sizeof y, "%.10g", nums[i].b);
        collect(l, nums[i].key, x, y);
    }
    if (strcmp(a->output, b->output) != 0)
        collect(l, "output", a->output, b->output);
}

static const char *status_names[] = {"running", "done", "failed", "interrupted", "pruned"};

static int same_objective(const side *a, const side *b)
{
    return strcmp(a->r.metric, b->r.metric) == 0 && strcmp(a->r.goal, b->r.goal) == 0;
}

static void json_side(hps_json *w, const side *s)
{
    hps_json_begin_object(w);
    hps_json_key(w, "file");
    hps_json_string(w, s->path);
    const char *keys[] = {"name", "strategy", "metric", "goal", "status"};
    const char *vals[] = {s->r.name, s->r.strategy, s->r.metric, s->r.goal, s->r.status};
    for (size_t i = 0; i < 5; i++) {
        hps_json_key(w, keys[i]);
        hps_json_string(w, vals[i]);
    }
    hps_json_key(w, "deterministic");
    hps_json_bool(w, s->r.deterministic);
    hps_json_key(w, "parallelism");
    hps_json_int(w, s->r.parallelism);
    hps_json_key(w, "trials");
    hps_json_int(w, s->r.n_trials);
    hps_json_key(w, "counts");
    hps_json_begin_object(w);
    for (int k = 0; k < 5; k++) {
        hps_json_key(w, status_names[k]);
        hps_json_int(w, s->counts[k]);
    }
    hps_json_end_object(w);
    hps_json_key(w, "best");
    if (s->best) {
        hps_json_begin_object(w);
        hps_json_key(w, "trial_id");
        hps_json_int(w, s->best->trial_id);
        hps_json_key(w, "value");
        hps_json_number(w, s->best->objective, 17);
        hps_json_end_object(w);
    } else {
        hps_json_null(w);
    }
    hps_json_end_object(w);
}

static void json_diffs(hps_json *w, const char *key, const char *field, const diffs *l)
{
    hps_json_key(w, key);
    hps_json_begin_array(w);
    for (int i = 0; i < l->n; i++) {
        hps_json_begin_object(w);
        hps_json_key(w, field);
        hps_json_string(w, l->d[i].what);
        hps_json_key(w, "a");
        hps_json_string(w, l->d[i].a);
        hps_json_key(w, "b");
        hps_json_string(w, l->d[i].b);
        hps_json_end_object(w);
    }
    hps_json_end_array(w);
}

static void write_json(const side *a, const side *b, const diffs *cfg, const diffs *prov)
{
    hps_json w;
    hps_json_init(&w, stdout, 0);
    hps_json_begin_object(&w);
    hps_json_key(&w, "a");
    json_side(&w, a);
    hps_json_key(&w, "b");
    json_side(&w, b);
    hps_json_key(&w, "best_difference");
    if (a->best && b->best && same_objective(a, b))
        hps_json_number(&w, b->best->objective - a->best->objective, 17);
    else
        hps_json_null(&w);
    json_diffs(&w, "config_differences", "key", cfg);
    json_diffs(&w, "provenance_differences", "what", prov);
    hps_json_end_object(&w);
    fputc('\n', stdout);
}

static void row(const char *label, const char *a, const char *b)
{
    printf("%-14s %-32s %s\n", label, a, b);
}

static void text_best(const side *s, char *out, size_t len)
{
    if (s->best)
        snprintf(out, len, "%.10g (trial %lld)", s->best->objective,
                 (long long)s->best->trial_id);
    else
        snprintf(out, len, "(no trial completed)");
}

static void write_text(const side *a, const side *b, const diffs *cfg, const diffs *prov)
{
    char x[512], y[512];
    row("", "A", "B");
    row("file", a->path, b->path);
    row("name", a->r.name, b->r.name);
    row("strategy", a->r.strategy, b->r.strategy);
    snprintf(x, sizeof x, "%s (%s)", a->r.metric, a->r.goal);
    snprintf(y, sizeof y, "%s (%s)", b->r.metric, b->r.goal);
    row("metric", x, y);
    snprintf(x, sizeof x, a->r.deterministic ? "deterministic (P = %d)" : "asynchronous",
             a->r.parallelism);
    snprintf(y, sizeof y, b->r.deterministic ? "deterministic (P = %d)" : "asynchronous",
             b->r.parallelism);
    row("mode", x, y);
    text_best(a, x, sizeof x);
    text_best(b, y, sizeof y);
    row("best", x, y);
    snprintf(x, sizeof x, "%lld", (long long)a->r.n_trials);
    snprintf(y, sizeof y, "%lld", (long long)b->r.n_trials);
    row("trials", x, y);
    for (int k = 0; k < 5; k++) {
        char label[32];
        snprintf(label, sizeof label, "  %s", status_names[k]);
        snprintf(x, sizeof x, "%lld", (long long)a->counts[k]);
        snprintf(y, sizeof y, "%lld", (long long)b->counts[k]);
        row(label, x, y);
    }
    if (a->best && b->best && same_objective(a, b)) {
        double d = b->best->objective - a->best->objective;
        int maximize = strcmp(a->r.goal, "maximize") == 0;
        printf("best B - A     %+.10g (B is %s)\n", d,
               d == 0 ? "as good" : (d < 0) != maximize ? "better" : "worse");
    }
    printf("\nconfig differences (A -> B): %s\n", cfg->n ? "" : "none");
    for (int i = 0; i < cfg->n; i++)
        printf("  %s: %s -> %s\n", cfg->d[i].what, cfg->d[i].a ? cfg->d[i].a : "(absent)",
               cfg->d[i].b ? cfg->d[i].b : "(absent)");
    printf("\nprovenance differences, latest runs (A -> B): %s\n", prov->n ? "" : "none");
    for (int i = 0; i < prov->n; i++)
        printf("  %s: %s -> %s\n", prov->d[i].what, prov->d[i].a ? prov->d[i].a : "(absent)",
               prov->d[i].b ? prov->d[i].b : "(absent)");
}

int hps_cli_compare(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage(stdout);
        return HPS_EXIT_OK;
    }
    side s[2];
    memset(s, 0, sizeof s);
    int n = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--format=", 9) == 0)
            v = argv[i] + 9;
        else if (argv[i][0] != '-' && n < 2)
            s[n++].arg = argv[i];
        else
            n = 3;
        if (v && strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
            n = 3;
        if (v)
            json = strcmp(v, "json") == 0;
    }
    if (n != 2) {
        usage(stderr);
        return HPS_EXIT_USAGE;
    }
    int rc = load(&s[0]);
    if (rc == HPS_EXIT_OK)
        rc = load(&s[1]);
    diffs cfg = {0}, prov = {0};
    if (rc == HPS_EXIT_OK) {
        if (s[0].have_cfg && s[1].have_cfg) {
            if (hps_config_diff_each(&s[0].cfg, &s[1].cfg, collect, &cfg) < 0)
                cfg.oom = 1;
            budget_diffs(&s[0].cfg, &s[1].cfg, &cfg);
        }
        hps_prov none = {0};
        hps_prov_diff(s[0].n_runs ? &s[0].runs[s[0].n_runs - 1] : &none,
                      s[1].n_runs ? &s[1].runs[s[1].n_runs - 1] : &none, collect, &prov);
        if (cfg.oom || prov.oom) {
            fprintf(stderr, "hpsweep: out of memory\n");
            rc = HPS_EXIT_ERROR;
        } else if (json) {
            write_json(&s[0], &s[1], &cfg, &prov);
        } else {
            write_text(&s[0], &s[1], &cfg, &prov);
        }
    }
    if (rc == HPS_EXIT_OK && fflush(stdout) != 0)
        rc = HPS_EXIT_ERROR;
    diffs_free(&cfg);
    diffs_free(&prov);
    side_free(&s[0]);
    side_free(&s[1]);
    return rc;
}
