/*
 * Every committed fuzz input (tests/fuzz/corpus/<harness>/: seeds and inputs
 * worth keeping; tests/fuzz/regressions/<harness>/: each input that once crashed
 * a harness) replayed through the harnesses' own entry points, in the ordinary
 * build and, in CI, under ASan and UBSan: a crash found by fuzzing stays fixed.
 */
#define _GNU_SOURCE /* memfd_create, in fuzz_common.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../fuzz/fuzz.h"
#include "../fuzz/fuzz_common.c"
#include "../fuzz/fuzz_config.c"
#include "../fuzz/fuzz_journal.c"
#include "../fuzz/fuzz_report_line.c"
#include "../fuzz/fuzz_results.c"
#include "../fuzz/fuzz_results_resealed.c"

/* Run every file in dir through fn; returns how many. */
static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        struct stat st;
        assert_int_equal(fstat(fileno(f), &st), 0);
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
        fclose(f);
        assert_int_equal(fn(buf, (size_t)st.st_size), 0);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void replay_harness(const char *harness, int (*fn)(const uint8_t *, size_t), int min_seeds)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", HPS_TEST_DATA_DIR, harness);
    int seeds = replay_dir(dir, fn);
    snprintf(dir, sizeof dir, "%s/fuzz/regressions/%s", HPS_TEST_DATA_DIR, harness);
    int regressions = replay_dir(dir, fn);
    print_message("%s: %d corpus inputs, %d regressions\n", harness, seeds, regressions);
    assert_true(seeds >= min_seeds);
}

static void test_config(void **state)
{
    (void)state;
    replay_harness("config", hps_fuzz_config, 3);
}

static void test_journal(void **state)
{
    (void)state;
    replay_harness("journal", hps_fuzz_journal, 6);
}

static void test_report_line(void **state)
{
    (void)state;
    replay_harness("report_line", hps_fuzz_report_line, 3);
}

static void test_results(void **state)
{
    (void)state;
    replay_harness("results", hps_fuzz_results, 3);
    replay_harness("results_resealed", hps_fuzz_results_resealed, 0);
}

int main(void)
{
    hps_store_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_report_line),
        cmocka_unit_test(test_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
