/*
 * `hpsweep resume DIR --salvage` (salvage.h): rewrite a damaged journal from the
 * records that still verify.
 *
 * Every record that verifies (journal_scan.c finds them past the damage) is
 * applied, in file order, to a scratch sweep with its strategy, through the same
 * hps_sweep_apply() a resume uses. A record that applies is appended to a new
 * journal, which numbers records 1, 2, ... as every journal does; one that does not
 * (it needs a record that was lost: the result of a trial whose suggestion is gone,
 * a second result after a lost re-dispatch) is dropped, except a lost suggestion
 * the strategy can be asked for again exactly (rederive_suggest). Because an HPS_ECORRUPT
 * refusal changes nothing (sweep.h), the scratch state stays exactly the state of
 * the records kept so far; after any other refusal it is rebuilt from the new
 * journal. So the new journal replays, and resume continues from it exactly.
 *
 * Crash safety: the new journal is written to "<journal>.salvage" and synced, the
 * original is copied to "<journal>.damaged-<UTC time>" and synced, and only then is
 * the new one renamed over the original (and the directory synced). A crash at any
 * point leaves the original journal in place.
 */
#include "salvage.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coord/sweep.h"
#include "hpsweep/error.h"
#include "store/record.h"

void hps_salvage_describe(const char *path, const char *dir, const hps_journal_damage *d,
                          char *buf, size_t len)
{
    char where[160];
    if (d->bad_offset == 0)
        snprintf(where, sizeof where, "its file header (the first 16 bytes) is damaged");
    else
        snprintf(where, sizeof where, "record %llu (at byte %llu) does not verify",
                 (unsigned long long)d->valid_records + 1, (unsigned long long)d->bad_offset);
    snprintf(buf, len,
             "%s is damaged: %s, yet %llu record%s after it verif%s (the first at byte %llu), so "
             "this is not an unfinished last write and nothing was cut or changed. `hpsweep "
             "resume %s --salvage` keeps every record that verifies, saves the original as "
             "journal.damaged-<time> and reports what was lost",
             path, where, (unsigned long long)d->records_after, d->records_after == 1 ? "" : "s",
             d->records_after == 1 ? "ies" : "y", (unsigned long long)d->first_after, dir);
}

#define SHOW_MAX 6

typedef struct salvage_ctx {
    hps_sweep s;
    hps_journal *out;
    uint64_t prev_seq;           /* sequence number of the last record seen */
    uint64_t kept, dropped, lost;
    uint64_t lost_from[SHOW_MAX], lost_to[SHOW_MAX];
    int n_lost_ranges;
    int64_t dropped_trial[SHOW_MAX];
    int n_dropped_shown;
    int64_t rederived;           /* trial whose lost SUGGEST was asked again (-1: none) */
    char first_reason[512];
    char *err;
    size_t errlen;
} salvage_ctx;

/* Rebuild the scratch state from the records kept so far (after a refusal that
 * may have changed it). */
static int rebuild(salvage_ctx *c)
{
    hps_sweep_free(&c->s);
    hps_sweep_init(&c->s, HPS_SWEEP_STRATEGY);
    if (c->kept == 0)
        return HPS_OK;
    return hps_sweep_replay(&c->s, c->out, c->err, c->errlen);
}

static int keep(salvage_ctx *c, const hps_record *rec)
{
    int rc = hps_journal_append(c->out, rec->type, rec->trial_id, rec->payload, rec->len);
    if (rc == HPS_OK && hps_journal_pending(c->out) >= 4096)
        rc = hps_journal_sync(c->out);
    if (rc != HPS_OK)
        snprintf(c->err, c->errlen, "writing the salvaged journal: %s", hps_strerror(rc));
    c->kept += rc == HPS_OK;
    return rc;
}

/*
 * The one record lost just before rec was the SUGGEST of the next trial, when rec
 * needs that trial and nothing else was lost or dropped before: only a SUGGEST
 * makes a trial. With every earlier record intact the strategy is in exactly the
 * state it was in then, and strategies are pure, so asking it again gives the lost
 * suggestion back (worker and start time aside, which the trial's result or its
 * re-run sets). Returns HPS_OK when it did, so that rec applies.
 */
static int rederive_suggest(salvage_ctx *c, const hps_record *rec, uint64_t gap)
{
    int64_t next = c->s.n_trials;
    int needs_next = rec->type == HPS_REC_SUGGEST ? rec->trial_id == next + 1
                                                  : rec->trial_id == next;
    if (gap != 1 || c->lost != 1 || c->dropped != 0 || c->rederived >= 0 || !needs_next ||
        !c->s.strategy)
        return HPS_ECORRUPT;
    hps_apply_out out;
    char why[256];
    size_t before = hps_journal_pending(c->out);
    int rc = hps_sweep_commit_suggest(&c->s, c->out, 0, NAN, &out, why, sizeof why);
    if (rc != HPS_OK)
        return HPS_ECORRUPT;
    c->kept += hps_journal_pending(c->out) > before;
    c->rederived = out.trial_id;
    return HPS_OK;
}

static int salvage_one(void *ctx, const hps_record *rec)
{
    salvage_ctx *c = ctx;
    uint64_t gap = rec->seq - c->prev_seq - 1;
    if (rec->seq > c->prev_seq + 1) {
        if (c->n_lost_ranges < SHOW_MAX) {
            c->lost_from[c->n_lost_ranges] = c->prev_seq + 1;
            c->lost_to[c->n_lost_ranges++] = rec->seq - 1;
        }
        c->lost += rec->seq - c->prev_seq - 1;
    }
    c->prev_seq = rec->seq;
    char why[512] = "";
    int rc = hps_sweep_apply(&c->s, rec, NULL, why, sizeof why);
    if (rc == HPS_ECORRUPT && rederive_suggest(c, rec, gap) == HPS_OK)
        rc = hps_sweep_apply(&c->s, rec, NULL, why, sizeof why);
    if (rc == HPS_OK)
        return keep(c, rec);
    if (rc == HPS_ENOMEM) {
        snprintf(c->err, c->errlen, "out of memory while salvaging");
        return rc;
    }
    if (c->dropped++ == 0)
        snprintf(c->first_reason, sizeof c->first_reason, "%s", why[0] ? why : hps_strerror(rc));
    if (c->n_dropped_shown < SHOW_MAX && rec->trial_id >= 0)
        c->dropped_trial[c->n_dropped_shown++] = rec->trial_id;
    return rc == HPS_ECORRUPT ? HPS_OK : rebuild(c);
}

/* Copy src to dst (which must not exist) and fsync it. */
static int copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = in < 0 || out < 0 ? HPS_EIO : HPS_OK;
    char buf[1 << 16];
    while (rc == HPS_OK) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? HPS_EIO : HPS_OK;
            break;
        }
        for (ssize_t off = 0; rc == HPS_OK && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                rc = errno == ENOSPC || errno == EDQUOT ? HPS_ENOSPC : HPS_EIO;
            else
                off += w;
        }
    }
    int e = errno;
    if (rc == HPS_OK && fsync(out) != 0) {
        e = errno;
        rc = e == ENOSPC || e == EDQUOT ? HPS_ENOSPC : HPS_EIO;
    }
    if (out >= 0 && close(out) != 0 && rc == HPS_OK) {
        e = errno;
        rc = HPS_EIO;
    }
    if (in >= 0)
        close(in);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "keeping a copy of %s as %s: %s", src, dst, strerror(e));
        if (out >= 0)
            unlink(dst);
    }
    return rc;
}

/* "<path>.damaged-<UTC time>", with "-2", "-3", ... when that name is taken. */
static int damaged_name(const char *path, char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
        snprintf(stamp, sizeof stamp, "%lld", (long long)now);
    for (int k = 1; k < 1000; k++) {
        int n = k == 1 ? snprintf(out, len, "%s.damaged-%s", path, stamp)
                       : snprintf(out, len, "%s.damaged-%s-%d", path, stamp, k);
        if (n < 0 || (size_t)n >= len)
            return HPS_EINVAL;
        if (access(out, F_OK) != 0)
            return HPS_OK;
    }
    return HPS_EEXIST;
}

static int fsync_dir_of(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return HPS_EIO;
    int rc = fsync(fd) == 0 || errno == EINVAL ? HPS_OK : HPS_EIO;
    close(fd);
    return rc;
}

static void report(const salvage_ctx *c, const hps_journal_damage *d, const char *path,
                   const char *copy)
{
    fprintf(stderr, "hpsweep: salvaged %s:\n", path);
    fprintf(stderr, "  kept      %llu record%s that verify and apply (renumbered 1-%llu)\n",
            (unsigned long long)c->kept, c->kept == 1 ? "" : "s", (unsigned long long)c->kept);
    fprintf(stderr, "  lost      %llu damaged record%s", (unsigned long long)c->lost,
            c->lost == 1 ? "" : "s");
    for (int i = 0; i < c->n_lost_ranges; i++) {
        if (c->lost_from[i] == c->lost_to[i])
            fprintf(stderr, "%s%llu", i ? ", " : " (record ", (unsigned long long)c->lost_from[i]);
        else
            fprintf(stderr, "%s%llu-%llu", i ? ", " : " (records ",
                    (unsigned long long)c->lost_from[i], (unsigned long long)c->lost_to[i]);
    }
    fprintf(stderr, "%s in %llu damaged bytes\n", c->n_lost_ranges ? ")" : "",
            (unsigned long long)d->lost_bytes);
    fprintf(stderr, "  dropped   %llu record%s that needed a lost one", (unsigned long long)c->dropped,
            c->dropped == 1 ? "" : "s");
    for (int i = 0; i < c->n_dropped_shown; i++)
        fprintf(stderr, "%s%lld", i ? ", " : " (trials ", (long long)c->dropped_trial[i]);
    fprintf(stderr, "%s%s%s\n", c->n_dropped_shown ? (c->dropped > SHOW_MAX ? ", ...)" : ")") : "",
            c->dropped ? "; first: " : "", c->dropped ? c->first_reason : "");
    if (c->rederived >= 0)
        fprintf(stderr, "  re-derived the lost suggestion of trial %lld from the strategy (every "
                "record before it is intact, so its answer is the one that was lost)\n",
                (long long)c->rederived);
    fprintf(stderr, "  original  %s\n", copy);
    fprintf(stderr, "  Trials whose results were lost are run again by this resume, with their "
                    "recorded seeds.\n");
}

int hps_salvage(const char *path, char *err, size_t errlen)
{
    hps_journal_damage d;
    int rc = hps_journal_inspect(path, NULL, NULL, &d);
    if (rc != HPS_OK) {
        snprintf(err, errlen, "cannot read %s: %s", path, hps_strerror(rc));
        return rc;
    }
    if (!d.damaged) {
        fprintf(stderr, "hpsweep: %s: every record verifies; nothing to salvage\n", path);
        return HPS_OK;
    }
    char tmp[4200], copy[4200];
    if (snprintf(tmp, sizeof tmp, "%s.salvage", path) >= (int)sizeof tmp ||
        damaged_name(path, copy, sizeof copy) != HPS_OK) {
        snprintf(err, errlen, "path too long: %s", path);
        return HPS_EINVAL;
    }
    (void)unlink(tmp); /* left by a salvage that crashed: the original is intact */
    salvage_ctx c = {.err = err, .errlen = errlen, .rederived = -1};
    hps_sweep_init(&c.s, HPS_SWEEP_STRATEGY);
    if ((rc = hps_journal_open(tmp, HPS_JOURNAL_CREATE, &c.out)) != HPS_OK) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, hps_strerror(rc));
        hps_sweep_free(&c.s);
        return rc;
    }
    rc = hps_journal_inspect(path, salvage_one, &c, &d);
    if (rc == HPS_OK && !c.s.have_header) {
        snprintf(err, errlen, "nothing can be salvaged from %s: its first record, which holds "
                 "the sweep's config and seed, is damaged (%s); the journal was left as it was",
                 path, c.first_reason[0] ? c.first_reason : "no HEADER record verifies");
        rc = HPS_EDAMAGED;
    }
    if (rc == HPS_OK && (rc = hps_journal_sync(c.out)) != HPS_OK)
        snprintf(err, errlen, "writing %s: %s", tmp, hps_strerror(rc));
    hps_journal_close(c.out);
    hps_sweep_free(&c.s);
    if (rc == HPS_OK)
        rc = copy_file(path, copy, err, errlen);
    if (rc == HPS_OK && rename(tmp, path) != 0) {
        snprintf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
        rc = HPS_EIO;
    }
    if (rc == HPS_OK && (rc = fsync_dir_of(path)) != HPS_OK)
        snprintf(err, errlen, "syncing the directory of %s: %s", path, strerror(errno));
    if (rc != HPS_OK) {
        (void)unlink(tmp);
        return rc;
    }
    report(&c, &d, path, copy);
    return HPS_OK;
}
