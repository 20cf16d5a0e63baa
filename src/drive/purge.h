/* purge: the bookkeeping every permanent delete of files shares (emptying
 * the bin, its age purge, deleting a folder for good): the content each
 * deleted file referenced loses a reference, and the usage counters drop.
 * Runs inside the caller's transaction. */
#ifndef NETRA_PURGE_H
#define NETRA_PURGE_H
#include <stddef.h>
#include <stdint.h>
#include "drive/drive.h"

/** What a permanent delete of some files has to undo: the content each file
 *  referenced, and the usage totals. Zero-initialise, then collect. */
struct purge {
  char (*contents)[64];  /* one content id per deleted file */
  size_t count;
  size_t cap;
  int64_t bytes;         /* all deleted files */
  int64_t bin_bytes;     /* the deleted files that were in the bin */
};

/** Reads rows (content_id, size, is_deleted) of the files being deleted from
 *  `st` (a DELETE ... RETURNING), then finalizes it. DRIVE_OK or a fault. */
int purge_collect(struct purge *p, db_stmt_t *st);

/** After the file rows are gone: drops one content reference per file and
 *  takes the totals off the owner's usage counters. */
int purge_finish(db_t *db, const char *owner_id, struct purge *p);

/** Frees an accumulator (always, finished or not); it may be reused. */
void purge_free(struct purge *p);

#endif
