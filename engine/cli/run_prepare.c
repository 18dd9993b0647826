/*
 * What rank 0 does before any rank runs a trial (see run.h): load the config,
 * make or open the sweep directory and lock it, create the journal (the HEADER
 * and the metric's name committed through the sweep, like every later record) or
 * replay it through a fresh strategy, check a resume's config against the
 * recorded one, and settle the budget.
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
#include "store/record.h"
#include "store/sweepdir.h"

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

/* A new sweep: make the directory, lock it, create the journal and commit its
 * HEADER and the metric's name (index 0). */
static int create_sweep(prepared *p, const hps_config *cfg, uint64_t seed, char *err,
                        size_t errlen)
{
    char trials[HPS_PATH_MAX];
    int rc = hps_mkdir_p(p->dir, err, errlen);
    if (rc == HPS_OK && hps_path_join(trials, sizeof trials, p->dir, "trials") == HPS_OK)
        rc = hps_mkdir_p(trials, err, errlen);
    if (rc != HPS_OK)
        return rc;
    if ((rc = hps_sweepdir_lock(p->dir, &p->lock_fd, err, errlen)) != HPS_OK)
        return rc;
    if ((rc = hps_journal_open(p->journal_path, HPS_JOURNAL_CREATE, &p->j)) != HPS_OK) {
        snprintf(err, errlen, "cannot create %s: %s", p->journal_path, hps_strerror(rc));
        return rc;
    }
    /* The config's absolute path: a resume from another directory must resolve
     * `workdir` (relative to the config file) the same way. */
    char source[HPS_PATH_MAX];
    if (!realpath(cfg->source, source))
        snprintf(source, sizeof source, "%s", cfg->source);
    hps_buf b = {0};
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = seed, .created = hps_wall(),
                        .config_text = cfg->text, .config_len = (uint32_t)cfg->text_len,
                        .source = source, .source_len = (uint32_t)strlen(source)};
    hps_sweep_init(&p->s, HPS_SWEEP_STRATEGY);
    rc = hps_rec_encode_header(&b, &h);
    if (rc == HPS_OK)
        rc = hps_sweep_commit(&p->s, p->j, HPS_REC_HEADER, -1, b.data, (uint32_t)b.len, NULL, err,
                              errlen);
    if (rc == HPS_OK && (rc = hps_rec_encode_string(&b, 0, cfg->metric)) == HPS_OK)
        rc = hps_sweep_commit(&p->s, p->j, HPS_REC_METRIC_NAME, -1, b.data, (uint32_t)b.len,
                              NULL, err, errlen);
    hps_buf_free(&b);
    if (rc == HPS_OK && (rc = hps_journal_sync(p->j)) != HPS_OK)
        snprintf(err, errlen, "cannot write %s: %s", p->journal_path, hps_strerror(rc));
    return rc;
}

/* An existing sweep: lock it, open its journal (cutting a torn tail) and replay
 * it through a fresh strategy. */
static int open_sweep(prepared *p, char *err, size_t errlen)
{
    int rc = hps_sweepdir_lock(p->dir, &p->lock_fd, err, errlen);
    if (rc != HPS_OK)
        return rc;
    if ((rc = hps_journal_open(p->journal_path, HPS_JOURNAL_WRITE, &p->j)) != HPS_OK) {
        snprintf(err, errlen, "cannot open %s: %s", p->journal_path, hps_strerror(rc));
        return rc;
    }
    if (hps_journal_truncated(p->j) > 0)
        fprintf(stderr, "hpsweep: %s: cut %llu bytes of torn tail (an unfinished write)\n",
                p->journal_path, (unsigned long long)hps_journal_truncated(p->j));
    hps_sweep_init(&p->s, HPS_SWEEP_STRATEGY);
    rc = hps_sweep_replay(&p->s, p->j, err, errlen);
    if (rc == HPS_ECORRUPT && hps_journal_last_seq(p->j) == 0)
        snprintf(err, errlen, "%s holds no sweep", p->journal_path);
    if (rc == HPS_OK && p->s.replay_diverged)
        fprintf(stderr, "hpsweep: warning: the strategy's replayed suggestions differ from the "
                "journal (was hpsweep or the strategy changed?); continuing from the journal\n");
    return rc;
}

/* The sweep directory of `run CONFIG`: OUTPUT/NAME. *fresh: no journal there yet. */
static int run_dir(const run_args *a, prepared *p, int *fresh, char *err, size_t errlen)
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
    if (file_exists(p->journal_path) && !a->resume) {
        snprintf(err, errlen, "%s already holds a sweep; continue it with `hpsweep resume "
                 "%s` (or `hpsweep run %s --resume`), or choose another name/output",
                 dir, dir, a->config);
        return HPS_EEXIST;
    }
    *fresh = !file_exists(p->journal_path);
    return HPS_OK;
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
             "(only budget, output and parallelism may change on resume):\n%s",
             a->config, p->dir, n, n == 1 ? "" : "s", diff);
    return HPS_EMISMATCH;
}

/* The budget: the command line's overrides, else the config file's (a resume with
 * --config), else the recorded config's. */
static int settle_budget(const run_args *a, prepared *p, const hps_config *budget, char *err,
                         size_t errlen)
{
    p->max_trials = a->max_trials ? a->max_trials : budget->max_trials;
    p->max_time = a->max_time > 0 ? a->max_time : budget->max_time;
    p->max_resource = budget->max_resource;
    p->parallelism = budget->parallelism;
    if (p->max_trials == 0 && p->max_time == 0 && p->max_resource == 0 &&
        !(p->s.cfg.strategy_ops->flags & HPS_STRATEGY_FINITE)) {
        snprintf(err, errlen, "the sweep has no budget: set budget.max_trials, "
                 "budget.max_time or budget.max_resource (or pass --max-trials/--max-time)");
        return HPS_ECONFIG;
    }
    return HPS_OK;
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
    int fresh = 0;
    if (a->dir) {
        if ((rc = set_paths(p, a->dir, err, errlen)) != HPS_OK)
            return rc;
        if (!file_exists(p->journal_path)) {
            snprintf(err, errlen, "%s holds no sweep (no journal file there)", a->dir);
            return HPS_ENOENT;
        }
    } else if ((rc = run_dir(a, p, &fresh, err, errlen)) != HPS_OK) {
        return rc;
    }
    p->fresh = fresh;
    if (fresh) {
        uint64_t seed = p->file_cfg.seed_given ? p->file_cfg.seed : hps_fresh_seed();
        rc = create_sweep(p, &p->file_cfg, seed, err, errlen);
    } else {
        rc = open_sweep(p, err, errlen);
    }
    if (rc != HPS_OK)
        return rc;
    const hps_config *budget = &p->s.cfg;
    if (p->have_file_cfg && !fresh) {
        if ((rc = check_same_sweep(a, p, err, errlen)) != HPS_OK)
            return rc;
        budget = &p->file_cfg;
    }
    return settle_budget(a, p, budget, err, errlen);
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
    char path[HPS_PATH_MAX];
    hps_journal_close(p->j);
    p->j = NULL;
    if (unlink(p->journal_path) != 0)
        fprintf(stderr, "hpsweep: cannot remove %s: %s\n", p->journal_path, strerror(errno));
    if (hps_path_join(path, sizeof path, p->dir, "trials") == HPS_OK)
        (void)rmdir(path); /* only when empty: nothing of a user's is removed */
    if (hps_path_join(path, sizeof path, p->dir, "lock") == HPS_OK)
        (void)unlink(path);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    p->lock_fd = -1;
    (void)rmdir(p->dir);
    p->fresh = 0;
}
