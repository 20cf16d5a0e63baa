/* folders: a user's folder tree (API §4, §6): create, list, tree, path,
 * rename, move, star, bin, restore and permanent delete, with the folder
 * sizes kept right incrementally.
 *
 * Every function is scoped by owner_id: another user's folder, a malformed
 * id and a missing one all give DRIVE_NOT_FOUND. Functions that change data
 * run their own transaction unless they say they run inside the caller's.
 *
 * The bin: binning folder X marks X (trashed_with NULL) and every live
 * folder below it (trashed_with = X); the files in them are in the bin with
 * their folder without being touched (files.h). X and the folders carried
 * with it form one bin group; restoring brings back exactly that group below
 * the restored folder, and its files with it. A folder's size is the total
 * size of the files below it in its own state: live folders count live
 * files, a binned folder what was carried with it. */
#ifndef NETRA_FOLDERS_H
#define NETRA_FOLDERS_H
#include <stddef.h>
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"
#include "util/names.h"

/** Longest user id kept in a folder (as in the request context). */
#define FOLDER_OWNER_MAX 32

struct folder {
  char id[ID_LEN + 1];
  char parent_id[ID_LEN + 1];     /* "" = root */
  char owner_id[FOLDER_OWNER_MAX];
  char trashed_with[ID_LEN + 1];  /* "" unless carried into the bin by another folder */
  char name[NAME_MAX_BYTES + 1];
  int64_t size;
  int64_t created_at;             /* ms since the epoch */
  int64_t updated_at;
  int64_t deleted_at;             /* meaningful when is_deleted */
  bool is_deleted;
  bool is_starred;
};

/** The columns folder_from_row expects, in order, for SELECT lists. */
#define FOLDER_COLS                                                                        \
  "id, parent_id, owner_id, name, size, is_deleted, is_starred, deleted_at, trashed_with, " \
  "created_at, updated_at"
/** How many FOLDER_COLS are (the first column after them is this index). */
#define FOLDER_NCOLS 11
/** Same, qualified with the alias x. */
#define FOLDER_COLS_X                                                                        \
  "x.id, x.parent_id, x.owner_id, x.name, x.size, x.is_deleted, x.is_starred, x.deleted_at, " \
  "x.trashed_with, x.created_at, x.updated_at"

/** Fills a folder from a row selected with FOLDER_COLS. */
void folder_from_row(db_stmt_t *st, struct folder *f);

/** Creates folder `name` (cleaned with name_clean) under `parent_id` (NULL =
 *  root). DRIVE_INVALID with *why for a bad name, DRIVE_NOT_FOUND when the
 *  parent is missing, foreign or binned, DRIVE_CONFLICT when a live sibling
 *  folder has the same name case-insensitively. Fills *out on success. */
int folder_create(const char *owner_id, const char *parent_id, const char *name,
                  struct folder *out, const char **why);

/** Reads one folder of the owner, in any state. */
int folder_get(const char *owner_id, const char *folder_id, struct folder *out);

/** DRIVE_OK when `folder_id` is NULL (root) or names a folder that exists,
 *  belongs to the owner and is not binned; else DRIVE_NOT_FOUND (or a db
 *  code). Runs inside the caller's transaction, if any. */
int folder_check_live(const char *owner_id, const char *folder_id);
/** folder_check_live for a write about to start (an upload, a URL job),
 *  outside any transaction: the owner's pending bin or restore batches are
 *  completed first (folder_ops.h), so the answer is the settled one. */
int folder_check_target(const char *owner_id, const char *folder_id);

/** Called once per listed folder; a non-zero return stops the listing and
 *  becomes folder_list's result. */
typedef int (*folder_each_fn)(const struct folder *f, void *arg);

/** Lists folders by the listing rules (API §4), calling `each` in order, and sets
 *  *total to the count before limit/offset. DRIVE_NOT_FOUND when the given
 *  parent is not the owner's folder. */
int folder_list(const char *owner_id, const struct drive_listing *q,
                folder_each_fn each, void *arg, int64_t *total);

/** A depth-first walk of the owner's live folders (the tree), read a page
 *  at a time (drive/folder_tree.c: in the stored tree order when every live
 *  folder has its key, else SQLite a page of siblings per query, PostgreSQL
 *  a page of one sorted query's cursor): memory bounded by depth and page,
 *  not by the tree's size. Siblings come in name_key byte order. A walk
 *  may be opened on one thread and read on another, one at a time; on
 *  PostgreSQL the cursor's walk has a connection of its own (at most 16 at
 *  once: DRIVE_THROTTLED). */
struct folder_tree_cursor;
/** Called per step of the walk: a folder opens (its children follow), or
 *  f == NULL: the folder opened last closes. Non-zero stops the walk. */
typedef int (*folder_tree_fn)(void *arg, const struct folder *f);
/** Opens the walk and reads the first page of roots, so a fault is known
 *  before anything is sent. On DRIVE_OK close it with folder_tree_close. */
int folder_tree_open(const char *owner_id, struct folder_tree_cursor **out);
/** Runs up to `max` steps (each opens a folder) of the walk. */
int folder_tree_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg);
/** True once every folder was opened and closed. */
bool folder_tree_done(const struct folder_tree_cursor *c);
/** Releases a walk (NULL is fine). */
void folder_tree_close(struct folder_tree_cursor *c);

/** One breadcrumb. */
struct folder_crumb {
  char id[ID_LEN + 1];
  char name[NAME_MAX_BYTES + 1];
};

/** The path from the root down to the folder (itself last), binned or not.
 *  *out is malloc'ed (free it); *count >= 1 on success. */
int folder_path(const char *owner_id, const char *folder_id,
                struct folder_crumb **out, size_t *count);

/** Renames a live folder; DRIVE_INVALID (*why), DRIVE_CONFLICT on a sibling
 *  clash, DRIVE_NOT_FOUND when missing or binned. Fills *out. */
int folder_rename(const char *owner_id, const char *folder_id, const char *new_name,
                  struct folder *out, const char **why);

/** Moves a live folder under `new_parent_id` (NULL = root), keeping the sizes
 *  of old and new ancestors right. DRIVE_NOT_FOUND when the folder or the
 *  target is missing, foreign or binned; DRIVE_INVALID (*why) when the target
 *  is the folder itself or below it; DRIVE_CONFLICT on a name clash there. */
int folder_move(const char *owner_id, const char *folder_id,
                const char *new_parent_id, struct folder *out, const char **why);

/** Stars or unstars a live folder. Fills *out. */
int folder_set_starred(const char *owner_id, const char *folder_id, bool starred,
                       struct folder *out);

/** Moves a live folder and everything live below it (folders and files) to
 *  the bin: one transaction marking the folders, O(folders), not O(files).
 *  Binning a folder already in the bin changes nothing (DRIVE_OK). */
int folder_bin(const char *owner_id, const char *folder_id);

/** Restores a binned folder and what was binned with it. It goes back to its
 *  parent, or to the root when the parent is binned or gone, renamed to
 *  "name (1)", "name (2)", ... when its name is taken there. Restoring a
 *  live folder changes nothing (DRIVE_OK). */
int folder_restore(const char *owner_id, const char *folder_id);

/** Permanently deletes the folder and everything below it, in any state, in
 *  one transaction (see folder_purge). */
int folder_delete(const char *owner_id, const char *folder_id);

/** folder_delete's work inside the caller's transaction: fixes ancestor
 *  sizes, deletes the files below (dropping their content references and
 *  usage) and then the folders, each with one statement. */
int folder_purge(db_t *db, const char *owner_id, const char *folder_id);

/** Adds `delta` bytes to the size of `folder_id` (NULL: nothing to do) and of
 *  its ancestors in the same state: all of them for a live folder, those of
 *  its bin group for a binned one. One statement; runs inside the caller's
 *  transaction. DRIVE_OK or a db fault code. */
int folder_add_size(db_t *db, const char *folder_id, int64_t delta);

#endif
