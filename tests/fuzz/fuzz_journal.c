/*
 * Fuzz target: the journal reader (engine/store/journal*.c) and the replayer
 * (engine/coord/sweep.c, with the strategy the HEADER names). See fuzz.h for the
 * two forms an input takes.
 */
#include <stdlib.h>
#include <string.h>

#include "coord/sweep.h"
#include "fuzz.h"
#include "hpsweep/error.h"
#include "store/journal.h"
#include "store/record.h"
#include "store/store.h"

static int count_one(void *ctx, const hps_record *rec)
{
    (void)rec;
    (*(uint64_t *)ctx)++;
    return 0;
}

/* Replay j into a fresh sweep with its strategy, as resume does. */
static void replay(hps_journal *j)
{
    hps_sweep s;
    char err[1024];
    hps_sweep_init(&s, HPS_SWEEP_STRATEGY);
    (void)hps_sweep_replay(&s, j, err, sizeof err);
    hps_sweep_free(&s);
}

static void raw(const uint8_t *data, size_t size)
{
    static int fd = -1;
    const char *path = hps_fuzz_file(&fd, data, size);
    if (!path)
        return;
    hps_journal_damage d;
    uint64_t n = 0;
    (void)hps_journal_inspect(path, count_one, &n, &d);
    hps_journal *j = NULL;
    if (hps_journal_open(path, HPS_JOURNAL_READ, &j) == HPS_OK) {
        (void)hps_journal_damage_info(j);
        replay(j);
        hps_journal_close(j);
    }
    if (hps_journal_open(path, HPS_JOURNAL_WRITE, &j) == HPS_OK) {
        replay(j);
        (void)hps_journal_append(j, HPS_REC_STATUS, -1, "\0\0\0\0\0\0\0\0", 8);
        (void)hps_journal_sync(j);
        hps_journal_close(j);
    }
}

/* Records framed by the fuzzer, laid out as a valid journal. */
static void framed(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static const char header[16] = {'H', 'P', 'S', 'J', 'R', 'N', 'L', '\0', 1, 0, 0, 0};
    size_t cap = 16 + size / 4 * 28 + size + 64, n = 16;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return;
    memcpy(buf, header, 16);
    uint64_t seq = 0;
    for (size_t off = 0; off + 4 <= size;) {
        uint32_t type = data[off] % 10; /* 0 and 9: invalid types */
        int64_t trial = (int8_t)data[off + 1];
        size_t len = (size_t)data[off + 2] | (size_t)data[off + 3] << 8;
        off += 4;
        if (len > size - off)
            len = size - off;
        if (type == 0)
            type = 1000; /* a type no record has */
        unsigned char *p = buf + n;
        uint32_t l32 = (uint32_t)len;
        seq++;
        for (int i = 0; i < 4; i++) {
            p[i] = (unsigned char)(l32 >> (8 * i));
            p[4 + i] = (unsigned char)(type >> (8 * i));
        }
        for (int i = 0; i < 8; i++) {
            p[8 + i] = (unsigned char)(seq >> (8 * i));
            p[16 + i] = (unsigned char)((uint64_t)trial >> (8 * i));
        }
        memcpy(p + 24, data + off, len);
        uint32_t crc = hps_crc32c(0, p, 24 + len);
        for (int i = 0; i < 4; i++)
            p[24 + len + i] = (unsigned char)(crc >> (8 * i));
        n += 28 + len;
        off += len;
    }
    const char *path = hps_fuzz_file(&fd, buf, n);
    free(buf);
    hps_journal *j = NULL;
    if (path && hps_journal_open(path, HPS_JOURNAL_READ, &j) == HPS_OK) {
        replay(j);
        hps_journal_close(j);
    }
}

/* Packs framed by the fuzzer, laid out as a valid layout-2 journal: each
 * [count u8][length u16 LE][payload] becomes a pack of count % 16 + 1 records
 * with the right sequence number and CRC, so that mutations reach the pack and
 * compact-form decoders (journal_pack.c, record.c) and the replay past them. */
static void packed(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static const char header[16] = {'H', 'P', 'S', 'J', 'R', 'N', 'L', '\0', 2, 0, 0, 0};
    size_t cap = 16 + size / 3 * 28 + size + 64, n = 16;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return;
    memcpy(buf, header, 16);
    uint64_t seq = 1;
    for (size_t off = 0; off + 3 <= size;) {
        uint64_t count = (uint64_t)(data[off] % 16) + 1;
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off)
            len = size - off;
        unsigned char *p = buf + n;
        uint32_t l32 = (uint32_t)len, type = 0xFFFF;
        for (int i = 0; i < 4; i++) {
            p[i] = (unsigned char)(l32 >> (8 * i));
            p[4 + i] = (unsigned char)(type >> (8 * i));
        }
        for (int i = 0; i < 8; i++) {
            p[8 + i] = (unsigned char)(seq >> (8 * i));
            p[16 + i] = (unsigned char)(count >> (8 * i));
        }
        memcpy(p + 24, data + off, len);
        uint32_t crc = hps_crc32c(0, p, 24 + len);
        for (int i = 0; i < 4; i++)
            p[24 + len + i] = (unsigned char)(crc >> (8 * i));
        n += 28 + len;
        off += len;
        seq += count;
    }
    const char *path = hps_fuzz_file(&fd, buf, n);
    free(buf);
    hps_journal_damage d;
    uint64_t seen = 0;
    hps_journal *j = NULL;
    if (path && hps_journal_inspect(path, count_one, &seen, &d) == HPS_OK &&
        hps_journal_open(path, HPS_JOURNAL_READ, &j) == HPS_OK) {
        replay(j);
        hps_journal_close(j);
    }
}

int hps_fuzz_journal(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        framed(data + 1, size - 1);
    else if (data[0] & 2)
        packed(data + 1, size - 1);
    else
        raw(data + 1, size - 1);
    return 0;
}

#ifdef HPS_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return hps_fuzz_journal(data, size);
}
#endif
