/*
 * JSON text for the places that write it (exports, the HPSWEEP_PARAMS variable
 * of command trials): strings escaped, numbers that read back exactly, and a
 * parameter's value with its type (numbers stay numbers, a categorical written as
 * a string stays a string).
 */
#ifndef HPS_CORE_JSON_H
#define HPS_CORE_JSON_H

#include <stdio.h>

#include "hpsweep/space.h"

/* s as a JSON string (quotes, escapes; control characters as \uXXXX). */
void hps_json_string(FILE *f, const char *s);

/* v with 17 significant digits; null when not finite. */
void hps_json_number(FILE *f, double v);

/* Parameter i's value v as a JSON value. */
void hps_json_value(FILE *f, const hps_space *sp, int i, double v);

/* Is parameter i's value v a string (a categorical choice written as a string)? */
int hps_space_value_is_string(const hps_space *sp, int i, double v);

#endif
