/*
 * `hpsweep report`: one self-contained HTML page of plots and tables made from a
 * sweep's sweep.h5 (engine/report/), to open offline, attach to a CI run or
 * e-mail. The page is written to a temporary file beside its destination,
 * fsynced and renamed, so a reader never sees half a report.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hps_version.h"
#include "hpsweep/error.h"
#include "query.h"
#include "report/report.h"
#include "store/export.h"
#include "store/store.h"
#include "store/sweepdir.h"

static void usage_report(FILE *f)
{
    fprintf(f,
            "usage: hpsweep report SWEEP.h5|DIR [-o FILE] [--top K] [--title TEXT]\n"
            "                      [--max-points N]\n\n"
            "One self-contained HTML page of the sweep, to open in any browser without a\n"
            "network or a server: optimisation history, each parameter against the metric,\n"
            "parallel coordinates of the best trials, learning curves, parameter\n"
            "importance, the top trials, failures by cause, provenance and settings.\n"
            "  -o, --output FILE  where to write it (default: report.html in the sweep's\n"
            "                     directory, beside sweep.h5); - for standard output\n"
            "  --top K            rows of the top-trials table (default 10)\n"
            "  --title TEXT       the page's title (default: hpsweep report: <name>)\n"
            "  --max-points N     trials per scatter plot at most (default 5000; the\n"
            "                     best are always among them, and the page says so)\n\n"
            "Exit codes: 0 done, 1 error (not a sweep file, a failed write), 2 bad usage\n"
            "or no such file, 6 sweep.h5 is damaged (`hpsweep resume DIR` writes it again\n"
            "from the journal).\n");
}

/* A positive integer option value, or -1. */
static long long parse_count(const char *opt, const char *v, long long max)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 1 || n > max) {
        fprintf(stderr, "hpsweep: %s wants an integer from 1 to %lld, not '%s'\n", opt, max, v);
        return -1;
    }
    return n;
}

typedef struct report_args {
    const char *file, *output;
    hps_report_opts opts;
} report_args;

static int parse_report_args(int argc, char **argv, report_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *v = NULL;
        const char *names[] = {"-o", "--output", "--top", "--title", "--max-points"};
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !v; k++) {
            size_t n = strlen(names[k]);
            if (strcmp(opt, names[k]) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "hpsweep: %s needs a value\n", opt);
                    return HPS_EXIT_USAGE;
                }
                opt = names[k];
                v = argv[++i];
            } else if (k > 0 && strncmp(opt, names[k], n) == 0 && opt[n] == '=') {
                v = opt + n + 1;
                opt = names[k];
            }
        }
        long long n = 0;
        if (!v && (opt[0] != '-' || opt[1] == '\0') && !a->file) {
            a->file = opt;
        } else if (!v) {
            fprintf(stderr, "hpsweep: unexpected argument '%s'\n", opt);
            return HPS_EXIT_USAGE;
        } else if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0) {
            a->output = v;
        } else if (strcmp(opt, "--title") == 0) {
            a->opts.title = v;
        } else if (strcmp(opt, "--top") == 0) {
            if ((n = parse_count(opt, v, 100000)) < 0)
                return HPS_EXIT_USAGE;
            a->opts.top_k = (int)n;
        } else {
            if ((n = parse_count(opt, v, 10000000)) < 0)
                return HPS_EXIT_USAGE;
            a->opts.max_points = n;
        }
    }
    if (!a->file) {
        fprintf(stderr, "hpsweep: report needs a sweep.h5 file or a sweep directory\n");
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

/* report.html in the directory of the results file h5path. */
static int default_output(const char *h5path, char *out, size_t len)
{
    const char *slash = strrchr(h5path, '/');
    if (!slash)
        return snprintf(out, len, "report.html") < (int)len ? 0 : -1;
    int dirlen = (int)(slash - h5path); /* 0: the file is in / */
    return snprintf(out, len, "%.*s/report.html", dirlen, h5path) < (int)len ? 0 : -1;
}

/* Write the report to path through a temporary file beside it, fsync, rename. */
static int write_file(const hps_results *r, const hps_report_opts *opts, const char *path)
{
    char tmp[HPS_PATH_MAX + 16], err[256] = "";
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        fprintf(stderr, "hpsweep: path too long: %s\n", path);
        return HPS_EXIT_USAGE;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "hpsweep: cannot write %s: %s\n", path, strerror(errno));
        return HPS_EXIT_ERROR;
    }
    mode_t mask = umask(0);
    umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "hpsweep: cannot write %s: %s\n", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return HPS_EXIT_ERROR;
    }
    int rc = hps_report_write(r, f, opts, err, sizeof err);
    int sync_rc = rc == HPS_OK ? fsync(fileno(f)) : 0;
    int close_rc = fclose(f);
    if (rc != HPS_OK || sync_rc != 0 || close_rc != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "hpsweep: cannot write %s: %s\n", path,
                rc != HPS_OK ? err : strerror(errno));
        unlink(tmp);
        return HPS_EXIT_ERROR;
    }
    return HPS_EXIT_OK;
}

/* The best trial as `hpsweep best --format json` prints it, in a malloc'd string
 * (NULL when no trial has completed or memory is short: the page then omits it). */
static char *best_json(const hps_results *r)
{
    const hps_trial *best = hps_results_best(r);
    char *text = NULL;
    size_t len = 0;
    FILE *m = best ? open_memstream(&text, &len) : NULL;
    if (!m)
        return NULL;
    int rc = hps_export_best(m, r, best, HPS_EXPORT_JSON, 0);
    if (fclose(m) != 0 || rc != HPS_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* Monotonic seconds, or NaN when the clock cannot be read. */
static double now_seconds(void)
{
    struct timespec t;
    return clock_gettime(CLOCK_MONOTONIC, &t) == 0 ? (double)t.tv_sec + 1e-9 * (double)t.tv_nsec
                                                   : NAN;
}

int hps_cli_report(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_report(stdout);
        return HPS_EXIT_OK;
    }
    report_args a;
    int rc = parse_report_args(argc, argv, &a);
    if (rc != HPS_EXIT_OK) {
        usage_report(stderr);
        return rc;
    }
    double t0 = now_seconds();
    char h5path[HPS_PATH_MAX], out[HPS_PATH_MAX];
    hps_results r;
    if ((rc = hps_cli_open_results(a.file, &r, h5path, sizeof h5path)) != HPS_EXIT_OK)
        return rc;
    if (!a.output && default_output(h5path, out, sizeof out) != 0) {
        fprintf(stderr, "hpsweep: path too long: %s\n", h5path);
        hps_results_free(&r);
        return HPS_EXIT_USAGE;
    }
    const char *dest = a.output ? a.output : out;

    char generated[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(generated, sizeof generated, "%Y-%m-%dT%H:%M:%SZ", &tm);
    a.opts.generator = "hpsweep " HPS_VERSION " (" HPS_GIT_COMMIT ")";
    a.opts.generated = generated;
    char *best = best_json(&r);
    a.opts.best_json = best;

    if (strcmp(dest, "-") == 0) {
        char err[256] = "";
        rc = hps_report_write(&r, stdout, &a.opts, err, sizeof err) == HPS_OK ? HPS_EXIT_OK
                                                                              : HPS_EXIT_ERROR;
        if (rc != HPS_EXIT_OK)
            fprintf(stderr, "hpsweep: %s\n", err);
    } else {
        rc = write_file(&r, &a.opts, dest);
    }
    double seconds = now_seconds() - t0;
    struct stat st;
    if (rc == HPS_EXIT_OK && strcmp(dest, "-") != 0 && stat(dest, &st) == 0)
        fprintf(stderr, "hpsweep: wrote %s (%.1f kB, %lld trials) in %.2f s\n", dest,
                (double)st.st_size / 1e3, (long long)r.n_trials, isfinite(seconds) ? seconds : 0.0);
    free(best);
    hps_results_free(&r);
    return rc;
}
