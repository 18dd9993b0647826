/*
 * The built-in trainer as an objective (workers/trainer_objective.c) and the
 * checks a trainer sweep passes before it is written (engine/cli/trainer_check.c):
 * a synthetic set written twice is the same bytes; epochs from a budget; parameters from defaults and options (did-you-mean,
 * reserved names, exact choices, epochs with a multi-fidelity strategy); space
 * parameters against the table's types and ranges; the metric against the
 * dataset's task and goal; whole configs refused at file:line:col; the dataset's
 * provenance; and trials run through the one trial runner on a group of one --
 * reports per epoch, a promotion that continues from the checkpoint and ends
 * bit-identical to a run that never stopped, a parameter that does not convert;
 * and the README's parameter table, row for row from hps_train_param_table.
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
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "cli/trainer_check.h"
#include "config/config.h"
#include "hpsweep/error.h"
#include "workers/group.h"
#include "workers/objective.h"
#include "workers/trainer_objective.h"
#include "workers/trial.h"

static char dir[64];
static char data[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hps-trobj-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/data.h5", dir);
    char err[512];
    return hps_dataset_synth(data, 1200, 8, 3, 5, err, sizeof err) == HPS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hps_rm_tree(dir) == 0 ? 0 : -1;
}

/* hps_dataset_synth twice with the same arguments: the same bytes (so the same
 * SHA-256 in /provenance), and hps_dataset_synth_same knows its own file. */
static void test_synth_same(void **state)
{
    (void)state;
    char again[160], err[512];
    snprintf(again, sizeof again, "%s/again.h5", dir);
    /* A second later: HDF5 would record another modification time if let. */
    struct timespec pause = {1, 100000000};
    assert_int_equal(nanosleep(&pause, NULL), 0);
    assert_int_equal(hps_dataset_synth(again, 1200, 8, 3, 5, err, sizeof err), HPS_OK);
    hps_dataset_info a, b;
    assert_int_equal(hps_dataset_check(data, &a, err, sizeof err), HPS_OK);
    assert_int_equal(hps_dataset_check(again, &b, err, sizeof err), HPS_OK);
    assert_string_equal(a.sha256, b.sha256);
    assert_true(hps_dataset_synth_same(again, 1200, 8, 3, 5));
    assert_false(hps_dataset_synth_same(again, 1200, 8, 3, 6));
    assert_false(hps_dataset_synth_same(again, 1000, 8, 3, 5));
    assert_false(hps_dataset_synth_same(again, 0, 0, 0, 5)); /* the defaults: 20000 x 32, 5 */
    char other[160];
    snprintf(other, sizeof other, "%s/other.txt", dir);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fputs("not hdf5\n", f);
    assert_int_equal(fclose(f), 0);
    assert_false(hps_dataset_synth_same(other, 1200, 8, 3, 5));
    assert_false(hps_dataset_synth_same("/nonexistent/x.h5", 1200, 8, 3, 5));
    assert_int_equal(unlink(other), 0);
    assert_int_equal(unlink(again), 0);
}

static void test_epochs(void **state)
{
    (void)state;
    assert_int_equal(hps_trainer_epochs(0), 0);
    assert_int_equal(hps_trainer_epochs(-3), 0);
    assert_int_equal(hps_trainer_epochs(0.2), 1);
    assert_int_equal(hps_trainer_epochs(1), 1);
    assert_int_equal(hps_trainer_epochs(20.0 / 9.0), 2); /* a rung of max 20, eta 3 */
    assert_int_equal(hps_trainer_epochs(20.0 / 3.0), 7);
    assert_int_equal(hps_trainer_epochs(27), 27);
}

static void test_params_base(void **state)
{
    (void)state;
    char *keys[] = {"hidden_units", "activation", "threads", "nesterov"};
    char *vals[] = {"64", "tanh", "3", "true"};
    hps_objective_cfg cfg = {.kind = HPS_OBJ_TRAINER, .n_options = 4, .option_keys = keys,
                             .option_values = vals};
    hps_train_params p, d;
    char err[512];
    int bad = -1;
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 2, &bad, err, sizeof err), HPS_OK);
    hps_train_params_default(&d);
    assert_int_equal(p.hidden_units, 64);
    assert_int_equal(p.activation, HPS_ACT_TANH);
    assert_int_equal(p.threads, 3); /* the option wins over the rank's share */
    assert_int_equal(p.nesterov, 1);
    assert_int_equal(p.hidden_layers, d.hidden_layers);
    cfg.n_options = 1;
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 2, &bad, err, sizeof err), HPS_OK);
    assert_int_equal(p.threads, 2); /* the share */
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 0, &bad, err, sizeof err), HPS_OK);
    assert_int_equal(p.threads, 1);

    /* A typo, its index and a did-you-mean. */
    keys[2] = "dropuot";
    vals[2] = "0.1";
    cfg.n_options = 4;
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_ECONFIG);
    assert_int_equal(bad, 2);
    assert_non_null(strstr(err, "unknown trainer parameter 'dropuot' (did you mean 'dropout'?)"));
    /* Far from every name: the list of hyper-parameters instead. */
    keys[2] = "zzqqxx";
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "the trainer's hyper-parameters are learning_rate, batch_size"));
    /* Set by hpsweep. */
    keys[2] = "seed";
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "'seed' cannot be set"));
    keys[2] = "device";
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "gpus_per_rank"));
    /* A choice by its exact text only, not by an index. */
    keys[2] = "threads";
    vals[2] = "1";
    vals[1] = "1";
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_ECONFIG);
    assert_int_equal(bad, 1);
    assert_non_null(strstr(err, "'1' is not one of relu, tanh, gelu"));
    vals[1] = "gelu";
    /* Out of range. */
    vals[0] = "0";
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_ECONFIG);
    assert_int_equal(bad, 0);
    assert_non_null(strstr(err, "outside [1, 65536]"));
    vals[0] = "32";
    /* epochs: fine alone, refused when the strategy's budget is the epochs. */
    keys[3] = "epochs";
    vals[3] = "4";
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_OK);
    assert_int_equal(p.epochs, 4);
    cfg.max_epochs = 27;
    assert_int_equal(hps_trainer_params_base(&p, &cfg, 1, &bad, err, sizeof err), HPS_ECONFIG);
    assert_int_equal(bad, 3);
    assert_non_null(strstr(err, "multi-fidelity"));
}

static void check_param(hps_param sp, int want, const char *where, const char *msg)
{
    char w[64], err[512] = "";
    int rc = hps_trainer_check_param(&sp, w, sizeof w, err, sizeof err);
    if (rc != want || strcmp(w, where) != 0 || (msg && !strstr(err, msg))) {
        print_error("%s: rc %d (want %d), where '%s' (want '%s'), err '%s' (want '%s')\n",
                    sp.name, rc, want, w, where, err, msg ? msg : "");
        fail();
    }
}

static void test_check_param(void **state)
{
    (void)state;
    hps_choice acts[] = {{HPS_CHOICE_STRING, "relu", 0}, {HPS_CHOICE_STRING, "gelu", 0}};
    hps_choice opts[] = {{HPS_CHOICE_STRING, "sgd", 0}, {HPS_CHOICE_STRING, "adam", 0},
                         {HPS_CHOICE_STRING, "lion", 0}};
    hps_choice sizes[] = {{HPS_CHOICE_NUMBER, "64", 64}, {HPS_CHOICE_NUMBER, "128", 128}};
    hps_choice halves[] = {{HPS_CHOICE_NUMBER, "64", 64}, {HPS_CHOICE_NUMBER, "64.5", 64.5}};
    hps_choice numeric[] = {{HPS_CHOICE_NUMBER, "0", 0}};
    check_param((hps_param){.name = "learning_rate", .type = HPS_PARAM_FLOAT, .low = 1e-4,
                            .high = 0.1, .log = 1}, HPS_OK, "", NULL);
    check_param((hps_param){.name = "warmup_epochs", .type = HPS_PARAM_INT, .low = 0, .high = 3},
                HPS_OK, "", NULL); /* an int space for a float parameter */
    check_param((hps_param){.name = "hidden_layers", .type = HPS_PARAM_INT, .low = 1, .high = 4},
                HPS_OK, "", NULL);
    check_param((hps_param){.name = "hidden_layers", .type = HPS_PARAM_FLOAT, .low = 1, .high = 4},
                HPS_ECONFIG, "type", "is an integer; the space gives it type float (use type: int)");
    check_param((hps_param){.name = "dropout", .type = HPS_PARAM_FLOAT, .low = 0, .high = 0.99},
                HPS_ECONFIG, "high", "0.99 is outside [0, 0.95]");
    check_param((hps_param){.name = "learning_rate", .type = HPS_PARAM_FLOAT, .low = 0, .high = 1},
                HPS_ECONFIG, "low", "outside");
    check_param((hps_param){.name = "dropout", .type = HPS_PARAM_BOOL}, HPS_ECONFIG, "type",
                "use type: float");
    check_param((hps_param){.name = "activation", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2,
                            .choices = acts}, HPS_OK, "", NULL);
    check_param((hps_param){.name = "optimizer", .type = HPS_PARAM_CATEGORICAL, .n_choices = 3,
                            .choices = opts}, HPS_ECONFIG, "choices[2]",
                "choice 'lion' is not one of sgd, adam, adamw");
    check_param((hps_param){.name = "activation", .type = HPS_PARAM_CATEGORICAL, .n_choices = 1,
                            .choices = numeric}, HPS_ECONFIG, "choices[0]", "is not one of");
    check_param((hps_param){.name = "activation", .type = HPS_PARAM_INT, .low = 0, .high = 2},
                HPS_ECONFIG, "type", "use type: categorical)");
    check_param((hps_param){.name = "nesterov", .type = HPS_PARAM_BOOL}, HPS_OK, "", NULL);
    check_param((hps_param){.name = "batch_size", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2,
                            .choices = sizes}, HPS_OK, "", NULL);
    check_param((hps_param){.name = "batch_size", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2,
                            .choices = halves}, HPS_ECONFIG, "choices[1]", "whole number");
    check_param((hps_param){.name = "batch_size", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2,
                            .choices = acts}, HPS_ECONFIG, "choices[0]", "choice 'relu' is not");
    check_param((hps_param){.name = "hiden_units", .type = HPS_PARAM_INT, .low = 8, .high = 64},
                HPS_ECONFIG, "", "(did you mean 'hidden_units'?)");
    check_param((hps_param){.name = "prev_epochs", .type = HPS_PARAM_INT, .low = 1, .high = 3},
                HPS_ECONFIG, "", "hpsweep sets it when a trial is promoted");
}

static void test_metric(void **state)
{
    (void)state;
    char err[512];
    int wrong = -1;
    assert_int_equal(hps_trainer_check_metric("val_accuracy", 1, HPS_TASK_CLASSIFY, &wrong, err,
                                              sizeof err), HPS_OK);
    assert_int_equal(wrong, 0);
    assert_int_equal(hps_trainer_check_metric("val_loss", 0, HPS_TASK_CLASSIFY, &wrong, err,
                                              sizeof err), HPS_OK);
    assert_int_equal(hps_trainer_check_metric("val_accuracy", 0, HPS_TASK_CLASSIFY, &wrong, err,
                                              sizeof err), HPS_ECONFIG);
    assert_int_equal(wrong, 1);
    assert_non_null(strstr(err, "set metric.goal: maximize"));
    assert_int_equal(hps_trainer_check_metric("val_loss", 1, HPS_TASK_REGRESS, &wrong, err,
                                              sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "set metric.goal: minimize"));
    assert_int_equal(hps_trainer_check_metric("val_rmse", 0, HPS_TASK_CLASSIFY, &wrong, err,
                                              sizeof err), HPS_ECONFIG);
    assert_int_equal(wrong, 0);
    assert_non_null(strstr(err, "its task is classification"));
    assert_int_equal(hps_trainer_check_metric("val_rmse", 0, HPS_TASK_REGRESS, &wrong, err,
                                              sizeof err), HPS_OK);
    assert_int_equal(hps_trainer_check_metric("loss", 0, HPS_TASK_REGRESS, &wrong, err,
                                              sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "no metric 'loss'; on this regression dataset it reports "
                                "train_loss (minimize), val_loss (minimize), val_rmse (minimize)"));
}

/* ---- whole configs --------------------------------------------------------------- */

static const char *good =
    "name: tr\n"
    "objective:\n"
    "  trainer: mlp\n"
    "  dataset: data.h5\n"
    "  options: {hidden_layers: 1, threads: 1}\n"
    "metric: {name: val_accuracy, goal: maximize}\n"
    "space:\n"
    "  learning_rate: {type: float, low: 1.0e-3, high: 0.1, log: true}\n"
    "  hidden_units: {type: int, low: 8, high: 32}\n"
    "  optimizer: {type: categorical, choices: [sgd, adam]}\n"
    "strategy: {name: asha, min_resource: 1, max_resource: 9}\n"
    "budget: {max_trials: 4}\n";

/* Write good with `from` replaced by `to` (both may be NULL) and prepare it. */
static int prepare(const char *from, const char *to, hps_trainer_data *d, char *err,
                   size_t errlen)
{
    char text[2048], path[128];
    snprintf(text, sizeof text, "%s", good);
    if (from) {
        char *at = strstr(text, from);
        assert_non_null(at);
        char rest[2048];
        snprintf(rest, sizeof rest, "%s", at + strlen(from));
        snprintf(at, sizeof text - (size_t)(at - text), "%s%s", to, rest);
    }
    snprintf(path, sizeof path, "%s/tr.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    hps_config cfg;
    int rc = hps_config_load(path, &cfg, err, errlen);
    if (rc == HPS_OK)
        rc = hps_trainer_prepare(&cfg, NULL, d, err, errlen);
    hps_config_free(&cfg);
    return rc;
}

static void refused(const char *from, const char *to, const char *want)
{
    hps_trainer_data d;
    char err[2048] = "", full[512];
    snprintf(full, sizeof full, "%s/tr.yaml:%s", dir, want);
    int rc = prepare(from, to, &d, err, sizeof err);
    if (rc != HPS_ECONFIG || !strstr(err, full)) {
        print_error("'%s' -> '%s': rc %d, err '%s', want '%s'\n", from, to, rc, err, full);
        fail();
    }
    assert_false(d.have);
}

static void test_prepare(void **state)
{
    (void)state;
    hps_trainer_data d;
    char err[2048] = "";
    assert_int_equal(prepare(NULL, NULL, &d, err, sizeof err), HPS_OK);
    assert_true(d.have);
    assert_int_equal(d.info.task, HPS_TASK_CLASSIFY);
    assert_int_equal(d.info.classes, 3);
    assert_int_equal(d.info.n_train + d.info.n_val, 1200);
    assert_int_equal(strlen(d.info.sha256), 64);
    hps_prov prov = {0};
    assert_int_equal(hps_trainer_provenance(&d, &prov), HPS_OK);
    assert_string_equal(hps_prov_get(&prov, HPS_PROV_RUN, 0, "dataset_sha256"), d.info.sha256);
    assert_string_equal(hps_prov_get(&prov, HPS_PROV_RUN, 0, "dataset_shape"),
                        "train 960 x 8, val 240 x 8");
    assert_string_equal(hps_prov_get(&prov, HPS_PROV_RUN, 0, "dataset_task"),
                        "classification, 3 classes");
    /* and a fingerprinted file, as a `datasets` entry is */
    assert_int_equal(hps_prov_count(&prov, HPS_PROV_FILE), 1);
    assert_string_equal(hps_prov_get(&prov, HPS_PROV_FILE, 0, "role"), "dataset");
    assert_string_equal(hps_prov_get(&prov, HPS_PROV_FILE, 0, "sha256"), d.info.sha256);
    hps_prov_free(&prov);

    /* Each refusal at the place it is about. */
    refused("hidden_units:", "hiden_units:",
            "9:3: space.hiden_units: unknown trainer parameter 'hiden_units' (did you mean "
            "'hidden_units'?)");
    refused("hidden_units: {type: int", "hidden_units: {type: float",
            "9:24: space.hidden_units: trainer parameter 'hidden_units' is an integer");
    refused("[sgd, adam]", "[sgd, adam, lion]",
            "10:55: space.optimizer: trainer parameter 'optimizer': choice 'lion' is not one of");
    refused("high: 32}", "high: 100000}", "9:43: space.hidden_units: trainer parameter");
    refused("hidden_layers: 1,", "hiden_layers: 1,",
            "5:13: objective.options.hiden_layers: unknown trainer parameter 'hiden_layers'");
    refused("threads: 1", "threads: 0", "5:40: objective.options.threads: trainer parameter");
    refused("threads: 1", "learning_rate: 0.1",
            "5:31: objective.options.learning_rate: also a parameter of the space");
    refused("threads: 1", "epochs: 3", "5:31: objective.options.epochs: trainer parameter "
            "'epochs' cannot be set with a multi-fidelity strategy");
    refused("  optimizer:", "  epochs: {type: int, low: 1, high: 4}\n  optimizer:",
            "10:3: space.epochs: a multi-fidelity strategy (asha) gives every trial its epochs");
    refused("dataset: data.h5", "dataset: nope.h5",
            "4:12: objective.dataset: ");
    refused("name: val_accuracy,", "name: val_rmse,",
            "6:16: metric.name: the trainer reports no val_rmse on this dataset");
    refused("goal: maximize", "goal: minimize", "6:36: metric.goal: val_accuracy is higher");
    refused("metric: {name: val_accuracy, goal: maximize}\n", "",
            "3:12: metric.name: not given, so the sweep's metric is 'objective': the trainer "
            "reports no metric 'objective'");
    /* Not a dataset: the reader's message names the file. */
    char path[160];
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not hdf5\n", f);
    assert_int_equal(fclose(f), 0);
    refused("dataset: data.h5", "dataset: bad.h5", "4:12: objective.dataset: ");
    assert_int_equal(prepare("dataset: data.h5", "dataset: bad.h5", &d, err, sizeof err),
                     HPS_ECONFIG);
    assert_non_null(strstr(err, "bad.h5"));
    /* Not a trainer: nothing to do. */
    hps_config other;
    snprintf(path, sizeof path, "%s/other.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("objective: {function: sphere}\nspace: {x: {type: float, low: 0, high: 1}}\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(hps_config_load(path, &other, err, sizeof err), HPS_OK);
    assert_int_equal(hps_trainer_prepare(&other, NULL, &d, err, sizeof err), HPS_OK);
    assert_false(d.have);
    hps_config_free(&other);
}

/* ---- trials on a group of one ---------------------------------------------------------- */

typedef struct seen {
    int reports;
    int64_t first, last;
    double last_acc;
} seen;

static void on_report(void *ctx, int64_t trial_id, const hps_report_line *line)
{
    (void)trial_id;
    seen *s = ctx;
    if (s->reports++ == 0)
        s->first = line->step;
    s->last = line->step;
    assert_int_equal(line->n, 3);
    assert_string_equal(line->names[0], "train_loss");
    assert_string_equal(line->names[1], "val_loss");
    assert_string_equal(line->names[2], "val_accuracy");
    assert_true(line->resource == (double)line->step);
    s->last_acc = line->values[2];
}

static int go(void *ctx, int64_t trial_id)
{
    (void)ctx;
    (void)trial_id;
    return HPS_POLL_GO;
}

static hps_choice opt_choices[] = {{HPS_CHOICE_STRING, "sgd", 0}, {HPS_CHOICE_STRING, "adam", 0}};
static hps_param params[] = {
    {.name = "learning_rate", .type = HPS_PARAM_FLOAT, .low = 1e-3, .high = 0.1, .log = 1},
    {.name = "hidden_units", .type = HPS_PARAM_INT, .low = 8, .high = 32},
    {.name = "optimizer", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2, .choices = opt_choices},
    {.name = "nesterov", .type = HPS_PARAM_BOOL},
};
static hps_space space = {.n_params = 4, .params = params};

static void run_trial(hps_objective *o, int64_t id, double prev, double budget, seen *s,
                      hps_outcome *out)
{
    static double v[4] = {0.02, 16, 1, 1}; /* adam, nesterov true */
    hps_trial_spec spec = {.trial_id = id, .seed = 77, .budget = budget, .prev_budget = prev,
                           .values = v};
    hps_trial_hooks hooks = {.report = on_report, .poll = go, .ctx = s};
    memset(s, 0, sizeof *s);
    assert_int_equal(hps_trial_run(o, &spec, &hooks, out), HPS_OK);
}

static void test_trials(void **state)
{
    (void)state;
    char *keys[] = {"hidden_layers", "batch_size", "lr_schedule"};
    char *vals[] = {"1", "32", "cosine"};
    hps_objective_cfg cfg = {.kind = HPS_OBJ_TRAINER, .function = "trainer", .trainer = "mlp",
                             .dataset = data, .n_options = 3, .option_keys = keys,
                             .option_values = vals, .retries = 1, .max_epochs = 4,
                             .gpus_per_rank = -1};
    char sweep[128];
    snprintf(sweep, sizeof sweep, "%s/sweep", dir);
    hps_group g;
    hps_group_init_solo(&g, -1);
    hps_objective_runtime rt = {.sweep_dir = sweep, .config_dir = dir, .group_rank = 0,
                                .group_size = 1, .group = &g, .threads = 1};
    hps_objective o;
    char err[1024] = "";
    assert_int_equal(hps_objective_open(&o, &cfg, &space, "val_accuracy", &rt, err, sizeof err),
                     HPS_OK);
    assert_true(o.count_crashes);
    assert_int_equal(o.crash_retries, 1);
    assert_true(o.ops->flags & HPS_OBJECTIVE_GROUP);

    seen s;
    hps_outcome out;
    run_trial(&o, 0, 0, 2, &s, &out);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(s.reports, 2);
    assert_int_equal(s.first, 1);
    assert_int_equal(s.last, 2);
    assert_true(out.objective == s.last_acc);
    char ckpt[256];
    snprintf(ckpt, sizeof ckpt, "%s/trials/0/checkpoint.h5", sweep);
    assert_int_equal(access(ckpt, R_OK), 0);

    /* Promoted from 2 to 4 epochs: continues at epoch 3 ... */
    run_trial(&o, 0, 2, 4, &s, &out);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(s.reports, 2);
    assert_int_equal(s.first, 3);
    assert_int_equal(s.last, 4);
    double promoted = out.objective;
    /* ... and ends where a trial run straight to 4 epochs ends, bit for bit (the same
     * seed, and one cosine horizon, max_epochs, for both). */
    run_trial(&o, 1, 0, 4, &s, &out);
    assert_int_equal(s.reports, 4);
    assert_true(out.objective == promoted);
    assert_true(out.objective > 0.5); /* 3 classes: chance is a third */

    /* A re-run whose result was lost reports the checkpoint again, training nothing. */
    run_trial(&o, 1, 0, 4, &s, &out);
    assert_int_equal(out.status, HPS_TRIAL_DONE);
    assert_int_equal(s.reports, 1);
    assert_true(out.objective == promoted);

    /* A space value the trainer refuses: the trial fails with the reason. */
    hps_param wide[1] = {{.name = "dropout", .type = HPS_PARAM_FLOAT, .low = 0, .high = 2}};
    hps_space sp1 = {.n_params = 1, .params = wide};
    o.space = &sp1;
    double v1[1] = {1.5};
    hps_trial_spec spec = {.trial_id = 2, .seed = 1, .budget = 1, .values = v1};
    hps_trial_hooks hooks = {.report = on_report, .poll = go, .ctx = &s};
    assert_int_equal(hps_trial_run(&o, &spec, &hooks, &out), HPS_OK);
    assert_int_equal(out.status, HPS_TRIAL_FAILED);
    assert_non_null(strstr(out.cause, "trainer parameter 'dropout': 1.5 is outside [0, 0.95]"));
    hps_objective_close(&o);

    /* A dataset this rank cannot read: init fails, naming it. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.h5", dir);
    cfg.dataset = missing;
    assert_int_not_equal(hps_objective_open(&o, &cfg, &space, "val_accuracy", &rt, err,
                                            sizeof err), HPS_OK);
    assert_non_null(strstr(err, "missing.h5: No such file or directory"));
    hps_group_free(&g);
}

/* ---- the README's parameter table ---------------------------------------------------- */

#define TABLE_HEADER "| parameter | values | default | meaning |"

/* The README's row for a parameter, made from the table itself. */
static void table_row(const hps_train_param_info *in, char *buf, size_t len)
{
    char values[256];
    if (in->type == HPS_TRAIN_CATEGORICAL) {
        size_t used = 0;
        values[0] = '\0';
        for (int c = 0; in->choices[c]; c++)
            used += (size_t)snprintf(values + used, sizeof values - used, "%s`%s`", c ? ", " : "",
                                     in->choices[c]);
    } else if (in->type == HPS_TRAIN_INT) {
        if (in->max >= 1e9)
            snprintf(values, sizeof values, "int ≥ %.0f", in->min);
        else
            snprintf(values, sizeof values, "int in [%.0f, %.0f]", in->min, in->max);
    } else if (in->max >= 1e9) {
        snprintf(values, sizeof values, "float ≥ %g", in->min);
    } else {
        snprintf(values, sizeof values, "float in [%g, %g]", in->min, in->max);
    }
    const char *reserved = hps_trainer_reserved(in->name);
    snprintf(buf, len, "| `%s` | %s | `%s` | %s%s%s |", in->name, values, in->default_text,
             in->help, reserved ? "; in a sweep " : "", reserved ? reserved : "");
}

static void test_readme_table(void **state)
{
    (void)state;
    FILE *f = fopen(HPS_TEST_DATA_DIR "/../README.md", "r");
    assert_non_null(f);
    char line[1024];
    int at = -2, bad = 0; /* -2: before the header, -1: the separator row next */
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (at == -2) {
            at = strcmp(line, TABLE_HEADER) == 0 ? -1 : -2;
            continue;
        }
        if (at == -1) {
            at = 0;
            continue;
        }
        if (line[0] != '|')
            break;
        char want[1024];
        if (at < hps_train_n_params)
            table_row(&hps_train_param_table[at], want, sizeof want);
        if (at >= hps_train_n_params || strcmp(line, want) != 0) {
            print_error("README row %d:\n  %s\nexpected:\n  %s\n", at, line,
                        at < hps_train_n_params ? want : "(no more parameters)");
            bad = 1;
        }
        at++;
    }
    fclose(f);
    if (at != hps_train_n_params)
        bad = 1;
    if (bad) {
        print_error("The README's table (header '%s') must read, from hps_train_param_table:\n"
                    "%s\n| --- | --- | --- | --- |\n", TABLE_HEADER, TABLE_HEADER);
        for (int i = 0; i < hps_train_n_params; i++) {
            char want[1024];
            table_row(&hps_train_param_table[i], want, sizeof want);
            print_error("%s\n", want);
        }
        fail();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synth_same),
        cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_params_base),
        cmocka_unit_test(test_check_param),
        cmocka_unit_test(test_metric),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_trials),
        cmocka_unit_test(test_readme_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
