/*
 * What rank 0 does before any rank runs a trial (see run.h): load the config,
 * find the sweep directory and, under its lock, look at its journal: start a new
 * sweep (or take over a journal that holds no record), or replay an existing one
 * through a fresh strategy; refuse a damaged journal (or salvage it when asked),
 * a directory whose sweep.h5 has no journal behind it, a config sweep.h5 could
 * not hold; check a resume's config against the recorded one, check a trainer
 * sweep's parameters and dataset (trainer_check.c), and settle and record the
 * budget.
 *
 * A new sweep is built in memory first — its HEADER, the metric's name and any
 * budget override applied to a fresh sweep state, which makes the strategy — and
 * checked (a budget, enough ranks for a trial group, a space the store can hold);
 * only then are the directory, its lock and the journal made and those records
 * appended. So a refused run writes nothing, and a failure while writing removes
 * what this run made.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/clock.h"
#include "core/seed.h"
#include "hpsweep/error.h"
#include "run.h"
#include "salvage.h"
#include "store/record.h"
#include "store/store.h"
#include "store/sweepdir.h"

/* Records applied to a new sweep before its journal exists. */
typedef struct pending {
    uint32_t type[3];
    hps_buf payload[3];
    int n;
} pending;

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int set_paths(prepared *p, const char *dir, char *err, size_t errlen)
{
    if (snprintf(p->dir, sizeof p->dir, "%s", dir) >= (int)sizeof p->dir ||
        hps_path_join(p->journal_path, sizeof p->journal_path, dir, "journal") != HPS_OK ||
        hps_path_join(p->h5_path, sizeof p->h5_path, dir, "sweep.h5") != HPS_OK) {
        snprintf(err, errlen, "path too long: %s", dir);
        return HPS_EINVAL;
    }
    return HPS_OK;
}

/* Apply a record to the new sweep in memory and keep it for the journal. */
static int apply_pending(prepared *p, pending *q, uint32_t type, char *err, size_t errlen)
{
    hps_buf *b = &q->payload[q->n];
    hps_record rec = {.seq = (uint64_t)q->n + 1, .type = type, .trial_id = -1,
                      .payload = b->data, .len = (uint32_t)b->len};
    q->type[q->n++] = type;
    return hps_sweep_apply(&p->s, &rec, NULL, err, errlen);
}

/* The new sweep in memory: HEADER (which makes the strategy) and the metric's name. */
static int plan_sweep(prepared *p, pending *q, uint64_t seed, char *err, size_t errlen)
{
    const hps_config *cfg = &p->file_cfg;
    /* The config's absolute path: a resume from another directory must resolve
     * `workdir` (relative to the config file) the same way. */
    char source[HPS_PATH_MAX];
    if (!realpath(cfg->source, source))
        snprintf(source, sizeof source, "%s", cfg->source);
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = seed, .created = hps_wall(),
                        .config_text = cfg->text, .config_len = (uint32_t)cfg->text_len,
                        .source = source, .source_len = (uint32_t)strlen(source)};
    hps_sweep_init(&p->s, HPS_SWEEP_STRATEGY);
    int rc = hps_rec_encode_header(&q->payload[q->n], &h);
    if (rc == HPS_OK)
        rc = apply_pending(p, q, HPS_REC_HEADER, err, errlen);
    if (rc == HPS_OK && (rc = hps_rec_encode_string(&q->payload[q->n], 0, cfg->metric)) == HPS_OK)
        rc = apply_pending(p, q, HPS_REC_METRIC_NAME, err, errlen);
    return rc;
}

/* What the sweep directory's journal holds, looked at under the lock. */
typedef enum journal_state {
    J_NONE,     /* no journal file */
    J_EMPTY,    /* a journal without a record: its creator stopped before the HEADER */
    J_SWEEP,    /* a sweep */
    J_DAMAGED   /* a bad record with valid records after it */
} journal_state;

static int look_at_journal(prepared *p, journal_state *state, char *err, size_t errlen)
{
    if (!file_exists(p->journal_path)) {
        *state = J_NONE;
        return HPS_OK;
    }
    int rc = hps_journal_inspect(p->journal_path, NULL, NULL, &p->damage);
    if (rc == HPS_ECORRUPT) {
        snprintf(err, errlen, "%s is not an hpsweep journal (its file header is wrong and no "
                 "record in it verifies); nothing was changed", p->journal_path);
        return rc;
    }
    uint32_t layout = 0;
    if (rc == HPS_EVERSION && hps_journal_layout_of(p->journal_path, &layout) == HPS_OK) {
        snprintf(err, errlen, "%s has journal layout %u, newer than this build reads (layouts 1 "
                 "to %d, journal formats 1 to %d): a newer hpsweep wrote it; nothing was changed",
                 p->journal_path, layout, HPS_JOURNAL_LAYOUT, HPS_JOURNAL_FORMAT);
        return rc;
    }
    if (rc != HPS_OK) {
        snprintf(err, errlen, "cannot read %s: %s", p->journal_path, hps_strerror(rc));
        return rc;
    }
    *state = p->damage.damaged ? J_DAMAGED : p->damage.valid_records == 0 ? J_EMPTY : J_SWEEP;
    return HPS_OK;
}

/* Remove what write_sweep made, the directory too when it made it (and it is then
 * empty). Best effort: this runs after another error, which is the one reported. A
 * journal that was there before (one without a record, taken over) stays. */
static void unmake_sweep(prepared *p, int made_dir, int made_journal)
{
    char path[HPS_PATH_MAX];
    hps_journal_close(p->j);
    p->j = NULL;
    if (made_journal)
        unlink(p->journal_path);
    if (p->lock_fd >= 0) {
        close(p->lock_fd);
        p->lock_fd = -1;
        if (made_journal && hps_path_join(path, sizeof path, p->dir, "lock") == HPS_OK)
            unlink(path);
    }
    if (made_dir) {
        if (hps_path_join(path, sizeof path, p->dir, "trials") == HPS_OK)
            rmdir(path);
        rmdir(p->dir);
    }
}

/* Make the directory, lock it (unless held: a taken-over journal), create the
 * journal (or open the one without a record) and append the planned records. */
static int write_sweep(prepared *p, pending *q, int reuse, char *err, size_t errlen)
{
    char trials[HPS_PATH_MAX];
    int made_dir = !file_exists(p->dir);
    int rc = hps_mkdir_p(p->dir, err, errlen);
    if (rc == HPS_OK && hps_path_join(trials, sizeof trials, p->dir, "trials") == HPS_OK)
        rc = hps_mkdir_p(trials, err, errlen);
    if (rc == HPS_OK && p->lock_fd < 0)
        rc = hps_sweepdir_lock(p->dir, &p->lock_fd, err, errlen);
    if (rc == HPS_OK) {
        rc = hps_journal_open(p->journal_path, reuse ? HPS_JOURNAL_WRITE : HPS_JOURNAL_CREATE,
                              &p->j);
        if (rc == HPS_OK && hps_journal_last_seq(p->j) != 0)
            rc = HPS_EEXIST; /* records appeared since we looked: impossible under the lock */
        if (rc != HPS_OK)
            snprintf(err, errlen, "cannot create %s: %s", p->journal_path, hps_strerror(rc));
    }
    if (rc == HPS_OK && reuse)
        fprintf(stderr, "hpsweep: %s held no record (an earlier run stopped while creating "
                "the sweep); starting the sweep in it\n", p->journal_path);
    for (int i = 0; rc == HPS_OK && i < q->n; i++)
        rc = hps_journal_append(p->j, q->type[i], -1, q->payload[i].data,
                                (uint32_t)q->payload[i].len);
    if (rc == HPS_OK && (rc = hps_journal_sync(p->j)) != HPS_OK)
        snprintf(err, errlen, "cannot write %s: %s", p->journal_path, hps_strerror(rc));
    if (rc != HPS_OK && rc != HPS_ELOCKED)
        unmake_sweep(p, made_dir, !reuse);
    return rc;
}

/* An existing sweep (locked): open its journal (cutting a torn tail) and replay it
 * through a fresh strategy. */
static int open_sweep(prepared *p, char *err, size_t errlen)
{
    int rc = hps_journal_open(p->journal_path, HPS_JOURNAL_WRITE, &p->j);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "cannot open %s: %s", p->journal_path, hps_strerror(rc));
        return rc;
    }
    if (hps_journal_truncated(p->j) > 0)
        fprintf(stderr, "hpsweep: %s: cut %llu bytes of torn tail (an unfinished write)\n",
                p->journal_path, (unsigned long long)hps_journal_truncated(p->j));
    hps_sweep_init(&p->s, HPS_SWEEP_STRATEGY);
    /* The replay lets go of trials into a file of its own (not sweep.h5, which
     * stays as it was until the coordinator's first write); one an interrupted
     * resume left is stale. */
    char spill[HPS_PATH_MAX];
    if (hps_path_join(spill, sizeof spill, p->dir, HPS_SWEEPDIR_RESUME_FILE) != HPS_OK) {
        snprintf(err, errlen, "%s: path too long", p->dir);
        return HPS_EINVAL;
    }
    if (unlink(spill) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove %s: %s", spill, strerror(errno));
        return HPS_EIO;
    }
    rc = hps_sweep_replay_spilling(&p->s, p->j, spill, err, errlen);
    if (rc == HPS_OK && p->s.replay_diverged)
        fprintf(stderr, "hpsweep: warning: the strategy's replayed suggestions differ from the "
                "journal (was hpsweep or the strategy changed?); continuing from the journal\n");
    for (int64_t i = p->s.trials_spilled; i < p->s.n_trials; i++)
        p->n_rerun += hps_sweep_trial(&p->s, i)->status == HPS_TRIAL_RUNNING ||
                      hps_sweep_trial(&p->s, i)->status == HPS_TRIAL_INTERRUPTED;
    return rc;
}

/* Lock the existing directory p->dir and see what its journal holds. */
static int lock_and_look(prepared *p, journal_state *state, char *err, size_t errlen)
{
    int rc = hps_sweepdir_lock(p->dir, &p->lock_fd, err, errlen);
    return rc == HPS_OK ? look_at_journal(p, state, err, errlen) : rc;
}

/* A damaged journal: salvage it when asked to, else refuse and say how. */
static int damaged(const run_args *a, prepared *p, char *err, size_t errlen)
{
    if (!a->salvage) {
        hps_salvage_describe(p->journal_path, p->dir, &p->damage, err, errlen);
        return HPS_EDAMAGED;
    }
    return hps_salvage(p->journal_path, err, errlen);
}

/* `resume DIR`: the directory must hold a sweep's journal. */
static int resume_dir(const run_args *a, prepared *p, char *err, size_t errlen)
{
    int rc = set_paths(p, a->dir, err, errlen);
    if (rc != HPS_OK)
        return rc;
    if (!file_exists(p->journal_path)) {
        snprintf(err, errlen, "%s holds no sweep (no journal file there)%s", a->dir,
                 file_exists(p->h5_path) ? "; its sweep.h5 can be read, but a sweep continues "
                                           "only from its journal" : "");
        return HPS_ENOENT;
    }
    journal_state state;
    if ((rc = lock_and_look(p, &state, err, errlen)) != HPS_OK)
        return rc;
    if (state == J_EMPTY) {
        snprintf(err, errlen, "%s holds no sweep yet: the run that created it stopped before "
                 "it recorded the sweep's config. Start it with `hpsweep run CONFIG` (that "
                 "takes this directory over)", p->journal_path);
        return HPS_ENOENT;
    }
    if (state == J_DAMAGED && (rc = damaged(a, p, err, errlen)) != HPS_OK)
        return rc;
    if (state == J_SWEEP && a->salvage)
        fprintf(stderr, "hpsweep: %s: every record verifies; nothing to salvage\n",
                p->journal_path);
    return open_sweep(p, err, errlen);
}

/* `run CONFIG`: the sweep directory OUTPUT/NAME. When it holds a journal, it is
 * locked and looked at: a sweep is continued (--resume) or refused; one without a
 * record is taken over (*reuse). *fresh: a new sweep starts there (nothing made
 * yet: write_sweep makes it once the plan holds). */
static int run_dir(const run_args *a, prepared *p, int *fresh, int *reuse, char *err,
                   size_t errlen)
{
    char dir[HPS_PATH_MAX];
    const char *out = a->output ? a->output : p->file_cfg.output;
    if (hps_path_join(dir, sizeof dir, out, p->file_cfg.name) != HPS_OK) {
        snprintf(err, errlen, "path too long: %s/%s", out, p->file_cfg.name);
        return HPS_EINVAL;
    }
    int rc = set_paths(p, dir, err, errlen);
    if (rc != HPS_OK)
        return rc;
    journal_state state = J_NONE;
    if (file_exists(p->journal_path) && (rc = lock_and_look(p, &state, err, errlen)) != HPS_OK)
        return rc;
    if (state == J_NONE || state == J_EMPTY) {
        if (file_exists(p->h5_path)) {
            snprintf(err, errlen, "%s holds results (sweep.h5) but %s: hpsweep never replaces "
                     "results it cannot rebuild. Move sweep.h5 away, or choose another "
                     "name/output", dir, state == J_NONE ? "no journal" : "a journal without "
                     "a record");
            return HPS_EEXIST;
        }
        *fresh = 1;
        *reuse = state == J_EMPTY;
        return HPS_OK;
    }
    if (!a->resume) {
        snprintf(err, errlen, "%s already holds a sweep; continue it with `hpsweep resume "
                 "%s` (or `hpsweep run %s --resume`), or choose another name/output",
                 dir, dir, a->config);
        return HPS_EEXIST;
    }
    if (state == J_DAMAGED && (rc = damaged(a, p, err, errlen)) != HPS_OK)
        return rc;
    return open_sweep(p, err, errlen);
}

/* A resume's config file must match the recorded one but for budget, output and
 * parallelism. */
static int check_same_sweep(const run_args *a, prepared *p, char *err, size_t errlen)
{
    char diff[2048] = "";
    int n = hps_config_diff(&p->s.cfg, &p->file_cfg, diff, sizeof diff);
    if (n == 0)
        return HPS_OK;
    snprintf(err, errlen, "%s differs from the config recorded in %s in %d key%s "
             "(only budget, output and, unless the sweep is deterministic, parallelism may "
             "change on resume):\n%s",
             a->config, p->dir, n, n == 1 ? "" : "s", diff);
    return HPS_EMISMATCH;
}

/*
 * This run's budget: the recorded one (the config's, or the last override), or a
 * resume's config file's, with the command line's overrides on top. Refused when
 * there is none (a grid ends by itself) or too few ranks for one trial group.
 */
static int run_budget(const run_args *a, const prepared *p, hps_rec_budget *g, char *err,
                      size_t errlen)
{
    *g = p->s.budget;
    if (p->have_file_cfg && !p->fresh)
        hps_sweep_config_budget(&p->file_cfg, g);
    if (a->max_trials)
        g->max_trials = a->max_trials;
    if (a->max_time > 0)
        g->max_time = a->max_time;
    if (g->max_trials == 0 && g->max_time == 0 && g->max_resource == 0 &&
        !(p->s.cfg.strategy_ops->flags & HPS_STRATEGY_FINITE)) {
        snprintf(err, errlen, "the sweep has no budget: set budget.max_trials, "
                 "budget.max_time or budget.max_resource (or pass --max-trials/--max-time)");
        return HPS_ECONFIG;
    }
    int rpt = p->s.cfg.ranks_per_trial > 0 ? p->s.cfg.ranks_per_trial : 1;
    if (a->ranks > 1 && (a->ranks - 1) / rpt == 0) {
        snprintf(err, errlen, "ranks_per_trial is %d but only %d worker rank%s: start at least "
                 "%d ranks", rpt, a->ranks - 1, a->ranks == 2 ? "" : "s", rpt + 1);
        return HPS_ECONFIG;
    }
    return HPS_OK;
}

/* Can sweep.h5 hold this space? Checked before a sweep starts, so that no sweep
 * runs whose results cannot be written. */
static int check_storable(const hps_config *cfg, char *err, size_t errlen)
{
    char why[1024];
    int rc = hps_store_check_space(&cfg->space, why, sizeof why);
    if (rc == HPS_EINVAL) {
        snprintf(err, errlen, "%s: %s", cfg->source, why);
        return HPS_ECONFIG;
    }
    if (rc != HPS_OK)
        snprintf(err, errlen, "checking the results layout: %s", why);
    return rc;
}

/* A new sweep: planned in memory, checked, then written. */
static int create(const run_args *a, prepared *p, int reuse, char *err, size_t errlen)
{
    pending q = {0};
    uint64_t seed = p->file_cfg.seed_given ? p->file_cfg.seed : hps_fresh_seed();
    hps_rec_budget g;
    int rc = check_storable(&p->file_cfg, err, errlen);
    if (rc == HPS_OK)
        rc = hps_trainer_prepare(&p->file_cfg, NULL, &p->data, err, errlen);
    if (rc == HPS_OK)
        rc = plan_sweep(p, &q, seed, err, errlen);
    if (rc == HPS_OK)
        rc = run_budget(a, p, &g, err, errlen);
    if (rc == HPS_OK && !hps_budget_same(&g, &p->s.budget) &&
        (rc = hps_rec_encode_budget(&q.payload[q.n], &g)) == HPS_OK)
        rc = apply_pending(p, &q, HPS_REC_BUDGET, err, errlen);
    if (rc == HPS_OK)
        rc = write_sweep(p, &q, reuse, err, errlen);
    for (int i = 0; i < 3; i++)
        hps_buf_free(&q.payload[i]);
    return rc;
}

/* An existing sweep (opened): checked, its budget recorded when it changed. */
static int resume(const run_args *a, prepared *p, char *err, size_t errlen)
{
    hps_rec_budget g;
    int rc = HPS_OK;
    if (p->have_file_cfg)
        rc = check_same_sweep(a, p, err, errlen);
    if (rc == HPS_OK)
        rc = check_storable(&p->s.cfg, err, errlen);
    if (rc == HPS_OK)
        rc = hps_trainer_prepare(&p->s.cfg, &p->s, &p->data, err, errlen);
    if (rc == HPS_OK)
        rc = run_budget(a, p, &g, err, errlen);
    if (rc == HPS_OK)
        rc = hps_sweep_commit_budget(&p->s, p->j, &g, err, errlen);
    if (rc == HPS_OK && hps_journal_pending(p->j) > 0 && (rc = hps_journal_sync(p->j)) != HPS_OK)
        snprintf(err, errlen, "cannot write %s: %s", p->journal_path, hps_strerror(rc));
    return rc;
}

int hps_prepare(const run_args *a, prepared *p, char *err, size_t errlen)
{
    int rc;
    memset(p, 0, sizeof *p);
    p->lock_fd = -1;
    snprintf(p->config_dir, sizeof p->config_dir, ".");
    if (a->config) {
        p->have_file_cfg = 1; /* freed whatever load returns */
        if ((rc = hps_config_load(a->config, &p->file_cfg, err, errlen)) != HPS_OK)
            return rc;
        char tmp[HPS_PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", a->config);
        snprintf(p->config_dir, sizeof p->config_dir, "%s", dirname(tmp));
    }
    int reuse = 0;
    if (a->dir)
        rc = resume_dir(a, p, err, errlen);
    else
        rc = run_dir(a, p, &p->fresh, &reuse, err, errlen);
    if (rc != HPS_OK)
        return rc;
    return p->fresh ? create(a, p, reuse, err, errlen) : resume(a, p, err, errlen);
}

int hps_prepare_exit(int rc)
{
    switch (rc) {
    case HPS_ECONFIG:
    case HPS_EMISMATCH:
    case HPS_ELOCKED:
    case HPS_EEXIST:
    case HPS_ENOENT:
    case HPS_EINVAL:
        return HPS_EXIT_USAGE;
    case HPS_EDAMAGED:
        return HPS_EXIT_DAMAGED;
    default:
        return HPS_EXIT_ERROR;
    }
}

void hps_prepared_free(prepared *p)
{
    hps_sweep_free(&p->s);
    hps_journal_close(p->j);
    if (p->have_file_cfg)
        hps_config_free(&p->file_cfg);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    p->j = NULL;
    p->have_file_cfg = 0;
    p->lock_fd = -1;
}

void hps_prepare_abandon(prepared *p)
{
    if (!p->fresh)
        return;
    unmake_sweep(p, 1, 1); /* rmdir: the directory goes only when nothing else is in it */
    p->fresh = 0;
}
