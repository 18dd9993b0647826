/*
 * The group collectives of group.h.
 */
#include "group.h"

#include <stdio.h>

#include "hpsweep/error.h"

void hps_pack_u64(float *out, uint64_t v)
{
    for (int k = 0; k < HPS_PACK_U64; k++)
        out[k] = (float)((v >> (12 * k)) & 0xFFF);
}

uint64_t hps_unpack_u64(const float *in)
{
    uint64_t v = 0;
    for (int k = 0; k < HPS_PACK_U64; k++)
        v += (uint64_t)in[k] << (12 * k);
    return v;
}

void hps_pack_sum(float *out, double v)
{
    float hi = (float)v;
    out[0] = hi;
    out[1] = (float)(v - (double)hi);
}

double hps_unpack_sum(const float *in)
{
    return (double)in[0] + (double)in[1];
}

/* A callback's non-zero answer as an HPS_E* code, with the message. */
static int callback_failed(const hps_train_comm *comm, const char *what, size_t n, int rc,
                           char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s of %zu floats failed on rank %d of %d (%d)", what, n,
                 comm->rank, comm->size, rc);
    return rc < 0 && rc > HPS_ERRNO_BASE_ && rc < HPS_ERRNO_END_ ? rc : HPS_EIO;
}

int hps_group_allreduce(const hps_train_comm *comm, float *buf, size_t n, char *err,
                        size_t errlen)
{
    if (comm->size <= 1)
        return HPS_OK;
    int rc = comm->allreduce(comm->ctx, buf, n);
    return rc == 0 ? HPS_OK : callback_failed(comm, "allreduce", n, rc, err, errlen);
}

int hps_group_allreduce_device(const hps_train_comm *comm, float *buf, size_t n, void *stream,
                               char *err, size_t errlen)
{
    if (comm->size <= 1)
        return HPS_OK;
    int rc = comm->allreduce_device(comm->ctx, buf, n, stream);
    return rc == 0 ? HPS_OK : callback_failed(comm, "device allreduce", n, rc, err, errlen);
}

int hps_group_sync(const hps_train_comm *comm, float *buf, size_t n_payload, int local_rc,
                   char *err, size_t errlen)
{
    if (comm->size <= 1)
        return local_rc;
    float *slots = buf + n_payload;
    for (int r = 0; r < comm->size; r++)
        slots[r] = 0.0f;
    slots[comm->rank] = (float)local_rc;
    int rc = hps_group_allreduce(comm, buf, n_payload + (size_t)comm->size,
                                 local_rc == HPS_OK ? err : NULL, errlen);
    if (local_rc != HPS_OK)
        return local_rc;
    if (rc != HPS_OK)
        return rc;
    for (int r = 0; r < comm->size; r++)
        if (slots[r] != 0.0f) {
            int code = (int)slots[r];
            if (err && errlen)
                snprintf(err, errlen, "rank %d of %d failed (error %d); its own message says why",
                         r, comm->size, code);
            return code < 0 ? code : HPS_EIO;
        }
    return HPS_OK;
}
