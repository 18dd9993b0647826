/*
 * Batch staging of stage.h: two page-locked slots on a device backend, none on
 * a host one.
 */
#include "stage.h"

#include <string.h>

#include "hpsweep/error.h"

int hps_stage_init(hps_stage *st, hps_mlp *m)
{
    memset(st, 0, sizeof *st);
    st->m = m;
    st->direct = m->ops->host_memory;
    if (st->direct)
        return HPS_OK;
    const hps_train_ops *ops = m->ops;
    size_t rows = (size_t)m->cap;
    for (int k = 0; k < 2; k++) {
        st->x[k] = ops->host_alloc(m->be, rows * (size_t)m->dims[0] * sizeof(float));
        st->y[k] = ops->host_alloc(m->be, rows * 4);
        st->row_ids[k] = ops->host_alloc(m->be, rows * sizeof(int64_t));
        if (!st->x[k] || !st->y[k] || !st->row_ids[k]) {
            hps_stage_free(st);
            return HPS_ENOMEM;
        }
    }
    return HPS_OK;
}

void hps_stage_free(hps_stage *st)
{
    if (!st || !st->m)
        return;
    const hps_train_ops *ops = st->m->ops;
    for (int k = 0; k < 2; k++) {
        ops->host_free(st->m->be, st->x[k]);
        ops->host_free(st->m->be, st->y[k]);
        ops->host_free(st->m->be, st->row_ids[k]);
    }
    memset(st, 0, sizeof *st);
}

hps_stage_buf hps_stage_begin(hps_stage *st)
{
    hps_mlp *m = st->m;
    if (st->direct)
        return (hps_stage_buf){m->x, m->y, m->row_ids};
    m->ops->stage_wait(m->be, st->slot);
    return (hps_stage_buf){st->x[st->slot], st->y[st->slot], st->row_ids[st->slot]};
}

void hps_stage_end(hps_stage *st, int64_t rows, int with_ids)
{
    if (st->direct || rows <= 0)
        return;
    hps_mlp *m = st->m;
    const hps_train_ops *ops = m->ops;
    int k = st->slot;
    ops->to_backend(m->be, m->x, st->x[k], (size_t)rows * (size_t)m->dims[0] * sizeof(float));
    ops->to_backend(m->be, m->y, st->y[k], (size_t)rows * 4);
    if (with_ids)
        ops->to_backend(m->be, m->row_ids, st->row_ids[k], (size_t)rows * sizeof(int64_t));
    ops->stage_mark(m->be, k);
    st->slot = 1 - k;
}
