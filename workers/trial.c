/*
 * The trial runner and the public trial-context API (hpsweep/objective.h); what
 * concerns the trial group (start, agreement, should_stop, communicators, the
 * attempt record) is in trial_group.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "hpsweep/error.h"
#include "trial.h"

static void classify(hps_trial_ctx *c, int rc)
{
    hps_outcome *out = c->out;
    if (rc != HPS_OK) {
        out->status = HPS_TRIAL_FAILED;
        if (c->cause[0])
            memcpy(out->cause, c->cause, sizeof out->cause);
        else
            snprintf(out->cause, sizeof out->cause, "error: %s", hps_strerror(rc));
        return;
    }
    if (c->stop == HPS_POLL_INTERRUPT || c->stop == HPS_POLL_PRUNE) {
        int pruned = c->stop == HPS_POLL_PRUNE;
        out->status = pruned ? HPS_TRIAL_PRUNED : HPS_TRIAL_INTERRUPTED;
        snprintf(out->cause, sizeof out->cause, pruned ? "pruned" : "interrupted");
        if (c->have_metric && isfinite(c->last_metric))
            out->objective = c->last_metric;
        return;
    }
    if (!c->have_result && !c->have_metric) {
        snprintf(out->cause, sizeof out->cause, "no-metric");
        return;
    }
    double v = c->have_result ? c->result : c->last_metric;
    if (!isfinite(v)) {
        snprintf(out->cause, sizeof out->cause, "nan");
        return;
    }
    out->status = HPS_TRIAL_DONE;
    out->objective = v;
}

int hps_trial_run(hps_objective *o, const hps_trial_spec *spec, const hps_trial_hooks *hooks,
                  hps_outcome *out)
{
    hps_trial_ctx *c = &o->ctx;
    c->spec = spec;
    c->hooks = hooks;
    c->out = out;
    c->own_outcome = c->have_result = c->have_metric = 0;
    c->stop = HPS_POLL_GO;
    c->fatal = HPS_OK;
    c->dir_state = 0;
    c->attempt = 1;
    c->guarded = 0;
    c->cause[0] = '\0';
    hps_outcome_init(out);
    out->start = hps_wall();
    int rc = HPS_OK;
    if (hps_trial_begin(c))
        rc = o->ops->run(o->state, c);
    else if (c->cause[0])
        rc = HPS_EOBJECTIVE; /* crashed too often: not run again */
    if (c->fatal != HPS_OK)
        return c->fatal;
    if (!c->own_outcome)
        classify(c, rc);
    if (o->count_crashes)
        out->attempts = c->attempt;
    hps_trial_agree(c, rc);
    if (out->status == HPS_TRIAL_DONE && !c->have_metric) {
        c->own = (hps_rec_metric){.name_index = 0, .step = 0, .resource = spec->budget,
                                  .value = out->objective};
        out->metrics = &c->own;
        out->n_metrics = 1;
    }
    out->end = hps_wall();
    return HPS_OK;
}

int hps_trial_poll_raw(hps_trial_ctx *ctx)
{
    if (ctx->hooks && ctx->hooks->poll)
        return ctx->hooks->poll(ctx->hooks->ctx, ctx->spec->trial_id);
    return HPS_POLL_GO;
}

int hps_trial_poll(hps_trial_ctx *ctx)
{
    if (ctx->stop == HPS_POLL_GO)
        ctx->stop = hps_trial_poll_raw(ctx);
    return ctx->stop;
}

void hps_trial_report_line(hps_trial_ctx *ctx, const hps_report_line *line)
{
    if (ctx->obj->rt.group_rank != 0)
        return;
    for (int i = 0; i < line->n; i++)
        if (strcmp(line->names[i], ctx->obj->metric) == 0) {
            ctx->have_metric = 1;
            ctx->last_metric = line->values[i];
        }
    if (ctx->hooks && ctx->hooks->report)
        ctx->hooks->report(ctx->hooks->ctx, ctx->spec->trial_id, line);
}

void hps_trial_fatal(hps_trial_ctx *ctx, int rc)
{
    if (ctx->fatal == HPS_OK)
        ctx->fatal = rc;
}

/* ---- the public API --------------------------------------------------------------- */

static int param(const hps_trial_ctx *ctx, const char *name, const hps_param **p, double *v)
{
    if (!ctx || !name)
        return HPS_EINVAL;
    int i = hps_space_find(ctx->obj->space, name);
    if (i < 0)
        return HPS_ENOENT;
    *p = &ctx->obj->space->params[i];
    *v = ctx->spec->values[i];
    return HPS_OK;
}

/* A categorical value v whose choice was written as `kind`: its number into *v. */
static int choice_number(const hps_param *p, hps_choice_kind kind, double *v)
{
    long k = (long)*v;
    if (k < 0 || k >= p->n_choices || p->choices[k].kind != kind)
        return HPS_EINVAL;
    *v = p->choices[k].number;
    return HPS_OK;
}

int hps_trial_param_double(const hps_trial_ctx *ctx, const char *name, double *out)
{
    const hps_param *p;
    double v;
    int rc = param(ctx, name, &p, &v);
    if (rc == HPS_OK && p->type == HPS_PARAM_CATEGORICAL)
        rc = choice_number(p, HPS_CHOICE_NUMBER, &v);
    else if (rc == HPS_OK && p->type == HPS_PARAM_BOOL)
        rc = HPS_EINVAL;
    if (rc == HPS_OK)
        *out = v;
    return rc;
}

int hps_trial_param_int(const hps_trial_ctx *ctx, const char *name, int64_t *out)
{
    const hps_param *p;
    double v;
    int rc = param(ctx, name, &p, &v);
    if (rc != HPS_OK)
        return rc;
    if (p->type == HPS_PARAM_CATEGORICAL) {
        if ((rc = choice_number(p, HPS_CHOICE_NUMBER, &v)) != HPS_OK)
            return rc;
    } else if (p->type != HPS_PARAM_INT) {
        return HPS_EINVAL;
    }
    if (v != floor(v) || fabs(v) > 9007199254740992.0)
        return HPS_EINVAL;
    *out = (int64_t)v;
    return HPS_OK;
}

int hps_trial_param_string(const hps_trial_ctx *ctx, const char *name, const char **out)
{
    const hps_param *p;
    double v;
    int rc = param(ctx, name, &p, &v);
    if (rc != HPS_OK)
        return rc;
    long k = (long)v;
    if (p->type != HPS_PARAM_CATEGORICAL || k < 0 || k >= p->n_choices)
        return HPS_EINVAL;
    *out = p->choices[k].text;
    return HPS_OK;
}

int hps_trial_param_bool(const hps_trial_ctx *ctx, const char *name, int *out)
{
    const hps_param *p;
    double v;
    int rc = param(ctx, name, &p, &v);
    if (rc != HPS_OK)
        return rc;
    if (p->type == HPS_PARAM_CATEGORICAL) {
        if ((rc = choice_number(p, HPS_CHOICE_BOOL, &v)) != HPS_OK)
            return rc;
    } else if (p->type != HPS_PARAM_BOOL) {
        return HPS_EINVAL;
    }
    *out = v != 0;
    return HPS_OK;
}

int64_t hps_trial_id(const hps_trial_ctx *ctx)
{
    return ctx->spec->trial_id;
}

uint64_t hps_trial_seed(const hps_trial_ctx *ctx)
{
    return ctx->spec->seed;
}

double hps_trial_budget(const hps_trial_ctx *ctx)
{
    return ctx->spec->budget;
}

double hps_trial_prev_budget(const hps_trial_ctx *ctx)
{
    return ctx->spec->prev_budget;
}

int hps_trial_resumed(const hps_trial_ctx *ctx)
{
    return ctx->spec->prev_budget > 0;
}

const char *hps_trial_dir(hps_trial_ctx *ctx)
{
    if (ctx->dir_state == 0) {
        char trials[HPS_PATH_MAX], id[32];
        snprintf(id, sizeof id, "%lld", (long long)ctx->spec->trial_id);
        ctx->dir_state = -1;
        if (hps_path_join(trials, sizeof trials, ctx->obj->rt.sweep_dir, "trials") == HPS_OK &&
            hps_path_join(ctx->dir, sizeof ctx->dir, trials, id) == HPS_OK &&
            hps_mkdir_p(ctx->dir, NULL, 0) == HPS_OK)
            ctx->dir_state = 1;
    }
    return ctx->dir_state == 1 ? ctx->dir : NULL;
}

int hps_trial_group_rank(const hps_trial_ctx *ctx)
{
    return ctx->obj->rt.group_rank;
}

int hps_trial_group_size(const hps_trial_ctx *ctx)
{
    return ctx->obj->rt.group_size;
}

int hps_trial_device(const hps_trial_ctx *ctx)
{
    return ctx->obj->rt.group ? ctx->obj->rt.group->device : -1;
}

int hps_trial_report_many(hps_trial_ctx *ctx, int64_t step, double resource, int n,
                          const char *const *names, const double *values)
{
    if (!ctx || n < 0 || n > HPS_REPORT_MAX_METRICS || (n > 0 && (!names || !values)))
        return HPS_EINVAL;
    hps_report_line *l = &ctx->line;
    for (int i = 0; i < n; i++) {
        size_t len = names[i] ? strlen(names[i]) : 0;
        if (len == 0 || len > HPS_METRIC_NAME_MAX)
            return HPS_EINVAL;
        memcpy(l->names[i], names[i], len + 1);
        l->values[i] = values[i];
    }
    l->n = n;
    l->step = step;
    l->resource = resource;
    if (n > 0)
        hps_trial_report_line(ctx, l);
    return HPS_OK;
}

int hps_trial_report(hps_trial_ctx *ctx, int64_t step, const char *name, double value)
{
    return hps_trial_report_many(ctx, step, (double)step, 1, &name, &value);
}

int hps_trial_set_result(hps_trial_ctx *ctx, double value)
{
    if (!ctx)
        return HPS_EINVAL;
    ctx->have_result = 1;
    ctx->result = value;
    return HPS_OK;
}

int hps_trial_fail(hps_trial_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->cause, sizeof ctx->cause, fmt, ap);
    va_end(ap);
    return HPS_EOBJECTIVE;
}
