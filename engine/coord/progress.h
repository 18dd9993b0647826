/*
 * Progress output on stderr. On a terminal: one live line, redrawn at most ten
 * times a second (done/running/failed, best so far, elapsed, ETA). Otherwise: one
 * log line per completed trial (batch jobs, CI logs).
 */
#ifndef HPS_COORD_PROGRESS_H
#define HPS_COORD_PROGRESS_H

#include <stdint.h>

#include "sweep.h"

typedef struct hps_progress {
    int tty;
    int64_t max_trials;
    int64_t done_at_start;
    double start, last_draw;
    int drawn;
} hps_progress;

void hps_progress_init(hps_progress *p, int tty, int64_t max_trials, const hps_sweep *s);

/* A trial ended (logs it when not on a terminal). */
void hps_progress_trial(hps_progress *p, const hps_sweep *s, const hps_trial *t);

/* Redraw the live line if due (always when final; final also ends the line). */
void hps_progress_tick(hps_progress *p, const hps_sweep *s, int final);

#endif
