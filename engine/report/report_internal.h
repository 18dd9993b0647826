/*
 * What the report's files share (report.h is the module's API):
 *   report_json.c        a small JSON writer whose strings are safe inside an HTML
 *                        <script> element, and HTML text escaping
 *   report_sample.c      down-sampling that always keeps the best trials
 *   report_importance.c  parameter importance (main-effect variance on ranks)
 *   report_data.c        the page's JSON: sweep, provenance, top trials, failures
 *   report_plots.c       the page's JSON: the data behind each plot
 *   report_html.c        the page around the JSON: styles, scripts, markup
 *   report.c             hps_report_write(): ranks the trials and puts it together
 * The pure helpers are declared here so that tests/unit/test_report.c calls them.
 */
#ifndef HPS_ENGINE_REPORT_INTERNAL_H
#define HPS_ENGINE_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/json.h"
#include "report.h"
#include "hpsweep/results.h"

/* ---- JSON ------------------------------------------------------------------------ */


/* s as HTML text or attribute value: & < > " ' escaped. */
void hps_report_html_escape(FILE *f, const char *s);

/* ---- down-sampling --------------------------------------------------------------- */

/*
 * Choose at most cap of the n trial indices in order[] (best first): the first
 * keep_best of them always (clamped to cap), and the rest spread evenly over the
 * remaining ones in index order (every len/m-th, deterministic). Writes the chosen
 * indices to out[min(n, cap)] in ascending order and their count to *n_out.
 * Returns HPS_OK, HPS_EINVAL or HPS_ENOMEM.
 */
int hps_report_sample(const int64_t *order, int64_t n, int64_t cap, int64_t keep_best,
                      int64_t *out, int64_t *n_out);

/* ---- importance ------------------------------------------------------------------ */

/* Ranks 1..n of v[n] into ranks[n], ties sharing their average rank. */
int hps_report_ranks(const double *v, int64_t n, double *ranks);

typedef struct hps_importance {
    double eta2;     /* adjusted fraction of y's variance explained by x's groups, [0,1] */
    double spearman; /* rank correlation of x and y (NaN when discrete) */
    int groups;      /* groups (bins or distinct values) used */
} hps_importance;

/*
 * The main-effect importance of one parameter: x[n] its values, y[n] the
 * objective's ranks. Discrete x (categorical, bool, an int with few values) is
 * grouped by value; continuous x into at most max_bins quantile bins (equal values
 * never split). eta2 is the correlation ratio SS_between / SS_total, adjusted for
 * the number of groups like adjusted R^2 (1 - (1 - eta2)(n - 1)/(n - groups)),
 * clamped to [0, 1], so a parameter without effect scores about 0.
 * Returns HPS_OK, HPS_EINVAL (n < 2) or HPS_ENOMEM.
 */
int hps_report_importance(const double *x, const double *y, int64_t n, int discrete, int max_bins,
                          hps_importance *out);

/* ---- the report's context ---------------------------------------------------------- */

typedef struct hps_report_ctx {
    const hps_results *r;
    hps_report_opts opts;   /* with defaults filled in */
    int maximize;
    int multi_fidelity;     /* some trial has a bracket/rung */
    int64_t *ranked;        /* indices of done trials with a finite objective, best first */
    int64_t n_ranked;
    double t0;              /* earliest trial start (Unix s), 0 without trials */
    int metric_index;       /* the sweep metric in r->metric_names, or -1 */
    int rc;                 /* first error (HPS_ENOMEM) met while writing */
} hps_report_ctx;

/* The JSON document the page draws from (report_data.c). */
void hps_report_data(hps_report_ctx *c, hps_json *w);

/* Plot members of that document (report_plots.c): "scatter", "history",
 * "parcoords", "curves", "importance". */
void hps_report_plots(hps_report_ctx *c, hps_json *w);

/* The page: everything before the JSON, and everything after it (report_html.c). */
void hps_report_page_begin(const hps_report_ctx *c, FILE *f);
void hps_report_page_end(const hps_report_ctx *c, FILE *f);

/* The assets embedded at build time (report_assets.c, generated). */
extern const unsigned char hps_report_asset_chartjs[];
extern const size_t hps_report_asset_chartjs_len;
extern const unsigned char hps_report_asset_chartjs_license[];
extern const size_t hps_report_asset_chartjs_license_len;
extern const unsigned char hps_report_asset_js[];
extern const size_t hps_report_asset_js_len;
extern const unsigned char hps_report_asset_css[];
extern const size_t hps_report_asset_css_len;

#endif
