/*
 * `hpsweep status`, `hpsweep best` and `hpsweep trials`: reading a sweep.
 *
 * status reads the journal read-only (never the HDF5 file, which a running
 * coordinator replaces every few seconds), so it works while the sweep runs and
 * after a crash. best and trials read sweep.h5 (a path to it, or the sweep
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
#include "salvage.h"

/* ---- status ------------------------------------------------------------------------ */

static void usage_status(FILE *f)
{
    fprintf(f, "usage: hpsweep status DIR\n\n"
               "Counts and the best trial so far of the sweep in DIR, read from its journal.\n"
               "Safe while the sweep runs; changes nothing. Exit status 4 (and no counts)\n"
               "when the journal is damaged: see `hpsweep resume --help` (--salvage).\n");
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
    const char *dir = argv[1];
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
    const hps_journal_damage *d = hps_journal_damage_info(j);
    if (d) {
        /* Its counts would be those of the records before the damage only: say what
         * is wrong instead (nothing is changed; a resume would refuse it too). */
        char what[1024];
        hps_salvage_describe(path, dir, d, what, sizeof what);
        printf("sweep      %s\nstatus     DAMAGED journal: %s\n", dir, what);
        hps_journal_close(j);
        return HPS_EXIT_DAMAGED;
    }
    if (hps_journal_last_seq(j) == 0) {
        /* Created, but killed before its first record: the same way out as resume. */
        fprintf(stderr, "hpsweep: %s holds no sweep yet: the run that created it stopped "
                "before it recorded the sweep's config. Start it with `hpsweep run CONFIG` "
                "(that takes this directory over)\n", path);
        hps_journal_close(j);
        return HPS_EXIT_USAGE;
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
    printf("created    %s (%s ago)\n", created, age);
    printf("trials     %lld", (long long)s.n_trials);
    if (s.cfg.max_trials > 0)
        printf(" of %lld", (long long)s.cfg.max_trials);
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

/* Parse "--format X" / "--format=X"; the one positional argument goes to *file. */
static int parse_query(int argc, char **argv, const char **file, hps_export_format *fmt,
                       void (*usage)(FILE *), int *rungs)
{
    *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (rungs && strcmp(argv[i], "--rungs") == 0) {
            *rungs = 1;
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
    fprintf(f, "usage: hpsweep best SWEEP.h5|DIR [--format json|yaml|env|args]\n\n"
               "The best completed trial's configuration (by the sweep's metric and goal;\n"
               "in a multi-fidelity sweep, among the trials at the largest budget reached):\n"
               "  json  {\"trial_id\", \"seed\", <metric>, \"params\": {...}} (default)\n"
               "  yaml  the same as YAML\n"
               "  env   NAME=value lines (ASCII letters upper-cased, other characters '_',\n"
               "        '_' before a leading digit; refused, exit 2, when two parameters\n"
               "        would share a name, such as lr and LR); `eval` or source them\n"
               "  args  --name value ... on one line, shell-quoted\n"
               "Exit status 3 when no trial has completed, 4 when sweep.h5 is damaged\n"
               "(`hpsweep resume DIR` writes it again from the journal).\n");
}

int hps_cli_best(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_best(stdout);
        return HPS_EXIT_OK;
    }
    const char *file;
    hps_export_format fmt = HPS_EXPORT_JSON;
    int rc = parse_query(argc, argv, &file, &fmt, usage_best, NULL);
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
    int maximize = r.goal && strcmp(r.goal, "maximize") == 0;
    const hps_trial *best = NULL;
    for (int64_t k = 0; k < r.n_trials; k++) {
        const hps_trial *t = &r.trials[k];
        if (t->status != HPS_TRIAL_DONE || isnan(t->objective))
            continue;
        if (!best || hps_trial_better(t, best, maximize))
            best = t;
    }
    if (!best) {
        fprintf(stderr, "hpsweep: %s: no trial has completed yet\n", file);
        hps_results_free(&r);
        return HPS_EXIT_NO_RESULT;
    }
    char why[512];
    if (fmt == HPS_EXPORT_ENV && hps_export_env_check(&r, why, sizeof why) != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: cannot write the best trial as environment variables: "
                "%s. Use --format json, yaml or args, which keep the names\n", file, why);
        hps_results_free(&r);
        return HPS_EXIT_USAGE;
    }
    rc = hps_export_best(stdout, &r, best, fmt) == HPS_OK ? HPS_EXIT_OK : HPS_EXIT_ERROR;
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
               "            start, end, worker\n"
               "Exit status 4 when sweep.h5 is damaged (`hpsweep resume DIR` writes it again\n"
               "from the journal).\n");
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
    int rc = parse_query(argc, argv, &file, &fmt, usage_trials, &rungs);
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
