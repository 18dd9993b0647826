/*
 * `hpsweep best` and `hpsweep trials`: reading a sweep's results (status.c reads
 * its journal), and the helpers the commands that judge results share (ranking,
 * metric values). best and trials read sweep.h5 (a path to it, or the sweep
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

/* ---- best / trials --------------------------------------------------------------- */

/* The results file arg names (the file, or sweep.h5 in the directory arg) into path. */
static int results_path(const char *arg, char *path, size_t len)
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
    return HPS_EXIT_OK;
}

/* The exit status of reading the results file path that ended in rc (err: why),
 * saying what went wrong on stderr. */
static int open_status(const char *path, int rc, const char *err)
{
    if (rc == HPS_EDAMAGED) {
        char dir[HPS_PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        fprintf(stderr, "hpsweep: %s; nothing was read from it. The journal is the sweep's "
                "record: `hpsweep resume %s` writes sweep.h5 again from it\n", err,
                slash ? dir : ".");
        return HPS_EXIT_DAMAGED;
    }
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: %s\n", path, err[0] ? err : hps_strerror(rc));
        return rc == HPS_ENOENT ? HPS_EXIT_USAGE : HPS_EXIT_ERROR;
    }
    return HPS_EXIT_OK;
}

/* hps_cli_open_results, reading only the best best_k trials when best_k > 0 and the
 * file stores its ranking (hps_results_open_best), else the whole file. */
static int open_results(const char *arg, int best_k, hps_results *r, char *path, size_t len)
{
    memset(r, 0, sizeof *r);
    int rc = results_path(arg, path, len);
    if (rc != HPS_EXIT_OK)
        return rc;
    hps_store_quiet();
    char err[1024] = "";
    rc = best_k > 0 ? hps_results_open_best(path, best_k, r, err, sizeof err) : HPS_ENOSYS;
    if (rc == HPS_ENOSYS) /* a file written before the ranking was stored: read it all */
        rc = hps_results_open(path, r, err, sizeof err);
    return open_status(path, rc, err);
}

int hps_cli_open_results(const char *arg, hps_results *r, char *path, size_t len)
{
    return open_results(arg, 0, r, path, len);
}

int hps_cli_open_results_best(const char *arg, int k, hps_results *r, char *path, size_t len)
{
    return open_results(arg, k > 0 ? k : 1, r, path, len);
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

static int rank_maximize; /* qsort has no context argument; the CLI is single-threaded */

/* Better first (hps_trial_better), then the earlier trial. */
static int rank_order(const void *pa, const void *pb)
{
    const hps_trial *a = *(const hps_trial *const *)pa, *b = *(const hps_trial *const *)pb;
    if (hps_trial_better(a, b, rank_maximize))
        return -1;
    if (hps_trial_better(b, a, rank_maximize))
        return 1;
    return (a > b) - (a < b);
}

int hps_cli_ranked(const hps_results *r, const hps_trial ***out, int64_t *n)
{
    const hps_trial **t = malloc(sizeof *t * (size_t)(r->n_trials > 0 ? r->n_trials : 1));
    if (!t)
        return HPS_ENOMEM;
    int64_t k = 0;
    for (int64_t i = 0; i < r->n_trials; i++)
        if (r->trials[i].status == HPS_TRIAL_DONE && isfinite(r->trials[i].objective))
            t[k++] = &r->trials[i];
    rank_maximize = r->goal && strcmp(r->goal, "maximize") == 0;
    qsort(t, (size_t)k, sizeof *t, rank_order); /* O(n log n): a million trials rank at once */
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
               "  env     NAME=value lines (ASCII letters upper-cased, other characters '_',\n"
               "          '_' before a leading digit; refused, exit 2, when two parameters\n"
               "          would share a name, such as lr and LR), then HPSWEEP_SEED (and\n"
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
               "3 no trial has completed, 6 sweep.h5 is damaged (`hpsweep resume DIR` writes\n"
               "it again from the journal).\n");
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
    /* The file's stored ranking names the best rows: read those alone. */
    if ((rc = hps_cli_open_results_best(a.file, a.top, &r, h5, sizeof h5)) != HPS_EXIT_OK)
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
    char why[512];
    if (a.fmt == HPS_EXPORT_ENV && hps_export_env_check(&r, why, sizeof why) != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: cannot write the best trial as environment variables: "
                "%s. Use --format json, yaml or args, which keep the names\n", a.file, why);
        free(ranked);
        hps_results_free(&r);
        return HPS_EXIT_USAGE;
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

/* /trials rows read and written per block: memory stays that of a few blocks (the
 * one being written and those read ahead of it), whatever the table's size. */
#define TRIALS_BLOCK 16384


static void usage_trials(FILE *f)
{
    fprintf(f, "usage: hpsweep trials SWEEP.h5|DIR [--format csv|json] [--rungs]\n\n"
               "Every trial, one row (csv, the default) or object (json) each: trial_id,\n"
               "status, seed, bracket, rung, budget, worker, start, end, objective, cause,\n"
               "exit_code, attempts and one column per parameter.\n"
               "  --rungs   instead, every rung every trial ran (/rungs: multi-fidelity\n"
               "            sweeps): trial_id, bracket, rung, budget, status, objective,\n"
               "            start, end, worker\n\n"
               "Exit codes: 0 done, 1 error (unreadable file), 2 bad usage or no such file,\n"
               "6 sweep.h5 is damaged (`hpsweep resume DIR` writes it again from the journal).\n");
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
    /* Rows go out in large writes, whatever stdout is (a pipe or file is block
     * buffered anyway; a terminal would otherwise flush every line). */
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    hps_results r;
    char h5[HPS_PATH_MAX];
    if (rungs) {
        if ((rc = hps_cli_open_results(file, &r, h5, sizeof h5)) != HPS_EXIT_OK)
            return rc;
        rc = hps_export_rungs(stdout, &r, fmt) == HPS_OK ? HPS_EXIT_OK : HPS_EXIT_ERROR;
        hps_results_free(&r);
        return rc;
    }
    if ((rc = results_path(file, h5, sizeof h5)) != HPS_EXIT_OK)
        return rc;
    hps_store_quiet();
    char err[1024] = "";
    hps_export_progress o;
    int erc = hps_export_trials_stream(h5, TRIALS_BLOCK, stdout, fmt, &o, &r, err, sizeof err);
    if (erc == o.write_rc && erc != HPS_OK) { /* reading went well, writing did not */
        fprintf(stderr, "hpsweep: writing the trials: %s\n", hps_strerror(erc));
        return HPS_EXIT_ERROR;
    }
    if ((rc = open_status(h5, erc, err)) != HPS_EXIT_OK)
        return rc; /* a damaged file is found before a row is written */
    if (!o.head_done) /* no trial: the header alone */
        erc = hps_export_trials_head(stdout, &r, fmt);
    if (erc == HPS_OK)
        erc = hps_export_trials_tail(stdout, o.rows, fmt);
    if (erc == HPS_OK && fflush(stdout) != 0)
        erc = HPS_EIO;
    if (erc != HPS_OK)
        fprintf(stderr, "hpsweep: writing the trials: %s\n", hps_strerror(erc));
    hps_results_free(&r);
    return erc == HPS_OK ? HPS_EXIT_OK : HPS_EXIT_ERROR;
}
