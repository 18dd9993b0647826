/*
 * hps_buf and hps_cursor (see buf.h).
 */
#include <stdlib.h>

#include "buf.h"
#include "grow.h"
#include "hpsweep/error.h"

void hps_buf_reset(hps_buf *b)
{
    b->len = 0;
    b->failed = 0;
}

void hps_buf_free(hps_buf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void hps_buf_grow(hps_buf *b, size_t n)
{
    if (b->failed || b->len + n <= b->cap)
        return;
    if (n > SIZE_MAX - b->len) {
        b->failed = 1;
        return;
    }
    unsigned char *d = hps_grow(b->data, &b->cap, b->len + n, 1, 256);
    if (!d) {
        b->failed = 1;
        return;
    }
    b->data = d;
}

int hps_buf_status(const hps_buf *b)
{
    return b->failed ? HPS_ENOMEM : HPS_OK;
}

int hps_cursor_finish(const hps_cursor *c)
{
    return (c->bad || c->left != 0) ? HPS_ECORRUPT : HPS_OK;
}
