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
    for (int i = 0; i < HPS_STORE_RATE_WINDOW; i++)
        ix->window[i].second = INT64_MIN;
}

void hps_store_index_free(hps_store_index *ix)
{
    if (!ix)
        return;
    free(ix->running);
    hps_store_index_init(ix, ix->maximize);
}

/* The whole Unix second of t (finite), within what an int64 holds. */
static int64_t second_of(double t)
{
    const double lim = 9e15; /* past any clock; keeps the conversion defined */
    return (int64_t)floor(fmax(-lim, fmin(lim, t)));
}

int hps_store_in_rate_window(double end, double t1)
{
    return isfinite(end) && isfinite(t1) && end <= t1 &&
           second_of(end) > second_of(t1) - HPS_STORE_RATE_WINDOW;
}

void hps_store_index_rate(const hps_store_index *ix, int64_t *n, double *first)
{
    *n = 0;
    *first = ix->last;
    if (!isfinite(ix->last))
        return;
    int64_t top = second_of(ix->last);
    for (int i = 0; i < HPS_STORE_RATE_WINDOW; i++) {
        const hps_store_index_second *w = &ix->window[i];
        if (w->second != INT64_MIN && w->second > top - HPS_STORE_RATE_WINDOW) {
            *n += w->n;
            *first = fmin(*first, w->first);
        }
    }
}

/* Count finished trial t in its second of the window, ix->last already taking its
 * end: a slot holding an earlier second holds one the window has left. */
static void window_add(hps_store_index *ix, const hps_trial *t)
{
    if (!hps_store_in_rate_window(t->end, ix->last))
        return;
    int64_t s = second_of(t->end);
    hps_store_index_second *w =
        &ix->window[((s % HPS_STORE_RATE_WINDOW) + HPS_STORE_RATE_WINDOW) % HPS_STORE_RATE_WINDOW];
    if (w->second != s)
        *w = (hps_store_index_second){s, 0, INFINITY};
    w->n++;
    w->first = fmin(w->first, t->start);
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

int hps_store_index_add(hps_store_index *ix, const hps_trial *t)
{
    int64_t r = ix->n_rows;
    /* The allocation first, so that a failure changes nothing. */
    if (t->status == HPS_TRIAL_RUNNING &&
        reserve((void **)&ix->running, ix->n_running, &ix->cap_running, sizeof *ix->running))
        return HPS_ENOMEM;
    ix->n_rows++;
    ix->counts[0]++;
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
    if (finished(t) && isfinite(t->end)) {
        ix->last = fmax(ix->last, t->end);
        window_add(ix, t);
    }
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
    return HPS_OK;
}

/* Add trials[0..n) to ix; on failure ix is freed and empty. */
static int add_all(hps_store_index *ix, const hps_trial *trials, int64_t n)
{
    for (int64_t r = 0; r < n; r++)
        if (hps_store_index_add(ix, &trials[r]) != HPS_OK) {
            hps_store_index_free(ix);
            return HPS_ENOMEM;
        }
    return HPS_OK;
}

int hps_store_index_extend(hps_store_index *dst, const hps_store_index *src,
                           const hps_trial *trials, int64_t n)
{
    int rc = hps_store_index_copy(dst, src);
    return rc == HPS_OK ? add_all(dst, trials, n) : rc;
}

int hps_store_index_build(hps_store_index *ix, const hps_trial *trials, int64_t n, int maximize)
{
    hps_store_index_init(ix, maximize);
    return add_all(ix, trials, n);
}
