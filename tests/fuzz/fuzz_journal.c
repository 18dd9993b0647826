/*
 * Fuzz target: the journal reader (engine/store/journal*.c) and the replayer
 * (engine/coord/sweep.c, with the strategy the HEADER names). See fuzz.h for the
 * two forms an input takes.
 */
#include <stdbool.h>
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

/*
 * Frames of the fuzzer laid out as a valid journal, each given the right sequence
 * number and CRC so that mutations reach the decoders and the replay past the
 * checksums. Layout 1 (!packs): each [type u8][trial id i8][length u16 LE][payload]
 * becomes a record, reaching hps_sweep_apply and the strategies. Layout 2 (packs):
 * each [count u8][length u16 LE][payload] becomes a pack of count % 16 + 1 records,
 * reaching the pack and compact-form decoders (journal_pack.c, record.c); the file
 * is inspected before it is replayed.
 */
static void framed(const uint8_t *data, size_t size, bool packs)
{
    static int fds[2] = {-1, -1};
    static const char header[16] = {'H', 'P', 'S', 'J', 'R', 'N', 'L', '\0'};
    const size_t head = packs ? 3 : 4; /* a frame's bytes before its payload */
    size_t cap = 16 + size / head * 28 + size + 64, n = 16;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return;
    memcpy(buf, header, 16);
    buf[8] = packs ? 2 : 1;
    uint64_t seq = 1;
    for (size_t off = 0; off + head <= size;) {
        uint32_t type = 0xFFFF; /* a pack's */
        uint64_t field;         /* a record's trial id, a pack's record count */
        if (packs) {
            field = (uint64_t)(data[off] % 16) + 1;
        } else {
            type = data[off] % 10; /* 0 and 9: invalid types */
            if (type == 0)
                type = 1000; /* a type no record has */
            field = (uint64_t)(int64_t)(int8_t)data[off + 1];
        }
        size_t len = (size_t)data[off + head - 2] | (size_t)data[off + head - 1] << 8;
        off += head;
        if (len > size - off)
            len = size - off;
        unsigned char *p = buf + n;
        uint32_t l32 = (uint32_t)len;
        for (int i = 0; i < 4; i++) {
            p[i] = (unsigned char)(l32 >> (8 * i));
            p[4 + i] = (unsigned char)(type >> (8 * i));
        }
        for (int i = 0; i < 8; i++) {
            p[8 + i] = (unsigned char)(seq >> (8 * i));
            p[16 + i] = (unsigned char)(field >> (8 * i));
        }
        memcpy(p + 24, data + off, len);
        uint32_t crc = hps_crc32c(0, p, 24 + len);
        for (int i = 0; i < 4; i++)
            p[24 + len + i] = (unsigned char)(crc >> (8 * i));
        n += 28 + len;
        off += len;
        seq += packs ? field : 1;
    }
    const char *path = hps_fuzz_file(&fds[packs], buf, n);
    free(buf);
    hps_journal_damage d;
    uint64_t seen = 0;
    hps_journal *j = NULL;
    if (path && (!packs || hps_journal_inspect(path, count_one, &seen, &d) == HPS_OK) &&
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
        framed(data + 1, size - 1, false);
    else if (data[0] & 2)
        framed(data + 1, size - 1, true);
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
