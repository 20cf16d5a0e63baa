/* janitor: a background thread for periodic housekeeping: purging bin items
 * older than BIN_RETENTION_DAYS and forgetting expired tokens. */
#ifndef NETRA_JANITOR_H
#define NETRA_JANITOR_H

/** Starts the thread (a first pass runs at once). 0 or -1. */
int janitor_start(int bin_retention_days);
/** Stops and joins it. */
void janitor_stop(void);
/** One pass on the calling thread's connection (also used by tests/tools):
 *  bin items older than `bin_retention_days` (0 = keep) go for good. */
void janitor_run_once(int bin_retention_days);

#endif
