/*
 * Helpers over libyaml's document (node) API for strict config validation.
 *
 * Everything here reports problems the same way: "source:line:column: path:
 * message" written into the context's err buffer, with the 1-based position of
 * the offending node, and HPS_ECONFIG returned. Scalars are typed the way YAML
 * 1.2's core schema types plain scalars (null, true/false, integers, floats);
 * quoted and block scalars are always strings, so `low: "5"` is not a number.
 * Nothing here allocates except the explicit string getters.
 */
#ifndef HPS_CONFIG_YAML_UTIL_H
#define HPS_CONFIG_YAML_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

/* Where messages go and which document the nodes belong to. */
typedef struct hps_yaml_ctx {
    yaml_document_t *doc;
    const char *source;  /* file name shown in messages */
    char *err;           /* may be NULL */
    size_t errlen;
} hps_yaml_ctx;

/* What a scalar is, read as YAML 1.2 core schema would read it. */
typedef enum hps_yaml_kind {
    HPS_YAML_NULL = 0,
    HPS_YAML_BOOL = 1,
    HPS_YAML_INT = 2,
    HPS_YAML_FLOAT = 3,  /* includes .inf and .nan */
    HPS_YAML_STRING = 4
} hps_yaml_kind;

/* Write "source:line:column: " + the formatted message into ctx->err, at node's
 * start (line 1, column 1 when node is NULL). Always returns HPS_ECONFIG. */
int hps_yaml_error(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The node with this index, or NULL for an index out of range. */
yaml_node_t *hps_yaml_node(hps_yaml_ctx *ctx, int index);

/* The scalar's text (NUL-terminated by libyaml) or NULL for a non-scalar. */
const char *hps_yaml_text(const yaml_node_t *node);

/* Classify a scalar node (a non-scalar yields HPS_YAML_STRING; check the type first). */
hps_yaml_kind hps_yaml_scalar_kind(const yaml_node_t *node);

/* "a mapping", "a list", "null", "the boolean true", "the number 1.5", "the string
 * 'abc'" (long strings shortened) — for "expected X, got Y" messages. */
void hps_yaml_describe(const yaml_node_t *node, char *buf, size_t len);

/*
 * Typed getters. Each checks the node, and on a mismatch reports "path: expected
 * <what>, got <description>" and returns HPS_ECONFIG.
 *   string  any scalar that is a string or a number (a number keeps its text)
 *   number  a finite integer or float
 *   int64   an integer, or a float with an integral value (|v| <= 2^53)
 *   bool    true/false (also True/False/TRUE/FALSE)
 * hps_yaml_get_string stores a malloc'd copy in *out (HPS_ENOMEM on failure).
 */
int hps_yaml_get_string(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, char **out);
int hps_yaml_get_number(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, double *out);
int hps_yaml_get_int64(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, int64_t *out);
int hps_yaml_get_bool(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path, int *out);

/* Check that node is a mapping (else "path: expected a mapping, got ..."). */
int hps_yaml_expect_mapping(hps_yaml_ctx *ctx, const yaml_node_t *node, const char *path);

/*
 * Walk a mapping's pairs in document order. Every key must be a non-empty scalar
 * and appear once ("duplicate key 'k' (first at line L, column C)"). With keys
 * non-NULL (NULL-terminated), each key must be one of them ("unknown key 'k'"
 * plus a did-you-mean suggestion or the list of valid keys; `what` names the
 * mapping in that message, e.g. "top-level", "for a float parameter"); the
 * value of keys[i] is stored in vals[i] (NULL when absent). With keys NULL only
 * the duplicate check runs. The first problem in document order is reported.
 */
int hps_yaml_map_fields(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *path,
                        const char *what, const char *const *keys, yaml_node_t **vals);

/* The value of key in mapping map (first occurrence), or NULL. */
yaml_node_t *hps_yaml_map_get(hps_yaml_ctx *ctx, const yaml_node_t *map, const char *key,
                              yaml_node_t **key_node);

/*
 * Append to buf a hint for an unknown word among candidates: "; did you mean
 * 'x'?" when one is within a small edit distance (optimal string alignment),
 * else "; <list_label>: a, b, c" (nothing when list_label is NULL and no match).
 * candidates is NULL-terminated; extra (may be NULL) is a second list searched too.
 */
void hps_yaml_suggest(const char *word, const char *const *candidates, const char *const *extra,
                      const char *list_label, char *buf, size_t len);

/*
 * The candidates for hps_yaml_suggest from any list: name_at(ctx, 0), name_at(ctx, 1),
 * ... up to the first NULL, in a calloc'd NULL-terminated array (the strings are
 * borrowed; free the array). NULL when out of memory.
 */
const char **hps_yaml_names(const char *(*name_at)(const void *ctx, size_t i), const void *ctx);

/* Optimal-string-alignment (Damerau) distance between a and b. */
int hps_yaml_edit_distance(const char *a, const char *b);

/* Canonical text of v: integral values below 1e15 as plain digits ("-5", "150";
 * -0 as "0"), anything else as the shortest "%.Ng" that reads back as exactly v
 * ("0.1", "1e-05", "1.5e+20"). */
void hps_yaml_format_number(double v, char *buf, size_t len);

/* Parse a whole string as a YAML core-schema integer or float: HPS_OK or HPS_EINVAL
 * (empty, trailing junk, hex/octal, ...). */
int hps_yaml_parse_number(const char *text, double *out);

/* strdup that reports allocation failure as NULL (wrapper to keep POSIX optional). */
char *hps_yaml_strdup(const char *s);

#endif
