/*
 * The page around the report's JSON document: a head with the embedded style
 * sheet and a Content-Security-Policy that forbids every network load (so the
 * browser itself guarantees the page is self-contained), an empty body that
 * report.js fills, then the embedded Chart.js (with its licence) and report.js.
 * The JSON goes between page_begin and page_end, inside
 * <script type="application/json">, which its string escaping cannot end.
 */
#include <stdio.h>

#include "report_internal.h"

static void put_title(const hps_report_ctx *c, FILE *f)
{
    if (c->opts.title) {
        hps_report_html_escape(f, c->opts.title);
        return;
    }
    fputs("hpsweep report: ", f);
    hps_report_html_escape(f, c->r->name ? c->r->name : "sweep");
}

void hps_report_page_begin(const hps_report_ctx *c, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
          "font-src data:\">\n",
          f);
    if (c->opts.generator) {
        fputs("<meta name=\"generator\" content=\"", f);
        hps_report_html_escape(f, c->opts.generator);
        fputs("\">\n", f);
    }
    fputs("<title>", f);
    put_title(c, f);
    fputs("</title>\n<style>\n", f);
    fwrite(hps_report_asset_css, 1, hps_report_asset_css_len, f);
    fputs("</style>\n</head>\n<body>\n<header>\n<h1 id=\"title\">", f);
    put_title(c, f);
    fputs("</h1>\n<p id=\"subtitle\"></p>\n</header>\n"
          "<noscript><p class=\"note\">This report draws its plots and tables with "
          "JavaScript: allow it for this file to see them. Its data is the JSON document "
          "in the element with id hps-data.</p></noscript>\n"
          "<main id=\"report\"></main>\n<footer id=\"footer\"></footer>\n"
          "<script type=\"application/json\" id=\"hps-data\">",
          f);
}

void hps_report_page_end(const hps_report_ctx *c, FILE *f)
{
    (void)c;
    fputs("</script>\n<script>\n/*\n", f);
    fwrite(hps_report_asset_chartjs_license, 1, hps_report_asset_chartjs_license_len, f);
    fputs("*/\n", f);
    fwrite(hps_report_asset_chartjs, 1, hps_report_asset_chartjs_len, f);
    fputs("\n</script>\n<script>\n", f);
    fwrite(hps_report_asset_js, 1, hps_report_asset_js_len, f);
    fputs("\n</script>\n</body>\n</html>\n", f);
}
