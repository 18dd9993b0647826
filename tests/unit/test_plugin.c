/*
 * C plugins (workers/plugin.c, workers/objective.c): loading refuses a missing
 * file, a library without the ops table and one of another API version, each
 * with a message naming it; the example plugin (configs/examples/plugin) loads,
 * gets its options in init(), runs trials in a group of one with its reports
 * reaching the hooks, continues a promotion from its checkpoint, and an init()
 * failure is reported with the plugin's own message. The plugins are built with
 * the tests (HPS_TEST_BUILD_DIR); the test program exports the objective API to
 * them as hpsweep does (cmake/hpsweep.dynlist).
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

#include "core/fs.h"
#include "hpsweep/error.h"
#include "workers/group.h"
#include "workers/objective.h"
#include "workers/trial.h"

#define LSQ HPS_TEST_BUILD_DIR "/examples/liblsq.so"
#define BAD HPS_TEST_BUILD_DIR "/tests/plugins"

static void test_load_refusals(void **state)
{
    (void)state;
    void *dl;
    const hps_objective_ops *ops;
    char err[1024];
    assert_int_equal(hps_plugin_load("/nonexistent/libx.so", &dl, &ops, err, sizeof err),
                     HPS_ENOENT);
    assert_non_null(strstr(err, "plugin /nonexistent/libx.so: No such file or directory"));
    assert_null(dl);
    assert_null(ops);
    assert_int_equal(hps_plugin_load(BAD "/libnosym.so", &dl, &ops, err, sizeof err),
                     HPS_ENOENT);
    assert_non_null(strstr(err, "exports no 'hpsweep_objective'"));
    assert_int_equal(hps_plugin_load(BAD "/libbadversion.so", &dl, &ops, err, sizeof err),
                     HPS_EVERSION);
    assert_non_null(strstr(err, "has API version 99, this hpsweep speaks version 1"));
    assert_null(dl);
    /* Not a shared library at all. */
    assert_int_equal(hps_plugin_load(HPS_TEST_DATA_DIR "/plugins/nosym.c", &dl, &ops, err,
                                     sizeof err),
                     HPS_ENOENT);
    assert_non_null(strstr(err, "cannot be loaded"));
}

static void test_load_example(void **state)
{
    (void)state;
    void *dl;
    const hps_objective_ops *ops;
    char err[1024];
    assert_int_equal(hps_plugin_load(LSQ, &dl, &ops, err, sizeof err), HPS_OK);
    assert_string_equal(ops->name, "lsq");
    assert_true(ops->flags & HPS_OBJECTIVE_GROUP);
    assert_int_equal(ops->version, HPS_OBJECTIVE_VERSION);
    assert_non_null(ops->init);
    assert_non_null(ops->fini);
}

/* ---- the example as an objective ------------------------------------------------- */

static hps_param params[] = {
    {.name = "lr", .type = HPS_PARAM_FLOAT, .low = 1e-3, .high = 0.2, .log = 1},
    {.name = "batch", .type = HPS_PARAM_INT, .low = 8, .high = 64},
};
static hps_space space = {.n_params = 2, .params = params};
static char dir[64];

typedef struct seen {
    int reports;
    int64_t first_step, last_step;
    double last_loss;
} seen;

static void on_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    seen *s = ctx;
    (void)trial_id;
    if (s->reports++ == 0)
        s->first_step = line->step;
    s->last_step = line->step;
    assert_int_equal(line->n, 1);
    assert_string_equal(line->names[0], "loss");
    s->last_loss = line->values[0];
}

static int go(void *ctx, int64_t trial_id)
{
    (void)ctx;
    (void)trial_id;
    return HPS_POLL_GO;
}

static int open_lsq(hps_objective *o, hps_group *g, const char *const *keys,
                    const char *const *values, int n, char *err, size_t errlen)
{
    static hps_objective_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = HPS_OBJ_PLUGIN;
    cfg.plugin = (char *)LSQ;
    cfg.retries = 1;
    cfg.n_options = n;
    cfg.option_keys = (char **)keys;
    cfg.option_values = (char **)values;
    hps_group_init_solo(g, -1);
    hps_objective_runtime rt = {.sweep_dir = dir, .config_dir = ".", .group_rank = 0,
                                .group_size = 1, .group = g};
    return hps_objective_open(o, &cfg, &space, "loss", &rt, err, errlen);
}

static void test_run_example(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hps-plugin-XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *keys[] = {"n", "dim", "epochs", "data_seed"};
    const char *vals[] = {"256", "4", "3", "1"};
    hps_objective o;
    hps_group g;
    char err[1024] = "";
    assert_int_equal(open_lsq(&o, &g, keys, vals, 4, err, sizeof err), HPS_OK);
    assert_true(o.count_crashes);
    double v[2] = {0.05, 16};
    hps_trial_spec spec = {.trial_id = 0, .seed = 9, .budget = 0, .values = v};
    seen s = {0};
    hps_trial_hooks hooks = {.report = on_report, .poll = go, .ctx = &s};
    hps_outcome out;
    assert_int_equal(hps_trial_run(&o, &spec, &hooks, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(out.attempts, 1);
    assert_int_equal(s.reports, 3); /* the option epochs: 3 */
    assert_true(isfinite(out.objective) && out.objective == s.last_loss);
    char path[256];
    snprintf(path, sizeof path, "%s/trials/0/model.txt", dir);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/trials/0/attempt", dir);
    assert_int_not_equal(access(path, F_OK), 0); /* the run ended: no record left */

    /* A promotion from 3 to 5 epochs continues from the checkpoint. */
    spec.prev_budget = 3;
    spec.budget = 5;
    memset(&s, 0, sizeof s);
    assert_int_equal(hps_trial_run(&o, &spec, &hooks, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(s.reports, 2);
    assert_int_equal(s.first_step, 4);
    assert_int_equal(s.last_step, 5);

    /* Parameters it needs but the space lacks: the plugin's own cause. */
    hps_param only_lr[1] = {params[0]};
    hps_space sp1 = {.n_params = 1, .params = only_lr};
    o.space = &sp1;
    spec.trial_id = 1;
    spec.prev_budget = 0;
    assert_int_equal(hps_trial_run(&o, &spec, &hooks, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_FAILED);
    assert_string_equal(out.cause, "lsq needs parameters lr (float) and batch (int)");
    hps_objective_close(&o);
    hps_group_free(&g);

    /* init() fails: its message, the plugin unloaded. */
    const char *k2[] = {"init_fail_rank"};
    const char *v2[] = {"0"};
    assert_int_not_equal(open_lsq(&o, &g, k2, v2, 1, err, sizeof err), HPS_OK);
    assert_non_null(strstr(err, "objective 'lsq': init failed: lsq: init_fail_rank is 0"));
    assert_null(o.dl);
    hps_group_free(&g);

    assert_int_equal(hps_rm_tree(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_load_example),
        cmocka_unit_test(test_run_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
