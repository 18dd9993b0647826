/*
 * The schedulers of the multi-fidelity strategies: which trial runs next, at which
 * budget.
 *
 * Hyperband. Brackets are opened in the order s = s_max, s_max - 1, ..., 0, then
 * again from s_max, forever (the engine ends the sweep). Bracket s starts
 * n = ceil((s_max+1)/(s+1) * eta^s) configurations at budget max * eta^-s (rung 0).
 * When every run of rung i has a result, its best floor(n_i/eta) successful runs
 * (failures rank last and are never promoted) are queued for rung i+1 at eta times
 * the budget; the bracket ends after rung s or when a rung promotes nobody.
 * suggest() picks, in order: a queued promotion of the oldest bracket that has one;
 * the next configuration of the newest bracket's rung 0; the first configuration
 * of a new bracket. So a worker never waits for a rung to finish: it starts the
 * next bracket's configurations instead, and several brackets can be in flight.
 *
 * ASHA. Rungs k = 0..s_max at budget max * eta^(k - s_max) (= min * eta^k when
 * max/min is a power of eta; otherwise the top rung is exactly max_resource and the
 * bottom one is at least min_resource). suggest() looks from rung s_max - 1 down to
 * 0 for a run that is among the best floor(m_k/eta) of the m_k finished runs of
 * its rung and not yet promoted, and promotes the best such; if there is none it
 * starts a new configuration at rung 0. A failed run counts in m_k, ranks last and
 * is never promoted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "hyperband.h"
#include "strategies.h"

/* ---- arithmetic ------------------------------------------------------------------------ */

static int64_t ipow(int64_t b, int e)
{
    int64_t p = 1;
    for (int i = 0; i < e; i++)
        p *= b;
    return p;
}

int hb_s_max(double min_r, double max_r, int eta)
{
    int s = 0;
    double p = min_r;
    /* a relative slack so that e.g. 81 / 1 with eta 3 gives 4, not 3 */
    while (p * eta <= max_r * (1.0 + 1e-9)) {
        p *= eta;
        s++;
    }
    return s;
}

int64_t hb_rung_n(int s_max, int s, int i, int eta)
{
    int64_t n = ((int64_t)(s_max + 1) * ipow(eta, s) + s) / (s + 1); /* ceil */
    return n / ipow(eta, i);
}

double hb_rung_budget(double max_r, int s, int i, int eta)
{
    return i >= s ? max_r : max_r / (double)ipow(eta, s - i);
}

/* ---- rungs ---------------------------------------------------------------------------- */

int hb_rung_add(hb_rung *r, int t)
{
    hb_entry *e = hps_grow(r->e, &r->cap, (size_t)r->n + 1, sizeof *e, 16);
    if (!e)
        return HPS_ENOMEM;
    r->e = e;
    r->e[r->n] = (hb_entry){.t = t, .state = HB_RUNNING, .value = 0.0};
    return r->n++;
}

hb_entry *hb_trial_entry(hb_state *s, int t)
{
    const hb_trial *tr = &s->t[t];
    hb_rung *r = s->kind == HB_ASHA ? &s->asha[tr->rung] : &s->br[tr->bracket].rungs[tr->rung];
    return &r->e[tr->entry];
}

static int cmp_rank(const void *a, const void *b)
{
    const hb_rank_item *x = a, *y = b;
    if (x->value < y->value)
        return -1;
    if (x->value > y->value)
        return 1;
    return (x->id > y->id) - (x->id < y->id);
}

int hb_rank(hb_state *s, const hb_rung *r)
{
    if (r->n > s->sortcap) {
        int cap = (int)hps_grow_cap((size_t)s->sortcap, (size_t)r->n, 64);
        hb_rank_item *b = realloc(s->sortbuf, sizeof *b * (size_t)cap);
        if (!b)
            return HPS_ENOMEM;
        s->sortbuf = b;
        s->sortcap = cap;
    }
    int m = 0;
    for (int i = 0; i < r->n; i++)
        if (r->e[i].state != HB_RUNNING)
            s->sortbuf[m++] = (hb_rank_item){.value = r->e[i].state == HB_DONE ? r->e[i].value
                                                                                : HUGE_VAL,
                                             .id = s->t[r->e[i].t].id,
                                             .idx = i};
    qsort(s->sortbuf, (size_t)m, sizeof *s->sortbuf, cmp_rank);
    return m;
}

/* Continue trial t (whose current entry e finished) into rung r at index `rung`. */
static int promote(hb_state *s, hps_suggestion *out, int t, hb_entry *e, hb_rung *r, int rung,
                   double budget, int bracket_s)
{
    int idx = hb_rung_add(r, t);
    if (idx < 0)
        return idx;
    e->promoted = 1;
    hb_trial *tr = &s->t[t];
    tr->rung = rung;
    tr->entry = idx;
    tr->running = 1;
    out->trial_id = tr->id;
    out->promotion = 1;
    memcpy(out->u, s->us + (size_t)t * s->d, sizeof(double) * (size_t)s->d);
    out->budget = budget;
    out->bracket = bracket_s;
    out->rung = rung;
    return HPS_OK;
}

/* ---- hyperband ------------------------------------------------------------------------- */

static int open_bracket(hb_state *s)
{
    hb_bracket *b = hps_grow(s->br, &s->capbr, (size_t)s->nbr + 1, sizeof *b, 8);
    if (!b)
        return HPS_ENOMEM;
    s->br = b;
    int sb = s->next_s;
    hb_rung *rungs = calloc((size_t)sb + 1, sizeof *rungs);
    if (!rungs)
        return HPS_ENOMEM;
    s->br[s->nbr++] = (hb_bracket){.s = sb, .n0 = hb_rung_n(s->s_max, sb, 0, s->eta),
                                   .rungs = rungs};
    s->next_s = sb > 0 ? sb - 1 : s->s_max;
    return HPS_OK;
}

int hb_suggest_hyperband(hb_state *s, hps_suggestion *out)
{
    for (int bi = s->first_active; bi < s->nbr; bi++) {
        hb_bracket *b = &s->br[bi];
        if (b->finished || b->next >= b->nq)
            continue;
        int t = b->queue[b->next];
        hb_entry *prev = hb_trial_entry(s, t);
        int rc = promote(s, out, t, prev, &b->rungs[b->cur], b->cur,
                         hb_rung_budget(s->max_r, b->s, b->cur, s->eta), b->s);
        if (rc != HPS_OK)
            return rc;
        if (++b->next == b->nq) {
            free(b->queue);
            b->queue = NULL;
        }
        return HPS_OK;
    }
    if (s->nbr == 0 || s->br[s->nbr - 1].started >= s->br[s->nbr - 1].n0) {
        int rc = open_bracket(s);
        if (rc != HPS_OK)
            return rc;
    }
    int bi = s->nbr - 1;
    hb_bracket *b = &s->br[bi];
    int k = hb_new_trial(s, out, &b->rungs[0], bi, 0);
    if (k < 0)
        return k;
    b->started++;
    out->budget = hb_rung_budget(s->max_r, b->s, 0, s->eta);
    out->bracket = b->s;
    out->rung = 0;
    return HPS_OK;
}

/* When bracket bi's current rung has every result, queue its promotions (or end
 * the bracket). */
static int check_rung(hb_state *s, int bi)
{
    hb_bracket *b = &s->br[bi];
    if (b->finished)
        return HPS_OK;
    hb_rung *r = &b->rungs[b->cur];
    int filled = b->cur == 0 ? b->started >= b->n0 : b->next >= b->nq;
    if (!filled || r->n_done < r->n)
        return HPS_OK;
    if (b->cur == b->s) {
        b->finished = 1;
        return HPS_OK;
    }
    int m = hb_rank(s, r);
    if (m < 0)
        return m;
    int top = r->n / s->eta, nq = 0;
    for (int j = 0; j < top && j < m; j++)
        if (r->e[s->sortbuf[j].idx].state == HB_DONE)
            nq++;
    if (nq == 0) {
        b->finished = 1;
        return HPS_OK;
    }
    int *q = malloc(sizeof *q * (size_t)nq);
    if (!q)
        return HPS_ENOMEM;
    for (int j = 0; j < nq; j++)
        q[j] = r->e[s->sortbuf[j].idx].t;
    free(b->queue);
    b->queue = q;
    b->nq = nq;
    b->next = 0;
    b->cur++;
    return HPS_OK;
}

int hb_after_result(hb_state *s, int t)
{
    int rc = check_rung(s, s->t[t].bracket);
    while (s->first_active < s->nbr && s->br[s->first_active].finished)
        s->first_active++;
    return rc;
}

/* ---- asha ---------------------------------------------------------------------------------- */

int hb_suggest_asha(hb_state *s, hps_suggestion *out)
{
    for (int k = s->s_max - 1; k >= 0; k--) {
        hb_rung *r = &s->asha[k];
        int top = r->n_done / s->eta;
        if (top == 0)
            continue;
        int m = hb_rank(s, r);
        if (m < 0)
            return m;
        for (int j = 0; j < top && j < m; j++) {
            hb_entry *e = &r->e[s->sortbuf[j].idx];
            if (e->state != HB_DONE)
                break; /* failures rank last: nothing promotable below */
            if (!e->promoted)
                return promote(s, out, e->t, e, &s->asha[k + 1], k + 1,
                               hb_rung_budget(s->max_r, s->s_max, k + 1, s->eta), 0);
        }
    }
    int t = hb_new_trial(s, out, &s->asha[0], -1, 0);
    if (t < 0)
        return t;
    out->budget = hb_rung_budget(s->max_r, s->s_max, 0, s->eta);
    out->bracket = 0;
    out->rung = 0;
    return HPS_OK;
}
