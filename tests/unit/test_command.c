/*
 * External-command trials (workers/command.c) without MPI: `@hpsweep` line
 * parsing, and whole trials run through a real spawner — the environment a
 * command sees (HPSWEEP_*, promotions, GPUs, launcher variables removed),
 * placeholders, reports as they arrive, causes, retries and pruning, and
 * launch: group's torchrun variables on a rank that is its own group (groups of
 * several are tested under mpirun: tests/integration/test_groups.sh).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fs.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "workers/command.h"
#include "workers/group.h"
#include "workers/trial.h"

/* ---- parsing ---------------------------------------------------------------------- */

static int parse(const char *line, int64_t *auto_step, hps_report_line *r)
{
    return hps_report_parse(line, strlen(line), auto_step, r);
}

static void test_parse(void **state)
{
    (void)state;
    hps_report_line r;
    int64_t step = 0;
    assert_int_equal(parse("@hpsweep step=3 val_loss=0.25 acc=0.9", &step, &r), 1);
    assert_int_equal(r.step, 3);
    assert_true(r.resource == 3.0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.names[0], "val_loss");
    assert_true(r.values[0] == 0.25);
    assert_string_equal(r.names[1], "acc");
    assert_int_equal(step, 4);
    /* No step: numbered from the previous one; resource given. */
    assert_int_equal(parse("@hpsweep loss=1e-3 resource=2.5", &step, &r), 1);
    assert_int_equal(r.step, 4);
    assert_true(r.resource == 2.5);
    assert_true(r.values[0] == 1e-3);
    /* NaN and inf are values (the trial then fails as nan). */
    assert_int_equal(parse("@hpsweep loss=nan", &step, &r), 1);
    assert_true(isnan(r.values[0]));
    /* Out of range is a number too: 1e999 is inf (it was skipped, and the trial
     * then failed as no-metric), 1e-999 underflows to 0. */
    assert_int_equal(parse("@hpsweep loss=1e999 tiny=1e-999 neg=-1e999", &step, &r), 1);
    assert_int_equal(r.n, 3);
    assert_true(isinf(r.values[0]) && r.values[0] > 0);
    assert_true(r.values[1] == 0.0);
    assert_true(isinf(r.values[2]) && r.values[2] < 0);
    /* A name with a control character (a NUL would cut it short) is not a metric. */
    static const char nul[] = "@hpsweep lo\0ss=1 \0\0=2 ok=3";
    assert_int_equal(hps_report_parse(nul, sizeof nul - 1, &step, &r), 1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.names[0], "ok");
    /* A step out of range is skipped (converting 1e300 to int64 is undefined). */
    step = 5;
    assert_int_equal(parse("@hpsweep step=1e300 loss=1", &step, &r), 1);
    assert_int_equal(r.step, 5);
    assert_int_equal(parse("@hpsweep step=-inf loss=1", &step, &r), 1);
    assert_int_equal(r.step, 6);
    /* Garbage tokens are ignored; a line without a metric is no report. */
    assert_int_equal(parse("@hpsweep = loss= x=1x y=2", &step, &r), 1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.names[0], "y");
    assert_int_equal(parse("@hpsweep step=7", &step, &r), 0);
    assert_int_equal(parse("@hpsweeploss=1", &step, &r), 0);
    assert_int_equal(parse("hpsweep loss=1", &step, &r), 0);
    assert_int_equal(parse(" @hpsweep loss=1", &step, &r), 0);
    assert_int_equal(parse("@hpsweep\tloss=2\r", &step, &r), 1);
    assert_true(r.values[0] == 2.0);
}

/* ---- running ----------------------------------------------------------------------- */

typedef struct fixture {
    hps_spawner *sp;
    char dir[64];
    hps_space space;
    hps_param params[2];
    hps_choice choices[2];
    int n_reports;
    double last_value;
    int prune_after;      /* poll answers PRUNE after this many reports (-1: never) */
} fixture;

static void on_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    fixture *f = ctx;
    (void)trial_id;
    f->n_reports++;
    f->last_value = line->values[0];
}

static int on_poll(void *ctx, int64_t trial_id)
{
    fixture *f = ctx;
    (void)trial_id;
    return f->prune_after >= 0 && f->n_reports > f->prune_after ? HPS_POLL_PRUNE : HPS_POLL_GO;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    assert_int_equal(hps_spawner_start(&f->sp, err, sizeof err), HPS_OK);
    snprintf(f->dir, sizeof f->dir, "/tmp/hps-cmd-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->choices[0] = (hps_choice){.kind = HPS_CHOICE_STRING, .text = "x; touch pwned"};
    f->choices[1] = (hps_choice){.kind = HPS_CHOICE_STRING, .text = "b"};
    f->params[0] = (hps_param){.name = "lr", .type = HPS_PARAM_FLOAT, .low = 0, .high = 1};
    f->params[1] = (hps_param){.name = "opt", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2,
                               .choices = f->choices};
    f->space = (hps_space){.n_params = 2, .params = f->params};
    f->prune_after = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hps_spawner_stop(f->sp);
    assert_int_equal(hps_rm_tree(f->dir), 0);
    free(f);
    return 0;
}

/* launch and group of the next run() (launch: group in a group of one). */
static hps_launch next_launch = HPS_LAUNCH_LEADER;
static hps_group *next_group;

/* Run one command trial (id 7, seed 99, budget 3) through the objective instance
 * and the one trial runner, as a worker does. */
static int run(fixture *f, const char *script, int retries, double timeout, double prev_budget,
               const char *gpus, hps_outcome *out)
{
    char *argv[] = {"sh", "-c", (char *)script, "sh", "{lr}", "{opt}", "{trial_id}", "{{x}}",
                    NULL};
    hps_objective_cfg obj = {.kind = HPS_OBJ_COMMAND, .argc = 8, .argv = argv,
                             .workdir = f->dir, .timeout = timeout, .retries = retries,
                             .kill_grace = 0.2, .launch = next_launch};
    hps_objective_runtime rt = {.spawner = f->sp, .sweep_dir = f->dir, .gpus = gpus,
                                .group_size = 1, .group = next_group};
    static hps_objective o; /* the outcome points into it until the next run */
    hps_objective_close(&o);
    char err[256];
    assert_int_equal(hps_objective_open(&o, &obj, &f->space, "loss", &rt, err, sizeof err),
                     HPS_OK);
    hps_trial_hooks hooks = {.report = on_report, .poll = on_poll, .ctx = f};
    static double values[2] = {0.5, 0};
    hps_trial_spec spec = {.trial_id = 7, .seed = 99, .budget = 3.0,
                           .prev_budget = prev_budget, .values = values};
    f->n_reports = 0;
    return hps_trial_run(&o, &spec, &hooks, out);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void test_environment_and_args(void **state)
{
    fixture *f = *state;
    setenv("OMPI_COMM_WORLD_RANK", "3", 1); /* a launcher variable the trial must not see */
    hps_outcome r;
    const char *script = "printf '%s|' \"$1\" \"$2\" \"$3\" \"$4\" > args; env > env.txt; "
                         "echo '@hpsweep step=1 loss=0.5'; echo '@hpsweep step=2 loss=0.25'";
    assert_int_equal(run(f, script, 0, 0, 2.0, "4,5", &r), HPS_OK);
    unsetenv("OMPI_COMM_WORLD_RANK");
    assert_int_equal(r.status, HPS_TRIAL_DONE);
    assert_true(r.objective == 0.25);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(f->n_reports, 2);
    char path[256];
    snprintf(path, sizeof path, "%s/args", f->dir);
    assert_string_equal(slurp(path), "0.5|x; touch pwned|7|{x}|");
    snprintf(path, sizeof path, "%s/pwned", f->dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/env.txt", f->dir);
    const char *env = slurp(path);
    assert_non_null(strstr(env, "HPSWEEP_TRIAL_ID=7\n"));
    assert_non_null(strstr(env, "HPSWEEP_SEED=99\n"));
    assert_non_null(strstr(env, "HPSWEEP_BUDGET=3\n"));
    assert_non_null(strstr(env, "HPSWEEP_RESUME=1\n"));
    assert_non_null(strstr(env, "HPSWEEP_PREV_BUDGET=2\n"));
    assert_non_null(strstr(env, "HPSWEEP_PARAM_LR=0.5\n"));
    assert_non_null(strstr(env, "HPSWEEP_PARAM_OPT=x; touch pwned\n"));
    assert_non_null(strstr(env, "HPSWEEP_PARAMS={\"lr\": 0.5, \"opt\": \"x; touch pwned\"}\n"));
    assert_non_null(strstr(env, "CUDA_VISIBLE_DEVICES=4,5\n"));
    assert_null(strstr(env, "OMPI_COMM_WORLD_RANK"));
    snprintf(path, sizeof path, "%s/trials/7/stdout.log", f->dir);
    assert_non_null(strstr(slurp(path), "@hpsweep step=2 loss=0.25"));
}

static void test_causes_and_retries(void **state)
{
    fixture *f = *state;
    hps_outcome r;
    assert_int_equal(run(f, "echo oops >&2; exit 4", 2, 0, 0, NULL, &r), HPS_OK);
    assert_int_equal(r.status, HPS_TRIAL_FAILED);
    assert_string_equal(r.cause, "exit:4");
    assert_int_equal(r.exit_code, 4);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.stderr_len, 15);
    assert_memory_equal(r.stderr_tail, "oops\noops\noops\n", 15);

    assert_int_equal(run(f, "kill -ABRT $$", 0, 0, 0, NULL, &r), HPS_OK);
    assert_string_equal(r.cause, "signal:SIGABRT");
    assert_int_equal(run(f, "echo hi", 0, 0, 0, NULL, &r), HPS_OK);
    assert_string_equal(r.cause, "no-metric");
    assert_int_equal(run(f, "echo '@hpsweep loss=inf'", 0, 0, 0, NULL, &r), HPS_OK);
    assert_string_equal(r.cause, "nan");
    assert_int_equal(run(f, "exec sleep 30", 1, 0.3, 0, NULL, &r), HPS_OK);
    assert_string_equal(r.cause, "timeout");
    assert_int_equal(r.attempts, 2); /* a timeout is retried */
    assert_true(r.end - r.start < 5.0);
}

static void test_prune(void **state)
{
    fixture *f = *state;
    f->prune_after = 1;
    hps_outcome r;
    const char *script = "i=0; while [ $i -lt 100 ]; do echo \"@hpsweep step=$i loss=$i\"; "
                         "sleep 0.05; i=$((i+1)); done";
    assert_int_equal(run(f, script, 0, 0, 0, NULL, &r), HPS_OK);
    assert_int_equal(r.status, HPS_TRIAL_PRUNED);
    assert_string_equal(r.cause, "pruned");
    assert_true(f->n_reports < 20);
    f->prune_after = -1;
}

/* launch: group on a rank that is its group: torchrun's variables for a world of
 * one (MASTER_PORT a free port), the leader's logs and metric as ever. */
static void test_launch_group_alone(void **state)
{
    fixture *f = *state;
    hps_group g;
    hps_group_init_solo(&g, -1);
    next_launch = HPS_LAUNCH_GROUP;
    next_group = &g;
    hps_outcome r;
    assert_int_equal(run(f, "env > env.txt; echo '@hpsweep step=1 loss=0.5'", 0, 0, 0, "2", &r),
                     HPS_OK);
    next_launch = HPS_LAUNCH_LEADER;
    next_group = NULL;
    assert_int_equal(r.status, HPS_TRIAL_DONE);
    assert_true(r.objective == 0.5);
    char path[256], want[HPS_HOST_MAX + 32];
    snprintf(path, sizeof path, "%s/env.txt", f->dir);
    const char *env = slurp(path);
    assert_non_null(strstr(env, "\nRANK=0\n"));
    assert_non_null(strstr(env, "\nWORLD_SIZE=1\n"));
    assert_non_null(strstr(env, "\nLOCAL_RANK=0\n"));
    assert_non_null(strstr(env, "\nLOCAL_WORLD_SIZE=1\n"));
    snprintf(want, sizeof want, "\nMASTER_ADDR=%s\n", g.host);
    assert_non_null(strstr(env, want));
    const char *port = strstr(env, "\nMASTER_PORT=");
    assert_non_null(port);
    assert_true(atoi(port + 13) > 0);
    assert_non_null(strstr(env, "CUDA_VISIBLE_DEVICES=2\n"));
    snprintf(path, sizeof path, "%s/trials/7/stdout.log", f->dir);
    assert_int_equal(access(path, F_OK), 0);
    hps_group_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_environment_and_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_causes_and_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_group_alone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
