/*
 * The arguments and usage texts of `hpsweep run` and `hpsweep resume`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hpsweep/error.h"
#include "run.h"

#define EXIT_CODES                                                                          \
    "Exit codes: 0 done, 1 error (I/O, a full disk: the message names the cause; or\n"      \
    "budget.max_consecutive_failures reached), 2 bad usage or config, or refused\n"          \
    "(nothing written), 3 the sweep ended without one completed trial, 6 the journal\n"      \
    "is damaged (nothing changed; see `hpsweep resume --help`), 75 interrupted by\n"         \
    "SIGTERM/SIGINT/SIGUSR1 (resume it later). Under mpirun the status comes from\n"          \
    "rank 0; mpirun -q leaves out Open MPI's note about a non-zero exit code.\n"

static void usage_run(FILE *f)
{
    fprintf(f,
            "usage: hpsweep run CONFIG.yaml [--resume] [--output DIR] [--max-trials N]\n"
            "                   [--max-time DURATION] [--quiet]\n"
            "       mpirun -np N hpsweep run CONFIG.yaml ...\n\n"
            "Run the sweep CONFIG describes into OUTPUT/NAME (default runs/NAME). Rank 0\n"
            "coordinates; the other ranks evaluate trials in groups of ranks_per_trial.\n"
            "Without mpirun the sweep runs serially and gives the same trials for the same\n"
            "seed.\n\n"
            "  --resume          if the directory already holds this sweep, continue it\n"
            "                    (the config must match the recorded one, budget aside)\n"
            "  --output DIR      parent directory of the sweep (overrides `output:`)\n"
            "  --max-trials N    override budget.max_trials (recorded: a resume keeps it)\n"
            "  --max-time D      override budget.max_time (e.g. 90, 30s, 10m, 2h; recorded)\n"
            "  --quiet           no per-trial progress; the summary line stays\n\n"
            "%s", EXIT_CODES);
}

static void usage_resume(FILE *f)
{
    fprintf(f,
            "usage: hpsweep resume DIR [--config CONFIG.yaml] [--max-trials N]\n"
            "                      [--max-time DURATION] [--salvage] [--quiet]\n"
            "       mpirun -np N hpsweep resume DIR ...\n\n"
            "Continue the sweep in DIR after a kill, a time limit or Ctrl-C: the journal is\n"
            "replayed through a fresh strategy (exactly restoring it), trials that were\n"
            "running or interrupted are re-run first with their recorded seeds, and the\n"
            "sweep continues to its budget. The rank count may differ from the first run.\n\n"
            "  --config FILE     check FILE against the recorded config (keys other than\n"
            "                    budget, output and parallelism must match) and take its\n"
            "                    budget\n"
            "  --max-trials N    raise or lower the trial budget (recorded: later resumes\n"
            "                    keep it)\n"
            "  --max-time D      time budget per run (recorded)\n"
            "  --salvage         the journal is damaged (a bad record with valid ones after\n"
            "                    it; resume refuses such a journal with exit code 6): keep\n"
            "                    every record that verifies and still applies, save the\n"
            "                    original as journal.damaged-<time>, report what was lost,\n"
            "                    then resume (lost trials run again with their seeds)\n"
            "  --quiet           no per-trial progress; the summary line stays\n\n"
            "An unfinished last write (a torn tail) is cut without asking.\n"
            "%s", EXIT_CODES);
}

int hps_run_parse_args(int argc, char **argv, int resume, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->resume = resume;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--resume") == 0 && !resume) {
            a->resume = 1;
        } else if (strcmp(arg, "--salvage") == 0 && resume) {
            a->salvage = 1;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(arg, "--output") == 0 && !resume && val) {
            a->output = val;
            i++;
        } else if (strcmp(arg, "--config") == 0 && resume && val) {
            a->config = val;
            i++;
        } else if (strcmp(arg, "--max-trials") == 0 && val) {
            char *end;
            errno = 0;
            long long n = strtoll(val, &end, 10);
            if (errno || *end || n <= 0) {
                fprintf(stderr, "hpsweep: --max-trials expects a positive integer, got '%s'\n",
                        val);
                return HPS_EXIT_USAGE;
            }
            a->max_trials = n;
            i++;
        } else if (strcmp(arg, "--max-time") == 0 && val) {
            if (hps_parse_duration(val, &a->max_time) != HPS_OK || a->max_time <= 0) {
                fprintf(stderr, "hpsweep: --max-time expects a duration such as 90, 30s, 10m "
                        "or 2h, got '%s'\n", val);
                return HPS_EXIT_USAGE;
            }
            i++;
        } else if (arg[0] == '-') {
            fprintf(stderr, "hpsweep %s: unknown or incomplete option '%s'\n",
                    resume ? "resume" : "run", arg);
            hps_run_usage(stderr, resume);
            return HPS_EXIT_USAGE;
        } else if (!resume && !a->config) {
            a->config = arg;
        } else if (resume && !a->dir) {
            a->dir = arg;
        } else {
            fprintf(stderr, "hpsweep %s: unexpected argument '%s'\n", resume ? "resume" : "run",
                    arg);
            return HPS_EXIT_USAGE;
        }
    }
    if ((!resume && !a->config) || (resume && !a->dir)) {
        hps_run_usage(stderr, resume);
        return HPS_EXIT_USAGE;
    }
    return HPS_EXIT_OK;
}

void hps_run_usage(FILE *f, int resume)
{
    (resume ? usage_resume : usage_run)(f);
}
