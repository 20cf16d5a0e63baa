/* upload_commit: an upload's one transaction (see upload_priv.h). */
#include <stdio.h>
#include <string.h>
#include "drive/content.h"
#include "drive/drive.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "drive/garbage.h"
#include "drive/store.h"
#include "drive/upload.h"
#include "drive/upload_priv.h"
#include "util/id.h"
#include "util/timefmt.h"

/* A replacing upload's end of the commit: the live file takes the new
 * content; its folders and the owner's usage change by the difference and
 * the old content loses its reference. */
static int upload_swap(struct upload *u, db_t *db, const char *sha, const char *mime,
                       const char *content_id, char *file_id)
{
  struct file_rec old;
  int rc = file_get(u->owner_id, u->replace_id, &old);
  if(rc != DRIVE_OK)
    return rc;
  if(old.is_deleted)
    return DRIVE_NOT_FOUND;
  int64_t delta = (int64_t)u->size - old.size;
  if(db_exec(db, "UPDATE files SET content_id = $1, mime_type = $2, size = $3, sha256 = $4, "
                 "updated_at = $5 WHERE id = $6 AND owner_id = $7",
             "ttititt", content_id, mime, (int64_t)u->size, sha,
             u->mtime ? u->mtime : time_now_ms(), old.id, u->owner_id))
    return DRIVE_DB;
  rc = folder_add_size(db, old.folder_id[0] ? old.folder_id : NULL, delta);
  if(rc == DRIVE_OK)
    rc = usage_add(db, u->owner_id, delta, 0, 0, 0);
  if(rc == DRIVE_OK)
    rc = content_unref(db, old.content_id);
  snprintf(file_id, ID_LEN + 1, "%.22s", old.id);
  return rc;
}

/* The commit: dedup, content + chunks, the file row, sizes and usage. */
int upload_commit(struct upload *u, db_t *db, const char *sha, const char *mime, char *file_id,
                  bool dedup_reject)
{
  int64_t now = time_now_ms();
  const char *folder = u->folder_id[0] ? u->folder_id : NULL;
  char content_id[ID_LEN + 1] = "";
  bool dup = false;
  int rc;

  if(folder_check_live(u->owner_id, folder) != DRIVE_OK)
    return DRIVE_NOT_FOUND;
  db_stmt_t *st = db_query(db, "SELECT id FROM contents WHERE owner_id = $1 AND sha256 = $2", "tt",
                           u->owner_id, sha);
  if(!st)
    return DRIVE_DB;
  if(db_step(st) == DB_ROW) {
    db_col_copy(st, 0, content_id, sizeof(content_id));
    dup = true;
  }
  if(db_finalize(st) != DB_OK)
    return DRIVE_DB;

  if(dup) {
    if(dedup_reject)
      return DRIVE_DUPLICATE;
    if(db_exec(db, "UPDATE contents SET refcount = refcount + 1 WHERE id = $1", "t", content_id))
      return DRIVE_DB;
    /* Our copy of the bytes is redundant: it becomes garbage. */
    u->redundant = true;
    for(size_t i = 0; i < u->nchunks; i++)
      if((rc = garbage_release(db, u->chunks[i].staged_id)) != DRIVE_OK)
        return rc;
  }
  else {
    id_new(content_id);
    if(db_exec(db, "INSERT INTO contents (id, owner_id, sha256, size, chunk_size, chunk_count, "
                   "backend, refcount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
               "tttiiiti", content_id, u->owner_id, sha, (int64_t)u->size,
               (int64_t)u->chunk_size, (int64_t)u->nchunks,
               store_backend_name(), now))
      return DRIVE_DB;
    for(size_t i = 0; i < u->nchunks; i++) {
      struct upload_chunk *c = &u->chunks[i];
      if(db_exec(db, "INSERT INTO chunks (content_id, idx, size, checksum, locator) "
                     "VALUES ($1, $2, $3, $4, $5)",
                 "tiitt", content_id, (int64_t)i, (int64_t)c->size, c->checksum, c->locator))
        return DRIVE_DB;
      if((rc = garbage_confirm(db, c->staged_id)) != DRIVE_OK)
        return rc;
    }
    if((rc = usage_add(db, u->owner_id, 0, 0, 0, (int64_t)u->size)) != DRIVE_OK)
      return rc;
  }

  if(u->replace_id[0])
    return upload_swap(u, db, sha, mime, content_id, file_id);
  struct file_rec f = {.size = (int64_t)u->size, .created_at = now,
                       .updated_at = u->mtime ? u->mtime : now};
  snprintf(f.owner_id, sizeof(f.owner_id), "%.31s", u->owner_id);
  snprintf(f.folder_id, sizeof(f.folder_id), "%.31s", u->folder_id);
  snprintf(f.content_id, sizeof(f.content_id), "%s", content_id);
  snprintf(f.name, sizeof(f.name), "%s", u->name);
  snprintf(f.mime_type, sizeof(f.mime_type), "%s", mime);
  snprintf(f.sha256, sizeof(f.sha256), "%s", sha);
  id_new(f.id);
  rc = file_insert_row(db, &f);
  if(rc != DRIVE_OK)
    return rc;
  memcpy(file_id, f.id, ID_LEN + 1);
  rc = folder_add_size(db, folder, (int64_t)u->size);
  if(rc == DRIVE_OK)
    rc = usage_add(db, u->owner_id, (int64_t)u->size, 1, 0, 0);
  return rc;
}
