/*
 * The HTML report: one self-contained page (plots, tables, provenance) made from a
 * sweep's results, viewable offline in any browser.
 *
 * hps_report_write() reads only what hps_results_open() loaded (the public results
 * reader), writes a page whose data is one JSON document and whose plots are drawn
 * in the browser by the Chart.js build embedded into this library at compile time
 * (engine/report/assets/, embedded by embed_assets.cmake). Nothing on the page
 * refers to the network. Big sweeps are down-sampled (the best trials always kept)
 * and the page says what it shows of how many.
 *
 * report_internal.h holds the pure helpers (JSON strings, sampling, importance)
 * that the unit tests call directly.
 */
#ifndef HPS_ENGINE_REPORT_H
#define HPS_ENGINE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hpsweep/results.h"

#define HPS_REPORT_TOP_K 10         /* rows of the top-trials table */
#define HPS_REPORT_MAX_POINTS 5000  /* trials per scatter plot at most */
#define HPS_REPORT_MAX_CURVES 100   /* learning curves at most */

typedef struct hps_report_opts {
    int top_k;             /* rows of the top-trials table; <= 0: HPS_REPORT_TOP_K */
    int64_t max_points;    /* trials per scatter plot; <= 0: HPS_REPORT_MAX_POINTS */
    int max_curves;        /* learning curves drawn; <= 0: HPS_REPORT_MAX_CURVES */
    const char *title;     /* page title; NULL: "hpsweep report: <sweep name>" */
    const char *generator; /* "hpsweep 0.1.0 (commit)" shown in the footer; may be NULL */
    const char *generated; /* when the page was made (ISO 8601); may be NULL */
    const char *best_json; /* the best trial as `hpsweep best --format json` prints it,
                              shown verbatim; NULL: none (no trial completed) */
} hps_report_opts;

/*
 * Write the report page for r to out. opts may be NULL (all defaults). Returns
 * HPS_OK, HPS_EINVAL (r or out NULL), HPS_ENOMEM or HPS_EIO (a write to out
 * failed); err (may be NULL) then says what went wrong. out is not closed.
 */
int hps_report_write(const hps_results *r, FILE *out, const hps_report_opts *opts, char *err,
                     size_t errlen);

#endif
