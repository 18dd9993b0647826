/*
 * The trial loop on a chosen backend. hps_train_run (trainer.h) picks the
 * backend for params->device and runs hps_train_run_ops; tests run the loop
 * directly on other tables -- e.g. the CPU kernels behind a table that says
 * its memory is device memory, which takes the loop's device path (staging,
 * host mirrors of the state, the device allreduce) on a machine without a GPU.
 */
#ifndef HPS_TRAINER_TRAIN_H
#define HPS_TRAINER_TRAIN_H

#include <stddef.h>

#include "ops.h"
#include "trainer.h"

/*
 * The backend for device: the CPU's for -1, the CUDA one for >= 0 in builds
 * with CUDA. NULL in a build without CUDA, with the reason in err.
 */
const hps_train_ops *hps_train_backend(int device, char *err, size_t errlen);

/* hps_train_run on ops (trainer.h has the contract). */
int hps_train_run_ops(const hps_train_ops *ops, const hps_train_params *params,
                      const char *dataset_path, const hps_train_comm *comm,
                      const hps_train_hooks *hooks, const char *checkpoint_path,
                      hps_train_result *result, char *err, size_t errlen);

#endif
