/*
 * The one rule that turns a parameter name into (part of) an environment
 * variable name, for `hpsweep best --format env` (NAME=value) and an external
 * command's HPSWEEP_PARAM_<NAME>: ASCII letters upper-cased, ASCII digits kept,
 * every other byte '_' (so each byte of a non-ASCII character becomes one '_'),
 * and, where the result must be a whole variable name, '_' before a leading
 * digit. Different names can map to one variable ("lr" and "LR", "a.b" and
 * "a-b"); hps_env_names_check finds them, so nothing is silently overwritten.
 */
#ifndef HPS_CORE_ENVNAME_H
#define HPS_CORE_ENVNAME_H

#include <stddef.h>

#include "hpsweep/space.h"

/* The mapped form of name into out[len] (cut to fit); digit_prefix: put '_' before
 * a leading digit (a whole variable name). */
void hps_env_name(const char *name, int digit_prefix, char *out, size_t len);

/*
 * HPS_OK when every parameter of space maps to a variable of its own; else
 * HPS_EINVAL with err naming two parameters that map to the same variable, or
 * (keep_letter) one whose name keeps no ASCII letter or digit. HPS_ENOMEM.
 */
int hps_env_names_check(const hps_space *space, int digit_prefix, int keep_letter, char *err,
                        size_t errlen);

#endif
