/*
 * `hpsweep best` and `hpsweep trials`: reading a sweep's results (status.c reads
 * its journal). best and trials read sweep.h5 (a path to it, or the sweep
 * directory) with the public results reader, exactly as a user's program would.
 */
#include <math.h>
#include <stdio.h>
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

static void usage_best(FILE *f)
{
    fprintf(f, "usage: hpsweep best SWEEP.h5|DIR [--format json|yaml|env|args] [--with-seed]\n\n"
               "The best completed trial's configuration (by the sweep's metric and goal;\n"
               "in a multi-fidelity sweep, among the trials at the largest budget reached):\n"
               "  json  {\"trial_id\", \"seed\", [\"budget\",] <metric>, \"params\": {...}}\n"
               "        (the default)\n"
               "  yaml  the same as YAML\n"
               "  env   NAME=value lines (names upper-cased), then HPSWEEP_SEED (and\n"
               "        HPSWEEP_BUDGET) as the trial's command got them; to re-run it:\n"
               "        set -a; eval \"$(hpsweep best DIR --format env)\"; set +a\n"
               "  args  --name value ... on one line, shell-quoted\n"
               "  --with-seed   args: also --seed SEED (and --budget B)\n\n"
               "Exit codes: 0 done, 1 error (unreadable file), 2 bad usage or no such file,\n"
               "3 no trial has completed.\n");
}

int hps_cli_best(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_best(stdout);
        return HPS_EXIT_OK;
    }
    const char *file;
    hps_export_format fmt = HPS_EXPORT_JSON;
    int with_seed = 0;
    int rc = parse_query(argc, argv, &file, &fmt, usage_best, "--with-seed", &with_seed);
    if (rc != HPS_EXIT_OK)
        return rc;
    if (fmt == HPS_EXPORT_CSV) {
        fprintf(stderr, "hpsweep: best writes json, yaml, env or args\n");
        return HPS_EXIT_USAGE;
    }
    hps_results r;
    char h5[HPS_PATH_MAX];
    if ((rc = hps_cli_open_results(file, &r, h5, sizeof h5)) != HPS_EXIT_OK)
        return rc;
    const hps_trial *best = hps_results_best(&r);
    if (!best) {
        fprintf(stderr, "hpsweep: %s: no trial has completed yet\n", file);
        hps_results_free(&r);
        return HPS_EXIT_NO_RESULT;
    }
    rc = hps_export_best(stdout, &r, best, fmt, with_seed ? HPS_EXPORT_WITH_SEED : 0) == HPS_OK
             ? HPS_EXIT_OK
             : HPS_EXIT_ERROR;
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
