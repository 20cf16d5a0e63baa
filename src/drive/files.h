/* files: file records (the metadata side; bytes are in contents/chunks). */
#ifndef NETRA_FILES_H
#define NETRA_FILES_H
#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"

struct file_rec {
  char id[32];
  char owner_id[32];
  char folder_id[32];       /* "" = root */
  char content_id[32];
  char name[256];
  char mime_type[128];
  char sha256[65];
  int64_t size;
  bool is_deleted;
  bool is_starred;
  int64_t deleted_at;       /* 0 = not deleted */
  bool carried;             /* binned along with a folder (trashed_with set) */
  int64_t created_at;
  int64_t updated_at;
};

/** The columns file_from_row expects, in order, for SELECT lists. */
#define FILE_COLUMNS "id, owner_id, folder_id, content_id, name, mime_type, sha256, size, " \
                     "is_deleted, is_starred, deleted_at, created_at, updated_at, " \
                     "trashed_with IS NOT NULL"
/** Same, qualified with the alias f. */
#define FILE_COLUMNS_F "f.id, f.owner_id, f.folder_id, f.content_id, f.name, f.mime_type, " \
                       "f.sha256, f.size, f.is_deleted, f.is_starred, f.deleted_at, " \
                       "f.created_at, f.updated_at, f.trashed_with IS NOT NULL"

/** Fills a record from a row selected with FILE_COLUMNS starting at `col`. */
void file_from_row(db_stmt_t *st, int col, struct file_rec *f);
/** Loads the owner's file. DRIVE_OK or DRIVE_NOT_FOUND / DRIVE_DB. */
int file_get(db_t *db, const char *owner_id, const char *file_id, struct file_rec *f);

/** Permanently removes a file inside the caller's transaction: the row goes,
 *  the folder sizes that counted it shrink, the owner's usage is corrected
 *  and the content loses a reference (its chunks are queued for removal at
 *  zero). DRIVE_OK or a db fault code. */
int file_purge(db_t *db, const struct file_rec *f);

#endif
