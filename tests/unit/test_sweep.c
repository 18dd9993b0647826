/*
 * Unit tests for the in-memory sweep rebuilt from the journal (engine/sweep.c).
 *
 * Each test writes a real journal (engine/journal.h) in its own mkdtemp directory,
 * with payloads encoded by engine/record.h, then replays it with
 * hps_sweep_replay(): counters, the best trial (minimize and maximize), decoded
 * values, metric rows, the status string and the sweep name are checked, then the
 * records the replay must refuse (each with its exact message), and finally replay
 * through an attached strategy, which must notice a tampered suggestion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "store/journal.h"
#include "store/record.h"
#include "coord/sweep.h"
#include "core/seed.h"
#include "hpsweep/error.h"
#include "hpsweep/strategy.h"
#include "file_fixture.h"

#define D 3

static const char *yaml_min =
    "name: smalls\n"
    "seed: 42\n"
    "objective: {function: noop}\n"
    "metric: {name: loss, goal: minimize}\n"
    "space:\n"
    "  x: {type: float, low: -5, high: 10}\n"
    "  n: {type: int, low: 1, high: 8}\n"
    "  opt: {type: categorical, choices: [sgd, adam, rmsprop]}\n";

static const char *yaml_max_noname =
    "seed: 42\n"
    "objective: {function: noop}\n"
    "metric: {name: acc, goal: maximize}\n"
    "space:\n"
    "  x: {type: float, low: -5, high: 10}\n"
    "  n: {type: int, low: 1, high: 8}\n"
    "  opt: {type: categorical, choices: [sgd, adam, rmsprop]}\n";

/* ---- a journal writer ------------------------------------------------------------ */

typedef struct jw {
    char dir[64];
    char path[96];
    hps_journal *j;
    hps_buf b;
} jw;

static int setup(void **state)
{
    jw *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    strcpy(w->dir, "/tmp/hps_sweep_XXXXXX");
    if (!mkdtemp(w->dir)) {
        free(w);
        return -1;
    }
    snprintf(w->path, sizeof w->path, "%s/journal", w->dir);
    if (hps_journal_open(w->path, HPS_JOURNAL_CREATE, &w->j) != HPS_OK) {
        rmdir(w->dir);
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    jw *w = *state;
    hps_journal_close(w->j);
    hps_buf_free(&w->b);
    unlink(w->path);
    rmdir(w->dir);
    free(w);
    return 0;
}

static void append(jw *w, uint32_t type, int64_t id)
{
    assert_false(w->b.failed);
    assert_int_equal(hps_journal_append(w->j, type, id, w->b.data, (uint32_t)w->b.len), HPS_OK);
}

static void put_header_v(jw *w, const char *yaml, const char *source, uint32_t version)
{
    hps_rec_header h = {.version = version,
                        .seed = 42,
                        .created = 1700000000.0,
                        .config_text = yaml,
                        .config_len = (uint32_t)strlen(yaml),
                        .source = source,
                        .source_len = (uint32_t)strlen(source)};
    assert_int_equal(hps_rec_encode_header(&w->b, &h), HPS_OK);
    append(w, HPS_REC_HEADER, -1);
}

static void put_header(jw *w, const char *yaml, const char *source)
{
    put_header_v(w, yaml, source, HPS_JOURNAL_FORMAT);
}

static void put_string(jw *w, uint32_t type, int32_t index, const char *s)
{
    assert_int_equal(hps_rec_encode_string(&w->b, index, s), HPS_OK);
    append(w, type, -1);
}

static void put_suggest_n(jw *w, int64_t id, const double *u, uint32_t n, int promotion)
{
    hps_rec_suggest s = {.seed = 1000 + (uint64_t)id,
                         .budget = promotion ? 9.0 : 0.0,
                         .bracket = -1,
                         .rung = -1,
                         .promotion = promotion,
                         .worker = 1 + (int32_t)id,
                         .start = 100.0 + (double)id,
                         .n = n,
                         .u = u};
    assert_int_equal(hps_rec_encode_suggest(&w->b, &s), HPS_OK);
    append(w, HPS_REC_SUGGEST, id);
}

static void put_suggest(jw *w, int64_t id, const double *u)
{
    put_suggest_n(w, id, u, D, 0);
}

static void put_result(jw *w, int64_t id, int status, double obj, const char *cause,
                       const hps_rec_metric *m, uint32_t nm)
{
    hps_outcome r = {.status = status,
                        .worker = 7,
                        .objective = obj,
                        .start = 200.0 + (double)id,
                        .end = 300.0 + (double)id,
                        .n_metrics = nm,
                        .metrics = m};
    snprintf(r.cause, sizeof r.cause, "%s", cause);
    assert_int_equal(hps_rec_encode_result(&w->b, &r), HPS_OK);
    append(w, HPS_REC_RESULT, id);
}

static void put_interrupt(jw *w, int64_t id, double when)
{
    assert_int_equal(hps_rec_encode_interrupt(&w->b, when), HPS_OK);
    append(w, HPS_REC_INTERRUPT, id);
}

static void put_dispatch(jw *w, int64_t id, int32_t worker, double start)
{
    assert_int_equal(hps_rec_encode_dispatch(&w->b, worker, start), HPS_OK);
    append(w, HPS_REC_DISPATCH, id);
}

/* The unit points used for trials 0..4. */
static const double U[5][D] = {
    {0.0, 0.0, 0.0},
    {0.5, 0.3, 0.5},
    {1.0, 1.0, 1.0},
    {0.25, 0.9999, 0.34},
    {0.1, 0.126, 0.66},
};

/*
 * HEADER, METRIC_NAME 0, SUGGEST 0..4, RESULT 0 (done 3.0, two metric rows),
 * RESULT 1 (done 1.5), RESULT 2 (failed, objective fail_obj, "boom"), INTERRUPT 3,
 * INTERRUPT 4, DISPATCH 3, STATUS "interrupted".
 */
static void write_story(jw *w, const char *yaml, const char *source, const char *metric,
                        double fail_obj)
{
    put_header(w, yaml, source);
    put_string(w, HPS_REC_METRIC_NAME, 0, metric);
    for (int64_t id = 0; id < 5; id++)
        put_suggest(w, id, U[id]);
    hps_rec_metric m[2] = {
        {.name_index = 0, .step = 1, .resource = 1.0, .value = 5.0},
        {.name_index = 0, .step = 2, .resource = 2.0, .value = 3.0},
    };
    put_result(w, 0, HPS_TRIAL_DONE, 3.0, "", m, 2);
    put_result(w, 1, HPS_TRIAL_DONE, 1.5, "", NULL, 0);
    put_result(w, 2, HPS_TRIAL_FAILED, fail_obj, "boom", NULL, 0);
    put_interrupt(w, 3, 400.0);
    put_interrupt(w, 4, 401.0);
    put_dispatch(w, 3, 2, 500.0);
    put_string(w, HPS_REC_STATUS, 0, "interrupted");
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
}

/* Replay w's journal into s; returns the code, err holds the message. */
static int replay(jw *w, hps_sweep *s, char *err, size_t errlen)
{
    hps_sweep_init(s, 0);
    err[0] = '\0';
    return hps_sweep_replay(s, w->j, err, errlen);
}

/* ---- the happy path ---------------------------------------------------------------- */

static void test_replay_minimize(void **state)
{
    jw *w = *state;
    write_story(w, yaml_min, "x/quick.yaml", "loss", -100.0);
    hps_sweep s;
    char err[512];
    int rc = replay(w, &s, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("replay: %s: %s", hps_err_name(rc), err);

    assert_true(s.have_header);
    assert_true(s.seed == 42);
    assert_true(s.created == 1700000000.0);
    assert_string_equal(s.cfg.name, "smalls");
    assert_int_equal(s.cfg.maximize, 0);
    assert_string_equal(s.cfg.metric, "loss");
    assert_int_equal(s.d, D);
    assert_int_equal(s.n_trials, 5);
    assert_int_equal(s.n_done, 2);
    assert_int_equal(s.n_failed, 1);
    assert_int_equal(s.n_running, 1);     /* trial 3, dispatched again */
    assert_int_equal(s.n_interrupted, 1); /* trial 4 */
    assert_int_equal(s.n_pruned, 0);
    assert_int_equal(s.best_id, 1);
    assert_string_equal(s.status, "interrupted");

    /* Trials. */
    for (int64_t id = 0; id < 5; id++) {
        const hps_trial *t = &s.trials[id];
        assert_int_equal(t->trial_id, id);
        assert_true(t->seed == 1000 + (uint64_t)id);
        double want[D];
        hps_space_decode(&s.cfg.space, U[id], want);
        assert_memory_equal(t->values, want, sizeof want);
        assert_memory_equal(s.u + id * D, U[id], sizeof U[id]);
        assert_ptr_equal(t->values, s.values + id * D);
    }
    /* The decoded values themselves. */
    assert_true(s.trials[0].values[0] == -5.0);
    assert_true(s.trials[0].values[1] == 1.0);
    assert_true(s.trials[0].values[2] == 0.0);
    assert_true(s.trials[1].values[0] == 2.5);
    assert_true(s.trials[1].values[1] == 3.0);
    assert_true(s.trials[1].values[2] == 1.0);
    assert_true(s.trials[2].values[0] == 10.0);
    assert_true(s.trials[2].values[1] == 8.0);
    assert_true(s.trials[2].values[2] == 2.0);

    assert_int_equal(s.trials[0].status, HPS_TRIAL_DONE);
    assert_true(s.trials[0].objective == 3.0);
    assert_int_equal(s.trials[0].worker, 7);
    assert_true(s.trials[0].start == 200.0);
    assert_true(s.trials[0].end == 300.0);
    assert_string_equal(s.trials[0].cause, "");
    assert_int_equal(s.trials[1].status, HPS_TRIAL_DONE);
    assert_true(s.trials[1].objective == 1.5);

    /* A failed trial's objective is NaN whatever the record says. */
    assert_int_equal(s.trials[2].status, HPS_TRIAL_FAILED);
    assert_true(isnan(s.trials[2].objective));
    assert_string_equal(s.trials[2].cause, "boom");

    /* Re-dispatched after the interrupt: running again, cause cleared. */
    assert_int_equal(s.trials[3].status, HPS_TRIAL_RUNNING);
    assert_int_equal(s.trials[3].worker, 2);
    assert_true(s.trials[3].start == 500.0);
    assert_true(isnan(s.trials[3].end));
    assert_string_equal(s.trials[3].cause, "");
    assert_true(isnan(s.trials[3].objective));

    assert_int_equal(s.trials[4].status, HPS_TRIAL_INTERRUPTED);
    assert_true(s.trials[4].end == 401.0);
    assert_string_equal(s.trials[4].cause, "interrupted");
    assert_int_equal(s.trials[4].worker, 5);
    assert_true(s.trials[4].start == 104.0);

    /* Metrics. */
    assert_int_equal(s.n_metric_names, 1);
    assert_string_equal(s.metric_names[0], "loss");
    assert_int_equal(hps_sweep_metric_index(&s, "loss"), 0);
    assert_int_equal(hps_sweep_metric_index(&s, "acc"), -1);
    assert_int_equal(s.n_metrics, 2);
    assert_int_equal(s.metrics[0].trial_id, 0);
    assert_int_equal(s.metrics[0].step, 1);
    assert_true(s.metrics[0].resource == 1.0);
    assert_int_equal(s.metrics[0].name_index, 0);
    assert_true(s.metrics[0].value == 5.0);
    assert_int_equal(s.metrics[1].trial_id, 0);
    assert_int_equal(s.metrics[1].step, 2);
    assert_true(s.metrics[1].resource == 2.0);
    assert_true(s.metrics[1].value == 3.0);

    assert_true(hps_sweep_oriented(&s, 2.0) == 2.0);
    hps_sweep_free(&s);
    assert_int_equal(s.n_trials, 0);
    assert_null(s.trials);
    assert_int_equal(s.best_id, -1);
    hps_sweep_free(NULL);
}

static void test_replay_maximize_and_default_name(void **state)
{
    jw *w = *state;
    write_story(w, yaml_max_noname, "x/quick.yaml", "acc", 100.0);
    hps_sweep s;
    char err[512];
    int rc = replay(w, &s, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("replay: %s: %s", hps_err_name(rc), err);
    assert_string_equal(s.cfg.name, "quick");
    assert_int_equal(s.cfg.maximize, 1);
    assert_int_equal(s.best_id, 0); /* 3.0 > 1.5; the failed 100.0 does not count */
    assert_true(hps_sweep_oriented(&s, 2.0) == -2.0);
    assert_int_equal(s.n_done, 2);
    assert_int_equal(s.n_failed, 1);
    hps_sweep_free(&s);
}

/* No STATUS record: "running". The counters before any result. */
static void test_replay_defaults(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "a/b/c.yaml");
    put_suggest(w, 0, U[0]);
    put_suggest(w, 1, U[1]);
    hps_sweep s;
    char err[512];
    assert_int_equal(replay(w, &s, err, sizeof err), HPS_OK);
    assert_string_equal(s.status, "running");
    assert_int_equal(s.n_trials, 2);
    assert_int_equal(s.n_running, 2);
    assert_int_equal(s.n_done, 0);
    assert_int_equal(s.best_id, -1);
    assert_int_equal(s.n_metric_names, 0);
    hps_sweep_free(&s);
}

/* Many trials: the tables grow and values pointers follow the reallocation. */
static void test_replay_many_trials(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "m.yaml");
    const int n = 3000;
    for (int64_t id = 0; id < n; id++) {
        double u[D] = {(double)id / n, (double)(id % 8) / 8.0 + 0.01, (double)(id % 3) / 3.0 + 0.01};
        put_suggest(w, id, u);
        put_result(w, id, HPS_TRIAL_DONE, fabs((double)id - 1234.0), "", NULL, 0);
    }
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    hps_sweep s;
    char err[512];
    assert_int_equal(replay(w, &s, err, sizeof err), HPS_OK);
    assert_int_equal(s.n_trials, n);
    assert_int_equal(s.n_done, n);
    assert_int_equal(s.best_id, 1234);
    for (int64_t id = 0; id < n; id++) {
        assert_ptr_equal(s.trials[id].values, s.values + id * D);
        assert_true(s.trials[id].values[1] == (double)(1 + id % 8));
        assert_true(s.trials[id].values[2] == (double)(id % 3));
    }
    hps_sweep_free(&s);
}

/*
 * A promoted trial (multi-fidelity) that was the best leaves DONE while it runs
 * again; once it finishes at the larger budget it is the best again, whatever its
 * value: a result at a higher fidelity beats lower-budget ones (hps_trial_better).
 */
static void test_best_follows_promotion(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "p.yaml");
    put_suggest(w, 0, U[0]);
    put_suggest(w, 1, U[1]);
    put_result(w, 0, HPS_TRIAL_DONE, 1.0, "", NULL, 0);
    put_result(w, 1, HPS_TRIAL_DONE, 2.0, "", NULL, 0);
    put_suggest_n(w, 0, U[0], D, 1); /* promote trial 0 */
    put_result(w, 0, HPS_TRIAL_DONE, 5.0, "", NULL, 0);
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    hps_sweep s;
    char err[512];
    assert_int_equal(replay(w, &s, err, sizeof err), HPS_OK);
    assert_int_equal(s.n_trials, 2);
    assert_int_equal(s.n_done, 2);
    assert_true(s.trials[0].objective == 5.0);
    assert_true(s.trials[0].budget == 9.0);
    int64_t best = s.best_id;
    hps_sweep_free(&s);
    /* Trial 0's 5.0 at budget 9 beats trial 1's 2.0 at the smaller budget. */
    assert_int_equal(best, 0);
}

/* While the promoted best trial runs, a new better trial must become the best. */
static void test_best_while_best_is_promoted(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "p.yaml");
    put_suggest(w, 0, U[0]);
    put_suggest(w, 1, U[1]);
    put_result(w, 0, HPS_TRIAL_DONE, 1.0, "", NULL, 0);
    put_suggest_n(w, 0, U[0], D, 1); /* promote trial 0: it runs again */
    put_result(w, 1, HPS_TRIAL_DONE, 0.5, "", NULL, 0);
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    hps_sweep s;
    char err[512];
    assert_int_equal(replay(w, &s, err, sizeof err), HPS_OK);
    assert_int_equal(s.trials[0].status, HPS_TRIAL_RUNNING);
    assert_int_equal(s.n_done, 1);
    assert_int_equal(s.n_running, 1);
    int64_t best = s.best_id;
    hps_sweep_free(&s);
    assert_int_equal(best, 1);
}

/* ---- records the replay refuses --------------------------------------------------- */

/* Replay must fail with code and exactly the message want. */
static void expect_fail(jw *w, int code, const char *want)
{
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    hps_sweep s;
    char err[512];
    int rc = replay(w, &s, err, sizeof err);
    if (rc != code)
        fail_msg("replay returned %s (%s), expected %s", hps_err_name(rc), err,
                 hps_err_name(code));
    if (want)
        assert_string_equal(err, want);
    else
        assert_true(err[0] != '\0');
    hps_sweep_free(&s);
}

static void test_err_empty_journal(void **state)
{
    expect_fail(*state, HPS_ECORRUPT, "the journal holds no sweep (no HEADER record)");
}

static void test_err_record_before_header(void **state)
{
    jw *w = *state;
    put_suggest(w, 0, U[0]);
    put_header(w, yaml_min, "q.yaml");
    expect_fail(w, HPS_ECORRUPT,
                "journal record 1 (trial 0): the journal does not start with a HEADER");
}

static void test_err_metric_name_before_header(void **state)
{
    jw *w = *state;
    put_string(w, HPS_REC_METRIC_NAME, 0, "loss");
    expect_fail(w, HPS_ECORRUPT,
                "journal record 1 (trial -1): the journal does not start with a HEADER");
}

static void test_err_second_header(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_header(w, yaml_min, "q.yaml");
    expect_fail(w, HPS_ECORRUPT, "journal record 2 (trial -1): a second HEADER record");
}

static void test_err_header_version(void **state)
{
    jw *w = *state;
    put_header_v(w, yaml_min, "q.yaml", HPS_JOURNAL_FORMAT + 1);
    expect_fail(w, HPS_EVERSION,
                "journal record 1 (trial -1): unsupported journal format version");
}

static void test_err_header_bad_yaml(void **state)
{
    jw *w = *state;
    put_header(w, "objective: {function: noop}\n", "q.yaml"); /* no space */
    expect_fail(w, HPS_ECONFIG, NULL);
}

static void test_err_header_malformed(void **state)
{
    jw *w = *state;
    const char junk[5] = {1, 2, 3, 4, 5};
    assert_int_equal(hps_journal_append(w->j, HPS_REC_HEADER, -1, junk, sizeof junk), HPS_OK);
    expect_fail(w, HPS_ECORRUPT, "journal record 1 (trial -1): malformed HEADER");
}

static void test_err_suggest_out_of_order(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_suggest(w, 2, U[1]);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial 2): trial ids out of order");
}

static void test_err_suggest_repeated_id(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_suggest(w, 0, U[1]);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial 0): trial ids out of order");
}

static void test_err_suggest_wrong_dimension(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest_n(w, 0, U[0], D - 1, 0);
    expect_fail(w, HPS_ECORRUPT, "journal record 2 (trial 0): malformed SUGGEST");
}

static void test_err_suggest_too_many_coordinates(void **state)
{
    jw *w = *state;
    double u[D + 1] = {0.1, 0.2, 0.3, 0.4};
    put_header(w, yaml_min, "q.yaml");
    put_suggest_n(w, 0, u, D + 1, 0);
    expect_fail(w, HPS_ECORRUPT, "journal record 2 (trial 0): malformed SUGGEST");
}

static void test_err_promotion_unknown(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_suggest_n(w, 3, U[0], D, 1);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial 3): promotion of an unknown trial");
}

static void test_err_promotion_running(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_suggest_n(w, 0, U[0], D, 1);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial 0): promotion of a running trial");
}

static void test_err_result_not_running(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_result(w, 0, HPS_TRIAL_DONE, 1.0, "", NULL, 0);
    put_result(w, 0, HPS_TRIAL_DONE, 2.0, "", NULL, 0);
    expect_fail(w, HPS_ECORRUPT,
                "journal record 4 (trial 0): RESULT for a trial that is not running");
}

static void test_err_result_interrupted(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_interrupt(w, 0, 1.0);
    put_result(w, 0, HPS_TRIAL_DONE, 2.0, "", NULL, 0);
    expect_fail(w, HPS_ECORRUPT,
                "journal record 4 (trial 0): RESULT for a trial that is not running");
}

static void test_err_result_unknown_trial(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_result(w, 5, HPS_TRIAL_DONE, 1.0, "", NULL, 0);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial 5): RESULT for an unknown trial");
}

static void test_err_result_negative_trial(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_result(w, -1, HPS_TRIAL_DONE, 1.0, "", NULL, 0);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial -1): RESULT for an unknown trial");
}

static void test_err_result_bad_status(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_result(w, 0, HPS_TRIAL_RUNNING, 1.0, "", NULL, 0);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial 0): RESULT with an invalid status");
}

static void test_err_metric_unknown_name(void **state)
{
    jw *w = *state;
    hps_rec_metric m = {.name_index = 1, .step = 0, .resource = 0, .value = 1.0};
    put_header(w, yaml_min, "q.yaml");
    put_string(w, HPS_REC_METRIC_NAME, 0, "loss");
    put_suggest(w, 0, U[0]);
    put_result(w, 0, HPS_TRIAL_DONE, 1.0, "", &m, 1);
    expect_fail(w, HPS_ECORRUPT,
                "journal record 4 (trial 0): metric with an unknown name index");
}

static void test_err_metric_negative_name(void **state)
{
    jw *w = *state;
    hps_rec_metric m = {.name_index = -1, .step = 0, .resource = 0, .value = 1.0};
    put_header(w, yaml_min, "q.yaml");
    put_string(w, HPS_REC_METRIC_NAME, 0, "loss");
    put_suggest(w, 0, U[0]);
    put_result(w, 0, HPS_TRIAL_DONE, 1.0, "", &m, 1);
    expect_fail(w, HPS_ECORRUPT,
                "journal record 4 (trial 0): metric with an unknown name index");
}

static void test_err_metric_names_out_of_order(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_string(w, HPS_REC_METRIC_NAME, 1, "loss");
    expect_fail(w, HPS_ECORRUPT, "journal record 2 (trial -1): metric names out of order");
}

static void test_err_interrupt_not_running(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    put_result(w, 0, HPS_TRIAL_FAILED, NAN, "x", NULL, 0);
    put_interrupt(w, 0, 1.0);
    expect_fail(w, HPS_ECORRUPT,
                "journal record 4 (trial 0): INTERRUPT of a trial that is not running");
}

static void test_err_dispatch_unknown(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_dispatch(w, 0, 1, 1.0);
    expect_fail(w, HPS_ECORRUPT, "journal record 2 (trial 0): DISPATCH of an unknown trial");
}

static void test_err_unknown_type(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    assert_int_equal(hps_journal_append(w->j, 99, 0, "", 0), HPS_OK);
    expect_fail(w, HPS_ECORRUPT, "journal record 2 (trial 0): unknown record type");
}

/* A malformed RESULT (truncated payload). */
static void test_err_result_malformed(void **state)
{
    jw *w = *state;
    put_header(w, yaml_min, "q.yaml");
    put_suggest(w, 0, U[0]);
    hps_outcome r = {.status = HPS_TRIAL_DONE};
    assert_int_equal(hps_rec_encode_result(&w->b, &r), HPS_OK);
    assert_int_equal(hps_journal_append(w->j, HPS_REC_RESULT, 0, w->b.data,
                                        (uint32_t)w->b.len - 1),
                     HPS_OK);
    expect_fail(w, HPS_ECORRUPT, "journal record 3 (trial 0): malformed RESULT");
}

/* hps_sweep_apply() needs no journal: and the error buffer may be NULL. */
static void test_apply_null_err(void **state)
{
    (void)state;
    hps_sweep s;
    hps_sweep_init(&s, 0);
    hps_record rec = {.seq = 1, .type = HPS_REC_STATUS, .trial_id = -1, .payload = "", .len = 0};
    assert_int_equal(hps_sweep_apply(&s, &rec, NULL, NULL, 0), HPS_ECORRUPT);
    hps_sweep_free(&s);
}

/* ---- replay through a strategy --------------------------------------------------- */

/* The space the strategies live on (must outlive them). */
static hps_config strat_cfg;

static void *make_random(uint64_t seed)
{
    const hps_strategy_ops *ops = hps_strategy_find("random");
    assert_non_null(ops);
    void *st = NULL;
    char err[256] = "";
    int rc = ops->create(&strat_cfg.space, NULL, seed, &st, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("random create: %s", err);
    return st;
}

/* Write HEADER (sweep seed 42) + 6 SUGGESTs from a random strategy made with
 * strategy_seed, RESULTs for some, with trial tamper's u[1] nudged (tamper < 0: none). */
static void write_from_strategy(jw *w, uint64_t strategy_seed, int tamper)
{
    const hps_strategy_ops *ops = hps_strategy_find("random");
    void *st = make_random(strategy_seed);
    put_header(w, yaml_min, "s.yaml");
    for (int64_t id = 0; id < 6; id++) {
        double u[D];
        hps_suggestion out = {.u = u, .trial_id = id, .bracket = -1, .rung = -1};
        assert_int_equal(ops->suggest(st, &out), HPS_OK);
        assert_int_equal(out.trial_id, id);
        if (id == tamper)
            u[1] = nextafter(u[1], 2.0);
        put_suggest(w, id, u);
        if (id % 2 == 0)
            put_result(w, id, HPS_TRIAL_DONE, (double)id, "", NULL, 0);
    }
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    ops->destroy(st);
}

/* Replay with HPS_SWEEP_STRATEGY: the HEADER makes the recorded config's strategy
 * (random, seeded from the sweep seed 42) and every record feeds it. */
static void replay_with_strategy(jw *w, hps_sweep *s)
{
    char err[512] = "";
    hps_sweep_init(s, HPS_SWEEP_STRATEGY);
    int rc = hps_sweep_replay(s, w->j, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("replay: %s: %s", hps_err_name(rc), err);
    assert_non_null(s->strategy);
    assert_int_equal(s->n_trials, 6);
    assert_int_equal(s->n_done, 3);
    assert_int_equal(s->n_running, 3);
    assert_int_equal(s->best_id, 0);
}

static int strat_setup(void **state)
{
    char err[512];
    if (hps_config_parse(yaml_min, strlen(yaml_min), "s.yaml", &strat_cfg, err, sizeof err) !=
        HPS_OK)
        return -1;
    return setup(state);
}

static int strat_teardown(void **state)
{
    hps_config_free(&strat_cfg);
    return teardown(state);
}

static void test_strategy_replay_same(void **state)
{
    jw *w = *state;
    write_from_strategy(w, hps_seed_strategy(42), -1);
    hps_sweep s;
    replay_with_strategy(w, &s);
    assert_int_equal(s.replay_diverged, 0);
    /* The replayed strategy continues where the recorded one would have. */
    const hps_strategy_ops *ops = s.ops;
    void *fresh = make_random(hps_seed_strategy(42));
    double u1[D], u2[D];
    for (int k = 0; k <= 6; k++) {
        hps_suggestion a = {.u = u1, .trial_id = k};
        assert_int_equal(ops->suggest(fresh, &a), HPS_OK);
    }
    hps_suggestion b = {.u = u2, .trial_id = 6};
    assert_int_equal(ops->suggest(s.strategy, &b), HPS_OK);
    assert_memory_equal(u1, u2, sizeof u1);
    ops->destroy(fresh);
    hps_sweep_free(&s);
}

static void test_strategy_replay_tampered(void **state)
{
    jw *w = *state;
    write_from_strategy(w, hps_seed_strategy(42), 3);
    hps_sweep s;
    replay_with_strategy(w, &s);
    assert_int_equal(s.replay_diverged, 1);
    /* The journal wins: trial 3 keeps the recorded (tampered) point. */
    void *ref = make_random(hps_seed_strategy(42));
    double u[D];
    for (int k = 0; k <= 3; k++) {
        hps_suggestion a = {.u = u, .trial_id = k};
        assert_int_equal(s.ops->suggest(ref, &a), HPS_OK);
    }
    u[1] = nextafter(u[1], 2.0);
    assert_memory_equal(s.u + 3 * D, u, sizeof u);
    s.ops->destroy(ref);
    hps_sweep_free(&s);
}

/* Suggestions recorded by a strategy of another seed than the sweep's. */
static void test_strategy_replay_other_seed(void **state)
{
    jw *w = *state;
    write_from_strategy(w, hps_seed_strategy(43), -1);
    hps_sweep s;
    replay_with_strategy(w, &s);
    assert_int_equal(s.replay_diverged, 1);
    hps_sweep_free(&s);
}

/* Without HPS_SWEEP_STRATEGY no strategy is made, so none is fed or checked. */
static void test_strategy_not_replayed(void **state)
{
    jw *w = *state;
    write_from_strategy(w, hps_seed_strategy(43), 3);
    hps_sweep s;
    char err[512];
    hps_sweep_init(&s, 0);
    assert_int_equal(hps_sweep_replay(&s, w->j, err, sizeof err), HPS_OK);
    assert_null(s.strategy);
    assert_int_equal(s.replay_diverged, 0);
    assert_int_equal(s.n_trials, 6);
    hps_sweep_free(&s);
}

/* ---- spilling written metric and rung rows ----------------------------------------- */

/* Commit the record encoded in w->b to the live sweep s. */
static void commit_b(jw *w, hps_sweep *s, uint32_t type, int64_t id)
{
    char err[512] = "";
    assert_false(w->b.failed);
    int rc = hps_sweep_commit(s, w->j, type, id, w->b.data, (uint32_t)w->b.len, NULL, err,
                              sizeof err);
    if (rc != HPS_OK)
        fail_msg("commit: %s: %s", hps_err_name(rc), err);
}

/* Commit trial id's RESULT (done) with n metric rows of its own values. */
static void commit_result(jw *w, hps_sweep *s, int64_t id, uint32_t n)
{
    hps_rec_metric m[4];
    for (uint32_t i = 0; i < n; i++)
        m[i] = (hps_rec_metric){.name_index = 0, .step = (int64_t)i, .resource = 0.5 * i,
                                .value = 10.0 * (double)id + i};
    hps_outcome r = {.status = HPS_TRIAL_DONE, .worker = 1, .objective = (double)id,
                     .start = 1.0, .end = 2.0, .exit_code = -1, .n_metrics = n, .metrics = m};
    assert_int_equal(hps_rec_encode_result(&w->b, &r), HPS_OK);
    commit_b(w, s, HPS_REC_RESULT, id);
}

/* Commit trial id's RESULT: failed, with a stderr tail. */
static void commit_failed(jw *w, hps_sweep *s, int64_t id, const char *tail)
{
    hps_outcome r = {.status = HPS_TRIAL_FAILED, .worker = 1, .start = 1.0, .end = 2.0,
                     .exit_code = 3, .attempts = 1, .stderr_tail = tail,
                     .stderr_len = (uint32_t)strlen(tail)};
    snprintf(r.cause, sizeof r.cause, "exit:3");
    assert_int_equal(hps_rec_encode_result(&w->b, &r), HPS_OK);
    commit_b(w, s, HPS_REC_RESULT, id);
}

static void write_store(hps_sweep *s, const char *path)
{
    char err[512] = "";
    int rc = hps_sweep_write_store(s, path, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("write_store: %s: %s", hps_err_name(rc), err);
}

/* The /metrics, /rungs and /failures rows of the file at path are exactly s's (a
 * sweep that kept them). */
static void assert_file_metrics(const char *path, const hps_sweep *s)
{
    hps_results r;
    char err[512];
    assert_int_equal(hps_results_open(path, &r, err, sizeof err), HPS_OK);
    assert_int_equal(s->metrics_spilled, 0);
    assert_int_equal(r.n_metrics, s->n_metrics);
    for (int64_t i = 0; i < r.n_metrics; i++) {
        assert_int_equal(r.metrics[i].trial_id, s->metrics[i].trial_id);
        assert_int_equal(r.metrics[i].step, s->metrics[i].step);
        assert_int_equal(r.metrics[i].name_index, s->metrics[i].name_index);
        assert_true(r.metrics[i].resource == s->metrics[i].resource);
        assert_true(r.metrics[i].value == s->metrics[i].value);
    }
    assert_int_equal(r.n_rungs, s->n_rungs);
    for (int64_t i = 0; i < r.n_rungs; i++) {
        assert_int_equal(r.rungs[i].trial_id, s->rungs[i].trial_id);
        assert_int_equal(r.rungs[i].status, s->rungs[i].status);
        assert_true(r.rungs[i].objective == s->rungs[i].objective);
        assert_true(r.rungs[i].budget == s->rungs[i].budget);
    }
    assert_int_equal(r.n_trials, s->n_trials);
    for (int64_t i = 0; i < r.n_trials; i++) {
        if (s->trials[i].stderr_tail)
            assert_string_equal(r.trials[i].stderr_tail, s->trials[i].stderr_tail);
        else
            assert_null(r.trials[i].stderr_tail);
    }
    hps_results_free(&r);
}

/*
 * A live sweep (committing to a journal) drops the metric and rung rows and the
 * failed trials' stderr tails each write put in sweep.h5, and the next write
 * copies them from there; sweep.h5 has every row, as
 * a replay of the journal (which keeps them all) writes it. When sweep.h5 was
 * removed or damaged in between, the rows come back from the journal.
 */
static void test_spill_metrics(void **state)
{
    jw *w = *state;
    char h5[128], h5_replay[128];
    snprintf(h5, sizeof h5, "%s/sweep.h5", w->dir);
    snprintf(h5_replay, sizeof h5_replay, "%s/replayed.h5", w->dir);
    hps_sweep s;
    hps_sweep_init(&s, 0);
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = 42, .created = 1700000000.0,
                        .config_text = yaml_min, .config_len = (uint32_t)strlen(yaml_min),
                        .source = "x.yaml", .source_len = 6};
    char err[512];
    assert_int_equal(hps_sweep_commit_start(&s, w->j, &h, "loss", err, sizeof err), HPS_OK);
    for (int64_t id = 0; id < 5; id++) {
        /* Trials 1 and 3 are multi-fidelity: each result is a /rungs row too. */
        int32_t rung = id == 1 || id == 3 ? 0 : -1;
        hps_rec_suggest sg = {.seed = 7, .budget = rung < 0 ? 0.0 : 1.0, .bracket = rung,
                              .rung = rung, .worker = 1, .start = 1.0, .n = D, .u = U[id]};
        assert_int_equal(hps_rec_encode_suggest(&w->b, &sg), HPS_OK);
        commit_b(w, &s, HPS_REC_SUGGEST, id);
    }
    commit_result(w, &s, 0, 2);
    write_store(&s, h5);
    assert_int_equal(s.metrics_spilled, 2);
    assert_int_equal(s.n_metrics, 0);
    assert_null(s.metrics);

    commit_result(w, &s, 1, 3);
    hps_rec_metric rep = {.name_index = 0, .step = 9, .resource = 9.0, .value = 99.0};
    assert_int_equal(hps_rec_encode_report(&w->b, &rep, 1), HPS_OK);
    commit_b(w, &s, HPS_REC_REPORT, 2);
    commit_failed(w, &s, 4, "Traceback: boom\n");
    assert_non_null(s.trials[4].stderr_tail);
    write_store(&s, h5);
    assert_null(s.trials[4].stderr_tail);
    assert_int_equal(s.n_tails_spilled, 1);
    assert_int_equal(s.tails_spilled[0], 4);
    assert_int_equal(s.metrics_spilled, 6);
    assert_int_equal(s.n_metrics, 0);
    assert_int_equal(s.rungs_spilled, 1);
    assert_int_equal(s.n_rungs, 0);
    assert_null(s.rungs);

    /* sweep.h5 removed: the rows are read back from the journal. */
    assert_int_equal(unlink(h5), 0);
    commit_result(w, &s, 2, 1);
    write_store(&s, h5);
    assert_int_equal(s.metrics_spilled, 7);

    /* sweep.h5 damaged (a byte of its HDF5 data): the same. */
    flip_byte(h5, 1000);
    commit_result(w, &s, 3, 4);
    write_store(&s, h5);
    assert_int_equal(s.metrics_spilled, 11);
    assert_int_equal(s.n_metrics, 0);
    assert_int_equal(s.rungs_spilled, 2);
    /* And once more from the rebuilt file: every row carried. */
    write_store(&s, h5);
    assert_int_equal(s.metrics_spilled, 11);
    assert_int_equal(s.n_tails_spilled, 1);

    /* A replay keeps every row, and writes the same /metrics. */
    assert_int_equal(hps_journal_sync(w->j), HPS_OK);
    hps_sweep r;
    assert_int_equal(replay(w, &r, err, sizeof err), HPS_OK);
    assert_int_equal(r.n_metrics, 11);
    assert_int_equal(r.n_rungs, 2);
    assert_string_equal(r.trials[4].stderr_tail, "Traceback: boom\n");
    write_store(&r, h5_replay);
    assert_int_equal(r.n_metrics, 11);
    assert_int_equal(r.n_rungs, 2);
    assert_int_equal(r.metrics_spilled, 0);
    assert_file_metrics(h5, &r);
    assert_file_metrics(h5_replay, &r);
    hps_sweep_free(&r);
    hps_sweep_free(&s);
    unlink(h5);
    unlink(h5_replay);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TS(f) cmocka_unit_test_setup_teardown(f, strat_setup, strat_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_replay_minimize),
        T(test_replay_maximize_and_default_name),
        T(test_replay_defaults),
        T(test_replay_many_trials),
        T(test_best_follows_promotion),
        T(test_best_while_best_is_promoted),
        T(test_err_empty_journal),
        T(test_err_record_before_header),
        T(test_err_metric_name_before_header),
        T(test_err_second_header),
        T(test_err_header_version),
        T(test_err_header_bad_yaml),
        T(test_err_header_malformed),
        T(test_err_suggest_out_of_order),
        T(test_err_suggest_repeated_id),
        T(test_err_suggest_wrong_dimension),
        T(test_err_suggest_too_many_coordinates),
        T(test_err_promotion_unknown),
        T(test_err_promotion_running),
        T(test_err_result_not_running),
        T(test_err_result_interrupted),
        T(test_err_result_unknown_trial),
        T(test_err_result_negative_trial),
        T(test_err_result_bad_status),
        T(test_err_metric_unknown_name),
        T(test_err_metric_negative_name),
        T(test_err_metric_names_out_of_order),
        T(test_err_interrupt_not_running),
        T(test_err_dispatch_unknown),
        T(test_err_unknown_type),
        T(test_err_result_malformed),
        cmocka_unit_test(test_apply_null_err),
        T(test_spill_metrics),
        TS(test_strategy_replay_same),
        TS(test_strategy_replay_tampered),
        TS(test_strategy_replay_other_seed),
        TS(test_strategy_not_replayed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
