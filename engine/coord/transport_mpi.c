/*
 * The MPI transport: trial-group leaders on other ranks of MPI_COMM_WORLD
 * (wire/protocol.h). Each group has two send buffers, so a second batch can be in
 * flight while the first runs; a buffer is reused once its MPI_Isend completed.
 * Receiving takes every waiting message in arrival order, any tag (MPI keeps one
 * sender's order only within one receive stream, and a trial's reports must come
 * before its result).
 *
 * The idle wait never spins, but it is not blind either: each group's batches take
 * about as long as its last ones (an average of send -> RESULTS times), so when a
 * result is due within DUE_BEFORE the wait sleeps FINE_NS at a time (after the
 * backoff's shorter first sleeps) until it comes or is DUE_AFTER late, and only
 * otherwise backs off to 1 ms. Batches under MIN_FORECAST are not forecast. A 1 ms sleep alone
 * added about 1-2 ms to every dispatch: 1% of a 0.2 s trial (bench/bookkeeping.sh).
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "hpsweep/error.h"
#include "transport.h"
#include "wire/mpi.h"
#include "wire/protocol.h"

#define DUE_BEFORE 0.0005 /* s before a result is due: start polling finely */
#define DUE_AFTER 0.002   /* s after: give up on the forecast, back off again */
#define FINE_NS 50000L    /* the fine poll's sleep */
#define MIN_FORECAST 0.02 /* s: shorter batches go two deep (coord.c), nothing to wait for */

typedef struct mpi_group {
    hps_buf send[2];
    MPI_Request req[2];
    int slot;              /* the buffer the next batch goes into */
    double sent_at[2];     /* monotonic send times of the batches out, oldest first */
    int out;               /* batches sent and not yet answered (0..2) */
    double batch_secs;     /* average send -> RESULTS time; 0: none seen yet */
} mpi_group;

typedef struct mpi_transport {
    hps_transport base;
    int32_t *leaders;
    mpi_group *g;
    unsigned char *buf;    /* receive buffer */
    size_t cap;
} mpi_transport;

static int group_of(const mpi_transport *m, int rank)
{
    for (int g = 0; g < m->base.n_groups; g++)
        if (m->leaders[g] == rank)
            return g;
    return -1;
}

static hps_buf *mpi_buffer(hps_transport *t, int g)
{
    mpi_transport *m = (mpi_transport *)t;
    mpi_group *gr = &m->g[g];
    if (gr->req[gr->slot] != MPI_REQUEST_NULL) {
        int done = 0;
        mpiCheck(MPI_Test(&gr->req[gr->slot], &done, MPI_STATUS_IGNORE));
        if (!done)
            return NULL;
    }
    return &gr->send[gr->slot];
}

static int mpi_send(hps_transport *t, int g)
{
    mpi_transport *m = (mpi_transport *)t;
    mpi_group *gr = &m->g[g];
    hps_buf *b = &gr->send[gr->slot];
    mpiCheck(MPI_Isend(b->data, (int)b->len, MPI_BYTE, m->leaders[g], HPS_TAG_TRIALS,
                       MPI_COMM_WORLD, &gr->req[gr->slot]));
    gr->slot = 1 - gr->slot;
    if (gr->out < 2)
        gr->sent_at[gr->out++] = hps_monotonic();
    return HPS_OK;
}

/* A RESULTS message from group g answered its oldest batch out. */
static void batch_answered(mpi_group *gr)
{
    if (gr->out == 0)
        return;
    double took = hps_monotonic() - gr->sent_at[0];
    gr->batch_secs = gr->batch_secs > 0 ? 0.7 * gr->batch_secs + 0.3 * took : took;
    gr->sent_at[0] = gr->sent_at[1];
    gr->out--;
}

static int mpi_poll(hps_transport *t, int *got)
{
    mpi_transport *m = (mpi_transport *)t;
    /* Bounded, so a flood of reports cannot starve dispatching. */
    for (int k = 0; k < 16 * t->n_groups + 1; k++) {
        int flag = 0;
        MPI_Status st;
        mpiCheck(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st));
        if (!flag)
            return HPS_OK;
        int n;
        hps_mpi_recv(&st, MPI_COMM_WORLD, &m->buf, &m->cap, &n);
        *got = 1;
        int g = group_of(m, st.MPI_SOURCE);
        if (g >= 0 && st.MPI_TAG == HPS_TAG_RESULTS)
            batch_answered(&m->g[g]);
        int rc = t->deliver(t->core, g, st.MPI_TAG, m->buf, (size_t)n);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

static int mpi_prune(hps_transport *t, int g, int64_t trial_id)
{
    mpi_transport *m = (mpi_transport *)t;
    mpiCheck(MPI_Send(&trial_id, (int)sizeof trial_id, MPI_BYTE, m->leaders[g], HPS_TAG_PRUNE,
                      MPI_COMM_WORLD));
    return HPS_OK;
}

/* Nothing came: sleep finely while some group's result is due (between DUE_BEFORE
 * ahead of its forecast and DUE_AFTER past it), never past the start of the next
 * such window, and otherwise with the usual backoff. */
static void mpi_idle(hps_transport *t, int busy)
{
    mpi_transport *m = (mpi_transport *)t;
    if (busy) {
        hps_backoff_reset(&t->idle_backoff);
        return;
    }
    double now = hps_monotonic(), next = INFINITY;
    for (int g = 0; g < t->n_groups; g++) {
        const mpi_group *gr = &m->g[g];
        if (gr->out == 0 || gr->batch_secs < MIN_FORECAST)
            continue;
        double due = gr->sent_at[0] + gr->batch_secs;
        if (now > due + DUE_AFTER)
            continue; /* late: no forecast */
        if (due - DUE_BEFORE < next)
            next = due - DUE_BEFORE;
    }
    double ahead = next - now; /* until the next window opens; <= 0: inside one */
    long cap = t->idle_backoff.ns ? t->idle_backoff.ns : 20000; /* the backoff's next sleep */
    if (ahead * 1e9 < (double)cap && cap >= FINE_NS) {
        /* until the window opens, then fine polls (the backoff's first, shorter sleeps
         * come first: its 20 and 40 us) */
        long ns = ahead > 0 ? (long)(ahead * 1e9) : 0;
        struct timespec ts = {0, ns > FINE_NS ? ns : FINE_NS};
        nanosleep(&ts, NULL);
        return;
    }
    hps_backoff_sleep(&t->idle_backoff);
}

/* Tell every leader to stop and drain what they still send until each says BYE. */
static void mpi_stop(hps_transport *t)
{
    mpi_transport *m = (mpi_transport *)t;
    for (int g = 0; g < t->n_groups; g++)
        mpiCheck(MPI_Send(NULL, 0, MPI_BYTE, m->leaders[g], HPS_TAG_STOP, MPI_COMM_WORLD));
    int byes = 0;
    hps_backoff bo;
    hps_backoff_reset(&bo);
    while (byes < t->n_groups) {
        int flag = 0;
        MPI_Status st;
        mpiCheck(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st));
        if (!flag) {
            hps_backoff_sleep(&bo);
            continue;
        }
        hps_backoff_reset(&bo);
        int n;
        hps_mpi_recv(&st, MPI_COMM_WORLD, &m->buf, &m->cap, &n);
        if (st.MPI_TAG == HPS_TAG_BYE)
            byes++;
    }
    for (int g = 0; g < t->n_groups; g++)
        for (int k = 0; k < 2; k++)
            if (m->g[g].req[k] != MPI_REQUEST_NULL)
                mpiCheck(MPI_Wait(&m->g[g].req[k], MPI_STATUS_IGNORE));
}

static void mpi_destroy(hps_transport *t)
{
    mpi_transport *m = (mpi_transport *)t;
    for (int g = 0; m->g && g < t->n_groups; g++)
        for (int k = 0; k < 2; k++)
            hps_buf_free(&m->g[g].send[k]);
    free(m->g);
    free(m->leaders);
    free(m->buf);
    free(m);
}

static const hps_transport_ops mpi_ops = {
    .name = "mpi", .buffer = mpi_buffer, .send = mpi_send, .poll = mpi_poll,
    .prune = mpi_prune, .idle = mpi_idle, .stop = mpi_stop, .monotonic = hps_transport_real_monotonic,
    .wall = hps_transport_real_wall, .destroy = mpi_destroy,
};

int hps_transport_mpi_create(int n_groups, const int32_t *leaders, hps_transport **out)
{
    *out = NULL;
    mpi_transport *m = calloc(1, sizeof *m);
    size_t n = (size_t)(n_groups > 0 ? n_groups : 1);
    if (!m)
        return HPS_ENOMEM;
    m->base.ops = &mpi_ops;
    m->base.n_groups = n_groups;
    m->leaders = malloc(n * sizeof *m->leaders);
    m->g = calloc(n, sizeof *m->g);
    if (!m->leaders || !m->g) {
        mpi_destroy(&m->base);
        return HPS_ENOMEM;
    }
    for (int g = 0; g < n_groups; g++) {
        m->leaders[g] = leaders[g];
        m->g[g].req[0] = m->g[g].req[1] = MPI_REQUEST_NULL;
    }
    m->base.workers = m->leaders;
    *out = &m->base;
    return HPS_OK;
}
