/*
 * Letting go of what sweep.h5 holds (see sweep.h): after each write a live sweep
 * (one that commits to a journal) drops its metric and rung rows, the stderr
 * tails of trials that will not run again, and the trials themselves once they
 * are final for good, a prefix at a time: trials [0, trials_spilled) are no
 * longer in memory, and the next write copies their /trials and /failures rows
 * from the file it replaces (hps_store_write_carry). What the sweep still needs of
 * them it keeps in a fixed size: the /trials index (best rows, counts, the rate
 * window) and the best spilled trial. So a sweep of a million trials holds the
 * trials since its oldest unfinished one, not all of them. Between writes, the
 * final trials are packed (hps_sweep_pack) as the compressed /trials rows the
 * next write takes as they are (store.h, hps_store_pack): trials that end faster
 * than sweep.h5 is rewritten wait there at some 20 bytes each.
 *
 * A trial is final for good when it failed or was pruned, or is done and the
 * strategy never promotes (HPS_STRATEGY_NO_PROMOTION): nothing can change its
 * row again. Deterministic sweeps keep every trial (a run's row changes at its
 * turn, after it was written), and so does a replay without a journal.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "sweep_internal.h"

/* A trial whose /failures row is final: failed or pruned (neither runs again),
 * with a tail. */
static int final_tail(const hps_trial *t)
{
    return (t->status == HPS_TRIAL_FAILED || t->status == HPS_TRIAL_PRUNED) && t->stderr_tail &&
           t->stderr_tail[0] != '\0';
}

static int has_tail(const hps_trial *t)
{
    return t->stderr_tail && t->stderr_tail[0] != '\0';
}

/* Let go of the stderr tails sweep.h5 now holds for good, adding their trials to
 * tails_spilled (kept ascending). Out of memory: the tails stay, nothing lost. */
static void spill_tails(hps_sweep *s)
{
    int64_t n = 0;
    for (int64_t i = s->trials_spilled; i < s->n_trials; i++)
        n += final_tail(hps_sweep_trial(s, i));
    if (n == 0)
        return;
    int64_t total = s->n_tails_spilled + n;
    int64_t *merged = malloc(sizeof *merged * (size_t)total);
    if (!merged)
        return;
    int64_t a = 0, k = 0;
    for (int64_t i = s->trials_spilled; i < s->n_trials; i++) {
        hps_trial *t = hps_sweep_trial(s, i);
        if (!final_tail(t))
            continue;
        while (a < s->n_tails_spilled && s->tails_spilled[a] < i)
            merged[k++] = s->tails_spilled[a++];
        merged[k++] = i;
        free(t->stderr_tail);
        t->stderr_tail = NULL;
    }
    while (a < s->n_tails_spilled)
        merged[k++] = s->tails_spilled[a++];
    free(s->tails_spilled);
    s->tails_spilled = merged;
    s->n_tails_spilled = total;
}

/* May s let go of trials at all? */
static int lets_go_of_trials(const hps_sweep *s)
{
    return s->journal && s->ops && !s->det.on;
}

/* Nothing can change t's row again. */
static int final_for_good(const hps_sweep *s, const hps_trial *t)
{
    switch (t->status) {
    case HPS_TRIAL_FAILED:
    case HPS_TRIAL_PRUNED:
        return 1;
    case HPS_TRIAL_DONE:
        return (s->ops->flags & HPS_STRATEGY_NO_PROMOTION) != 0;
    default:
        return 0;
    }
}

/* Move final_upto past the trials that became final for good since. */
static void advance_final(hps_sweep *s)
{
    if (s->final_upto < s->trials_spilled)
        s->final_upto = s->trials_spilled;
    /* Each trial is passed once: final for good stays final. */
    while (s->final_upto < s->n_trials && final_for_good(s, hps_sweep_trial(s, s->final_upto)))
        s->final_upto++;
}

int64_t hps_sweep_spillable(hps_sweep *s)
{
    if (!s->journal)
        return 0;
    int64_t rows = s->n_metrics + (s->det.on ? 0 : s->n_rungs);
    if (!lets_go_of_trials(s))
        return rows;
    advance_final(s);
    return rows + s->final_upto - s->trials_spilled + (s->pack ? hps_store_pack_rows(s->pack) : 0);
}

int64_t hps_sweep_held_bytes(hps_sweep *s)
{
    if (!s->journal)
        return 0;
    int64_t bytes = s->n_metrics * (int64_t)sizeof(hps_metric) +
                    (s->det.on ? 0 : s->n_rungs * (int64_t)sizeof(hps_rung));
    if (!lets_go_of_trials(s))
        return bytes;
    advance_final(s);
    int64_t per_trial = (int64_t)sizeof(hps_trial) + 2 * s->d * (int64_t)sizeof(double);
    return bytes + (s->final_upto - s->trials_spilled) * per_trial +
           (s->pack ? (int64_t)hps_store_pack_bytes(s->pack) : 0);
}

/* Keep t as the best spilled trial when it is better than the one kept, or is the
 * sweep's best (which wins ties as the result applied first). */
static void keep_best(hps_sweep *s, const hps_trial *t)
{
    if (t->status != HPS_TRIAL_DONE || isnan(t->objective))
        return;
    if (t->trial_id != s->best_id && s->best_spilled.trial_id >= 0 &&
        !hps_trial_better(t, &s->best_spilled, s->cfg.maximize))
        return;
    s->best_spilled = *t;
    s->best_spilled.stderr_tail = NULL;
    s->best_spilled.values = s->best_spilled_values;
    memcpy(s->best_spilled_values, t->values, sizeof(double) * (size_t)s->d);
}

/* Trials [trials_spilled, k) are let go of: the rest move to the front. */
static void drop_front(hps_sweep *s, int64_t k)
{
    int64_t base = s->trials_spilled;
    size_t d = (size_t)s->d, gone = (size_t)(k - base), keep = (size_t)(s->n_trials - k);
    memmove(s->trials, s->trials + gone, sizeof *s->trials * keep);
    memmove(s->u, s->u + gone * d, sizeof *s->u * keep * d);
    memmove(s->values, s->values + gone * d, sizeof *s->values * keep * d);
    for (size_t i = 0; i < keep; i++)
        s->trials[i].values = s->values + i * d;
    s->trials_spilled = k;
}

/* Let go of the final trials before the first that is not: their index rows, /failures
 * row count and best are kept. Out of memory: the rest stay, nothing lost. */
static void spill_trials(hps_sweep *s)
{
    if (!lets_go_of_trials(s))
        return;
    advance_final(s);
    int64_t base = s->trials_spilled, upto = s->final_upto, k = base, tail = 0;
    for (; k < upto; k++) {
        hps_trial *t = hps_sweep_trial(s, k);
        if (hps_store_index_add(&s->spilled_index, t) != HPS_OK)
            break;
        /* Its /failures row, if it has one: its own tail or one let go of before. */
        int carried = tail < s->n_tails_spilled && s->tails_spilled[tail] == k;
        tail += carried;
        s->failure_rows_spilled += carried || has_tail(t);
        keep_best(s, t);
        free(t->stderr_tail);
        t->stderr_tail = NULL;
    }
    if (k == base)
        return;
    if (tail > 0) {
        s->n_tails_spilled -= tail;
        memmove(s->tails_spilled, s->tails_spilled + tail, sizeof *s->tails_spilled *
                (size_t)s->n_tails_spilled);
    }
    drop_front(s, k);
}

void hps_sweep_pack(hps_sweep *s)
{
    if (!lets_go_of_trials(s) || s->pack_off)
        return;
    advance_final(s);
    int64_t base = s->trials_spilled, upto = s->final_upto, k = base;
    if (upto - base < HPS_SWEEP_PACK_ROWS || upto - base < s->n_trials - upto)
        return;
    char why[256];
    if (!s->pack && hps_store_pack_open(&s->pack, &s->cfg.space, base, why, sizeof why) != HPS_OK) {
        s->pack_off = 1;
        return;
    }
    for (; k < upto; k++) {
        hps_trial *t = hps_sweep_trial(s, k);
        /* A /failures row is the write's to make. */
        if (has_tail(t) || (s->n_tails_spilled > 0 && s->tails_spilled[0] == k))
            break;
        if (hps_store_pack_add(s->pack, t, why, sizeof why) != HPS_OK) {
            s->pack_off = 1;
            break;
        }
        if (hps_store_index_add(&s->spilled_index, t) != HPS_OK) {
            hps_store_pack_undo(s->pack);
            s->pack_off = 1;
            break;
        }
        keep_best(s, t);
    }
    if (k > base)
        drop_front(s, k);
}

void hps_sweep_spill(hps_sweep *s)
{
    if (!s->journal)
        return;
    /* sweep.h5 holds the packed rows now. */
    hps_store_pack_free(s->pack);
    s->pack = NULL;
    s->pack_off = 0;
    spill_tails(s);
    spill_trials(s);
    s->metrics_spilled += s->n_metrics;
    s->n_metrics = 0;
    free(s->metrics);
    s->metrics = NULL;
    s->cap_metrics = 0;
    /* A deterministic run's rung row turns pruned at the run's turn, after it was
     * written. */
    if (s->det.on)
        return;
    s->rungs_spilled += s->n_rungs;
    s->n_rungs = 0;
    free(s->rungs);
    s->rungs = NULL;
    s->cap_rungs = 0;
}

int hps_sweep_store_index(const hps_sweep *s, hps_store_index *ix)
{
    return hps_store_index_extend(ix, &s->spilled_index, s->trials,
                                  s->n_trials - s->trials_spilled);
}
