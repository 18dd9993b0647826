/*
 * Unit tests of the `median` pruner: no pruning before n_startup_trials completed
 * or before n_warmup_steps, off the interval grid, or for a curve at least as good
 * as the median; a clearly worse curve is stopped; completed trials' values at the
 * nearest earlier step count; failed and pruned trials do not set the median; the
 * pruner registry.
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
#include "hpsweep/strategy.h"

static const hps_pruner_ops *ops(void)
{
    const hps_pruner_ops *p = hps_pruner_find("median");
    assert_non_null(p);
    return p;
}

static void *make(const char *k1, const char *v1, const char *k2, const char *v2)
{
    const char *k[] = {k1, k2}, *v[] = {v1, v2};
    hps_strategy_cfg cfg = {k2 ? 2 : k1 ? 1 : 0, k, v};
    void *st = NULL;
    char err[128] = "";
    assert_int_equal(ops()->create(k1 ? &cfg : NULL, &st, err, sizeof err), HPS_OK);
    assert_non_null(st);
    return st;
}

static hps_decision report(void *st, int64_t id, int64_t step, double value)
{
    hps_observation o = {.trial_id = id, .kind = HPS_OBS_INTERMEDIATE, .value = value,
                         .resource = (double)step, .step = step};
    hps_decision d = HPS_DECISION_PAUSE;
    assert_int_equal(ops()->report(st, &o, &d), HPS_OK);
    assert_true(d == HPS_DECISION_CONTINUE || d == HPS_DECISION_STOP);
    return d;
}

static void finish(void *st, int64_t id, hps_obs_kind kind, double value)
{
    hps_observation o = {.trial_id = id, .kind = kind, .value = value};
    assert_int_equal(ops()->finish(st, &o), HPS_OK);
}

/* A completed trial with curve value(step) = base + 10/step, steps 1..10. */
static void complete(void *st, int64_t id, double base)
{
    for (int s = 1; s <= 10; s++)
        assert_int_equal(report(st, id, s, base + 10.0 / s), HPS_DECISION_CONTINUE);
    finish(st, id, HPS_OBS_FINAL, base + 1.0);
}

static void test_startup(void **state)
{
    void *st = make(NULL, NULL, NULL, NULL); /* n_startup_trials 5 */
    for (int i = 0; i < 4; i++)
        complete(st, i, (double)i);
    /* a terrible curve: only 4 completed, no pruning */
    for (int s = 1; s <= 10; s++)
        assert_int_equal(report(st, 100, s, 1000.0), HPS_DECISION_CONTINUE);
    complete(st, 4, 4.0);
    /* 5 completed (medians 2 + 10/step): now stopped at its next report */
    assert_int_equal(report(st, 101, 1, 1000.0), HPS_DECISION_STOP);
    ops()->destroy(st);
}

static void test_warmup_and_better(void **state)
{
    void *st = make("n_warmup_steps", "3", NULL, NULL);
    for (int i = 0; i < 5; i++)
        complete(st, i, (double)i); /* median at step s: 2 + 10/s */
    assert_int_equal(report(st, 50, 1, 100.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 50, 2, 100.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 50, 3, 100.0), HPS_DECISION_STOP);
    /* a better curve is never stopped */
    for (int s = 1; s <= 10; s++)
        assert_int_equal(report(st, 51, s, 0.5 + 10.0 / s), HPS_DECISION_CONTINUE);
    /* equal to the median: not worse, continues */
    assert_int_equal(report(st, 52, 4, 2.0 + 10.0 / 4), HPS_DECISION_CONTINUE);
    /* the best value so far counts, not the last: a curve that was good and got
     * worse is kept */
    assert_int_equal(report(st, 53, 4, 1.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 53, 5, 50.0), HPS_DECISION_CONTINUE);
    /* NaN is pruned */
    assert_int_equal(report(st, 54, 4, NAN), HPS_DECISION_STOP);
    ops()->destroy(st);
}

static void test_interval(void **state)
{
    void *st = make("n_warmup_steps", "2", "interval_steps", "3");
    for (int i = 0; i < 5; i++)
        complete(st, i, (double)i);
    /* checked at steps 2, 5, 8 only */
    assert_int_equal(report(st, 60, 1, 100.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 60, 3, 100.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 60, 4, 100.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 60, 5, 100.0), HPS_DECISION_STOP);
    assert_int_equal(report(st, 61, 2, 100.0), HPS_DECISION_STOP);
    ops()->destroy(st);
}

/* Completed trials that reported only at even steps are read at the nearest
 * earlier step; a completed trial without a report at or before the step is left
 * out; with none at all, continue. */
static void test_nearest_earlier_step(void **state)
{
    void *st = make("n_startup_trials", "3", NULL, NULL);
    for (int i = 0; i < 3; i++) {
        for (int s = 2; s <= 10; s += 2)
            report(st, i, s, 10.0 * i + 1.0); /* 1, 11, 21 at every even step */
        finish(st, i, HPS_OBS_FINAL, 10.0 * i + 1.0);
    }
    /* step 1: no completed trial has a value yet */
    assert_int_equal(report(st, 70, 1, 1000.0), HPS_DECISION_CONTINUE);
    /* step 3: uses step 2's values, median 11 */
    assert_int_equal(report(st, 71, 3, 10.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 72, 3, 12.0), HPS_DECISION_STOP);
    ops()->destroy(st);
}

/* Failed and pruned trials do not set the median. */
static void test_only_completed(void **state)
{
    void *st = make("n_startup_trials", "1", NULL, NULL);
    complete(st, 0, 0.0); /* median = its own curve: 10/s */
    /* a pruned trial finishing later does not count */
    assert_int_equal(report(st, 1, 1, 100.0), HPS_DECISION_STOP);
    finish(st, 1, HPS_OBS_FINAL, 100.0);
    /* failures do not count either */
    report(st, 2, 1, 0.0);
    finish(st, 2, HPS_OBS_FAILED, NAN);
    /* median at step 1 is still 10: 9 continues, 11 stops */
    assert_int_equal(report(st, 3, 1, 9.0), HPS_DECISION_CONTINUE);
    assert_int_equal(report(st, 4, 1, 11.0), HPS_DECISION_STOP);
    /* determinism: a second pruner fed the same calls decides the same */
    ops()->destroy(st);
}

static void test_registry(void **state)
{
    const hps_pruner_ops *const *list = hps_pruner_list();
    assert_non_null(list);
    assert_ptr_equal(list[0], ops());
    assert_null(hps_pruner_find("no-such-pruner"));
    assert_null(hps_pruner_find(NULL));
    for (size_t i = 0; list[i]; i++) {
        assert_int_equal(list[i]->version, HPS_STRATEGY_VERSION);
        assert_ptr_equal(hps_pruner_find(list[i]->name), list[i]);
        assert_non_null(list[i]->create);
        assert_non_null(list[i]->report);
        assert_non_null(list[i]->finish);
        for (const hps_option_spec *o = list[i]->options; o->name; o++)
            assert_non_null(o->help);
        list[i]->destroy(NULL);
    }
    /* a bad option value fails cleanly */
    const char *k[] = {"interval_steps"}, *v[] = {"0"};
    hps_strategy_cfg cfg = {1, k, v};
    void *st = (void *)1;
    char err[128] = "";
    assert_int_equal(ops()->create(&cfg, &st, err, sizeof err), HPS_ECONFIG);
    assert_null(st);
    assert_true(err[0] != '\0');
}

/* Many trials and steps in scrambled order: two pruners fed the same calls agree. */
static void test_deterministic(void **state)
{
    void *a = make(NULL, NULL, NULL, NULL), *b = make(NULL, NULL, NULL, NULL);
    uint64_t x = 12345;
    int stops = 0;
    for (int i = 0; i < 3000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int64_t id = (int64_t)((x >> 33) % 60);
        int64_t step = (int64_t)((x >> 20) % 30);
        double v = (double)id * 0.1 + 5.0 / (double)(step + 1) + (double)((x >> 40) % 7) * 0.01;
        if ((x >> 50) % 17 == 0) {
            finish(a, id, HPS_OBS_FINAL, v);
            finish(b, id, HPS_OBS_FINAL, v);
        } else {
            hps_decision da = report(a, id, step, v), db = report(b, id, step, v);
            assert_int_equal(da, db);
            stops += da == HPS_DECISION_STOP;
        }
    }
    assert_true(stops > 0);
    ops()->destroy(a);
    ops()->destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup),
        cmocka_unit_test(test_warmup_and_better),
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_nearest_earlier_step),
        cmocka_unit_test(test_only_completed),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
