/*
 * The built-in trainer as an objective (see trainer_objective.h): registered like
 * a plugin, compiled in. Its run() uses the public objective API only -- the
 * trial's parameters by name, its seed, budget, directory, device and group, the
 * group's allreduce and should_stop, reports -- so it is also an example of a
 * data-parallel plugin. init() reads the parsed objective section (dataset,
 * options, the strategy's horizon) and the rank's CPU share from the built-in
 * environment, which a plugin would get as options.
 *
 * Threads. OpenBLAS runs `threads` threads per rank: the option, else the
 * runtime's share of this rank's CPUs (hps_objective_runtime.threads: the CPUs of
 * its affinity mask over the trial ranks of its node that share them), so ranks x
 * threads never oversubscribe the cores the job was given.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "hpsweep/error.h"
#include "hpsweep/objective.h"
#include "objective.h"
#include "trainer_objective.h"

#define CHECKPOINT_NAME "checkpoint.h5"

/* ---- the rules (shared with engine/cli's checks) ----------------------------------------- */

int64_t hps_trainer_epochs(double budget)
{
    if (!(budget > 0))
        return 0;
    if (budget >= 1e15)
        return (int64_t)1e15;
    int64_t e = (int64_t)llround(budget);
    return e < 1 ? 1 : e;
}

const char *hps_trainer_reserved(const char *name)
{
    if (strcmp(name, "seed") == 0)
        return "hpsweep gives every trial its own seed (recorded in /trials)";
    if (strcmp(name, "prev_epochs") == 0)
        return "hpsweep sets it when a trial is promoted";
    if (strcmp(name, "device") == 0)
        return "hpsweep gives each rank its GPU (objective.gpus_per_rank; 0 trains on the CPU)";
    return NULL;
}

static int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return HPS_ECONFIG;
}

/* "relu, tanh, gelu" */
static void choice_list(const hps_train_param_info *info, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; info->choices[c] && used < len; c++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", c ? ", " : "", info->choices[c]);
}

static int is_choice(const hps_train_param_info *info, const char *text)
{
    for (int c = 0; info->choices[c]; c++)
        if (strcmp(info->choices[c], text) == 0)
            return 1;
    return 0;
}

static int is_bool_param(const hps_train_param_info *info)
{
    return info->type == HPS_TRAIN_CATEGORICAL && info->choices[0] && info->choices[1] &&
           !info->choices[2] && strcmp(info->choices[0], "false") == 0 &&
           strcmp(info->choices[1], "true") == 0;
}

/* The table's entry for name: HPS_OK, or HPS_ECONFIG for an unknown (did-you-mean,
 * else the list of tunable parameters) or reserved name. */
static int known(const char *name, const hps_train_param_info **out, char *err, size_t errlen)
{
    *out = hps_train_param_find(name);
    if (!*out) {
        /* The table's own message for an unknown name, with its did-you-mean. */
        hps_train_params p;
        char msg[256] = "";
        hps_train_params_default(&p);
        (void)hps_train_params_set_text(&p, name, "0", msg, sizeof msg);
        if (strstr(msg, "did you mean"))
            return errf(err, errlen, "%s", msg);
        char list[1024] = "";
        size_t used = 0;
        for (int i = 0; i < hps_train_n_params && used < sizeof list; i++)
            if (hps_train_param_table[i].tunable)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                         used ? ", " : "", hps_train_param_table[i].name);
        return errf(err, errlen, "%s; the trainer's hyper-parameters are %s (the README's "
                    "trainer section lists every parameter)", msg, list);
    }
    const char *why = hps_trainer_reserved(name);
    if (why)
        return errf(err, errlen, "trainer parameter '%s' cannot be set: %s", name, why);
    return HPS_OK;
}

/* Set a categorical trainer parameter from a choice's exact text, anything else from
 * its text as a number (the one way options and space values become parameters). */
static int set_text(hps_train_params *p, const hps_train_param_info *info, const char *text,
                    char *err, size_t errlen)
{
    if (info->type == HPS_TRAIN_CATEGORICAL && !is_choice(info, text)) {
        char list[256];
        choice_list(info, list, sizeof list);
        return errf(err, errlen, "trainer parameter '%s': '%s' is not one of %s", info->name,
                    text, list);
    }
    return hps_train_params_set_text(p, info->name, text, err, errlen);
}

int hps_trainer_params_base(hps_train_params *p, const hps_objective_cfg *cfg,
                            int default_threads, int *bad, char *err, size_t errlen)
{
    hps_train_params_default(p);
    p->threads = default_threads >= 1 ? default_threads : 1;
    for (int i = 0; i < cfg->n_options; i++) {
        const hps_train_param_info *info;
        int rc = known(cfg->option_keys[i], &info, err, errlen);
        if (rc == HPS_OK)
            rc = set_text(p, info, cfg->option_values[i], err, errlen);
        if (rc == HPS_OK && cfg->max_epochs > 0 && strcmp(info->name, "epochs") == 0)
            rc = errf(err, errlen, "trainer parameter 'epochs' cannot be set with a "
                      "multi-fidelity strategy: its budget is the epochs (strategy "
                      "min_resource and max_resource)");
        if (rc != HPS_OK) {
            if (bad)
                *bad = i;
            return rc;
        }
    }
    return HPS_OK;
}

int hps_trainer_check_param(const hps_param *sp, char *where, size_t wherelen, char *err,
                            size_t errlen)
{
    snprintf(where, wherelen, "%s", "");
    const hps_train_param_info *info;
    int rc = known(sp->name, &info, err, errlen);
    if (rc != HPS_OK)
        return rc;
    hps_train_params scratch;
    hps_train_params_default(&scratch);
    char list[256] = "";
    if (info->type == HPS_TRAIN_CATEGORICAL) {
        choice_list(info, list, sizeof list);
        if (sp->type == HPS_PARAM_BOOL && is_bool_param(info))
            return HPS_OK;
        if (sp->type != HPS_PARAM_CATEGORICAL) {
            snprintf(where, wherelen, "type");
            return errf(err, errlen, "trainer parameter '%s' takes one of %s; the space gives "
                        "it type %s (use type: categorical%s)", info->name, list,
                        hps_space_type_name(sp->type), is_bool_param(info) ? " or bool" : "");
        }
        for (int c = 0; c < sp->n_choices; c++)
            if (sp->choices[c].kind == HPS_CHOICE_NUMBER ||
                !is_choice(info, sp->choices[c].text)) {
                snprintf(where, wherelen, "choices[%d]", c);
                return errf(err, errlen, "trainer parameter '%s': choice '%s' is not one of %s",
                            info->name, sp->choices[c].text, list);
            }
        return HPS_OK;
    }
    const char *want = info->type == HPS_TRAIN_INT ? "an integer" : "a number";
    if (sp->type == HPS_PARAM_BOOL ||
        (sp->type == HPS_PARAM_FLOAT && info->type == HPS_TRAIN_INT)) {
        snprintf(where, wherelen, "type");
        return errf(err, errlen, "trainer parameter '%s' is %s; the space gives it type %s "
                    "(use type: %s)", info->name, want, hps_space_type_name(sp->type),
                    info->type == HPS_TRAIN_INT ? "int" : "float");
    }
    if (sp->type == HPS_PARAM_CATEGORICAL) {
        for (int c = 0; c < sp->n_choices; c++) {
            snprintf(where, wherelen, "choices[%d]", c);
            if (sp->choices[c].kind != HPS_CHOICE_NUMBER)
                return errf(err, errlen, "trainer parameter '%s' is %s; choice '%s' is not",
                            info->name, want, sp->choices[c].text);
            if ((rc = hps_train_params_set_number(&scratch, info->name, sp->choices[c].number,
                                                  err, errlen)) != HPS_OK)
                return rc;
        }
        snprintf(where, wherelen, "%s", "");
        return HPS_OK;
    }
    snprintf(where, wherelen, "low");
    if ((rc = hps_train_params_set_number(&scratch, info->name, sp->low, err, errlen)) != HPS_OK)
        return rc;
    snprintf(where, wherelen, "high");
    if ((rc = hps_train_params_set_number(&scratch, info->name, sp->high, err, errlen)) != HPS_OK)
        return rc;
    snprintf(where, wherelen, "%s", "");
    return HPS_OK;
}

void hps_trainer_metrics(int task, const char *names[3], int goals[3])
{
    names[0] = "train_loss";
    names[1] = "val_loss";
    names[2] = task == HPS_TASK_REGRESS ? "val_rmse" : "val_accuracy";
    goals[0] = goals[1] = 0;
    goals[2] = task != HPS_TASK_REGRESS;
}

int hps_trainer_check_metric(const char *metric, int maximize, int task, int *goal_wrong,
                             char *err, size_t errlen)
{
    const char *names[3];
    int goals[3];
    hps_trainer_metrics(task, names, goals);
    if (goal_wrong)
        *goal_wrong = 0;
    char list[256];
    snprintf(list, sizeof list, "%s (minimize), %s (minimize), %s (%s)", names[0], names[1],
             names[2], goals[2] ? "maximize" : "minimize");
    const char *task_name = task == HPS_TASK_REGRESS ? "regression" : "classification";
    for (int i = 0; i < 3; i++) {
        if (strcmp(metric, names[i]) != 0)
            continue;
        if (goals[i] == (maximize != 0))
            return HPS_OK;
        if (goal_wrong)
            *goal_wrong = 1;
        return errf(err, errlen, "%s is %s: set metric.goal: %s (as it is, the sweep would "
                    "look for the worst model)", metric, goals[i] ? "higher for better models"
                    : "lower for better models", goals[i] ? "maximize" : "minimize");
    }
    const char *other = task == HPS_TASK_REGRESS ? "val_accuracy" : "val_rmse";
    if (strcmp(metric, other) == 0)
        return errf(err, errlen, "the trainer reports no %s on this dataset: its task is %s; "
                    "it reports %s", metric, task_name, list);
    return errf(err, errlen, "the trainer reports no metric '%s'; on this %s dataset it "
                "reports %s", metric, task_name, list);
}

/* ---- the objective ------------------------------------------------------------------------ */

typedef struct trainer_state {
    const hps_objective_cfg *cfg;
    const char *metric;
    hps_train_params base;   /* defaults and options */
} trainer_state;

static int trainer_init(const hps_objective_env *env, void **state, char *err, size_t errlen)
{
    const hps_builtin_env *b = env->internal;
    const hps_objective_cfg *cfg = b->cfg;
    if (!cfg->trainer || strcmp(cfg->trainer, "mlp") != 0) {
        snprintf(err, errlen, "unknown trainer '%s'", cfg->trainer ? cfg->trainer : "(none)");
        return HPS_ECONFIG;
    }
    trainer_state *s = calloc(1, sizeof *s);
    if (!s)
        return HPS_ENOMEM;
    *state = s;
    s->cfg = cfg;
    s->metric = env->metric;
    int rc = hps_trainer_params_base(&s->base, cfg, b->rt->threads, NULL, err, errlen);
    if (rc != HPS_OK)
        return rc;
    /* Every rank reads the file (its shard): one it cannot read stops the sweep
     * before a trial runs (rank 0 checked the whole file before anything began). */
    if (access(cfg->dataset, R_OK) != 0) {
        snprintf(err, errlen, "dataset %s: %s (objective.dataset is relative to the config "
                 "file; a sweep across nodes needs it on a shared file system)", cfg->dataset,
                 strerror(errno));
        return HPS_ENOENT;
    }
    return HPS_OK;
}

static void trainer_fini(void *state)
{
    free(state);
}

/* The group and the hooks, as the trainer library calls them. */
static int comm_allreduce(void *ctx, float *buf, size_t n)
{
    return hps_trial_allreduce(ctx, buf, n, HPS_FLOAT32, 0);
}

static int comm_allreduce_device(void *ctx, float *buf, size_t n, void *stream)
{
    return hps_trial_allreduce_async(ctx, buf, n, HPS_FLOAT32, stream);
}

static int hook_report(void *ctx, int64_t epoch, int n, const char *const *names,
                       const double *values)
{
    return hps_trial_report_many(ctx, epoch, (double)epoch, n, names, values) != HPS_OK;
}

static int hook_should_stop(void *ctx)
{
    return hps_trial_should_stop(ctx);
}

/* The trial's values of the space parameters named like trainer parameters. */
static int trial_params(hps_trial_ctx *ctx, hps_train_params *p, char *err, size_t errlen)
{
    for (int i = 0; i < hps_train_n_params; i++) {
        const hps_train_param_info *info = &hps_train_param_table[i];
        if (hps_trainer_reserved(info->name))
            continue;
        int rc;
        if (info->type == HPS_TRAIN_CATEGORICAL) {
            const char *text = NULL;
            int b = 0;
            rc = hps_trial_param_string(ctx, info->name, &text);
            if (rc == HPS_EINVAL && (rc = hps_trial_param_bool(ctx, info->name, &b)) == HPS_OK)
                text = b ? "true" : "false";
            if (rc == HPS_OK)
                rc = set_text(p, info, text, err, errlen);
        } else {
            double v = 0;
            rc = hps_trial_param_double(ctx, info->name, &v);
            if (rc == HPS_OK)
                rc = hps_train_params_set_number(p, info->name, v, err, errlen);
        }
        if (rc == HPS_ENOENT)
            continue;
        if (rc == HPS_EINVAL)
            return errf(err, errlen, "parameter %s: its type does not convert to the trainer's",
                        info->name);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}

/* This rank's parameters and checkpoint path for the trial. */
static int prepare(const trainer_state *s, hps_trial_ctx *ctx, hps_train_params *p, char *ckpt,
                   size_t ckptlen, char *err, size_t errlen)
{
    *p = s->base;
    int rc = trial_params(ctx, p, err, errlen);
    if (rc != HPS_OK)
        return rc;
    int64_t epochs = hps_trainer_epochs(hps_trial_budget(ctx));
    if (epochs > 0) {
        p->epochs = epochs;
        p->prev_epochs = hps_trainer_epochs(hps_trial_prev_budget(ctx));
        if (p->schedule_epochs == 0 && s->cfg->max_epochs > 0)
            p->schedule_epochs = s->cfg->max_epochs;
    }
    p->seed = hps_trial_seed(ctx);
    p->device = hps_trial_device(ctx);
    const char *dir = hps_trial_dir(ctx);
    if (!dir || hps_path_join(ckpt, ckptlen, dir, CHECKPOINT_NAME) != HPS_OK) {
        snprintf(err, errlen, "cannot make the trial's directory for its checkpoint");
        return HPS_EIO;
    }
    return HPS_OK;
}

static int trainer_run(void *state, hps_trial_ctx *ctx)
{
    const trainer_state *s = state;
    char err[1024] = "", ckpt[HPS_PATH_MAX];
    hps_train_params p;
    int local = prepare(s, ctx, &p, ckpt, sizeof ckpt, err, sizeof err);
    /* The group trains together only if every rank is ready (a directory one node
     * could not make, say): a rank that left now would leave its peers waiting in
     * the trainer's first collective. */
    float failed = local != HPS_OK;
    int rc = hps_trial_allreduce(ctx, &failed, 1, HPS_FLOAT32, 0);
    if (rc != HPS_OK)
        return hps_trial_fail(ctx, "the group's allreduce failed: %s", hps_strerror(rc));
    if (local != HPS_OK)
        return hps_trial_fail(ctx, "%s", err);
    if (failed > 0)
        return hps_trial_fail(ctx, "another rank of the group could not prepare the trial");
    hps_train_comm comm = {.rank = hps_trial_group_rank(ctx), .size = hps_trial_group_size(ctx),
                           .allreduce = comm_allreduce, .ctx = ctx,
                           .allreduce_device = comm_allreduce_device};
    hps_train_hooks hooks = {.report = hook_report, .should_stop = hook_should_stop, .ctx = ctx};
    hps_train_result r;
    rc = hps_train_run(&p, s->cfg->dataset, &comm, &hooks, ckpt, &r, err, sizeof err);
    if (rc != HPS_OK)
        return hps_trial_fail(ctx, "%s", err[0] ? err : hps_strerror(rc));
    if (r.stopped)
        return HPS_OK;
    for (int i = 0; i < r.n_metrics; i++)
        if (strcmp(r.names[i], s->metric) == 0)
            return hps_trial_set_result(ctx, r.values[i]);
    return HPS_OK; /* no such metric: the runner fails the trial, "no-metric" */
}

const hps_objective_ops hps_objective_trainer = {
    .version = HPS_OBJECTIVE_VERSION, .name = "trainer", .flags = HPS_OBJECTIVE_GROUP,
    .init = trainer_init, .run = trainer_run, .fini = trainer_fini,
};
