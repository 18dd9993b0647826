/*
 * The hpsweep subcommands. Each takes the arguments after its name (argv[0] is
 * the subcommand) and returns the process exit code (HPS_EXIT_*).
 */
#ifndef HPS_CLI_CLI_H
#define HPS_CLI_CLI_H

enum {
    HPS_EXIT_OK = 0,          /* success */
    HPS_EXIT_ERROR = 1,       /* runtime error (I/O, MPI, corrupt data), or a sweep stopped
                                 by budget.max_consecutive_failures */
    HPS_EXIT_USAGE = 2,       /* usage or configuration error, or a refused operation;
                                 nothing written */
    HPS_EXIT_NO_RESULT = 3,   /* `best`, `check`: no trial has completed; `run`/`resume`:
                                 the sweep ended without one completed trial */
    HPS_EXIT_GATE = 4,        /* `check`: the gate does not hold (a metric out of bounds,
                                 a regression beyond the allowed one) */
    HPS_EXIT_NOT_REPRODUCED = 5, /* `reproduce`: the new metric is outside the tolerance,
                                    or the re-run did not complete */
    HPS_EXIT_DAMAGED = 6,     /* the journal or sweep.h5 is damaged (a bad record with valid
                                 ones after it, a checksum mismatch); nothing was changed:
                                 `resume --salvage` / `resume` (see the message) */
    HPS_EXIT_INTERRUPTED = 75 /* SIGTERM/SIGINT/SIGUSR1 stopped the sweep (EX_TEMPFAIL);
                                 resume it */
};

/* Before any command (blas_threads.c): OpenBLAS set to one thread and the pool
 * it started when it loaded shut down, unless OPENBLAS_NUM_THREADS is set. */
void hps_cli_blas_start(void);

int hps_cli_run(int argc, char **argv, char **full_argv, int full_argc);
int hps_cli_resume(int argc, char **argv, char **full_argv, int full_argc);
int hps_cli_status(int argc, char **argv);
int hps_cli_best(int argc, char **argv);
int hps_cli_trials(int argc, char **argv);
int hps_cli_report(int argc, char **argv);
int hps_cli_show(int argc, char **argv);
int hps_cli_check(int argc, char **argv);
int hps_cli_compare(int argc, char **argv);
int hps_cli_reproduce(int argc, char **argv);
/* `hpsweep dataset synth|check` (dataset.c). */
int hps_cli_dataset(int argc, char **argv);

/* `hpsweep __probe-gpu` (internal): GPU and NVIDIA library facts for provenance. */
int hps_cli_probe_gpu(void);

/* `hpsweep --version`: versions of hpsweep and the libraries it was built with. */
int hps_cli_version(void);

/* Does argv hold -h/--help? */
int hps_cli_wants_help(int argc, char **argv);

#endif
