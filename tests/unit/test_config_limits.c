/*
 * The config loader's limits (engine/config/config_load.c, config_space.c,
 * yaml_util.c): what is not a regular file is refused at once (a symlink to
 * /dev/zero was read at 0.9 GB/s without end), so is a file over 16 MiB; nesting
 * deeper than 64 levels is refused while parsing, with its position; duplicate
 * choices and keys among 100,000 are found in linear time (pairwise took 95 s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "config/config.h"
#include "hpsweep/error.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hps-cfglim-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hps_rm_tree(dir) == 0 ? 0 : -1;
}

static void expect_load(const char *path, int want, const char *msg)
{
    hps_config c;
    char err[512] = "";
    int rc = hps_config_load(path, &c, err, sizeof err);
    if (rc != want || !strstr(err, msg))
        fail_msg("%s: %s (%s), expected %s with '%s'", path, hps_err_name(rc), err,
                 hps_err_name(want), msg);
    hps_config_free(&c);
}

static void test_not_regular_files(void **state)
{
    (void)state;
    char p[128];
    expect_load(dir, HPS_ECONFIG, "not a regular file (a directory)");
    snprintf(p, sizeof p, "%s/zero.yaml", dir);
    assert_int_equal(symlink("/dev/zero", p), 0);
    expect_load(p, HPS_ECONFIG, "not a regular file (a device)");
    snprintf(p, sizeof p, "%s/fifo.yaml", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    expect_load(p, HPS_ECONFIG, "not a regular file (a pipe)"); /* and it did not block */
}

static void test_size_cap(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/big.yaml", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs("# a comment that goes on\n", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(truncate(p, HPS_CONFIG_MAX_BYTES + 1), 0);
    expect_load(p, HPS_ECONFIG, "a config may be at most 16 MiB");
}

/* YAML text of depth levels of flow sequences around a scalar. */
static char *nested(int depth)
{
    size_t len = 64 + 2 * (size_t)depth;
    char *s = malloc(len);
    assert_non_null(s);
    size_t n = (size_t)snprintf(s, len, "objective: {function: noop}\nx: ");
    for (int i = 0; i < depth; i++)
        s[n++] = '[';
    s[n++] = '1';
    for (int i = 0; i < depth; i++)
        s[n++] = ']';
    s[n] = '\0';
    return s;
}

static void test_nesting_limit(void **state)
{
    (void)state;
    hps_config c;
    char err[512];
    /* 63 levels under the root mapping: parsed (and then refused for its key). */
    char *ok = nested(HPS_CONFIG_MAX_DEPTH - 1);
    assert_int_equal(hps_config_parse(ok, strlen(ok), "n.yaml", &c, err, sizeof err), HPS_ECONFIG);
    assert_null(strstr(err, "nesting"));
    hps_config_free(&c);
    free(ok);
    int depths[] = {HPS_CONFIG_MAX_DEPTH, 60000};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        char *deep = nested(depths[i]);
        assert_int_equal(hps_config_parse(deep, strlen(deep), "n.yaml", &c, err, sizeof err),
                         HPS_ECONFIG);
        /* The root mapping is level 1; the 64th '[' is level 65, at column 67. */
        assert_string_equal(err, "n.yaml:2:67: nesting deeper than 64 levels; a sweep config "
                                 "needs a few");
        hps_config_free(&c);
        free(deep);
    }
}

/* 100,000 choices, the last a repeat of the first: found, with both positions. */
static void test_many_choices_linear(void **state)
{
    (void)state;
    const int n = 100000;
    size_t cap = (size_t)n * 24 + 256;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t len = (size_t)snprintf(s, cap, "objective: {function: noop}\nspace:\n  c:\n"
                                          "    type: categorical\n    choices:\n");
    for (int k = 0; k < n - 1; k++)
        len += (size_t)snprintf(s + len, cap - len, "      - c%d\n", k);
    len += (size_t)snprintf(s + len, cap - len, "      - c0\n");
    hps_config c;
    char err[512];
    assert_int_equal(hps_config_parse(s, len, "c.yaml", &c, err, sizeof err), HPS_ECONFIG);
    char want[160];
    snprintf(want, sizeof want, "c.yaml:%d:9: space.c.choices: duplicate choice 'c0' (first at "
                                "line 6, column 9)", n + 5);
    assert_string_equal(err, want);
    hps_config_free(&c);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_regular_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_many_choices_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
