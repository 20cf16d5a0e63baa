#include <stdio.h>
#include "drive/content.h"
#include "util/id.h"
#include "util/timefmt.h"

int usage_add(db_t *db, const char *user_id, int64_t d_total, int64_t d_count, int64_t d_bin,
              int64_t d_stored)
{
  return db_exec(db,
                 "UPDATE users SET total_usage_bytes = total_usage_bytes + $1, "
                 "file_count = file_count + $2, bin_bytes = bin_bytes + $3, "
                 "stored_bytes = stored_bytes + $4 WHERE id = $5",
                 "iiiit", d_total, d_count, d_bin, d_stored, user_id);
}

int content_unref(db_t *db, const char *content_id)
{
  int64_t refs = 0;
  int rc = db_query_int(db, &refs,
                        "UPDATE contents SET refcount = refcount - 1 WHERE id = $1 RETURNING refcount",
                        "t", content_id);
  if(rc != DB_ROW)
    return rc == DB_DONE ? DB_OK : rc;
  if(refs > 0)
    return DB_OK;

  /* Last reference: queue every chunk for removal, then forget the content. */
  int64_t now = time_now_ms();
  db_stmt_t *st = db_query(db,
                           "SELECT c.locator, t.backend, t.owner_id, t.size FROM chunks c "
                           "JOIN contents t ON t.id = c.content_id WHERE c.content_id = $1",
                           "t", content_id);
  if(!st)
    return DB_ERROR;
  char owner[64] = "";
  int64_t size = -1;
  while((rc = db_step(st)) == DB_ROW) {
    char pid[ID_LEN + 1];
    id_new(pid);
    const char *owner_id = db_col_text(st, 2);
    if(owner_id && !owner[0]) {
      snprintf(owner, sizeof(owner), "%s", owner_id);
      size = db_col_int(st, 3);
    }
    rc = db_exec(db,
                 "INSERT INTO pending_deletes (id, backend, locator, state, next_attempt_at, created_at) "
                 "VALUES ($1, $2, $3, 'delete', $4, $4)",
                 "ttti", pid, db_col_text(st, 1), db_col_text(st, 0), now);
    if(rc != DB_OK)
      break;
  }
  int frc = db_finalize(st);
  if(rc != DB_DONE)
    return rc < 0 ? rc : DB_ERROR;
  if(frc != DB_OK)
    return frc;
  if(!owner[0]) {
    /* A content without chunks (empty file): read its owner directly. */
    st = db_query(db, "SELECT owner_id, size FROM contents WHERE id = $1", "t", content_id);
    if(st && db_step(st) == DB_ROW) {
      snprintf(owner, sizeof(owner), "%s", db_col_text(st, 0));
      size = db_col_int(st, 1);
    }
    db_finalize(st);
  }
  rc = db_exec(db, "DELETE FROM contents WHERE id = $1", "t", content_id);
  if(rc == DB_OK && owner[0] && size > 0)
    rc = usage_add(db, owner, 0, 0, 0, -size);
  return rc;
}
