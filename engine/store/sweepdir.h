/*
 * The sweep directory (runs/<name>/): its paths, creation and the lock that keeps
 * a second coordinator out.
 *
 *   sweep.h5   results (rewritten whole, temp + rename)
 *   sweep.h5.resume  while a resume replays a long journal: the trials it let go
 *              of (hps_sweep_replay_spilling), removed at the first write of sweep.h5
 *   journal    append-only log, the source of truth
 *   lock       flock()ed while a coordinator runs; holds "pid host" for messages.
 *              The kernel drops the lock when the process dies, so a kill -9
 *              never leaves a stale lock behind.
 *   trials/    per-trial logs and checkpoints
 */
#ifndef HPS_STORE_SWEEPDIR_H
#define HPS_STORE_SWEEPDIR_H

#include <stddef.h>

#include "core/fs.h"

/* The file a resume's replay lets go of trials into (see above). */
#define HPS_SWEEPDIR_RESUME_FILE "sweep.h5.resume"

/* Take dir/lock (waiting at most half a second, the length of any
 * hps_sweepdir_locked probe): HPS_OK with *fd set (keep it open), or
 * HPS_ELOCKED with err naming the holder, or HPS_EIO. */
int hps_sweepdir_lock(const char *dir, int *fd, char *err, size_t errlen);

/* Is dir/lock held by a running coordinator? 1 yes, 0 no (or no lock file). It
 * holds a shared lock for a moment to find out; hps_sweepdir_lock waits that out. */
int hps_sweepdir_locked(const char *dir);

#endif
