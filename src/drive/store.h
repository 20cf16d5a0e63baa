/* store: the process-wide chunk store and the background sweeper that
 * removes storage garbage recorded in pending_deletes, retrying failures with
 * backoff, so a request never waits on (or fails because of) a removal. */
#ifndef NETRA_STORE_H
#define NETRA_STORE_H
#include <stdbool.h>
#include "blob/blob.h"
#include "config.h"
#include "db/db.h"

/** Opens the configured chunk store; with `sweeper`, also starts the
 *  background sweeper thread (the server) — tools sweep by hand. */
int store_init(const struct config *cfg, bool sweeper, char *err, size_t errlen);
/** Stops the sweeper and closes the store. */
void store_shutdown(void);
/** The chunk store. */
struct blob *store_blob(void);
/** Wakes the sweeper (after queueing deletions). */
void store_kick(void);
/** Runs one sweep now on `db`; returns the number of chunks removed. */
int store_sweep(db_t *db, int max_items);
/** Turns every staged (uncommitted) chunk record older than `before_ms` into
 *  a deletion: chunks of uploads that died with the process. */
int store_reclaim_staged(db_t *db, int64_t before_ms);

#endif
