/* content: stored file content shared by files (per-user dedup) and the
 * accounting that goes with it. Functions taking `db` run inside the
 * caller's transaction on it. */
#ifndef NETRA_CONTENT_H
#define NETRA_CONTENT_H
#include <stdint.h>
#include <stdbool.h>
#include "drive/drive.h"

/** Drops one reference to a content. At zero the content row goes, its
 *  chunks are queued in pending_deletes for background removal from storage,
 *  and the owner's stored_bytes shrinks. DRIVE_OK or a fault code. Call it
 *  inside a write transaction (db_begin): it queues while its chunk query is
 *  open, which on SQLite fails outside one once another connection wrote
 *  (DECISIONS, "Writes beside an open read"). */
int content_unref(db_t *db, const char *content_id);

/** True when a chunk of some content has this locator (also on a fault:
 *  callers use it to decide whether a chunk may be deleted). */
bool content_knows_locator(db_t *db, const char *locator);

/** Calls fn(arg, locator) for every chunk stored in `backend`; a non-zero
 *  return stops the walk. DRIVE_OK or a fault code. */
int content_each_locator(db_t *db, const char *backend, int (*fn)(void *arg, const char *locator),
                         void *arg);

/** A user's usage counters, kept with every change (API §7). */
struct usage {
  int64_t total_bytes;   /* every file, the bin included */
  int64_t file_count;
  int64_t bin_bytes;
  int64_t stored_bytes;  /* what sits in storage after dedup */
};

/** Reads the user's counters (O(1)). DRIVE_OK, DRIVE_NOT_FOUND or a fault. */
int usage_get(const char *user_id, struct usage *out);

/** Adds deltas to a user's usage counters (O(1) storage report). */
int usage_add(db_t *db, const char *user_id, int64_t d_total, int64_t d_count, int64_t d_bin,
              int64_t d_stored);

#endif
