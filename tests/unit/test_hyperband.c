/*
 * Unit tests of the `hyperband` and `bohb` strategies: the successive-halving
 * arithmetic against Li et al.'s table (R = 81, eta = 3), a full Hyperband
 * iteration run one trial at a time (rung sizes and budgets per bracket,
 * promotions of the best 1/eta that keep their ids), no idle workers while rungs
 * wait, failures ranked last, option checks, and BOHB's model concentrating new
 * configurations near a planted optimum better than plain Hyperband does.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hpsweep/error.h"
#include "hpsweep/space.h"
#include "hpsweep/strategy.h"
#include "strategies/hyperband.h"

static hps_param params[2] = {
    {.name = (char *)"x", .type = HPS_PARAM_FLOAT, .low = 0.0, .high = 1.0},
    {.name = (char *)"y", .type = HPS_PARAM_FLOAT, .low = 0.0, .high = 1.0},
};
static hps_space space2 = {2, params};

typedef struct sug {
    int rc;
    int64_t id;
    int promotion;
    double budget;
    int bracket, rung;
    double u[2];
} sug;

static sug suggest_one(const hps_strategy_ops *ops, void *st, int64_t *next_id)
{
    sug r = {0};
    hps_suggestion s = {.u = r.u, .trial_id = *next_id, .bracket = -1, .rung = -1};
    r.rc = ops->suggest(st, &s);
    assert_int_equal(r.rc, HPS_OK);
    r.id = s.trial_id;
    r.promotion = s.promotion;
    r.budget = s.budget;
    r.bracket = s.bracket;
    r.rung = s.rung;
    if (!s.promotion) {
        assert_int_equal(s.trial_id, *next_id);
        (*next_id)++;
    }
    return r;
}

static void observe_final(const hps_strategy_ops *ops, void *st, const sug *r, double value,
                          int failed)
{
    hps_observation o = {.trial_id = r->id, .kind = failed ? HPS_OBS_FAILED : HPS_OBS_FINAL,
                         .u = r->u, .value = failed ? NAN : value, .resource = r->budget};
    assert_int_equal(ops->observe(st, &o, NULL), HPS_OK);
}

/* A value that depends on the point only (so ranks are the same at every budget). */
static double f_point(const double *u)
{
    return (u[0] - 0.8) * (u[0] - 0.8) + (u[1] - 0.2) * (u[1] - 0.2);
}

static void *make(const hps_strategy_ops *ops, const char **k, const char **v, int n,
                  uint64_t seed)
{
    hps_strategy_cfg cfg = {n, k, v};
    void *st = NULL;
    char err[256] = "";
    int rc = ops->create(&space2, n ? &cfg : NULL, seed, &st, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("create: %s (%s)", hps_err_name(rc), err);
    return st;
}

/* ---- arithmetic --------------------------------------------------------------------- */

static void test_paper_table(void **state)
{
    /* Li et al. 2018, Table 1 (R = 81, eta = 3): n_i configurations at r_i. */
    static const int64_t n[5][5] = {{5}, {8, 2}, {15, 5, 1}, {34, 11, 3, 1},
                                    {81, 27, 9, 3, 1}};
    static const double r[5][5] = {{81}, {27, 81}, {9, 27, 81}, {3, 9, 27, 81},
                                   {1, 3, 9, 27, 81}};
    assert_int_equal(hb_s_max(1.0, 81.0, 3), 4);
    for (int s = 0; s <= 4; s++)
        for (int i = 0; i <= s; i++) {
            assert_int_equal(hb_rung_n(4, s, i, 3), n[s][i]);
            assert_true(hb_rung_budget(81.0, s, i, 3) == r[s][i]);
        }
    /* units: min_resource scales nothing but s_max */
    assert_int_equal(hb_s_max(0.5, 40.5, 3), 4);
    assert_int_equal(hb_s_max(1.0, 80.0, 3), 3);
    assert_int_equal(hb_s_max(2.0, 2.0, 3), 0);
    assert_int_equal(hb_s_max(1.0, 1024.0, 2), 10);
    assert_int_equal(hb_rung_n(0, 0, 0, 3), 1);
}

/* One full Hyperband iteration, one trial at a time: every (bracket, rung) has the
 * paper's size and budget; promotions keep ids, are the best 1/eta of their rung
 * (best first) and grow the budget. */
static void test_one_iteration(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("hyperband");
    assert_non_null(ops);
    assert_true(ops->flags & HPS_STRATEGY_ADAPTIVE);
    void *st = make(ops, NULL, NULL, 0, 11);
    int64_t next = 0;
    int count[5][5] = {{0}};
    const int total = 81 + 27 + 9 + 3 + 1 + 34 + 11 + 3 + 1 + 15 + 5 + 1 + 8 + 2 + 5;
    double *val = calloc(400, sizeof *val);
    double *last_budget = calloc(400, sizeof *last_budget);
    assert_non_null(val);
    assert_non_null(last_budget);
    /* the rung-0 values of the current bracket, to check who gets promoted */
    int cur_bracket = -1, cur_rung = -1;
    double prev_rung_vals[100];
    int64_t prev_rung_ids[100];
    int nprev = 0, ncur = 0;
    double cur_vals[100];
    int64_t cur_ids[100];
    for (int k = 0; k < total; k++) {
        sug r = suggest_one(ops, st, &next);
        assert_true(r.bracket >= 0 && r.bracket <= 4 && r.rung >= 0 && r.rung <= r.bracket);
        assert_true(r.budget == hb_rung_budget(81.0, r.bracket, r.rung, 3));
        if (r.bracket != cur_bracket || r.rung != cur_rung) {
            /* a new rung: it must follow the last one of the same bracket */
            if (r.bracket == cur_bracket) {
                assert_int_equal(r.rung, cur_rung + 1);
                memcpy(prev_rung_vals, cur_vals, sizeof cur_vals);
                memcpy(prev_rung_ids, cur_ids, sizeof cur_ids);
                nprev = ncur;
            } else {
                assert_int_equal(r.rung, 0);
                nprev = 0;
            }
            cur_bracket = r.bracket;
            cur_rung = r.rung;
            ncur = 0;
        }
        assert_int_equal(r.promotion, r.rung > 0);
        if (r.promotion) {
            assert_true(r.id < next);
            assert_true(r.budget > last_budget[r.id]);
            /* the ncur-th promotion is the ncur-th best of the previous rung */
            int better = 0;
            double v = val[r.id];
            for (int j = 0; j < nprev; j++)
                better += prev_rung_vals[j] < v;
            assert_int_equal(better, ncur);
            int found = 0;
            for (int j = 0; j < nprev; j++)
                found |= prev_rung_ids[j] == r.id;
            assert_true(found);
        } else {
            val[r.id] = f_point(r.u);
        }
        last_budget[r.id] = r.budget;
        cur_vals[ncur] = val[r.id];
        cur_ids[ncur++] = r.id;
        count[r.bracket][r.rung]++;
        observe_final(ops, st, &r, val[r.id], 0);
    }
    for (int s = 0; s <= 4; s++)
        for (int i = 0; i <= s; i++)
            assert_int_equal(count[s][i], hb_rung_n(4, s, i, 3));
    /* then it starts over at s_max with new configurations */
    sug r = suggest_one(ops, st, &next);
    assert_int_equal(r.bracket, 4);
    assert_int_equal(r.rung, 0);
    assert_int_equal(r.promotion, 0);
    assert_true(r.budget == 1.0);
    free(val);
    free(last_budget);
    ops->destroy(st);
}

/* 8 outstanding suggestions and no results: suggest never stalls; it moves on to
 * the next brackets' configurations. Results then release promotions of the oldest
 * bracket first. */
static void test_no_idle_workers(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("hyperband");
    void *st = make(ops, NULL, NULL, 0, 3);
    int64_t next = 0;
    sug *all = calloc(300, sizeof *all);
    assert_non_null(all);
    for (int k = 0; k < 200; k++) {
        all[k] = suggest_one(ops, st, &next);
        assert_int_equal(all[k].promotion, 0);
        int want_s = k < 81 ? 4 : k < 81 + 34 ? 3 : k < 81 + 34 + 15 ? 2 : k < 138 ? 1 : 0;
        if (k < 143)
            assert_int_equal(all[k].bracket, want_s);
    }
    /* s = 0 (5 configurations) ends the first iteration, then s = 4 again */
    assert_int_equal(all[143].bracket, 4);
    /* finish bracket 3's rung 0 (trials 81..114) before bracket 4's: its promotions come
     * first since bracket 4 still waits */
    for (int k = 81; k < 115; k++)
        observe_final(ops, st, &all[k], f_point(all[k].u), 0);
    sug p = suggest_one(ops, st, &next);
    assert_int_equal(p.promotion, 1);
    assert_int_equal(p.bracket, 3);
    assert_int_equal(p.rung, 1);
    assert_true(p.budget == 9.0);
    /* now bracket 4 completes rung 0: its promotions take priority (older bracket) */
    for (int k = 0; k < 81; k++)
        observe_final(ops, st, &all[k], f_point(all[k].u), 0);
    p = suggest_one(ops, st, &next);
    assert_int_equal(p.promotion, 1);
    assert_int_equal(p.bracket, 4);
    assert_true(p.budget == 3.0);
    free(all);
    ops->destroy(st);
}

/* Failed runs rank last and are never promoted; a rung where all runs fail ends
 * its bracket. */
static void test_failures(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("hyperband");
    const char *k[] = {"max_resource", "eta"}, *v[] = {"9", "3"};
    void *st = make(ops, k, v, 2, 5);
    /* s_max = 2: bracket 2 has 9 configurations at 1, 3 at 3, 1 at 9 */
    int64_t next = 0;
    sug r[9];
    for (int i = 0; i < 9; i++)
        r[i] = suggest_one(ops, st, &next);
    /* the 6 best-looking by point fail; the three that succeed get promoted */
    for (int i = 0; i < 9; i++)
        observe_final(ops, st, &r[i], 100.0 + i, i < 6);
    for (int i = 0; i < 3; i++) {
        sug p = suggest_one(ops, st, &next);
        assert_int_equal(p.promotion, 1);
        assert_int_equal(p.id, 6 + i);
        assert_true(p.budget == 3.0);
        observe_final(ops, st, &p, 1.0, 1); /* and all fail at rung 1 */
    }
    /* bracket 2 ended: the next is bracket 1's first configuration */
    sug n = suggest_one(ops, st, &next);
    assert_int_equal(n.promotion, 0);
    assert_int_equal(n.bracket, 1);
    assert_true(n.budget == 3.0);
    /* an observation of an unknown trial is ignored; intermediate ones continue */
    hps_observation o = {.trial_id = 999, .kind = HPS_OBS_FINAL, .u = n.u, .value = 1.0};
    assert_int_equal(ops->observe(st, &o, NULL), HPS_OK);
    hps_decision d = HPS_DECISION_STOP;
    o = (hps_observation){.trial_id = n.id, .kind = HPS_OBS_INTERMEDIATE, .u = n.u, .value = 5};
    assert_int_equal(ops->observe(st, &o, &d), HPS_OK);
    assert_int_equal(d, HPS_DECISION_CONTINUE);
    ops->destroy(st);
}

static void test_bad_options(void **state)
{
    const char *names[] = {"hyperband", "asha", "bohb"};
    for (int i = 0; i < 3; i++) {
        const hps_strategy_ops *ops = hps_strategy_find(names[i]);
        assert_non_null(ops);
        const char *k[] = {"min_resource", "max_resource"}, *v[] = {"10", "5"};
        hps_strategy_cfg cfg = {2, k, v};
        void *st = (void *)1;
        char err[256] = "";
        assert_int_equal(ops->create(&space2, &cfg, 1, &st, err, sizeof err), HPS_ECONFIG);
        assert_null(st);
        assert_non_null(strstr(err, "max_resource"));
        assert_int_equal(ops->create(&space2, &cfg, 1, &st, NULL, 0), HPS_ECONFIG);
        /* min == max: one rung at the full budget */
        const char *v2[] = {"4", "4"};
        cfg.values = v2;
        assert_int_equal(ops->create(&space2, &cfg, 1, &st, err, sizeof err), HPS_OK);
        int64_t next = 0;
        sug r = suggest_one(ops, st, &next);
        assert_true(r.budget == 4.0);
        assert_int_equal(r.rung, 0);
        ops->destroy(st);
    }
}

/* ---- bohb ---------------------------------------------------------------------------- */

/* Run n trials one at a time (value = f_point + a budget-dependent offset) and
 * return the mean distance to the optimum (0.8, 0.2) of the last `tail` new
 * configurations. */
static double run_concentration(const char *name, const char **k, const char **v, int nk,
                                uint64_t seed, int n, int tail)
{
    const hps_strategy_ops *ops = hps_strategy_find(name);
    void *st = make(ops, k, v, nk, seed);
    int64_t next = 0;
    double *dist = calloc((size_t)n, sizeof *dist);
    assert_non_null(dist);
    int nn = 0;
    for (int i = 0; i < n; i++) {
        sug r = suggest_one(ops, st, &next);
        if (!r.promotion)
            dist[nn++] = sqrt(f_point(r.u));
        observe_final(ops, st, &r, f_point(r.u) + 1.0 / r.budget, 0);
    }
    double m = 0.0;
    int c = 0;
    for (int i = nn - tail; i < nn; i++, c++)
        m += dist[i];
    free(dist);
    ops->destroy(st);
    return m / c;
}

static void test_bohb_model(void **state)
{
    const hps_strategy_ops *ops = hps_strategy_find("bohb");
    assert_non_null(ops);
    assert_true(ops->flags & HPS_STRATEGY_ADAPTIVE);
    const char *k[] = {"max_resource", "random_fraction"}, *v[] = {"27", "0"};
    const char *kg[] = {"max_resource", "sampler", "random_fraction"}, *vg[] = {"27", "gp", "0"};
    double hb = 0.0, bohb = 0.0, bohb_dflt = 0.0, gp = 0.0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        hb += run_concentration("hyperband", k, v, 1, seed, 160, 60) / 3;
        bohb += run_concentration("bohb", k, v, 2, seed, 160, 60) / 3;
        bohb_dflt += run_concentration("bohb", k, v, 1, seed, 160, 60) / 3;
        gp += run_concentration("hyperband", kg, vg, 3, seed, 160, 60) / 3;
    }
    print_message("mean distance to the optimum of late new configurations: hyperband %.3f, "
                  "bohb %.3f (random_fraction 1/3: %.3f), hyperband(sampler gp) %.3f\n", hb,
                  bohb, bohb_dflt, gp);
    /* the models concentrate; a third of uniform points dilutes it (measured: 0.54,
     * 0.37, 0.42, 0.21) */
    assert_true(bohb < 0.75 * hb);
    assert_true(gp < 0.6 * hb);
    assert_true(bohb_dflt < 0.85 * hb);
    assert_true(bohb_dflt > bohb);

    /* random_fraction 1: BOHB is Hyperband with uniform points */
    const char *k1[] = {"max_resource", "random_fraction"}, *v1[] = {"27", "1"};
    double all_random = 0.0;
    for (uint64_t seed = 1; seed <= 3; seed++)
        all_random += run_concentration("bohb", k1, v1, 2, seed, 160, 60) / 3;
    assert_true(all_random > 0.8 * hb);
}

/* The same call sequence gives the same suggestions with a model sampler, and the
 * stale-pending rebuild keeps it so (many configurations eliminated at low budgets). */
static void test_bohb_determinism(void **state)
{
    for (int rep = 0; rep < 2; rep++) {
        const hps_strategy_ops *ops = hps_strategy_find("bohb");
        const char *k[] = {"random_fraction"}, *v[] = {"0"};
        void *a = make(ops, k, v, 1, 77), *b = make(ops, k, v, 1, 77);
        int64_t na = 0, nb = 0;
        for (int i = 0; i < 300; i++) {
            sug ra = suggest_one(ops, a, &na), rb = suggest_one(ops, b, &nb);
            assert_memory_equal(&ra, &rb, sizeof ra);
            observe_final(ops, a, &ra, f_point(ra.u) + 1.0 / ra.budget, ra.id % 11 == 4);
            observe_final(ops, b, &rb, f_point(rb.u) + 1.0 / rb.budget, rb.id % 11 == 4);
        }
        ops->destroy(a);
        ops->destroy(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_table),
        cmocka_unit_test(test_one_iteration),
        cmocka_unit_test(test_no_idle_workers),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bohb_model),
        cmocka_unit_test(test_bohb_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
