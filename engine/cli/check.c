/*
 * `hpsweep check`: the command a pipeline calls to refuse a regressed model. It
 * judges the best completed trial of a sweep against bounds (--min, --max) or
 * against another sweep's best (--baseline, --max-regression), prints one line
 * either way, and exits 0 when the gate holds, HPS_EXIT_GATE (4) when it does not.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/fs.h"
#include "hpsweep/error.h"
#include "query.h"
#include "store/store.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hpsweep check SWEEP.h5|DIR [--metric NAME] [--min X] [--max X]\n"
               "                     [--baseline OTHER.h5|DIR] [--max-regression R]\n\n"
               "A gate on the best completed trial (by the sweep's metric and goal). The\n"
               "value judged is its metric NAME (default: the sweep's metric; another\n"
               "metric: the last value that trial reported).\n"
               "  --min X, --max X     the value must be >= X, <= X (one or both)\n"
               "  --baseline OTHER     compare with OTHER's best by the same metric and goal:\n"
               "  --max-regression R   worse than the baseline by at most R: a number, or a\n"
               "                       share of the baseline's value such as 1%% (default 0:\n"
               "                       at least as good)\n"
               "One line says PASS or FAIL, the value and the bound.\n\n"
               "Exit codes: 0 the gate holds, 4 it does not, 3 no trial has completed (in\n"
               "SWEEP or the baseline), 1 error (unreadable file), 2 bad usage, no such file\n"
               "or metric, or a baseline with another metric or goal.\n");
}

typedef struct check_args {
    const char *file, *metric, *baseline;
    double min, max, regression;
    int has_min, has_max, relative;
} check_args;

static int number(const char *opt, const char *text, double *v)
{
    int rel;
    if (hps_cli_parse_amount(text, v, &rel) == HPS_OK && !rel)
        return HPS_OK;
    fprintf(stderr, "hpsweep: %s expects a number, got '%s'\n", opt, text);
    return HPS_EINVAL;
}

static int parse(int argc, char **argv, check_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = v && (!strcmp(o, "--metric") || !strcmp(o, "--min") || !strcmp(o, "--max") ||
                          !strcmp(o, "--baseline") || !strcmp(o, "--max-regression"));
        if (takes)
            i++;
        if (takes && !strcmp(o, "--metric")) {
            a->metric = v;
        } else if (takes && !strcmp(o, "--baseline")) {
            a->baseline = v;
        } else if (takes && !strcmp(o, "--min")) {
            if (number(o, v, &a->min) != HPS_OK)
                return HPS_EXIT_USAGE;
            a->has_min = 1;
        } else if (takes && !strcmp(o, "--max")) {
            if (number(o, v, &a->max) != HPS_OK)
                return HPS_EXIT_USAGE;
            a->has_max = 1;
        } else if (takes) {
            if (hps_cli_parse_amount(v, &a->regression, &a->relative) != HPS_OK ||
                a->regression < 0) {
                fprintf(stderr, "hpsweep: --max-regression expects a number >= 0 or a share "
                        "such as 1%%, got '%s'\n", v);
                return HPS_EXIT_USAGE;
            }
        } else if (o[0] == '-' || a->file) {
            fprintf(stderr, "hpsweep check: unexpected or incomplete argument '%s'\n", o);
            usage(stderr);
            return HPS_EXIT_USAGE;
        } else {
            a->file = o;
        }
    }
    if (!a->file || (!a->has_min && !a->has_max && !a->baseline)) {
        if (a->file)
            fprintf(stderr, "hpsweep check: give --min, --max or --baseline\n");
        usage(stderr);
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

/* The best trial of r and its value of metric (NULL: the sweep's): HPS_EXIT_OK, or
 * the exit code after a message. */
static int best_value(const hps_results *r, const char *path, const char *metric,
                      const hps_trial **best, double *v)
{
    const hps_trial **ranked;
    int64_t n;
    if (hps_cli_ranked(r, &ranked, &n) != HPS_OK) {
        fprintf(stderr, "hpsweep: out of memory\n");
        return HPS_EXIT_ERROR;
    }
    *best = n > 0 ? ranked[0] : NULL;
    free(ranked);
    if (!*best) {
        printf("check FAIL: %s: no trial has completed\n", path);
        return HPS_EXIT_NO_RESULT;
    }
    *v = hps_cli_metric_value(r, *best, metric);
    if (isnan(*v)) {
        fprintf(stderr, "hpsweep: %s: the best trial (%lld) has no value of metric '%s'\n", path,
                (long long)(*best)->trial_id, metric);
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

/*
 * Open the results arg names for a check of metric (NULL: the sweep's own): the
 * best trial alone when the file names it and the metric is the sweep's (its
 * objective), else everything, metrics included.
 */
static int open_for(const char *arg, const char *metric, hps_results *r, char *path, size_t len)
{
    int rc = hps_cli_open_results_best(arg, 1, r, path, len);
    if (rc != HPS_EXIT_OK || !metric || strcmp(metric, r->metric) == 0)
        return rc;
    hps_results_free(r); /* another metric: its values are in /metrics */
    return hps_cli_open_results(arg, r, path, len);
}

/* Against the baseline's best: how much worse v is (in the goal's direction). */
static int against_baseline(const check_args *a, const hps_results *r, const char *metric,
                            double v, char *line, size_t len, int *holds)
{
    hps_results b;
    char path[HPS_PATH_MAX];
    int rc = open_for(a->baseline, a->metric, &b, path, sizeof path);
    if (rc != HPS_EXIT_OK)
        return rc;
    const hps_trial *bt;
    double bv;
    if (strcmp(b.metric, r->metric) != 0 || strcmp(b.goal, r->goal) != 0) {
        fprintf(stderr, "hpsweep: the baseline %s optimises %s (%s), this sweep %s (%s)\n",
                path, b.metric, b.goal, r->metric, r->goal);
        hps_results_free(&b);
        return HPS_EXIT_USAGE;
    }
    if ((rc = best_value(&b, path, metric, &bt, &bv)) != HPS_EXIT_OK) {
        hps_results_free(&b);
        return rc;
    }
    int maximize = strcmp(r->goal, "maximize") == 0;
    double worse = maximize ? bv - v : v - bv;
    double allowed = a->relative ? a->regression * fabs(bv) : a->regression;
    *holds = worse <= allowed;
    char share[48] = "";
    if (bv != 0)
        snprintf(share, sizeof share, " (%+.4g%%)", 100.0 * (v - bv) / fabs(bv));
    snprintf(line, len, "%s = %.10g vs baseline %.10g (trial %lld of %s)%s; allowed "
             "regression %.4g%s", metric, v, bv, (long long)bt->trial_id, path, share,
             a->relative ? 100.0 * a->regression : a->regression, a->relative ? "%" : "");
    hps_results_free(&b);
    return HPS_EXIT_OK;
}

int hps_cli_check(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage(stdout);
        return HPS_EXIT_OK;
    }
    check_args a;
    int rc = parse(argc, argv, &a);
    if (rc != HPS_EXIT_OK)
        return rc;
    hps_results r;
    char path[HPS_PATH_MAX];
    if ((rc = open_for(a.file, a.metric, &r, path, sizeof path)) != HPS_EXIT_OK)
        return rc;
    const char *metric = a.metric ? a.metric : r.metric;
    const hps_trial *best;
    double v;
    char line[1024], bounds[256] = "";
    int holds = 1;
    if ((rc = best_value(&r, path, metric, &best, &v)) == HPS_EXIT_OK) {
        if (a.has_min || a.has_max) {
            holds = (!a.has_min || v >= a.min) && (!a.has_max || v <= a.max);
            if (a.has_min && a.has_max)
                snprintf(bounds, sizeof bounds, ">= %.10g and <= %.10g", a.min, a.max);
            else if (a.has_min)
                snprintf(bounds, sizeof bounds, ">= %.10g", a.min);
            else
                snprintf(bounds, sizeof bounds, "<= %.10g", a.max);
            snprintf(line, sizeof line, "%s = %.10g (trial %lld of %s); must be %s", metric, v,
                     (long long)best->trial_id, path, bounds);
        }
        if (a.baseline) {
            char bl[900];
            int bholds = 1;
            rc = against_baseline(&a, &r, metric, v, bl, sizeof bl, &bholds);
            if (a.has_min || a.has_max) {
                size_t used = strlen(line);
                snprintf(line + used, sizeof line - used, "; %s", bl);
            } else {
                snprintf(line, sizeof line, "%s", bl);
            }
            holds = holds && bholds;
        }
    }
    if (rc == HPS_EXIT_OK) {
        printf("check %s: %s\n", holds ? "PASS" : "FAIL", line);
        rc = holds ? HPS_EXIT_OK : HPS_EXIT_GATE;
    }
    if (fflush(stdout) != 0)
        rc = HPS_EXIT_ERROR;
    hps_results_free(&r);
    return rc;
}
