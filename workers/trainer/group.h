/*
 * Collectives over the caller's allreduce callback, the only channel the trainer
 * has between the ranks of a trial group:
 *   - hps_group_sync: one allreduce of a payload followed by one error slot per
 *     rank, so a rank that failed locally (an unreadable block, a bad value, a
 *     checkpoint it could not write) still takes part and every rank leaves the
 *     same collective knowing who failed -- no rank is left waiting in the next
 *     allreduce;
 *   - exact packing of integers (12-bit chunks, exact for sums over up to 4096
 *     ranks) and of doubles (as their 64 bits, for a broadcast from rank 0,
 *     where the other ranks contribute zeros), and a hi + lo float split for
 *     sums of doubles: exact to ~2^-48 for a group of one, to float precision
 *     (~6e-8 relative) of the total across ranks -- enough for metrics.
 * The callbacks must leave the identical sum on every rank (MPI_Allreduce and
 * NCCL do), which keeps the ranks' weights identical. The gradient of a trial on
 * a GPU is summed on the device (hps_group_allreduce_device); every collective
 * here stays on the host.
 */
#ifndef HPS_TRAINER_GROUP_H
#define HPS_TRAINER_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "trainer.h"

#define HPS_PACK_U64 6 /* floats per packed integer */
#define HPS_PACK_SUM 2 /* floats per double sum */

void hps_pack_u64(float *out, uint64_t v);
uint64_t hps_unpack_u64(const float *in);
static inline void hps_pack_double_bits(float *out, double v)
{
    union { double d; uint64_t u; } x = {.d = v};
    hps_pack_u64(out, x.u);
}
static inline double hps_unpack_double_bits(const float *in)
{
    union { double d; uint64_t u; } x = {.u = hps_unpack_u64(in)};
    return x.d;
}
void hps_pack_sum(float *out, double v);
double hps_unpack_sum(const float *in);

/*
 * Sum buf[0 .. n_payload) over the group together with an error slot per rank
 * (buf must hold n_payload + comm->size floats). local_rc: this rank's status
 * (HPS_OK or an HPS_E* code whose message is already in err). Returns HPS_OK
 * when every rank is fine; local_rc when this rank failed (err untouched); the
 * first failed rank's code with "rank R of G failed (code)" in err otherwise;
 * or the allreduce's own failure. A group of one skips the callback.
 */
int hps_group_sync(const hps_train_comm *comm, float *buf, size_t n_payload, int local_rc,
                   char *err, size_t errlen);

/*
 * A plain allreduce of n floats (a broadcast when the other ranks pass zeros).
 * Returns HPS_OK or the callback's failure with a message.
 */
int hps_group_allreduce(const hps_train_comm *comm, float *buf, size_t n, char *err,
                        size_t errlen);

/*
 * The sum of n floats of device memory in place through comm->allreduce_device,
 * queued on stream (a cudaStream_t). Returns HPS_OK or the callback's failure
 * with a message. A group of one skips the callback.
 */
int hps_group_allreduce_device(const hps_train_comm *comm, float *buf, size_t n, void *stream,
                               char *err, size_t errlen);

#endif
