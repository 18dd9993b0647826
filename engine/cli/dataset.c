/*
 * `hpsweep dataset synth` and `hpsweep dataset check`: the built-in trainer's
 * datasets (layout in workers/trainer/trainer.h).
 *
 * synth writes a deterministic synthetic classification set (hps_dataset_synth)
 * and never loses a user's file: a FILE that already holds exactly the set asked
 * for (same generator version and arguments, and it passes the check) is kept and
 * the command succeeds, so a README's commands work when pasted twice; any other
 * existing FILE is refused unless --force. check validates a file as a sweep
 * would before it starts and prints its shape, task and SHA-256.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/fs.h"
#include "hpsweep/error.h"
#include "trainer/trainer.h"

#define EXIT_CODES                                                                          \
    "Exit codes: 0 done, 1 error (I/O), 2 bad usage, a refused FILE or an invalid\n"         \
    "dataset (nothing written).\n"

static void usage_synth(FILE *f)
{
    fprintf(f,
            "usage: hpsweep dataset synth -o FILE [--samples N] [--features D] [--classes C]\n"
            "                             [--seed S] [--force]\n\n"
            "Write a synthetic classification dataset in the trainer's layout (/train/X,\n"
            "/train/y, /val/X, /val/y; 80%% train, 20%% val): Gaussian clusters per class,\n"
            "informative, redundant and noise features, 3%% of labels flipped, so that\n"
            "hyper-parameters matter. The same arguments give the same file, byte for byte.\n\n"
            "  -o FILE          the HDF5 file to write (its directory is made if needed)\n"
            "  --samples N      rows, train and val together (default %d, at least 10)\n"
            "  --features D     columns (default %d, 2 to 1000000)\n"
            "  --classes C      classes (default %d, 2 to 1000)\n"
            "  --seed S         the generator's seed (default 0)\n"
            "  --force          replace FILE when it exists and holds something else\n\n"
            "A FILE that already holds exactly this set is kept (exit 0); any other existing\n"
            "FILE is refused without --force.\n\n"
            "%s", HPS_SYNTH_SAMPLES, HPS_SYNTH_FEATURES, HPS_SYNTH_CLASSES, EXIT_CODES);
}

static void usage_check(FILE *f)
{
    fprintf(f,
            "usage: hpsweep dataset check FILE\n\n"
            "Check FILE as a sweep of the built-in trainer does before it starts (layout,\n"
            "types, shapes, no NaN or Inf, labels in range) and print its rows, features,\n"
            "task (classification with its classes, or regression) and SHA-256.\n\n"
            "%s", EXIT_CODES);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hpsweep dataset synth -o FILE [options]   (see --help of each)\n"
               "       hpsweep dataset check FILE\n\n%s", EXIT_CODES);
}

/* The exit code of a dataset function's error. */
static int exit_of(int rc)
{
    return rc == HPS_EIO || rc == HPS_ENOMEM ? HPS_EXIT_ERROR : HPS_EXIT_USAGE;
}

static void print_info(const char *path, const hps_dataset_info *d)
{
    if (d->task == HPS_TASK_REGRESS)
        printf("%s: regression\n", path);
    else
        printf("%s: classification, %d classes\n", path, d->classes);
    printf("  train   %" PRId64 " x %" PRId64 "\n", d->n_train, d->features);
    printf("  val     %" PRId64 " x %" PRId64 "\n", d->n_val, d->features);
    printf("  sha256  %s\n", d->sha256);
}

/* A whole number in [lo, hi] from text; 0 on success. */
static int parse_count(const char *opt, const char *text, long long lo, long long hi,
                       long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "hpsweep: %s: expected a whole number from %lld to %lld, got '%s'\n",
                opt, lo, hi, text ? text : "");
        return -1;
    }
    *out = v;
    return 0;
}

static int synth(int argc, char **argv)
{
    const char *out = NULL;
    long long samples = HPS_SYNTH_SAMPLES, features = HPS_SYNTH_FEATURES,
              classes = HPS_SYNTH_CLASSES;
    unsigned long long seed = 0;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--force") == 0) {
            force = 1;
            continue;
        }
        if (strcmp(a, "-o") == 0) {
            if (!v) {
                usage_synth(stderr);
                return HPS_EXIT_USAGE;
            }
            out = v;
        } else if (strcmp(a, "--samples") == 0) {
            bad = parse_count(a, v, 10, (long long)1 << 40, &samples);
        } else if (strcmp(a, "--features") == 0) {
            bad = parse_count(a, v, 2, 1000000, &features);
        } else if (strcmp(a, "--classes") == 0) {
            bad = parse_count(a, v, 2, 1000, &classes);
        } else if (strcmp(a, "--seed") == 0) {
            char *end = NULL;
            errno = 0;
            seed = v ? strtoull(v, &end, 10) : 0;
            bad = !v || !*v || *end || errno || v[0] == '-';
            if (bad)
                fprintf(stderr, "hpsweep: --seed: expected a whole number from 0 to 2^64-1, "
                        "got '%s'\n", v ? v : "");
        } else {
            fprintf(stderr, "hpsweep: dataset synth: unexpected argument '%s'\n", a);
            usage_synth(stderr);
            return HPS_EXIT_USAGE;
        }
        if (bad)
            return HPS_EXIT_USAGE;
        i++;
    }
    if (!out || !*out) {
        fprintf(stderr, "hpsweep: dataset synth: -o FILE is required\n");
        usage_synth(stderr);
        return HPS_EXIT_USAGE;
    }
    char err[2048] = "";
    hps_dataset_info info;
    char what[160];
    snprintf(what, sizeof what, "%lld samples, %lld features, %lld classes, seed %llu", samples,
             features, classes, seed);
    if (access(out, F_OK) == 0 && !force) {
        if (!hps_dataset_synth_same(out, samples, (int)features, (int)classes, seed)) {
            fprintf(stderr, "hpsweep: %s exists and does not hold this synthetic set (%s); "
                    "nothing written. Choose another file, or pass --force to replace it\n",
                    out, what);
            return HPS_EXIT_USAGE;
        }
        int rc = hps_dataset_check(out, &info, err, sizeof err);
        if (rc != HPS_OK) {
            fprintf(stderr, "hpsweep: %s was written as this synthetic set but fails its check: "
                    "%s; pass --force to write it again\n", out, err);
            return exit_of(rc);
        }
        fprintf(stderr, "hpsweep: %s already holds this synthetic set (%s): kept\n", out, what);
        print_info(out, &info);
        return HPS_EXIT_OK;
    }
    char dir[HPS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", out);
    int rc = hps_mkdir_p(dirname(dir), err, sizeof err);
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s\n", err);
        return HPS_EXIT_ERROR;
    }
    rc = hps_dataset_synth(out, samples, (int)features, (int)classes, seed, err, sizeof err);
    if (rc == HPS_OK && (rc = hps_dataset_check(out, &info, err, sizeof err)) != HPS_OK)
        rc = HPS_EIO; /* what we just wrote does not read back */
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s\n", err[0] ? err : hps_strerror(rc));
        return exit_of(rc);
    }
    fprintf(stderr, "hpsweep: wrote %s (%s)\n", out, what);
    print_info(out, &info);
    return ferror(stdout) ? HPS_EXIT_ERROR : HPS_EXIT_OK;
}

static int check(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        usage_check(stderr);
        return HPS_EXIT_USAGE;
    }
    char err[2048] = "";
    hps_dataset_info info;
    int rc = hps_dataset_check(argv[1], &info, err, sizeof err);
    if (rc != HPS_OK) {
        fprintf(stderr, "hpsweep: %s\n", err[0] ? err : hps_strerror(rc));
        return exit_of(rc);
    }
    print_info(argv[1], &info);
    return ferror(stdout) ? HPS_EXIT_ERROR : HPS_EXIT_OK;
}

int hps_cli_dataset(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && strcmp(sub, "synth") == 0) {
        if (hps_cli_wants_help(argc - 1, argv + 1)) {
            usage_synth(stdout);
            return HPS_EXIT_OK;
        }
        return synth(argc - 1, argv + 1);
    }
    if (sub && strcmp(sub, "check") == 0) {
        if (hps_cli_wants_help(argc - 1, argv + 1)) {
            usage_check(stdout);
            return HPS_EXIT_OK;
        }
        return check(argc - 1, argv + 1);
    }
    if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        usage(stdout);
        return HPS_EXIT_OK;
    }
    if (sub)
        fprintf(stderr, "hpsweep: dataset: unknown command '%s'\n", sub);
    usage(stderr);
    return HPS_EXIT_USAGE;
}
