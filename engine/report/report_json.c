/*
 * HTML text escaping for the report (JSON comes from core/json.h, written in its
 * HTML-safe mode).
 */
#include <stdio.h>

#include "report_internal.h"

void hps_report_html_escape(FILE *f, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*p, f);
        }
    }
}
