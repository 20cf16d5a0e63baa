#include <stdio.h>
#include "drive/content.h"
#include "drive/garbage.h"

int usage_add(db_t *db, const char *user_id, int64_t d_total, int64_t d_count, int64_t d_bin,
              int64_t d_stored)
{
  return drive_db(db_exec(db,
                 "UPDATE users SET total_usage_bytes = total_usage_bytes + $1, "
                 "file_count = file_count + $2, bin_bytes = bin_bytes + $3, "
                 "stored_bytes = stored_bytes + $4 WHERE id = $5",
                 "iiiit", d_total, d_count, d_bin, d_stored, user_id));
}

int usage_get(const char *user_id, struct usage *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, "SELECT total_usage_bytes, file_count, bin_bytes, stored_bytes "
                               "FROM users WHERE id = $1", "t", user_id);
  if(!st)
    return DRIVE_DB;
  int rc = db_step(st);
  if(rc == DB_ROW) {
    out->total_bytes = db_col_int(st, 0);
    out->file_count = db_col_int(st, 1);
    out->bin_bytes = db_col_int(st, 2);
    out->stored_bytes = db_col_int(st, 3);
  }
  int frc = db_finalize(st);
  if(rc == DB_DONE)
    return DRIVE_NOT_FOUND;
  if(rc != DB_ROW)
    return drive_from_db(rc);
  return drive_db(frc);
}

int content_unref(db_t *db, const char *content_id)
{
  int64_t refs = 0;
  int rc = db_query_int(db, &refs,
                        "UPDATE contents SET refcount = refcount - 1 WHERE id = $1 RETURNING refcount",
                        "t", content_id);
  if(rc != DB_ROW)
    return rc == DB_DONE ? DRIVE_OK : drive_from_db(rc);
  if(refs > 0)
    return DRIVE_OK;

  /* Last reference: queue every chunk for removal, then forget the content. */
  db_stmt_t *st = db_query(db,
                           "SELECT c.locator, t.backend, t.owner_id, t.size FROM chunks c "
                           "JOIN contents t ON t.id = c.content_id WHERE c.content_id = $1",
                           "t", content_id);
  if(!st)
    return DRIVE_DB;
  char owner[64] = "";
  int64_t size = -1;
  int drc = DRIVE_OK;
  while((rc = db_step(st)) == DB_ROW) {
    const char *owner_id = db_col_text(st, 2);
    if(owner_id && !owner[0]) {
      snprintf(owner, sizeof(owner), "%s", owner_id);
      size = db_col_int(st, 3);
    }
    drc = garbage_record_delete(db, db_col_text(st, 1), db_col_text(st, 0));
    if(drc != DRIVE_OK)
      break;
  }
  int frc = db_finalize(st);
  if(drc != DRIVE_OK)
    return drc;
  if(rc != DB_DONE)
    return drive_from_db(rc);
  if(frc != DB_OK)
    return drive_from_db(frc);
  if(!owner[0]) {
    /* A content without chunks (empty file): read its owner directly. */
    st = db_query(db, "SELECT owner_id, size FROM contents WHERE id = $1", "t", content_id);
    if(st && db_step(st) == DB_ROW) {
      db_col_copy(st, 0, owner, sizeof(owner));
      size = db_col_int(st, 1);
    }
    db_finalize(st);
  }
  drc = drive_db(db_exec(db, "DELETE FROM contents WHERE id = $1", "t", content_id));
  if(drc == DRIVE_OK && owner[0] && size > 0)
    drc = usage_add(db, owner, 0, 0, 0, -size);
  return drc;
}

bool content_knows_locator(db_t *db, const char *locator)
{
  int64_t one = 0;
  int rc = db_query_int(db, &one, "SELECT 1 FROM chunks WHERE locator = $1 LIMIT 1", "t", locator);
  return rc != DB_DONE;   /* on error, assume known: never delete by mistake */
}

int content_each_locator(db_t *db, const char *backend, int (*fn)(void *arg, const char *locator),
                         void *arg)
{
  db_stmt_t *st = db_query(db, "SELECT c.locator FROM chunks c JOIN contents t "
                               "ON t.id = c.content_id WHERE t.backend = $1", "t", backend);
  return drive_each_text(st, fn, arg);
}
