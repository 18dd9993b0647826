/*
 * The fuzz harnesses' entry points. Each takes one input and must return 0
 * without crashing, hanging or tripping a sanitizer, whatever the bytes. Built
 * with HPS_FUZZ_MAIN each file is a libFuzzer target (tests/fuzz/CMakeLists.txt);
 * without it the unit test test_fuzz_corpus replays the committed corpora and
 * regressions through the same functions in the ordinary build.
 */
#ifndef HPS_TESTS_FUZZ_H
#define HPS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The config loader: YAML text through hps_config_parse and, when it parses, the
 * check that sweep.h5 can hold its space. */
int hps_fuzz_config(const uint8_t *data, size_t size);

/*
 * The journal reader and replayer. data[0] & 3 picks the form of the rest:
 * 0  a journal file as it lies on disk: inspected, opened for reading and
 *    replayed, then opened for writing (a torn tail cut, damage refused),
 *    replayed, appended to and synced;
 * 1, 3  layout-1 records framed as [type u8][trial id i8][length u16 LE][payload],
 *    given correct sequence numbers and CRCs by the harness, so that the fuzzer
 *    reaches hps_sweep_apply (and the strategies) past the checksums;
 * 2  layout-2 packs framed as [count u8][length u16 LE][pack payload], given
 *    sequence numbers and CRCs the same way: the pack and compact-form decoders.
 */
int hps_fuzz_journal(const uint8_t *data, size_t size);

/* The @hpsweep report-line parser. */
int hps_fuzz_report_line(const uint8_t *data, size_t size);

/* The results reader on a sweep.h5 file's bytes. */
int hps_fuzz_results(const uint8_t *data, size_t size);

/* The same, with the seal recomputed first: a crafted file, for HDF5's parser and
 * the reader's checks behind the seal (a long-run harness; see its file). */
int hps_fuzz_results_resealed(const uint8_t *data, size_t size);

/* A memfd holding data, as a path ("/proc/self/fd/N") the file APIs can open; one
 * per harness, rewritten for every input. NULL on failure. */
const char *hps_fuzz_file(int *fd, const uint8_t *data, size_t size);

#endif
