#include <stdio.h>
#include <string.h>
#include "drive/content.h"
#include "drive/drive.h"
#include "drive/folders.h"
#include "drive/files.h"
#include "util/id.h"

static void copy_col(db_stmt_t *st, int col, char *out, size_t outsz)
{
  const char *v = db_col_text(st, col);
  snprintf(out, outsz, "%s", v ? v : "");
}

void file_from_row(db_stmt_t *st, int col, struct file_rec *f)
{
  copy_col(st, col + 0, f->id, sizeof(f->id));
  copy_col(st, col + 1, f->owner_id, sizeof(f->owner_id));
  copy_col(st, col + 2, f->folder_id, sizeof(f->folder_id));
  copy_col(st, col + 3, f->content_id, sizeof(f->content_id));
  copy_col(st, col + 4, f->name, sizeof(f->name));
  copy_col(st, col + 5, f->mime_type, sizeof(f->mime_type));
  copy_col(st, col + 6, f->sha256, sizeof(f->sha256));
  f->size = db_col_int(st, col + 7);
  f->is_deleted = db_col_int(st, col + 8) != 0;
  f->is_starred = db_col_int(st, col + 9) != 0;
  f->deleted_at = db_col_null(st, col + 10) ? 0 : db_col_int(st, col + 10);
  f->created_at = db_col_int(st, col + 11);
  f->updated_at = db_col_int(st, col + 12);
  f->carried = db_col_int(st, col + 13) != 0;
}

int file_get(db_t *db, const char *owner_id, const char *file_id, struct file_rec *f)
{
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
  if(rc == DB_OK)
    rc = content_unref(db, f->content_id);
  return rc == DB_OK ? DRIVE_OK : drive_from_db(rc);
}
