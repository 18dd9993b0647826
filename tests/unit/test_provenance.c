/*
 * Unit tests of provenance (engine/cli/provenance.c, prov_*.c, store/prov.c): the
 * NVIDIA driver version as read from /proc/driver/nvidia/version, for the open
 * and the proprietary kernel modules' lines (the open one as seen on an H200
 * machine), and lines without a version; gathered host facts merged into one
 * host per name with every rank it held; SHA-256 of files against known digests;
 * the environment allow-list (a secret is never recorded); what hps_prov_diff
 * reports and leaves out; this host's facts saying explicitly what does not
 * exist. (test_provenance.sh checks a whole run's /provenance in sweep.h5.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/provenance.h"
#include "hpsweep/error.h"

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

/* Three ranks on two hosts: one host each, their ranks joined, the full facts of
 * the rank that gave them; "hosts" names both in rank order. */
static void test_hosts_merge(void **state)
{
    (void)state;
    const char *texts = "host=n1\nrank=0\nos=Debian\ngpus=none\n\n"
                        "host=n2\nrank=1\nos=Rocky=9\ngpus=NVIDIA H200 (0000:00:06.0)\n\n"
                        "host=n1\nrank=2\n\n";
    hps_prov p = {0};
    assert_int_equal(hps_prov_add_hosts(&p, texts), HPS_OK);
    assert_int_equal(hps_prov_count(&p, HPS_PROV_HOST), 2);
    assert_string_equal(hps_prov_get(&p, HPS_PROV_HOST, 0, "ranks"), "0,2");
    assert_string_equal(hps_prov_get(&p, HPS_PROV_HOST, 1, "ranks"), "1");
    assert_string_equal(hps_prov_get(&p, HPS_PROV_HOST, 1, "os"), "Rocky=9");
    assert_string_equal(hps_prov_get(&p, HPS_PROV_HOST, 1, "gpus"), "NVIDIA H200 (0000:00:06.0)");
    assert_null(hps_prov_get(&p, HPS_PROV_HOST, 0, "rank"));
    assert_string_equal(hps_prov_get(&p, HPS_PROV_RUN, 0, "hosts"), "n1,n2");
    assert_int_equal(hps_prov_find(&p, HPS_PROV_HOST, "n2"), 1);
    hps_prov_free(&p);
}

static void test_sha256(void **state)
{
    (void)state;
    char path[] = "/tmp/hps-sha-XXXXXX", hex[65];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    long long bytes = -1;
    assert_int_equal(hps_sha256_file(path, hex, &bytes), HPS_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(bytes, 3);
    unlink(path);
    assert_int_equal(hps_sha256_file(path, hex, &bytes), HPS_ENOENT);
    assert_non_null(strstr(hex, "unreadable"));
}

/* Only allow-listed names are recorded, however secret-looking the others. */
static void test_env_allow_list(void **state)
{
    (void)state;
    setenv("SLURM_JOB_ID", "77", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t", 1);
    setenv("SLURM_JOB_PASSWORDISH", "x", 1);
    hps_prov p = {0};
    assert_int_equal(hps_prov_add_env(&p), HPS_OK);
    assert_string_equal(hps_prov_get(&p, HPS_PROV_RUN, 0, "env.SLURM_JOB_ID"), "77");
    for (int i = 0; i < p.n; i++) {
        assert_null(strstr(p.e[i].value, "s3cr3t"));
        assert_int_equal(strncmp(p.e[i].key, "env.", 4), 0);
        int allowed = 0;
        for (int k = 0; hps_prov_env_allowed[k]; k++)
            allowed |= strcmp(p.e[i].key + 4, hps_prov_env_allowed[k]) == 0;
        assert_true(allowed);
    }
    assert_null(hps_prov_get(&p, HPS_PROV_RUN, 0, "env.SLURM_JOB_PASSWORDISH"));
    hps_prov_free(&p);
    unsetenv("SLURM_JOB_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("SLURM_JOB_PASSWORDISH");
}

typedef struct seen {
    char what[8][128];
    int n;
} seen;

static void note(void *ctx, const char *what, const char *a, const char *b)
{
    seen *s = ctx;
    (void)a;
    (void)b;
    if (s->n < 8)
        snprintf(s->what[s->n++], sizeof s->what[0], "%s", what);
}

/* Run facts by key (times and the command line left out), hosts by name, files
 * by path. */
static void test_diff(void **state)
{
    (void)state;
    hps_prov a = {0}, b = {0};
    hps_prov_add(&a, HPS_PROV_RUN, 0, "start_time", "t0");
    hps_prov_add(&b, HPS_PROV_RUN, 0, "start_time", "t1");
    hps_prov_add(&a, HPS_PROV_RUN, 0, "command_line", "x");
    hps_prov_add(&a, HPS_PROV_RUN, 0, "ranks", "3");
    hps_prov_add(&b, HPS_PROV_RUN, 0, "ranks", "2");
    hps_prov_add(&a, HPS_PROV_HOST, 0, "host", "n1");
    hps_prov_add(&a, HPS_PROV_HOST, 0, "gpus", "A");
    hps_prov_add(&b, HPS_PROV_HOST, 0, "host", "n0");
    hps_prov_add(&b, HPS_PROV_HOST, 1, "host", "n1");
    hps_prov_add(&b, HPS_PROV_HOST, 1, "gpus", "B");
    hps_prov_add(&a, HPS_PROV_FILE, 0, "path", "/d");
    hps_prov_add(&a, HPS_PROV_FILE, 0, "sha256", "aa");
    hps_prov_add(&b, HPS_PROV_FILE, 0, "path", "/d");
    hps_prov_add(&b, HPS_PROV_FILE, 0, "sha256", "bb");
    seen s = {.n = 0};
    assert_int_equal(hps_prov_diff(&a, &b, note, &s), 4);
    assert_string_equal(s.what[0], "ranks");
    assert_string_equal(s.what[1], "host n1: gpus");
    assert_string_equal(s.what[2], "host n0");
    assert_string_equal(s.what[3], "file /d");
    seen none = {.n = 0};
    assert_int_equal(hps_prov_diff(&a, &a, note, &none), 0);
    hps_prov_free(&a);
    hps_prov_free(&b);
}

/* This host's facts: every key there, and what does not exist here said so. */
static void test_host_facts(void **state)
{
    (void)state;
    char *t = hps_prov_host_facts("here", 5, 1, NULL);
    assert_non_null(t);
    hps_prov p = {0};
    assert_int_equal(hps_prov_add_hosts(&p, t), HPS_OK);
    for (int k = 0; hps_prov_host_keys[k]; k++) {
        const char *v = hps_prov_get(&p, HPS_PROV_HOST, 0, hps_prov_host_keys[k]);
        if (!v)
            fail_msg("host fact %s missing", hps_prov_host_keys[k]);
        assert_true(v[0] != '\0');
    }
    assert_string_equal(hps_prov_get(&p, HPS_PROV_HOST, 0, "ranks"), "5");
    /* no spawner: the GPU probe did not run, and the facts say so */
    assert_non_null(strstr(hps_prov_get(&p, HPS_PROV_HOST, 0, "cuda_runtime"), "did not run"));
    if (access("/proc/driver/nvidia/gpus", F_OK) != 0)
        assert_string_equal(hps_prov_get(&p, HPS_PROV_HOST, 0, "gpus"), "none");
    free(t);
    hps_prov_free(&p);
    char *name_only = hps_prov_host_facts("here", 6, 0, NULL);
    assert_string_equal(name_only, "host=here\nrank=6\n\n");
    free(name_only);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_version), cmocka_unit_test(test_hosts_merge),
        cmocka_unit_test(test_sha256),         cmocka_unit_test(test_env_allow_list),
        cmocka_unit_test(test_diff),           cmocka_unit_test(test_host_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
