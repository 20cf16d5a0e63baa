/* garbage: the one owner of `pending_deletes`, the chunks in storage that
 * nothing will reference (or may not, yet). A chunk an upload has stored is
 * recorded `staged` at once, so a crash never leaks it (`held` when a URL
 * job keeps it for a resume after a restart); the commit that
 * references it confirms it (the record goes), giving up turns it into a
 * deletion. Deletions are carried out by the store's sweeper, which retries
 * failures with backoff. Every function runs on the caller's connection
 * (inside its transaction, if any) and returns DRIVE_OK or a fault code. */
#ifndef NETRA_GARBAGE_H
#define NETRA_GARBAGE_H
#include <stdbool.h>
#include <stdint.h>
#include "blob/blob.h"
#include "drive/drive.h"
#include "util/id.h"

/** Records a chunk just stored by an upload as staged; its record id goes
 *  to `id` (for garbage_confirm / garbage_release). */
int garbage_record_staged(db_t *db, const char *backend, const char *locator,
                          char id[ID_LEN + 1]);
/** The staged chunk is now referenced by a committed content: forget it. */
int garbage_confirm(db_t *db, const char *id);
/** The staged chunk will never be referenced: delete it from storage. */
int garbage_release(db_t *db, const char *id);
/** The staged chunk is kept across restarts (a URL job will resume with
 *  it): state `held`, which garbage_reclaim_staged leaves alone. It ends
 *  like a staged one, by garbage_confirm or garbage_release. */
int garbage_hold(db_t *db, const char *id);
/** Queues a chunk that is no longer referenced for removal. */
int garbage_record_delete(db_t *db, const char *backend, const char *locator);
/** Turns every staged record older than `before_ms` of a dead node (nodes.h;
 *  any node's with `any_node`) into a deletion: the uploads that made them
 *  died with their process. Returns the count (>= 0) or a fault code. */
int64_t garbage_reclaim_staged(db_t *db, int64_t before_ms, bool any_node);

/** One deletion due now. */
struct garbage_item {
  char id[ID_LEN + 1];
  char locator[BLOB_LOCATOR_MAX];
  int64_t attempts;
};
/** Loads up to `max` deletions of `backend` due at `now`, oldest due first.
 *  Returns the count (>= 0) or a fault code. */
int garbage_due(db_t *db, const char *backend, int64_t now, struct garbage_item *items, int max);
/** The chunk is gone from storage: drop its record. */
int garbage_done(db_t *db, const char *id);
/** Removing failed: count the attempt and try again at `next_attempt_at`. */
int garbage_retry(db_t *db, const char *id, int64_t next_attempt_at, const char *error);

/** True when `locator` is queued (staged or to delete). On a fault it says
 *  true: a caller deciding whether to delete must never delete by mistake. */
bool garbage_knows(db_t *db, const char *locator);
/** Calls fn(arg, locator) for every record of `backend` (staged or to
 *  delete); a non-zero return stops the walk. DRIVE_OK or a fault code. */
int garbage_each_locator(db_t *db, const char *backend, int (*fn)(void *arg, const char *locator),
                         void *arg);
/** Deletions still queued (for reports); -1 on a fault. */
int64_t garbage_pending_count(db_t *db);

#endif
