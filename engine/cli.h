/*
 * The hpsweep subcommands. Each takes the arguments after its name (argv[0] is
 * the subcommand) and returns the process exit code:
 *   0  success
 *   1  runtime error (I/O, MPI, corrupt data)
 *   2  usage or configuration error, or a refused operation; nothing written
 *   75 the sweep was interrupted by SIGTERM/SIGINT/SIGUSR1 (EX_TEMPFAIL); resume it
 */
#ifndef HPS_ENGINE_CLI_H
#define HPS_ENGINE_CLI_H

enum { HPS_EXIT_OK = 0, HPS_EXIT_ERROR = 1, HPS_EXIT_USAGE = 2, HPS_EXIT_INTERRUPTED = 75 };

int hps_cli_run(int argc, char **argv, char **full_argv, int full_argc);
int hps_cli_resume(int argc, char **argv, char **full_argv, int full_argc);
int hps_cli_status(int argc, char **argv);
int hps_cli_best(int argc, char **argv);
int hps_cli_trials(int argc, char **argv);
int hps_cli_report(int argc, char **argv);

/* Does argv hold -h/--help? */
int hps_cli_wants_help(int argc, char **argv);

#endif
