/*
 * Unit tests for the sweep config parser (engine/config*.c, engine/yaml_util.c).
 *
 * Two halves: a corpus of bad configs (tests/bad_configs/NAME.yaml, each with
 * NAME.expect holding a substring the error must contain, "file:line:column:"
 * included) that every rule of the validator is checked against, and good
 * configs parsed into structs whose every field is checked (function and
 * external-command objectives, pruners, multi-fidelity options), plus
 * hps_parse_duration and hps_config_diff.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "hpsweep/error.h"

#define BAD_DIR HPS_TEST_DATA_DIR "/bad_configs"

static int parse(const char *yaml, hps_config *cfg, char *err, size_t errlen)
{
    return hps_config_parse(yaml, strlen(yaml), "sweeps/test.yaml", cfg, err, errlen);
}

/* Parse yaml, expecting success; fails the test with the message otherwise. */
static void parse_ok(const char *yaml, hps_config *cfg)
{
    char err[1024];
    int rc = parse(yaml, cfg, err, sizeof err);
    if (rc != HPS_OK)
        fail_msg("parse failed (%s): %s", hps_err_name(rc), err);
}

/* Parse yaml, expecting HPS_ECONFIG with a message containing want. */
static void parse_bad(const char *yaml, const char *want)
{
    hps_config cfg;
    char err[1024];
    int rc = parse(yaml, &cfg, err, sizeof err);
    hps_config_free(&cfg);
    if (rc != HPS_ECONFIG || !strstr(err, want))
        fail_msg("want %s containing \"%s\", got %s: %s", hps_err_name(HPS_ECONFIG), want,
                 hps_err_name(rc), err);
}

/* ---- the corpus ---------------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = buf ? fread(buf, 1, 4095, f) : 0;
    fclose(f);
    if (buf)
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
    return buf;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_bad_corpus(void **state)
{
    (void)state;
    DIR *d = opendir(BAD_DIR);
    assert_non_null(d);
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml")) {
            names[n] = malloc(len - 4);
            assert_non_null(names[n]);
            memcpy(names[n], e->d_name, len - 5);
            names[n][len - 5] = '\0';
            n++;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    assert_true(n >= 30);

    int failures = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], expect_path[1024];
        snprintf(path, sizeof path, "%s/%s.yaml", BAD_DIR, names[i]);
        snprintf(expect_path, sizeof expect_path, "%s/%s.expect", BAD_DIR, names[i]);
        char *expect = read_text(expect_path);
        hps_config cfg;
        char err[2048];
        int rc = hps_config_load(path, &cfg, err, sizeof err);
        hps_config_free(&cfg);
        if (!expect || !*expect) {
            print_error("%s: missing or empty .expect file\n", names[i]);
            failures++;
        } else if (rc != HPS_ECONFIG || !strstr(err, expect)) {
            print_error("%s:\n  want %s containing: %s\n  got  %s: %s\n", names[i],
                        hps_err_name(HPS_ECONFIG), expect, hps_err_name(rc), err);
            failures++;
        }
        free(expect);
        free(names[i]);
    }
    assert_int_equal(failures, 0);
}

/* ---- good configs ----------------------------------------------------------------- */

static const char *full_yaml =
    "name: quickstart            # a comment\n"
    "seed: 42\n"
    "objective:\n"
    "  function: sleep\n"
    "  seconds_param: dur\n"
    "metric:\n"
    "  name: loss\n"
    "  goal: maximize\n"
    "space:\n"
    "  x1: {type: float, low: -5, high: 10}\n"
    "  lr: {type: float, low: 1.0e-5, high: 0.1, log: true}\n"
    "  layers: {type: int, low: 1, high: 8, log: True}\n"
    "  opt: {type: categorical, choices: [adam, sgd, 0.5, true, \"0.25\"]}\n"
    "  use_bn: {type: bool}\n"
    "  dur: {type: float, low: 0, high: 0.01}\n"
    "strategy:\n"
    "  name: grid\n"
    "  points: {x1: 7, layers: 3}\n"
    "budget:\n"
    "  max_trials: 100\n"
    "  max_time: 10m\n"
    "parallelism: 4\n"
    "ranks_per_trial: 2\n"
    "output: results\n";

static void test_full_config(void **state)
{
    (void)state;
    hps_config c;
    parse_ok(full_yaml, &c);
    assert_string_equal(c.source, "sweeps/test.yaml");
    assert_int_equal(c.text_len, strlen(full_yaml));
    assert_memory_equal(c.text, full_yaml, c.text_len);
    assert_string_equal(c.name, "quickstart");
    assert_int_equal(c.seed_given, 1);
    assert_true(c.seed == 42);
    assert_int_equal(c.objective.kind, HPS_OBJ_SLEEP);
    assert_string_equal(c.objective.function, "sleep");
    assert_null(c.objective.testfunc);
    assert_int_equal(c.objective.sleep_param, 5);
    assert_string_equal(c.metric, "loss");
    assert_int_equal(c.maximize, 1);

    assert_int_equal(c.space.n_params, 6);
    const hps_param *p = c.space.params;
    assert_string_equal(p[0].name, "x1");
    assert_int_equal(p[0].type, HPS_PARAM_FLOAT);
    assert_true(p[0].low == -5 && p[0].high == 10 && !p[0].log);
    assert_int_equal(p[0].grid_points, 7);
    assert_string_equal(p[1].name, "lr");
    assert_true(p[1].low == 1.0e-5 && p[1].high == 0.1 && p[1].log);
    assert_int_equal(p[1].grid_points, 0);
    assert_string_equal(p[2].name, "layers");
    assert_int_equal(p[2].type, HPS_PARAM_INT);
    assert_true(p[2].low == 1 && p[2].high == 8 && p[2].log);
    assert_int_equal(p[2].grid_points, 3);
    assert_string_equal(p[3].name, "opt");
    assert_int_equal(p[3].type, HPS_PARAM_CATEGORICAL);
    assert_int_equal(p[3].n_choices, 5);
    assert_int_equal(p[3].choices[0].kind, HPS_CHOICE_STRING);
    assert_string_equal(p[3].choices[0].text, "adam");
    assert_string_equal(p[3].choices[1].text, "sgd");
    assert_int_equal(p[3].choices[2].kind, HPS_CHOICE_NUMBER);
    assert_string_equal(p[3].choices[2].text, "0.5");
    assert_true(p[3].choices[2].number == 0.5);
    assert_int_equal(p[3].choices[3].kind, HPS_CHOICE_BOOL);
    assert_string_equal(p[3].choices[3].text, "true");
    assert_true(p[3].choices[3].number == 1);
    assert_int_equal(p[3].choices[4].kind, HPS_CHOICE_STRING);
    assert_string_equal(p[3].choices[4].text, "0.25");
    assert_string_equal(p[4].name, "use_bn");
    assert_int_equal(p[4].type, HPS_PARAM_BOOL);
    assert_int_equal(p[4].n_choices, 0);
    assert_string_equal(p[5].name, "dur");

    assert_string_equal(c.strategy, "grid");
    assert_non_null(c.strategy_ops);
    assert_string_equal(c.strategy_ops->name, "grid");
    assert_int_equal(c.strategy_cfg.n, 0); /* points given per parameter */
    assert_true(c.max_trials == 100);
    assert_true(c.max_time == 600);
    assert_int_equal(c.max_consecutive_failures, 10);
    assert_int_equal(c.parallelism, 4);
    assert_int_equal(c.ranks_per_trial, 2);
    assert_string_equal(c.output, "results");
    hps_config_free(&c);
    assert_null(c.name);
    hps_config_free(&c); /* a freed config frees again harmlessly */
    hps_config_free(NULL);
}

static void test_defaults(void **state)
{
    (void)state;
    hps_config c;
    parse_ok("objective: {function: branin}\n"
             "space:\n"
             "  a: {type: float, low: -5, high: 10}\n"
             "  b: {type: int, low: 0, high: 15}\n",
             &c);
    assert_string_equal(c.name, "test"); /* sweeps/test.yaml */
    assert_int_equal(c.seed_given, 0);
    assert_int_equal(c.objective.kind, HPS_OBJ_TESTFUNC);
    assert_non_null(c.objective.testfunc);
    assert_string_equal(c.objective.testfunc->name, "branin");
    assert_int_equal(c.objective.sleep_param, -1);
    assert_string_equal(c.metric, "objective");
    assert_int_equal(c.maximize, 0);
    assert_string_equal(c.strategy, "random");
    assert_ptr_equal(c.strategy_ops, hps_strategy_find("random"));
    assert_int_equal(c.strategy_cfg.n, 0);
    assert_true(c.max_trials == 0 && c.max_time == 0);
    assert_int_equal(c.max_consecutive_failures, 10);
    assert_int_equal(c.parallelism, 0);
    assert_int_equal(c.ranks_per_trial, 1);
    assert_string_equal(c.output, "runs");
    hps_config_free(&c);

    /* sleep without options: 0.1 s; a source with no usable name: "sweep". */
    const char *y = "objective: {function: sleep}\nspace: {x: {type: bool}}\n";
    assert_int_equal(hps_config_parse(y, strlen(y), "dir/", &c, NULL, 0), HPS_OK);
    assert_int_equal(c.objective.kind, HPS_OBJ_SLEEP);
    assert_true(c.objective.sleep_seconds == 0.1);
    assert_int_equal(c.objective.sleep_param, -1);
    assert_int_equal(c.max_consecutive_failures, 10);
    assert_string_equal(c.name, "sweep");
    hps_config_free(&c);
    assert_int_equal(hps_config_parse(y, strlen(y), "a.b.yml", &c, NULL, 0), HPS_OK);
    assert_string_equal(c.name, "a.b");
    hps_config_free(&c);
}

static void test_strategy_forms(void **state)
{
    (void)state;
    hps_config c;
    parse_ok("objective: {function: noop}\nspace: {x: {type: bool}}\nstrategy: grid\n", &c);
    assert_string_equal(c.strategy, "grid");
    assert_int_equal(c.strategy_cfg.n, 0);
    hps_config_free(&c);

    parse_ok("objective: {function: noop}\nspace: {x: {type: bool}}\n"
             "strategy: {name: random, sampler: sobol}\n",
             &c);
    assert_int_equal(c.strategy_cfg.n, 1);
    assert_string_equal(c.strategy_cfg.keys[0], "sampler");
    assert_string_equal(c.strategy_cfg.values[0], "sobol");
    assert_string_equal(hps_strategy_cfg_str(&c.strategy_cfg, "sampler", "uniform"), "sobol");
    hps_config_free(&c);

    /* A mapping without name is the default strategy; an integral float for an INT
     * option is stored as plain digits so strtol reads it right. */
    parse_ok("objective: {function: noop}\nspace: {x: {type: float, low: 0, high: 1}}\n"
             "strategy: {sampler: halton}\n",
             &c);
    assert_string_equal(c.strategy, "random");
    assert_string_equal(c.strategy_cfg.values[0], "halton");
    hps_config_free(&c);

    parse_ok("objective: {function: noop}\nspace: {x: {type: float, low: 0, high: 1}}\n"
             "strategy: {name: grid, points: 1.0e1}\n",
             &c);
    assert_int_equal(c.strategy_cfg.n, 1);
    assert_string_equal(c.strategy_cfg.keys[0], "points");
    assert_string_equal(c.strategy_cfg.values[0], "10");
    assert_int_equal(hps_strategy_cfg_int(&c.strategy_cfg, "points", 5), 10);
    assert_int_equal(c.space.params[0].grid_points, 0);
    hps_config_free(&c);
}

static void test_scalars(void **state)
{
    (void)state;
    hps_config c;
    /* Aliases resolve; seeds span uint64; YAML booleans in three spellings. */
    parse_ok("objective: {function: sphere}\n"
             "seed: 18446744073709551615\n"
             "space:\n"
             "  a: &range {type: float, low: -1, high: 1, log: FALSE}\n"
             "  b: *range\n"
             "  c: {type: float, low: .5, high: 1e3, log: True}\n",
             &c);
    assert_true(c.seed == UINT64_MAX);
    assert_int_equal(c.space.n_params, 3);
    assert_string_equal(c.space.params[1].name, "b");
    assert_true(c.space.params[1].low == -1 && c.space.params[1].high == 1);
    assert_true(c.space.params[2].low == 0.5 && c.space.params[2].high == 1000);
    assert_int_equal(c.space.params[2].log, 1);
    hps_config_free(&c);

    /* A numeric name keeps its text; block scalars are strings. A choice may not hold
     * a line break (sweep.h5 lists choices one per line: `best` could not read the
     * sweep back), so a literal block is refused and a folded one is fine. */
    parse_ok("name: 2024\nobjective:\n  function: noop\nspace:\n  s:\n    type: categorical\n"
             "    choices:\n      - >-\n        two lines\n        here\n      - 1e-3\n",
             &c);
    assert_string_equal(c.name, "2024");
    assert_string_equal(c.space.params[0].choices[0].text, "two lines here");
    assert_string_equal(c.space.params[0].choices[1].text, "0.001");
    hps_config_free(&c);
    char err[512];
    const char *lines = "objective: {function: noop}\nspace:\n  s:\n    type: categorical\n"
                        "    choices:\n      - |\n        two\n        lines\n";
    assert_int_equal(hps_config_parse(lines, strlen(lines), "t.yaml", &c, err, sizeof err),
                     HPS_ECONFIG);
    assert_non_null(strstr(err, "t.yaml:6:9: space.s.choices: a choice must not contain a line "
                                "break"));
    hps_config_free(&c);

    /* Quoted booleans are strings (for a choice), not booleans. */
    parse_ok("objective: {function: noop}\nspace: {s: {type: categorical, choices: [\"true\", "
             "false, yes]}}\n",
             &c);
    assert_int_equal(c.space.params[0].choices[0].kind, HPS_CHOICE_STRING);
    assert_int_equal(c.space.params[0].choices[1].kind, HPS_CHOICE_BOOL);
    assert_int_equal(c.space.params[0].choices[2].kind, HPS_CHOICE_STRING);
    hps_config_free(&c);

    parse_bad("objective: {function: noop}\nspace: {s: {type: categorical, choices: [\"true\", "
              "true]}}\n",
              "test.yaml:2:50: space.s.choices: duplicate choice 'true'");
    parse_bad("objective: {function: noop}\nspace: {x: {type: bool}}\nseed: 0x10\n",
              "test.yaml:3:7: seed: expected an integer, got the string '0x10'");
    parse_bad("objective: {function: noop}\nspace: {x: {type: float, low: 1_0, high: 20}}\n",
              "expected a number, got the string '1_0'");
}

static void test_errors(void **state)
{
    (void)state;
    hps_config c;
    char err[16];
    /* A short buffer is truncated, never overrun; a NULL buffer is allowed. */
    const char *y = "objective: {function: noop}\n";
    assert_int_equal(hps_config_parse(y, strlen(y), "x.yaml", &c, err, sizeof err), HPS_ECONFIG);
    assert_int_equal(strlen(err), sizeof err - 1);
    hps_config_free(&c);
    assert_int_equal(hps_config_parse(y, strlen(y), "x.yaml", &c, NULL, 0), HPS_ECONFIG);
    hps_config_free(&c);

    char big[256];
    assert_int_equal(hps_config_load(HPS_TEST_DATA_DIR "/bad_configs/no_such_file.yaml", &c, big,
                                     sizeof big),
                     HPS_ENOENT);
    assert_non_null(strstr(big, "no_such_file.yaml"));
    hps_config_free(&c);

    /* Embedded NUL in text: libyaml rejects control characters. */
    const char nul[] = "objective: {function: noop}\nspace: {x: {type: bool}}\nname: a\0b\n";
    assert_int_equal(hps_config_parse(nul, sizeof nul - 1, "n.yaml", &c, big, sizeof big),
                     HPS_ECONFIG);
    assert_non_null(strstr(big, "n.yaml:3:"));
    hps_config_free(&c);

    parse_bad("objective: {function: noop}\nspace: {x: {type: bool}}\nname: \"a\\0b\"\n",
              "test.yaml:3:7: name: the string contains a NUL character");
    parse_bad("objective: {function: rosenbrock}\nspace: {x: {type: float, low: 0, high: 1}}\n",
              "test.yaml:1:23: objective.function: test function 'rosenbrock' takes at least 2 "
              "parameters, the space has 1");
}

static void test_parse_duration(void **state)
{
    (void)state;
    double s = -1;
    assert_int_equal(hps_parse_duration("90", &s), HPS_OK);
    assert_true(s == 90);
    assert_int_equal(hps_parse_duration("90s", &s), HPS_OK);
    assert_true(s == 90);
    assert_int_equal(hps_parse_duration("1.5m", &s), HPS_OK);
    assert_true(s == 90);
    assert_int_equal(hps_parse_duration("2h", &s), HPS_OK);
    assert_true(s == 7200);
    assert_int_equal(hps_parse_duration("1d", &s), HPS_OK);
    assert_true(s == 86400);
    assert_int_equal(hps_parse_duration("0.25", &s), HPS_OK);
    assert_true(s == 0.25);
    assert_int_equal(hps_parse_duration("1e2s", &s), HPS_OK);
    assert_true(s == 100);
    assert_int_equal(hps_parse_duration("0", &s), HPS_OK);
    assert_true(s == 0);
    s = 7;
    const char *bad[] = {"", "s", "m", "10x", "10 m", " 10", "10ms", "-5", "1.5.2",
                         "abc", "10mm", ".inf", "nan", "1e999", "0x10", "5M"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (hps_parse_duration(bad[i], &s) != HPS_EINVAL)
            fail_msg("'%s' accepted as a duration", bad[i]);
    }
    assert_true(s == 7); /* untouched on failure */
    assert_int_equal(hps_parse_duration(NULL, &s), HPS_EINVAL);
}

static const char *diff_base =
    "name: d\nseed: 7\nobjective: {function: branin}\n"
    "space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n"
    "strategy: {name: random, sampler: sobol}\n"
    "budget: {max_trials: 10}\nparallelism: 2\noutput: runs\n";

static int diff_with(const char *other, char *buf, size_t len)
{
    hps_config a, b;
    parse_ok(diff_base, &a);
    parse_ok(other, &b);
    int n = hps_config_diff(&a, &b, buf, len);
    hps_config_free(&a);
    hps_config_free(&b);
    return n;
}

static void test_diff(void **state)
{
    (void)state;
    char buf[1024];
    /* Same sweep, written differently: block style, comments, number spellings,
     * quoting, key order, and the keys a resume may change. */
    assert_int_equal(diff_with("# reformatted\n"
                               "output: elsewhere\n"
                               "parallelism: 16\n"
                               "budget:\n  max_trials: 500\n  max_time: 1h\n"
                               "strategy:\n  sampler: \"sobol\"\n  name: random\n"
                               "space:\n"
                               "  x1:\n    high: 1.0e1\n    low: -5.0\n    type: float\n"
                               "  x2: {type: float, low: 0.0, high: 15, log: false}\n"
                               "objective:\n  function: 'branin'\n"
                               "seed: 7\nname: d\n",
                               buf, sizeof buf),
                     0);
    assert_string_equal(buf, "");

    int n = diff_with("name: d\nseed: 7\nobjective: {function: branin}\n"
                      "space:\n  x1: {type: float, low: -5, high: 12}\n"
                      "  x2: {type: float, low: 0, high: 15}\n"
                      "strategy: {name: random, sampler: sobol}\n",
                      buf, sizeof buf);
    assert_int_equal(n, 1);
    assert_string_equal(buf, "space.x1.high: '10' -> '12'\n");

    /* Absent keys, a changed option, a changed order. */
    n = diff_with("name: d\nobjective: {function: branin}\n"
                  "space:\n  x2: {type: float, low: 0, high: 15}\n"
                  "  x1: {type: float, low: -5, high: 10}\n"
                  "strategy: {name: random, sampler: halton}\nranks_per_trial: 2\n",
                  buf, sizeof buf);
    assert_int_equal(n, 4);
    assert_non_null(strstr(buf, "seed: '7' -> (absent)\n"));
    assert_non_null(strstr(buf, "space: 'x1, x2' -> 'x2, x1'\n"));
    assert_non_null(strstr(buf, "strategy.sampler: 'sobol' -> 'halton'\n"));
    assert_non_null(strstr(buf, "ranks_per_trial: '1' -> '2'\n"));

    /* A key only in the new config; a NULL buffer still counts. */
    n = diff_with("name: d\nseed: 7\nobjective: {function: branin}\n"
                  "space:\n  x1: {type: float, low: -5, high: 10, log: false}\n"
                  "  x2: {type: float, low: 0, high: 15}\n"
                  "strategy: {name: random, sampler: sobol}\n",
                  NULL, 0);
    assert_int_equal(n, 0);

    hps_config a, b;
    parse_ok("objective: {function: noop}\nspace: {o: {type: categorical, choices: [a, 0.5]}}\n",
             &a);
    parse_ok("objective: {function: noop}\nspace: {o: {type: categorical, choices: [a, "
             "\"0.5\"]}, p: {type: bool}}\nmetric: {goal: maximize}\n",
             &b);
    n = hps_config_diff(&a, &b, buf, sizeof buf);
    assert_int_equal(n, 4);
    assert_non_null(strstr(buf, "space.o.choices: '[\"a\", 0.5]' -> '[\"a\", \"0.5\"]'\n"));
    assert_non_null(strstr(buf, "metric.goal: 'minimize' -> 'maximize'\n"));
    assert_non_null(strstr(buf, "space: 'o' -> 'o, p'\n"));
    assert_non_null(strstr(buf, "space.p.type: (absent) -> 'bool'\n"));
    /* A buffer too small is cut, still NUL-terminated. */
    char small[10];
    assert_int_equal(hps_config_diff(&a, &b, small, sizeof small), 4);
    assert_int_equal(strlen(small), sizeof small - 1);
    hps_config_free(&a);
    hps_config_free(&b);

    /* Grid points and the sleep duration are part of the sweep. */
    parse_ok("objective: {function: sleep, seconds: 0.5}\nspace: {x: {type: float, low: 0, "
             "high: 1}}\nstrategy: {name: grid, points: {x: 3}}\n",
             &a);
    parse_ok("objective: {function: sleep, seconds_param: x}\nspace: {x: {type: float, low: 0, "
             "high: 1}}\nstrategy: {name: grid, points: {x: 4}}\n",
             &b);
    n = hps_config_diff(&a, &b, buf, sizeof buf);
    assert_int_equal(n, 3);
    assert_non_null(strstr(buf, "space.x.grid_points: '3' -> '4'\n"));
    assert_non_null(strstr(buf, "objective.seconds: '0.5' -> (absent)\n"));
    assert_non_null(strstr(buf, "objective.seconds_param: (absent) -> 'x'\n"));
    hps_config_free(&a);
    hps_config_free(&b);
}

/* ---- pruners, noise, resources ------------------------------------------------------ */

static const char *const two_d = "space:\n  x1: {type: float, low: -5, high: 10}\n"
                                 "  x2: {type: float, low: 0, high: 15}\n";

/* Parse objective/strategy/budget text followed by the 2-d space. */
static void parse_2d(const char *head, hps_config *cfg)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s", head, two_d);
    parse_ok(yaml, cfg);
}

static void bad_2d(const char *head, const char *want)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s", head, two_d);
    parse_bad(yaml, want);
}

static void test_pruner_config(void **state)
{
    (void)state;
    hps_config c;
    /* No pruner unless one is named; the scalar strategy form has none. */
    parse_2d("objective: {function: branin}\nstrategy: grid\n", &c);
    assert_null(c.pruner);
    assert_null(c.pruner_ops);
    assert_int_equal(c.pruner_cfg.n, 0);
    hps_config_free(&c);

    /* A name: the registered ops, no options, nothing passed to the strategy. */
    parse_2d("objective: {function: branin}\nstrategy: {name: random, pruner: median}\n", &c);
    assert_string_equal(c.strategy, "random");
    assert_int_equal(c.strategy_cfg.n, 0);
    assert_string_equal(c.pruner, "median");
    assert_non_null(c.pruner_ops);
    assert_ptr_equal(c.pruner_ops, hps_pruner_find("median"));
    assert_string_equal(c.pruner_ops->name, "median");
    assert_int_equal(c.pruner_cfg.n, 0);
    hps_config_free(&c);
    assert_null(c.pruner);

    /* A mapping: its options as canonical text, in the order written, next to the
     * strategy's own options (and without a strategy name: random). */
    parse_2d("objective: {function: branin}\n"
             "strategy:\n"
             "  pruner:\n"
             "    n_warmup_steps: 2.0\n"
             "    name: median\n"
             "    n_startup_trials: 5\n"
             "  sampler: sobol\n",
             &c);
    assert_string_equal(c.strategy, "random");
    assert_int_equal(c.strategy_cfg.n, 1);
    assert_string_equal(c.strategy_cfg.keys[0], "sampler");
    assert_string_equal(c.pruner, "median");
    assert_ptr_equal(c.pruner_ops, hps_pruner_find("median"));
    assert_int_equal(c.pruner_cfg.n, 2);
    assert_string_equal(c.pruner_cfg.keys[0], "n_warmup_steps");
    assert_string_equal(c.pruner_cfg.values[0], "2");
    assert_string_equal(c.pruner_cfg.keys[1], "n_startup_trials");
    assert_string_equal(c.pruner_cfg.values[1], "5");
    assert_null(c.pruner_cfg.keys[2]);
    assert_int_equal(hps_strategy_cfg_int(&c.pruner_cfg, "n_startup_trials", 0), 5);
    assert_int_equal(hps_strategy_cfg_int(&c.pruner_cfg, "n_warmup_steps", 0), 2);
    hps_config_free(&c);
    assert_null(c.pruner_cfg.keys);

    /* Any strategy takes a pruner; the mapping form with just a name. */
    parse_2d("objective: {function: branin}\nstrategy: {name: grid, points: 3, "
             "pruner: {name: median}}\n",
             &c);
    assert_string_equal(c.pruner, "median");
    assert_int_equal(c.pruner_cfg.n, 0);
    assert_int_equal(c.strategy_cfg.n, 1);
    hps_config_free(&c);

    /* Messages name the pruner's own paths. */
    bad_2d("objective: {function: branin}\nstrategy: {pruner: {name: median, n_startup_trial: 5}}\n",
           "test.yaml:2:35: strategy.pruner: unknown option 'n_startup_trial' for pruner 'median'; "
           "did you mean 'n_startup_trials'?");
    bad_2d("objective: {function: branin}\nstrategy: {pruner: {name: median, zzzzzzzz: 5}}\n",
           "for pruner 'median'; options of 'median': ");
    bad_2d("objective: {function: branin}\nstrategy: {pruner: {name: median, nam: 5}}\n",
           "did you mean 'name'?");
    bad_2d("objective: {function: branin}\nstrategy: {pruner: {name: median, "
           "n_warmup_steps: -1}}\n",
           "test.yaml:2:51: strategy.pruner.n_warmup_steps: -1 is out of range; expected an "
           "integer in [");
    bad_2d("objective: {function: branin}\nstrategy: {pruner: {name: median, "
           "n_startup_trials: many}}\n",
           "test.yaml:2:53: strategy.pruner.n_startup_trials: expected an integer, got the "
           "string 'many'");
    bad_2d("objective: {function: branin}\nstrategy: {pruner: {name: [median]}}\n",
           "test.yaml:2:27: strategy.pruner.name: expected a string, got a list");
    bad_2d("objective: {function: branin}\nstrategy: {pruner: true}\n",
           "test.yaml:2:20: strategy.pruner: expected a pruner name or a mapping with 'name' "
           "and options, got the boolean true");
    bad_2d("objective: {function: branin}\nstrategy: {pruner: Median}\n",
           "test.yaml:2:20: strategy.pruner: unknown pruner 'Median'; did you mean 'median'?");
    /* The first problem in document order: the pruner before a later strategy option. */
    bad_2d("objective: {function: branin}\nstrategy: {pruner: mediam, sampler: nope}\n",
           "test.yaml:2:20: strategy.pruner: unknown pruner 'mediam'");
    bad_2d("objective: {function: branin}\nstrategy: {sampler: nope, pruner: mediam}\n",
           "test.yaml:2:21: strategy.sampler: unknown value 'nope'");
}

static void test_noise_and_resource(void **state)
{
    (void)state;
    hps_config c;
    parse_2d("objective: {function: branin, noise: 0.5}\nbudget: {max_resource: 1000}\n", &c);
    assert_int_equal(c.objective.kind, HPS_OBJ_TESTFUNC);
    assert_true(c.objective.noise == 0.5);
    assert_true(c.max_resource == 1000);
    hps_config_free(&c);

    /* Defaults: no noise, no resource limit; noise 0 and an integer are fine, and a
     * fractional resource budget too. */
    parse_2d("objective: {function: branin}\n", &c);
    assert_true(c.objective.noise == 0);
    assert_true(c.max_resource == 0);
    hps_config_free(&c);
    parse_2d("objective: {function: branin, noise: 0}\n"
             "budget: {max_trials: 5, max_resource: 2.5, max_time: 1h}\n",
             &c);
    assert_true(c.objective.noise == 0);
    assert_true(c.max_resource == 2.5);
    assert_true(c.max_trials == 5 && c.max_time == 3600);
    hps_config_free(&c);
    parse_2d("objective: {function: branin, noise: 3}\n", &c);
    assert_true(c.objective.noise == 3);
    hps_config_free(&c);

    bad_2d("objective: {function: branin, noise: \"0.5\"}\n",
           "test.yaml:1:38: objective.noise: expected a number, got the string '0.5'");
    bad_2d("objective: {function: branin, noise: -1e-9}\n",
           "test.yaml:1:38: objective.noise: must be >= 0, got -1e-9");
    bad_2d("objective: {function: branin, noise: [1]}\n",
           "objective.noise: expected a number, got a list");
    parse_bad("objective: {command: [run], noise: 0}\nspace: {x: {type: bool}}\n",
              "test.yaml:1:36: objective.noise: only for test functions, not with "
              "objective.command");
    parse_bad("objective: {function: noop, noise: 0}\nspace: {x: {type: bool}}\n",
              "test.yaml:1:36: objective.noise: only for test functions, not with function: noop");
    parse_bad("objective: {function: noise}\nspace: {x: {type: bool}}\n",
              "objective.function: unknown function 'noise'");
    parse_bad("objective: {function: branin, nosie: 1}\nspace: {x: {type: bool}}\n",
              "test.yaml:1:31: objective: unknown key 'nosie'; did you mean 'noise'?");
    bad_2d("objective: {function: branin}\nbudget: {max_resource: 0.0}\n",
           "test.yaml:2:24: budget.max_resource: must be > 0, got 0.0");
    bad_2d("objective: {function: branin}\nbudget: {max_resource: true}\n",
           "budget.max_resource: expected a number, got the boolean true");
    bad_2d("objective: {function: branin}\nbudget: {max_resource: -.inf}\n",
           "budget.max_resource: expected a finite number");
    bad_2d("objective: {function: branin}\nbudget: {max_resources: 5}\n",
           "budget: unknown key 'max_resources'; did you mean 'max_resource'?");
}

/* A HPS_OPT_STRING option (hyperband's `resource`): any string or number scalar,
 * kept exactly as written. */
static void test_string_option(void **state)
{
    (void)state;
    const hps_strategy_ops *hb = hps_strategy_find("hyperband");
    assert_non_null(hb);
    int has_resource = 0;
    for (int i = 0; hb->options && hb->options[i].name; i++)
        if (!strcmp(hb->options[i].name, "resource") && hb->options[i].type == HPS_OPT_STRING)
            has_resource = 1;
    assert_true(has_resource);

    static const struct {
        const char *written, *want;
    } cases[] = {
        {"epochs", "epochs"}, {"\"steps\"", "steps"},  {"'1e3'", "1e3"},
        {"1e3", "1e3"},       {"012", "012"},          {"0.50", "0.50"},
        {"\"true\"", "true"}, {"'a b: c'", "a b: c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char head[256];
        snprintf(head, sizeof head,
                 "objective: {function: branin}\nstrategy:\n  name: hyperband\n  resource: %s\n",
                 cases[i].written);
        hps_config c;
        parse_2d(head, &c);
        assert_string_equal(c.strategy, "hyperband");
        assert_ptr_equal(c.strategy_ops, hb);
        assert_int_equal(c.strategy_cfg.n, 1);
        assert_string_equal(c.strategy_cfg.keys[0], "resource");
        if (strcmp(c.strategy_cfg.values[0], cases[i].want) != 0)
            fail_msg("resource: %s stored as '%s', want '%s'", cases[i].written,
                     c.strategy_cfg.values[0], cases[i].want);
        assert_string_equal(hps_strategy_cfg_str(&c.strategy_cfg, "resource", "x"),
                            cases[i].want);
        hps_config_free(&c);
    }

    /* Together with a pruner and the budget's resource limit. */
    hps_config c;
    parse_2d("objective: {function: branin, noise: 0.25}\n"
             "strategy:\n  name: hyperband\n  resource: epochs\n  pruner: median\n"
             "budget: {max_resource: 1000}\n",
             &c);
    assert_string_equal(hps_strategy_cfg_str(&c.strategy_cfg, "resource", NULL), "epochs");
    assert_int_equal(c.strategy_cfg.n, 1);
    assert_string_equal(c.pruner, "median");
    assert_true(c.objective.noise == 0.25);
    assert_true(c.max_resource == 1000);
    hps_config_free(&c);

    bad_2d("objective: {function: branin}\nstrategy: {name: hyperband, resource: {a: 1}}\n",
           "test.yaml:2:39: strategy.resource: expected a string or number, got a mapping");
    bad_2d("objective: {function: branin}\nstrategy: {name: hyperband, resource: [a]}\n",
           "test.yaml:2:39: strategy.resource: expected a string or number, got a list");
    bad_2d("objective: {function: branin}\nstrategy: {name: hyperband, resource: false}\n",
           "test.yaml:2:39: strategy.resource: expected a string or number, got the boolean "
           "false (quote it to pass it as text)");
    bad_2d("objective: {function: branin}\nstrategy: {name: hyperband, resource: null}\n",
           "strategy.resource: expected a string or number, got null");
    bad_2d("objective: {function: branin}\nstrategy: {name: hyperband, resource: \"\"}\n",
           "test.yaml:2:39: strategy.resource: must not be empty");
    bad_2d("objective: {function: branin}\nstrategy: {name: hyperband, resource: \"a\\0b\"}\n",
           "strategy.resource: the string contains a NUL character");
}

static const char *pruner_diff_base =
    "objective: {function: branin, noise: 0.5}\n"
    "space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n"
    "strategy:\n  name: random\n  pruner: {name: median, n_startup_trials: 5}\n"
    "budget: {max_resource: 100}\n";

static int pruner_diff(const char *other, char *buf, size_t len)
{
    hps_config a, b;
    parse_ok(pruner_diff_base, &a);
    parse_ok(other, &b);
    int n = hps_config_diff(&a, &b, buf, len);
    hps_config_free(&a);
    hps_config_free(&b);
    return n;
}

static void test_pruner_diff(void **state)
{
    (void)state;
    char buf[1024];
    /* Reformatted, numbers respelled, the resource budget changed: the same sweep. */
    assert_int_equal(pruner_diff("budget: {max_resource: 5000, max_trials: 3}\n"
                                 "strategy:\n  pruner:\n    n_startup_trials: 5.0\n"
                                 "    name: 'median'\n  name: random\n"
                                 "space:\n  x1: {type: float, low: -5, high: 10}\n"
                                 "  x2: {type: float, low: 0, high: 15}\n"
                                 "objective: {noise: 5e-1, function: branin}\n",
                                 buf, sizeof buf),
                     0);
    assert_string_equal(buf, "");

    /* A changed pruner option and a changed noise. */
    int n = pruner_diff("objective: {function: branin, noise: 0.25}\n"
                        "space:\n  x1: {type: float, low: -5, high: 10}\n"
                        "  x2: {type: float, low: 0, high: 15}\n"
                        "strategy: {pruner: {name: median, n_startup_trials: 10}}\n",
                        buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_non_null(strstr(buf, "objective.noise: '0.5' -> '0.25'\n"));
    assert_non_null(strstr(buf, "strategy.pruner.n_startup_trials: '5' -> '10'\n"));

    /* Options added and removed; no pruner at all; no noise (0). */
    n = pruner_diff("objective: {function: branin}\n"
                    "space:\n  x1: {type: float, low: -5, high: 10}\n"
                    "  x2: {type: float, low: 0, high: 15}\n"
                    "strategy: {pruner: {name: median, n_warmup_steps: 1}}\n",
                    buf, sizeof buf);
    assert_int_equal(n, 3);
    assert_non_null(strstr(buf, "objective.noise: '0.5' -> '0'\n"));
    assert_non_null(strstr(buf, "strategy.pruner.n_startup_trials: '5' -> (absent)\n"));
    assert_non_null(strstr(buf, "strategy.pruner.n_warmup_steps: (absent) -> '1'\n"));
    n = pruner_diff("objective: {function: branin, noise: 0.5}\n"
                    "space:\n  x1: {type: float, low: -5, high: 10}\n"
                    "  x2: {type: float, low: 0, high: 15}\n",
                    buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_non_null(strstr(buf, "strategy.pruner: 'median' -> (absent)\n"));
    assert_non_null(strstr(buf, "strategy.pruner.n_startup_trials: '5' -> (absent)\n"));

    /* -0 is no noise. */
    hps_config a, b;
    parse_2d("objective: {function: branin, noise: -0.0}\n", &a);
    parse_2d("objective: {function: branin}\n", &b);
    assert_int_equal(hps_config_diff(&a, &b, buf, sizeof buf), 0);
    hps_config_free(&a);
    hps_config_free(&b);
}

/* ---- external commands ------------------------------------------------------------ */

static const char *command_yaml =
    "objective:\n"
    "  command: [python3, train.py, --lr, \"{lr}\", --layers, \"{layers}\", --epochs,\n"
    "            \"{budget}\", \"{{literal}}\", 0.10, \"--dir={trial_dir}/x\",\n"
    "            \"{trial_id}-{seed}}}\", 'a \"quoted\" arg']\n"
    "  workdir: .\n"
    "  env: {OMP_NUM_THREADS: \"4\", BATCH: 64, ZED: 1.5e-3, EMPTY: \"\", _x1: on}\n"
    "  timeout: 2h\n"
    "  retries: 2\n"
    "  gpus_per_trial: 1\n"
    "  kill_grace: 30s\n"
    "space:\n"
    "  lr: {type: float, low: 1.0e-4, high: 0.1, log: true}\n"
    "  layers: {type: int, low: 1, high: 8}\n"
    "budget: {max_trials: 20, max_consecutive_failures: 0}\n";

static int parse_at(const char *yaml, const char *source, hps_config *cfg)
{
    char err[1024];
    int rc = hps_config_parse(yaml, strlen(yaml), source, cfg, err, sizeof err);
    if (rc != HPS_OK)
        print_error("%s: %s\n", source, err);
    return rc;
}

static void test_command_config(void **state)
{
    (void)state;
    hps_config c;
    assert_int_equal(parse_at(command_yaml, "a/b/c.yaml", &c), HPS_OK);
    const hps_objective_cfg *o = &c.objective;
    assert_int_equal(o->kind, HPS_OBJ_COMMAND);
    assert_string_equal(o->function, "command");
    assert_null(o->testfunc);
    static const char *const want[] = {"python3",      "train.py",         "--lr",
                                       "{lr}",         "--layers",         "{layers}",
                                       "--epochs",     "{budget}",         "{{literal}}",
                                       "0.10",         "--dir={trial_dir}/x", "{trial_id}-{seed}}}",
                                       "a \"quoted\" arg"};
    assert_int_equal(o->argc, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < o->argc; i++)
        assert_string_equal(o->argv[i], want[i]);
    assert_null(o->argv[o->argc]); /* NULL-terminated for exec */
    assert_string_equal(o->workdir, "a/b/.");
    /* In the order written; numbers keep their text; `on` is a string in YAML 1.2. */
    static const char *const keys[] = {"OMP_NUM_THREADS", "BATCH", "ZED", "EMPTY", "_x1"};
    static const char *const values[] = {"4", "64", "1.5e-3", "", "on"};
    assert_int_equal(o->n_env, 5);
    for (int i = 0; i < o->n_env; i++) {
        assert_string_equal(o->env_keys[i], keys[i]);
        assert_string_equal(o->env_values[i], values[i]);
    }
    assert_true(o->timeout == 7200);
    assert_int_equal(o->retries, 2);
    assert_int_equal(o->gpus_per_trial, 1);
    assert_true(o->kill_grace == 30);
    assert_true(c.max_trials == 20);
    assert_int_equal(c.max_consecutive_failures, 0);
    hps_config_free(&c);
    assert_null(c.objective.argv);
    assert_null(c.objective.workdir);
    hps_config_free(&c);
}

static void test_command_defaults(void **state)
{
    (void)state;
    static const char *const base = "objective: {command: [./run]}\nspace: {x: {type: bool}}\n";
    hps_config c;
    assert_int_equal(parse_at(base, "a/b/c.yaml", &c), HPS_OK);
    assert_int_equal(c.objective.argc, 1);
    assert_string_equal(c.objective.argv[0], "./run");
    assert_string_equal(c.objective.workdir, "a/b");
    assert_int_equal(c.objective.n_env, 0);
    assert_null(c.objective.env_keys);
    assert_null(c.objective.env_values);
    assert_true(c.objective.timeout == 0);
    assert_int_equal(c.objective.retries, 0);
    assert_int_equal(c.objective.gpus_per_trial, 0);
    assert_true(c.objective.kill_grace == 10);
    assert_int_equal(c.objective.sleep_param, -1);
    assert_int_equal(c.max_consecutive_failures, 10);
    hps_config_free(&c);

    /* The directory of the source as given: none ("."), the root, an absolute one. */
    static const struct {
        const char *workdir, *source, *want;
    } cases[] = {
        {NULL, "c.yaml", "."},
        {NULL, "/c.yaml", "/"},
        {NULL, "dir/", "dir"},
        {".", "c.yaml", "./."},
        {"sub/dir", "/abs/sw/c.yaml", "/abs/sw/sub/dir"},
        {"..", "/c.yaml", "/.."},
        {"/data/run", "a/b/c.yaml", "/data/run"},
        {"/", "c.yaml", "/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        if (cases[i].workdir)
            snprintf(yaml, sizeof yaml, "objective: {command: [./run], workdir: '%s'}\n"
                                        "space: {x: {type: bool}}\n", cases[i].workdir);
        else
            snprintf(yaml, sizeof yaml, "%s", base);
        assert_int_equal(parse_at(yaml, cases[i].source, &c), HPS_OK);
        if (strcmp(c.objective.workdir, cases[i].want) != 0)
            fail_msg("workdir %s from %s: want %s, got %s", cases[i].workdir, cases[i].source,
                     cases[i].want, c.objective.workdir);
        hps_config_free(&c);
    }

    /* kill_grace may be 0; a plain number is seconds; numbers in argv keep their text;
     * a placeholder may be the whole program. */
    parse_ok("objective:\n  command: [\"{trial_dir}/bin\", 1e3, -5, \"{{}}\", \"}}{{\"]\n"
             "  kill_grace: 0\n  timeout: 90\nspace: {x: {type: bool}}\n",
             &c);
    assert_true(c.objective.kill_grace == 0);
    assert_true(c.objective.timeout == 90);
    assert_int_equal(c.objective.argc, 5);
    assert_string_equal(c.objective.argv[1], "1e3");
    assert_string_equal(c.objective.argv[2], "-5");
    hps_config_free(&c);

    /* Names like the built-in placeholders are parameters only for functions. */
    parse_ok("objective: {function: noop}\nspace: {seed: {type: bool}}\n", &c);
    hps_config_free(&c);
    parse_bad("objective: {command: [run, \"{x}\"]}\nspace: {budget: {type: bool}}\n",
              "test.yaml:2:9: space.budget: parameter name 'budget' clashes with the {budget} "
              "placeholder");
    /* A placeholder longer than any shown name is cut in the message. */
    char longp[512];
    snprintf(longp, sizeof longp, "objective: {command: [run, \"{%0200d}\"]}\n"
                                  "space: {x: {type: bool}}\n", 0);
    parse_bad(longp, "unknown placeholder '{0000");
    parse_bad("objective: {command: [run, \"a{b{c}\"]}\nspace: {c: {type: bool}}\n",
              "test.yaml:1:28: objective.command[1]: unclosed '{' in 'a{b{c}'");
    parse_bad("objective: {command: [run, ~]}\nspace: {x: {type: bool}}\n",
              "objective.command[1]: expected a string or number, got null (quote it");
    parse_bad("objective: {command: [run], env: {A: ~}}\nspace: {x: {type: bool}}\n",
              "test.yaml:1:38: objective.env.A: expected a string or number, got null");
}

static const char *cmd_diff_base =
    "objective:\n  command: [python3, train.py, --lr, \"{lr}\"]\n  workdir: .\n"
    "  env: {OMP_NUM_THREADS: \"4\", MODE: fast}\n  timeout: 1h\n"
    "space: {lr: {type: float, low: 0.001, high: 0.1}}\n"
    "budget: {max_consecutive_failures: 3}\n";

static int cmd_diff(const char *src_a, const char *other, const char *src_b, char *buf,
                    size_t len)
{
    hps_config a, b;
    assert_int_equal(parse_at(cmd_diff_base, src_a, &a), HPS_OK);
    assert_int_equal(parse_at(other, src_b, &b), HPS_OK);
    int n = hps_config_diff(&a, &b, buf, len);
    hps_config_free(&a);
    hps_config_free(&b);
    return n;
}

static void test_command_diff(void **state)
{
    (void)state;
    char buf[2048];
    /* Read from elsewhere (the resolved workdir differs, the written one does not),
     * reformatted, with the budget changed: the same sweep. */
    assert_int_equal(cmd_diff("x/sweep.yaml",
                              "budget: {max_consecutive_failures: 0, max_trials: 5}\n"
                              "space: {lr: {type: float, low: 1e-3, high: 0.1}}\n"
                              "objective:\n  timeout: 60m\n  workdir: '.'\n"
                              "  env:\n    OMP_NUM_THREADS: '4'\n    MODE: \"fast\"\n"
                              "  command:\n  - python3\n  - train.py\n  - --lr\n  - '{lr}'\n",
                              "/elsewhere/sweep.yaml", buf, sizeof buf),
                     0);
    assert_string_equal(buf, "");

    /* A changed argument and a changed env value. */
    int n = cmd_diff("x/sweep.yaml",
                     "objective:\n  command: [python3, train.py, --lr, \"{lr}\", --fast]\n"
                     "  workdir: .\n  env: {OMP_NUM_THREADS: \"8\", MODE: fast}\n  timeout: 1h\n"
                     "space: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                     "x/sweep.yaml", buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_non_null(strstr(buf, "objective.command: '[\"python3\", \"train.py\", \"--lr\", "
                                "\"{lr}\"]' -> '[\"python3\", \"train.py\", \"--lr\", \"{lr}\", "
                                "\"--fast\"]'\n"));
    assert_non_null(strstr(buf, "objective.env.OMP_NUM_THREADS: '4' -> '8'\n"));

    /* The other command keys; an absent workdir is the config's directory ("."). */
    n = cmd_diff("x/sweep.yaml",
                 "objective:\n  command: [python3, train.py, --lr, \"{lr}\"]\n"
                 "  env: {MODE: fast, EXTRA: 1}\n  timeout: 2h\n  retries: 1\n"
                 "  gpus_per_trial: 2\n  kill_grace: 1m\n"
                 "space: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                 "x/sweep.yaml", buf, sizeof buf);
    assert_int_equal(n, 6);
    assert_non_null(strstr(buf, "objective.env.OMP_NUM_THREADS: '4' -> (absent)\n"));
    assert_non_null(strstr(buf, "objective.env.EXTRA: (absent) -> '1'\n"));
    assert_non_null(strstr(buf, "objective.timeout: '3600' -> '7200'\n"));
    assert_non_null(strstr(buf, "objective.retries: '0' -> '1'\n"));
    assert_non_null(strstr(buf, "objective.gpus_per_trial: '0' -> '2'\n"));
    assert_non_null(strstr(buf, "objective.kill_grace: '10' -> '60'\n"));

    /* workdir compared as written; quotes and backslashes in argv stay distinct. */
    n = cmd_diff("x/sweep.yaml",
                 "objective:\n  command: [python3, train.py, --lr, '\"{lr}\"']\n"
                 "  workdir: ../data\n  env: {OMP_NUM_THREADS: \"4\", MODE: fast}\n"
                 "  timeout: 1h\nspace: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                 "x/sweep.yaml", buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_non_null(strstr(buf, "objective.workdir: '.' -> '../data'\n"));
    assert_non_null(strstr(buf, "\"--lr\", \"\\\"{lr}\\\"\"]'\n"));

    /* From a function to a command. */
    hps_config a, b;
    parse_ok("objective: {function: noop}\nspace: {lr: {type: float, low: 0.001, high: 0.1}}\n",
             &a);
    assert_int_equal(parse_at(cmd_diff_base, "s.yaml", &b), HPS_OK);
    n = hps_config_diff(&a, &b, buf, sizeof buf);
    assert_int_equal(n, 11);
    assert_non_null(strstr(buf, "objective.function: 'noop' -> 'command'\n"));
    assert_non_null(strstr(buf, "objective.workdir: (absent) -> '.'\n"));
    assert_non_null(strstr(buf, "objective.launch: (absent) -> 'leader'\n"));
    hps_config_free(&a);
    hps_config_free(&b);
}

/* objective.plugin: the path joined to the config's directory, options as text in
 * the order written (booleans as true/false), retries defaulting to 1, the GPU
 * keys; launch: group for a command, with its GPU keys. */
static void test_plugin_config(void **state)
{
    (void)state;
    hps_config c;
    assert_int_equal(parse_at("objective:\n  plugin: build/libm.so\n"
                              "  options: {epochs: 10, data: \"a b\", fast: true, lr: 1e-3}\n"
                              "  gpus_per_rank: 2\n  share_gpus: true\n"
                              "space: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                              "sweeps/p.yaml", &c),
                     HPS_OK);
    assert_int_equal(c.objective.kind, HPS_OBJ_PLUGIN);
    assert_string_equal(c.objective.function, "plugin");
    assert_string_equal(c.objective.plugin, "sweeps/build/libm.so");
    assert_int_equal(c.objective.n_options, 4);
    const char *keys[] = {"epochs", "data", "fast", "lr"};
    const char *values[] = {"10", "a b", "true", "1e-3"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(c.objective.option_keys[i], keys[i]);
        assert_string_equal(c.objective.option_values[i], values[i]);
    }
    assert_int_equal(c.objective.retries, 1);
    assert_int_equal(c.objective.gpus_per_rank, 2);
    assert_int_equal(c.objective.share_gpus, 1);
    assert_true(hps_objective_cfg_every_rank(&c.objective));
    hps_config_free(&c);

    assert_int_equal(parse_at("objective: {plugin: /opt/libm.so, retries: 0}\n"
                              "space: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                              "p.yaml", &c),
                     HPS_OK);
    assert_string_equal(c.objective.plugin, "/opt/libm.so");
    assert_int_equal(c.objective.retries, 0);
    assert_int_equal(c.objective.n_options, 0);
    assert_int_equal(c.objective.gpus_per_rank, -1); /* the default: decided per node */
    assert_int_equal(c.objective.share_gpus, 0);
    hps_config_free(&c);

    assert_int_equal(parse_at("objective: {command: [python3, t.py], launch: group,\n"
                              "            gpus_per_rank: 1}\n"
                              "space: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                              "p.yaml", &c),
                     HPS_OK);
    assert_int_equal(c.objective.kind, HPS_OBJ_COMMAND);
    assert_int_equal(c.objective.launch, HPS_LAUNCH_GROUP);
    assert_int_equal(c.objective.gpus_per_rank, 1);
    assert_true(hps_objective_cfg_every_rank(&c.objective));
    hps_config_free(&c);

    assert_int_equal(parse_at("objective: {command: [python3, t.py], launch: leader}\n"
                              "space: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                              "p.yaml", &c),
                     HPS_OK);
    assert_int_equal(c.objective.launch, HPS_LAUNCH_LEADER);
    assert_false(hps_objective_cfg_every_rank(&c.objective));
    hps_config_free(&c);
}

/* A resume must keep the plugin (as written), its options, retries and GPU keys. */
static void test_plugin_diff(void **state)
{
    (void)state;
    const char *base = "objective:\n  plugin: lib/libm.so\n  options: {epochs: 10}\n"
                       "space: {lr: {type: float, low: 0.001, high: 0.1}}\n";
    hps_config a, b;
    char buf[2048];
    assert_int_equal(parse_at(base, "x/s.yaml", &a), HPS_OK);
    /* The same file read from elsewhere: the path as written is the same. */
    assert_int_equal(parse_at(base, "/elsewhere/s.yaml", &b), HPS_OK);
    assert_int_equal(hps_config_diff(&a, &b, buf, sizeof buf), 0);
    hps_config_free(&b);
    assert_int_equal(parse_at("objective:\n  plugin: lib/libn.so\n  options: {epochs: 12, x: 1}\n"
                              "  retries: 3\n  gpus_per_rank: 0\n  share_gpus: true\n"
                              "space: {lr: {type: float, low: 0.001, high: 0.1}}\n",
                              "x/s.yaml", &b),
                     HPS_OK);
    int n = hps_config_diff(&a, &b, buf, sizeof buf);
    assert_int_equal(n, 6);
    assert_non_null(strstr(buf, "objective.plugin: 'lib/libm.so' -> 'lib/libn.so'\n"));
    assert_non_null(strstr(buf, "objective.options.epochs: '10' -> '12'\n"));
    assert_non_null(strstr(buf, "objective.options.x: (absent) -> '1'\n"));
    assert_non_null(strstr(buf, "objective.retries: '1' -> '3'\n"));
    assert_non_null(strstr(buf, "objective.gpus_per_rank: 'default' -> '0'\n"));
    assert_non_null(strstr(buf, "objective.share_gpus: 'false' -> 'true'\n"));
    hps_config_free(&a);
    hps_config_free(&b);
}

/* Every prefix and many one-byte mutations of a full config: each parse either
 * succeeds or fails with a positioned message, and (under ASan) leaks nothing. */
static void mutate_all(const char *yaml)
{
    size_t len = strlen(yaml);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    static const char repl[] = {'x', ':', '-', '[', '\n', '0', ' ', '&', '*', '{', '}', '"'};
    int ok = 0, bad = 0;
    for (size_t i = 0; i <= len; i++) {
        for (size_t r = 0; r <= sizeof repl; r++) {
            memcpy(buf, yaml, len + 1);
            size_t n = len;
            if (r == sizeof repl)
                n = i; /* the prefix */
            else if (i < len)
                buf[i] = repl[r];
            else
                continue;
            hps_config c;
            char err[512];
            int rc = hps_config_parse(buf, n, "m.yaml", &c, err, sizeof err);
            if (rc == HPS_OK) {
                ok++;
            } else {
                if (rc != HPS_ECONFIG || strncmp(err, "m.yaml:", 7) != 0)
                    fail_msg("mutation at %zu: %s: %s", i, hps_err_name(rc), err);
                bad++;
            }
            hps_config_free(&c);
        }
    }
    free(buf);
    assert_true(ok > 0 && bad > 0);
}

static const char *pruner_yaml =
    "objective: {function: branin, noise: 0.5}\n"
    "space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n"
    "strategy:\n  name: random\n  pruner: {name: median, n_startup_trials: 5}\n"
    "budget: {max_resource: 81}\n";

static void test_mutations(void **state)
{
    (void)state;
    mutate_all(full_yaml);
    mutate_all(command_yaml);
    mutate_all(pruner_yaml);
}

/* objective.trainer: the dataset joined to the config's directory, options as text,
 * retries 1, the GPU keys, every rank; a multi-fidelity strategy's max_resource as
 * max_epochs (the default 81 too), none for others; the positions of keys kept. */
static void test_trainer_config(void **state)
{
    (void)state;
    hps_config c;
    assert_int_equal(parse_at("objective:\n  trainer: mlp\n  dataset: data/d.h5\n"
                              "  options: {hidden_layers: 3, nesterov: true}\n"
                              "  gpus_per_rank: 0\n"
                              "space:\n  learning_rate: {type: float, low: 0.001, high: 0.1}\n"
                              "  optimizer: {type: categorical, choices: [sgd, adam]}\n"
                              "strategy: {name: asha, min_resource: 1, max_resource: 27}\n",
                              "sweeps/t.yaml", &c),
                     HPS_OK);
    assert_int_equal(c.objective.kind, HPS_OBJ_TRAINER);
    assert_string_equal(c.objective.function, "trainer");
    assert_string_equal(c.objective.trainer, "mlp");
    assert_string_equal(c.objective.dataset, "sweeps/data/d.h5");
    assert_int_equal(c.objective.n_options, 2);
    assert_string_equal(c.objective.option_keys[1], "nesterov");
    assert_string_equal(c.objective.option_values[1], "true");
    assert_int_equal(c.objective.retries, 1);
    assert_int_equal(c.objective.gpus_per_rank, 0);
    assert_int_equal(c.objective.max_epochs, 27);
    assert_true(hps_objective_cfg_every_rank(&c.objective));
    int line = 0, col = 0;
    assert_int_equal(hps_config_where(&c, "space.optimizer", 0, &line, &col), HPS_OK);
    assert_int_equal(line, 8);
    assert_int_equal(col, 3);
    assert_int_equal(hps_config_where(&c, "space.optimizer.choices[1]", 1, &line, &col), HPS_OK);
    assert_int_equal(line, 8);
    assert_int_equal(col, 49);
    assert_int_equal(hps_config_where(&c, "objective.options.nesterov", 1, &line, &col), HPS_OK);
    assert_int_equal(line, 4);
    assert_int_equal(col, 41);
    assert_int_equal(hps_config_where(&c, "metric.name", 1, &line, &col), HPS_ENOENT);
    char err[256];
    assert_int_equal(hps_config_error_at(&c, "space.optimizer", 0, err, sizeof err, "x %d", 1),
                     HPS_ECONFIG);
    assert_string_equal(err, "sweeps/t.yaml:8:3: x 1");
    hps_config_error_at(&c, "nowhere", 0, err, sizeof err, "y");
    assert_string_equal(err, "sweeps/t.yaml: y");
    hps_config_free(&c);

    assert_int_equal(parse_at("objective: {trainer: mlp, dataset: /d.h5, retries: 0}\n"
                              "space: {dropout: {type: float, low: 0, high: 0.5}}\n"
                              "strategy: hyperband\n", "t.yaml", &c),
                     HPS_OK);
    assert_string_equal(c.objective.dataset, "/d.h5");
    assert_int_equal(c.objective.retries, 0);
    assert_int_equal(c.objective.max_epochs, 81); /* the strategies' default */
    hps_config_free(&c);
    assert_int_equal(parse_at("objective: {trainer: mlp, dataset: d.h5}\n"
                              "space: {dropout: {type: float, low: 0, high: 0.5}}\n"
                              "strategy: gp\n", "t.yaml", &c),
                     HPS_OK);
    assert_int_equal(c.objective.max_epochs, 0);
    hps_config_free(&c);
}

/* A resume must keep the trainer, its dataset (as written), options and retries. */
static void test_trainer_diff(void **state)
{
    (void)state;
    const char *base = "objective: {trainer: mlp, dataset: d/a.h5, options: {threads: 1}}\n"
                       "space: {dropout: {type: float, low: 0, high: 0.5}}\n";
    hps_config a, b;
    char buf[2048];
    assert_int_equal(parse_at(base, "x/s.yaml", &a), HPS_OK);
    assert_int_equal(parse_at(base, "/elsewhere/s.yaml", &b), HPS_OK);
    assert_int_equal(hps_config_diff(&a, &b, buf, sizeof buf), 0);
    hps_config_free(&b);
    assert_int_equal(parse_at("objective: {trainer: mlp, dataset: d/b.h5, retries: 2,\n"
                              "            options: {threads: 2}}\n"
                              "space: {dropout: {type: float, low: 0, high: 0.5}}\n",
                              "x/s.yaml", &b),
                     HPS_OK);
    assert_int_equal(hps_config_diff(&a, &b, buf, sizeof buf), 3);
    assert_non_null(strstr(buf, "objective.dataset: 'd/a.h5' -> 'd/b.h5'\n"));
    assert_non_null(strstr(buf, "objective.options.threads: '1' -> '2'\n"));
    assert_non_null(strstr(buf, "objective.retries: '1' -> '2'\n"));
    hps_config_free(&a);
    hps_config_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_corpus),    cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_strategy_forms),
        cmocka_unit_test(test_scalars),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_diff),
        cmocka_unit_test(test_command_config), cmocka_unit_test(test_command_defaults),
        cmocka_unit_test(test_command_diff),  cmocka_unit_test(test_pruner_config),
        cmocka_unit_test(test_noise_and_resource), cmocka_unit_test(test_string_option),
        cmocka_unit_test(test_pruner_diff),   cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_plugin_config), cmocka_unit_test(test_plugin_diff),
        cmocka_unit_test(test_trainer_config), cmocka_unit_test(test_trainer_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
