/*
 * A damaged journal (a bad record with valid records after it): how the CLI
 * describes it, and `hpsweep resume DIR --salvage`, which rewrites it from the
 * records that still verify. Private to the cli module.
 */
#ifndef HPS_CLI_SALVAGE_H
#define HPS_CLI_SALVAGE_H

#include <stddef.h>

#include "store/journal.h"

/* One paragraph for the user: where the damage is, how much verifies after it,
 * that nothing was changed, and the way out (dir is the sweep directory). */
void hps_salvage_describe(const char *path, const char *dir, const hps_journal_damage *d,
                          char *buf, size_t len);

/*
 * Salvage the journal at path (the sweep directory is locked by the caller): copy
 * it to "<path>.damaged-<UTC time>", then replace it with a journal of the
 * records that verify and still apply in order, renumbered 1, 2, ... (a record
 * that needs a lost one, such as the result of a trial whose suggestion was lost,
 * cannot be applied and is dropped). What was kept, lost and dropped, and where
 * the copy is, goes to stderr. HPS_OK (also when the journal was whole: then
 * nothing changes), or an error with err filled: HPS_EDAMAGED when nothing can be
 * salvaged (the first record, which holds the sweep's config, is lost).
 */
int hps_salvage(const char *path, char *err, size_t errlen);

#endif
