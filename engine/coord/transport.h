/*
 * How the coordinator core reaches its trial groups.
 *
 * The core (coord.h) decides what runs where: it writes TRIALS messages
 * (wire/protocol.h) into a group's buffer and sends them; the transport carries
 * them and hands back RESULTS and REPORT messages through the core's deliver
 * callback. Three transports implement this table:
 *
 *   MPI         trial-group leaders on other ranks (transport_mpi.c)
 *   in-process  no workers: the coordinator runs each trial itself through the
 *               one trial runner, synchronously inside send() (transport_inproc.c)
 *   simulated   virtual workers whose trials take simulated time; the clock jumps
 *               to the next event instead of sleeping (transport_sim.h): unit
 *               tests of the core and the scale benchmark
 *
 * The core reads time only through the transport, so a simulated sweep makes the
 * same decisions (batching, budgets, store rewrites) a real one would.
 */
#ifndef HPS_COORD_TRANSPORT_H
#define HPS_COORD_TRANSPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/trial.h"

typedef struct hps_transport hps_transport;

typedef struct hps_transport_ops {
    const char *name;
    /* The buffer for group g's next TRIALS message, or NULL while g cannot take one
     * more (its earlier sends are still in flight). */
    hps_buf *(*buffer)(hps_transport *t, int g);
    /* Send what was written into buffer(g). The in-process transport runs the
     * batch here and delivers its messages before returning. */
    int (*send)(hps_transport *t, int g);
    /* Deliver every message waiting; *got = 1 when any was. */
    int (*poll)(hps_transport *t, int *got);
    /* Ask group g to stop trial_id (the strategy or pruner said so). */
    int (*prune)(hps_transport *t, int g, int64_t trial_id);
    /* Nothing happened this round (busy 0), or something did (1): wait cheaply
     * (backoff sleep), or for the simulated transport move the clock on. */
    void (*idle)(hps_transport *t, int busy);
    /* Tell every group to stop and wait until each has left. */
    void (*stop)(hps_transport *t);
    /* Seconds for intervals, and Unix seconds for records. */
    double (*monotonic)(hps_transport *t);
    double (*wall)(hps_transport *t);
    /* Free the transport; NULL-safe through hps_transport_destroy. */
    void (*destroy)(hps_transport *t);
} hps_transport_ops;

struct hps_transport {
    const hps_transport_ops *ops;
    int n_groups;
    const int32_t *workers;     /* [n_groups]: the worker id recorded for each group (the
                                   leader's world rank; 0 in-process) */
    /* Set by the core before the first call: */
    int (*deliver)(void *core, int g, int tag, const void *msg, size_t len);
    int (*halted)(void *core);  /* non-zero: run no further trial of a batch */
    void *core;
    hps_backoff idle_backoff;   /* the real transports' idle() */
};

/* The real clocks and the backoff idle, for transports whose groups run in real
 * time (MPI, in-process). */
double hps_transport_real_monotonic(hps_transport *t);
double hps_transport_real_wall(hps_transport *t);
void hps_transport_backoff_idle(hps_transport *t, int busy);

/* Free t (any transport); NULL-safe. */
static inline void hps_transport_destroy(hps_transport *t)
{
    if (t)
        t->ops->destroy(t);
}

/* Trial groups on other MPI ranks: group g's leader is world rank leaders[g]
 * (copied). HPS_OK or HPS_ENOMEM. */
int hps_transport_mpi_create(int n_groups, const int32_t *leaders, hps_transport **out);

/* Runs one trial: the one trial runner of workers/ (in-process and simulated
 * transports call it; the MPI workers call it on their ranks). */
typedef int (*hps_trial_runner)(void *runner, const hps_trial_spec *spec,
                                const hps_trial_hooks *hooks, hps_outcome *out);

/* No workers: one group (worker id 0) whose trials run inside send() through
 * run(runner, ...), stopping between trials when the core halts or *signalled is
 * set. HPS_OK or HPS_ENOMEM. */
int hps_transport_inproc_create(hps_trial_runner run, void *runner,
                                volatile sig_atomic_t *signalled, hps_transport **out);

#endif
