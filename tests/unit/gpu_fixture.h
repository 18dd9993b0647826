/*
 * What the tests that load the GPU module share (test_gpu_module.c, test_train.c,
 * test_mlp_optim.c). Included after trainer/gpu.h.
 */
#ifndef HPS_TESTS_GPU_FIXTURE_H
#define HPS_TESTS_GPU_FIXTURE_H

#include <stdlib.h>

/* Run by hand, outside ctest (which sets HPS_GPU_MODULE): the GPU module of this
 * build tree. */
static inline void use_build_gpu_module(void)
{
#if HPS_HAVE_CUDA
    setenv(HPS_GPU_MODULE_ENV, HPS_TEST_BUILD_DIR "/" HPS_GPU_MODULE_FILE, 0);
#endif
}

#endif
