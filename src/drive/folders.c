/* folders: the folder tree. Whole subtrees are handled by single statements
 * over recursive CTEs (never row-by-row recursion in C), so a chain 10,000
 * deep costs no C stack and a handful of statements. Recursive CTEs use
 * UNION rather than UNION ALL where they walk ids, so even a corrupt cycle
 * cannot make them loop forever. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/folder_key.h"
#include "drive/folder_ops.h"
#include "drive/content.h"
#include "drive/file_sql.h"
#include "drive/folder_sql.h"
#include "drive/folders.h"
#include "drive/listing.h"
#include "drive/purge.h"
#include "util/timefmt.h"
#include "util/grow.h"

/* Guards the breadcrumb walk (which cannot use UNION: it carries a depth). */
#define FOLDER_PATH_MAX_DEPTH 1000000

void folder_copy_text(char *dst, size_t n, const char *src)
{
  snprintf(dst, n, "%s", src ? src : "");
}

void folder_from_row(db_stmt_t *st, struct folder *f)
{
  memset(f, 0, sizeof(*f));
  db_col_copy(st, 0, f->id, sizeof(f->id));
  db_col_copy(st, 1, f->parent_id, sizeof(f->parent_id));
  db_col_copy(st, 2, f->owner_id, sizeof(f->owner_id));
  db_col_copy(st, 3, f->name, sizeof(f->name));
  f->size = db_col_int(st, 4);
  f->is_deleted = db_col_int(st, 5) != 0;
  f->is_starred = db_col_int(st, 6) != 0;
  f->deleted_at = db_col_null(st, 7) ? 0 : db_col_int(st, 7);
  db_col_copy(st, 8, f->trashed_with, sizeof(f->trashed_with));
  f->created_at = db_col_int(st, 9);
  f->updated_at = db_col_int(st, 10);
}

/* Steps a statement expected to yield at most one folder row, finalizes it. */
static void folder_fill(db_stmt_t *st, void *out)
{
  folder_from_row(st, out);
}

static int folder_read_one(db_stmt_t *st, struct folder *out)
{
  return drive_read_one(st, folder_fill, out);
}

/* Parent ids as SQL values: "" (root) binds NULL. */
const char *folder_nullable(const char *s)
{
  return s && *s ? s : NULL;
}

int folder_get(const char *owner_id, const char *folder_id, struct folder *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  return folder_read_one(db_query(db, "SELECT " FOLDER_COLS " FROM folders "
                                      "WHERE id = $1 AND owner_id = $2",
                                  "tt", folder_id, owner_id),
                         out);
}

/* folder_get restricted to live folders: the bin is read-only. */
static int folder_get_live(db_t *db, const char *owner_id, const char *folder_id,
                           struct folder *out)
{
  int rc = folder_get(owner_id, folder_id, out);
  if(rc == DRIVE_OK && out->is_deleted)
    rc = DRIVE_NOT_FOUND;
  return rc;
}

int folder_check_live(const char *owner_id, const char *folder_id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!folder_id)
    return DRIVE_OK;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  int64_t one = 0;
  int rc = db_query_int(db, &one,
                        "SELECT 1 FROM folders WHERE id = $1 AND owner_id = $2 AND is_deleted = 0",
                        "tt", folder_id, owner_id);
  if(rc == DB_ROW)
    return DRIVE_OK;
  return rc == DB_DONE ? DRIVE_NOT_FOUND : drive_from_db(rc);
}

int folder_check_target(const char *owner_id, const char *folder_id)
{
  int rc = folder_ops_settle(owner_id);
  return rc ? rc : folder_check_live(owner_id, folder_id);
}

/* Cleans a name and computes its case-folded key. */
static int folder_name_prepare(const char *in, char name[NAME_MAX_BYTES + 1],
                               char key[NAME_MAX_BYTES + 1], const char **why)
{
  *why = name_clean(in, name, NAME_MAX_BYTES + 1);
  if(*why)
    return DRIVE_INVALID;
  if(utf8_fold(name, key, NAME_MAX_BYTES + 1) != 0) {
    *why = "Name must be valid UTF-8";
    return DRIVE_INVALID;
  }
  return DRIVE_OK;
}

/* DRIVE_CONFLICT when a live folder other than `self` (may be NULL) is called
 * `key` under `parent` (NULL/"" = root); DRIVE_OK when the name is free. The
 * query matches the partial unique index folders_sibling_name exactly. */
int folder_name_taken(db_t *db, const char *owner_id, const char *parent, const char *key,
                      const char *self)
{
  db_stmt_t *st = db_query(db,
                           "SELECT id FROM folders WHERE owner_id = $1 AND "
                           "COALESCE(parent_id, '') = $2 AND name_key = $3 AND is_deleted = 0",
                           "ttt", owner_id, parent ? parent : "", key);
  if(!st)
    return DRIVE_DB;
  int rc = db_step(st);
  bool taken = rc == DB_ROW && !(self && !strcmp(db_col_text(st, 0), self));
  int frc = db_finalize(st);
  if(rc != DB_ROW && rc != DB_DONE)
    return drive_from_db(rc);
  if(frc != DB_OK)
    return drive_from_db(frc);
  return taken ? DRIVE_CONFLICT : DRIVE_OK;
}

int folder_add_size(db_t *db, const char *folder_id, int64_t delta)
{
  if(!folder_id || !*folder_id || delta == 0)
    return DRIVE_OK;
  /* Walk up while the parent is in the same state: live above live, and
   * within a bin group up to (and including) the folder binned directly. */
  return drive_db(db_exec(db,
                          "UPDATE folders SET size = size + $2 WHERE id IN ("
                          "WITH RECURSIVE up(id, parent_id, is_deleted, trashed_with) AS ("
                          "SELECT id, parent_id, is_deleted, trashed_with FROM folders WHERE id = $1 "
                          "UNION SELECT f.id, f.parent_id, f.is_deleted, f.trashed_with "
                          "FROM folders f JOIN up ON f.id = up.parent_id "
                          "WHERE (up.is_deleted = 0 AND f.is_deleted = 0) OR "
                          "(up.trashed_with IS NOT NULL AND "
                          "(f.id = up.trashed_with OR f.trashed_with = up.trashed_with))) "
                          "SELECT id FROM up)",
                          "ti", folder_id, delta));
}

int folder_create(const char *owner_id, const char *parent_id, const char *name,
                  struct folder *out, const char **why)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char clean[NAME_MAX_BYTES + 1], key[NAME_MAX_BYTES + 1];
  int rc = folder_name_prepare(name, clean, key, why);
  if(rc)
    return rc;
  if(parent_id && !id_valid(parent_id))
    return DRIVE_NOT_FOUND;
  rc = folder_ops_tx_begin(db, owner_id);
  if(rc)
    return rc;
  rc = folder_check_live(owner_id, parent_id);
  if(rc)
    goto out;
  rc = folder_name_taken(db, owner_id, parent_id, key, NULL);
  if(rc)
    goto out;

  memset(out, 0, sizeof(*out));
  id_new(out->id);
  folder_copy_text(out->parent_id, sizeof(out->parent_id), parent_id);
  folder_copy_text(out->owner_id, sizeof(out->owner_id), owner_id);
  folder_copy_text(out->name, sizeof(out->name), clean);
  out->created_at = out->updated_at = time_now_ms();
  struct folder_key tk;
  rc = folder_key_new(db, parent_id, key, out->id, &tk);
  if(rc)
    goto out;
  /* The unique index still guards a race the check above cannot see. */
  rc = drive_db(db_exec(db,
                        "INSERT INTO folders (id, owner_id, parent_id, name, name_key, size, "
                        "is_deleted, is_starred, created_at, updated_at, tree_key) "
                        "VALUES ($1, $2, $3, $4, $5, 0, 0, 0, $6, $6, $7)",
                        "tttttit", out->id, owner_id, parent_id, clean, key, out->created_at,
                        folder_nullable(tk.s)));
out:
  return drive_tx_end(db, rc);
}

/* ---- listing ---- */

/* A folder's own flag says it all: everything below a binned folder is binned. */
static const struct listing_sql folder_listing =
  LISTING_SQL(FOLDER_COLS, FOLDER_NCOLS, "folders", "parent_id", "1 = 1", LISTING_DEL, "live_folders");

struct folder_list_ctx {
  folder_each_fn each;
  void *arg;
};

static int folder_list_row(db_stmt_t *st, void *arg)
{
  struct folder_list_ctx *c = arg;
  struct folder f;
  folder_from_row(st, &f);
  return c->each(&f, c->arg);
}

int folder_list(const char *owner_id, const struct drive_listing *q,
                folder_each_fn each, void *arg, int64_t *total)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct folder_list_ctx c = {each, arg};
  struct folder parent;
  /* A parent must be the owner's folder, in any state: the bin is browsable. */
  int rc = q->parent_id ? folder_get(owner_id, q->parent_id, &parent) : DRIVE_OK;
  if(rc != DRIVE_OK)
    return rc;
  return listing_run(db, owner_id, q, q->parent_id && parent.is_deleted, &folder_listing,
                     folder_list_row, &c, total);
}

/* ---- path ---- */

int folder_path(const char *owner_id, const char *folder_id,
                struct folder_crumb **out, size_t *count)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  *out = NULL;
  *count = 0;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  size_t cap = 0;
  int rc;
  db_stmt_t *st = db_query(db,
                           "WITH RECURSIVE up(id, parent_id, name, depth) AS ("
                           "SELECT id, parent_id, name, 0 FROM folders WHERE id = $1 AND owner_id = $2 "
                           "UNION ALL SELECT f.id, f.parent_id, f.name, up.depth + 1 "
                           "FROM folders f JOIN up ON f.id = up.parent_id "
                           "WHERE f.owner_id = $2 AND up.depth < $3) "
                           "SELECT id, name FROM up ORDER BY depth DESC",
                           "tti", folder_id, owner_id, (int64_t)FOLDER_PATH_MAX_DEPTH);
  if(!st)
    return DRIVE_DB;
  while((rc = db_step(st)) == DB_ROW) {
    struct folder_crumb *nc = grow_room(*out, &cap, *count, sizeof(*nc), 16);
    if(!nc) {
      rc = DB_ERROR;
      break;
    }
    *out = nc;
    struct folder_crumb *c = &(*out)[(*count)++];
    db_col_copy(st, 0, c->id, sizeof(c->id));
    db_col_copy(st, 1, c->name, sizeof(c->name));
  }
  int frc = db_finalize(st);
  if(rc == DB_DONE && frc == DB_OK)
    rc = *count ? DRIVE_OK : DRIVE_NOT_FOUND;
  else
    rc = drive_from_db(rc != DB_DONE ? rc : frc);
  if(rc) {
    free(*out);
    *out = NULL;
    *count = 0;
  }
  return rc;
}

/* ---- rename, move, star ---- */

int folder_rename(const char *owner_id, const char *folder_id, const char *new_name,
                  struct folder *out, const char **why)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char clean[NAME_MAX_BYTES + 1], key[NAME_MAX_BYTES + 1];
  struct folder_key old;
  struct folder_op op;
  bool more = false;
  int rc = folder_name_prepare(new_name, clean, key, why);
  if(rc)
    return rc;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  rc = folder_ops_tx_begin(db, owner_id);
  if(rc)
    return rc;
  rc = folder_get_live(db, owner_id, folder_id, out);
  if(rc)
    goto out;
  rc = folder_name_taken(db, owner_id, out->parent_id, key, folder_id);
  if(rc)
    goto out;
  rc = folder_key_read(db, folder_id, &old);
  if(rc)
    goto out;
  rc = folder_read_one(db_query(db,
                                "UPDATE folders SET name = $1, name_key = $2, updated_at = $3 "
                                "WHERE id = $4 RETURNING " FOLDER_COLS,
                                "ttit", clean, key, time_now_ms(), folder_id),
                       out);
  if(!rc)
    rc = folder_key_moved(db, owner_id, folder_id, folder_nullable(out->parent_id), key, &old,
                          FOLDER_KEY_FIRST, &op, &more);
out:
  return folder_ops_after(drive_tx_end(db, rc), more, &op);
}

/* DRIVE_INVALID when `target` is `folder_id` or lies below it: walks up from
 * the target, which is cheap (one row per level) even 10,000 levels deep. */
static int folder_check_not_below(db_t *db, const char *folder_id, const char *target)
{
  int64_t hits = 0;
  int rc = db_query_int(db, &hits,
                        "WITH RECURSIVE up(id, parent_id) AS ("
                        "SELECT id, parent_id FROM folders WHERE id = $1 "
                        "UNION SELECT f.id, f.parent_id FROM folders f JOIN up ON f.id = up.parent_id) "
                        "SELECT COUNT(*) FROM up WHERE id = $2",
                        "tt", target, folder_id);
  if(rc != DB_ROW)
    return rc == DB_DONE ? DRIVE_DB : drive_from_db(rc);
  return hits ? DRIVE_INVALID : DRIVE_OK;
}

int folder_move(const char *owner_id, const char *folder_id,
                const char *new_parent_id, struct folder *out, const char **why)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char key[NAME_MAX_BYTES + 1];
  struct folder f;
  struct folder_key old;
  struct folder_op op;
  bool more = false;
  *why = NULL;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_tx_begin(db, owner_id);
  if(rc)
    return rc;
  rc = folder_get_live(db, owner_id, folder_id, &f);
  if(rc)
    goto out;
  rc = folder_check_live(owner_id, new_parent_id);
  if(rc)
    goto out;
  if(new_parent_id) {
    rc = folder_check_not_below(db, folder_id, new_parent_id);
    if(rc == DRIVE_INVALID)
      *why = "Cannot move a folder into itself or one of its subfolders";
    if(rc)
      goto out;
  }
  if(utf8_fold(f.name, key, sizeof(key)) != 0) {
    rc = DRIVE_DB;
    goto out;
  }
  rc = folder_name_taken(db, owner_id, new_parent_id, key, folder_id);
  if(rc)
    goto out;
  const char *old_parent = folder_nullable(f.parent_id);
  bool same = (!old_parent && !new_parent_id) ||
              (old_parent && new_parent_id && !strcmp(old_parent, new_parent_id));
  if(!same) {
    rc = folder_add_size(db, old_parent, -f.size);
    if(!rc)
      rc = folder_add_size(db, new_parent_id, f.size);
    if(rc)
      goto out;
  }
  rc = folder_key_read(db, folder_id, &old);
  if(rc)
    goto out;
  rc = folder_read_one(db_query(db,
                                "UPDATE folders SET parent_id = $1, updated_at = $2 "
                                "WHERE id = $3 RETURNING " FOLDER_COLS,
                                "tit", new_parent_id, time_now_ms(), folder_id),
                       out);
  if(!rc)
    rc = folder_key_moved(db, owner_id, folder_id, folder_nullable(new_parent_id), key, &old,
                          FOLDER_KEY_FIRST, &op, &more);
out:
  return folder_ops_after(drive_tx_end(db, rc), more, &op);
}

int folder_set_starred(const char *owner_id, const char *folder_id, bool starred,
                       struct folder *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_settle(owner_id);
  if(rc)
    return rc;
  return folder_read_one(db_query(db,
                                  "UPDATE folders SET is_starred = $1 WHERE id = $2 AND "
                                  "owner_id = $3 AND is_deleted = 0 RETURNING " FOLDER_COLS,
                                  "btt", (int)starred, folder_id, owner_id),
                         out);
}

/* ---- permanent delete ---- */

int folder_purge(db_t *db, const char *owner_id, const char *folder_id)
{
  struct folder f;
  struct purge p = {0};
  int rc = folder_get(owner_id, folder_id, &f);
  if(rc)
    return rc;
  /* Its size counts in the ancestors of its own state, unless it was binned
   * directly (then it was already taken off its live ancestors). */
  if(!f.is_deleted || f.trashed_with[0]) {
    rc = folder_add_size(db, folder_nullable(f.parent_id), -f.size);
    if(rc)
      goto out;
  }
  /* File rows go first: before their contents (files.content_id references
   * them) and before the folders (files.folder_id references those). A file
   * was in the bin when binned itself or in a binned folder (its folder row
   * is still there while the files go). */
  rc = purge_collect(&p, db_query(db,
                                  "DELETE FROM files WHERE folder_id IN (" SUBTREE_ALL ") "
                                  "RETURNING content_id, size, " FILE_IN_BIN("files"),
                                  "tt", folder_id, owner_id));
  if(rc)
    goto out;
  rc = purge_finish(db, owner_id, &p);
  if(rc)
    goto out;
  /* One statement for the whole subtree: the parent_id foreign key is checked
   * at the end of the statement, so order within it does not matter. */
  rc = drive_db(db_exec(db, "DELETE FROM folders WHERE id IN (" SUBTREE_ALL ")", "tt",
                        folder_id, owner_id));
out:
  purge_free(&p);
  return rc;
}

int folder_delete(const char *owner_id, const char *folder_id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_tx_begin(db, owner_id);
  if(rc)
    return rc;
  return drive_tx_end(db, folder_purge(db, owner_id, folder_id));
}
