/*
 * The one trial runner (workers/trial.c) and the public trial-context API
 * (hpsweep/objective.h), with objectives defined here: how run()'s return, its
 * result and its reports become the outcome (done, failed with the objective's
 * cause or "no-metric"/"nan", interrupted, pruned), the result recorded as the
 * sweep's metric when it was not reported, typed parameter access by name, the
 * trial directory, the built-in test-function, sleep and noop objectives, the
 * attempt record that counts the runs a job died in, and the group API on a rank
 * that runs trials alone.
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
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "hpsweep/error.h"
#include "hpsweep/objective.h"
#include "workers/group.h"
#include "workers/trial.h"

/* ---- a space with one parameter of each kind --------------------------------------- */

static hps_choice opt_choices[] = {{.kind = HPS_CHOICE_STRING, .text = "adam"},
                                   {.kind = HPS_CHOICE_NUMBER, .text = "0.5", .number = 0.5},
                                   {.kind = HPS_CHOICE_BOOL, .text = "true", .number = 1}};
static hps_param params[] = {
    {.name = "lr", .type = HPS_PARAM_FLOAT, .low = 0, .high = 1},
    {.name = "layers", .type = HPS_PARAM_INT, .low = 1, .high = 8},
    {.name = "opt", .type = HPS_PARAM_CATEGORICAL, .n_choices = 3, .choices = opt_choices},
    {.name = "bn", .type = HPS_PARAM_BOOL},
};
static hps_space space = {.n_params = 4, .params = params};

/* ---- objectives scripted by the test ----------------------------------------------- */

typedef struct script {
    int rc;                 /* what run() returns */
    int set_result;
    double result;
    int n_reports;          /* reports of "loss" = 1, 2, ...; "acc" along */
    double last_report;
    int poll_until_stop;    /* poll should_stop until it says so */
    const char *fail_cause;
} script;

static script S;

static int scripted_run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    for (int k = 0; k < S.n_reports; k++) {
        const char *names[] = {"acc", "loss"};
        double values[] = {0.5, k + 1 == S.n_reports ? S.last_report : (double)(k + 1)};
        assert_int_equal(hps_trial_report_many(ctx, k, 2.0 * k, 2, names, values), HPS_OK);
    }
    if (S.poll_until_stop)
        while (!hps_trial_should_stop(ctx)) {
        }
    if (S.set_result)
        hps_trial_set_result(ctx, S.result);
    if (S.fail_cause)
        return hps_trial_fail(ctx, "%s %d", S.fail_cause, 7);
    return S.rc;
}

static const hps_objective_ops scripted = {.version = HPS_OBJECTIVE_VERSION, .name = "scripted",
                                           .run = scripted_run};

/* hooks: reports counted, polls answered from `answer`. */
typedef struct hooks_seen {
    int reports;
    double last_loss;
    int answer;
    int polls;
} hooks_seen;

static void on_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    hooks_seen *h = ctx;
    assert_int_equal(trial_id, 11);
    h->reports++;
    assert_int_equal(line->n, 2);
    assert_true(line->resource == 2.0 * (double)line->step);
    h->last_loss = line->values[1];
}

static int on_poll(void *ctx, int64_t trial_id)
{
    hooks_seen *h = ctx;
    (void)trial_id;
    return ++h->polls >= 3 ? h->answer : HPS_POLL_GO;
}

static double values[4] = {0.125, 3, 0, 1};

static hps_objective obj;
static char dir[64];

static void run_scripted(hps_outcome *out, hooks_seen *h)
{
    memset(&obj, 0, sizeof obj);
    obj.ops = &scripted;
    obj.space = &space;
    obj.metric = "loss";
    obj.rt = (hps_objective_runtime){.sweep_dir = dir, .group_size = 1};
    obj.ctx.obj = &obj;
    hps_trial_hooks hooks = {.report = on_report, .poll = on_poll, .ctx = h};
    hps_trial_spec spec = {.trial_id = 11, .seed = 5, .budget = 9.0, .values = values};
    assert_int_equal(hps_trial_run(&obj, &spec, &hooks, out), HPS_OK);
    assert_true(out->end >= out->start && out->start > 1.6e9);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hps-trial-XXXXXX");
    assert_non_null(mkdtemp(dir));
    memset(&S, 0, sizeof S);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return hps_rm_tree(dir) == 0 ? 0 : -1;
}

/* ---- outcomes ---------------------------------------------------------------------- */

static void test_result_set(void **state)
{
    (void)state;
    hooks_seen h = {0};
    hps_outcome out;
    S.set_result = 1;
    S.result = 2.5;
    run_scripted(&out, &h);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_true(out.objective == 2.5);
    assert_string_equal(out.cause, "");
    /* Not reported: the result is recorded as the sweep's metric at the budget. */
    assert_int_equal(out.n_metrics, 1);
    assert_int_equal(out.metrics[0].name_index, 0);
    assert_true(out.metrics[0].resource == 9.0 && out.metrics[0].value == 2.5);
    assert_int_equal(h.reports, 0);
}

static void test_result_from_reports(void **state)
{
    (void)state;
    hooks_seen h = {0};
    hps_outcome out;
    S.n_reports = 3;
    S.last_report = 0.75;
    run_scripted(&out, &h);
    assert_int_equal(h.reports, 3);
    assert_true(h.last_loss == 0.75);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_true(out.objective == 0.75);
    assert_int_equal(out.n_metrics, 0); /* the reports carried it */
}

static void test_failures(void **state)
{
    (void)state;
    hooks_seen h = {0};
    hps_outcome out;
    run_scripted(&out, &h); /* neither a result nor a report */
    assert_int_equal(out.status, HPS_TRIAL_FAILED);
    assert_string_equal(out.cause, "no-metric");

    S.set_result = 1;
    S.result = NAN;
    run_scripted(&out, &h);
    assert_int_equal(out.status, HPS_TRIAL_FAILED);
    assert_string_equal(out.cause, "nan");

    S.result = 1.0;
    S.fail_cause = "diverged at epoch";
    run_scripted(&out, &h);
    assert_int_equal(out.status, HPS_TRIAL_FAILED);
    assert_string_equal(out.cause, "diverged at epoch 7");
    assert_int_equal(out.n_metrics, 0);

    S.fail_cause = NULL;
    S.rc = HPS_ENOMEM;
    run_scripted(&out, &h);
    assert_int_equal(out.status, HPS_TRIAL_FAILED);
    assert_string_equal(out.cause, "error: out of memory");
}

static void test_stop(void **state)
{
    (void)state;
    hooks_seen h = {.answer = HPS_POLL_PRUNE};
    hps_outcome out;
    S.n_reports = 2;
    S.last_report = 4.0;
    S.poll_until_stop = 1;
    run_scripted(&out, &h);
    assert_int_equal(h.polls, 3); /* the answer is remembered: no further polls */
    assert_int_equal(out.status, HPS_TRIAL_PRUNED);
    assert_string_equal(out.cause, "pruned");
    assert_true(out.objective == 4.0);

    h = (hooks_seen){.answer = HPS_POLL_INTERRUPT};
    run_scripted(&out, &h);
    assert_int_equal(out.status, HPS_TRIAL_INTERRUPTED);
    assert_string_equal(out.cause, "interrupted");
}

/* ---- the context API --------------------------------------------------------------- */

static int api_run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    double d;
    int64_t i;
    const char *str;
    int b;
    assert_int_equal(hps_trial_param_double(ctx, "lr", &d), HPS_OK);
    assert_true(d == 0.125);
    assert_int_equal(hps_trial_param_int(ctx, "layers", &i), HPS_OK);
    assert_int_equal(i, 3);
    assert_int_equal(hps_trial_param_double(ctx, "layers", &d), HPS_OK);
    assert_true(d == 3.0);
    assert_int_equal(hps_trial_param_int(ctx, "lr", &i), HPS_EINVAL);
    assert_int_equal(hps_trial_param_string(ctx, "opt", &str), HPS_OK);
    assert_string_equal(str, "adam");
    assert_int_equal(hps_trial_param_double(ctx, "opt", &d), HPS_EINVAL); /* "adam" */
    assert_int_equal(hps_trial_param_bool(ctx, "bn", &b), HPS_OK);
    assert_int_equal(b, 1);
    assert_int_equal(hps_trial_param_bool(ctx, "lr", &b), HPS_EINVAL);
    assert_int_equal(hps_trial_param_string(ctx, "lr", &str), HPS_EINVAL);
    assert_int_equal(hps_trial_param_double(ctx, "nope", &d), HPS_ENOENT);
    assert_int_equal(hps_trial_param_double(ctx, NULL, &d), HPS_EINVAL);
    assert_int_equal(hps_trial_id(ctx), 11);
    assert_true(hps_trial_seed(ctx) == 5);
    assert_true(hps_trial_budget(ctx) == 9.0);
    assert_true(hps_trial_prev_budget(ctx) == 0.0);
    assert_int_equal(hps_trial_resumed(ctx), 0);
    assert_int_equal(hps_trial_group_rank(ctx), 0);
    assert_int_equal(hps_trial_group_size(ctx), 1);
    assert_int_equal(hps_trial_device(ctx), -1);
    const char *td = hps_trial_dir(ctx);
    assert_non_null(td);
    struct stat st;
    assert_int_equal(stat(td, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_non_null(strstr(td, "/trials/11"));
    /* Bad reports are refused, not crashed on. */
    assert_int_equal(hps_trial_report(ctx, 0, "", 1.0), HPS_EINVAL);
    assert_int_equal(hps_trial_report_many(ctx, 0, 0, -1, NULL, NULL), HPS_EINVAL);
    return hps_trial_set_result(ctx, 1.0);
}

static void test_context_api(void **state)
{
    (void)state;
    static const hps_objective_ops api = {.version = HPS_OBJECTIVE_VERSION, .name = "api",
                                          .run = api_run};
    memset(&obj, 0, sizeof obj);
    obj.ops = &api;
    obj.space = &space;
    obj.metric = "loss";
    obj.rt = (hps_objective_runtime){.sweep_dir = dir, .group_size = 1};
    obj.ctx.obj = &obj;
    values[2] = 0; /* adam */
    hps_trial_spec spec = {.trial_id = 11, .seed = 5, .budget = 9.0, .values = values};
    hps_outcome out;
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    /* A numeric choice reads as its number; a boolean choice as a bool. */
    values[2] = 1;
    hps_trial_ctx *ctx = &obj.ctx;
    double d;
    int b;
    assert_int_equal(hps_trial_param_double(ctx, "opt", &d), HPS_OK);
    assert_true(d == 0.5);
    values[2] = 2;
    assert_int_equal(hps_trial_param_bool(ctx, "opt", &b), HPS_OK);
    assert_int_equal(b, 1);
    values[2] = 0;
}

/* ---- the built-in objectives --------------------------------------------------------- */

static void open_builtin(hps_objective_cfg *cfg, const hps_space *sp)
{
    hps_objective_runtime rt = {.sweep_dir = dir, .group_size = 1};
    char err[256];
    hps_objective_close(&obj);
    assert_int_equal(hps_objective_open(&obj, cfg, sp, "loss", &rt, err, sizeof err), HPS_OK);
}

static void test_builtins(void **state)
{
    (void)state;
    hps_param xy[2] = {{.name = "x", .type = HPS_PARAM_FLOAT, .low = -5, .high = 10},
                       {.name = "y", .type = HPS_PARAM_FLOAT, .low = 0, .high = 15}};
    hps_space sp = {.n_params = 2, .params = xy};
    double v[2] = {M_PI, 2.275};
    hps_trial_spec spec = {.trial_id = 1, .seed = 3, .budget = 0, .values = v};
    hps_outcome out;

    hps_objective_cfg tf = {.kind = HPS_OBJ_TESTFUNC, .testfunc = hps_testfunc_find("branin"),
                            .sleep_param = -1};
    open_builtin(&tf, &sp);
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_true(fabs(out.objective - 0.397887) < 1e-5);
    assert_int_equal(out.n_metrics, 1);

    /* Noise is a deterministic function of (seed, budget) that shrinks with it. */
    tf.noise = 1.0;
    open_builtin(&tf, &sp);
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    double noisy = out.objective;
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_true(out.objective == noisy && noisy != 0.397887);

    hps_objective_cfg noop = {.kind = HPS_OBJ_NOOP, .sleep_param = -1};
    open_builtin(&noop, &sp);
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_true(out.objective == 0.0);

    hps_objective_cfg sl = {.kind = HPS_OBJ_SLEEP, .sleep_seconds = 0.02, .sleep_param = -1};
    open_builtin(&sl, &sp);
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_true(out.objective == 0.02 && out.end - out.start >= 0.015);
    /* An interrupted sleep ends early. */
    sl.sleep_seconds = 30;
    open_builtin(&sl, &sp);
    hooks_seen h = {.answer = HPS_POLL_INTERRUPT};
    hps_trial_hooks hooks = {.report = on_report, .poll = on_poll, .ctx = &h};
    assert_int_equal(hps_trial_run(&obj, &spec, &hooks, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_INTERRUPTED);
    assert_true(out.end - out.start < 5.0);
    /* A duration parameter that is negative fails the trial. */
    sl.sleep_param = 0;
    v[0] = -1;
    open_builtin(&sl, &sp);
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_string_equal(out.cause, "bad-duration");
    hps_objective_close(&obj);
}

/* ---- the attempt record and the group API of a rank alone ------------------------- */

static int runs_seen;

static int counting_run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    runs_seen++;
    if (!ctx->obj->count_crashes)
        return hps_trial_set_result(ctx, 2.0);
    /* While it runs, the record says this attempt began. */
    char path[256];
    snprintf(path, sizeof path, "%s/attempt", hps_trial_dir(ctx));
    FILE *f = fopen(path, "r");
    int n = -1;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &n), 1);
    fclose(f);
    assert_int_equal(n, hps_trial_attempt(ctx));
    return hps_trial_set_result(ctx, 2.0);
}

static void write_record(const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/trials/4", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/trials/4/attempt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int record_exists(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/trials/4/attempt", dir);
    return access(path, F_OK) == 0;
}

/* A plugin's runs are counted in trials/<id>/attempt: removed when a run ends, left
 * behind when the job dies in one; past `retries` such deaths the trial fails
 * without running. */
static void test_attempt_record(void **state)
{
    (void)state;
    static const hps_objective_ops counting = {.version = HPS_OBJECTIVE_VERSION, .name = "c",
                                               .run = counting_run};
    char trials[128];
    snprintf(trials, sizeof trials, "%s/trials", dir);
    mkdir(trials, 0755);
    memset(&obj, 0, sizeof obj);
    obj.ops = &counting;
    obj.space = &space;
    obj.metric = "loss";
    obj.rt = (hps_objective_runtime){.sweep_dir = dir, .group_size = 1};
    obj.ctx.obj = &obj;
    obj.count_crashes = 1;
    obj.crash_retries = 1;
    hps_trial_spec spec = {.trial_id = 4, .seed = 5, .budget = 0, .values = values};
    hps_outcome out;
    runs_seen = 0;
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(out.attempts, 1);
    assert_false(record_exists());
    /* The job died once in this trial: the next run is attempt 2. */
    write_record("1\n");
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(out.attempts, 2);
    assert_false(record_exists());
    assert_int_equal(runs_seen, 2);
    /* Twice, with retries 1: failed without running, the record kept. */
    write_record("2\n");
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_FAILED);
    assert_string_equal(out.cause, "crash: job died in 2 attempts");
    assert_int_equal(out.attempts, 2);
    assert_int_equal(runs_seen, 2);
    assert_true(record_exists());
    /* A garbled record counts as none. */
    write_record("x");
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(out.attempts, 1);
    /* Objectives that do not count crashes never write one. */
    obj.count_crashes = 0;
    assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
    assert_false(record_exists());
    assert_int_equal(out.attempts, 0);
}

static int group_api_run(void *state, hps_trial_ctx *ctx)
{
    (void)state;
    double buf[3] = {1, 2, 3};
    float fb[2] = {4, 5};
    /* A group of one: the sum is the values themselves. */
    assert_int_equal(hps_trial_allreduce(ctx, buf, 3, HPS_FLOAT64, 0), HPS_OK);
    assert_true(buf[0] == 1 && buf[2] == 3);
    assert_int_equal(hps_trial_allreduce(ctx, fb, 2, HPS_FLOAT32, 0), HPS_OK);
    assert_true(fb[1] == 5.0f);
    assert_int_equal(hps_trial_allreduce(ctx, buf, 3, (hps_dtype)7, 0), HPS_EINVAL);
    assert_int_equal(hps_trial_allreduce(ctx, NULL, 3, HPS_FLOAT64, 0), HPS_EINVAL);
    assert_int_equal(hps_trial_allreduce(NULL, buf, 3, HPS_FLOAT64, 0), HPS_EINVAL);
    assert_int_equal(hps_trial_allreduce_async(ctx, buf, 3, HPS_FLOAT64, NULL), HPS_OK);
    assert_int_equal(hps_trial_allreduce_async(ctx, NULL, 3, HPS_FLOAT32, NULL), HPS_EINVAL);
    /* No MPI in this process: no communicator, no NCCL. */
    char comm[64];
    assert_int_equal(hps_trial_mpi_comm(ctx, comm), HPS_ENOSYS);
    assert_int_equal(hps_trial_mpi_comm(ctx, NULL), HPS_EINVAL);
    assert_null(hps_trial_nccl_comm(ctx));
    assert_int_equal(hps_trial_device(ctx), -1);
    assert_int_equal(hps_trial_attempt(ctx), 1);
    assert_int_equal(hps_trial_group_rank(ctx), 0);
    assert_int_equal(hps_trial_group_size(ctx), 1);
    assert_false(hps_trial_should_stop(ctx));
    return hps_trial_set_result(ctx, 3.0);
}

/* The group API on a rank that runs trials alone, with and without a group
 * runtime (hps_group_init_solo outside MPI). */
static void test_group_of_one(void **state)
{
    (void)state;
    static const hps_objective_ops gapi = {.version = HPS_OBJECTIVE_VERSION, .name = "g",
                                           .flags = HPS_OBJECTIVE_GROUP, .run = group_api_run};
    hps_group g;
    hps_group_init_solo(&g, -1);
    assert_int_equal(g.size, 1);
    assert_false(g.mpi);
    assert_true(g.host[0] != '\0');
    assert_string_equal(g.host, g.leader_host);
    for (int with_group = 0; with_group < 2; with_group++) {
        memset(&obj, 0, sizeof obj);
        obj.ops = &gapi;
        obj.space = &space;
        obj.metric = "loss";
        obj.rt = (hps_objective_runtime){.sweep_dir = dir, .group_size = 1,
                                         .group = with_group ? &g : NULL};
        obj.ctx.obj = &obj;
        assert_false(hps_objective_grouped(&obj));
        hps_trial_spec spec = {.trial_id = 2, .seed = 5, .budget = 0, .values = values};
        hps_outcome out;
        assert_int_equal(hps_trial_run(&obj, &spec, NULL, &out), HPS_OK);
        assert_int_equal(out.status, HPS_TRIAL_DONE);
    }
    hps_group_free(&g);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_attempt_record),
        T(test_group_of_one),
        T(test_result_set), T(test_result_from_reports), T(test_failures), T(test_stop),
        T(test_context_api), T(test_builtins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
