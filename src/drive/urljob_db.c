/* urljob_db: see urljob_db.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/nodes.h"
#include "drive/urljob_db.h"
#include "util/log.h"
#include "util/timefmt.h"

#define URLJOB_RECOVER_BATCH 32   /* jobs per pass; the next heartbeat takes more */

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

int urljob_db_update(const struct urljob_row *r)
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
  return drive_db(rc);
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
  struct urljob_row *rows = calloc(URLJOB_RECOVER_BATCH, sizeof(*rows));
  if(!rows)
    return DRIVE_INTERNAL;
  db_stmt_t *st = db_query(db, URLJOB_COLS "WHERE status IN ('pending', 'downloading', "
                               "'processing') AND " NODES_DEAD_SQL("node_id")
                               " ORDER BY created_at LIMIT $1", "i",
                           (int64_t)URLJOB_RECOVER_BATCH);
  if(!st) {
    free(rows);
    return DRIVE_DB;
  }
  int n = 0, rc;
  while(n < URLJOB_RECOVER_BATCH && (rc = db_step(st)) == DB_ROW) {
    int64_t updated;
    if(urljob_db_read(st, &rows[n], &updated) == 0)
      n++;   /* else out of memory for the URL (NULL): the row is skipped */
  }
  rc = drive_stmt_end(st, n == URLJOB_RECOVER_BATCH ? DB_DONE : rc);
  /* fn runs only now: on SQLite a connection with a statement still open
   * keeps its read snapshot, and a write of its own (the claim, the task)
   * then fails at once, without the busy wait, as soon as another thread
   * has written since. */
  for(int i = 0; i < n; i++) {
    if(rc == DRIVE_OK)
      fn(&rows[i], arg);
    free(rows[i].url);
  }
  free(rows);
  return rc;
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

void urljob_db_release(struct urljob_row *r)
{
  db_t *db = db_get();
  int rc = db ? db_exec(db, "UPDATE url_jobs SET node_id = NULL WHERE id = $1 AND node_id = $2",
                        "tt", r->id, r->node_id)
              : DB_UNAVAILABLE;
  if(rc != DB_OK)
    log_error("url job %s: cannot give it back for a later try (%d)", r->id, rc);
  r->node_id[0] = '\0';
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
