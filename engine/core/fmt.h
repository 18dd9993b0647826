/*
 * Numbers as text, fast: what snprintf("%.17g") and "%lld" write, byte for byte,
 * without going through printf. Exporting a million trials formats several
 * million doubles, and glibc's printf spends most of that time in multi-precision
 * arithmetic it needs only for rare values.
 */
#ifndef HPS_CORE_FMT_H
#define HPS_CORE_FMT_H

#include <stdint.h>

/* Room for any hps_fmt_* result and its terminating NUL. */
#define HPS_FMT_LEN 32

/*
 * Write v into buf (HPS_FMT_LEN bytes) exactly as snprintf(buf, HPS_FMT_LEN,
 * "%.17g", v) does in the default rounding mode (nan, inf, -0 included); returns
 * the length. Values from 1e-11 up to 1e17 (the fixed-point range of %.17g and
 * the small exponents below it) are formatted with exact integer arithmetic; the
 * others go to snprintf.
 */
int hps_fmt_g17(char *buf, double v);

/* Write v into buf (HPS_FMT_LEN bytes) as "%lld" / "%llu" do; returns the length. */
int hps_fmt_i64(char *buf, int64_t v);
int hps_fmt_u64(char *buf, uint64_t v);

#endif
