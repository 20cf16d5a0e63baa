/* bin: permanent deletes from the bin, by hand (empty) or by age (purge). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/folder_ops.h"
#include "drive/bin.h"
#include "drive/purge.h"
#include "drive/files.h"
#include "drive/folders.h"

/* Rows handled per transaction by the age purge, so the write lock is held
 * only briefly at a time. */
#define BIN_PURGE_BATCH 64

int drive_bin_empty(const char *owner_id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct purge p = {0};
  int rc = folder_ops_tx_begin(db, owner_id);
  if(rc)
    return rc;
  /* The files binned on their own, then every file of a binned folder (the
   * bin is kept on folders: those rows are live themselves); all of them
   * were counted in the bin. Files first: folders are their parents. */
  rc = purge_collect(&p, db_query(db,
                                  "DELETE FROM files WHERE owner_id = $1 AND is_deleted = 1 "
                                  "RETURNING content_id, size, 1",
                                  "t", owner_id));
  if(!rc)
    rc = purge_collect(&p, db_query(db,
                                    "DELETE FROM files WHERE owner_id = $1 AND folder_id IN "
                                    "(SELECT id FROM folders WHERE owner_id = $1 AND "
                                    "is_deleted = 1) RETURNING content_id, size, 1",
                                    "t", owner_id));
  if(rc)
    goto out;
  rc = purge_finish(db, owner_id, &p);
  if(rc)
    goto out;
  /* Everything below a binned folder is binned too, so one statement takes
   * all binned folders without tripping the parent_id foreign key. */
  int dbrc = db_exec(db, "DELETE FROM folders WHERE owner_id = $1 AND is_deleted = 1", "t", owner_id);
  if(dbrc != DB_OK)
    rc = drive_from_db(dbrc);
out:
  purge_free(&p);
  return drive_tx_end(db, rc);
}

/* One expired item: its id and owner. */
struct bin_item {
  char id[64];
  char owner[FOLDER_OWNER_MAX];
};

/* Reads up to BIN_PURGE_BATCH (id, owner_id) rows. */
static int bin_read_batch(db_stmt_t *st, struct bin_item *items, size_t *n)
{
  *n = 0;
  if(!st)
    return DRIVE_DB;
  int rc = DB_DONE;
  while(*n < BIN_PURGE_BATCH && (rc = db_step(st)) == DB_ROW) {
    db_col_copy(st, 0, items[*n].id, sizeof(items[0].id));
    db_col_copy(st, 1, items[*n].owner, sizeof(items[0].owner));
    (*n)++;
  }
  if(*n == BIN_PURGE_BATCH)
    rc = DB_DONE;
  return drive_stmt_end(st, rc);
}

/* Permanently deletes one file binned directly, in the caller's transaction. */
static int purge_file(db_t *db, const char *owner_id, const char *file_id)
{
  struct file_rec f;
  int rc = file_get(owner_id, file_id, &f);
  if(rc == DRIVE_NOT_FOUND || (rc == DRIVE_OK && !f.is_deleted))
    return DRIVE_OK; /* gone or restored meanwhile */
  return rc ? rc : file_purge(db, &f);
}

int drive_purge_bin_older_than(db_t *db, int64_t cutoff_ms)
{
  struct bin_item items[BIN_PURGE_BATCH];
  size_t n;
  int rc;
  /* Folders binned directly, each with everything carried along (and any
   * older bin items below it), one transaction per folder. */
  for(;;) {
    rc = bin_read_batch(db_query(db, BIN_PURGE_PICK_ANY("folders"), "ii", cutoff_ms,
                                 (int64_t)BIN_PURGE_BATCH),
                        items, &n);
    if(rc || n == 0)
      break;
    for(size_t i = 0; i < n && !rc; i++) {
      rc = drive_tx_begin(db);
      if(rc)
        break;
      rc = drive_tx_end(db, folder_purge(db, items[i].owner, items[i].id));
      if(rc == DRIVE_NOT_FOUND)
        rc = DRIVE_OK; /* went with an older folder of this batch */
    }
    if(rc)
      return rc;
  }
  if(rc)
    return rc;
  /* Then the files binned directly, a batch per transaction. */
  for(;;) {
    rc = bin_read_batch(db_query(db, BIN_PURGE_PICK_ANY("files"), "ii", cutoff_ms,
                                 (int64_t)BIN_PURGE_BATCH),
                        items, &n);
    if(rc || n == 0)
      break;
    rc = drive_tx_begin(db);
    if(rc)
      break;
    for(size_t i = 0; i < n && !rc; i++)
      rc = purge_file(db, items[i].owner, items[i].id);
    rc = drive_tx_end(db, rc);
    if(rc)
      break;
  }
  return rc;
}
