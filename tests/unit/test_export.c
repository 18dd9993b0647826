/*
 * Unit tests for the export formats (engine/export.c): the best trial as JSON,
 * YAML, environment lines and command-line arguments; every trial as CSV and
 * JSON; per-value quoting rules for each format; format names.
 *
 * A hps_results is built by hand (no HDF5): a space with a log float, an int, a
 * linear float, a categorical with string / number / bool choices (some needing
 * quotes), a bool and a name starting with a digit; three trials, two with a NaN
 * objective. Output goes to open_memstream and is compared as exact text.
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

#include "core/json.h"
#include "hpsweep/error.h"
#include "store/export.h"
#include "hpsweep/results.h"

/* ---- building the results -------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

typedef struct choice_def {
    hps_choice_kind kind;
    const char *text;
    double number;
} choice_def;

static void set_param(hps_param *p, const char *name, hps_param_type type, double lo, double hi,
                      int log_scale)
{
    p->name = xstrdup(name);
    p->type = type;
    p->low = lo;
    p->high = hi;
    p->log = log_scale;
}

static void set_choices(hps_param *p, const choice_def *defs, int k)
{
    p->n_choices = k;
    p->choices = calloc((size_t)k, sizeof *p->choices);
    assert_non_null(p->choices);
    for (int i = 0; i < k; i++) {
        p->choices[i].kind = defs[i].kind;
        p->choices[i].text = xstrdup(defs[i].text);
        p->choices[i].number = defs[i].number;
    }
}

/* Choice indices of the "opt" parameter. */
enum { OPT_AB, OPT_YES, OPT_XY, OPT_ADAM, OPT_NUM, OPT_BOOL, OPT_APOS, OPT_ESC, OPT_N };

static const choice_def opt_choices[OPT_N] = {
    {HPS_CHOICE_STRING, "a b", 0},
    {HPS_CHOICE_STRING, "yes", 0},
    {HPS_CHOICE_STRING, "x: y", 0},
    {HPS_CHOICE_STRING, "adam", 0},
    {HPS_CHOICE_NUMBER, "0.1", 0.1},
    {HPS_CHOICE_BOOL, "true", 1},
    {HPS_CHOICE_STRING, "it's", 0},
    {HPS_CHOICE_STRING, "say \"hi\"\\\n", 0},
};

#define NP 6

static double vals[3][NP] = {
    /* lr, layers, momentum, opt, use-bn, 2nd */
    {0.125, 4, 0.5, OPT_AB, 1, 3},
    {0.001, 1, 0.0, OPT_XY, 0, 0},
    {1.0, 8, 1.0, OPT_YES, 1, 9},
};

static void build(hps_results *r)
{
    memset(r, 0, sizeof *r);
    r->metric = xstrdup("loss");
    hps_space *sp = &r->space;
    sp->n_params = NP;
    sp->params = calloc(NP, sizeof *sp->params);
    assert_non_null(sp->params);
    set_param(&sp->params[0], "lr", HPS_PARAM_FLOAT, 1e-5, 1.0, 1);
    set_param(&sp->params[1], "layers", HPS_PARAM_INT, 1, 8, 0);
    set_param(&sp->params[2], "momentum", HPS_PARAM_FLOAT, 0, 1, 0);
    set_param(&sp->params[3], "opt", HPS_PARAM_CATEGORICAL, 0, 0, 0);
    set_choices(&sp->params[3], opt_choices, OPT_N);
    set_param(&sp->params[4], "use-bn", HPS_PARAM_BOOL, 0, 0, 0);
    set_param(&sp->params[5], "2nd", HPS_PARAM_INT, 0, 9, 0);

    r->n_trials = 3;
    r->trials = calloc(3, sizeof *r->trials);
    assert_non_null(r->trials);
    for (int k = 0; k < 3; k++) {
        hps_trial *t = &r->trials[k];
        t->trial_id = k;
        t->seed = 11 + (uint64_t)k;
        t->bracket = -1;
        t->rung = -1;
        t->budget = 0.0;
        t->worker = 1;
        t->start = 100.0 + k;
        t->exit_code = -1;
        t->values = vals[k];
    }
    r->trials[1].exit_code = 2;
    r->trials[1].attempts = 3;
    r->trials[0].status = HPS_TRIAL_DONE;
    r->trials[0].end = 110.5;
    r->trials[0].objective = 0.25;
    r->trials[1].status = HPS_TRIAL_FAILED;
    r->trials[1].end = 120.0;
    r->trials[1].objective = NAN;
    snprintf(r->trials[1].cause, HPS_CAUSE_LEN, "bad, \"x\"");
    r->trials[2].status = HPS_TRIAL_RUNNING;
    r->trials[2].bracket = 1;
    r->trials[2].rung = 2;
    r->trials[2].budget = 3.5;
    r->trials[2].worker = 2;
    r->trials[2].end = NAN;
    r->trials[2].objective = NAN;
}

static void release(hps_results *r)
{
    free(r->metric);
    hps_space_free(&r->space);
    free(r->trials); /* values point into the static table */
}

/* ---- capturing output ------------------------------------------------------------- */

typedef struct out {
    char *text;
    size_t size;
    FILE *f;
} out;

static void out_open(out *o)
{
    o->text = NULL;
    o->size = 0;
    o->f = open_memstream(&o->text, &o->size);
    assert_non_null(o->f);
}

/* Close and compare with want exactly. */
static void out_check(out *o, const char *want)
{
    assert_int_equal(fclose(o->f), 0);
    if (strcmp(o->text, want) != 0)
        fail_msg("got:\n%s\n--- expected:\n%s", o->text, want);
    free(o->text);
}

/* Close and compare with want; on a mismatch print both and return 0 (no abort, so
 * the caller can clean up before asserting). */
static int out_same(out *o, const char *want)
{
    int ok = fclose(o->f) == 0 && strcmp(o->text, want) == 0;
    if (!ok)
        print_message("got:\n%s\n--- expected:\n%s\n", o->text, want);
    free(o->text);
    return ok;
}

/* ---- best ------------------------------------------------------------------------ */

static void test_best_json(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[0], HPS_EXPORT_JSON, 0), HPS_OK);
    out_check(&o, "{\n"
                  "  \"trial_id\": 0,\n"
                  "  \"seed\": 11,\n"
                  "  \"loss\": 0.25,\n"
                  "  \"params\": {\n"
                  "    \"lr\": 0.125,\n"
                  "    \"layers\": 4,\n"
                  "    \"momentum\": 0.5,\n"
                  "    \"opt\": \"a b\",\n"
                  "    \"use-bn\": true,\n"
                  "    \"2nd\": 3\n"
                  "  }\n"
                  "}\n");

    /* A NaN objective is null in JSON; other choice kinds keep their types. */
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[1], HPS_EXPORT_JSON, 0), HPS_OK);
    out_check(&o, "{\n"
                  "  \"trial_id\": 1,\n"
                  "  \"seed\": 12,\n"
                  "  \"loss\": null,\n"
                  "  \"params\": {\n"
                  "    \"lr\": 0.001,\n"
                  "    \"layers\": 1,\n"
                  "    \"momentum\": 0,\n"
                  "    \"opt\": \"x: y\",\n"
                  "    \"use-bn\": false,\n"
                  "    \"2nd\": 0\n"
                  "  }\n"
                  "}\n");
    release(&r);
}

static void test_best_json_no_params(void **state)
{
    (void)state;
    hps_results r;
    memset(&r, 0, sizeof r);
    r.metric = "objective";
    hps_trial t = {.trial_id = 4, .seed = 5, .objective = -1.5};
    out o;
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &t, HPS_EXPORT_JSON, 0), HPS_OK);
    out_check(&o, "{\n  \"trial_id\": 4,\n  \"seed\": 5,\n  \"objective\": -1.5,\n"
                  "  \"params\": {}\n}\n");
}

static void test_best_yaml(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[0], HPS_EXPORT_YAML, 0), HPS_OK);
    out_check(&o, "trial_id: 0\n"
                  "seed: 11\n"
                  "loss: 0.25\n"
                  "params:\n"
                  "  lr: 0.125\n"
                  "  layers: 4\n"
                  "  momentum: 0.5\n"
                  "  opt: a b\n"
                  "  use-bn: true\n"
                  "  2nd: 3\n");
    release(&r);
}

/* A NaN objective must be YAML's .nan (as values are), not "nan", which YAML reads
 * as the string "nan"; JSON writes null for it. */
static void test_best_yaml_nan_objective(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    int rc = hps_export_best(o.f, &r, &r.trials[2], HPS_EXPORT_YAML, 0);
    int same = out_same(&o, "trial_id: 2\n"
                            "seed: 13\n"
                            "budget: 3.5\n"
                            "loss: .nan\n"
                            "params:\n"
                            "  lr: 1\n"
                            "  layers: 8\n"
                            "  momentum: 1\n"
                            "  opt: \"yes\"\n"
                            "  use-bn: true\n"
                            "  2nd: 9\n");
    release(&r);
    assert_int_equal(rc, 0);
    assert_true(same);
}

static void test_best_env(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[0], HPS_EXPORT_ENV, 0), HPS_OK);
    out_check(&o, "LR=0.125\n"
                  "LAYERS=4\n"
                  "MOMENTUM=0.5\n"
                  "OPT='a b'\n"
                  "USE_BN=true\n"
                  "_2ND=3\n"
                  "HPSWEEP_SEED=11\n");
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[1], HPS_EXPORT_ENV, 0), HPS_OK);
    out_check(&o, "LR=0.001\n"
                  "LAYERS=1\n"
                  "MOMENTUM=0\n"
                  "OPT='x: y'\n"
                  "USE_BN=false\n"
                  "_2ND=0\n"
                  "HPSWEEP_SEED=12\n");
    /* A multi-fidelity trial's budget too. */
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[2], HPS_EXPORT_ENV, 0), HPS_OK);
    out_check(&o, "LR=1\n"
                  "LAYERS=8\n"
                  "MOMENTUM=1\n"
                  "OPT=yes\n"
                  "USE_BN=true\n"
                  "_2ND=9\n"
                  "HPSWEEP_SEED=13\n"
                  "HPSWEEP_BUDGET=3.5\n");
    release(&r);
}

static void test_best_args(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[0], HPS_EXPORT_ARGS, 0), HPS_OK);
    out_check(&o, "--lr 0.125 --layers 4 --momentum 0.5 --opt 'a b' --use-bn true --2nd 3\n");
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[2], HPS_EXPORT_ARGS, 0), HPS_OK);
    out_check(&o, "--lr 1 --layers 8 --momentum 1 --opt yes --use-bn true --2nd 9\n");
    /* --with-seed: also the seed, and the budget of a multi-fidelity trial. */
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[0], HPS_EXPORT_ARGS, HPS_EXPORT_WITH_SEED),
                     HPS_OK);
    out_check(&o, "--lr 0.125 --layers 4 --momentum 0.5 --opt 'a b' --use-bn true --2nd 3 "
                  "--seed 11\n");
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[2], HPS_EXPORT_ARGS, HPS_EXPORT_WITH_SEED),
                     HPS_OK);
    out_check(&o, "--lr 1 --layers 8 --momentum 1 --opt yes --use-bn true --2nd 9 --seed 13 "
                  "--budget 3.5\n");
    release(&r);
}

static void test_best_bad_format(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &r.trials[0], HPS_EXPORT_CSV, 0), HPS_EINVAL);
    out_check(&o, "");
    release(&r);
}

/* ---- single values ------------------------------------------------------------------ */

typedef void (*value_fn)(FILE *f, const hps_space *sp, int i, double v);

static void check_value(value_fn fn, const hps_space *sp, int i, double v, const char *want)
{
    out o;
    out_open(&o);
    fn(o.f, sp, i, v);
    out_check(&o, want);
}

static void test_value_json(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    const hps_space *sp = &r.space;
    value_fn j = hps_json_put_value;
    check_value(j, sp, 3, OPT_AB, "\"a b\"");
    check_value(j, sp, 3, OPT_YES, "\"yes\"");
    check_value(j, sp, 3, OPT_XY, "\"x: y\"");
    check_value(j, sp, 3, OPT_ADAM, "\"adam\"");
    check_value(j, sp, 3, OPT_NUM, "0.1");
    check_value(j, sp, 3, OPT_BOOL, "true");
    check_value(j, sp, 3, OPT_APOS, "\"it's\"");
    check_value(j, sp, 3, OPT_ESC, "\"say \\\"hi\\\"\\\\\\n\"");
    check_value(j, sp, 0, 0.1, "0.10000000000000001");
    check_value(j, sp, 0, NAN, "null");
    check_value(j, sp, 0, INFINITY, "null");
    check_value(j, sp, 2, -INFINITY, "null");
    check_value(j, sp, 1, 7, "7");
    check_value(j, sp, 4, 0, "false");
    check_value(j, sp, 4, 1, "true");
    release(&r);
}

static void test_value_yaml(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    const hps_space *sp = &r.space;
    value_fn y = hps_export_value_yaml;
    check_value(y, sp, 3, OPT_AB, "a b");
    check_value(y, sp, 3, OPT_YES, "\"yes\"");
    check_value(y, sp, 3, OPT_XY, "\"x: y\"");
    check_value(y, sp, 3, OPT_ADAM, "adam");
    check_value(y, sp, 3, OPT_NUM, "0.1");
    check_value(y, sp, 3, OPT_BOOL, "true");
    check_value(y, sp, 3, OPT_APOS, "it's");
    check_value(y, sp, 3, OPT_ESC, "\"say \\\"hi\\\"\\\\\\n\"");
    check_value(y, sp, 0, NAN, ".nan");
    check_value(y, sp, 0, INFINITY, ".inf");
    check_value(y, sp, 2, -INFINITY, "-.inf");
    check_value(y, sp, 0, 0.1, "0.10000000000000001");
    check_value(y, sp, 1, 3, "3");
    check_value(y, sp, 4, 0, "false");
    release(&r);
}

/* A categorical of string choices, for the YAML quoting rules. */
static void quoting_space(hps_space *sp, const char *const *texts, int k)
{
    sp->n_params = 1;
    sp->params = calloc(1, sizeof *sp->params);
    assert_non_null(sp->params);
    set_param(&sp->params[0], "s", HPS_PARAM_CATEGORICAL, 0, 0, 0);
    choice_def defs[32];
    assert_true(k <= 32);
    for (int i = 0; i < k; i++)
        defs[i] = (choice_def){HPS_CHOICE_STRING, texts[i], 0};
    set_choices(&sp->params[0], defs, k);
}

static void test_yaml_quoting_rules(void **state)
{
    (void)state;
    /* text, then how YAML must show it. */
    static const char *const cases[][2] = {
        {"plain", "plain"},
        {"a b", "a b"},
        {"relu6", "relu6"},
        {"x:y", "x:y"},       /* no space after the colon: plain */
        {"a#b", "a#b"},       /* no space before #: plain */
        {"x: y", "\"x: y\""},
        {"x:", "\"x:\""},
        {"a #b", "\"a #b\""},
        {"", "\"\""},
        {"yes", "\"yes\""},
        {"No", "\"No\""},
        {"on", "\"on\""},
        {"off", "\"off\""},
        {"true", "\"true\""},
        {"FALSE", "\"FALSE\""},
        {"null", "\"null\""},
        {"~", "\"~\""},
        {"12", "\"12\""},
        {"1e-3", "\"1e-3\""},
        {"-5", "\"-5\""},
        {"-x", "\"-x\""},
        {"?q", "\"?q\""},
        {"#c", "\"#c\""},
        {"*ref", "\"*ref\""},
        {"&a", "\"&a\""},
        {"!tag", "\"!tag\""},
        {"[a]", "\"[a]\""},
        {"{a}", "\"{a}\""},
        {"'q'", "\"'q'\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {"tab\tin", "\"tab\\tin\""},
    };
    const int n = (int)(sizeof cases / sizeof cases[0]);
    const char *texts[32];
    for (int i = 0; i < n; i++)
        texts[i] = cases[i][0];
    hps_space sp = {0};
    quoting_space(&sp, texts, n);
    for (int i = 0; i < n; i++)
        check_value(hps_export_value_yaml, &sp, 0, i, cases[i][1]);
    hps_space_free(&sp);
}

/*
 * Strings that YAML 1.1 / the 1.2 core schema read as something else must be
 * quoted too: the upper-case booleans YES/NO/ON/OFF (the table has TRUE/FALSE but
 * not these) and the special floats .nan / .inf / -.inf.
 */
static void test_yaml_quoting_special_scalars(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"YES", "\"YES\""}, {"NO", "\"NO\""},     {"ON", "\"ON\""},
        {"OFF", "\"OFF\""}, {".nan", "\".nan\""}, {".inf", "\".inf\""},
        {".NaN", "\".NaN\""},
    };
    const int n = (int)(sizeof cases / sizeof cases[0]);
    const char *texts[32];
    for (int i = 0; i < n; i++)
        texts[i] = cases[i][0];
    hps_space sp = {0};
    quoting_space(&sp, texts, n);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        out o;
        out_open(&o);
        hps_export_value_yaml(o.f, &sp, 0, i);
        assert_int_equal(fclose(o.f), 0);
        if (strcmp(o.text, cases[i][1]) != 0) {
            print_message("YAML string %s written as %s (reads back as a non-string)\n",
                          cases[i][0], o.text);
            bad++;
        }
        free(o.text);
    }
    hps_space_free(&sp);
    assert_int_equal(bad, 0);
}

static void test_env_names(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"lr", "LR"},           {"use-bn", "USE_BN"},     {"2nd", "_2ND"},
        {"lr.max", "LR_MAX"},   {"Mixed_Case9", "MIXED_CASE9"}, {"a b", "A_B"},
        {"9", "_9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out o;
        out_open(&o);
        hps_export_env_name(o.f, cases[i][0]);
        out_check(&o, cases[i][1]);
    }
}

/* Two parameters that become one variable (lr and LR), or a name with nothing a
 * variable can keep (学习率 becomes _________): env output refuses and writes
 * nothing, where it used to print one value over the other. */
static void test_env_collisions(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    char *saved[2] = {r.space.params[0].name, r.space.params[1].name};
    double v[6] = {0};
    hps_trial t = {.trial_id = 0, .values = v};
    char err[256];
    static const struct {
        const char *a, *b, *why;
    } cases[] = {
        {"lr", "LR", "parameters 'lr' and 'LR' both become the variable LR"},
        {"a.b", "a-b", "parameters 'a.b' and 'a-b' both become the variable A_B"},
        {"x", "\xe5\xad\xa6\xe4\xb9\xa0\xe7\x8e\x87", "has no ASCII letter or digit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.space.params[0].name = (char *)cases[i].a;
        r.space.params[1].name = (char *)cases[i].b;
        assert_int_equal(hps_export_env_check(&r, err, sizeof err), HPS_EINVAL);
        assert_non_null(strstr(err, cases[i].why));
        out o;
        out_open(&o);
        assert_int_equal(hps_export_best(o.f, &r, &t, HPS_EXPORT_ENV, 0), HPS_EINVAL);
        out_check(&o, "");
    }
    r.space.params[0].name = saved[0];
    r.space.params[1].name = saved[1];
    assert_int_equal(hps_export_env_check(&r, err, sizeof err), HPS_OK);
    release(&r);
}

/* Shell quoting of env values: safe words bare, others in single quotes, a single
 * quote as '\''. */
static void test_env_values_quoting(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    static const struct {
        int choice;
        const char *line;
    } cases[] = {
        {OPT_AB, "OPT='a b'\n"},   {OPT_YES, "OPT=yes\n"},      {OPT_XY, "OPT='x: y'\n"},
        {OPT_ADAM, "OPT=adam\n"},  {OPT_NUM, "OPT=0.1\n"},      {OPT_BOOL, "OPT=true\n"},
        {OPT_APOS, "OPT='it'\\''s'\n"},
    };
    /* (each ends with the trial's seed, 0 here) */
    /* A one-parameter view of the space: just "opt". */
    hps_results one = r;
    one.space.n_params = 1;
    one.space.params = &r.space.params[3];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = cases[i].choice;
        hps_trial t = {.trial_id = 0, .values = &v};
        out o;
        out_open(&o);
        assert_int_equal(hps_export_best(o.f, &one, &t, HPS_EXPORT_ENV, 0), HPS_OK);
        char want[96];
        snprintf(want, sizeof want, "%sHPSWEEP_SEED=0\n", cases[i].line);
        out_check(&o, want);
    }
    release(&r);
}

/* ---- trials ------------------------------------------------------------------------- */

static void test_trials_csv(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_CSV), HPS_OK);
    out_check(&o,
              "trial_id,status,seed,bracket,rung,budget,worker,start,end,objective,cause,exit_code,attempts,"
              "lr,layers,momentum,opt,use-bn,2nd\n"
              "0,done,11,-1,-1,0,1,100,110.5,0.25,,-1,0,0.125,4,0.5,a b,true,3\n"
              "1,failed,12,-1,-1,0,1,101,120,,\"bad, \"\"x\"\"\",2,3,0.001,1,0,x: y,false,0\n"
              "2,running,13,1,2,3.5,2,102,,,,-1,0,1,8,1,yes,true,9\n");
    release(&r);
}

/* CSV quoting of parameter values and names that contain commas, quotes, newlines. */
static void test_trials_csv_quoting(void **state)
{
    (void)state;
    static const char *const texts[] = {"a,b", "q\"q", "l\nm", "plain"};
    hps_results r;
    memset(&r, 0, sizeof r);
    r.metric = "m";
    quoting_space(&r.space, texts, 4);
    free(r.space.params[0].name);
    r.space.params[0].name = xstrdup("s,t");
    double v[4] = {0, 1, 2, 3};
    hps_trial t[4];
    memset(t, 0, sizeof t);
    for (int k = 0; k < 4; k++) {
        t[k].trial_id = k;
        t[k].status = HPS_TRIAL_DONE;
        t[k].objective = k;
        t[k].values = &v[k];
    }
    r.trials = t;
    r.n_trials = 4;
    out o;
    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_CSV), HPS_OK);
    out_check(&o, "trial_id,status,seed,bracket,rung,budget,worker,start,end,objective,cause,exit_code,attempts,"
                  "\"s,t\"\n"
                  "0,done,0,0,0,0,0,0,0,0,,0,0,\"a,b\"\n"
                  "1,done,0,0,0,0,0,0,0,1,,0,0,\"q\"\"q\"\n"
                  "2,done,0,0,0,0,0,0,0,2,,0,0,\"l\nm\"\n"
                  "3,done,0,0,0,0,0,0,0,3,,0,0,plain\n");
    hps_space_free(&r.space);
}

/* Awkward doubles in every double column and a float parameter: the CSV holds
 * exactly what "%.17g" writes (an empty field for NaN in the fixed columns, as the
 * parameter's text for it), whichever path formats them. */
static void test_trials_csv_awkward_doubles(void **state)
{
    (void)state;
    const double v[] = {4.9406564584124654e-324, 2.2250738585072014e-308, 1e-300, -1e-300,
                        NAN, -NAN, INFINITY, -INFINITY, 0.0, -0.0, 3.0, -17.0,
                        0.1 + 0.2, 1e-4, 9.9999999999999991e-5, 1e16, 1e17, 123456789012345678.0,
                        1796072902.2983344, 0.033723376458510756, 5e-5, 2.5, 1e22, -1e-5};
    enum { N = sizeof v / sizeof v[0] };
    hps_results r;
    memset(&r, 0, sizeof r);
    r.space.n_params = 1;
    r.space.params = calloc(1, sizeof *r.space.params);
    assert_non_null(r.space.params);
    set_param(&r.space.params[0], "x", HPS_PARAM_FLOAT, 0, 1, 0);
    hps_trial t[N];
    double xs[N];
    memset(t, 0, sizeof t);
    char want[N * 256 + 256], *w = want;
    w += sprintf(w, "trial_id,status,seed,bracket,rung,budget,worker,start,end,objective,"
                    "cause,exit_code,attempts,x\n");
    for (int k = 0; k < N; k++) {
        double a = v[k], b = v[(k + 1) % N], c = v[(k + 2) % N], d = v[(k + 3) % N];
        t[k] = (hps_trial){.trial_id = k, .status = HPS_TRIAL_DONE, .seed = UINT64_MAX - (uint64_t)k,
                           .bracket = INT32_MIN, .rung = k, .budget = a, .worker = INT32_MAX,
                           .start = b, .end = c, .objective = d, .exit_code = -k,
                           .attempts = k, .values = &xs[k]};
        xs[k] = v[(k + 4) % N];
        w += sprintf(w, "%d,done,%llu,%d,%d,", k, (unsigned long long)t[k].seed, INT32_MIN, k);
        double cols[] = {a, -1, b, c, d};
        for (int i = 0; i < 5; i++) {
            if (i == 1)
                w += sprintf(w, "%d,", INT32_MAX);
            else if (isnan(cols[i]))
                w += sprintf(w, ",");
            else
                w += sprintf(w, "%.17g,", cols[i]);
        }
        w += sprintf(w, ",%d,%d,%.17g\n", -k, k, xs[k]);
    }
    r.trials = t;
    r.n_trials = N;
    out o;
    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_CSV), HPS_OK);
    out_check(&o, want);
    hps_space_free(&r.space);
}

static void test_trials_json(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    out o;
    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_JSON), HPS_OK);
    out_check(&o,
              "[\n"
              "  {\"trial_id\": 0, \"status\": \"done\", \"seed\": 11, \"bracket\": -1, "
              "\"rung\": -1, \"budget\": 0, \"worker\": 1, \"start\": 100, \"end\": 110.5, "
              "\"objective\": 0.25, \"cause\": \"\", \"exit_code\": -1, \"attempts\": 0, \"params\": {\"lr\": 0.125, "
              "\"layers\": 4, \"momentum\": 0.5, \"opt\": \"a b\", \"use-bn\": true, "
              "\"2nd\": 3}},\n"
              "  {\"trial_id\": 1, \"status\": \"failed\", \"seed\": 12, \"bracket\": -1, "
              "\"rung\": -1, \"budget\": 0, \"worker\": 1, \"start\": 101, \"end\": 120, "
              "\"objective\": null, \"cause\": \"bad, \\\"x\\\"\", \"exit_code\": 2, \"attempts\": 3, \"params\": {\"lr\": 0.001, "
              "\"layers\": 1, \"momentum\": 0, \"opt\": \"x: y\", \"use-bn\": false, "
              "\"2nd\": 0}},\n"
              "  {\"trial_id\": 2, \"status\": \"running\", \"seed\": 13, \"bracket\": 1, "
              "\"rung\": 2, \"budget\": 3.5, \"worker\": 2, \"start\": 102, \"end\": null, "
              "\"objective\": null, \"cause\": \"\", \"exit_code\": -1, \"attempts\": 0, \"params\": {\"lr\": 1, "
              "\"layers\": 8, \"momentum\": 1, \"opt\": \"yes\", \"use-bn\": true, "
              "\"2nd\": 9}}\n"
              "]\n");
    release(&r);
}

/* The rows as text in memory are the rows written to a file, byte for byte, for
 * csv and json, from any row on (json's separator depends on it), the buffer
 * reused from block to block; an empty block is no text. */
static void test_trials_text(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    hps_export_text text = {0};
    const hps_export_format fmts[] = {HPS_EXPORT_CSV, HPS_EXPORT_JSON};
    for (int k = 0; k < 2; k++)
        for (int64_t first = 0; first < 3; first++) {
            int64_t n = r.n_trials - first;
            out o;
            out_open(&o);
            assert_int_equal(hps_export_trials_rows(o.f, &r, r.trials + first, n, first, fmts[k]),
                             HPS_OK);
            assert_int_equal(fclose(o.f), 0);
            assert_int_equal(hps_export_trials_text(&r, r.trials + first, n, first, fmts[k],
                                                     &text),
                             HPS_OK);
            assert_int_equal(text.len, o.size);
            assert_memory_equal(text.data, o.text, o.size);
            assert_true(text.len > 0 && text.len <= text.cap);
            free(o.text);
        }
    assert_int_equal(hps_export_trials_text(&r, r.trials, 0, 0, HPS_EXPORT_CSV, &text), HPS_OK);
    assert_int_equal(text.len, 0);
    assert_int_equal(hps_export_trials_text(&r, r.trials, 1, 0, HPS_EXPORT_YAML, &text),
                     HPS_EINVAL);
    free(text.data);
    release(&r);
}

static void test_trials_empty(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    r.n_trials = 0;
    out o;
    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_JSON), HPS_OK);
    out_check(&o, "[]\n");
    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_CSV), HPS_OK);
    out_check(&o, "trial_id,status,seed,bracket,rung,budget,worker,start,end,objective,cause,exit_code,attempts,"
                  "lr,layers,momentum,opt,use-bn,2nd\n");
    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_YAML), HPS_EINVAL);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_ENV), HPS_EINVAL);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_ARGS), HPS_EINVAL);
    out_check(&o, "");
    release(&r);
}

/* A categorical choice longer than any fixed scratch buffer is written whole in
 * every format (CSV, env, args go through hps_space_format). */
static void test_long_choice_text(void **state)
{
    (void)state;
    char longtext[301];
    for (int i = 0; i < 300; i++)
        longtext[i] = (char)('a' + i % 26);
    longtext[300] = '\0';
    const char *texts[1] = {longtext};
    hps_results r;
    memset(&r, 0, sizeof r);
    r.metric = "m";
    quoting_space(&r.space, texts, 1);
    double v = 0;
    hps_trial t = {.trial_id = 0, .status = HPS_TRIAL_DONE, .objective = 1, .values = &v};
    r.trials = &t;
    r.n_trials = 1;
    char want[512];
    int bad = 0;

    out o;
    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &t, HPS_EXPORT_JSON, 0), HPS_OK);
    snprintf(want, sizeof want,
             "{\n  \"trial_id\": 0,\n  \"seed\": 0,\n  \"m\": 1,\n  \"params\": {\n"
             "    \"s\": \"%s\"\n  }\n}\n", longtext);
    bad += !out_same(&o, want);

    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &t, HPS_EXPORT_ENV, 0), HPS_OK);
    snprintf(want, sizeof want, "S=%s\nHPSWEEP_SEED=0\n", longtext);
    bad += !out_same(&o, want);

    out_open(&o);
    assert_int_equal(hps_export_best(o.f, &r, &t, HPS_EXPORT_ARGS, 0), HPS_OK);
    snprintf(want, sizeof want, "--s %s\n", longtext);
    bad += !out_same(&o, want);

    out_open(&o);
    assert_int_equal(hps_export_trials(o.f, &r, HPS_EXPORT_CSV), HPS_OK);
    snprintf(want, sizeof want,
             "trial_id,status,seed,bracket,rung,budget,worker,start,end,objective,cause,exit_code,attempts,s\n"
             "0,done,0,0,0,0,0,0,0,1,,0,0,%s\n", longtext);
    bad += !out_same(&o, want);
    hps_space_free(&r.space);
    assert_int_equal(bad, 0);
}

/* ---- format names ------------------------------------------------------------------- */

static void test_parse_format(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        hps_export_format fmt;
    } ok[] = {{"json", HPS_EXPORT_JSON}, {"yaml", HPS_EXPORT_YAML}, {"env", HPS_EXPORT_ENV},
              {"args", HPS_EXPORT_ARGS}, {"csv", HPS_EXPORT_CSV}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hps_export_format f = (hps_export_format)-1;
        assert_int_equal(hps_export_parse_format(ok[i].name, &f), HPS_OK);
        assert_int_equal(f, ok[i].fmt);
    }
    static const char *const bad[] = {"", "xml", "jso", "jsonx", " json", "yml"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hps_export_format f = HPS_EXPORT_CSV;
        assert_int_equal(hps_export_parse_format(bad[i], &f), HPS_EINVAL);
        assert_int_equal(f, HPS_EXPORT_CSV); /* untouched */
    }
}

/* A write error is reported: a stream opened read-only fails every write. */
static void test_write_error(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    FILE *f = fopen("/dev/null", "r");
    assert_non_null(f);
    assert_int_equal(hps_export_best(f, &r, &r.trials[0], HPS_EXPORT_JSON, 0), HPS_EIO);
    clearerr(f);
    assert_int_equal(hps_export_trials(f, &r, HPS_EXPORT_CSV), HPS_EIO);
    fclose(f);
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_json),
        cmocka_unit_test(test_best_json_no_params),
        cmocka_unit_test(test_best_yaml),
        cmocka_unit_test(test_best_yaml_nan_objective),
        cmocka_unit_test(test_best_env),
        cmocka_unit_test(test_best_args),
        cmocka_unit_test(test_best_bad_format),
        cmocka_unit_test(test_value_json),
        cmocka_unit_test(test_value_yaml),
        cmocka_unit_test(test_yaml_quoting_rules),
        cmocka_unit_test(test_yaml_quoting_special_scalars),
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_env_collisions),
        cmocka_unit_test(test_env_values_quoting),
        cmocka_unit_test(test_trials_csv),
        cmocka_unit_test(test_trials_csv_quoting),
        cmocka_unit_test(test_trials_csv_awkward_doubles),
        cmocka_unit_test(test_trials_json),
        cmocka_unit_test(test_trials_text),
        cmocka_unit_test(test_trials_empty),
        cmocka_unit_test(test_long_choice_text),
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
