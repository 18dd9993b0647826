/*
 * What `hpsweep run` and `resume` do on rank 0 before any trial (engine/cli/
 * run_prepare.c): a fresh sweep directory with its journal (HEADER, the metric's
 * name) and lock; the refusals (a directory that holds a sweep, a resume without
 * a journal, a changed config, no budget, a second coordinator, a damaged
 * journal, results without a journal, a space sweep.h5 cannot hold) with their
 * exit codes, each writing nothing; a journal without a record taken over by run;
 * a resume that replays the strategy and takes a new budget; a new sweep
 * abandoned when the objective did not open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "hpsweep/error.h"

static char dir[64];

static void write_config(const char *name, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s", body);
    assert_int_equal(fclose(f), 0);
}

static const char *base =
    "name: prep\n"
    "seed: 3\n"
    "objective: {function: branin}\n"
    "space:\n"
    "  x1: {type: float, low: -5, high: 10}\n"
    "  x2: {type: float, low: 0, high: 15}\n";


static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hps-prep-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char b[1024];
    snprintf(b, sizeof b, "%soutput: %s/runs\nbudget: {max_trials: 12}\n", base, dir);
    write_config("ok.yaml", b);
    snprintf(b, sizeof b, "%soutput: %s/runs\nbudget: {max_trials: 40}\n", base, dir);
    write_config("more.yaml", b);
    snprintf(b, sizeof b, "%soutput: %s/runs\nbudget: {max_trials: 12}\nstrategy: tpe\n", base,
             dir);
    write_config("other.yaml", b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return hps_rm_tree(dir) == 0 ? 0 : -1;
}

static void path(char *out, size_t len, const char *rel)
{
    snprintf(out, len, "%s/%s", dir, rel);
}

static int exists(const char *rel)
{
    char p[160];
    struct stat st;
    path(p, sizeof p, rel);
    return stat(p, &st) == 0;
}

/* Every refusal of a new sweep leaves nothing behind: no budget, too few ranks
 * for a trial group, a strategy that refuses its options for this space. */
static void test_refusals_write_nothing(void **state)
{
    (void)state;
    char err[2048], cfg[128], b[1024];
    prepared p;
    snprintf(b, sizeof b, "%soutput: %s/runs\nbudget: {max_trials: 5}\nranks_per_trial: 3\n",
             base, dir);
    write_config("rpt.yaml", b);
    path(cfg, sizeof cfg, "rpt.yaml");
    run_args a = {.config = cfg, .ranks = 3};
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "ranks_per_trial is 3 but only 2 worker ranks"));
    hps_prepared_free(&p);
    assert_false(exists("runs"));
    a.ranks = 4; /* enough */
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    hps_prepared_free(&p);
    assert_true(exists("runs/prep/journal"));

    /* 41 parameters: the sobol sampler refuses them when the strategy is made. */
    char big[8192];
    int n = snprintf(big, sizeof big, "name: wide\nobjective: {function: sphere}\n"
                     "strategy: {name: random, sampler: sobol}\nbudget: {max_trials: 5}\n"
                     "output: %s/runs\nspace:\n", dir);
    for (int i = 0; i < 41; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "  x%d: {type: float, low: 0, high: 1}\n",
                      i);
    write_config("wide.yaml", big);
    path(cfg, sizeof cfg, "wide.yaml");
    run_args w = {.config = cfg};
    assert_int_equal(hps_prepare(&w, &p, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "sobol"));
    hps_prepared_free(&p);
    assert_false(exists("runs/wide"));
}

/* --max-trials is recorded (a BUDGET record) and a resume without it keeps it. */
static void test_budget_override_recorded(void **state)
{
    (void)state;
    char err[2048], cfg[128], sweep[128];
    path(cfg, sizeof cfg, "ok.yaml");
    path(sweep, sizeof sweep, "runs/prep");
    prepared p;
    run_args a = {.config = cfg, .max_trials = 100};
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    assert_int_equal(p.s.budget.max_trials, 100);
    hps_prepared_free(&p);
    run_args r = {.resume = 1, .dir = sweep};
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_OK);
    assert_int_equal(p.s.budget.max_trials, 100);
    assert_int_equal(p.fresh, 0);
    hps_prepared_free(&p);
    /* A later override wins, and is kept in turn. */
    r.max_trials = 150;
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_OK);
    hps_prepared_free(&p);
    r.max_trials = 0;
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_OK);
    assert_int_equal(p.s.budget.max_trials, 150);
    hps_prepared_free(&p);
}

static void test_fresh_then_refusals(void **state)
{
    (void)state;
    char cfg[128], more[128], other[128], sweep[128], err[2048];
    path(cfg, sizeof cfg, "ok.yaml");
    path(more, sizeof more, "more.yaml");
    path(other, sizeof other, "other.yaml");
    path(sweep, sizeof sweep, "runs/prep");

    run_args a = {.config = cfg};
    prepared p;
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    assert_int_equal(p.s.budget.max_trials, 12);
    assert_true(p.s.have_header && p.s.strategy != NULL);
    assert_int_equal(p.s.n_metric_names, 1);
    assert_string_equal(p.s.metric_names[0], "objective");
    assert_true(p.s.seed == 3);
    struct stat st;
    char j[160];
    snprintf(j, sizeof j, "%s/journal", sweep);
    assert_int_equal(stat(j, &st), 0);
    snprintf(j, sizeof j, "%s/trials", sweep);
    assert_int_equal(stat(j, &st), 0);
    /* A second coordinator on the same directory is refused while the lock is held. */
    run_args r = {.resume = 1, .dir = sweep};
    prepared q;
    assert_int_equal(hps_prepare(&r, &q, err, sizeof err), HPS_ELOCKED);
    assert_int_equal(hps_prepare_exit(HPS_ELOCKED), HPS_EXIT_USAGE);
    hps_prepared_free(&q);
    hps_prepared_free(&p);

    /* run into a directory that holds a sweep: refused, pointing at resume. */
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_EEXIST);
    assert_non_null(strstr(err, "hpsweep resume"));
    hps_prepared_free(&p);

    /* resume with a changed config: refused, naming the key. */
    run_args rc = {.resume = 1, .dir = sweep, .config = other};
    assert_int_equal(hps_prepare(&rc, &p, err, sizeof err), HPS_EMISMATCH);
    assert_non_null(strstr(err, "strategy"));
    hps_prepared_free(&p);

    /* resume with a new budget: taken; the command line's wins over both. */
    run_args rb = {.resume = 1, .dir = sweep, .config = more};
    assert_int_equal(hps_prepare(&rb, &p, err, sizeof err), HPS_OK);
    assert_int_equal(p.s.budget.max_trials, 40);
    hps_prepared_free(&p);
    rb.max_trials = 7;
    assert_int_equal(hps_prepare(&rb, &p, err, sizeof err), HPS_OK);
    assert_int_equal(p.s.budget.max_trials, 7);
    hps_prepared_free(&p);

    /* run --resume continues the same sweep. */
    run_args ar = {.config = cfg, .resume = 1};
    assert_int_equal(hps_prepare(&ar, &p, err, sizeof err), HPS_OK);
    assert_false(p.s.replay_diverged);
    hps_prepared_free(&p);
}

/* A new sweep whose objective did not open everywhere is abandoned: no journal,
 * lock, trials/ or directory left, so the same run can start again; a resumed
 * sweep is never touched. */
static void test_abandon(void **state)
{
    (void)state;
    char cfg[128], sweep[128], err[2048];
    path(cfg, sizeof cfg, "ok.yaml");
    path(sweep, sizeof sweep, "runs/prep");
    run_args a = {.config = cfg};
    prepared p;
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    assert_true(p.fresh);
    hps_prepare_abandon(&p);
    hps_prepared_free(&p);
    struct stat st;
    assert_int_not_equal(stat(sweep, &st), 0);
    char runs[128];
    path(runs, sizeof runs, "runs");
    assert_int_equal(stat(runs, &st), 0); /* the output directory stays */

    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    hps_prepared_free(&p);
    run_args r = {.resume = 1, .dir = sweep};
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_OK);
    assert_false(p.fresh);
    hps_prepare_abandon(&p);
    hps_prepared_free(&p);
    char j[160];
    snprintf(j, sizeof j, "%s/journal", sweep);
    assert_int_equal(stat(j, &st), 0);
}

static void test_missing_and_no_budget(void **state)
{
    (void)state;
    char err[2048], nowhere[128], nob[128];
    path(nowhere, sizeof nowhere, "runs/none");
    run_args r = {.resume = 1, .dir = nowhere};
    prepared p;
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_ENOENT);
    assert_non_null(strstr(err, "holds no sweep"));
    hps_prepared_free(&p);

    char b[1024];
    snprintf(b, sizeof b, "%soutput: %s/runs\n", base, dir);
    write_config("nobudget.yaml", b);
    path(nob, sizeof nob, "nobudget.yaml");
    run_args a = {.config = nob};
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "no budget"));
    assert_int_equal(hps_prepare_exit(HPS_ECONFIG), HPS_EXIT_USAGE);
    hps_prepared_free(&p);
    assert_false(exists("runs/prep")); /* a refusal writes nothing */
    /* --max-trials is a budget. */
    a.max_trials = 5;
    a.resume = 1;
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    assert_int_equal(p.s.budget.max_trials, 5);
    hps_prepared_free(&p);

    /* A config that does not parse: the parser's positioned message. */
    write_config("bad.yaml", "name: x\nspace: [\n");
    path(nob, sizeof nob, "bad.yaml");
    run_args c = {.config = nob};
    assert_int_not_equal(hps_prepare(&c, &p, err, sizeof err), HPS_OK);
    assert_non_null(strstr(err, "bad.yaml:"));
    hps_prepared_free(&p);
}

/* Flip one byte of path at offset at. */
static void flip(const char *file, long at)
{
    FILE *f = fopen(file, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    int c = fgetc(f);
    assert_true(c != EOF);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    fputc(c ^ 0x40, f);
    assert_int_equal(fclose(f), 0);
}

static long file_size(const char *file)
{
    struct stat st;
    return stat(file, &st) == 0 ? (long)st.st_size : -1;
}

/*
 * A damaged journal is refused with exit code 6 and left alone (before, resume cut
 * it to 16 bytes and then failed); a journal without a record is one that `run`
 * takes over and `resume` sends to `run`; results without a journal are never
 * replaced.
 */
static void test_damaged_empty_and_orphaned(void **state)
{
    (void)state;
    char cfg[128], sweep[128], journal[160], h5[160], err[2048];
    path(cfg, sizeof cfg, "ok.yaml");
    path(sweep, sizeof sweep, "runs/prep");
    snprintf(journal, sizeof journal, "%s/journal", sweep);
    snprintf(h5, sizeof h5, "%s/sweep.h5", sweep);
    run_args a = {.config = cfg};
    run_args r = {.resume = 1, .dir = sweep};
    prepared p;
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    hps_prepared_free(&p);
    long size = file_size(journal);

    /* A flipped byte in the HEADER record, with the metric's name after it. */
    flip(journal, 40);
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_EDAMAGED);
    assert_int_equal(hps_prepare_exit(HPS_EDAMAGED), HPS_EXIT_DAMAGED);
    assert_non_null(strstr(err, "record 1 (at byte 16) does not verify"));
    assert_non_null(strstr(err, "--salvage"));
    hps_prepared_free(&p);
    assert_int_equal(file_size(journal), size);
    run_args rs = {.resume = 1, .dir = sweep, .salvage = 1};
    assert_int_equal(hps_prepare(&rs, &p, err, sizeof err), HPS_EDAMAGED);
    assert_non_null(strstr(err, "nothing can be salvaged"));
    hps_prepared_free(&p);
    assert_int_equal(file_size(journal), size);
    flip(journal, 40);

    /* A journal without a record: resume points at run, run takes it over. */
    assert_int_equal(truncate(journal, 16), 0);
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_ENOENT);
    assert_non_null(strstr(err, "hpsweep run CONFIG"));
    hps_prepared_free(&p);
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_OK);
    assert_true(p.s.have_header);
    hps_prepared_free(&p);
    assert_int_equal(file_size(journal), size);

    /* sweep.h5 with no journal behind it: refused, and left as it was. */
    FILE *f = fopen(h5, "w");
    assert_non_null(f);
    fputs("results", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(unlink(journal), 0);
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_EEXIST);
    assert_non_null(strstr(err, "holds results (sweep.h5) but no journal"));
    hps_prepared_free(&p);
    assert_int_equal(file_size(h5), 7);
    assert_int_equal(hps_prepare(&r, &p, err, sizeof err), HPS_ENOENT);
    assert_non_null(strstr(err, "sweep.h5 can be read"));
    hps_prepared_free(&p);
}

/* A space sweep.h5 cannot hold is refused before anything is written. */
static void test_unstorable_space(void **state)
{
    (void)state;
    char err[2048], file[128], sweep[128];
    size_t cap = 200000;
    char *b = malloc(cap);
    assert_non_null(b);
    int n = snprintf(b, cap, "name: wide\nobjective: {function: noop}\nbudget: {max_trials: 1}\n"
                             "output: %s/runs\nspace:\n  c:\n    type: categorical\n    choices:\n",
                     dir);
    for (int k = 0; k < 7000; k++)
        n += snprintf(b + n, cap - (size_t)n, "      - choice%d\n", k);
    write_config("wide.yaml", b);
    path(file, sizeof file, "wide.yaml");
    path(sweep, sizeof sweep, "runs/wide");
    run_args a = {.config = file};
    prepared p;
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "space.c: 7000 choices are more than sweep.h5 can describe"));
    hps_prepared_free(&p);
    struct stat st;
    assert_int_not_equal(stat(sweep, &st), 0);

    n = snprintf(b, cap, "name: wide\nobjective: {function: noop}\nbudget: {max_trials: 1}\n"
                         "output: %s/runs\nspace:\n", dir);
    for (int k = 0; k < 2500; k++)
        n += snprintf(b + n, cap - (size_t)n, "  parameter_%04d: {type: float, low: 0, high: 1}\n",
                      k);
    write_config("wide.yaml", b);
    assert_int_equal(hps_prepare(&a, &p, err, sizeof err), HPS_ECONFIG);
    assert_non_null(strstr(err, "2500 parameters"));
    hps_prepared_free(&p);
    assert_int_not_equal(stat(sweep, &st), 0);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_then_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_no_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_override_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_empty_and_orphaned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unstorable_space, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
