/*
 * hpsweep: the command-line entry point. Dispatches to the subcommands of the cli
 * module (engine/cli/cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hpsweep <command> [options]\n\n"
            "  run CONFIG.yaml      run a sweep (under mpirun: rank 0 coordinates)\n"
            "  resume DIR           continue an interrupted sweep\n"
            "  status DIR           counts and best so far (works while it runs)\n"
            "  best FILE|DIR        the best configuration (--format json|yaml|env|args)\n"
            "  trials FILE|DIR      every trial (--format csv|json)\n"
            "  report FILE|DIR      one self-contained HTML page of plots (-o report.html)\n"
            "  show FILE|DIR        the sweep and its provenance, readably\n"
            "  check FILE|DIR       a CI gate: --max/--min on the best metric, or --baseline\n"
            "  compare A B          best values, counts, config and provenance differences\n"
            "  reproduce FILE|DIR   re-run one trial here (--trial N) and compare\n"
            "  dataset synth|check  make a synthetic dataset for the built-in trainer, or\n"
            "                       check one (shape, task, SHA-256)\n\n"
            "  --version            versions of hpsweep, MPI, HDF5, GSL and libyaml\n"
            "  --help               this text; `hpsweep <command> --help` for a command\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HPS_EXIT_USAGE;
    }
    hps_cli_blas_start();
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        return hps_cli_version();
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return HPS_EXIT_OK;
    }
    if (strcmp(cmd, "__probe-gpu") == 0) /* provenance's GPU probe (prov_probe.c) */
        return hps_cli_probe_gpu();
    if (strcmp(cmd, "run") == 0)
        return hps_cli_run(argc - 1, argv + 1, argv, argc);
    if (strcmp(cmd, "resume") == 0)
        return hps_cli_resume(argc - 1, argv + 1, argv, argc);
    if (strcmp(cmd, "status") == 0)
        return hps_cli_status(argc - 1, argv + 1);
    if (strcmp(cmd, "best") == 0)
        return hps_cli_best(argc - 1, argv + 1);
    if (strcmp(cmd, "trials") == 0)
        return hps_cli_trials(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return hps_cli_report(argc - 1, argv + 1);
    if (strcmp(cmd, "show") == 0)
        return hps_cli_show(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return hps_cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return hps_cli_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "reproduce") == 0)
        return hps_cli_reproduce(argc - 1, argv + 1);
    if (strcmp(cmd, "dataset") == 0)
        return hps_cli_dataset(argc - 1, argv + 1);
    fprintf(stderr, "hpsweep: unknown command '%s'\n", cmd);
    usage(stderr);
    return HPS_EXIT_USAGE;
}
