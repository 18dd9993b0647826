/*
 * `hpsweep reproduce SWEEP.h5|DIR --trial N`: re-run one recorded trial on this
 * machine and say whether its metric came back.
 *
 * The trial runs through the one trial runner (hps_trial_run) on a fresh
 * objective instance made from the recorded config (/config, parsed as if read
 * from the recorded config_path, so a command's workdir resolves as it did), with
 * the trial's recorded seed, budget and parameter values, from scratch (a
 * promoted trial runs straight to its last budget), in a scratch trial directory
 * under $TMPDIR — never the sweep's own, whose checkpoints stay as they are. Its
 * metrics are printed beside the recorded ones, then the provenance facts that
 * differ between the run that made the trial and this machine (reproduce_diff.c).
 * Exit 0 when the sweep's metric is within the tolerance, HPS_EXIT_NOT_REPRODUCED
 * (5) when it is not or the re-run did not complete.
 *
 * No MPI: a trial of ranks_per_trial 1 runs here in-process (its command through
 * a spawner started first, as a rank's is).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/fs.h"
#include "hpsweep/error.h"
#include "provenance.h"
#include "query.h"
#include "reproduce.h"
#include "workers/gpus.h"
#include "workers/trial.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hpsweep reproduce SWEEP.h5|DIR --trial N [--tolerance T]\n"
               "                         [--config-dir DIR] [--keep]\n\n"
               "Re-run trial N here with its recorded config, seed, budget and parameters\n"
               "(same objective: built-in function or external command), in a scratch trial\n"
               "directory (the sweep's own is not touched), and print its metrics beside\n"
               "the recorded ones, then the provenance facts that differ between the run\n"
               "that made it and this machine (hpsweep and library versions, GPUs, driver,\n"
               "CUDA libraries, a dirty or changed user code tree, changed datasets or\n"
               "objective code).\n"
               "  --tolerance T     how far the sweep's metric may move: a share of the\n"
               "                    recorded value such as 2%%, or a number (default 0:\n"
               "                    exactly the recorded value)\n"
               "  --config-dir DIR  resolve the objective's workdir and datasets against DIR\n"
               "                    instead of the recorded config file's directory (a sweep\n"
               "                    moved to another machine)\n"
               "  --keep            keep the scratch directory (its path is printed)\n"
               "A trial that ran on more than one rank (ranks_per_trial > 1) is refused:\n"
               "this release reproduces single-rank trials.\n\n"
               "Exit codes: 0 reproduced within the tolerance, 5 not reproduced (outside\n"
               "the tolerance, or the re-run failed), 1 error, 2 bad usage, no such file or\n"
               "trial, or a trial that did not complete.\n");
}

typedef struct repro_args {
    const char *file, *config_dir;
    int64_t trial;
    double tolerance;
    int relative, keep;
} repro_args;

static int parse(int argc, char **argv, repro_args *a)
{
    memset(a, 0, sizeof *a);
    a->trial = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--keep")) {
            a->keep = 1;
        } else if (!strcmp(o, "--trial") && v) {
            char *end;
            errno = 0;
            long long n = strtoll(v, &end, 10);
            if (errno || *end || n < 0) {
                fprintf(stderr, "hpsweep: --trial expects a trial id (0, 1, ...), got '%s'\n", v);
                return HPS_EXIT_USAGE;
            }
            a->trial = n;
            i++;
        } else if (!strcmp(o, "--tolerance") && v) {
            if (hps_cli_parse_amount(v, &a->tolerance, &a->relative) != HPS_OK ||
                a->tolerance < 0) {
                fprintf(stderr, "hpsweep: --tolerance expects a number >= 0 or a share such as "
                        "2%%, got '%s'\n", v);
                return HPS_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(o, "--config-dir") && v) {
            a->config_dir = v;
            i++;
        } else if (o[0] == '-' || a->file) {
            fprintf(stderr, "hpsweep reproduce: unexpected or incomplete argument '%s'\n", o);
            usage(stderr);
            return HPS_EXIT_USAGE;
        } else {
            a->file = o;
        }
    }
    if (!a->file || a->trial < 0) {
        usage(stderr);
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

/* What the re-run reported: the last value of each metric name. */
typedef struct reports {
    int n;
    char names[HPS_REPORT_MAX_METRICS][HPS_METRIC_NAME_MAX + 1];
    double values[HPS_REPORT_MAX_METRICS];
} reports;

static void on_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    reports *r = ctx;
    (void)trial_id;
    for (int i = 0; i < line->n; i++) {
        int k = 0;
        while (k < r->n && strcmp(r->names[k], line->names[i]) != 0)
            k++;
        if (k == r->n) {
            if (r->n == HPS_REPORT_MAX_METRICS)
                continue;
            snprintf(r->names[r->n++], sizeof r->names[0], "%s", line->names[i]);
        }
        r->values[k] = line->values[i];
    }
}

static int on_poll(void *ctx, int64_t trial_id)
{
    (void)ctx;
    (void)trial_id;
    return HPS_POLL_GO;
}

/* The recorded config, parsed as if read from its recorded path (or from
 * config_dir): commands' workdir and datasets resolve as they did. */
static int load_config(const hps_results *r, const hps_prov *run, const char *config_dir,
                       hps_config *cfg, char *dir, size_t dirlen)
{
    const char *recorded = run ? hps_prov_get(run, HPS_PROV_RUN, 0, "config_path") : NULL;
    char source[HPS_PATH_MAX];
    const char *base = recorded ? strrchr(recorded, '/') : NULL;
    if (config_dir)
        snprintf(source, sizeof source, "%s/%s", config_dir, base ? base + 1 : "sweep.yaml");
    else if (recorded)
        snprintf(source, sizeof source, "%s", recorded);
    else
        snprintf(source, sizeof source, "./sweep.yaml");
    snprintf(dir, dirlen, "%s", source);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    if (!recorded && !config_dir)
        fprintf(stderr, "hpsweep: the sweep recorded no config path; a command's workdir and "
                "datasets resolve against the current directory (--config-dir DIR to choose)\n");
    char err[2048] = "";
    int rc = hps_config_parse(r->config_text, strlen(r->config_text), source, cfg, err,
                              sizeof err);
    if (rc != HPS_OK)
        fprintf(stderr, "hpsweep: the recorded config does not parse with this hpsweep: %s\n",
                err);
    return rc;
}

/* The run that made trial t: the latest to start no later than the trial. */
static const hps_prov *run_of(const hps_prov *runs, int n, const hps_trial *t)
{
    char start[40];
    hps_iso_time(t->start, start, sizeof start);
    const hps_prov *best = n > 0 ? &runs[0] : NULL;
    for (int k = 0; k < n; k++) {
        const char *s = hps_prov_get(&runs[k], HPS_PROV_RUN, 0, "start_time");
        if (s && strcmp(s, start) <= 0)
            best = &runs[k];
    }
    return best;
}

/* Run trial t in a scratch directory: its outcome in *out, its reports in *rep. */
static int rerun(const hps_config *cfg, const char *config_dir, const hps_trial *t,
                 hps_spawner *sp, const char *scratch, hps_outcome *out, reports *rep,
                 hps_objective *o)
{
    int wrapped = 0;
    char *gpus = cfg->objective.gpus_per_trial > 0
                     ? hps_gpu_list(0, cfg->objective.gpus_per_trial, hps_gpu_count(), &wrapped)
                     : NULL;
    hps_objective_runtime rt = {.spawner = sp, .sweep_dir = scratch, .config_dir = config_dir,
                                .gpus = gpus, .group_rank = 0, .group_size = 1};
    char err[1024] = "";
    int rc = hps_objective_open(o, &cfg->objective, &cfg->space, cfg->metric, &rt, err,
                                sizeof err);
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s\n", err);
        free(gpus);
        return rc;
    }
    hps_trial_spec spec = {.trial_id = t->trial_id, .seed = t->seed, .budget = t->budget,
                           .prev_budget = 0, .values = t->values};
    hps_trial_hooks hooks = {.report = on_report, .poll = on_poll, .ctx = rep};
    rc = hps_trial_run(o, &spec, &hooks, out);
    if (rc != HPS_OK)
        fprintf(stderr, "hpsweep: running the trial: %s\n", hps_strerror(rc));
    free(gpus);
    return rc;
}

static void print_params(const hps_results *r, const hps_trial *t)
{
    char buf[256];
    for (int i = 0; i < r->space.n_params; i++)
        printf("%s%s = %s", i ? ", " : "", r->space.params[i].name,
               hps_space_value_text(&r->space, i, t->values[i], buf, sizeof buf));
    printf("\n");
}

/* The recorded and new metrics side by side: the sweep's, then the others. */
static void print_metrics(const hps_results *r, const hps_trial *t, const hps_outcome *out,
                          const reports *rep)
{
    printf("\n%-20s %-24s %-24s\n", "metric", "recorded", "reproduced");
    char now[64];
    if (out->status == HPS_TRIAL_DONE)
        snprintf(now, sizeof now, "%.17g", out->objective);
    else
        snprintf(now, sizeof now, "(%s: %s)", hps_trial_status_name(out->status), out->cause);
    char was[64];
    snprintf(was, sizeof was, "%.17g", t->objective);
    printf("%-20s %-24s %-24s\n", r->metric, was, now);
    for (int k = 0; k < r->n_metric_names; k++) {
        const char *name = r->metric_names[k];
        if (!strcmp(name, r->metric))
            continue;
        double a = hps_cli_metric_value(r, t, name);
        int j = 0;
        while (j < rep->n && strcmp(rep->names[j], name) != 0)
            j++;
        if (isnan(a) && j == rep->n)
            continue;
        char x[64] = "-", y[64] = "-";
        if (!isnan(a))
            snprintf(x, sizeof x, "%.17g", a);
        if (j < rep->n)
            snprintf(y, sizeof y, "%.17g", rep->values[j]);
        printf("%-20s %-24s %-24s\n", name, x, y);
    }
}

/* The verdict line; 1 when the metric is within the tolerance. */
static int verdict(const repro_args *a, double recorded, const hps_outcome *out)
{
    if (out->status != HPS_TRIAL_DONE) {
        printf("\nnot reproduced: the re-run ended %s (%s)\n", hps_trial_status_name(out->status),
               out->cause);
        return 0;
    }
    double diff = out->objective - recorded, allowed = a->relative ? a->tolerance * fabs(recorded)
                                                                   : a->tolerance;
    int ok = fabs(diff) <= allowed || out->objective == recorded;
    char rel[48] = "";
    if (recorded != 0)
        snprintf(rel, sizeof rel, " (%+.4g%%)", 100.0 * diff / fabs(recorded));
    printf("\ndifference %+.6g%s; tolerance %.6g%s: %s\n", diff, rel,
           a->relative ? 100.0 * a->tolerance : a->tolerance, a->relative ? "%" : "",
           ok ? (diff == 0 ? "reproduced exactly" : "reproduced within the tolerance")
              : "NOT reproduced");
    return ok;
}

static int reproduce(const repro_args *a, hps_spawner *sp)
{
    hps_results r;
    char path[HPS_PATH_MAX], err[1024] = "", dir[HPS_PATH_MAX];
    int rc = hps_cli_open_results(a->file, &r, path, sizeof path);
    if (rc != HPS_EXIT_OK)
        return rc;
    hps_prov *runs = NULL;
    int n_runs = 0, code = HPS_EXIT_OK;
    const hps_trial *t = a->trial < r.n_trials ? &r.trials[a->trial] : NULL;
    hps_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!t || t->trial_id != a->trial) {
        fprintf(stderr, "hpsweep: %s has no trial %lld (%lld trials)\n", path,
                (long long)a->trial, (long long)r.n_trials);
        code = HPS_EXIT_USAGE;
    } else if (t->status != HPS_TRIAL_DONE) {
        fprintf(stderr, "hpsweep: trial %lld did not complete (%s%s%s): there is no metric to "
                "reproduce\n", (long long)a->trial, hps_trial_status_name(t->status),
                t->cause[0] ? ", " : "", t->cause);
        code = HPS_EXIT_USAGE;
    } else if (hps_prov_read(path, &runs, &n_runs, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "hpsweep: %s: %s\n", path, err);
        code = HPS_EXIT_ERROR;
    }
    const hps_prov *run = code == HPS_EXIT_OK ? run_of(runs, n_runs, t) : NULL;
    if (code == HPS_EXIT_OK && load_config(&r, run, a->config_dir, &cfg, dir, sizeof dir) != HPS_OK)
        code = HPS_EXIT_USAGE;
    if (code == HPS_EXIT_OK && cfg.ranks_per_trial > 1) {
        fprintf(stderr, "hpsweep: trial %lld ran on %d ranks (ranks_per_trial); this release "
                "reproduces single-rank trials only\n", (long long)a->trial,
                cfg.ranks_per_trial);
        code = HPS_EXIT_USAGE;
    }
    char scratch[HPS_PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/hpsweep-reproduce-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (code == HPS_EXIT_OK && !mkdtemp(scratch)) {
        fprintf(stderr, "hpsweep: cannot make a scratch directory %s: %s\n", scratch,
                strerror(errno));
        code = HPS_EXIT_ERROR;
    }
    if (code != HPS_EXIT_OK) {
        hps_config_free(&cfg);
        hps_prov_runs_free(runs, n_runs);
        hps_results_free(&r);
        return code;
    }
    printf("trial %lld of %s (seed %llu, budget %.10g): ", (long long)t->trial_id, path,
           (unsigned long long)t->seed, t->budget);
    print_params(&r, t);
    fflush(stdout);
    hps_outcome out;
    reports rep = {0};
    hps_objective o;
    memset(&o, 0, sizeof o);
    if (rerun(&cfg, dir, t, sp, scratch, &out, &rep, &o) != HPS_OK) {
        code = HPS_EXIT_ERROR;
    } else {
        print_metrics(&r, t, &out, &rep);
        int ok = verdict(a, t->objective, &out);
        code = ok ? HPS_EXIT_OK : HPS_EXIT_NOT_REPRODUCED;
        if (hps_repro_print_differences(run, t, &cfg, dir, sp) != HPS_OK)
            code = HPS_EXIT_ERROR;
    }
    hps_objective_close(&o);
    if (a->keep) {
        printf("scratch directory: %s (kept)\n", scratch);
    } else if (hps_rm_tree(scratch) != HPS_OK) {
        fprintf(stderr, "hpsweep: could not remove the scratch directory %s\n", scratch);
    }
    if (fflush(stdout) != 0)
        code = HPS_EXIT_ERROR;
    hps_config_free(&cfg);
    hps_prov_runs_free(runs, n_runs);
    hps_results_free(&r);
    return code;
}

int hps_cli_reproduce(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage(stdout);
        return HPS_EXIT_OK;
    }
    repro_args a;
    int rc = parse(argc, argv, &a);
    if (rc != HPS_EXIT_OK)
        return rc;
    hps_spawner *sp = NULL;
    char err[512];
    if (hps_spawner_start(&sp, err, sizeof err) != HPS_OK) {
        fprintf(stderr, "hpsweep: cannot start the process spawner: %s\n", err);
        return HPS_EXIT_ERROR;
    }
    rc = reproduce(&a, sp);
    hps_spawner_stop(sp);
    return rc;
}
