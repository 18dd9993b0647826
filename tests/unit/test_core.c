/*
 * The core module's helpers (engine/core): the byte buffer and its failure flag,
 * the cursor that refuses to read past the end, the one growth rule, path joining
 * and mkdir -p, time formatting, and JSON values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/grow.h"
#include "core/json.h"
#include "hpsweep/error.h"

static void test_buf_and_cursor(void **state)
{
    (void)state;
    hps_buf b = {0};
    uint32_t a = 7;
    double x = -2.5;
    HPS_BUF_PUT(&b, a);
    HPS_BUF_PUT(&b, x);
    hps_buf_put(&b, "hey", 3);
    hps_buf_put(&b, NULL, 0);
    assert_int_equal(b.len, 15);
    assert_int_equal(hps_buf_status(&b), HPS_OK);
    for (int i = 0; i < 1000; i++)
        HPS_BUF_PUT(&b, x);
    assert_int_equal(b.len, 8015);

    hps_cursor c = hps_cursor_make(b.data, 15);
    uint32_t a2;
    double x2;
    const void *v;
    HPS_CURSOR_GET(&c, a2);
    HPS_CURSOR_GET(&c, x2);
    hps_cursor_view(&c, &v, 3);
    assert_int_equal(a2, 7);
    assert_true(x2 == -2.5);
    assert_memory_equal(v, "hey", 3);
    assert_int_equal(hps_cursor_finish(&c), HPS_OK);
    /* Reading past the end zero-fills, sets bad, and the finish says corrupt. */
    HPS_CURSOR_GET(&c, a2);
    assert_int_equal(a2, 0);
    hps_cursor_view(&c, &v, 1);
    assert_null(v);
    assert_int_equal(hps_cursor_finish(&c), HPS_ECORRUPT);
    /* Bytes left over are corrupt too. */
    c = hps_cursor_make(b.data, 15);
    HPS_CURSOR_GET(&c, a2);
    assert_int_equal(hps_cursor_finish(&c), HPS_ECORRUPT);

    hps_buf_reset(&b);
    assert_int_equal(b.len, 0);
    hps_buf_free(&b);
    assert_null(b.data);
    hps_buf_free(NULL);

    /* After a failed growth every append is a no-op and the status says so. */
    hps_buf f = {0};
    hps_buf_grow(&f, SIZE_MAX);
    assert_true(f.failed);
    HPS_BUF_PUT(&f, a);
    assert_int_equal(f.len, 0);
    assert_int_equal(hps_buf_status(&f), HPS_ENOMEM);
    hps_buf_reset(&f);
    assert_int_equal(hps_buf_status(&f), HPS_OK);
    hps_buf_free(&f);
}

static void test_grow(void **state)
{
    (void)state;
    assert_int_equal(hps_grow_cap(0, 1, 16), 16);
    assert_int_equal(hps_grow_cap(16, 16, 16), 16);
    assert_int_equal(hps_grow_cap(16, 17, 16), 32);
    assert_int_equal(hps_grow_cap(16, 100, 16), 128);
    assert_int_equal(hps_grow_cap(0, 5, 0), 8);
    assert_int_equal(hps_grow_cap(SIZE_MAX / 2 + 1, SIZE_MAX, 1), 0);

    size_t cap = 0;
    int *p = NULL;
    for (int i = 0; i < 1000; i++) {
        int *q = hps_grow(p, &cap, (size_t)i + 1, sizeof *q, 4);
        assert_non_null(q);
        p = q;
        p[i] = i;
    }
    assert_int_equal(cap, 1024);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(p[i], i);
    /* Growing past what size_t can hold fails and leaves the array alone. */
    assert_null(hps_grow(p, &cap, SIZE_MAX / 2, sizeof *p, 4));
    assert_int_equal(cap, 1024);
    assert_ptr_equal(hps_grow(p, &cap, 10, sizeof *p, 4), p);
    free(p);
}

static void test_fs(void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal(hps_path_join(buf, sizeof buf, "a", "b"), HPS_OK);
    assert_string_equal(buf, "a/b");
    assert_int_equal(hps_path_join(buf, sizeof buf, "abcdefgh", "ijklmnop"), HPS_EINVAL);

    char dir[64], deep[128], err[256];
    snprintf(dir, sizeof dir, "/tmp/hps-core-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(deep, sizeof deep, "%s/x/y/z", dir);
    assert_int_equal(hps_mkdir_p(deep, err, sizeof err), HPS_OK);
    assert_int_equal(hps_mkdir_p(deep, err, sizeof err), HPS_OK); /* exists: fine */
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    /* A file in the way. */
    char file[160];
    snprintf(file, sizeof file, "%s/f", dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(deep, sizeof deep, "%s/f/g", dir);
    assert_int_equal(hps_mkdir_p(deep, err, sizeof err), HPS_EIO);
    assert_non_null(strstr(err, "/f"));
    assert_int_equal(hps_mkdir_p(deep, NULL, 0), HPS_EIO);
    assert_int_equal(hps_rm_tree(dir), 0);
}

static void test_clock_formats(void **state)
{
    (void)state;
    char buf[32];
    hps_iso_time(0.0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    hps_iso_time(1700000000.9, buf, sizeof buf);
    assert_string_equal(buf, "2023-11-14T22:13:20Z");
    assert_true(hps_wall() > 1.6e9);
    hps_format_duration(59.4, buf, sizeof buf);
    assert_string_equal(buf, "00:59");
    hps_format_duration(3725, buf, sizeof buf);
    assert_string_equal(buf, "1:02:05");
    hps_format_duration(-1, buf, sizeof buf);
    assert_string_equal(buf, "--:--");
    hps_format_duration(NAN, buf, sizeof buf);
    assert_string_equal(buf, "--:--");
}

static void test_json(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hps_json_put_string(f, "a\"b\\c\n\t\x01");
    fputc(' ', f);
    hps_json_put_number(f, 0.1);
    fputc(' ', f);
    hps_json_put_number(f, INFINITY);
    hps_choice ch[2] = {{.kind = HPS_CHOICE_STRING, .text = "sgd"},
                        {.kind = HPS_CHOICE_NUMBER, .text = "0.5", .number = 0.5}};
    hps_param p[3] = {{.name = "c", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2, .choices = ch},
                      {.name = "i", .type = HPS_PARAM_INT},
                      {.name = "b", .type = HPS_PARAM_BOOL}};
    hps_space sp = {.n_params = 3, .params = p};
    fputc(' ', f);
    hps_json_put_value(f, &sp, 0, 0);
    fputc(' ', f);
    hps_json_put_value(f, &sp, 0, 1);
    fputc(' ', f);
    hps_json_put_value(f, &sp, 1, 42);
    fputc(' ', f);
    hps_json_put_value(f, &sp, 2, 1);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "\"a\\\"b\\\\c\\n\\t\\u0001\" 0.10000000000000001 null \"sgd\" 0.5 42 "
                              "true");
    free(text);
    char buf[8];
    assert_string_equal(hps_space_value_text(&sp, 0, 0, buf, sizeof buf), "sgd");
    assert_string_equal(hps_space_value_text(&sp, 1, 7, buf, sizeof buf), "7");
    assert_int_equal(hps_space_value_is_string(&sp, 0, 0), 1);
    assert_int_equal(hps_space_value_is_string(&sp, 0, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_and_cursor), cmocka_unit_test(test_grow),
        cmocka_unit_test(test_fs),             cmocka_unit_test(test_clock_formats),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
