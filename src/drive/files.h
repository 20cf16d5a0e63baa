/* files: file records (the metadata side; bytes are in contents/chunks):
 * read, list, rename, move, star, bin, restore and permanent delete.
 *
 * Every function is scoped by owner_id: another user's file, a malformed id
 * and a missing one all give DRIVE_NOT_FOUND. Functions that change data run
 * their own transaction unless they say they run inside the caller's. A
 * file's size counts in the folders above it in its own state: live files in
 * live folders, a file in a binned folder in that folder's bin group, a file
 * binned directly nowhere.
 *
 * The bin is kept on folders (DECISIONS "The bin is kept on folders"):
 * binning a folder marks its folders, not its files. A file is live when
 * its own row is not binned (is_deleted = 0) and its folder, if any, is not
 * binned (FILE_IN_LIVE_FOLDER); a live row in a binned folder is "carried",
 * in the bin with that folder, and is read as binned (file_from_row). Every
 * query that decides whether a file is live tests both. */
#ifndef NETRA_FILES_H
#define NETRA_FILES_H
#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"
#include "drive/drive.h"
#include "drive/file_sql.h"

struct file_rec {
  char id[32];
  char owner_id[32];
  char folder_id[32];       /* "" = root */
  char content_id[32];
  char name[256];
  char mime_type[128];
  char sha256[65];
  int64_t size;
  bool is_deleted;          /* in the bin: binned itself, or carried */
  bool is_starred;
  int64_t deleted_at;       /* 0 = not deleted; carried: its folder's */
  bool carried;             /* in the bin with its folder (the row itself is live) */
  int64_t created_at;
  int64_t updated_at;
};

/** Fills a record from a row selected with FILE_COLUMNS starting at `col`:
 *  a live row in a binned folder reads as binned and carried. */
void file_from_row(db_stmt_t *st, int col, struct file_rec *f);
/** Loads the owner's file. DRIVE_OK or DRIVE_NOT_FOUND / DRIVE_DB. */
int file_get(const char *owner_id, const char *file_id, struct file_rec *f);

/** Permanently removes a file inside the caller's transaction: the row goes,
 *  the folder sizes that counted it shrink, the owner's usage is corrected
 *  and the content loses a reference (its chunks are queued for removal at
 *  zero). DRIVE_OK or a db fault code. */
int file_purge(db_t *db, const struct file_rec *f);

/** Called once per listed file; a non-zero return stops the listing and
 *  becomes file_list's result. */
typedef int (*file_each_fn)(const struct file_rec *f, void *arg);

/** Lists files by the listing rules (API §4) (q->parent_id is the folder), calling
 *  `each` in order, and sets *total to the count before limit/offset.
 *  DRIVE_NOT_FOUND when the given folder is not the owner's. */
int file_list(const char *owner_id, const struct drive_listing *q,
              file_each_fn each, void *arg, int64_t *total);

/** Renames a live file (cleaned with name_clean; files may share names).
 *  DRIVE_INVALID with *why for a bad name, DRIVE_NOT_FOUND when the file is
 *  missing, foreign or binned. Fills *out. */
int file_rename(const char *owner_id, const char *file_id, const char *new_name,
                struct file_rec *out, const char **why);

/** Moves a live file into `folder_id` (NULL = root), keeping the sizes of the
 *  old and new ancestors right. DRIVE_NOT_FOUND with *missing set to "File"
 *  or "Folder" (the target missing, foreign or binned). Fills *out. */
int file_move(const char *owner_id, const char *file_id, const char *folder_id,
              struct file_rec *out, const char **missing);

/** Stars or unstars a live file; updated_at moves only when the flag
 *  changes. DRIVE_NOT_FOUND when missing, foreign or binned. Fills *out. */
int file_set_starred(const char *owner_id, const char *file_id, bool starred,
                     struct file_rec *out);

/** Moves a live file to the bin on its own (trashed_with NULL): its folders
 *  lose its size and the owner's bin_bytes grows. A file already in the bin
 *  is left alone (DRIVE_OK). */
int file_bin(const char *owner_id, const char *file_id);

/** Restores a binned file into its folder, or into the root when that folder
 *  is binned or gone. A file carried into the bin by a folder leaves that
 *  folder's bin group. Restoring a live file changes nothing (DRIVE_OK). */
int file_restore(const char *owner_id, const char *file_id);

/** Permanently deletes a file in any state (file_purge in one transaction)
 *  and wakes the storage sweeper for its bytes. */
int file_delete(const char *owner_id, const char *file_id);

/** Inserts the live file row `f` (id, owner, folder ("" = root), content,
 *  name, mime type, size, sha256, created_at, and updated_at or, when 0, created_at) inside the
 *  caller's transaction; the name is folded here. The one INSERT of a file
 *  row, shared by uploads and copies. DRIVE_OK or a db fault code. */
int file_insert_row(db_t *db, const struct file_rec *f);

/** Makes `n` live copies of the owner's live file `src_file_id` named
 *  names[0..n-1] in `folder_id` (NULL = root), in one transaction: each a
 *  new row sharing the content (one more reference each, no bytes stored),
 *  all inserted by one statement, the folder sizes and usage grown once. DRIVE_INVALID with *why for a bad
 *  name, DRIVE_NOT_FOUND when the file or folder is missing or binned.
 *  The bulk path of bench/metadata's seeding (bench/seed.c). */
int file_copies(const char *owner_id, const char *src_file_id, const char *folder_id,
                const char *const *names, size_t n, const char **why);

#endif
