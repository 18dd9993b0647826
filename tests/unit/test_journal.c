/*
 * Unit tests for the journal (engine/store/journal*.c): CRC-32C, the on-disk layout,
 * round trips, recovery from torn and zero-filled tails, damage (a bad record with
 * valid ones after it) refused and located, read-only opens, replay
 * of unsynced records, the sync retry rule, and a 200k-record throughput run.
 *
 * Every test works in its own mkdtemp directory under /tmp, removed afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/journal.h"
#include "hpsweep/error.h"
#include "journal_fixture.h"

/* Table-only CRC from journal.c, to compare with the dispatched one. */
uint32_t hps_crc32c_portable(uint32_t crc, const void *data, size_t len);

/* The layout-1 tests below pin that layout's bytes (the one journals of format 1 to
 * 3 have, still read and appended to); layout 2's tests follow them. */
#define CREATE1 (HPS_JOURNAL_CREATE | HPS_JOURNAL_LAYOUT1)

/* Deterministic test payload for record i (some empty). */
static uint32_t payload_for(uint64_t i, unsigned char *buf)
{
    uint32_t len = (i % 7 == 0) ? 0 : (uint32_t)((i * 13) % 50 + 1);
    for (uint32_t k = 0; k < len; k++)
        buf[k] = (unsigned char)(i * 31 + k);
    return len;
}

static uint32_t type_for(uint64_t i) { return (uint32_t)(i % 5 + 1); }
static int64_t trial_for(uint64_t i) { return (int64_t)i * 3 - 100; }

/* Append records first..last (1-based indices) with the deterministic contents. */
static void append_range(hps_journal *j, uint64_t first, uint64_t last)
{
    unsigned char buf[64];
    for (uint64_t i = first; i <= last; i++) {
        uint32_t len = payload_for(i, buf);
        assert_int_equal(hps_journal_append(j, type_for(i), trial_for(i), buf, len), HPS_OK);
    }
}

/* Bytes of records 1..n as laid out on disk. */
static uint64_t bytes_through(uint64_t n)
{
    unsigned char buf[64];
    uint64_t total = HDR;
    for (uint64_t i = 1; i <= n; i++)
        total += OVERHEAD + payload_for(i, buf);
    return total;
}

/* Replay collector: checks each record against the deterministic contents. */
typedef struct checker {
    uint64_t count;
    uint64_t stop_after; /* 0: never stop */
    int stop_value;
} checker;

static int check_cb(void *ctx, const hps_record *r)
{
    checker *c = ctx;
    unsigned char buf[64];
    c->count++;
    uint64_t i = c->count;
    uint32_t len = payload_for(i, buf);
    if (r->seq != i || r->type != type_for(i) || r->trial_id != trial_for(i) || r->len != len ||
        (len && memcmp(r->payload, buf, len) != 0)) {
        print_error("record %llu mismatch (seq %llu type %u trial %lld len %u)\n",
                    (unsigned long long)i, (unsigned long long)r->seq, r->type,
                    (long long)r->trial_id, r->len);
        return -1;
    }
    if (c->stop_after && c->count == c->stop_after)
        return c->stop_value;
    return 0;
}

/* Open path in mode and assert it holds exactly records 1..n. */
static void expect_records(const char *path, int mode, uint64_t n)
{
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(path, mode, &j), HPS_OK);
    assert_int_equal(hps_journal_last_seq(j), n);
    checker c = {0};
    assert_int_equal(hps_journal_replay(j, check_cb, &c), HPS_OK);
    assert_int_equal(c.count, n);
    hps_journal_close(j);
}

/* Make a synced journal holding records 1..n and close it. */
static void make_journal(const char *path, uint64_t n)
{
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(path, CREATE1, &j), HPS_OK);
    append_range(j, 1, n);
    assert_int_equal(hps_journal_sync(j), HPS_OK);
    hps_journal_close(j);
    assert_int_equal(size_of(path), bytes_through(n));
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* Encode one record the way journal.h documents it; returns its size. */
static size_t encode_record(unsigned char *out, uint32_t type, uint64_t seq, int64_t trial,
                            const void *payload, uint32_t len)
{
    put32(out, len);
    put32(out + 4, type);
    put64(out + 8, seq);
    put64(out + 16, (uint64_t)trial);
    if (len)
        memcpy(out + 24, payload, len);
    put32(out + 24 + len, hps_crc32c(0, out, 24 + (size_t)len));
    return OVERHEAD + len;
}

/* Bit-at-a-time CRC-32C, the definition the fast paths must match. */
static uint32_t crc_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

/* ---- CRC ------------------------------------------------------------------------ */

static void test_crc32c_check_value(void **state)
{
    (void)state;
    assert_int_equal(hps_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(hps_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc_bitwise(0, (const unsigned char *)"123456789", 9), 0xE3069283u);
    assert_int_equal(hps_crc32c(0, "", 0), 0u);
    assert_int_equal(hps_crc32c(0x12345678u, NULL, 0), 0x12345678u);
}

/* The iSCSI test vectors from RFC 3720, appendix B.4. */
static void test_crc32c_rfc3720_vectors(void **state)
{
    (void)state;
    unsigned char b[32];
    memset(b, 0, sizeof b);
    assert_int_equal(hps_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof b);
    assert_int_equal(hps_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    assert_int_equal(hps_crc32c(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)(31 - i);
    assert_int_equal(hps_crc32c(0, b, 32), 0x113FDB5Cu);
}

static void test_crc32c_incremental_and_paths_agree(void **state)
{
    (void)state;
    enum { N = 1100 };
    unsigned char *b = malloc(N);
    assert_non_null(b);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (unsigned char)x;
    }
    const uint32_t whole = hps_crc32c(0, b, 1000);
    assert_int_equal(whole, crc_bitwise(0, b, 1000));
    for (size_t split = 0; split <= 1000; split++) {
        uint32_t c = hps_crc32c(0, b, split);
        assert_int_equal(hps_crc32c(c, b + split, 1000 - split), whole);
        uint32_t s = hps_crc32c_portable(0, b, split);
        assert_int_equal(hps_crc32c_portable(s, b + split, 1000 - split), whole);
    }
    /* Every start alignment and every short length, both implementations. */
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 80; len++) {
            uint32_t ref = crc_bitwise(0, b + off, len);
            assert_int_equal(hps_crc32c(0, b + off, len), ref);
            assert_int_equal(hps_crc32c_portable(0, b + off, len), ref);
        }
    free(b);
}

/* ---- round trips and layout ------------------------------------------------------- */

static void test_round_trip(void **state)
{
    fixture *f = *state;
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_OK);
    assert_int_equal(hps_journal_last_seq(j), 0);
    assert_int_equal(hps_journal_pending(j), 0);
    append_range(j, 1, 50);
    assert_int_equal(hps_journal_pending(j), 50);
    assert_int_equal(hps_journal_last_seq(j), 50);
    assert_int_equal(hps_journal_sync(j), HPS_OK);
    assert_int_equal(hps_journal_pending(j), 0);
    assert_int_equal(hps_journal_sync(j), HPS_OK); /* nothing to do */
    hps_journal_close(j);
    assert_int_equal(size_of(f->path), bytes_through(50));

    j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
    assert_int_equal(hps_journal_truncated(j), 0);
    assert_int_equal(hps_journal_last_seq(j), 50);
    checker c = {0};
    assert_int_equal(hps_journal_replay(j, check_cb, &c), HPS_OK);
    assert_int_equal(c.count, 50);
    /* Appending after reopen continues the sequence; close syncs. */
    append_range(j, 51, 60);
    hps_journal_close(j);
    assert_int_equal(size_of(f->path), bytes_through(60));
    expect_records(f->path, HPS_JOURNAL_READ, 60);
    expect_records(f->path, HPS_JOURNAL_WRITE, 60);
}

static void test_on_disk_layout(void **state)
{
    fixture *f = *state;
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_OK);
    assert_int_equal(hps_journal_append(j, 7, -2, "abc", 3), HPS_OK);
    assert_int_equal(hps_journal_append(j, 0x01020304u, INT64_MAX, NULL, 0), HPS_OK);
    hps_journal_close(j);

    unsigned char want[HDR + 2 * OVERHEAD + 3];
    memcpy(want, "HPSJRNL\0", 8);
    put32(want + 8, 1);
    put32(want + 12, 0);
    size_t n = HDR;
    n += encode_record(want + n, 7, 1, -2, "abc", 3);
    n += encode_record(want + n, 0x01020304u, 2, INT64_MAX, NULL, 0);
    assert_int_equal(n, sizeof want);
    /* Spot-check the encoder itself against hand-written little-endian bytes. */
    static const unsigned char rec1_head[24] = {3, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0,
                                                0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff};
    assert_memory_equal(want + HDR, rec1_head, 24);

    size_t size;
    unsigned char *got = slurp(f->path, &size);
    assert_int_equal(size, sizeof want);
    assert_memory_equal(got, want, sizeof want);
    free(got);
}

static void test_create_existing_and_missing(void **state)
{
    fixture *f = *state;
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_ENOENT);
    assert_null(j);

    make_journal(f->path, 3);
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_EEXIST);
    assert_null(j);
    expect_records(f->path, HPS_JOURNAL_READ, 3); /* untouched */

    /* WRITE creates a missing file with just the header. */
    char other[128];
    snprintf(other, sizeof other, "%s/other", f->dir);
    assert_int_equal(hps_journal_open(other, HPS_JOURNAL_WRITE, &j), HPS_OK);
    assert_int_equal(hps_journal_last_seq(j), 0);
    hps_journal_close(j);
    assert_int_equal(size_of(other), HDR);

    char nodir[128];
    snprintf(nodir, sizeof nodir, "%s/missing/journal", f->dir);
    j = NULL;
    assert_int_equal(hps_journal_open(nodir, CREATE1, &j), HPS_ENOENT);
    assert_int_equal(hps_journal_open(nodir, HPS_JOURNAL_WRITE, &j), HPS_ENOENT);
    assert_int_equal(hps_journal_open(f->path, 7, &j), HPS_EINVAL);
    assert_null(j);
}

/* ---- recovery --------------------------------------------------------------------- */

static void test_torn_tail_every_offset(void **state)
{
    fixture *f = *state;
    const uint64_t n = 6; /* record 6 has a 29-byte payload */
    make_journal(f->path, n);
    size_t full_size;
    unsigned char *full = slurp(f->path, &full_size);
    const uint64_t start = bytes_through(n - 1);
    assert_true(full_size - start > OVERHEAD);

    for (uint64_t cut = start; cut < full_size; cut++) {
        spit(f->path, full, cut);
        hps_journal *j = NULL;
        assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
        assert_int_equal(hps_journal_truncated(j), cut - start);
        assert_int_equal(hps_journal_last_seq(j), n - 1);
        assert_int_equal(size_of(f->path), start);
        checker c = {0};
        assert_int_equal(hps_journal_replay(j, check_cb, &c), HPS_OK);
        assert_int_equal(c.count, n - 1);
        /* Re-appending record n continues the sequence and restores the file. */
        append_range(j, n, n + 1);
        assert_int_equal(hps_journal_last_seq(j), n + 1);
        assert_int_equal(hps_journal_sync(j), HPS_OK);
        hps_journal_close(j);
        assert_int_equal(size_of(f->path), bytes_through(n + 1));
        expect_records(f->path, HPS_JOURNAL_WRITE, n + 1);
    }
    free(full);
}

/* Inspect collector: the sequence numbers of every record that verifies. */
typedef struct seen {
    uint64_t n;
    uint64_t seq[64];
} seen;

static int seen_cb(void *ctx, const hps_record *r)
{
    seen *s = ctx;
    if (s->n < 64)
        s->seq[s->n] = r->seq;
    s->n++;
    return 0;
}

/*
 * A bad record in the middle is damage, not a torn tail: whichever byte of record
 * k is flipped, a writer refuses (HPS_EDAMAGED) and the file stays as it was, a
 * reader sees records 1..k-1 and where the damage is, and inspect finds every
 * other record. (Before, the open cut the file at record k and lost n - k valid
 * records.)
 */
static void test_bad_crc_every_byte_of_middle_record(void **state)
{
    fixture *f = *state;
    const uint64_t n = 10, k = 5;
    make_journal(f->path, n);
    size_t full_size;
    unsigned char *full = slurp(f->path, &full_size);
    const uint64_t start = bytes_through(k - 1), end = bytes_through(k);
    unsigned char *copy = malloc(full_size);
    assert_non_null(copy);

    for (uint64_t at = start; at < end; at++) {
        memcpy(copy, full, full_size);
        copy[at] ^= 0x5a;
        spit(f->path, copy, full_size);
        hps_journal *j = NULL;
        assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_EDAMAGED);
        assert_null(j);
        size_t size;
        unsigned char *after = slurp(f->path, &size);
        assert_int_equal(size, full_size);
        assert_memory_equal(after, copy, full_size);
        free(after);

        assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_OK);
        assert_int_equal(hps_journal_last_seq(j), k - 1);
        const hps_journal_damage *d = hps_journal_damage_info(j);
        assert_non_null(d);
        assert_int_equal(d->bad_offset, start);
        assert_int_equal(d->valid_records, k - 1);
        assert_int_equal(d->records_after, n - k);
        assert_int_equal(d->first_after, end);
        assert_int_equal(d->lost_records, 1);
        assert_int_equal(d->lost_bytes, end - start);
        checker c = {0};
        assert_int_equal(hps_journal_replay(j, check_cb, &c), HPS_OK);
        assert_int_equal(c.count, k - 1);
        hps_journal_close(j);

        seen s = {0};
        hps_journal_damage d2;
        assert_int_equal(hps_journal_inspect(f->path, seen_cb, &s, &d2), HPS_OK);
        assert_true(d2.damaged);
        assert_int_equal(s.n, n - 1);
        for (uint64_t i = 0, want = 1; i < s.n; i++, want++) {
            if (want == k)
                want++;
            assert_int_equal(s.seq[i], want);
        }
    }
    free(copy);
    free(full);
}

/* A flipped byte in the last record cannot be told from an unfinished write (no
 * record follows it): it is cut like a torn tail. */
static void test_bad_last_record_is_a_torn_tail(void **state)
{
    fixture *f = *state;
    const uint64_t n = 6;
    make_journal(f->path, n);
    size_t full_size;
    unsigned char *full = slurp(f->path, &full_size);
    const uint64_t start = bytes_through(n - 1);
    for (uint64_t at = start; at < full_size; at++) {
        full[at] ^= 0x01;
        spit(f->path, full, full_size);
        full[at] ^= 0x01;
        hps_journal_damage d;
        assert_int_equal(hps_journal_inspect(f->path, NULL, NULL, &d), HPS_OK);
        assert_false(d.damaged);
        expect_records(f->path, HPS_JOURNAL_WRITE, n - 1);
        assert_int_equal(size_of(f->path), start);
    }
    free(full);
}

/* Damage in the file header with valid records after it (bad_offset 0), and a
 * run of garbage between valid records: both damage, with the counts. */
static void test_damaged_header_and_garbage_inside(void **state)
{
    fixture *f = *state;
    const uint64_t n = 12;
    make_journal(f->path, n);
    size_t size;
    unsigned char *full = slurp(f->path, &size);

    full[3] ^= 0x20; /* the magic */
    spit(f->path, full, size);
    full[3] ^= 0x20;
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_EDAMAGED);
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_OK);
    const hps_journal_damage *d = hps_journal_damage_info(j);
    assert_non_null(d);
    assert_int_equal(d->bad_offset, 0);
    assert_int_equal(d->records_after, n);
    assert_int_equal(hps_journal_last_seq(j), 0);
    hps_journal_close(j);

    /* 1000 bytes of noise where records 4..6 were. */
    const uint64_t a = bytes_through(3), b = bytes_through(6);
    unsigned char *buf = malloc(size + 1000);
    assert_non_null(buf);
    memcpy(buf, full, a);
    srand(7);
    for (int i = 0; i < 1000; i++)
        buf[a + (size_t)i] = (unsigned char)rand();
    memcpy(buf + a + 1000, full + b, size - b);
    spit(f->path, buf, a + 1000 + (size - b));
    hps_journal_damage d2;
    seen s = {0};
    assert_int_equal(hps_journal_inspect(f->path, seen_cb, &s, &d2), HPS_OK);
    assert_true(d2.damaged);
    assert_int_equal(d2.valid_records, 3);
    assert_int_equal(d2.records_after, n - 6);
    assert_int_equal(d2.lost_records, 3);
    assert_int_equal(d2.lost_bytes, 1000);
    assert_int_equal(d2.last_seq, n);
    assert_int_equal(s.n, n - 3);
    assert_int_equal(s.seq[3], 7);
    free(buf);
    free(full);
}

/* Records with a correct CRC are still cut when their sequence or type is wrong,
 * their length is absurd, or a zero-payload record only half fits. */
static void test_seq_gap_type_zero_and_huge_length(void **state)
{
    fixture *f = *state;
    make_journal(f->path, 2);
    size_t base_size;
    unsigned char *base = slurp(f->path, &base_size);
    unsigned char *buf = malloc(base_size + 256);
    assert_non_null(buf);

    struct {
        uint32_t type;
        uint64_t seq;
    } bad[] = {{1, 4}, {1, 2}, {1, 0}, {0, 3}};
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        memcpy(buf, base, base_size);
        size_t n = base_size + encode_record(buf + base_size, bad[t].type, bad[t].seq, 9, "xy", 2);
        spit(f->path, buf, n);
        hps_journal *j = NULL;
        assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
        assert_int_equal(hps_journal_last_seq(j), 2);
        assert_int_equal(hps_journal_truncated(j), n - base_size);
        hps_journal_close(j);
        assert_int_equal(size_of(f->path), base_size);
    }

    /* A 100 MiB length claim (over the cap) with a valid-looking header. */
    memcpy(buf, base, base_size);
    size_t n = base_size + encode_record(buf + base_size, 1, 3, 9, "xy", 2);
    put32(buf + base_size, 100u << 20);
    spit(f->path, buf, n);
    expect_records(f->path, HPS_JOURNAL_WRITE, 2);
    assert_int_equal(size_of(f->path), base_size);

    /* Control: the same record with the right sequence number is kept. */
    memcpy(buf, base, base_size);
    n = base_size + encode_record(buf + base_size, 1, 3, 9, "xy", 2);
    spit(f->path, buf, n);
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
    assert_int_equal(hps_journal_last_seq(j), 3);
    assert_int_equal(hps_journal_truncated(j), 0);
    hps_journal_close(j);
    free(buf);
    free(base);
}

static void test_zero_filled_tail(void **state)
{
    fixture *f = *state;
    make_journal(f->path, 20);
    const uint64_t good = bytes_through(20);
    int fd = open(f->path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    static const unsigned char zeros[4096];
    assert_int_equal(write(fd, zeros, sizeof zeros), (ssize_t)sizeof zeros);
    assert_int_equal(close(fd), 0);

    expect_records(f->path, HPS_JOURNAL_READ, 20);
    assert_int_equal(size_of(f->path), good + 4096); /* READ left it alone */

    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
    assert_int_equal(hps_journal_truncated(j), 4096);
    assert_int_equal(hps_journal_last_seq(j), 20);
    hps_journal_close(j);
    assert_int_equal(size_of(f->path), good);
    expect_records(f->path, HPS_JOURNAL_WRITE, 20);
}

static void test_bad_header(void **state)
{
    fixture *f = *state;
    hps_journal *j = NULL;
    size_t size;

    /* Garbage of header size and beyond: corrupt, in every mode, file untouched. */
    static const char garbage[] = "NOTAJOURNAL-----and more bytes after";
    spit(f->path, garbage, sizeof garbage);
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_ECORRUPT);
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_ECORRUPT);
    assert_null(j);
    unsigned char *got = slurp(f->path, &size);
    assert_int_equal(size, sizeof garbage);
    assert_memory_equal(got, garbage, sizeof garbage);
    free(got);

    /* Short non-zero garbage is corrupt too. */
    spit(f->path, "abcde", 5);
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_ECORRUPT);
    assert_int_equal(size_of(f->path), 5);

    /* Right magic, a version newer than this build knows. */
    assert_int_equal(unlink(f->path), 0);
    make_journal(f->path, 2);
    got = slurp(f->path, &size);
    put32(got + 8, 3);
    spit(f->path, got, size);
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_EVERSION);
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_EVERSION);
    assert_null(j);
    assert_int_equal(size_of(f->path), size);
    free(got);
    assert_int_equal(unlink(f->path), 0);
}

/* An empty, all-zero or half-written header is a crashed create: readers see an
 * empty journal and leave it, writers write a fresh header. */
static void test_unfinished_header(void **state)
{
    fixture *f = *state;
    static const unsigned char zeros[4096];
    struct {
        const void *data;
        size_t size;
    } cases[] = {{zeros, 0}, {zeros, 7}, {zeros, 4096}, {"HPSJR", 5}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        spit(f->path, cases[t].data, cases[t].size);
        hps_journal *j = NULL;
        assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_OK);
        assert_int_equal(hps_journal_last_seq(j), 0);
        checker c = {0};
        assert_int_equal(hps_journal_replay(j, check_cb, &c), HPS_OK);
        assert_int_equal(c.count, 0);
        hps_journal_close(j);
        assert_int_equal(size_of(f->path), cases[t].size);

        j = NULL;
        assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
        assert_int_equal(hps_journal_last_seq(j), 0);
        assert_int_equal(hps_journal_truncated(j), cases[t].size);
        assert_int_equal(size_of(f->path), HDR);
        append_range(j, 1, 4);
        hps_journal_close(j);
        expect_records(f->path, HPS_JOURNAL_READ, 4);
        assert_int_equal(unlink(f->path), 0);
    }
}

static void test_read_mode_does_not_modify(void **state)
{
    fixture *f = *state;
    make_journal(f->path, 8);
    size_t full_size;
    unsigned char *full = slurp(f->path, &full_size);
    const size_t cut = full_size - 5;
    spit(f->path, full, cut);

    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_OK);
    assert_int_equal(hps_journal_last_seq(j), 7);
    assert_int_equal(hps_journal_truncated(j), 0);
    checker c = {0};
    assert_int_equal(hps_journal_replay(j, check_cb, &c), HPS_OK);
    assert_int_equal(c.count, 7);
    assert_int_equal(hps_journal_append(j, 1, 1, "x", 1), HPS_EINVAL);
    assert_int_equal(hps_journal_pending(j), 0);
    assert_int_equal(hps_journal_sync(j), HPS_OK);
    hps_journal_close(j);

    size_t size;
    unsigned char *after = slurp(f->path, &size);
    assert_int_equal(size, cut);
    assert_memory_equal(after, full, cut);
    free(after);
    free(full);
}

/* A reader sees the synced prefix as of its open; a writer's replay includes what it
 * has appended but not synced. */
static void test_replay_includes_unsynced(void **state)
{
    fixture *f = *state;
    hps_journal *w = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &w), HPS_OK);
    append_range(w, 1, 5);
    assert_int_equal(hps_journal_sync(w), HPS_OK);
    append_range(w, 6, 8);
    assert_int_equal(hps_journal_pending(w), 3);
    assert_int_equal(hps_journal_last_seq(w), 8);

    checker c = {0};
    assert_int_equal(hps_journal_replay(w, check_cb, &c), HPS_OK);
    assert_int_equal(c.count, 8);

    hps_journal *r = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &r), HPS_OK);
    assert_int_equal(hps_journal_last_seq(r), 5);
    assert_int_equal(hps_journal_sync(w), HPS_OK);
    checker rc = {0};
    assert_int_equal(hps_journal_replay(r, check_cb, &rc), HPS_OK);
    assert_int_equal(rc.count, 5); /* snapshot at open */
    hps_journal_close(r);

    /* Replay with nothing on disk past the header, only buffered records. */
    hps_journal_close(w);
    char other[128];
    snprintf(other, sizeof other, "%s/other", f->dir);
    assert_int_equal(hps_journal_open(other, CREATE1, &w), HPS_OK);
    append_range(w, 1, 3);
    checker c2 = {0};
    assert_int_equal(hps_journal_replay(w, check_cb, &c2), HPS_OK);
    assert_int_equal(c2.count, 3);
    hps_journal_close(w);
    expect_records(f->path, HPS_JOURNAL_READ, 8);
    expect_records(other, HPS_JOURNAL_READ, 3);
}

static void test_replay_early_stop(void **state)
{
    fixture *f = *state;
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_OK);
    append_range(j, 1, 10);
    assert_int_equal(hps_journal_sync(j), HPS_OK);
    append_range(j, 11, 15);

    checker c = {.stop_after = 3, .stop_value = 42};
    assert_int_equal(hps_journal_replay(j, check_cb, &c), 42);
    assert_int_equal(c.count, 3);
    checker c2 = {.stop_after = 12, .stop_value = -7};
    assert_int_equal(hps_journal_replay(j, check_cb, &c2), -7);
    assert_int_equal(c2.count, 12);
    checker c3 = {.stop_after = 15, .stop_value = 1};
    assert_int_equal(hps_journal_replay(j, check_cb, &c3), 1);
    assert_int_equal(c3.count, 15);
    assert_int_equal(hps_journal_replay(j, NULL, NULL), HPS_EINVAL);
    hps_journal_close(j);
}

static void test_append_invalid_args(void **state)
{
    fixture *f = *state;
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_OK);
    assert_int_equal(hps_journal_append(j, 0, 1, "x", 1), HPS_EINVAL);
    assert_int_equal(hps_journal_append(j, 1, 1, NULL, 1), HPS_EINVAL);
    assert_int_equal(hps_journal_append(j, 1, 1, "x", (64u << 20) + 1), HPS_EINVAL);
    assert_int_equal(hps_journal_append(NULL, 1, 1, "x", 1), HPS_EINVAL);
    assert_int_equal(hps_journal_pending(j), 0);
    assert_int_equal(hps_journal_last_seq(j), 0);
    hps_journal_close(j);
    assert_int_equal(size_of(f->path), HDR);
    hps_journal_close(NULL);
}

/* Replay context for test_large_records. */
typedef struct big_ctx {
    const unsigned char *p;
    uint32_t big;
    int seen;
    int bad;
} big_ctx;

static int big_cb(void *ctx, const hps_record *r)
{
    big_ctx *x = ctx;
    x->seen++;
    uint32_t want_len = r->seq == 2 ? x->big : r->seq == 4 ? x->big - 1 : 1;
    if (r->seq != (uint64_t)x->seen || r->trial_id != (int64_t)r->seq || r->len != want_len)
        x->bad++;
    else if (want_len > 1 && memcmp(r->payload, x->p, want_len) != 0)
        x->bad++;
    return 0;
}

/* Records larger than the replay chunk, between small ones. */
static void test_large_records(void **state)
{
    fixture *f = *state;
    const uint32_t big = 3u << 20;
    unsigned char *p = malloc(big);
    assert_non_null(p);
    for (uint32_t i = 0; i < big; i++)
        p[i] = (unsigned char)(i * 7 + (i >> 11));
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_OK);
    assert_int_equal(hps_journal_append(j, 1, 1, "a", 1), HPS_OK);
    assert_int_equal(hps_journal_append(j, 2, 2, p, big), HPS_OK);
    assert_int_equal(hps_journal_append(j, 3, 3, "b", 1), HPS_OK);
    assert_int_equal(hps_journal_append(j, 2, 4, p, big - 1), HPS_OK);
    hps_journal_close(j);
    assert_int_equal(size_of(f->path), HDR + 4 * OVERHEAD + 2 + 2 * (uint64_t)big - 1);

    j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
    assert_int_equal(hps_journal_last_seq(j), 4);
    assert_int_equal(hps_journal_truncated(j), 0);
    hps_journal_close(j);

    big_ctx ctx = {p, big, 0, 0};
    j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_READ, &j), HPS_OK);
    assert_int_equal(hps_journal_replay(j, big_cb, &ctx), HPS_OK);
    assert_int_equal(ctx.seen, 4);
    assert_int_equal(ctx.bad, 0);
    hps_journal_close(j);
    free(p);
}

/* ---- sync failure and retry ------------------------------------------------------------ */

/* RLIMIT_FSIZE makes the write short and then fail with EFBIG mid-batch: sync must
 * report HPS_EIO, keep every buffered record, and a later sync must leave exactly
 * one copy of each record on disk. */
static void test_sync_retry_after_partial_write(void **state)
{
    fixture *f = *state;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_sa;
    assert_int_equal(sigaction(SIGXFSZ, &ign, &old_sa), 0);
    struct rlimit old_lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);

    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_OK);
    append_range(j, 1, 10);
    assert_int_equal(hps_journal_sync(j), HPS_OK);
    const uint64_t synced = size_of(f->path);
    append_range(j, 11, 30);
    assert_true(bytes_through(30) - synced > 400);

    struct rlimit low = old_lim;
    low.rlim_cur = (rlim_t)(synced + 333);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
    int rc1 = hps_journal_sync(j);
    int rc2 = hps_journal_sync(j); /* a retry that fails the same way */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    assert_int_equal(sigaction(SIGXFSZ, &old_sa, NULL), 0);

    assert_int_equal(rc1, HPS_EIO);
    assert_int_equal(rc2, HPS_EIO);
    assert_int_equal(size_of(f->path), synced + 333); /* the partial write happened */
    assert_int_equal(hps_journal_pending(j), 20);
    assert_int_equal(hps_journal_last_seq(j), 30);
    checker c = {0};
    assert_int_equal(hps_journal_replay(j, check_cb, &c), HPS_OK);
    assert_int_equal(c.count, 30);

    append_range(j, 31, 35);
    assert_int_equal(hps_journal_sync(j), HPS_OK);
    assert_int_equal(hps_journal_pending(j), 0);
    hps_journal_close(j);
    assert_int_equal(size_of(f->path), bytes_through(35));
    expect_records(f->path, HPS_JOURNAL_WRITE, 35);
}

/* ---- throughput ------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct sums {
    uint64_t count, seq_sum, bad;
    int64_t trial_sum;
} sums;

static int sum_cb(void *ctx, const hps_record *r)
{
    sums *s = ctx;
    s->count++;
    s->seq_sum += r->seq;
    s->trial_sum += r->trial_id;
    const unsigned char *p = r->payload;
    if (r->len != 72 || r->type != (uint32_t)(r->seq % 3 + 1) || p[0] != (unsigned char)r->seq ||
        p[71] != (unsigned char)(r->seq >> 8))
        s->bad++;
    return 0;
}

static void test_stress_200k(void **state)
{
    fixture *f = *state;
    enum { N = 200000, BATCH = 256, PAYLOAD = 72 }; /* 100 bytes per record on disk */
    unsigned char p[PAYLOAD];
    memset(p, 0xab, sizeof p);
    hps_journal *j = NULL;
    assert_int_equal(hps_journal_open(f->path, CREATE1, &j), HPS_OK);
    double t0 = now_s();
    for (uint64_t i = 1; i <= N; i++) {
        p[0] = (unsigned char)i;
        p[PAYLOAD - 1] = (unsigned char)(i >> 8);
        assert_int_equal(hps_journal_append(j, (uint32_t)(i % 3 + 1), (int64_t)i * 2 - 7, p,
                                            PAYLOAD),
                         HPS_OK);
        if (i % BATCH == 0)
            assert_int_equal(hps_journal_sync(j), HPS_OK);
    }
    assert_int_equal(hps_journal_sync(j), HPS_OK);
    double t1 = now_s();
    hps_journal_close(j);
    assert_int_equal(size_of(f->path), HDR + (uint64_t)N * (OVERHEAD + PAYLOAD));

    double t2 = now_s();
    j = NULL;
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_WRITE, &j), HPS_OK);
    sums s = {0};
    assert_int_equal(hps_journal_replay(j, sum_cb, &s), HPS_OK);
    double t3 = now_s();
    assert_int_equal(hps_journal_truncated(j), 0);
    assert_int_equal(hps_journal_last_seq(j), N);
    hps_journal_close(j);
    assert_int_equal(s.count, N);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.seq_sum, (uint64_t)N * (N + 1) / 2);
    assert_int_equal(s.trial_sum, (int64_t)N * (N + 1) - 7 * (int64_t)N);
    print_message("journal: %d x 100-byte records, sync every %d: %.0f records/s; "
                  "open+replay %.3f s\n",
                  N, BATCH, N / (t1 - t0), t3 - t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_check_value),
        cmocka_unit_test(test_crc32c_rfc3720_vectors),
        cmocka_unit_test(test_crc32c_incremental_and_paths_agree),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_disk_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_existing_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_crc_every_byte_of_middle_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_last_record_is_a_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_header_and_garbage_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_gap_type_zero_and_huge_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_filled_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unfinished_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_mode_does_not_modify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_includes_unsynced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_early_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_invalid_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_retry_after_partial_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stress_200k, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
