/*
 * A run's provenance: key/value facts about the run itself (HPS_PROV_RUN: versions,
 * build, libraries, user code, environment, times), about each host it ran on
 * (HPS_PROV_HOST, index = the host's number in the run) and about each
 * fingerprinted file (HPS_PROV_FILE, index = the file's number: datasets and the
 * objective's executable, script or plug-in, with their SHA-256).
 *
 * The CLI collects one when a run starts; it is journaled as a RUN record (so a
 * rebuilt sweep.h5 keeps every run's), kept by the sweep state (one per run: the
 * first, then one per resume) and written by the store under /provenance. Strings
 * are owned; entries are only appended, and a lookup finds the last one.
 */
#ifndef HPS_STORE_PROV_H
#define HPS_STORE_PROV_H

#include <stddef.h>
#include <stdint.h>

enum { HPS_PROV_RUN = 0, HPS_PROV_HOST = 1, HPS_PROV_FILE = 2 };

typedef struct hps_prov_entry {
    int32_t kind;   /* HPS_PROV_* */
    int32_t index;  /* host or file number (0 for run facts) */
    char *key;
    char *value;
} hps_prov_entry;

typedef struct hps_prov {
    int n;
    size_t cap;
    hps_prov_entry *e;
} hps_prov;

/* Append a fact (copies key and value; value NULL is stored as ""). HPS_OK or
 * HPS_ENOMEM (p unchanged). */
int hps_prov_add(hps_prov *p, int kind, int index, const char *key, const char *value);

/* The same with lengths (the strings need not be NUL-terminated). */
int hps_prov_addn(hps_prov *p, int kind, int index, const char *key, size_t klen,
                  const char *value, size_t vlen);

/* The last value of key for (kind, index), or NULL. */
const char *hps_prov_get(const hps_prov *p, int kind, int index, const char *key);

/* Hosts or files the provenance describes: the largest index of that kind + 1. */
int hps_prov_count(const hps_prov *p, int kind);

/* The index of the host called name (its "host" fact) or the file at path (its
 * "path" fact), or -1. */
int hps_prov_find(const hps_prov *p, int kind, const char *name);

/* Append every entry of src to dst. HPS_OK or HPS_ENOMEM. */
int hps_prov_append(hps_prov *dst, const hps_prov *src);

/* Free what p owns and zero it; NULL-safe. */
void hps_prov_free(hps_prov *p);

/*
 * The differences between two runs' provenance, one call of each(ctx, what, a, b)
 * per differing fact, a or b NULL when absent on that side: run facts by key (what
 * = the key), hosts matched by name (what = "host <name>: <key>"; a host on one
 * side only: what = "host <name>", a or b "present") and files by path (what =
 * "file <path>": the SHA-256 values). Run facts that always differ between runs
 * (times, the command line, the run's own status) are left out. Returns the number
 * of differences.
 */
int hps_prov_diff(const hps_prov *a, const hps_prov *b,
                  void (*each)(void *ctx, const char *what, const char *a, const char *b),
                  void *ctx);

/* Whether a run fact is one hps_prov_diff leaves out (it changes every run). */
int hps_prov_volatile(const char *key);

/*
 * Every run's provenance from sweep.h5 at path (/provenance's tables, store_prov.c):
 * *runs (new, *n_runs of them; free with hps_prov_runs_free). A file written
 * before the tables existed gives one run of /provenance's attributes (none
 * without the group). HPS_OK, HPS_ENOENT, HPS_ECORRUPT or HPS_ENOMEM with err.
 */
int hps_prov_read(const char *path, hps_prov **runs, int *n_runs, char *err, size_t errlen);
void hps_prov_runs_free(hps_prov *runs, int n_runs);

/* The facts of a host and of a file, in /provenance/hosts' and /provenance/files'
 * column order (NULL-terminated): what the collector records and the store
 * writes. */
extern const char *const hps_prov_host_keys[];
extern const char *const hps_prov_file_keys[];

#endif
