/*
 * Processes a trial left behind outside its process group (a `setsid` daemon, a
 * double fork). The spawner is a child subreaper (PR_SET_CHILD_SUBREAPER), so such
 * a process becomes the spawner's child once the trial's own process exits, and
 * hps_strays_kill finds it there. Private to the workers module.
 */
#ifndef HPS_WORKERS_STRAYS_H
#define HPS_WORKERS_STRAYS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * SIGKILL every child of the calling (single-threaded) process whose pid is not in
 * keep[0..n), and the process group of each that leads its own group (what setsid
 * makes). Returns how many were signalled, or -1 when the kernel cannot list the
 * children (/proc/self/task/<pid>/children missing): then nothing is done.
 */
int hps_strays_kill(const pid_t *keep, size_t n);

#endif
