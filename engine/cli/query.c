/*
 * `hpsweep status`, `hpsweep best` and `hpsweep trials`: reading a sweep, and the
 * helpers the commands that judge results share (ranking, metric values).
 *
 * status reads the journal read-only (never the HDF5 file, which a running
 * coordinator replaces every few seconds), so it works while the sweep runs and
 * after a crash. best and trials read sweep.h5 (a path to it, or the sweep
 * directory) with the public results reader, exactly as a user's program would.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "query.h"
#include "coord/sweep.h"
#include "core/clock.h"
#include "hpsweep/error.h"
#include "store/export.h"
#include "store/store.h"
#include "store/sweepdir.h"

/* ---- status ------------------------------------------------------------------------ */

static void usage_status(FILE *f)
{
    fprintf(f, "usage: hpsweep status DIR\n\n"
               "Counts and the best trial so far of the sweep in DIR (or of the sweep a file\n"
               "such as DIR/sweep.h5 belongs to), read from its journal. Safe while the\n"
               "sweep runs.\n\n"
               "Exit codes: 0 done, 1 error (unreadable journal), 2 bad usage or no sweep.\n");
}

int hps_cli_status(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_status(stdout);
        return HPS_EXIT_OK;
    }
    if (argc != 2) {
        usage_status(stderr);
        return HPS_EXIT_USAGE;
    }
    /* DIR, or a file in it (its sweep.h5, its journal): the sweep directory. */
    char dirbuf[HPS_PATH_MAX];
    const char *dir = argv[1];
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(dirbuf, sizeof dirbuf, "%s", dir);
        char *slash = strrchr(dirbuf, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dirbuf, sizeof dirbuf, ".");
        dir = dirbuf;
    }
    char path[HPS_PATH_MAX];
    if (hps_path_join(path, sizeof path, dir, "journal") != HPS_OK) {
        fprintf(stderr, "hpsweep: path too long: %s\n", dir);
        return HPS_EXIT_USAGE;
    }
    hps_journal *j;
    int rc = hps_journal_open(path, HPS_JOURNAL_READ, &j);
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: %s\n", path,
                rc == HPS_ENOENT ? "no sweep here (no journal)" : hps_strerror(rc));
        return rc == HPS_ENOENT ? HPS_EXIT_USAGE : HPS_EXIT_ERROR;
    }
    hps_sweep s;
    hps_sweep_init(&s, 0);
    char err[1024] = "";
    rc = hps_sweep_replay(&s, j, err, sizeof err);
    hps_journal_close(j);
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: %s\n", path, err[0] ? err : hps_strerror(rc));
        hps_sweep_free(&s);
        return HPS_EXIT_ERROR;
    }
    int live = hps_sweepdir_locked(dir);
    const char *state = live ? "running" : s.status;
    if (!live && strcmp(s.status, "running") == 0)
        state = "stopped (the coordinator ended without finishing: resume it)";
    char created[40], age[32];
    hps_iso_time(s.created, created, sizeof created);
    hps_format_duration(hps_wall() - s.created, age, sizeof age);
    printf("sweep      %s (%s)\n", s.cfg.name, dir);
    printf("status     %s\n", state);
    printf("strategy   %s, objective %s, %s %s\n", s.cfg.strategy, s.cfg.objective.function,
           s.cfg.maximize ? "maximize" : "minimize", s.cfg.metric);
    printf("seed       %llu\n", (unsigned long long)s.seed);
    if (s.det.on)
        printf("mode       deterministic, parallelism %d (suggestion k knows the results of "
               "trials 0..k-%d)\n", s.det.p, s.det.p + 1);
    printf("created    %s (%s ago)\n", created, age);
    printf("trials     %lld", (long long)s.n_trials);
    if (s.budget.max_trials > 0 && s.n_trials <= s.budget.max_trials)
        printf(" of %lld", (long long)s.budget.max_trials);
    else if (s.budget.max_trials > 0)
        printf(" (more than budget.max_trials %lld, lowered since)",
               (long long)s.budget.max_trials);
    printf(": %lld done, %lld running, %lld failed, %lld interrupted, %lld pruned\n",
           (long long)s.n_done, (long long)s.n_running, (long long)s.n_failed,
           (long long)s.n_interrupted, (long long)s.n_pruned);
    if (s.best_id >= 0) {
        const hps_trial *t = &s.trials[s.best_id];
        printf("best       %s = %.10g (trial %lld)\n", s.cfg.metric, t->objective,
               (long long)t->trial_id);
        for (int i = 0; i < s.d; i++) {
            char v[128];
            hps_space_format(&s.cfg.space, i, t->values[i], v, sizeof v);
            printf("           %s = %s\n", s.cfg.space.params[i].name, v);
        }
    } else {
        printf("best       (no trial done yet)\n");
    }
    hps_sweep_free(&s);
    return HPS_EXIT_OK;
}

/* ---- best / trials --------------------------------------------------------------- */

int hps_cli_open_results(const char *arg, hps_results *r, char *path, size_t len)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (hps_path_join(path, len, arg, "sweep.h5") != HPS_OK) {
            fprintf(stderr, "hpsweep: path too long: %s\n", arg);
            return HPS_EXIT_USAGE;
        }
    } else {
        snprintf(path, len, "%s", arg);
    }
    hps_store_quiet();
    char err[1024] = "";
    int rc = hps_results_open(path, r, err, sizeof err);
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: %s\n", path, err[0] ? err : hps_strerror(rc));
        return rc == HPS_ENOENT ? HPS_EXIT_USAGE : HPS_EXIT_ERROR;
    }
    return HPS_EXIT_OK;
}

/* Parse "--format X" / "--format=X" and the command's one flag (NULL: none),
 * which sets *flag_set; the one positional argument goes to *file. */
static int parse_query(int argc, char **argv, const char **file, hps_export_format *fmt,
                       void (*usage)(FILE *), const char *flag, int *flag_set)
{
    *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (flag && strcmp(argv[i], flag) == 0) {
            *flag_set = 1;
            continue;
        }
        if (strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                return HPS_EXIT_USAGE;
            }
            v = argv[++i];
        } else if (strncmp(argv[i], "--format=", 9) == 0) {
            v = argv[i] + 9;
        } else if (argv[i][0] == '-' || *file) {
            fprintf(stderr, "hpsweep: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return HPS_EXIT_USAGE;
        } else {
            *file = argv[i];
        }
        if (v && hps_export_parse_format(v, fmt) != HPS_OK) {
            fprintf(stderr, "hpsweep: unknown format '%s'\n", v);
            usage(stderr);
            return HPS_EXIT_USAGE;
        }
    }
    if (!*file) {
        usage(stderr);
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

int hps_cli_ranked(const hps_results *r, const hps_trial ***out, int64_t *n)
{
    int maximize = r->goal && strcmp(r->goal, "maximize") == 0;
    const hps_trial **t = malloc(sizeof *t * (size_t)(r->n_trials > 0 ? r->n_trials : 1));
    if (!t)
        return HPS_ENOMEM;
    int64_t k = 0;
    for (int64_t i = 0; i < r->n_trials; i++)
        if (r->trials[i].status == HPS_TRIAL_DONE && isfinite(r->trials[i].objective))
            t[k++] = &r->trials[i];
    /* insertion sort by hps_trial_better, stable in trial order (ties keep the earlier) */
    for (int64_t i = 1; i < k; i++) {
        const hps_trial *x = t[i];
        int64_t j = i;
        while (j > 0 && hps_trial_better(x, t[j - 1], maximize)) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
    *out = t;
    *n = k;
    return HPS_OK;
}

double hps_cli_metric_value(const hps_results *r, const hps_trial *t, const char *name)
{
    if (!name || (r->metric && strcmp(name, r->metric) == 0))
        return t->objective;
    int idx = -1;
    for (int i = 0; i < r->n_metric_names && idx < 0; i++)
        if (strcmp(r->metric_names[i], name) == 0)
            idx = i;
    double v = NAN;
    int64_t step = INT64_MIN;
    for (int64_t i = 0; idx >= 0 && i < r->n_metrics; i++) {
        const hps_metric *m = &r->metrics[i];
        if (m->trial_id == t->trial_id && m->name_index == idx && m->step >= step) {
            step = m->step;
            v = m->value;
        }
    }
    return v;
}

int hps_cli_parse_amount(const char *text, double *v, int *relative)
{
    char *end;
    errno = 0;
    *v = strtod(text, &end);
    *relative = *end == '%';
    if (*relative)
        end++;
    if (errno || end == text || *end || !isfinite(*v))
        return HPS_EINVAL;
    if (*relative)
        *v /= 100.0;
    return HPS_OK;
}

static void usage_best(FILE *f)
{
    fprintf(f, "usage: hpsweep best SWEEP.h5|DIR [--format json|yaml|env|args|github]\n"
               "                    [--with-seed] [--top K] [--params-only]\n\n"
               "The best completed trial's configuration (by the sweep's metric and goal;\n"
               "in a multi-fidelity sweep, among the trials at the largest budget reached):\n"
               "  json    {\"trial_id\", \"seed\", [\"budget\",] <metric>, \"params\": {...}}\n"
               "          (the default)\n"
               "  yaml    the same as YAML\n"
               "  env     NAME=value lines (names upper-cased), then HPSWEEP_SEED (and\n"
               "          HPSWEEP_BUDGET) as the trial's command got them; to re-run it:\n"
               "          set -a; eval \"$(hpsweep best DIR --format env)\"; set +a\n"
               "  args    --name value ... on one line, shell-quoted\n"
               "  github  name=value lines for a GitHub Actions step's output file:\n"
               "          hpsweep best DIR --format github >> \"$GITHUB_OUTPUT\"\n"
               "          trial_id, seed, [budget,] <metric>, params (one-line JSON), then\n"
               "          one per parameter (names outside [A-Za-z0-9_-] get '_')\n"
               "  --with-seed     args: also --seed SEED (and --budget B)\n"
               "  --top K         the K best, best first: json an array, yaml a list, args\n"
               "                  one line each (env and github take one trial)\n"
               "  --params-only   the parameters alone (no trial id, seed, budget or metric):\n"
               "                  json the params object, env without HPSWEEP_* lines\n\n"
               "Exit codes: 0 done, 1 error (unreadable file), 2 bad usage or no such file,\n"
               "3 no trial has completed.\n");
}

typedef struct best_args {
    const char *file;
    hps_export_format fmt;
    int with_seed, params_only, top;
} best_args;

static int parse_best(int argc, char **argv, best_args *a)
{
    *a = (best_args){.fmt = HPS_EXPORT_JSON, .top = 0};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--with-seed") == 0) {
            a->with_seed = 1;
        } else if (strcmp(argv[i], "--params-only") == 0) {
            a->params_only = 1;
        } else if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) &&
                   i + 1 < argc) {
            v = argv[++i];
        } else if (strncmp(argv[i], "--format=", 9) == 0) {
            v = argv[i] + 9;
        } else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
            char *end;
            long k = strtol(argv[++i], &end, 10);
            if (*end || k < 1 || k > 1000000) {
                fprintf(stderr, "hpsweep: --top expects a positive integer, got '%s'\n", argv[i]);
                return HPS_EXIT_USAGE;
            }
            a->top = (int)k;
        } else if (argv[i][0] == '-' || a->file) {
            fprintf(stderr, "hpsweep: unexpected argument '%s'\n", argv[i]);
            usage_best(stderr);
            return HPS_EXIT_USAGE;
        } else {
            a->file = argv[i];
        }
        if (v && (hps_export_parse_format(v, &a->fmt) != HPS_OK || a->fmt == HPS_EXPORT_CSV)) {
            fprintf(stderr, "hpsweep: best writes json, yaml, env, args or github, not '%s'\n", v);
            return HPS_EXIT_USAGE;
        }
    }
    if (!a->file) {
        usage_best(stderr);
        return HPS_EXIT_USAGE;
    }
    if (a->params_only && a->with_seed) {
        fprintf(stderr, "hpsweep: --params-only leaves the seed out; it cannot go with "
                "--with-seed\n");
        return HPS_EXIT_USAGE;
    }
    if (a->top > 1 && (a->fmt == HPS_EXPORT_ENV || a->fmt == HPS_EXPORT_GITHUB)) {
        fprintf(stderr, "hpsweep: the %s format holds one trial; use json, yaml or args for "
                "--top %d\n", a->fmt == HPS_EXPORT_ENV ? "env" : "github", a->top);
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

int hps_cli_best(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_best(stdout);
        return HPS_EXIT_OK;
    }
    best_args a;
    int rc = parse_best(argc, argv, &a);
    if (rc != HPS_EXIT_OK)
        return rc;
    hps_results r;
    char h5[HPS_PATH_MAX];
    if ((rc = hps_cli_open_results(a.file, &r, h5, sizeof h5)) != HPS_EXIT_OK)
        return rc;
    const hps_trial **ranked;
    int64_t n;
    if (hps_cli_ranked(&r, &ranked, &n) != HPS_OK) {
        fprintf(stderr, "hpsweep: out of memory\n");
        hps_results_free(&r);
        return HPS_EXIT_ERROR;
    }
    if (n == 0) {
        fprintf(stderr, "hpsweep: %s: no trial has completed yet\n", a.file);
        free(ranked);
        hps_results_free(&r);
        return HPS_EXIT_NO_RESULT;
    }
    int k = a.top > 0 && a.top < n ? a.top : a.top > 0 ? (int)n : 1;
    unsigned flags = (a.with_seed ? HPS_EXPORT_WITH_SEED : 0) |
                     (a.params_only ? HPS_EXPORT_PARAMS_ONLY : 0) | (a.top ? HPS_EXPORT_LIST : 0);
    char err[512] = "";
    int erc = hps_export_best_many(stdout, &r, ranked, k, a.fmt, flags, err, sizeof err);
    if (erc == HPS_EINVAL)
        fprintf(stderr, "hpsweep: %s\n", err);
    rc = erc == HPS_OK ? HPS_EXIT_OK : erc == HPS_EINVAL ? HPS_EXIT_USAGE : HPS_EXIT_ERROR;
    free(ranked);
    hps_results_free(&r);
    return rc;
}

static void usage_trials(FILE *f)
{
    fprintf(f, "usage: hpsweep trials SWEEP.h5|DIR [--format csv|json] [--rungs]\n\n"
               "Every trial, one row (csv, the default) or object (json) each: trial_id,\n"
               "status, seed, bracket, rung, budget, worker, start, end, objective, cause,\n"
               "exit_code, attempts and one column per parameter.\n"
               "  --rungs   instead, every rung every trial ran (/rungs: multi-fidelity\n"
               "            sweeps): trial_id, bracket, rung, budget, status, objective,\n"
               "            start, end, worker\n\n"
               "Exit codes: 0 done, 1 error (unreadable file), 2 bad usage or no such file.\n");
}

int hps_cli_trials(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_trials(stdout);
        return HPS_EXIT_OK;
    }
    const char *file;
    hps_export_format fmt = HPS_EXPORT_CSV;
    int rungs = 0;
    int rc = parse_query(argc, argv, &file, &fmt, usage_trials, "--rungs", &rungs);
    if (rc != HPS_EXIT_OK)
        return rc;
    if (fmt != HPS_EXPORT_CSV && fmt != HPS_EXPORT_JSON) {
        fprintf(stderr, "hpsweep: trials writes csv or json\n");
        return HPS_EXIT_USAGE;
    }
    hps_results r;
    char h5[HPS_PATH_MAX];
    if ((rc = hps_cli_open_results(file, &r, h5, sizeof h5)) != HPS_EXIT_OK)
        return rc;
    rc = (rungs ? hps_export_rungs(stdout, &r, fmt) : hps_export_trials(stdout, &r, fmt)) == HPS_OK
             ? HPS_EXIT_OK
             : HPS_EXIT_ERROR;
    hps_results_free(&r);
    return rc;
}
