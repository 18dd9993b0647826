/*
 * A growable byte buffer: journal payloads, wire messages and other packed data
 * are built in one. An allocation failure sets `failed` and makes every later
 * append a no-op, so a writer appends many small fields and checks once at the
 * end (hps_buf_status). Fields are copied in host byte order; hpsweep targets
 * little-endian machines (x86-64, aarch64).
 */
#ifndef HPS_CORE_BUF_H
#define HPS_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct hps_buf {
    unsigned char *data;  /* public, read-only */
    size_t len, cap;      /* public, read-only */
    int failed;           /* public, read-only: an allocation failed since the last reset */
} hps_buf;

/* Empty b (keeps its memory) and clear `failed`. */
void hps_buf_reset(hps_buf *b);

/* Free b's memory and zero it; NULL-safe. */
void hps_buf_free(hps_buf *b);

/* Make room for n more bytes (sets failed on allocation failure). */
void hps_buf_grow(hps_buf *b, size_t n);

/* HPS_OK, or HPS_ENOMEM when an append failed since the last reset. */
int hps_buf_status(const hps_buf *b);

/* Append n bytes (p may be NULL when n is 0). Inline: payloads are built from many
 * small fields on the hot path. */
static inline void hps_buf_put(hps_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap)
        hps_buf_grow(b, n);
    if (b->failed)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Append one field by value: HPS_BUF_PUT(b, x) copies sizeof x bytes of x. */
#define HPS_BUF_PUT(b, v) hps_buf_put((b), &(v), sizeof(v))

/*
 * A reader over packed bytes that refuses to read past the end: every get after
 * the first short read zero-fills its output and leaves `bad` set, so a decoder
 * reads all its fields and checks once.
 */
typedef struct hps_cursor {
    const unsigned char *p;
    size_t left;
    int bad;
} hps_cursor;

static inline hps_cursor hps_cursor_make(const void *p, size_t len)
{
    hps_cursor c = {(const unsigned char *)p, len, 0};
    return c;
}

/* Copy n bytes into out (zeros and `bad` when fewer are left). Inline: decoders
 * read records field by field on the hot path. */
static inline void hps_cursor_get(hps_cursor *c, void *out, size_t n)
{
    if (c->bad || c->left < n) {
        c->bad = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, c->p, n);
    c->p += n;
    c->left -= n;
}

/* Point *out at the next n bytes without copying (NULL and `bad` when fewer are left). */
static inline void hps_cursor_view(hps_cursor *c, const void **out, size_t n)
{
    if (c->bad || c->left < n) {
        c->bad = 1;
        *out = NULL;
        return;
    }
    *out = c->p;
    c->p += n;
    c->left -= n;
}

#define HPS_CURSOR_GET(c, v) hps_cursor_get((c), &(v), sizeof(v))

/* HPS_OK when nothing went wrong and every byte was read, else HPS_ECORRUPT. */
int hps_cursor_finish(const hps_cursor *c);

#endif
