/*
 * The objective API: what a trial runs.
 *
 * Every objective — a built-in test function, `sleep`/`noop`, an external command,
 * a user's C plugin, the built-in trainer — is a const table of function pointers
 * (hps_objective_ops, version first, fields only ever appended, optional hooks may
 * be NULL) plus an opaque state. hpsweep calls
 *
 *   init()  once per rank, before the first trial, with the objective's options;
 *   run()   once per trial, with an opaque trial context (below) — on every rank
 *           of the trial group when the ops set HPS_OBJECTIVE_GROUP, else on the
 *           group's leader only;
 *   fini()  once per rank at the end.
 *
 * A C plugin is a shared library that exports one table under the name
 * HPS_OBJECTIVE_SYMBOL:
 *
 *   const hps_objective_ops hpsweep_objective = {
 *       .version = HPS_OBJECTIVE_VERSION, .name = "mymodel",
 *       .flags = HPS_OBJECTIVE_GROUP, .init = my_init, .run = my_run, .fini = my_fini,
 *   };
 *
 * and a sweep names it: `objective: {plugin: build/libmymodel.so, options: {k: v}}`
 * (the path relative to the config file). Every rank loads it (dlopen, RTLD_NOW |
 * RTLD_LOCAL) and calls init() before the sweep starts; a missing file, a missing
 * symbol, another API version or an init() failure on any rank stops every rank
 * with exit status 2 before any trial runs. The hps_trial_* functions below are
 * exported by the hpsweep program, so a plugin links against nothing of ours; if
 * it uses MPI, it must be built against the MPI hpsweep runs with.
 *
 * Data-parallel plugins (HPS_OBJECTIVE_GROUP) run each trial on every rank of its
 * group in lock-step: same trial, same parameters and seed, same order. The group
 * communicates through hps_trial_mpi_comm() (its own duplicate communicator),
 * hps_trial_nccl_comm() or hps_trial_allreduce(). run() must make the same
 * collective calls, hps_trial_should_stop() included, in the same order on every
 * rank; a rank that fails should do so where its peers are not waiting on it in a
 * collective (after the loop, or after an agreed check), else they wait forever.
 * After run() returns on every rank, the group agrees on the outcome: a failure on
 * any rank fails the trial, its cause naming the rank ("rank 1: diverged"), and
 * the group's NCCL communicator is aborted and made afresh for the next trial.
 *
 * A plugin that crashes (a segfault) takes the whole MPI job down (Open MPI ends
 * every rank when one dies). `hpsweep resume` re-runs the trials that were
 * running, with their seeds; hps_trial_attempt() says which attempt this is.
 * Before each run the group's leader writes trials/<id>/attempt and removes it
 * once the run has ended on every rank, so a resume counts the runs of a trial
 * during which the job died; past objective.retries of them (default 1) the trial
 * is recorded as failed ("crash: job died in N attempts") without running again.
 *
 * A trial's result is the value given to hps_trial_set_result(), else the last
 * value of the sweep's metric reported with hps_trial_report(); a trial that gives
 * neither fails with cause "no-metric", a non-finite one with "nan". run() returns
 * HPS_OK, or an error code after hps_trial_fail() recorded why (the trial's cause).
 *
 * All functions here return HPS_OK or a negative HPS_* code (hpsweep/error.h).
 */
#ifndef HPSWEEP_OBJECTIVE_H
#define HPSWEEP_OBJECTIVE_H

#include <stddef.h>
#include <stdint.h>

#define HPS_OBJECTIVE_VERSION 1

/* The symbol a plugin exports: a `const hps_objective_ops`. */
#define HPS_OBJECTIVE_SYMBOL "hpsweep_objective"

/* Element types of hps_trial_allreduce(). */
typedef enum hps_dtype { HPS_FLOAT32 = 1, HPS_FLOAT64 = 2 } hps_dtype;

/* hps_objective_ops.flags */
enum {
    /* run() is called on every rank of the trial group (data-parallel training);
     * without it only the group's leader runs trials. */
    HPS_OBJECTIVE_GROUP = 1u << 0
};

/* What init() learns about its run; valid until fini(). */
typedef struct hps_objective_env {
    int n_options;                     /* objective.options from the config, as text */
    const char *const *option_keys;
    const char *const *option_values;
    const char *config_dir;            /* directory of the sweep's config file */
    const char *sweep_dir;             /* the sweep directory (absolute) */
    const char *metric;                /* the sweep's metric name */
    int group_rank, group_size;        /* this rank's place in its trial group */
    int device;                        /* CUDA device of this rank, -1 without GPUs */
    const void *internal;              /* built-in objectives only; NULL for plugins */
} hps_objective_env;

typedef struct hps_trial_ctx hps_trial_ctx;

typedef struct hps_objective_ops {
    int version;                       /* HPS_OBJECTIVE_VERSION */
    const char *name;
    unsigned flags;                    /* HPS_OBJECTIVE_* */
    /* Optional. HPS_OK, or an error with a message in err[errlen]. When it fails
     * with *state set, fini(*state) is called (if there is a fini), so init may
     * set *state first and leave the freeing of a half-made state to fini. */
    int (*init)(const hps_objective_env *env, void **state, char *err, size_t errlen);
    /* Run one trial (see above). */
    int (*run)(void *state, hps_trial_ctx *ctx);
    /* Optional; NULL-safe on state. */
    void (*fini)(void *state);
} hps_objective_ops;

/* ---- the trial context ------------------------------------------------------------ */

/*
 * Parameter values by name. float parameters read as double; int parameters as
 * int64 (or double); categorical parameters as their choice's text (string), and
 * as double when the choice was written as a number; bool parameters as bool
 * (0/1). HPS_ENOENT for an unknown name, HPS_EINVAL for a type that does not
 * convert. *out is left alone on error. Strings stay valid during run().
 */
int hps_trial_param_double(const hps_trial_ctx *ctx, const char *name, double *out);
int hps_trial_param_int(const hps_trial_ctx *ctx, const char *name, int64_t *out);
int hps_trial_param_string(const hps_trial_ctx *ctx, const char *name, const char **out);
int hps_trial_param_bool(const hps_trial_ctx *ctx, const char *name, int *out);

int64_t hps_trial_id(const hps_trial_ctx *ctx);
uint64_t hps_trial_seed(const hps_trial_ctx *ctx);
/* The resource to run to (epochs, say; 0: the objective's own full budget). */
double hps_trial_budget(const hps_trial_ctx *ctx);
/* The budget a promotion continues from (its checkpoint's); 0 for a fresh start. */
double hps_trial_prev_budget(const hps_trial_ctx *ctx);
/* 1 when the trial continues from a checkpoint (prev_budget > 0). */
int hps_trial_resumed(const hps_trial_ctx *ctx);
/* The trial's own directory (trials/<id>, made on first call; keep checkpoints there),
 * or NULL when it cannot be made. */
const char *hps_trial_dir(hps_trial_ctx *ctx);

/* Which attempt at this run of the trial: 1, or 1 + the runs during which the job
 * died (a crash; see the top of this file). Load a checkpoint when > 1. */
int hps_trial_attempt(const hps_trial_ctx *ctx);

/* This rank's place in the trial group. */
int hps_trial_group_rank(const hps_trial_ctx *ctx);
int hps_trial_group_size(const hps_trial_ctx *ctx);
/* CUDA device ordinal of this rank (cudaSetDevice has been called with it before
 * init()), -1 without GPUs. Ranks of a node get distinct devices unless the
 * config says share_gpus. */
int hps_trial_device(const hps_trial_ctx *ctx);

/*
 * The group's MPI communicator, written to *(MPI_Comm *)comm_out:
 *
 *   MPI_Comm comm;
 *   if (hps_trial_mpi_comm(ctx, &comm) == HPS_OK) MPI_Allreduce(..., comm);
 *
 * It is a duplicate made for objectives (the runner's own messages travel on
 * another), with MPI_ERRORS_ARE_FATAL; its rank and size are the group rank and
 * size. MPI_COMM_SELF for a rank that runs trials alone under MPI. HPS_ENOSYS
 * when MPI is not initialised (hpsweep run without mpirun), HPS_EINVAL for NULL.
 * Valid until fini().
 */
int hps_trial_mpi_comm(const hps_trial_ctx *ctx, void *comm_out);

/*
 * The group's NCCL communicator (an ncclComm_t), or NULL: hpsweep was built
 * without CUDA and NCCL, or a rank of the group has no GPU. Made on the first
 * call, on every rank's device (collective: every rank of the group calls it at
 * the same point), kept for later trials, and made afresh after a failed trial:
 * ask for it in each run() rather than keeping it.
 */
void *hps_trial_nccl_comm(hps_trial_ctx *ctx);

/*
 * Sum count elements of type at buf over the group, in place, and return when
 * the sum is there (collective). on_device 0: buf is host memory (an MPI
 * allreduce that waits without spinning a core); 1: buf is device memory
 * (ncclAllReduce on the default stream, then a stream synchronize; HPS_ENOSYS
 * without NCCL). A group of one returns HPS_OK at once. HPS_EINVAL for a bad
 * type or NULL buf. MPI, CUDA and NCCL errors end the job (see the top of this
 * file). Averaging gradients: allreduce, then divide by hps_trial_group_size().
 */
int hps_trial_allreduce(hps_trial_ctx *ctx, void *buf, size_t count, hps_dtype type,
                        int on_device);

/*
 * The device-memory sum of hps_trial_allreduce, queued on stream (a
 * cudaStream_t; NULL: the default stream) as ncclAllReduce queues it, returning
 * at once: the sum is in buf when the stream gets there (a training step's
 * gradients, overlapped with other work on the stream). Collective. HPS_ENOSYS
 * without NCCL, HPS_OK at once for a group of one, HPS_EINVAL for a bad type or
 * NULL buf.
 */
int hps_trial_allreduce_async(hps_trial_ctx *ctx, void *buf, size_t count, hps_dtype type,
                              void *stream);

/*
 * Report intermediate values (an epoch's losses, say). Only group rank 0's reports
 * count; calls on other ranks return HPS_OK and are ignored, as is the result
 * they set with hps_trial_set_result. The sweep's metric is
 * shown to the strategy and the pruner, which may stop the trial (see
 * hps_trial_should_stop). hps_trial_report gives one value at step (resource =
 * step); hps_trial_report_many gives n values measured at the same step/resource.
 */
int hps_trial_report(hps_trial_ctx *ctx, int64_t step, const char *name, double value);
int hps_trial_report_many(hps_trial_ctx *ctx, int64_t step, double resource, int n,
                          const char *const *names, const double *values);

/* The trial's result (see the top of this file). */
int hps_trial_set_result(hps_trial_ctx *ctx, double value);

/*
 * Whether the trial should stop now: the strategy or pruner stopped it, or the
 * sweep is being interrupted. Collective when run() runs on a group of more than
 * one rank: every rank must call it at the same points and gets the same answer
 * (the leader asks the coordinator, a small allreduce shares the answer), so
 * ranks never part ways in the middle of a collective. Return from run() soon
 * after a 1; once it said 1 it keeps saying so without communicating.
 */
int hps_trial_should_stop(hps_trial_ctx *ctx);

/* Record why the trial failed (printf-style; cut to the cause's length) and return
 * HPS_EOBJECTIVE, for `return hps_trial_fail(ctx, "diverged at epoch %d", e);`. */
int hps_trial_fail(hps_trial_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
