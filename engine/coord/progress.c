/*
 * Progress output (see progress.h).
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "core/clock.h"
#include "progress.h"

void hps_progress_init(hps_progress *p, int tty, int64_t max_trials, const hps_sweep *s)
{
    p->tty = tty;
    p->max_trials = max_trials;
    p->done_at_start = s->n_done + s->n_failed + s->n_pruned;
    p->start = hps_monotonic();
    p->last_draw = 0;
    p->drawn = 0;
}

static int64_t finished(const hps_sweep *s)
{
    return s->n_done + s->n_failed + s->n_pruned;
}

static void format_values(const hps_sweep *s, const hps_trial *t, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->d && off + 1 < len; i++) {
        char v[64];
        hps_space_format(&s->cfg.space, i, t->values[i], v, sizeof v);
        int n = snprintf(buf + off, len - off, "%s%s=%s", i ? " " : "", s->cfg.space.params[i].name,
                         v);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

void hps_progress_trial(hps_progress *p, const hps_sweep *s, const hps_trial *t)
{
    if (p->tty)
        return;
    char vals[512], which[96];
    format_values(s, t, vals, sizeof vals);
    /* A multi-fidelity trial ends once per rung: say which. */
    if (t->rung >= 0)
        snprintf(which, sizeof which, "trial %lld rung %d (budget %g)", (long long)t->trial_id,
                 t->rung, t->budget);
    else
        snprintf(which, sizeof which, "trial %lld", (long long)t->trial_id);
    if (t->status == HPS_TRIAL_DONE)
        fprintf(stderr, "%s done %s=%.10g (%.3fs) %s\n", which, s->cfg.metric, t->objective,
                t->end - t->start, vals);
    else
        fprintf(stderr, "%s %s (%s) %s\n", which, hps_trial_status_name(t->status), t->cause,
                vals);
}

void hps_progress_tick(hps_progress *p, const hps_sweep *s, int final)
{
    double now = hps_monotonic();
    if (!p->tty)
        return;
    if (!final && now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    double elapsed = now - p->start;
    int64_t fin = finished(s);
    int64_t here = fin - p->done_at_start;
    char el[32], eta[32] = "--:--", best[64] = "-";
    hps_format_duration(elapsed, el, sizeof el);
    if (p->max_trials > 0 && here > 0) {
        double left = (double)(p->max_trials - fin) * elapsed / (double)here;
        hps_format_duration(left, eta, sizeof eta);
    }
    if (s->best_id >= 0)
        snprintf(best, sizeof best, "%.6g (trial %lld)", hps_sweep_best(s)->objective,
                 (long long)s->best_id);
    char total[32] = "";
    if (p->max_trials > 0)
        snprintf(total, sizeof total, "/%lld", (long long)p->max_trials);
    fprintf(stderr, "\r\033[K%s: %lld%s done, %lld running, %lld failed | best %s %s | %s "
            "elapsed, ETA %s", s->cfg.name, (long long)s->n_done, total, (long long)s->n_running,
            (long long)s->n_failed, s->cfg.metric, best, el, eta);
    if (final)
        fprintf(stderr, "\n");
    fflush(stderr);
}
