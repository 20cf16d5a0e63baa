/* content: stored file content shared by files (per-user dedup) and the
 * accounting that goes with it. All functions run inside the caller's
 * transaction on `db`. */
#ifndef NETRA_CONTENT_H
#define NETRA_CONTENT_H
#include <stdint.h>
#include "db/db.h"

/** Drops one reference to a content. At zero the content row goes, its
 *  chunks are queued in pending_deletes for background removal from storage,
 *  and the owner's stored_bytes shrinks. DB_OK or an error. */
int content_unref(db_t *db, const char *content_id);

/** Adds deltas to a user's usage counters (O(1) storage report). */
int usage_add(db_t *db, const char *user_id, int64_t d_total, int64_t d_count, int64_t d_bin,
              int64_t d_stored);

#endif
