/* urljob_db: see urljob_db.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/nodes.h"
#include "drive/urljob_db.h"
#include "util/log.h"
#include "util/timefmt.h"

int urljob_db_insert(const struct urljob_row *r)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int64_t now = time_now_ms();
  return drive_db(db_exec(db, "INSERT INTO url_jobs (id, user_id, url, name, folder_id, status, "
                              "total, created_at, updated_at, node_id) "
                              "VALUES ($1, $2, $3, $4, $5, $6, -1, $7, $7, $8)",
                          "ttttttit", r->id, r->user_id, r->url, r->name[0] ? r->name : NULL,
                          r->folder_id[0] ? r->folder_id : NULL, r->status, now, nodes_self()));
}

void urljob_db_update(const struct urljob_row *r)
{
  db_t *db = db_get();
  int rc = db ? db_exec(db, "UPDATE url_jobs SET status = $2, file_id = $3, error = $4, "
                            "transferred = $5, total = $6, etag = $7, last_modified = $8, "
                            "ranges = $9, updated_at = $10 WHERE id = $1 "
                            "AND status IN ('pending', 'downloading', 'processing') "
                            "AND COALESCE(node_id, '') = $11",
                        "ttttiittiit", r->id, r->status, r->file_id[0] ? r->file_id : NULL,
                        r->error[0] ? r->error : NULL, (int64_t)r->transferred, r->total,
                        r->etag[0] ? r->etag : NULL,
                        r->last_modified[0] ? r->last_modified : NULL, (int64_t)r->ranges,
                        time_now_ms(), r->node_id)
              : DB_UNAVAILABLE;
  if(rc != DB_OK)
    log_error("url job %s: cannot record status %s (%d)", r->id, r->status, rc);
}

#define URLJOB_COLS                                                                    \
  "SELECT id, user_id, url, name, folder_id, status, file_id, error, transferred, "    \
  "total, etag, last_modified, ranges, created_at, updated_at, node_id FROM url_jobs "

/* Reads a row in URLJOB_COLS order; updated_at into *updated. */
static int urljob_db_read(db_stmt_t *st, struct urljob_row *r, int64_t *updated)
{
  memset(r, 0, sizeof(*r));
  db_col_copy(st, 0, r->id, sizeof(r->id));
  db_col_copy(st, 1, r->user_id, sizeof(r->user_id));
  const char *url = db_col_text(st, 2);
  r->url = strdup(url ? url : "");
  if(!db_col_null(st, 3))
    db_col_copy(st, 3, r->name, sizeof(r->name));
  if(!db_col_null(st, 4))
    db_col_copy(st, 4, r->folder_id, sizeof(r->folder_id));
  db_col_copy(st, 5, r->status, sizeof(r->status));
  if(!db_col_null(st, 6))
    db_col_copy(st, 6, r->file_id, sizeof(r->file_id));
  if(!db_col_null(st, 7))
    db_col_copy(st, 7, r->error, sizeof(r->error));
  int64_t x = db_col_int(st, 8);
  r->transferred = x > 0 ? (uint64_t)x : 0;
  r->total = db_col_int(st, 9);
  if(!db_col_null(st, 10))
    db_col_copy(st, 10, r->etag, sizeof(r->etag));
  if(!db_col_null(st, 11))
    db_col_copy(st, 11, r->last_modified, sizeof(r->last_modified));
  r->ranges = db_col_int(st, 12) != 0;
  r->created_at = db_col_int(st, 13);
  *updated = db_col_int(st, 14);
  if(!db_col_null(st, 15))
    db_col_copy(st, 15, r->node_id, sizeof(r->node_id));
  return r->url ? 0 : -1;
}

int urljob_db_unfinished(void (*fn)(struct urljob_row *r, void *arg), void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, URLJOB_COLS "WHERE status IN ('pending', 'downloading', "
                               "'processing') AND " NODES_DEAD_SQL("node_id")
                               " ORDER BY created_at", "");
  if(!st)
    return DRIVE_DB;
  int rc;
  while((rc = db_step(st)) == DB_ROW) {
    struct urljob_row r;
    int64_t updated;
    if(urljob_db_read(st, &r, &updated) == 0)
      fn(&r, arg);
    free(r.url);
  }
  return drive_stmt_end(st, rc);
}

int urljob_db_get(const char *user_id, const char *job_id, struct urljob_row *r, int64_t *updated)
{
  memset(r, 0, sizeof(*r));
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, URLJOB_COLS "WHERE id = $1 AND user_id = $2", "tt", job_id,
                           user_id);
  if(!st)
    return DRIVE_DB;
  int rc = db_step(st);
  if(rc == DB_ROW) {
    int bad = urljob_db_read(st, r, updated);
    db_finalize(st);
    if(bad) {
      free(r->url);
      r->url = NULL;
      return DRIVE_INTERNAL;
    }
    return DRIVE_OK;
  }
  int end = drive_stmt_end(st, rc);
  return end == DRIVE_OK ? DRIVE_NOT_FOUND : end;
}

bool urljob_db_claim(struct urljob_row *r)
{
  db_t *db = db_get();
  const char *self = nodes_self();
  if(!db || !self)
    return false;
  int rc = db_exec(db, "UPDATE url_jobs SET node_id = $2 WHERE id = $1 AND "
                       "COALESCE(node_id, '') = $3 AND status IN ('pending', 'downloading', "
                       "'processing')", "ttt", r->id, self, r->node_id);
  if(rc != DB_OK || db_changes(db) != 1)
    return false;
  snprintf(r->node_id, sizeof(r->node_id), "%s", self);
  return true;
}
