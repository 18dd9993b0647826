/*
 * Reading a config: the file (a regular file of at most HPS_CONFIG_MAX_BYTES, so
 * that a symlink to /dev/zero, a FIFO or a directory is refused at once instead of
 * read without end), libyaml's parse with its nesting limit, and the one YAML
 * document whose root config.c validates. Syntax errors are reported with their
 * position and, for the commonest cause, a hint (tabs).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "hpsweep/error.h"

/* Whether line (0-based) of text is indented with a tab: the usual cause of
 * libyaml's "found character that cannot start any token". */
static int tab_indented(const char *text, size_t len, size_t line)
{
    size_t i = 0;
    for (size_t l = 0; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    for (; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
        if (text[i] == '\t')
            return 1;
    return 0;
}

/* Report a libyaml parser failure as "source:line:column: YAML syntax error: ...". */
static int syntax_error(hps_yaml_ctx *ctx, const yaml_parser_t *parser, const char *text,
                        size_t len)
{
    if (parser->error == YAML_MEMORY_ERROR) {
        if (ctx->err && ctx->errlen)
            snprintf(ctx->err, ctx->errlen, "%s: out of memory while reading YAML", ctx->source);
        return HPS_ENOMEM;
    }
    yaml_node_t at;
    memset(&at, 0, sizeof at);
    at.start_mark = parser->problem_mark;
    if (parser->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        size_t line = 0, col = 0;
        for (size_t i = 0; i < parser->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 0;
            } else {
                col++;
            }
        }
        at.start_mark.line = line;
        at.start_mark.column = col;
    }
    const char *problem = parser->problem ? parser->problem : "malformed YAML";
    const char *hint = tab_indented(text, len, at.start_mark.line)
                           ? "; YAML indentation must use spaces, not tabs"
                           : "";
    if (parser->context)
        return hps_yaml_error(ctx, &at, "YAML syntax error: %s (%s at line %lu, column %lu)%s",
                              problem, parser->context,
                              (unsigned long)parser->context_mark.line + 1,
                              (unsigned long)parser->context_mark.column + 1, hint);
    return hps_yaml_error(ctx, &at, "YAML syntax error: %s%s", problem, hint);
}

/* Explicit tags (`!!float 5`, `!path x`) would change what a value means behind
 * the validator's back: only the loader's default tags are accepted. */
static int check_tags(hps_yaml_ctx *ctx, yaml_document_t *doc)
{
    for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
        const char *want = n->type == YAML_MAPPING_NODE    ? YAML_DEFAULT_MAPPING_TAG
                           : n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
                                                           : YAML_DEFAULT_SCALAR_TAG;
        if (n->tag && strcmp((const char *)n->tag, want) != 0)
            return hps_yaml_error(ctx, n, "explicit tag '%s' is not supported; write the value "
                                          "plainly", (const char *)n->tag);
    }
    return HPS_OK;
}

static int load_document(hps_yaml_ctx *ctx, yaml_parser_t *parser, hps_config *cfg)
{
    yaml_document_t doc;
    if (!yaml_parser_load(parser, &doc))
        return syntax_error(ctx, parser, cfg->text, cfg->text_len);
    ctx->doc = &doc;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = HPS_OK;
    if (!root) {
        rc = hps_yaml_error(ctx, NULL, "empty configuration; expected a mapping with at least "
                                       "'objective' and 'space'");
    } else {
        yaml_document_t next;
        if (!yaml_parser_load(parser, &next)) {
            rc = syntax_error(ctx, parser, cfg->text, cfg->text_len);
        } else {
            if (yaml_document_get_root_node(&next)) {
                yaml_node_t at;
                memset(&at, 0, sizeof at);
                at.start_mark = next.start_mark;
                rc = hps_yaml_error(ctx, &at, "more than one YAML document; a sweep config is "
                                              "a single document");
            }
            yaml_document_delete(&next);
        }
    }
    if (rc == HPS_OK)
        rc = check_tags(ctx, &doc);
    if (rc == HPS_OK)
        rc = hps_config_parse_root(ctx, root, cfg);
    if (rc == HPS_OK)
        rc = hps_config_marks_record(ctx, root, cfg);
    yaml_document_delete(&doc);
    ctx->doc = NULL;
    return rc;
}

/*
 * The nesting limit, checked on libyaml's event stream before the document is
 * loaded: libyaml's scanner spends time quadratic in the nesting depth (60,000
 * levels of `[` took 16 s), so a deep document must be stopped while it is parsed,
 * at the first collection past the limit, not after.
 */
static int check_depth(hps_yaml_ctx *ctx, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return HPS_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = HPS_OK, depth = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(ctx, &parser, text, len);
            break;
        }
        yaml_event_type_t type = ev.type;
        yaml_node_t at;
        memset(&at, 0, sizeof at);
        at.start_mark = ev.start_mark;
        yaml_event_delete(&ev);
        if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
            if (++depth > HPS_CONFIG_MAX_DEPTH) {
                rc = hps_yaml_error(ctx, &at, "nesting deeper than %d levels; a sweep config "
                                              "needs a few", HPS_CONFIG_MAX_DEPTH);
                break;
            }
        } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (type == YAML_STREAM_END_EVENT) {
            break;
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

int hps_config_parse(const char *text, size_t len, const char *source, hps_config *cfg,
                     char *err, size_t errlen)
{
    if (!cfg)
        return HPS_EINVAL;
    memset(cfg, 0, sizeof *cfg);
    if (err && errlen)
        err[0] = '\0';
    if (!text)
        return HPS_EINVAL;
    cfg->source = hps_yaml_strdup(source ? source : "<config>");
    cfg->text = malloc(len + 1);
    if (!cfg->source || !cfg->text)
        return HPS_ENOMEM;
    memcpy(cfg->text, text, len);
    cfg->text[len] = '\0';
    cfg->text_len = len;

    hps_yaml_ctx ctx = {.doc = NULL, .source = cfg->source, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return HPS_ENOMEM;
    int rc = check_depth(&ctx, cfg->text, len);
    if (rc == HPS_OK) {
        yaml_parser_set_input_string(&parser, (const unsigned char *)cfg->text, len);
        rc = load_document(&ctx, &parser, cfg);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* Read the whole regular file fd (at most HPS_CONFIG_MAX_BYTES) into *out. */
static int read_file(int fd, const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return HPS_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file (%s); a config is a YAML file", path,
                 S_ISDIR(st.st_mode) ? "a directory" : S_ISCHR(st.st_mode) ? "a device"
                 : S_ISFIFO(st.st_mode) ? "a pipe" : "not a file");
        return HPS_ECONFIG;
    }
    if (st.st_size > HPS_CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "%s: %lld bytes; a config may be at most %d MiB", path,
                 (long long)st.st_size, HPS_CONFIG_MAX_BYTES >> 20);
        return HPS_ECONFIG;
    }
    /* The size is a hint: read up to one byte past the cap, whatever it said. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return HPS_ENOMEM;
    for (;;) {
        if (n == cap) {
            size_t bigger = cap * 2 > (size_t)HPS_CONFIG_MAX_BYTES + 1
                                ? (size_t)HPS_CONFIG_MAX_BYTES + 1 : cap * 2;
            if (bigger == cap)
                break;
            char *nb = realloc(buf, bigger + 1);
            if (!nb) {
                free(buf);
                return HPS_ENOMEM;
            }
            buf = nb;
            cap = bigger;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
            free(buf);
            return HPS_EIO;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > HPS_CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "%s: more than %d MiB; a config may be at most %d MiB", path,
                 HPS_CONFIG_MAX_BYTES >> 20, HPS_CONFIG_MAX_BYTES >> 20);
        free(buf);
        return HPS_ECONFIG;
    }
    *out = buf;
    *len = n;
    return HPS_OK;
}

int hps_config_load(const char *path, hps_config *cfg, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!cfg)
        return HPS_EINVAL;
    memset(cfg, 0, sizeof *cfg);
    err[0] = '\0';
    if (!path)
        return HPS_EINVAL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused anyway). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return e == ENOENT ? HPS_ENOENT : HPS_EIO;
    }
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(fd, path, &buf, &len, err, errlen);
    close(fd);
    if (rc == HPS_OK)
        rc = hps_config_parse(buf, len, path, cfg, err == dummy ? NULL : err, errlen);
    free(buf);
    return rc;
}
