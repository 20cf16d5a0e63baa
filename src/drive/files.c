/* files: file records. Changes that touch more than one row (sizes, usage)
 * run in one transaction; single-row changes are one atomic statement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "drive/folder_ops.h"
#include "drive/content.h"
#include "drive/drive.h"
#include "drive/folders.h"
#include "drive/files.h"
#include "drive/listing.h"
#include "drive/store.h"
#include "util/id.h"
#include "util/names.h"
#include "util/timefmt.h"

void file_from_row(db_stmt_t *st, int col, struct file_rec *f)
{
  db_col_copy(st, col + 0, f->id, sizeof(f->id));
  db_col_copy(st, col + 1, f->owner_id, sizeof(f->owner_id));
  db_col_copy(st, col + 2, f->folder_id, sizeof(f->folder_id));
  db_col_copy(st, col + 3, f->content_id, sizeof(f->content_id));
  db_col_copy(st, col + 4, f->name, sizeof(f->name));
  db_col_copy(st, col + 5, f->mime_type, sizeof(f->mime_type));
  db_col_copy(st, col + 6, f->sha256, sizeof(f->sha256));
  f->size = db_col_int(st, col + 7);
  f->is_deleted = db_col_int(st, col + 8) != 0;
  f->is_starred = db_col_int(st, col + 9) != 0;
  f->deleted_at = db_col_null(st, col + 10) ? 0 : db_col_int(st, col + 10);
  f->created_at = db_col_int(st, col + 11);
  f->updated_at = db_col_int(st, col + 12);
  /* A live row in a binned folder is in the bin with it (carried). A row
   * binned on its own stays its own bin item wherever its folder is. */
  f->carried = !f->is_deleted && !db_col_null(st, col + 13);
  if(f->carried) {
    f->is_deleted = true;
    f->deleted_at = db_col_int(st, col + 13);
  }
}

int file_get(const char *owner_id, const char *file_id, struct file_rec *f)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(file_id))
    return DRIVE_NOT_FOUND;
  db_stmt_t *st = db_query(db, "SELECT " FILE_COLUMNS " FROM files WHERE id = $1 AND owner_id = $2",
                           "tt", file_id, owner_id);
  if(!st)
    return DRIVE_DB;
  int rc = db_step(st);
  if(rc == DB_ROW)
    file_from_row(st, 0, f);
  int frc = db_finalize(st);
  if(rc == DB_ROW && frc == DB_OK)
    return DRIVE_OK;
  return rc == DB_DONE ? DRIVE_NOT_FOUND : DRIVE_DB;
}

int file_purge(db_t *db, const struct file_rec *f)
{
  int rc = db_exec(db, "DELETE FROM files WHERE id = $1 AND owner_id = $2", "tt", f->id, f->owner_id);
  if(rc != DB_OK)
    return drive_from_db(rc);
  /* A file binned on its own was already taken out of its folders' sizes;
   * a live one, or one carried into the bin by its folder, still counts. */
  if(f->folder_id[0] && (!f->is_deleted || f->carried)) {
    rc = folder_add_size(db, f->folder_id, -f->size);
    if(rc != DRIVE_OK)
      return rc;
  }
  rc = usage_add(db, f->owner_id, -f->size, -1, f->is_deleted ? -f->size : 0, 0);
  if(rc == DRIVE_OK)
    rc = content_unref(db, f->content_id);
  return rc;
}

/* Steps a statement expected to yield at most one file row, finalizes it. */
static void file_fill(db_stmt_t *st, void *out)
{
  file_from_row(st, 0, out);
}

static int file_read_one(db_stmt_t *st, struct file_rec *out)
{
  return drive_read_one(st, file_fill, out);
}

/* file_get restricted to live files: the bin is read-only. */
static int file_get_live(db_t *db, const char *owner_id, const char *file_id,
                         struct file_rec *out)
{
  if(!id_valid(file_id))
    return DRIVE_NOT_FOUND;
  return file_read_one(db_query(db, "SELECT " FILE_COLUMNS " FROM files WHERE id = $1 AND "
                                    "owner_id = $2 AND " FILE_LIVE("files"),
                                "tt", file_id, owner_id),
                       out);
}

/* Folder ids as SQL values: "" (root) binds NULL. */
static const char *nullable(const char *s)
{
  return s && *s ? s : NULL;
}

/* ---- listing ---- */

/* Starred files anywhere: only those in no binned folder. Inside a binned
 * folder every file is in the bin, whatever its own flag. */
static const struct listing_sql file_listing =
  LISTING_SQL(FILE_COLUMNS, FILE_NCOLS, "files", "folder_id", FILE_IN_LIVE_FOLDER("files"), "$2 = 1",
              "live_files");

struct file_list_ctx {
  file_each_fn each;
  void *arg;
};

static int file_list_row(db_stmt_t *st, void *arg)
{
  struct file_list_ctx *c = arg;
  struct file_rec f;
  file_from_row(st, 0, &f);
  return c->each(&f, c->arg);
}

int file_list(const char *owner_id, const struct drive_listing *q,
              file_each_fn each, void *arg, int64_t *total)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct file_list_ctx c = {each, arg};
  struct folder parent;
  /* A parent must be the owner's folder, in any state: the bin is browsable. */
  int rc = q->parent_id ? folder_get(owner_id, q->parent_id, &parent) : DRIVE_OK;
  if(rc != DRIVE_OK)
    return rc;
  return listing_run(db, owner_id, q, q->parent_id && parent.is_deleted, &file_listing,
                     file_list_row, &c, total);
}

/* ---- rename, move, star ---- */

int file_rename(const char *owner_id, const char *file_id, const char *new_name,
                struct file_rec *out, const char **why)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char clean[NAME_MAX_BYTES + 1], key[NAME_MAX_BYTES + 1];
  *why = name_clean(new_name, clean, sizeof(clean));
  if(*why)
    return DRIVE_INVALID;
  if(utf8_fold(clean, key, sizeof(key)) != 0) {
    *why = "Name must be valid UTF-8";
    return DRIVE_INVALID;
  }
  if(!id_valid(file_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_settle(owner_id);
  if(rc)
    return rc;
  /* One statement, so atomic on its own; files may share names, so there is
   * no sibling check to keep in step with it. */
  return file_read_one(db_query(db,
                                "UPDATE files SET name = $1, name_key = $2, updated_at = $3 "
                                "WHERE id = $4 AND owner_id = $5 AND " FILE_LIVE("files") " "
                                "RETURNING " FILE_COLUMNS,
                                "ttitt", clean, key, time_now_ms(), file_id, owner_id),
                       out);
}

int file_move(const char *owner_id, const char *file_id, const char *folder_id,
              struct file_rec *out, const char **missing)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct file_rec f;
  *missing = "File";
  if(!id_valid(file_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_tx_begin(db, owner_id);
  if(rc)
    return rc;
  rc = file_get_live(db, owner_id, file_id, &f);
  if(rc)
    goto out;
  rc = folder_check_live(owner_id, folder_id);
  if(rc) {
    if(rc == DRIVE_NOT_FOUND)
      *missing = "Folder";
    goto out;
  }
  const char *old = nullable(f.folder_id);
  if((!old && !folder_id) || (old && folder_id && !strcmp(old, folder_id))) {
    *out = f; /* already there: nothing changes */
    goto out;
  }
  rc = folder_add_size(db, old, -f.size);
  if(!rc)
    rc = folder_add_size(db, folder_id, f.size);
  if(rc)
    goto out;
  rc = file_read_one(db_query(db,
                              "UPDATE files SET folder_id = $1, updated_at = $2 WHERE id = $3 "
                              "RETURNING " FILE_COLUMNS,
                              "tit", folder_id, time_now_ms(), file_id),
                     out);
out:
  return drive_tx_end(db, rc);
}

int file_set_starred(const char *owner_id, const char *file_id, bool starred,
                     struct file_rec *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(file_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_settle(owner_id);
  if(rc)
    return rc;
  /* A star is the user's mark, not a change to the file (as for folders and
   * in Google Drive): updated_at stays. */
  return file_read_one(db_query(db,
                                "UPDATE files SET is_starred = $1 "
                                "WHERE id = $2 AND owner_id = $3 AND " FILE_LIVE("files") " "
                                "RETURNING " FILE_COLUMNS,
                                "btt", (int)starred, file_id, owner_id),
                       out);
}

/* ---- bin, restore, delete ---- */

/* Starts a write transaction on this thread's connection and loads the
 * owner's file in it. On DRIVE_OK the caller ends it with drive_tx_end; on
 * a failure none is left open. */
static int file_tx_load(db_t **db, const char *owner_id, const char *file_id,
                        struct file_rec *f)
{
  *db = db_get();
  if(!*db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(file_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_tx_begin(*db, owner_id);
  if(rc)
    return rc;
  rc = file_get(owner_id, file_id, f);
  return rc ? drive_tx_end(*db, rc) : DRIVE_OK;
}

int file_bin(const char *owner_id, const char *file_id)
{
  db_t *db;
  struct file_rec f;
  int rc = file_tx_load(&db, owner_id, file_id, &f);
  if(rc)
    return rc;
  if(f.is_deleted)
    goto out; /* already in the bin: nothing to do */
  rc = drive_db(db_exec(db,
                        "UPDATE files SET is_deleted = 1, deleted_at = $1, trashed_with = NULL "
                        "WHERE id = $2",
                        "it", time_now_ms(), file_id));
  if(rc)
    goto out;
  /* Binned on its own, it counts in no folder any more. */
  rc = folder_add_size(db, nullable(f.folder_id), -f.size);
  if(!rc)
    rc = usage_add(db, owner_id, 0, 0, f.size, 0);
out:
  return drive_tx_end(db, rc);
}

int file_restore(const char *owner_id, const char *file_id)
{
  db_t *db;
  struct file_rec f;
  int rc = file_tx_load(&db, owner_id, file_id, &f);
  if(rc)
    return rc;
  if(!f.is_deleted)
    goto out; /* not in the bin: nothing to do */

  const char *folder = nullable(f.folder_id);
  bool live = false;
  if(folder) {
    rc = folder_check_live(owner_id, folder);
    if(rc && rc != DRIVE_NOT_FOUND)
      goto out;
    live = rc == DRIVE_OK;
    rc = DRIVE_OK;
  }
  /* Carried (in the bin with its binned folder), it counted in that bin
   * group's sizes; restored on its own, it leaves them for the root. */
  if(f.carried) {
    rc = folder_add_size(db, folder, -f.size);
    if(rc)
      goto out;
  }
  const char *target = live ? folder : NULL; /* binned or gone: the root */
  int64_t updated = target == folder ? f.updated_at : time_now_ms();
  rc = drive_db(db_exec(db,
                        "UPDATE files SET is_deleted = 0, deleted_at = NULL, trashed_with = NULL, "
                        "folder_id = $1, updated_at = $2 WHERE id = $3",
                        "tit", target, updated, file_id));
  if(!rc)
    rc = folder_add_size(db, target, f.size);
  if(!rc)
    rc = usage_add(db, owner_id, 0, 0, -f.size, 0);
out:
  return drive_tx_end(db, rc);
}

int file_delete(const char *owner_id, const char *file_id)
{
  db_t *db;
  struct file_rec f;
  int rc = file_tx_load(&db, owner_id, file_id, &f);
  if(rc)
    return rc;
  rc = drive_tx_end(db, file_purge(db, &f));
  /* The content may have lost its last reference: its chunks are queued. */
  if(rc == DRIVE_OK)
    store_kick();
  return rc;
}

int file_insert_row(db_t *db, const struct file_rec *f)
{
  char key[1024];
  if(utf8_fold(f->name, key, sizeof(key)) != 0)
    snprintf(key, sizeof(key), "%s", f->name);
  int rc = db_exec(db, "INSERT INTO files (id, owner_id, folder_id, content_id, name, name_key, "
                       "mime_type, size, sha256, created_at, updated_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                   "tttttttitii", f->id, f->owner_id, nullable(f->folder_id), f->content_id,
                   f->name, key, f->mime_type, f->size, f->sha256, f->created_at,
                   f->updated_at ? f->updated_at : f->created_at);
  return drive_db(rc);
}

/* The copies of one file_copies call as one INSERT: $1 is a JSON array of
 * [id, name, name_key]. On PostgreSQL the child counter's trigger runs per
 * statement, and one counter row updated once per row of a 50,000-row
 * transaction grows its version chain quadratically (DECISIONS "Child
 * counters"); one statement per batch also saves a round trip per copy. */
#define FILE_COPIES_COLS                                                                 \
  "INSERT INTO files (id, owner_id, folder_id, content_id, name, name_key, mime_type, "   \
  "size, sha256, created_at, updated_at) "
static const char file_copies_sqlite[] =
  FILE_COPIES_COLS "SELECT json_extract(value, '$[0]'), $2, $3, $4, json_extract(value, '$[1]'), "
  "json_extract(value, '$[2]'), $5, $6, $7, $8, $8 FROM json_each($1)";
static const char file_copies_pg[] =
  FILE_COPIES_COLS "SELECT e->>0, $2, $3, $4, e->>1, e->>2, $5, $6, $7, $8, $8 "
  "FROM jsonb_array_elements(CAST($1 AS jsonb)) AS e";

/* The rows JSON of file_copies into *out (free it): DRIVE_OK,
 * DRIVE_INVALID with *why for a bad name, or DRIVE_INTERNAL (memory). */
static int file_copies_rows(const char *const *names, size_t n, char **out, const char **why)
{
  json_t *rows = json_array();
  int rc = rows ? DRIVE_OK : DRIVE_INTERNAL;
  for(size_t i = 0; !rc && i < n; i++) {
    char clean[NAME_MAX_BYTES + 1], key[1024], id[ID_LEN + 1];
    *why = name_clean(names[i], clean, sizeof(clean));
    if(*why) {
      rc = DRIVE_INVALID;
      break;
    }
    if(utf8_fold(clean, key, sizeof(key)) != 0)
      snprintf(key, sizeof(key), "%s", clean);
    id_new(id);
    if(json_array_append_new(rows, json_pack("[sss]", id, clean, key)))
      rc = DRIVE_INTERNAL;
  }
  if(!rc && !(*out = json_dumps(rows, JSON_COMPACT)))
    rc = DRIVE_INTERNAL;
  json_decref(rows);
  return rc;
}

int file_copies(const char *owner_id, const char *src_file_id, const char *folder_id,
                const char *const *names, size_t n, const char **why)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct file_rec f;
  char *rows = NULL;
  *why = NULL;
  int rc = file_copies_rows(names, n, &rows, why);
  if(rc)
    return rc;
  rc = folder_ops_tx_begin(db, owner_id);
  if(rc) {
    free(rows);
    return rc;
  }
  rc = file_get_live(db, owner_id, src_file_id, &f);
  if(!rc)
    rc = folder_check_live(owner_id, folder_id);
  if(rc)
    goto out;
  /* One more reference per copy: the bytes are stored once (dedup). */
  rc = drive_db(db_exec(db, "UPDATE contents SET refcount = refcount + $1 WHERE id = $2", "it",
                        (int64_t)n, f.content_id));
  if(!rc)
    rc = drive_db(db_exec(db, db_sql(file_copies_sqlite, file_copies_pg), "tttttiti", rows,
                          owner_id, nullable(folder_id), f.content_id,
                          f.mime_type, f.size, f.sha256, time_now_ms()));
  /* Sizes and usage once for the whole batch. */
  if(!rc)
    rc = folder_add_size(db, folder_id, f.size * (int64_t)n);
  if(!rc)
    rc = usage_add(db, owner_id, f.size * (int64_t)n, (int64_t)n, 0, 0);
out:
  free(rows);
  return drive_tx_end(db, rc);
}
