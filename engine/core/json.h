/*
 * JSON text for the places that write it (exports, the HPSWEEP_PARAMS variable
 * of command trials): strings escaped, numbers that read back exactly, and a
 * parameter's value with its type (numbers stay numbers, a categorical written as
 * a string stays a string).
 */
#ifndef HPS_CORE_JSON_H
#define HPS_CORE_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "hpsweep/space.h"

/*
 * s as a quoted JSON string: quotes, backslashes and control characters escaped,
 * bytes that are not valid UTF-8 as \ufffd (a stderr tail may be cut mid-
 * character). With html, also safe inside an HTML <script> element: '<', '>' and
 * '&' as \u003c, \u003e, \u0026 (so neither "</script>" nor "<!--" can appear),
 * U+2028/U+2029 as \u2028/\u2029.
 */
void hps_json_escape(FILE *f, const char *s, int html);

/* hps_json_escape(f, s, 0). */
void hps_json_put_string(FILE *f, const char *s);

/* v with 17 significant digits; null when not finite. */
void hps_json_put_number(FILE *f, double v);

/* Parameter i's value v as a JSON value. */
void hps_json_put_value(FILE *f, const hps_space *sp, int i, double v);

#define HPS_JSON_MAX_DEPTH 16

/*
 * A writer that places the commas: begin/end objects and arrays, a key before
 * each member's value. Deeper nesting than HPS_JSON_MAX_DEPTH is a caller's bug
 * (it is clamped, and the output is then not valid JSON). Write errors stay in f
 * (ferror) for the caller to check once at the end. Strings are escaped by
 * hps_json_escape, in its html mode when the writer was made with html.
 */
typedef struct hps_json {
    FILE *f;
    int html;
    int depth;
    unsigned char first[HPS_JSON_MAX_DEPTH]; /* nothing written yet at this depth */
    int after_key;                           /* the next value follows a key */
} hps_json;

void hps_json_init(hps_json *w, FILE *f, int html);
void hps_json_begin_object(hps_json *w);
void hps_json_end_object(hps_json *w);
void hps_json_begin_array(hps_json *w);
void hps_json_end_array(hps_json *w);
void hps_json_key(hps_json *w, const char *key);
void hps_json_string(hps_json *w, const char *s); /* NULL writes null */
/* v with `digits` significant digits (17 round-trips a double); NaN/inf as null. */
void hps_json_number(hps_json *w, double v, int digits);
void hps_json_int(hps_json *w, int64_t v);
void hps_json_uint(hps_json *w, uint64_t v); /* seeds: all 64 bits */
void hps_json_bool(hps_json *w, int v);
void hps_json_null(hps_json *w);

/* Is parameter i's value v a string (a categorical choice written as a string)? */
int hps_space_value_is_string(const hps_space *sp, int i, double v);

#endif
