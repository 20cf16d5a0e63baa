/* file_sql: the SQL that decides whether a file row is live, and the
 * columns a file record is read from (drive/files.h). Text only, so the
 * modules that test a file's state in their own statements (folders,
 * search, shares, bin) share one rule without depending on files.c.
 *
 * The bin is kept on folders (DECISIONS "The bin is kept on folders"): a
 * file is live when its own row is not binned (is_deleted = 0) and its
 * folder, if any, is not binned; a live row in a binned folder is in the
 * bin with it ("carried"). */
#ifndef NETRA_FILE_SQL_H
#define NETRA_FILE_SQL_H

/** SQL: the file row `t` (a table name or alias) is in no binned folder:
 *  at the root, or its folder row is live. A scalar probe of the folder's
 *  primary key, never a join the planner could turn into a scan of every
 *  folder (a hashed subplan on PostgreSQL). */
#define FILE_IN_LIVE_FOLDER(t) \
  "COALESCE((SELECT bf.is_deleted FROM folders bf WHERE bf.id = " t ".folder_id), 0) = 0"
/** SQL: the file row `t` is live (not binned itself, nor in a binned folder). */
#define FILE_LIVE(t) t ".is_deleted = 0 AND " FILE_IN_LIVE_FOLDER(t)
/** SQL: the file row `t` is in the bin, as 1/0 (a RETURNING column). */
#define FILE_IN_BIN(t) \
  "CASE WHEN " t ".is_deleted = 1 OR NOT (" FILE_IN_LIVE_FOLDER(t) ") THEN 1 ELSE 0 END"
/* The last column: the deleted_at of the file's folder when that folder is
 * binned (else NULL), which makes a live row in it read as carried. */
#define FILE_FOLDER_BINNED(t) \
  "(SELECT COALESCE(bf.deleted_at, 0) FROM folders bf WHERE bf.id = " t ".folder_id AND " \
  "bf.is_deleted = 1)"

/** The columns file_from_row expects, in order, for SELECT lists (and the
 *  RETURNING of an UPDATE of files). */
#define FILE_COLUMNS "id, owner_id, folder_id, content_id, name, mime_type, sha256, size, " \
                     "is_deleted, is_starred, deleted_at, created_at, updated_at, " \
                     FILE_FOLDER_BINNED("files")
/** How many FILE_COLUMNS are (the first column after them is this index). */
#define FILE_NCOLS 14
/** Same, qualified with the alias f. */
#define FILE_COLUMNS_F "f.id, f.owner_id, f.folder_id, f.content_id, f.name, f.mime_type, " \
                       "f.sha256, f.size, f.is_deleted, f.is_starred, f.deleted_at, " \
                       "f.created_at, f.updated_at, " FILE_FOLDER_BINNED("f")

/** Same, qualified with the alias x. */
#define FILE_COLUMNS_X "x.id, x.owner_id, x.folder_id, x.content_id, x.name, x.mime_type, " \
                       "x.sha256, x.size, x.is_deleted, x.is_starred, x.deleted_at, " \
                       "x.created_at, x.updated_at, " FILE_FOLDER_BINNED("x")

#endif
