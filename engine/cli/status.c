/*
 * `hpsweep status`: what a sweep is doing, read from its journal.
 *
 * status reads the journal read-only and takes no lock a coordinator could wait
 * on, so it is safe while the sweep runs and after a crash, once or in a --watch
 * loop. --json gives the same facts to scripts.
 *
 * A sweep that no coordinator runs is usually shown from the status summary its
 * sweep.h5 holds (store_index.c) instead of a replay of the whole journal: when
 * the journal is the very file the summary was written from (same size, mtime,
 * inode and device), status reads the journal's HEADER (the config) and the few
 * /trials rows the summary names. Anything else (a running sweep, a journal that
 * changed since, an older or unreadable sweep.h5, failures whose stderr tails
 * --json shows) replays the journal as before, so the output is the same.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "coord/sweep.h"
#include "core/clock.h"
#include "core/json.h"
#include "hpsweep/error.h"
#include "salvage.h"
#include "store/store.h"
#include "store/sweepdir.h"

enum {
    RATE_WINDOW = HPS_STORE_RATE_WINDOW, /* seconds of finished trials the rate is
                                            measured over */
    TEXT_RUNNING = 8,   /* running trials listed by the text view (--json lists all) */
    TEXT_FAILURES = 5,  /* recent failures listed by the text view */
    JSON_FAILURES = HPS_STORE_STATUS_FAILURES, /* recent failures listed by --json */
    MAX_CAUSES = HPS_STORE_STATUS_CAUSES       /* distinct failure causes counted by name */
};

static void usage_status(FILE *f)
{
    fprintf(f,
            "usage: hpsweep status DIR [--json] [--watch[=SECONDS]]\n\n"
            "What the sweep in DIR (or the sweep a file such as DIR/sweep.h5 belongs to)\n"
            "is doing, read from its journal: counts, the best trial so far, the running\n"
            "trials with their rank and elapsed time, recent failures and their causes,\n"
            "trials per hour and, while it runs, the time left by its budget. Safe while\n"
            "the sweep runs: it only reads.\n"
            "  --json               the same as one JSON object, for scripts\n"
            "  --watch[=SECONDS]    redraw every SECONDS (default 2) until the sweep stops\n"
            "                       or Ctrl-C; waits for a sweep that has not started yet\n\n"
            "Exit codes: 0 done, 1 error (unreadable journal), 2 bad usage or no sweep,\n"
            "6 the journal is damaged (no counts: see `hpsweep resume --help`, --salvage).\n");
}

/* ---- what status shows ------------------------------------------------------------ */

typedef struct cause_count {
    char cause[HPS_CAUSE_LEN];
    int64_t n;
} cause_count;

typedef struct status_view {
    const char *dir;
    hps_sweep s;
    int live;           /* a coordinator holds the sweep */
    const char *state;  /* "running", "completed", ... or the stopped explanation */
    double now;         /* Unix time of the reading */
    double run_start;   /* when the running coordinator began; NaN when none runs */
    double rate;        /* finished trials per hour lately; NaN when unknown */
    double eta;         /* seconds until the budget ends the run; NaN when unknown */
    const char *eta_by; /* the budget key that ends it first */
    cause_count causes[MAX_CAUSES];
    int n_causes;
    int64_t other_causes; /* failures whose cause did not fit in causes[] */
    int damaged;          /* load_view: the journal is damaged (err describes it) */
    const hps_trial *best;     /* the best trial, NULL when none is done */
    const hps_trial **running; /* every running trial, in trial order (s.n_running) */
    const hps_trial *failed[JSON_FAILURES]; /* the latest failed trials, newest first */
    int n_failed;
    hps_results rows;          /* from the summary: the trials it names */
    int summary;               /* s has the summary's counts, not its trials */
} status_view;

static int finished(const hps_trial *t)
{
    return t->status == HPS_TRIAL_DONE || t->status == HPS_TRIAL_FAILED ||
           t->status == HPS_TRIAL_PRUNED;
}

/* Finished trials per hour over the rate window (the last RATE_WINDOW whole
 * seconds of the sweep, hps_store_in_rate_window; of this run, when a coordinator
 * runs), measured from the first of them to start. */
static double recent_rate(const status_view *v)
{
    const hps_sweep *s = &v->s;
    double last = -INFINITY;
    for (int64_t i = 0; i < s->n_trials; i++)
        if (finished(&s->trials[i]) && isfinite(s->trials[i].end))
            last = fmax(last, s->trials[i].end);
    if (!isfinite(last))
        return NAN;
    double t1 = v->live ? fmax(v->now, last) : last, t0 = t1 - RATE_WINDOW;
    if (isfinite(v->run_start))
        t0 = fmax(t0, v->run_start);
    double first = t1;
    int64_t n = 0;
    for (int64_t i = 0; i < s->n_trials; i++) {
        const hps_trial *t = &s->trials[i];
        if (finished(t) && t->end > t0 && hps_store_in_rate_window(t->end, t1)) {
            n++;
            first = fmin(first, t->start);
        }
    }
    t0 = fmax(t0, first);
    return n > 0 && t1 - t0 >= 1.0 ? 3600.0 * (double)n / (t1 - t0) : NAN;
}

/* Seconds until the budget in force ends the running sweep, and which key ends it. */
static void estimate_end(status_view *v)
{
    const hps_sweep *s = &v->s;
    const hps_rec_budget *b = &s->budget;
    v->eta = NAN;
    v->eta_by = NULL;
    if (!v->live)
        return;
    int multi_fidelity = s->n_rungs > 0;
    if (b->max_trials > 0 && !multi_fidelity && v->rate > 0) {
        /* Trials not yet dispatched, plus those running (about half done). */
        double left = (double)(b->max_trials - s->n_trials) + 0.5 * (double)s->n_running;
        v->eta = fmax(0.0, 3600.0 * left / v->rate);
        v->eta_by = "max_trials";
    }
    if (b->max_time > 0 && isfinite(v->run_start)) {
        double left = fmax(0.0, v->run_start + b->max_time - v->now);
        if (!isfinite(v->eta) || left < v->eta) {
            v->eta = left;
            v->eta_by = "max_time";
        }
    }
    if (b->max_resource > 0 && s->resource_dispatched > 0 && isfinite(v->run_start) &&
        v->now > v->run_start) {
        double share = s->resource_dispatched / b->max_resource;
        double left = share >= 1.0 ? 0.0 : (v->now - v->run_start) * (1.0 - share) / share;
        if (!isfinite(v->eta) || left < v->eta) {
            v->eta = left;
            v->eta_by = "max_resource";
        }
    }
}

/* best, running and failed of v from the replayed trial table. */
static int list_trials(status_view *v)
{
    const hps_sweep *s = &v->s;
    v->best = s->best_id >= 0 ? &s->trials[s->best_id] : NULL;
    if (s->n_running > 0 && !(v->running = malloc((size_t)s->n_running * sizeof *v->running)))
        return HPS_ENOMEM;
    for (int64_t i = 0, k = 0; i < s->n_trials && k < s->n_running; i++)
        if (s->trials[i].status == HPS_TRIAL_RUNNING)
            v->running[k++] = &s->trials[i];
    for (int64_t i = s->n_trials - 1; i >= 0 && v->n_failed < JSON_FAILURES; i--)
        if (s->trials[i].status == HPS_TRIAL_FAILED)
            v->failed[v->n_failed++] = &s->trials[i];
    return HPS_OK;
}

static void count_causes(status_view *v)
{
    for (int64_t i = 0; i < v->s.n_trials; i++) {
        const hps_trial *t = &v->s.trials[i];
        if (t->status != HPS_TRIAL_FAILED)
            continue;
        int k = 0;
        while (k < v->n_causes && strcmp(v->causes[k].cause, t->cause) != 0)
            k++;
        if (k == v->n_causes && k == MAX_CAUSES) {
            v->other_causes++;
            continue;
        }
        if (k == v->n_causes) {
            snprintf(v->causes[k].cause, sizeof v->causes[k].cause, "%s", t->cause);
            v->n_causes++;
        }
        v->causes[k].n++;
    }
}

/* The sweep directory arg names: a directory, or a file in one. */
static void sweep_dir(const char *arg, char *dir, size_t len)
{
    struct stat st;
    snprintf(dir, len, "%s", arg);
    if (stat(arg, &st) == 0 && !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, len, ".");
    }
}

static void free_view(status_view *v)
{
    if (v->summary)
        v->s.n_trials = 0; /* its trial table is empty: only the counts were set */
    free(v->running);
    v->running = NULL;
    hps_results_free(&v->rows);
    hps_sweep_free(&v->s);
}

/* hps_journal_inspect's callback: apply the first record (the HEADER) and stop. */
static int apply_header(void *ctx, const hps_record *rec)
{
    char why[256];
    int rc = hps_sweep_apply(ctx, rec, NULL, why, sizeof why);
    return rc == HPS_OK ? 1 : rc;
}

/* The trial at row r of the rows read for the summary: rows[i] is the i-th. */
static const hps_trial *summary_row(const status_view *v, int i, int64_t row, int status)
{
    const hps_trial *t = &v->rows.trials[i];
    return t->trial_id == row && (status < 0 || t->status == status) ? t : NULL;
}

/*
 * The sweep in dir from the status summary of its sweep.h5 (see the top of this
 * file), the journal at jpath being st. HPS_OK with v filled as load_view fills
 * it; anything else when the summary does not apply (v must then be freed and
 * read again from the journal).
 */
static int load_summary(const char *dir, const char *jpath, const struct stat *st,
                        status_view *v, int json)
{
    char h5[HPS_PATH_MAX], err[512];
    hps_store_summary sum;
    if (hps_path_join(h5, sizeof h5, dir, "sweep.h5") != HPS_OK)
        return HPS_EINVAL;
    hps_store_quiet();
    int rc = hps_store_read_summary(h5, &sum, err, sizeof err);
    if (rc != HPS_OK)
        return rc;
    int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + (int64_t)st->st_mtim.tv_nsec;
    rc = HPS_ENOSYS;
    int64_t *rows = NULL;
    if (sum.journal[0] != (int64_t)st->st_size || sum.journal[1] != mtime ||
        sum.journal[2] != (int64_t)st->st_ino || sum.journal[3] != (int64_t)st->st_dev ||
        (json && sum.counts[3] > 0)) /* --json shows stderr tails: the journal's own */
        goto done;
    hps_journal_damage d;
    if (hps_journal_inspect(jpath, apply_header, &v->s, &d) != 1 || !v->s.have_header)
        goto done;
    /* The rows: the best, the running, the latest failed, each cause's first. */
    int64_t n = (sum.facts.best_id >= 0) + sum.n_running_rows + sum.n_failed_rows + sum.n_causes;
    if (n > 0 && !(rows = malloc((size_t)n * sizeof *rows))) {
        rc = HPS_ENOMEM;
        goto done;
    }
    int k = 0;
    if (sum.facts.best_id >= 0)
        rows[k++] = sum.facts.best_id;
    for (int64_t i = 0; i < sum.n_running_rows; i++)
        rows[k++] = sum.running_rows[i];
    for (int i = 0; i < sum.n_failed_rows; i++)
        rows[k++] = sum.failed_rows[i];
    for (int i = 0; i < sum.n_causes; i++)
        rows[k++] = sum.cause_rows[i];
    if (hps_results_open_rows(h5, rows, k, &v->rows, err, sizeof err) != HPS_OK ||
        v->rows.n_trials != k || v->rows.space.n_params != v->s.d)
        goto done;
    k = 0;
    if (sum.facts.best_id >= 0 &&
        !(v->best = summary_row(v, k++, sum.facts.best_id, HPS_TRIAL_DONE)))
        goto done;
    if (sum.n_running_rows > 0 &&
        !(v->running = malloc((size_t)sum.n_running_rows * sizeof *v->running))) {
        rc = HPS_ENOMEM;
        goto done;
    }
    for (int64_t i = 0; i < sum.n_running_rows; i++, k++)
        if (!(v->running[i] = summary_row(v, k, sum.running_rows[i], HPS_TRIAL_RUNNING)))
            goto done;
    for (int i = 0; i < sum.n_failed_rows; i++, k++)
        if (!(v->failed[i] = summary_row(v, k, sum.failed_rows[i], HPS_TRIAL_FAILED)))
            goto done;
    v->n_failed = sum.n_failed_rows;
    for (int i = 0; i < sum.n_causes; i++, k++) {
        const hps_trial *t = summary_row(v, k, sum.cause_rows[i], HPS_TRIAL_FAILED);
        if (!t)
            goto done;
        snprintf(v->causes[i].cause, sizeof v->causes[i].cause, "%s", t->cause);
        v->causes[i].n = sum.cause_counts[i];
    }
    v->n_causes = sum.n_causes;
    v->other_causes = sum.other_causes;
    hps_sweep *s = &v->s;
    v->summary = 1;
    s->n_trials = sum.counts[0];
    s->n_done = sum.counts[1];
    s->n_running = sum.counts[2];
    s->n_failed = sum.counts[3];
    s->n_interrupted = sum.counts[4];
    s->n_pruned = sum.counts[5];
    s->best_id = sum.facts.best_id;
    s->budget.max_trials = sum.facts.max_trials;
    s->budget.max_time = sum.facts.max_time;
    s->budget.max_resource = sum.facts.max_resource;
    s->budget.parallelism = sum.facts.parallelism;
    snprintf(s->status, sizeof s->status, "%s", v->rows.status ? v->rows.status : "");
    /* The rate as recent_rate measures it for a sweep no coordinator runs. */
    v->rate = NAN;
    if (isfinite(sum.rate_last)) {
        double t1 = sum.rate_last, t0 = fmax(t1 - RATE_WINDOW, sum.rate_first);
        if (sum.rate_n > 0 && t1 - t0 >= 1.0)
            v->rate = 3600.0 * (double)sum.rate_n / (t1 - t0);
    }
    rc = HPS_OK;
done:
    free(rows);
    hps_store_summary_free(&sum);
    return rc;
}

/* Read the sweep in dir into v. HPS_OK; HPS_ENOENT (no journal, or one without a
 * record that no coordinator is writing), HPS_EAGAIN (a coordinator is writing its
 * first record) or HPS_ECORRUPT (a damaged journal, described), err saying so; or
 * an error, err saying which. */
static int load_view(const char *dir, status_view *v, int json, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->dir = dir;
    v->run_start = NAN;
    hps_sweep_init(&v->s, 0);
    char path[HPS_PATH_MAX];
    if (hps_path_join(path, sizeof path, dir, "journal") != HPS_OK) {
        snprintf(err, errlen, "path too long: %s", dir);
        return HPS_EINVAL;
    }
    struct stat jst;
    if (!hps_sweepdir_locked(dir) && stat(path, &jst) == 0 &&
        load_summary(dir, path, &jst, v, json) == HPS_OK) {
        v->now = hps_wall();
        v->state = v->s.status;
        if (strcmp(v->s.status, "running") == 0)
            v->state = "stopped (the coordinator ended without finishing: resume it)";
        estimate_end(v);
        return HPS_OK;
    }
    /* The summary does not apply: the journal, from scratch. */
    free_view(v);
    memset(v, 0, sizeof *v);
    v->dir = dir;
    v->run_start = NAN;
    hps_sweep_init(&v->s, 0);
    hps_journal *j;
    int rc = hps_journal_open(path, HPS_JOURNAL_READ, &j);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == HPS_ENOENT ? "no sweep here (no journal)" : hps_strerror(rc));
        return rc;
    }
    const hps_journal_damage *d = hps_journal_damage_info(j);
    if (d) {
        /* Its counts would be those of the records before the damage only: say what
         * is wrong instead (nothing is changed; a resume would refuse it too). */
        hps_salvage_describe(path, dir, d, err, errlen);
        hps_journal_close(j);
        v->damaged = 1;
        return HPS_ECORRUPT;
    }
    if (hps_journal_last_seq(j) == 0) {
        hps_journal_close(j);
        if (hps_sweepdir_locked(dir)) { /* the coordinator is writing its first record */
            snprintf(err, errlen, "the sweep in %s is starting (its journal has no record "
                     "yet)", dir);
            return HPS_EAGAIN;
        }
        snprintf(err, errlen, "%s holds no sweep yet: the run that created it stopped before "
                 "it recorded the sweep's config. Start it with `hpsweep run CONFIG` (that "
                 "takes this directory over)", path);
        return HPS_ENOENT;
    }
    char why[1024] = "";
    rc = hps_sweep_replay(&v->s, j, why, sizeof why);
    hps_journal_close(j);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "%s: %s", path, why[0] ? why : hps_strerror(rc));
        return rc;
    }
    v->now = hps_wall();
    v->live = hps_sweepdir_locked(dir);
    /* The coordinator wrote its "pid host" into the lock as it began this run. */
    struct stat st;
    if (v->live && hps_path_join(path, sizeof path, dir, "lock") == HPS_OK &&
        stat(path, &st) == 0)
        v->run_start = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
    v->state = v->live ? "running" : v->s.status;
    if (!v->live && strcmp(v->s.status, "running") == 0)
        v->state = "stopped (the coordinator ended without finishing: resume it)";
    v->rate = recent_rate(v);
    estimate_end(v);
    count_causes(v);
    if (list_trials(v) != HPS_OK) {
        snprintf(err, errlen, "out of memory");
        return HPS_ENOMEM;
    }
    return HPS_OK;
}


/* ---- text ----------------------------------------------------------------------- */

static void print_rung(FILE *f, const hps_trial *t)
{
    if (t->rung >= 0)
        fprintf(f, " rung %d (budget %g)", t->rung, t->budget);
}

static void print_text(FILE *f, const status_view *v)
{
    const hps_sweep *s = &v->s;
    char created[40], age[32], d[32];
    hps_iso_time(s->created, created, sizeof created);
    hps_format_duration(v->now - s->created, age, sizeof age);
    fprintf(f, "sweep      %s (%s)\n", s->cfg.name, v->dir);
    fprintf(f, "status     %s\n", v->state);
    fprintf(f, "strategy   %s, objective %s, %s %s\n", s->cfg.strategy, s->cfg.objective.function,
            s->cfg.maximize ? "maximize" : "minimize", s->cfg.metric);
    fprintf(f, "seed       %llu\n", (unsigned long long)s->seed);
    if (s->det.on)
        fprintf(f, "mode       deterministic, parallelism %d (suggestion k knows the results "
                "of trials 0..k-%d)\n", s->det.p, s->det.p + 1);
    fprintf(f, "created    %s (%s ago)\n", created, age);
    fprintf(f, "trials     %lld", (long long)s->n_trials);
    if (s->budget.max_trials > 0 && s->n_trials <= s->budget.max_trials)
        fprintf(f, " of %lld", (long long)s->budget.max_trials);
    else if (s->budget.max_trials > 0)
        fprintf(f, " (more than budget.max_trials %lld, lowered since)",
                (long long)s->budget.max_trials);
    fprintf(f, ": %lld done, %lld running, %lld failed, %lld interrupted, %lld pruned\n",
            (long long)s->n_done, (long long)s->n_running, (long long)s->n_failed,
            (long long)s->n_interrupted, (long long)s->n_pruned);
    if (isfinite(v->rate)) {
        if (v->rate >= 3600)
            fprintf(f, "rate       %.3g trials/s", v->rate / 3600);
        else if (v->rate >= 60)
            fprintf(f, "rate       %.3g trials/min", v->rate / 60);
        else
            fprintf(f, "rate       %.3g trials/hour", v->rate);
        fprintf(f, " (the last %d min)", RATE_WINDOW / 60);
        if (v->eta_by) {
            hps_format_duration(v->eta, d, sizeof d);
            fprintf(f, "; about %s left (budget.%s)", d, v->eta_by);
        }
        fputc('\n', f);
    } else if (v->eta_by) {
        hps_format_duration(v->eta, d, sizeof d);
        fprintf(f, "left       about %s (budget.%s)\n", d, v->eta_by);
    }
    if (v->best) {
        const hps_trial *t = v->best;
        fprintf(f, "best       %s = %.10g (trial %lld", s->cfg.metric, t->objective,
                (long long)t->trial_id);
        print_rung(f, t);
        fprintf(f, ")\n");
        for (int i = 0; i < s->d; i++) {
            char val[128];
            hps_space_format(&s->cfg.space, i, t->values[i], val, sizeof val);
            fprintf(f, "           %s = %s\n", s->cfg.space.params[i].name, val);
        }
    } else {
        fprintf(f, "best       (no trial done yet)\n");
    }
    int shown = 0;
    for (int64_t i = 0; i < s->n_running; i++) {
        const hps_trial *t = v->running[i];
        if (shown == TEXT_RUNNING) {
            fprintf(f, "           ... and %lld more\n", (long long)(s->n_running - shown));
            break;
        }
        hps_format_duration(v->now - t->start, d, sizeof d);
        fprintf(f, "%s trial %lld on rank %d for %s", shown ? "          " : "running   ",
                (long long)t->trial_id, t->worker, d);
        print_rung(f, t);
        fputc('\n', f);
        shown++;
    }
    if (s->n_failed == 0)
        return;
    fprintf(f, "failures  ");
    for (int k = 0; k < v->n_causes; k++)
        fprintf(f, "%s %lld %s", k ? "," : "", (long long)v->causes[k].n, v->causes[k].cause);
    if (v->other_causes)
        fprintf(f, ", %lld other", (long long)v->other_causes);
    fputc('\n', f);
    shown = 0;
    for (int i = 0; i < v->n_failed && shown < TEXT_FAILURES; i++) {
        const hps_trial *t = v->failed[i];
        hps_format_duration(v->now - t->end, d, sizeof d);
        fprintf(f, "           trial %lld: %s, %s ago", (long long)t->trial_id, t->cause, d);
        if (t->attempts > 1)
            fprintf(f, " after %d attempts", t->attempts);
        fputc('\n', f);
        shown++;
    }
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_time(hps_json *w, const char *key, double t)
{
    char iso[40];
    hps_json_key(w, key);
    if (isfinite(t)) {
        hps_iso_time(t, iso, sizeof iso);
        hps_json_string(w, iso);
    } else {
        hps_json_null(w);
    }
}

static void json_trial_head(hps_json *w, const hps_trial *t)
{
    hps_json_key(w, "trial_id");
    hps_json_int(w, t->trial_id);
    hps_json_key(w, "seed");
    hps_json_uint(w, t->seed);
    if (t->rung >= 0) {
        hps_json_key(w, "rung");
        hps_json_int(w, t->rung);
        hps_json_key(w, "budget");
        hps_json_number(w, t->budget, 17);
    }
}

static void json_best(hps_json *w, const status_view *v)
{
    const hps_sweep *s = &v->s;
    hps_json_key(w, "best");
    if (v->best) {
        const hps_trial *t = v->best;
        hps_json_begin_object(w);
        json_trial_head(w, t);
        hps_json_key(w, "value");
        hps_json_number(w, t->objective, 17);
        hps_json_key(w, "params");
        hps_json_begin_object(w);
        for (int i = 0; i < s->d; i++) {
            hps_json_key(w, s->cfg.space.params[i].name);
            if (hps_space_value_is_string(&s->cfg.space, i, t->values[i])) {
                char buf[128];
                hps_json_string(w, hps_space_value_text(&s->cfg.space, i, t->values[i], buf,
                                                         sizeof buf));
            } else {
                hps_json_number(w, t->values[i], 17);
            }
        }
        hps_json_end_object(w);
        hps_json_end_object(w);
    } else {
        hps_json_null(w);
    }

}

static void json_running(hps_json *w, const status_view *v)
{
    const hps_sweep *s = &v->s;
    hps_json_key(w, "running");
    hps_json_begin_array(w);
    for (int64_t i = 0; i < s->n_running; i++) {
        const hps_trial *t = v->running[i];
        hps_json_begin_object(w);
        json_trial_head(w, t);
        hps_json_key(w, "rank");
        hps_json_int(w, t->worker);
        json_time(w, "started", t->start);
        hps_json_key(w, "elapsed");
        hps_json_number(w, v->now - t->start, 6);
        hps_json_end_object(w);
    }
    hps_json_end_array(w);
}

static void json_failures(hps_json *w, const status_view *v)
{
    hps_json_key(w, "failures");
    hps_json_begin_object(w);
    hps_json_key(w, "by_cause");
    hps_json_begin_object(w);
    for (int k = 0; k < v->n_causes; k++) {
        hps_json_key(w, v->causes[k].cause);
        hps_json_int(w, v->causes[k].n);
    }
    if (v->other_causes) {
        hps_json_key(w, "other");
        hps_json_int(w, v->other_causes);
    }
    hps_json_end_object(w);
    hps_json_key(w, "recent");
    hps_json_begin_array(w);
    int shown = 0;
    for (int i = 0; i < v->n_failed && shown < JSON_FAILURES; i++) {
        const hps_trial *t = v->failed[i];
        hps_json_begin_object(w);
        json_trial_head(w, t);
        hps_json_key(w, "cause");
        hps_json_string(w, t->cause);
        hps_json_key(w, "exit_code");
        hps_json_int(w, t->exit_code);
        hps_json_key(w, "attempts");
        hps_json_int(w, t->attempts);
        hps_json_key(w, "rank");
        hps_json_int(w, t->worker);
        json_time(w, "ended", t->end);
        hps_json_key(w, "stderr_tail");
        hps_json_string(w, t->stderr_tail);
        hps_json_end_object(w);
        shown++;
    }
    hps_json_end_array(w);
    hps_json_end_object(w);
}

static void print_json(FILE *f, const status_view *v)
{
    const hps_sweep *s = &v->s;
    hps_json w;
    hps_json_init(&w, f, 0);
    hps_json_begin_object(&w);
    hps_json_key(&w, "sweep");
    hps_json_string(&w, s->cfg.name);
    hps_json_key(&w, "dir");
    hps_json_string(&w, v->dir);
    hps_json_key(&w, "status");
    hps_json_string(&w, v->live ? "running" : s->status);
    hps_json_key(&w, "coordinator_running");
    hps_json_bool(&w, v->live);
    hps_json_key(&w, "strategy");
    hps_json_string(&w, s->cfg.strategy);
    hps_json_key(&w, "objective");
    hps_json_string(&w, s->cfg.objective.function);
    hps_json_key(&w, "metric");
    hps_json_string(&w, s->cfg.metric);
    hps_json_key(&w, "goal");
    hps_json_string(&w, s->cfg.maximize ? "maximize" : "minimize");
    hps_json_key(&w, "seed");
    hps_json_uint(&w, s->seed);
    hps_json_key(&w, "deterministic");
    hps_json_bool(&w, s->det.on);
    json_time(&w, "created", s->created);
    json_time(&w, "read_at", v->now);
    json_time(&w, "run_started", v->run_start); /* null unless a coordinator runs */

    hps_json_key(&w, "budget");
    hps_json_begin_object(&w);
    hps_json_key(&w, "max_trials");
    hps_json_int(&w, s->budget.max_trials);
    hps_json_key(&w, "max_time");
    hps_json_number(&w, s->budget.max_time, 17);
    hps_json_key(&w, "max_resource");
    hps_json_number(&w, s->budget.max_resource, 17);
    hps_json_key(&w, "parallelism");
    hps_json_int(&w, s->budget.parallelism);
    hps_json_end_object(&w);

    hps_json_key(&w, "trials");
    hps_json_begin_object(&w);
    const char *names[] = {"total", "done", "running", "failed", "interrupted", "pruned"};
    int64_t counts[] = {s->n_trials, s->n_done, s->n_running,
                        s->n_failed, s->n_interrupted, s->n_pruned};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        hps_json_key(&w, names[k]);
        hps_json_int(&w, counts[k]);
    }
    hps_json_end_object(&w);
    hps_json_key(&w, "trials_per_hour");
    hps_json_number(&w, v->rate, 6);
    hps_json_key(&w, "seconds_left");
    hps_json_number(&w, v->eta, 6);
    hps_json_key(&w, "left_by");
    hps_json_string(&w, v->eta_by);

    json_best(&w, v);
    json_running(&w, v);
    json_failures(&w, v);
    hps_json_end_object(&w);
    fputc('\n', f);
}
/* What status shows when load_view gave no view (lrc, err): a sweep that does not
 * exist yet, one that is starting, a damaged journal, an error. The exit code. */
static int print_no_view(FILE *f, int json, const char *dir, int lrc, const char *err,
                         int damaged)
{
    const char *status = damaged ? "damaged" : lrc == HPS_EAGAIN ? "starting" : NULL;
    if (!damaged && lrc != HPS_EAGAIN && lrc != HPS_ENOENT) {
        fprintf(stderr, "hpsweep: %s\n", err);
        return HPS_EXIT_ERROR;
    }
    if (json) {
        hps_json w;
        hps_json_init(&w, f, 0);
        hps_json_begin_object(&w);
        hps_json_key(&w, "dir");
        hps_json_string(&w, dir);
        hps_json_key(&w, "status");
        hps_json_string(&w, status);
        hps_json_key(&w, "why");
        hps_json_string(&w, err);
        hps_json_end_object(&w);
        fputc('\n', f);
    } else if (damaged) {
        fprintf(f, "sweep      %s\nstatus     DAMAGED journal: %s\n", dir, err);
    } else if (status) {
        fprintf(f, "sweep      (%s)\nstatus     %s\n", dir, status);
    } else {
        fprintf(f, "waiting for a sweep in %s (%s)\n", dir, err);
    }
    return damaged ? HPS_EXIT_DAMAGED : HPS_EXIT_OK;
}

/* ---- --watch -------------------------------------------------------------------- */

static volatile sig_atomic_t watch_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    watch_stop = 1;
}

/* One frame: the view (or why there is none yet) as text, in a malloc'd string. */
static char *render_frame(const char *dir, int json, int *rc, int *ended)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        *rc = HPS_EXIT_ERROR;
        return NULL;
    }
    status_view v;
    char err[1200] = "";
    int lrc = load_view(dir, &v, json, err, sizeof err);
    *ended = 0;
    if (lrc == HPS_OK) {
        (json ? print_json : print_text)(m, &v);
        *ended = !v.live && strcmp(v.s.status, "running") != 0;
        *rc = HPS_EXIT_OK;
    } else {
        *rc = print_no_view(m, json, dir, lrc, err, v.damaged);
        *ended = v.damaged; /* it does not mend itself */
    }
    free_view(&v);
    if (fclose(m) != 0) {
        free(text);
        *rc = HPS_EXIT_ERROR;
        return NULL;
    }
    return text;
}

/* head, then frame, on the terminal from its top left corner: each line clipped to the width
 * and cleared to its end, rows past the height dropped, the rest of the screen
 * cleared, all in one write (no flicker). */
static void draw(const char *head, const char *frame)
{
    struct winsize ws;
    int cols = 80, rows = 24;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        cols = ws.ws_col;
        rows = ws.ws_row;
    }
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    if (!m)
        return;
    fputs("\033[H", m);
    const char *parts[] = {head, frame};
    int row = 0;
    for (int p = 0; p < 2; p++) {
        for (const char *line = parts[p]; *line && row < rows - 1; row++) {
            size_t n = strcspn(line, "\n");
            fprintf(m, "%.*s\033[K\n", (int)(n < (size_t)cols ? n : (size_t)cols), line);
            line += n + (line[n] == '\n');
        }
    }
    fputs("\033[J", m);
    if (fclose(m) == 0) {
        fwrite(out, 1, len, stdout);
        fflush(stdout);
    }
    free(out);
}

static int watch(const char *dir, int json, double every)
{
    int tty = isatty(STDOUT_FILENO) && !json;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (tty)
        fputs("\033[?25l\033[H\033[2J", stdout); /* hide the cursor, clear once */
    int rc = HPS_EXIT_OK, ended = 0;
    while (!watch_stop) {
        char *frame = render_frame(dir, json, &rc, &ended);
        if (frame && tty) {
            char clock[40], head[160];
            hps_iso_time(hps_wall(), clock, sizeof clock);
            snprintf(head, sizeof head, "every %gs, %s%s\n\n", every, clock,
                     ended ? " (the sweep has stopped)" : "; Ctrl-C to stop");
            draw(head, frame);
        } else if (frame) {
            fputs(frame, stdout);
            if (!json)
                fputc('\n', stdout);
            fflush(stdout);
        }
        free(frame);
        if (ended || rc != HPS_EXIT_OK || ferror(stdout))
            break;
        struct timespec pause = {(time_t)every, (long)((every - floor(every)) * 1e9)};
        while (!watch_stop && nanosleep(&pause, &pause) != 0 && errno == EINTR)
            ;
    }
    if (tty)
        fputs("\033[?25h", stdout); /* the cursor back, below the last frame */
    fflush(stdout);
    return rc;
}

/* ---- the command ---------------------------------------------------------------- */

int hps_cli_status(int argc, char **argv)
{
    if (hps_cli_wants_help(argc, argv)) {
        usage_status(stdout);
        return HPS_EXIT_OK;
    }
    const char *arg = NULL;
    int json = 0;
    double every = 0; /* 0: no --watch */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--watch") == 0) {
            every = 2.0;
        } else if (strncmp(argv[i], "--watch=", 8) == 0) {
            char *end;
            errno = 0;
            every = strtod(argv[i] + 8, &end);
            if (errno || end == argv[i] + 8 || *end || !(every >= 0.1 && every <= 86400)) {
                fprintf(stderr, "hpsweep: --watch wants seconds from 0.1 to 86400, not '%s'\n",
                        argv[i] + 8);
                return HPS_EXIT_USAGE;
            }
        } else if (argv[i][0] != '-' && !arg) {
            arg = argv[i];
        } else {
            fprintf(stderr, "hpsweep: unexpected argument '%s'\n", argv[i]);
            usage_status(stderr);
            return HPS_EXIT_USAGE;
        }
    }
    if (!arg) {
        usage_status(stderr);
        return HPS_EXIT_USAGE;
    }
    char dir[HPS_PATH_MAX];
    sweep_dir(arg, dir, sizeof dir);
    if (every > 0)
        return watch(dir, json, every);

    status_view v;
    char err[1200] = "";
    int lrc = load_view(dir, &v, json, err, sizeof err), rc = HPS_EXIT_OK;
    if (lrc == HPS_OK) {
        (json ? print_json : print_text)(stdout, &v);
    } else if (lrc == HPS_ENOENT) { /* no sweep: a usage error here, unlike --watch */
        fprintf(stderr, "hpsweep: %s\n", err);
        rc = HPS_EXIT_USAGE;
    } else {
        rc = print_no_view(stdout, json, dir, lrc, err, v.damaged);
    }
    free_view(&v);
    if (fflush(stdout) != 0 || ferror(stdout))
        return HPS_EXIT_ERROR;
    return rc;
}
