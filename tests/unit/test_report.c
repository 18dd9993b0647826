/*
 * Unit tests for the HTML report's pure parts (engine/report/): the importance
 * score on a synthetic table where one parameter matters and the others do not;
 * ranks with ties; down-sampling that always keeps the best trials; JSON and HTML
 * escaping of hostile strings ("</script>", quotes, control characters, U+2028,
 * bytes that are not UTF-8); and hps_report_write() on a hand-built sweep (no
 * HDF5): the data element cannot be ended by user text, the top row is the trial
 * hps_trial_better() picks (a larger budget first), nothing refers to the
 * network, a failed write is HPS_EIO. The embedded assets cannot end their own
 * <script> element. Rendering in a browser is tests/integration/test_report.sh.
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
#include <ctype.h>

#include "report/report.h"
#include "report/report_internal.h"
#include "hpsweep/error.h"
#include "hpsweep/results.h"

/* Case-insensitive strstr (strcasestr is a GNU extension). */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] &&
               tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k]))
            k++;
        if (k == n)
            return hay;
    }
    return NULL;
}

/* A deterministic uniform [0,1) stream (64-bit LCG, top 53 bits). */
static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* ---- importance ---------------------------------------------------------------------- */

/* The JSON escaper in the HTML-safe mode the page's data uses. */
static void json_html(FILE *f, const char *s)
{
    hps_json_escape(f, s, 1);
}

static void test_importance_finds_the_parameter_that_matters(void **state)
{
    (void)state;
    enum { N = 2000 };
    static double x0[N], x1[N], x2[N], y[N], yr[N];
    uint64_t s = 42;
    for (int i = 0; i < N; i++) {
        x0[i] = uniform(&s);                  /* matters: y is a U-shaped function of it */
        x1[i] = 1e-4 * exp(9 * uniform(&s));  /* a log-scaled parameter without effect */
        x2[i] = floor(4 * uniform(&s));       /* a categorical without effect */
        y[i] = (x0[i] - 0.3) * (x0[i] - 0.3) + 0.01 * uniform(&s);
    }
    assert_int_equal(hps_report_ranks(y, N, yr), HPS_OK);
    hps_importance a, b, c;
    assert_int_equal(hps_report_importance(x0, yr, N, 0, 10, &a), HPS_OK);
    assert_int_equal(hps_report_importance(x1, yr, N, 0, 10, &b), HPS_OK);
    assert_int_equal(hps_report_importance(x2, yr, N, 1, 10, &c), HPS_OK);
    assert_true(a.eta2 > 0.9);
    assert_true(b.eta2 < 0.02);
    assert_true(c.eta2 < 0.02);
    assert_int_equal(a.groups, 10);
    assert_int_equal(c.groups, 4);
    assert_true(isnan(c.spearman)); /* not defined for a categorical */
    assert_true(fabs(b.spearman) < 0.1);

    /* A monotone effect shows in the rank correlation's sign. */
    for (int i = 0; i < N; i++)
        y[i] = -x1[i];
    assert_int_equal(hps_report_ranks(y, N, yr), HPS_OK);
    assert_int_equal(hps_report_importance(x1, yr, N, 0, 10, &b), HPS_OK);
    assert_true(b.spearman < -0.999);
    assert_true(b.eta2 > 0.95);

    /* A categorical that decides everything. */
    for (int i = 0; i < N; i++)
        y[i] = x2[i] == 1 ? 0 : 1 + uniform(&s);
    assert_int_equal(hps_report_ranks(y, N, yr), HPS_OK);
    assert_int_equal(hps_report_importance(x2, yr, N, 1, 10, &c), HPS_OK);
    assert_true(c.eta2 > 0.5);
}

static void test_importance_edges(void **state)
{
    (void)state;
    double x[6] = {1, 1, 1, 1, 1, 1}, y[6] = {1, 2, 3, 4, 5, 6};
    hps_importance imp;
    /* One value: one group, no effect; equal values are never split into bins. */
    assert_int_equal(hps_report_importance(x, y, 6, 0, 3, &imp), HPS_OK);
    assert_int_equal(imp.groups, 1);
    assert_true(imp.eta2 == 0);
    assert_true(isnan(imp.spearman));
    /* Two values, three per bin asked: ties stay together. */
    double x2[6] = {0, 0, 0, 0, 1, 1};
    assert_int_equal(hps_report_importance(x2, y, 6, 0, 3, &imp), HPS_OK);
    assert_int_equal(imp.groups, 2);
    assert_int_equal(hps_report_importance(x, y, 1, 0, 3, &imp), HPS_EINVAL);
}

static void test_ranks_share_ties(void **state)
{
    (void)state;
    double v[6] = {3.0, 1.0, 3.0, -2.0, 3.0, 10.0}, r[6];
    assert_int_equal(hps_report_ranks(v, 6, r), HPS_OK);
    double want[6] = {4, 2, 4, 1, 4, 6};
    for (int i = 0; i < 6; i++)
        assert_true(r[i] == want[i]);
}

/* ---- down-sampling ------------------------------------------------------------------ */

static void test_sample_keeps_the_best(void **state)
{
    (void)state;
    enum { N = 10000, CAP = 500, KEEP = 50 };
    static int64_t order[N], out[N];
    for (int64_t i = 0; i < N; i++)
        order[i] = i;
    uint64_t s = 7;
    for (int64_t i = N - 1; i > 0; i--) { /* a shuffled "best first" order */
        int64_t j = (int64_t)(uniform(&s) * (double)(i + 1));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int64_t n = -1;
    assert_int_equal(hps_report_sample(order, N, CAP, KEEP, out, &n), HPS_OK);
    assert_int_equal(n, CAP);
    for (int64_t k = 1; k < n; k++)
        assert_true(out[k - 1] < out[k]); /* ascending, so no duplicates */
    for (int64_t b = 0; b < KEEP; b++) {
        int found = 0;
        for (int64_t k = 0; k < n && !found; k++)
            found = out[k] == order[b];
        assert_true(found);
    }
    /* The rest is spread over the whole trial range, not bunched at one end. */
    int low = 0, high = 0;
    for (int64_t k = 0; k < n; k++) {
        low += out[k] < N / 4;
        high += out[k] >= 3 * N / 4;
    }
    assert_in_range(low, CAP / 4 - 30, CAP / 4 + 30);
    assert_in_range(high, CAP / 4 - 30, CAP / 4 + 30);

    /* Fewer than the cap: all of them, sorted. */
    int64_t few[5] = {9, 2, 7, 0, 4}, got[5];
    assert_int_equal(hps_report_sample(few, 5, CAP, KEEP, got, &n), HPS_OK);
    assert_int_equal(n, 5);
    int64_t sorted[5] = {0, 2, 4, 7, 9};
    assert_memory_equal(got, sorted, sizeof sorted);
    /* keep_best beyond the cap: the cap's worth of the best, nothing else. */
    assert_int_equal(hps_report_sample(order, N, 3, 10, out, &n), HPS_OK);
    assert_int_equal(n, 3);
    for (int b = 0; b < 3; b++)
        assert_true(out[0] == order[b] || out[1] == order[b] || out[2] == order[b]);
    assert_int_equal(hps_report_sample(order, N, -1, 1, out, &n), HPS_EINVAL);
}

/* ---- escaping ---------------------------------------------------------------------- */

/* What fn writes for s, as a new string. */
static char *written(void (*fn)(FILE *, const char *), const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, s);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_json_escape_hostile_strings(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"</script><script>alert(1)</script>",
         "\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\""},
        {"<!-- x -->", "\"\\u003c!-- x --\\u003e\""},
        {"say \"hi\" \\ 'it'", "\"say \\\"hi\\\" \\\\ 'it'\""},
        {"a\nb\tc\r\x01\x1f\x7f", "\"a\\nb\\tc\\r\\u0001\\u001f\\u007f\""},
        {"Tom & Jerry", "\"Tom \\u0026 Jerry\""},
        {"caf\xc3\xa9 \xf0\x9f\x93\x88", "\"caf\xc3\xa9 \xf0\x9f\x93\x88\""}, /* valid UTF-8 kept */
        {"line\xe2\x80\xa8sep\xe2\x80\xa9", "\"line\\u2028sep\\u2029\""},
        {"bad \xff byte", "\"bad \\ufffd byte\""},
        {"cut \xe2\x82", "\"cut \\ufffd\\ufffd\""},                /* truncated sequence */
        {"overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\""},      /* '/' spelt long */
        {"surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\""},
        {"", "\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = written(json_html, cases[i].in);
        assert_string_equal(got, cases[i].out);
        assert_null(strstr(got, "</"));
        free(got);
    }
    char *html = written(hps_report_html_escape, "<b a=\"1\">Tom & 'J'</b>");
    assert_string_equal(html, "&lt;b a=&quot;1&quot;&gt;Tom &amp; &#39;J&#39;&lt;/b&gt;");
    free(html);
}

static void test_json_writer_commas(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    hps_json w;
    hps_json_init(&w, f, 1);
    hps_json_begin_object(&w);
    hps_json_key(&w, "a");
    hps_json_begin_array(&w);
    hps_json_int(&w, 1);
    hps_json_number(&w, 0.1, 17);
    hps_json_number(&w, NAN, 7);
    hps_json_begin_object(&w);
    hps_json_end_object(&w);
    hps_json_string(&w, NULL);
    hps_json_end_array(&w);
    hps_json_key(&w, "b");
    hps_json_bool(&w, 1);
    hps_json_key(&w, "c");
    hps_json_null(&w);
    hps_json_end_object(&w);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, "{\"a\":[1,0.10000000000000001,null,{},null],\"b\":true,\"c\":null}");
    free(buf);
}

/* ---- the whole page ------------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

#define NT 5
static double values[NT][2] = {{0.5, 0}, {0.25, 1}, {0.75, 2}, {0.125, 1}, {0.9, 0}};

/* A sweep with a hostile name, parameter name and choices; trial 2 is best by the
 * metric, trial 4 by budget (what hpsweep best picks), trial 3 failed with stderr. */
static void build(hps_results *r)
{
    memset(r, 0, sizeof *r);
    r->name = xstrdup("</script><script>alert('name')</script>");
    r->strategy = xstrdup("asha");
    r->objective = xstrdup("command");
    r->metric = xstrdup("loss \"quoted\"");
    r->goal = xstrdup("minimize");
    r->status = xstrdup("completed");
    r->created = xstrdup("2026-01-01T00:00:00Z");
    r->updated = xstrdup("2026-01-01T00:01:00Z");
    r->hpsweep_version = xstrdup("0.1.0");
    r->config_text = xstrdup("name: x\n# </script> in a comment\n");
    r->format_version = 1;
    r->space.n_params = 2;
    r->space.params = calloc(2, sizeof *r->space.params);
    assert_non_null(r->space.params);
    hps_param *p = &r->space.params[0];
    p->name = xstrdup("lr</script>");
    p->type = HPS_PARAM_FLOAT;
    p->low = 0.01;
    p->high = 1;
    p->log = 1;
    p = &r->space.params[1];
    p->name = xstrdup("opt");
    p->type = HPS_PARAM_CATEGORICAL;
    p->n_choices = 3;
    p->choices = calloc(3, sizeof *p->choices);
    assert_non_null(p->choices);
    const char *texts[3] = {"adam", "</script><!--", "say \"hi\""};
    for (int k = 0; k < 3; k++)
        p->choices[k] = (hps_choice){HPS_CHOICE_STRING, xstrdup(texts[k]), 0};
    r->n_trials = NT;
    r->trials = calloc(NT, sizeof *r->trials);
    assert_non_null(r->trials);
    double objective[NT] = {0.5, 0.3, 0.1, NAN, 0.9}, budget[NT] = {1, 1, 1, 3, 9};
    for (int k = 0; k < NT; k++) {
        hps_trial *t = &r->trials[k];
        t->trial_id = k;
        t->status = k == 3 ? HPS_TRIAL_FAILED : HPS_TRIAL_DONE;
        t->seed = 18446744073709551615ULL - (uint64_t)k; /* beyond 2^53 */
        t->bracket = 0;
        t->rung = k == 4 ? 2 : 0;
        t->budget = budget[k];
        t->start = 1000 + k;
        t->end = 1000.5 + k;
        t->objective = objective[k];
        t->exit_code = k == 3 ? 1 : -1;
        t->values = values[k];
    }
    snprintf(r->trials[3].cause, HPS_CAUSE_LEN, "exit:1");
    r->trials[3].stderr_tail = xstrdup("Traceback </script>\n\xff bad byte\n");
    r->n_metric_names = 1;
    r->metric_names = calloc(1, sizeof *r->metric_names);
    assert_non_null(r->metric_names);
    r->metric_names[0] = xstrdup(r->metric);
}

static void release(hps_results *r)
{
    for (int64_t k = 0; k < r->n_trials; k++)
        r->trials[k].values = NULL; /* they point into the static table */
    hps_results_free(r);
}

static char *page(const hps_results *r, const hps_report_opts *opts)
{
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(hps_report_write(r, f, opts, err, sizeof err), HPS_OK);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_page_is_safe_and_ranks_like_best(void **state)
{
    (void)state;
    hps_results r;
    build(&r);
    char *html = page(&r, NULL);
    /* The data element ends at the first "</script>" after it: the JSON must be whole there. */
    const char *tag = "<script type=\"application/json\" id=\"hps-data\">";
    char *data = strstr(html, tag);
    assert_non_null(data);
    data += strlen(tag);
    char *end = strstr(data, "</script>");
    assert_non_null(end);
    assert_true(end > data && end[-1] == '}');
    *end = '\0';
    assert_non_null(strstr(data, "\"lr\\u003c/script\\u003e\""));
    assert_non_null(strstr(data, "\"\\u003c/script\\u003e\\u003c!--\""));
    assert_non_null(strstr(data, "Traceback \\u003c/script\\u003e\\n\\ufffd bad byte"));
    /* Seeds are strings: JavaScript numbers would round them. */
    assert_non_null(strstr(data, "\"seed\":\"18446744073709551611\""));
    /* The top row is trial 4 (the largest budget), as hps_trial_better ranks; then 2, 1, 0. */
    char *rows = strstr(data, "\"rows\":[");
    assert_non_null(rows);
    assert_true(strncmp(rows, "\"rows\":[{\"rank\":1,\"trial_id\":4,", 30) == 0);
    char *second = strstr(rows, "{\"rank\":2,\"trial_id\":2,");
    assert_non_null(second);
    assert_non_null(strstr(second, "{\"rank\":3,\"trial_id\":1,"));
    assert_non_null(strstr(rows, "\"params\":[0.90000000000000002,\"adam\"]"));
    assert_non_null(strstr(data, "\"cause\":\"exit:1\",\"count\":1"));
    *end = '<';
    /* The title is HTML-escaped, and nothing is loaded from the network. */
    assert_non_null(strstr(
        html, "<title>hpsweep report: &lt;/script&gt;&lt;script&gt;alert(&#39;name&#39;)"));
    const char *refs[] = {"src=\"http", "src='http", "href=\"http", "href='http", "url(http",
                          "@import"};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        assert_null(find_ci(html, refs[i]));
    assert_non_null(strstr(html, "Content-Security-Policy"));
    free(html);

    /* Options: the title and the top-k size. */
    hps_report_opts opts = {.top_k = 2, .title = "A & B"};
    html = page(&r, &opts);
    assert_non_null(strstr(html, "<title>A &amp; B</title>"));
    assert_non_null(strstr(html, "\"top\":{\"k\":2,"));
    assert_null(strstr(html, "{\"rank\":3,"));
    free(html);
    release(&r);
}

static void test_page_edge_cases(void **state)
{
    (void)state;
    /* No trials, no parameters, no metric names: still a page. */
    hps_results empty = {0};
    char *html = page(&empty, NULL);
    assert_non_null(strstr(html, "\"rows\":[]"));
    assert_non_null(strstr(html, "\"curves\":null"));
    free(html);
    char err[128];
    assert_int_equal(hps_report_write(NULL, stdout, NULL, err, sizeof err), HPS_EINVAL);
    assert_int_equal(hps_report_write(&empty, NULL, NULL, err, sizeof err), HPS_EINVAL);
    /* A write that fails (a full disk) is HPS_EIO. */
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        hps_results r;
        build(&r);
        assert_int_equal(hps_report_write(&r, full, NULL, err, sizeof err), HPS_EIO);
        assert_non_null(strstr(err, "write failed"));
        fclose(full);
        release(&r);
    }
}

static void test_assets_cannot_end_their_element(void **state)
{
    (void)state;
    const struct {
        const unsigned char *data;
        size_t len;
        const char *closer;
    } assets[] = {
        {hps_report_asset_chartjs, hps_report_asset_chartjs_len, "</script"},
        {hps_report_asset_js, hps_report_asset_js_len, "</script"},
        {hps_report_asset_css, hps_report_asset_css_len, "</style"},
        {hps_report_asset_chartjs_license, hps_report_asset_chartjs_license_len, "*/"},
    };
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
        assert_true(assets[i].len > 0);
        assert_int_equal(assets[i].data[assets[i].len], 0);
        assert_int_equal(strlen((const char *)assets[i].data), assets[i].len);
        assert_null(find_ci((const char *)assets[i].data, assets[i].closer));
    }
    assert_non_null(strstr((const char *)hps_report_asset_chartjs, "Chart.js v3.9.1"));
    assert_non_null(strstr((const char *)hps_report_asset_chartjs_license, "MIT License"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_importance_finds_the_parameter_that_matters),
        cmocka_unit_test(test_importance_edges),
        cmocka_unit_test(test_ranks_share_ties),
        cmocka_unit_test(test_sample_keeps_the_best),
        cmocka_unit_test(test_json_escape_hostile_strings),
        cmocka_unit_test(test_json_writer_commas),
        cmocka_unit_test(test_page_is_safe_and_ranks_like_best),
        cmocka_unit_test(test_page_edge_cases),
        cmocka_unit_test(test_assets_cannot_end_their_element),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
