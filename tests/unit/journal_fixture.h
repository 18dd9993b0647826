/*
 * What the tests of the journal and of what sits on it (test_journal.c,
 * test_journal_pack.c, test_sweep_spill.c) share: each test's own
 * mkdtemp directory under /tmp with a journal path in it (removed afterwards),
 * the whole-file helpers of file_fixture.h, and the record framing sizes of the journal's
 * layout 1 (engine/store/journal.c). Included after cmocka.h.
 */
#ifndef HPS_TESTS_JOURNAL_FIXTURE_H
#define HPS_TESTS_JOURNAL_FIXTURE_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_fixture.h"

#define HDR 16u      /* the file header: magic, layout, reserved */
#define OVERHEAD 28u /* a layout-1 record beyond its payload: len, type, seq, trial id, CRC */

typedef struct fixture {
    char dir[64];
    char path[96];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/hps_journal_XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/journal", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[400];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static inline uint64_t size_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

#endif
