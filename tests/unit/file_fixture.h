/*
 * Whole-file helpers the unit tests share: read a file, replace it, flip a byte
 * of it in place. Each checks every call with cmocka's asserts, so it is included
 * after cmocka.h (journal_fixture.h includes it for the journal's tests; the
 * tests of sweep.h5 damage include it directly).
 */
#ifndef HPS_TESTS_FILE_FIXTURE_H
#define HPS_TESTS_FILE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The whole of path, in a buffer of *size + 1 bytes the caller frees. */
static inline unsigned char *slurp(const char *path, size_t *size)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    *size = (size_t)st.st_size;
    unsigned char *b = malloc(*size + 1);
    assert_non_null(b);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(b, 1, *size, fp), *size);
    fclose(fp);
    return b;
}

/* Replace path's contents with data[0..size). */
static inline void spit(const char *path, const void *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (size)
        assert_int_equal(fwrite(data, 1, size, fp), size);
    assert_int_equal(fclose(fp), 0);
}

/* Damage the file at path in place: flip four bits of its byte at offset at. */
static inline void flip_byte(const char *path, long at)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_not_equal(c, EOF);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    assert_int_not_equal(fputc(c ^ 0x55, fp), EOF);
    assert_int_equal(fclose(fp), 0);
}

#endif
