/*
 * File facts of provenance (see provenance.h): the SHA-256 (OpenSSL libcrypto) of
 * every `datasets` entry and of the objective's code.
 *
 *   dataset    a file: its hash; a directory: one row for the directory whose hash
 *              is the SHA-256 of its manifest (the "<sha256>  <relative path>\n"
 *              lines of every regular file below it, sorted by path: what
 *              `find . -type f | sort | xargs sha256sum` prints), plus one row per
 *              file when it holds at most 256
 *   objective  a command's program (argv[0] through PATH, or relative to workdir);
 *              for a built-in function, the hpsweep binary that computes it
 *   script     the script an interpreter runs: for python*, bash, sh, perl, ruby,
 *              Rscript, node and the like, the first argument that is not an option
 *              or a placeholder and names a file (relative to workdir)
 *
 * A path that cannot be read is recorded with sha256 "unreadable: <reason>".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "hpsweep/error.h"
#include "provenance.h"

#define MAX_LISTED 256

static void hex(const unsigned char *md, unsigned n, char out[65])
{
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int hps_sha256_file(const char *path, char out[65], long long *bytes)
{
    *bytes = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int code = errno == ENOENT ? HPS_ENOENT : HPS_EIO;
        snprintf(out, 65, "unreadable: %s", strerror(errno));
        return code;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? HPS_OK : HPS_EIO;
    static unsigned char buf[1 << 20];
    while (rc == HPS_OK) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(out, 65, "unreadable: %s", strerror(errno));
            rc = HPS_EIO;
            break;
        }
        if (n == 0)
            break;
        *bytes += n;
        if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
            rc = HPS_EIO;
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (rc == HPS_OK && EVP_DigestFinal_ex(md, d, &len) == 1)
        hex(d, len, out);
    else if (rc == HPS_OK)
        rc = HPS_EIO;
    if (rc == HPS_EIO && strncmp(out, "unreadable", 10) != 0)
        snprintf(out, 65, "unreadable: hashing failed");
    EVP_MD_CTX_free(md);
    close(fd);
    return rc;
}

static int add_file(hps_prov *p, const char *role, const char *path, const char *sha,
                    long long bytes)
{
    int index = hps_prov_count(p, HPS_PROV_FILE);
    char b[32];
    snprintf(b, sizeof b, "%lld", bytes);
    int rc = hps_prov_add(p, HPS_PROV_FILE, index, "role", role);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_FILE, index, "path", path);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_FILE, index, "sha256", sha);
    if (rc == HPS_OK)
        rc = hps_prov_add(p, HPS_PROV_FILE, index, "bytes", b);
    return rc;
}

static int hash_and_add(hps_prov *p, const char *role, const char *path)
{
    char sha[65];
    long long bytes;
    hps_sha256_file(path, sha, &bytes);
    return add_file(p, role, path, sha, bytes);
}

/* ---- directories ------------------------------------------------------------------- */

typedef struct file_list {
    char **paths;   /* relative to the root */
    size_t n, cap;
    int oom;
} file_list;

static void list_push(file_list *l, const char *rel)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **p = realloc(l->paths, sizeof *p * cap);
        if (!p) {
            l->oom = 1;
            return;
        }
        l->paths = p;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(rel)))
        l->oom = 1;
    else
        l->n++;
}

/* Every regular file below root/rel (symbolic links to files count; to directories
 * are not followed), relative paths into l. */
static void walk(const char *root, const char *rel, file_list *l, int depth)
{
    char dir[HPS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d || depth > 64) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[HPS_PATH_MAX], full[HPS_PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st, lst;
        if (lstat(full, &lst) != 0 || stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode))
            walk(root, sub, l, depth + 1);
        else if (S_ISREG(st.st_mode))
            list_push(l, sub);
    }
    closedir(d);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hash_dir(hps_prov *p, const char *root)
{
    file_list l = {0};
    walk(root, "", &l, 0);
    if (l.oom) {
        for (size_t i = 0; i < l.n; i++)
            free(l.paths[i]);
        free(l.paths);
        return HPS_ENOMEM;
    }
    qsort(l.paths, l.n, sizeof *l.paths, by_path);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? HPS_OK : HPS_ENOMEM;
    long long total = 0;
    for (size_t i = 0; rc == HPS_OK && i < l.n; i++) {
        char full[HPS_PATH_MAX], sha[65], line[HPS_PATH_MAX + 80];
        long long bytes;
        snprintf(full, sizeof full, "%s/%s", root, l.paths[i]);
        hps_sha256_file(full, sha, &bytes);
        total += bytes;
        int n = snprintf(line, sizeof line, "%s  %s\n", sha, l.paths[i]);
        if (EVP_DigestUpdate(md, line, (size_t)n) != 1)
            rc = HPS_ENOMEM;
        if (rc == HPS_OK && l.n <= MAX_LISTED)
            rc = add_file(p, "dataset", full, sha, bytes);
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char sha[65] = "unreadable: hashing failed";
    if (rc == HPS_OK && EVP_DigestFinal_ex(md, d, &len) == 1)
        hex(d, len, sha);
    if (rc == HPS_OK)
        rc = add_file(p, "dataset", root, sha, total);
    EVP_MD_CTX_free(md);
    for (size_t i = 0; i < l.n; i++)
        free(l.paths[i]);
    free(l.paths);
    return rc;
}

/* ---- the objective's code ------------------------------------------------------------- */

/* path made absolute against base (when relative) and cleaned by realpath where
 * it exists. */
static void resolve(const char *base, const char *path, char *out, size_t len)
{
    char joined[HPS_PATH_MAX];
    if (path[0] == '/' || !base)
        snprintf(joined, sizeof joined, "%s", path);
    else
        snprintf(joined, sizeof joined, "%s/%s", base, path);
    if (!realpath(joined, out))
        snprintf(out, len, "%s", joined);
}

/* argv0 as execvp finds it: a path (relative to workdir) or the first executable
 * on PATH; "" when not found. */
static void find_program(const char *argv0, const char *workdir, char *out, size_t len)
{
    out[0] = '\0';
    if (strchr(argv0, '/')) {
        resolve(workdir, argv0, out, len);
        return;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char cand[HPS_PATH_MAX];
        snprintf(cand, sizeof cand, "%.*s/%s", (int)n, n ? path : ".", argv0);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
            if (!realpath(cand, out))
                snprintf(out, len, "%s", cand);
            return;
        }
        path += n + (path[n] == ':');
    }
}

static int is_interpreter(const char *argv0)
{
    static const char *const names[] = {"python", "bash", "sh", "dash", "zsh", "ksh", "perl",
                                        "ruby", "Rscript", "node", "julia", "lua", "php", NULL};
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        /* python3, python3.11, perl5 ... */
        if (strncmp(base, names[i], n) == 0 && strspn(base + n, "0123456789.") == strlen(base + n))
            return 1;
    }
    return 0;
}

static int add_objective(hps_prov *p, const hps_config *cfg)
{
    const hps_objective_cfg *o = &cfg->objective;
    char path[HPS_PATH_MAX];
    if (o->kind != HPS_OBJ_COMMAND) {
        hps_self_path(path, sizeof path);
        return hash_and_add(p, "objective", path[0] ? path : "hpsweep");
    }
    find_program(o->argv[0], o->workdir, path, sizeof path);
    int rc = path[0] ? hash_and_add(p, "objective", path)
                     : add_file(p, "objective", o->argv[0], "unreadable: not found on PATH", 0);
    if (rc != HPS_OK || !is_interpreter(o->argv[0]))
        return rc;
    for (int i = 1; i < o->argc; i++) {
        const char *a = o->argv[i];
        if (a[0] == '-' && strcmp(a, "-m") == 0)
            return HPS_OK; /* python -m module: no script file */
        if (a[0] == '-' || strchr(a, '{'))
            continue;
        char script[HPS_PATH_MAX];
        resolve(o->workdir, a, script, sizeof script);
        struct stat st;
        if (stat(script, &st) == 0 && S_ISREG(st.st_mode))
            return hash_and_add(p, "script", script);
        return HPS_OK; /* a command string (sh -c '...') or a missing file: nothing to hash */
    }
    return HPS_OK;
}

int hps_prov_add_files(hps_prov *p, const hps_config *cfg, const char *config_dir)
{
    int rc = HPS_OK;
    for (int i = 0; rc == HPS_OK && i < cfg->n_datasets; i++) {
        char path[HPS_PATH_MAX];
        resolve(config_dir, cfg->datasets[i], path, sizeof path);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = hash_dir(p, path);
        else
            rc = hash_and_add(p, "dataset", path);
    }
    return rc == HPS_OK ? add_objective(p, cfg) : rc;
}
