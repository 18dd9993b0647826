/*
 * The simulated transport: virtual trial groups whose trials take simulated time.
 *
 * Each trial is run at once, when its batch is sent, through a real trial runner
 * (its outcome and reports are real: a test function, or a test's scripted
 * outcome); what is simulated is how long it takes: duration() seconds on its
 * group, with its reports spread evenly over them. A group runs its batches one
 * after another and answers each with one RESULTS message at the batch's end,
 * like an MPI leader. The clock stands still while the coordinator works and jumps
 * to the next event when it idles — or, with a charge, also moves by the real time
 * the coordinator spends, so its own costs (suggest, observe, journal fsync, HDF5
 * rewrites) show up as idle workers; what the transport itself does (running the
 * virtual trials, its event heap) is never charged. Pruning ends a trial at the
 * current time. No MPI, no sleeping: 10,000 groups run on one core.
 */
#ifndef HPS_COORD_TRANSPORT_SIM_H
#define HPS_COORD_TRANSPORT_SIM_H

#include <stdint.h>

#include "transport.h"

/* What real time the simulated clock is charged with. */
enum {
    HPS_SIM_CHARGE_NONE = 0, /* none: the clock moves only to the next event */
    HPS_SIM_CHARGE_WALL = 1, /* the coordinator's wall-clock time */
    HPS_SIM_CHARGE_OWN = 2   /* its own time (hps_own_seconds: CPU and I/O waits, not the
                                time other processes held the CPU): for a shared machine */
};

typedef struct hps_sim_opts {
    int n_groups;
    hps_trial_runner run;      /* computes a trial's outcome and reports */
    void *runner;
    /* Simulated seconds trial spec takes on group g (>= 0). */
    double (*duration)(void *ctx, int g, const hps_trial_spec *spec);
    void *ctx;
    double start_wall;         /* simulated Unix time at 0 (0: 1.7e9) */
    int charge;                /* HPS_SIM_CHARGE_* */
} hps_sim_opts;

/* What a simulated run did, for benchmarks. */
typedef struct hps_sim_stats {
    double now;                /* simulated seconds since the start */
    double busy;               /* group-seconds spent running trials */
    int64_t trials;            /* trials run (a pruned one counts) */
    int64_t batches;           /* TRIALS messages sent */
    int64_t pruned;            /* trials cut short by prune() */
    double last_send;          /* simulated seconds at the last batch sent */
    double idle;               /* group-seconds a group had nothing to run, up to last_send
                                  (from the start, or the end of its last batch, to its
                                  next batch, or to last_send): idle while work remained */
    double charged;            /* real seconds charged to the clock (the coordinator's) */
} hps_sim_stats;

/* HPS_OK or HPS_ENOMEM / HPS_EINVAL (n_groups < 1, no runner or duration). */
int hps_transport_sim_create(const hps_sim_opts *o, hps_transport **out);

/* The simulation's figures so far (t must be a simulated transport). */
void hps_transport_sim_stats(hps_transport *t, hps_sim_stats *out);

#endif
