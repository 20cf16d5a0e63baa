/* store: the process-wide chunk store and the background sweeper that
 * removes storage garbage recorded in pending_deletes, retrying failures with
 * backoff, so a request never waits on (or fails because of) a removal. */
#ifndef NETRA_STORE_H
#define NETRA_STORE_H
#include <stdbool.h>
#include "blob/blob.h"
#include "db/db.h"

/** Opens the chunk store `opt` describes; with `sweeper`, also starts the
 *  background sweeper thread (the server) — tools sweep by hand. */
int store_init(const struct blob_options *opt, bool sweeper, char *err, size_t errlen);
/** Stops the sweeper, closes the store and runs the last put outcomes. */
void store_shutdown(void);
/** The chunk store (NULL once store_shutdown has closed it). */
struct blob *store_blob(void);
/** The store's backend name, recorded with contents and garbage; valid
 *  even after store_shutdown. */
const char *store_backend_name(void);
/** One put on its way; owned by the caller, who must keep it alive until
 *  its `done` has run (and may free it there). */
struct store_op {
  struct store_op *next;   /* the completion queue */
  blob_done_fn fn;
  void *arg;
  int rc;
  char locator[BLOB_LOCATOR_MAX];
};
/** Stores a spooled chunk like blob_put, but `done(arg, ...)` runs on the
 *  store's completion thread, never on the store's own (network) thread and
 *  never inside this call, so it may write to the database. */
int store_put(struct store_op *op, const char *spool_path, uint64_t size, const char *checksum,
              blob_done_fn done, void *arg);
/** Asks the store to give up a put (blob_cancel); BLOB_ERR once it is closed. */
int store_cancel(struct store_op *op);
/** Wakes the sweeper (after queueing deletions). */
void store_kick(void);
/** Runs one sweep now on `db`; returns the number of chunks removed. */
int store_sweep(db_t *db, int max_items);
/** Sweeps batch after batch until no deletion is due any more (or *stop,
 *  when given, turns true); returns the number of chunks removed. */
int store_sweep_all(db_t *db, const bool *stop);
/** Turns every staged (uncommitted) chunk record older than `before_ms` of a
 *  dead node (any node's with `any_node`: no server runs) into a deletion:
 *  chunks of uploads that died with their process. */
int store_reclaim_staged(int64_t before_ms, bool any_node);

#endif
