/*
 * Unit tests for the GPU module's loader (workers/trainer/gpu.c) and the module
 * itself (hpsweep-gpu.so, workers/gpu/module.c): in a build with the GPU path,
 * the module ctest names in HPS_GPU_MODULE loads and resolves its table -- on a
 * machine with the CUDA libraries installed, GPU or not, since loading creates
 * no CUDA context -- of this build's version, every entry set, the trainer's
 * CUDA backend in it, the same table on a second call; a direct dlopen of the
 * file exports the table and nothing of the CUDA runtime (linked statically,
 * kept hidden). In a CPU-only build the loader says the build has no CUDA.
 * (That the program links no CUDA library and that a missing module is a clean
 * error naming the path is tests/integration/test_gpu_module.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "trainer/gpu.h"
#include "gpu_fixture.h"
#include "trainer/ops.h"

static void test_load(void **state)
{
    (void)state;
    char err[2048] = "";
    const hps_gpu_ops *gpu = hps_gpu_load(err, sizeof err);
#if HPS_HAVE_CUDA
    assert_int_equal(hps_gpu_built(), 1);
    if (!gpu)
        fail_msg("%s", err);
    assert_int_equal(gpu->version, HPS_GPU_OPS_VERSION);
    assert_string_equal(gpu->name, "cuda");
    assert_non_null(gpu->set_device);
    assert_non_null(gpu->nccl_unique_id);
    assert_non_null(gpu->nccl_init);
    assert_non_null(gpu->nccl_allreduce);
    assert_non_null(gpu->nccl_abort);
    assert_non_null(gpu->nccl_destroy);
    assert_int_equal(gpu->nccl_id_bytes, 128); /* NCCL_UNIQUE_ID_BYTES in every NCCL 2 */
    assert_non_null(gpu->train);
    assert_int_equal(gpu->train->version, HPS_TRAIN_OPS_VERSION);
    assert_string_equal(gpu->train->name, "cuda");
    assert_int_equal(gpu->train->host_memory, 0);
    assert_ptr_equal(hps_gpu_load(NULL, 0), gpu);
#else
    assert_int_equal(hps_gpu_built(), 0);
    assert_null(gpu);
    assert_non_null(strstr(err, "this build of hpsweep has no CUDA"));
#endif
}

static void test_module_exports(void **state)
{
    (void)state;
#if HPS_HAVE_CUDA
    const char *path = getenv(HPS_GPU_MODULE_ENV);
    if (!path || !*path)
        fail_msg("%s is not set (ctest sets it to the built module)", HPS_GPU_MODULE_ENV);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fail_msg("dlopen %s: %s", path, dlerror());
    assert_non_null(dlsym(h, HPS_GPU_MODULE_SYMBOL));
    /* Hidden: the static runtime, the backend's own table and the NCCL wrappers. */
    assert_null(dlsym(h, "hps_train_ops_cuda"));
    assert_null(dlsym(h, "cudaSetDevice"));
    assert_null(dlsym(h, "hps_cuda_gemm"));
    dlclose(h);
#else
    skip();
#endif
}

int main(void)
{
    use_build_gpu_module();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_module_exports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
