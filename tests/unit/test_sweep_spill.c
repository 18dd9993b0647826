/*
 * Unit tests for letting go of what sweep.h5 holds (engine/coord/sweep_spill.c).
 *
 * A live sweep (a strategy, a journal) writes sweep.h5, then drops the final
 * trials before its first unfinished one; later writes copy their /trials and
 * /failures rows from the file they replace, or, when it was removed or damaged,
 * rebuild them from the journal. Every file so written must equal, row for row
 * and in its index attributes, the one a replay that keeps everything writes.
 * A trial that may still change (running, or done under a strategy that may
 * promote it, or in deterministic mode) is never dropped, nor anything after it.
 * A resume's replay lets go of trials too, into a file of its own that the first
 * write of sweep.h5 copies from and removes.
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

#include "coord/sweep.h"
#include "store/journal.h"
#include "store/record.h"
#include "store/store.h"
#include "store/sweepdir.h"
#include "core/trial.h"
#include "hpsweep/error.h"
#include "journal_fixture.h"

static const char *yaml_random =
    "name: spill\n"
    "seed: 42\n"
    "objective: {function: noop}\n"
    "metric: {name: loss, goal: minimize}\n"
    "strategy: {name: random}\n"
    "space:\n"
    "  x: {type: float, low: -5, high: 10}\n"
    "  n: {type: int, low: 1, high: 8}\n"
    "  opt: {type: categorical, choices: [sgd, adam, rmsprop]}\n";

typedef struct live {
    fixture *f;
    hps_journal *j;
    hps_sweep s;
    hps_buf b;
    char h5[128];
} live;

/* A new live sweep of yaml in f's directory. */
static void live_start(live *l, fixture *f, const char *yaml)
{
    memset(l, 0, sizeof *l);
    l->f = f;
    snprintf(l->h5, sizeof l->h5, "%s/sweep.h5", f->dir);
    assert_int_equal(hps_journal_open(f->path, HPS_JOURNAL_CREATE, &l->j), HPS_OK);
    hps_sweep_init(&l->s, HPS_SWEEP_STRATEGY);
    hps_rec_header h = {.version = HPS_JOURNAL_FORMAT, .seed = 42, .created = 1700000000.0,
                        .config_text = yaml, .config_len = (uint32_t)strlen(yaml),
                        .source = "spill.yaml", .source_len = 10};
    char err[512] = "";
    int rc = hps_sweep_commit_start(&l->s, l->j, &h, "loss", err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("start: %s: %s", hps_err_name(rc), err);
}

static void live_free(live *l)
{
    hps_sweep_free(&l->s);
    hps_journal_close(l->j);
    hps_buf_free(&l->b);
}

/* n new trials from the strategy. */
static void suggest(live *l, int n)
{
    char err[512] = "";
    for (int i = 0; i < n; i++) {
        int64_t id = l->s.n_trials;
        int rc = hps_sweep_commit_suggest(&l->s, l->j, 1, 100.0 + (double)id, NULL, err,
                                          sizeof err);
        if (rc != HPS_OK)
            fail_msg("suggest: %s: %s", hps_err_name(rc), err);
    }
}

/* Commit r as trial id's RESULT. */
static void commit_result(live *l, int64_t id, const hps_outcome *r)
{
    char err[512] = "";
    hps_buf_reset(&l->b);
    assert_int_equal(hps_rec_encode_result(&l->b, r), HPS_OK);
    int rc = hps_sweep_commit(&l->s, l->j, HPS_REC_RESULT, id, l->b.data, (uint32_t)l->b.len,
                              NULL, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("result of %lld: %s: %s", (long long)id, hps_err_name(rc), err);
}

/*
 * Trial id's RESULT, by its id: every 7th fails with a stderr tail, every 11th
 * is done with a tail too, every 13th is pruned with one, the rest are done; the
 * objective ((id * 37) % 61, best 0 at trial 0, ties many) with a metric row or two.
 */
static void finish(live *l, int64_t id)
{
    char tail[64];
    snprintf(tail, sizeof tail, "trial %lld says\nboom\n", (long long)id);
    hps_rec_metric m[2] = {{.name_index = 0, .step = 0, .resource = 1.0, .value = (double)id},
                           {.name_index = 0, .step = 1, .resource = 2.0, .value = 0.5}};
    hps_outcome r;
    hps_outcome_init(&r);
    r.status = HPS_TRIAL_DONE;
    r.worker = 1;
    r.objective = (double)((id * 37) % 61);
    r.start = 100.0 + (double)id;
    r.end = 101.0 + (double)id;
    r.n_metrics = 1 + (uint32_t)(id % 2);
    r.metrics = m;
    if (id % 7 == 3) {
        r.status = HPS_TRIAL_FAILED;
        r.exit_code = 3;
        r.attempts = 2;
        snprintf(r.cause, sizeof r.cause, "exit:3");
    } else if (id % 13 == 6) {
        r.status = HPS_TRIAL_PRUNED;
        snprintf(r.cause, sizeof r.cause, "pruned");
    }
    if (r.status != HPS_TRIAL_DONE || id % 11 == 5) {
        r.stderr_tail = tail;
        r.stderr_len = (uint32_t)strlen(tail);
    }
    commit_result(l, id, &r);
}

/* Trial id done, without a stderr tail, with one metric row: a trial hps_sweep_pack
 * takes. */
static void finish_plain(live *l, int64_t id)
{
    hps_rec_metric m = {.name_index = 0, .step = 0, .resource = 1.0, .value = (double)id};
    hps_outcome r;
    hps_outcome_init(&r);
    r.status = HPS_TRIAL_DONE;
    r.worker = 1 + (int32_t)(id % 3);
    r.objective = (double)((id * 37) % 61) + 0.5;
    r.start = 100.0 + (double)id;
    r.end = 101.0 + (double)id;
    r.n_metrics = 1;
    r.metrics = &m;
    commit_result(l, id, &r);
}

static void write_h5(hps_sweep *s, const char *path)
{
    char err[512] = "";
    int rc = hps_sweep_write_store(s, path, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("write_store: %s: %s", hps_err_name(rc), err);
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The files at a and b hold the same trials, tails, metrics, ranking and summary
 * (all but the journal position the summary was written at). */
static void assert_same_files(const char *a, const char *b)
{
    hps_results x, y;
    char err[512] = "";
    assert_int_equal(hps_results_open(a, &x, err, sizeof err), HPS_OK);
    assert_int_equal(hps_results_open(b, &y, err, sizeof err), HPS_OK);
    assert_int_equal(x.n_trials, y.n_trials);
    for (int64_t i = 0; i < x.n_trials; i++) {
        const hps_trial *s = &x.trials[i], *t = &y.trials[i];
        assert_int_equal(s->trial_id, i);
        assert_int_equal(t->trial_id, i);
        assert_int_equal(s->status, t->status);
        assert_true(s->seed == t->seed);
        assert_int_equal(s->worker, t->worker);
        assert_int_equal(s->exit_code, t->exit_code);
        assert_int_equal(s->attempts, t->attempts);
        assert_true(same_bits(s->objective, t->objective) && same_bits(s->start, t->start) &&
                    same_bits(s->end, t->end) && same_bits(s->budget, t->budget));
        assert_string_equal(s->cause, t->cause);
        for (int k = 0; k < x.space.n_params; k++)
            assert_true(same_bits(s->values[k], t->values[k]));
        if (t->stderr_tail)
            assert_string_equal(s->stderr_tail ? s->stderr_tail : "(none)", t->stderr_tail);
        else
            assert_null(s->stderr_tail);
    }
    assert_int_equal(x.n_metrics, y.n_metrics);
    assert_memory_equal(x.metrics, y.metrics, sizeof *x.metrics * (size_t)x.n_metrics);
    hps_results_free(&x);
    hps_results_free(&y);

    assert_int_equal(hps_results_open_best(a, 64, &x, err, sizeof err), HPS_OK);
    assert_int_equal(hps_results_open_best(b, 64, &y, err, sizeof err), HPS_OK);
    assert_int_equal(x.n_trials, y.n_trials);
    for (int64_t i = 0; i < x.n_trials; i++)
        assert_int_equal(x.trials[i].trial_id, y.trials[i].trial_id);
    hps_results_free(&x);
    hps_results_free(&y);

    hps_store_summary p, q;
    assert_int_equal(hps_store_read_summary(a, &p, err, sizeof err), HPS_OK);
    assert_int_equal(hps_store_read_summary(b, &q, err, sizeof err), HPS_OK);
    assert_int_equal(p.facts.best_id, q.facts.best_id);
    assert_memory_equal(p.counts, q.counts, sizeof p.counts);
    assert_true(same_bits(p.rate_last, q.rate_last) && same_bits(p.rate_first, q.rate_first));
    assert_int_equal(p.rate_n, q.rate_n);
    assert_int_equal(p.n_causes, q.n_causes);
    assert_memory_equal(p.cause_rows, q.cause_rows, sizeof p.cause_rows[0] * (size_t)p.n_causes);
    assert_memory_equal(p.cause_counts, q.cause_counts,
                        sizeof p.cause_counts[0] * (size_t)p.n_causes);
    assert_int_equal(p.n_failed_rows, q.n_failed_rows);
    assert_memory_equal(p.failed_rows, q.failed_rows,
                        sizeof p.failed_rows[0] * (size_t)p.n_failed_rows);
    assert_int_equal(p.n_running_rows, q.n_running_rows);
    if (p.n_running_rows > 0)
        assert_memory_equal(p.running_rows, q.running_rows,
                            sizeof p.running_rows[0] * (size_t)p.n_running_rows);
    hps_store_summary_free(&p);
    hps_store_summary_free(&q);
}

/* What a replay of the journal (keeping every trial) writes to path. */
static void write_replayed(live *l, const char *path)
{
    char err[512] = "";
    assert_int_equal(hps_journal_sync(l->j), HPS_OK);
    hps_sweep r;
    hps_sweep_init(&r, 0);
    int rc = hps_sweep_replay(&r, l->j, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("replay: %s: %s", hps_err_name(rc), err);
    write_h5(&r, path);
    assert_int_equal(r.trials_spilled, 0);
    hps_sweep_free(&r);
}

static void test_spill_trials(void **state)
{
    fixture *f = *state;
    live l;
    live_start(&l, f, yaml_random);
    hps_sweep *s = &l.s;
    char replayed[128];
    snprintf(replayed, sizeof replayed, "%s/replayed.h5", f->dir);

    /* Trial 40 still runs: the trials before it go, it and those after stay. */
    suggest(&l, 60);
    for (int64_t id = 0; id < 60; id++)
        if (id != 40)
            finish(&l, id);
    assert_int_equal(hps_sweep_spillable(s), 40 + s->n_metrics);
    write_h5(s, l.h5);
    assert_int_equal(s->trials_spilled, 40);
    assert_null(hps_sweep_trial(s, 0));
    assert_null(hps_sweep_trial(s, 39));
    assert_non_null(hps_sweep_trial(s, 40));
    assert_int_equal(hps_sweep_trial(s, 59)->trial_id, 59);
    /* The final tails of trials let go of left with them; those of the held final
     * trials (45, 52 failed, 58 pruned, 59 failed) are in sweep.h5 only. */
    assert_int_equal(s->n_tails_spilled, 4);
    assert_int_equal(s->tails_spilled[0], 45);
    assert_int_equal(s->tails_spilled[3], 59);
    /* The best (trial 0, objective 0) went too; it is kept. */
    assert_int_equal(s->best_id, 0);
    assert_int_equal(hps_sweep_best(s)->trial_id, 0);
    assert_true(hps_sweep_best(s)->objective == 0.0);
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);

    /* Every trial ends: the next write lets all of them go, copying the first 40
     * rows from the file. */
    finish(&l, 40);
    suggest(&l, 60);
    for (int64_t id = 60; id < 120; id++)
        finish(&l, id);
    write_h5(s, l.h5);
    assert_int_equal(s->trials_spilled, 120);
    assert_int_equal(hps_sweep_spillable(s), 0);
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);

    /* sweep.h5 removed, then damaged: the spilled rows come from the journal. */
    assert_int_equal(unlink(l.h5), 0);
    suggest(&l, 10);
    for (int64_t id = 120; id < 130; id++)
        finish(&l, id);
    write_h5(s, l.h5);
    assert_int_equal(s->trials_spilled, 130);
    assert_int_equal(s->store_rebuilds, 1);
    flip_byte(l.h5, 1000); /* a byte of its HDF5 data */
    suggest(&l, 10);
    for (int64_t id = 130; id < 139; id++)
        finish(&l, id);
    write_h5(s, l.h5);
    assert_int_equal(s->trials_spilled, 139);
    assert_int_equal(s->store_rebuilds, 2);
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);

    /* A best that is held beats the spilled one only when strictly better: none
     * here can (0 is the least objective), so the best stays trial 0. */
    finish(&l, 139);
    write_h5(s, l.h5);
    assert_int_equal(hps_sweep_best(s)->trial_id, 0);
    assert_int_equal(s->best_id, 0);
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);
    live_free(&l);
}

/* Deterministic mode and a strategy that may promote keep every trial; so does a
 * sweep without a journal. */
static void test_spill_keeps(void **state)
{
    fixture *f = *state;
    static const char *yamls[] = {
        "name: det\nseed: 1\nobjective: {function: noop}\ndeterministic: true\n"
        "parallelism: 2\nspace:\n  x: {type: float, low: 0, high: 1}\n"
        "  n: {type: int, low: 1, high: 8}\n  opt: {type: categorical, choices: [a, b]}\n",
        "name: asha\nseed: 1\nobjective: {function: noop}\n"
        "strategy: {name: asha, min_resource: 1, max_resource: 9, eta: 3}\n"
        "space:\n  x: {type: float, low: 0, high: 1}\n"
        "  n: {type: int, low: 1, high: 8}\n  opt: {type: categorical, choices: [a, b]}\n",
    };
    for (size_t k = 0; k < sizeof yamls / sizeof yamls[0]; k++) {
        live l;
        live_start(&l, f, yamls[k]);
        suggest(&l, 1);
        finish(&l, 0);
        suggest(&l, 1);
        finish(&l, 1);
        write_h5(&l.s, l.h5);
        assert_int_equal(l.s.trials_spilled, 0);
        assert_non_null(hps_sweep_trial(&l.s, 0));
        live_free(&l);
        unlink(l.h5);
        unlink(f->path);
    }
}

/* A resume's replay of a long journal lets go of trials into its own file, never
 * sweep.h5; the first write of sweep.h5 equals a full replay's and removes that
 * file; a replayed sweep freed without a write removes it too. */
static void test_replay_spilling(void **state)
{
    fixture *f = *state;
    enum { N = 40000, RUNNING = 35000 };
    live l;
    live_start(&l, f, yaml_random);
    suggest(&l, N);
    for (int64_t id = 0; id < N; id++)
        if (id != RUNNING)
            finish(&l, id);
    assert_int_equal(hps_journal_sync(l.j), HPS_OK);
    char spill[160], replayed[128], err[512] = "";
    snprintf(spill, sizeof spill, "%s/%s", f->dir, HPS_SWEEPDIR_RESUME_FILE);
    snprintf(replayed, sizeof replayed, "%s/replayed.h5", f->dir);
    for (int write = 0; write < 2; write++) {
        hps_sweep r;
        hps_sweep_init(&r, HPS_SWEEP_STRATEGY);
        int rc = hps_sweep_replay_spilling(&r, l.j, spill, err, sizeof err);
        if (rc != HPS_OK)
            fail_msg("replay: %s: %s", hps_err_name(rc), err);
        /* 40,000 trials and ~60,000 metric rows: one write at least, at 65,536 rows */
        assert_true(r.trials_spilled > 0 && r.trials_spilled <= RUNNING);
        assert_int_equal(access(spill, F_OK), 0);
        assert_int_not_equal(access(l.h5, F_OK), 0); /* sweep.h5 untouched */
        assert_int_equal(r.n_trials, N);
        assert_int_equal(hps_sweep_trial(&r, RUNNING)->status, HPS_TRIAL_RUNNING);
        if (write) {
            write_h5(&r, l.h5);
            assert_int_equal(r.store_rebuilds, 0); /* copied from the replay's file */
            assert_int_not_equal(access(spill, F_OK), 0);
            assert_int_equal(r.trials_spilled, RUNNING);
        }
        hps_sweep_free(&r);
        assert_int_not_equal(access(spill, F_OK), 0);
    }
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);
    live_free(&l);
}

/*
 * Between writes, the final trials before the first that is not (nor has a tail)
 * are packed as /trials rows (hps_sweep_pack) and let go of; the next write takes
 * them as packed, and its file equals a full replay's: from row 0 (the first
 * write), from a row inside a chunk (the rows before the next chunk boundary
 * share that chunk with rows the file holds), after a failed write (the pack
 * stays), and when sweep.h5 must be rebuilt from the journal.
 */
static void test_pack_between_writes(void **state)
{
    fixture *f = *state;
    live l;
    live_start(&l, f, yaml_random);
    hps_sweep *s = &l.s;
    char replayed[128], bad[160], err[512] = "";
    snprintf(replayed, sizeof replayed, "%s/replayed.h5", f->dir);
    snprintf(bad, sizeof bad, "%s/no-such-dir/sweep.h5", f->dir);

    /* Too few to pack, then enough; trial 3000 still runs. */
    suggest(&l, 3100);
    for (int64_t id = 0; id < HPS_SWEEP_PACK_ROWS - 1; id++)
        finish_plain(&l, id);
    hps_sweep_pack(s);
    assert_null(s->pack);
    assert_int_equal(s->trials_spilled, 0);
    for (int64_t id = HPS_SWEEP_PACK_ROWS - 1; id < 3100; id++)
        if (id != 3000)
            finish_plain(&l, id);
    int64_t before = hps_sweep_spillable(s);
    hps_sweep_pack(s);
    assert_non_null(s->pack);
    assert_int_equal(s->trials_spilled, 3000);
    assert_int_equal(hps_store_pack_first(s->pack), 0);
    assert_int_equal(hps_store_pack_rows(s->pack), 3000);
    assert_null(hps_sweep_trial(s, 2999));
    assert_int_equal(hps_sweep_trial(s, 3000)->status, HPS_TRIAL_RUNNING);
    assert_int_equal(hps_sweep_spillable(s), before); /* the write lets go of them all the same */
    /* The best (objective 0.5, trial 0) was packed; it is kept. */
    assert_int_equal(hps_sweep_best(s)->trial_id, 0);
    write_h5(s, l.h5);
    assert_null(s->pack);
    assert_int_equal(s->trials_spilled, 3000);
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);

    /* From row 3000 (a chunk holds 1024 rows: 72 rows to the boundary), with
     * trial 7000's tail stopping the pack; a write that fails keeps it. */
    finish_plain(&l, 3000);
    suggest(&l, 5000);
    for (int64_t id = 3100; id < 8100; id++) {
        if (id == 7000)
            finish(&l, id); /* 7000 % 7 == 0, % 11 == 4, % 13 == 6: pruned, with a tail */
        else
            finish_plain(&l, id);
    }
    hps_sweep_pack(s);
    assert_int_equal(s->trials_spilled, 7000);
    assert_int_equal(hps_store_pack_first(s->pack), 3000);
    assert_int_equal(hps_store_pack_rows(s->pack), 4000);
    assert_non_null(hps_sweep_trial(s, 7000)->stderr_tail);
    assert_int_not_equal(hps_sweep_write_store(s, bad, err, sizeof err), HPS_OK);
    assert_int_equal(hps_store_pack_rows(s->pack), 4000);
    assert_int_equal(s->trials_spilled, 7000);
    write_h5(s, l.h5);
    assert_int_equal(s->trials_spilled, 8100);
    assert_int_equal(s->store_rebuilds, 1); /* the failed write's: its path had no file */
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);

    /* sweep.h5 removed: the rows before the pack come from the journal, the packed
     * ones too. */
    suggest(&l, 2500);
    for (int64_t id = 8100; id < 10600; id++)
        finish_plain(&l, id);
    hps_sweep_pack(s);
    assert_int_equal(hps_store_pack_rows(s->pack), 2500);
    assert_int_equal(unlink(l.h5), 0);
    write_h5(s, l.h5);
    assert_int_equal(s->store_rebuilds, 2);
    assert_int_equal(s->trials_spilled, 10600);
    write_replayed(&l, replayed);
    assert_same_files(l.h5, replayed);
    live_free(&l);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_spill_trials),
        T(test_spill_keeps),
        T(test_replay_spilling),
        T(test_pack_between_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
