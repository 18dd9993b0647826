/*
 * Parameter names as environment variable names (envname.h).
 */
#include "envname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpsweep/error.h"
#include "strset.h"

static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

void hps_env_name(const char *name, int digit_prefix, char *out, size_t len)
{
    if (len == 0)
        return;
    size_t o = 0;
    if (digit_prefix && is_digit((unsigned char)name[0]) && o + 1 < len)
        out[o++] = '_';
    for (const char *p = name; *p && o + 1 < len; p++) {
        unsigned char c = (unsigned char)*p;
        out[o++] = is_lower(c) ? (char)(c - 32) : (is_upper(c) || is_digit(c)) ? (char)c : '_';
    }
    out[o] = '\0';
}

int hps_env_names_check(const hps_space *space, int digit_prefix, int keep_letter, char *err,
                        size_t errlen)
{
    int n = space->n_params;
    char **mapped = calloc((size_t)n + 1, sizeof *mapped);
    hps_strset seen = {0};
    int rc = mapped ? HPS_OK : HPS_ENOMEM;
    for (int i = 0; rc == HPS_OK && i < n; i++) {
        const char *name = space->params[i].name;
        size_t len = strlen(name) + 2;
        if (!(mapped[i] = malloc(len))) {
            rc = HPS_ENOMEM;
            break;
        }
        hps_env_name(name, digit_prefix, mapped[i], len);
        int kept = 0;
        for (const char *p = name; *p; p++)
            kept |= is_upper((unsigned char)*p) || is_lower((unsigned char)*p) ||
                    is_digit((unsigned char)*p);
        size_t first;
        int added = hps_strset_add(&seen, mapped[i], strlen(mapped[i]), (size_t)i, &first);
        if (added < 0) {
            rc = HPS_ENOMEM;
        } else if (added == 0) {
            snprintf(err, errlen, "parameters '%s' and '%s' both become the variable %s "
                     "(letters are upper-cased, other characters become '_')",
                     space->params[first].name, name, mapped[i]);
            rc = HPS_EINVAL;
        } else if (keep_letter && !kept) {
            snprintf(err, errlen, "parameter '%s' has no ASCII letter or digit to keep in a "
                     "variable name (it would be %s)", name, mapped[i]);
            rc = HPS_EINVAL;
        }
    }
    for (int i = 0; mapped && i < n; i++)
        free(mapped[i]);
    free(mapped);
    hps_strset_free(&seen);
    return rc;
}
