/*
 * Unit tests of provenance (engine/provenance.c): the NVIDIA driver version as read
 * from /proc/driver/nvidia/version, for the open and the proprietary kernel modules'
 * lines (the open one as seen on an H200 machine), and lines without a version.
 * (hps_provenance_collect itself runs in every integration sweep; the store tests
 * check that /provenance reaches sweep.h5.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/provenance.h"

static void check(const char *line, const char *want)
{
    char out[64];
    memset(out, 'x', sizeof out);
    hps_nvidia_driver_version(line, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_driver_version(void **state)
{
    (void)state;
    check("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  "
          "(nixbld@)  \n",
          "580.159.04");
    check("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC "
          "2023\n",
          "535.104.05");
    check("NVRM version: NVIDIA UNIX Kernel Module  550.54\n", "550.54");
    /* dotted tokens that are not all digits, and bare numbers, are not versions */
    check("  NVRM version: x86_64 v2.0 build 7  \n", "NVRM version: x86_64 v2.0 build 7");
    check("\n", "none");
    check("", "none");
    /* a short buffer truncates, never overflows */
    char small[4];
    hps_nvidia_driver_version("Kernel Module 580.159.04", small, sizeof small);
    assert_string_equal(small, "580");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
