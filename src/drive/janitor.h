/* janitor: a background thread for periodic housekeeping: purging bin items
 * older than BIN_RETENTION_DAYS and forgetting expired tokens. */
#ifndef NETRA_JANITOR_H
#define NETRA_JANITOR_H
#include "config.h"

/** Starts the thread (a first pass runs at once). 0 or -1. */
int janitor_start(const struct config *cfg);
/** Stops and joins it. */
void janitor_stop(void);
/** One pass on the calling thread's connection (also used by tests/tools). */
void janitor_run_once(const struct config *cfg);

#endif
