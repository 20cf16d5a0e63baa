/* bin: emptying a user's bin, the automatic purge of old bin items, and the
 * bookkeeping shared by every permanent delete of files (content references
 * and usage counters). */
#ifndef NETRA_BIN_H
#define NETRA_BIN_H
#include <stddef.h>
#include <stdint.h>
#include "drive/drive.h"

/** What a permanent delete of some files has to undo: the content each file
 *  referenced, and the usage totals. Zero-initialise, then collect. */
struct bin_purge {
  char (*contents)[64];  /* one content id per deleted file */
  size_t count;
  size_t cap;
  int64_t bytes;         /* all deleted files */
  int64_t bin_bytes;     /* the deleted files that were in the bin */
};

/** Reads rows (content_id, size, is_deleted) of the files being deleted from
 *  `st` (a DELETE ... RETURNING), then finalizes it. DRIVE_OK or a fault. */
int bin_purge_collect(struct bin_purge *p, db_stmt_t *st);

/** After the file rows are gone: drops one content reference per file and
 *  takes the totals off the owner's usage counters. */
int bin_purge_finish(db_t *db, const char *owner_id, struct bin_purge *p);

/** Frees an accumulator (always, finished or not); it may be reused. */
void bin_purge_free(struct bin_purge *p);

/** Permanently deletes everything in the owner's bin, folders and files, in
 *  one transaction. */
int drive_bin_empty(const char *owner_id);

/** Permanently deletes, for every user, the items binned directly before
 *  `cutoff_ms` and everything binned with them, in small transactions so
 *  requests are not held up. Returns DRIVE_OK or the first fault. */
int drive_purge_bin_older_than(db_t *db, int64_t cutoff_ms);

#endif
