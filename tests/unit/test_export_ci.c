/*
 * Unit tests of the pipeline exports (engine/store/export_ci.c): GitHub Actions'
 * output format (names mapped to [A-Za-z0-9_-], a value with a line break in
 * the name<<DELIMITER form with a delimiter the value does not hold, a name that
 * would collide refused unless --params-only), --top as a JSON array and a YAML
 * list, and --params-only. Results are built by hand; output is exact text.
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

#include "hpsweep/error.h"
#include "hpsweep/results.h"
#include "store/export.h"

static hps_param params[2];
static hps_choice choices[2];
static double vals[2][2] = {{0.25, 0}, {0.5, 1}};
static hps_trial trials[2];
static hps_results res;

/* Two trials over "learning rate" (float) and "note" (a categorical whose first
 * choice holds a line break and text that looks like a delimiter). */
static void build(const char *float_name)
{
    memset(&res, 0, sizeof res);
    choices[0] = (hps_choice){.kind = HPS_CHOICE_STRING, .text = "a\nHPSWEEP_EOF_0"};
    choices[1] = (hps_choice){.kind = HPS_CHOICE_STRING, .text = "b"};
    params[0] = (hps_param){.name = (char *)float_name, .type = HPS_PARAM_FLOAT, .low = 0,
                            .high = 1};
    params[1] = (hps_param){.name = "note", .type = HPS_PARAM_CATEGORICAL, .n_choices = 2,
                            .choices = choices};
    res.space.n_params = 2;
    res.space.params = params;
    res.metric = "val loss";
    res.goal = "minimize";
    for (int i = 0; i < 2; i++)
        trials[i] = (hps_trial){.trial_id = 7 + i, .status = HPS_TRIAL_DONE,
                                .seed = 42u + (unsigned)i, .objective = 0.5 + i,
                                .values = vals[i], .bracket = -1, .rung = -1};
    res.trials = trials;
    res.n_trials = 2;
}

static char *run(hps_export_format fmt, unsigned flags, int n, int *rc)
{
    const hps_trial *t[2] = {&trials[0], &trials[1]};
    char *buf = NULL, err[256] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = hps_export_best_many(f, &res, t, n, fmt, flags, err, sizeof err);
    assert_int_equal(fclose(f), 0);
    if (*rc != HPS_OK) {
        free(buf);
        return strdup(err);
    }
    return buf;
}

static void test_github(void **state)
{
    (void)state;
    build("learning rate");
    int rc;
    char *out = run(HPS_EXPORT_GITHUB, 0, 1, &rc);
    assert_int_equal(rc, HPS_OK);
    assert_string_equal(out, "trial_id=7\nseed=42\nval_loss=0.5\n"
                             "params={\"learning rate\":0.25,\"note\":\"a\\nHPSWEEP_EOF_0\"}\n"
                             "learning_rate=0.25\n"
                             "note<<HPSWEEP_EOF_1\na\nHPSWEEP_EOF_0\nHPSWEEP_EOF_1\n");
    free(out);
    out = run(HPS_EXPORT_GITHUB, HPS_EXPORT_PARAMS_ONLY, 1, &rc);
    assert_int_equal(rc, HPS_OK);
    assert_string_equal(out, "learning_rate=0.25\n"
                             "note<<HPSWEEP_EOF_1\na\nHPSWEEP_EOF_0\nHPSWEEP_EOF_1\n");
    free(out);
}

/* A parameter whose output name is one of hpsweep's is refused, with params only
 * it is fine; env and github take one trial. */
static void test_github_collision(void **state)
{
    (void)state;
    build("seed");
    int rc;
    char *out = run(HPS_EXPORT_GITHUB, 0, 1, &rc);
    assert_int_equal(rc, HPS_EINVAL);
    assert_non_null(strstr(out, "'seed'"));
    free(out);
    out = run(HPS_EXPORT_GITHUB, HPS_EXPORT_PARAMS_ONLY, 1, &rc);
    assert_int_equal(rc, HPS_OK);
    free(out);
    out = run(HPS_EXPORT_GITHUB, 0, 2, &rc);
    assert_int_equal(rc, HPS_EINVAL);
    free(out);
    out = run(HPS_EXPORT_ENV, 0, 2, &rc);
    assert_int_equal(rc, HPS_EINVAL);
    free(out);
}

static void test_top_and_params_only(void **state)
{
    (void)state;
    build("lr");
    choices[0].text = "a";
    int rc;
    char *out = run(HPS_EXPORT_JSON, HPS_EXPORT_PARAMS_ONLY, 2, &rc);
    assert_int_equal(rc, HPS_OK);
    assert_string_equal(out,
                        "[\n  {\"lr\":0.25,\"note\":\"a\"},\n  {\"lr\":0.5,\"note\":\"b\"}\n]\n");
    free(out);
    out = run(HPS_EXPORT_JSON, HPS_EXPORT_PARAMS_ONLY, 1, &rc);
    assert_string_equal(out, "{\"lr\":0.25,\"note\":\"a\"}\n");
    free(out);
    out = run(HPS_EXPORT_YAML, HPS_EXPORT_PARAMS_ONLY, 2, &rc);
    assert_string_equal(out, "- lr: 0.25\n  note: a\n- lr: 0.5\n  note: b\n");
    free(out);
    out = run(HPS_EXPORT_JSON, HPS_EXPORT_LIST, 1, &rc);
    assert_string_equal(out, "[\n  {\n    \"trial_id\": 7,\n    \"seed\": 42,\n"
                             "    \"val loss\": 0.5,\n    \"params\": {\n      \"lr\": 0.25,\n"
                             "      \"note\": \"a\"\n    }\n  }\n]\n");
    free(out);
    out = run(HPS_EXPORT_YAML, 0, 2, &rc);
    assert_string_equal(out, "- trial_id: 7\n  seed: 42\n  val loss: 0.5\n  params:\n"
                             "    lr: 0.25\n    note: a\n- trial_id: 8\n  seed: 43\n"
                             "  val loss: 1.5\n  params:\n    lr: 0.5\n    note: b\n");
    free(out);
    out = run(HPS_EXPORT_ENV, HPS_EXPORT_PARAMS_ONLY, 1, &rc);
    assert_string_equal(out, "LR=0.25\nNOTE=a\n");
    free(out);
    out = run(HPS_EXPORT_ARGS, 0, 2, &rc);
    assert_string_equal(out, "--lr 0.25 --note a\n--lr 0.5 --note b\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github),
        cmocka_unit_test(test_github_collision),
        cmocka_unit_test(test_top_and_params_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
