/*
 * What the real-time transports (MPI, in-process) share: the process's clocks
 * and an idle that sleeps with backoff (see transport.h).
 */
#include "transport.h"

double hps_transport_real_monotonic(hps_transport *t)
{
    (void)t;
    return hps_monotonic();
}

double hps_transport_real_wall(hps_transport *t)
{
    (void)t;
    return hps_wall();
}

void hps_transport_backoff_idle(hps_transport *t, int busy)
{
    if (busy)
        hps_backoff_reset(&t->idle_backoff);
    else
        hps_backoff_sleep(&t->idle_backoff);
}
