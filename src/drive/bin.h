/* bin: emptying a user's bin and the automatic purge of old bin items. */
#ifndef NETRA_BIN_H
#define NETRA_BIN_H
#include <stdint.h>
#include "drive/drive.h"

/** Permanently deletes everything in the owner's bin, folders and files, in
 *  one transaction. */
int drive_bin_empty(const char *owner_id);

/** Permanently deletes, for every user, the items binned directly before
 *  `cutoff_ms` and everything binned with them, in small transactions so
 *  requests are not held up. Returns DRIVE_OK or the first fault. */
int drive_purge_bin_older_than(db_t *db, int64_t cutoff_ms);

/* The purge's picks ($1 the cutoff, $2 a batch): the items binned directly
 * before the cutoff, read from a partial index of them alone (migration
 * 021, TABLE_bin_age): the janitor asks every minute, and a scan of a
 * million files each time was most of a core for a second. SQLite names
 * the index (HINT " INDEXED BY folders_bin_age"; without statistics it
 * took trashed_with's, where IS NULL is every live folder); PostgreSQL
 * (HINT "") matches the index's predicate itself. Plans in
 * test_listing_plan.c. */
#define BIN_PURGE_PICK(TABLE, HINT)                                              \
  "SELECT id, owner_id FROM " TABLE HINT " WHERE is_deleted = 1 AND "            \
  "trashed_with IS NULL AND deleted_at < $1 LIMIT $2"
#define BIN_PURGE_PICK_ANY(TABLE)                                                \
  db_sql(BIN_PURGE_PICK(TABLE, " INDEXED BY " TABLE "_bin_age"), BIN_PURGE_PICK(TABLE, ""))

#endif
