/*
 * The compact index the /trials attributes are written from (hps_store_index,
 * store.h): the ranking (ranked_rows, best_rows) and the status summary, kept
 * up to date one row at a time instead of by a scan of every trial, so that a
 * writer that no longer holds its finished trials can still write them. Adding
 * rows 0..n-1 in order gives exactly what a scan of those rows gives (the same
 * comparisons in the same order), which the index tests check.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "hpsweep/error.h"

void hps_store_index_init(hps_store_index *ix, int maximize)
{
    memset(ix, 0, sizeof *ix);
    ix->maximize = maximize;
    ix->last = -INFINITY;
}

void hps_store_index_free(hps_store_index *ix)
{
    if (!ix)
        return;
    free(ix->ends);
    free(ix->running);
    memset(ix, 0, sizeof *ix);
}

static int finished(const hps_trial *t)
{
    return t->status == HPS_TRIAL_DONE || t->status == HPS_TRIAL_FAILED ||
           t->status == HPS_TRIAL_PRUNED;
}

/* hps_trial_better of a row and a ranked row. */
static int better(const hps_store_index *ix, double budget, double objective,
                  const hps_store_index_top *b)
{
    hps_trial x = {.status = HPS_TRIAL_DONE, .budget = budget, .objective = objective};
    hps_trial y = {.status = HPS_TRIAL_DONE, .budget = b->budget, .objective = b->objective};
    return hps_trial_better(&x, &y, ix->maximize);
}

/* Insert row r into the top rows if it belongs there. Rows come in increasing
 * order, so a tie goes after the rows already there. */
static void top_insert(hps_store_index *ix, int64_t r, const hps_trial *t)
{
    const int cap = HPS_STORE_BEST_ROWS;
    int n = ix->n_top;
    if (n == cap && !better(ix, t->budget, t->objective, &ix->top[n - 1]))
        return;
    int lo = 0, hi = n; /* first position whose row t beats */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (better(ix, t->budget, t->objective, &ix->top[mid]))
            hi = mid;
        else
            lo = mid + 1;
    }
    int last = n < cap ? n : cap - 1;
    for (int i = last; i > lo; i--)
        ix->top[i] = ix->top[i - 1];
    ix->top[lo] = (hps_store_index_top){r, t->budget, t->objective};
    if (n < cap)
        ix->n_top++;
}

/* Drop the ends that can no longer be in the window: the window ends at the
 * latest end, which only grows. */
static void prune_ends(hps_store_index *ix)
{
    double t0 = ix->last - HPS_STORE_RATE_WINDOW;
    size_t k = 0;
    for (size_t i = 0; i < ix->n_ends; i++)
        if (ix->ends[i].end > t0)
            ix->ends[k++] = ix->ends[i];
    ix->n_ends = ix->kept_ends = k;
}

/* Make room for one more element of an array (*cap elements of size sz). */
static int reserve(void **a, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return HPS_OK;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*a, c * sz);
    if (!p)
        return HPS_ENOMEM;
    *a = p;
    *cap = c;
    return HPS_OK;
}

static int add(hps_store_index *ix, const hps_trial *t);

int hps_store_index_add(hps_store_index *ix, const hps_trial *t)
{
    if (ix->fixed)
        return HPS_EINVAL;
    return add(ix, t);
}

/* hps_store_index_add, or for a fixed index a row of the table it was made from. */
static int add(hps_store_index *ix, const hps_trial *t)
{
    int64_t r = ix->n_rows;
    /* The allocations first, so that a failure changes nothing. */
    int keep_end = !ix->fixed && finished(t) && isfinite(t->end) &&
                   t->end > fmax(ix->last, t->end) - HPS_STORE_RATE_WINDOW;
    if (keep_end && ix->n_ends == ix->cap_ends && ix->n_ends >= 2 * ix->kept_ends + 16)
        prune_ends(ix);
    if (keep_end && reserve((void **)&ix->ends, ix->n_ends, &ix->cap_ends, sizeof *ix->ends))
        return HPS_ENOMEM;
    if (t->status == HPS_TRIAL_RUNNING &&
        reserve((void **)&ix->running, ix->n_running, &ix->cap_running, sizeof *ix->running))
        return HPS_ENOMEM;
    ix->n_rows++;
    ix->counts[0]++;
    if (ix->fixed && finished(t) && t->end > ix->last - HPS_STORE_RATE_WINDOW &&
        t->end <= ix->last) {
        ix->win_n++;
        ix->win_first = fmin(ix->win_first, t->start);
    }
    static const int slot[] = {[HPS_TRIAL_DONE] = 1, [HPS_TRIAL_RUNNING] = 2,
                               [HPS_TRIAL_FAILED] = 3, [HPS_TRIAL_INTERRUPTED] = 4,
                               [HPS_TRIAL_PRUNED] = 5};
    if (t->status >= 0 && t->status < (int)(sizeof slot / sizeof slot[0]))
        ix->counts[slot[t->status]]++;
    if (t->status == HPS_TRIAL_DONE && isfinite(t->objective)) {
        ix->ranked++;
        top_insert(ix, r, t);
    }
    if (t->status == HPS_TRIAL_RUNNING)
        ix->running[ix->n_running++] = r;
    if (!ix->fixed && finished(t) && isfinite(t->end))
        ix->last = fmax(ix->last, t->end);
    if (keep_end)
        ix->ends[ix->n_ends++] = (hps_store_index_end){t->end, t->start};
    if (t->status != HPS_TRIAL_FAILED)
        return HPS_OK;
    ix->failed[ix->n_failed++ % HPS_STORE_STATUS_FAILURES] = r;
    int c = 0; /* as status counts them: by cause text, first seen first */
    while (c < ix->n_causes && strcmp(ix->causes[c], t->cause) != 0)
        c++;
    if (c == ix->n_causes && c == HPS_STORE_STATUS_CAUSES) {
        ix->other_causes++;
        return HPS_OK;
    }
    if (c == ix->n_causes) {
        memcpy(ix->causes[c], t->cause, HPS_CAUSE_LEN);
        ix->causes[c][HPS_CAUSE_LEN - 1] = '\0';
        ix->cause_rows[c] = r;
        ix->cause_counts[c] = 0;
        ix->n_causes++;
    }
    ix->cause_counts[c]++;
    return HPS_OK;
}

int hps_store_index_copy(hps_store_index *dst, const hps_store_index *src)
{
    *dst = *src;
    dst->ends = NULL;
    dst->running = NULL;
    dst->cap_ends = dst->cap_running = 0;
    if (src->n_ends && !(dst->ends = malloc(src->n_ends * sizeof *dst->ends)))
        goto nomem;
    if (src->n_running && !(dst->running = malloc(src->n_running * sizeof *dst->running)))
        goto nomem;
    if (src->n_ends)
        memcpy(dst->ends, src->ends, src->n_ends * sizeof *dst->ends);
    if (src->n_running)
        memcpy(dst->running, src->running, src->n_running * sizeof *dst->running);
    dst->cap_ends = src->n_ends;
    dst->cap_running = src->n_running;
    return HPS_OK;
nomem:
    free(dst->ends);
    hps_store_index_init(dst, src->maximize);
    return HPS_ENOMEM;
}

int hps_store_index_extend(hps_store_index *dst, const hps_store_index *src,
                           const hps_trial *trials, int64_t n)
{
    if (src->fixed)
        return HPS_EINVAL;
    *dst = *src;
    dst->ends = NULL;
    dst->n_ends = dst->cap_ends = dst->kept_ends = 0;
    dst->running = NULL;
    dst->cap_running = 0;
    if (src->n_running) {
        if (!(dst->running = malloc(src->n_running * sizeof *dst->running))) {
            hps_store_index_init(dst, src->maximize);
            return HPS_ENOMEM;
        }
        memcpy(dst->running, src->running, src->n_running * sizeof *dst->running);
        dst->cap_running = src->n_running;
    }
    /* As hps_store_index_build: where the window ends is known first, src's kept
     * ends are counted in it, then the rows are added. */
    for (int64_t r = 0; r < n; r++)
        if (finished(&trials[r]) && isfinite(trials[r].end))
            dst->last = fmax(dst->last, trials[r].end);
    dst->fixed = 1;
    dst->win_n = 0;
    dst->win_first = dst->last;
    for (size_t i = 0; i < src->n_ends; i++) {
        const hps_store_index_end *e = &src->ends[i];
        if (e->end > dst->last - HPS_STORE_RATE_WINDOW && e->end <= dst->last) {
            dst->win_n++;
            dst->win_first = fmin(dst->win_first, e->start);
        }
    }
    for (int64_t r = 0; r < n; r++)
        if (add(dst, &trials[r]) != HPS_OK) {
            hps_store_index_free(dst);
            hps_store_index_init(dst, src->maximize);
            return HPS_ENOMEM;
        }
    return HPS_OK;
}

int hps_store_index_build(hps_store_index *ix, const hps_trial *trials, int64_t n, int maximize)
{
    hps_store_index_init(ix, maximize);
    for (int64_t r = 0; r < n; r++)
        if (finished(&trials[r]) && isfinite(trials[r].end))
            ix->last = fmax(ix->last, trials[r].end);
    ix->fixed = 1;
    ix->win_first = ix->last;
    for (int64_t r = 0; r < n; r++)
        if (add(ix, &trials[r]) != HPS_OK) {
            hps_store_index_free(ix);
            hps_store_index_init(ix, maximize);
            return HPS_ENOMEM;
        }
    return HPS_OK;
}
