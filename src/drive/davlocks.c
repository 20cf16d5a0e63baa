/* davlocks: the dav_locks table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/davlocks.h"
#include "util/timefmt.h"
#include "util/grow.h"

int davlock_list(const char *owner_id, struct davlock **out, size_t *n)
{
  db_t *db = db_get();
  int64_t now = time_now_ms();
  *out = NULL;
  *n = 0;
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, "SELECT token, path, depth_infinity, exclusive, owner_xml, "
                               "timeout_s, expires_at FROM dav_locks WHERE owner_id = $1 AND "
                               "expires_at >= $2 ORDER BY created_at LIMIT 1000", "ti", owner_id,
                           now);
  if(!st)
    return DRIVE_DB;
  size_t cap = 0;
  int step, rc = DRIVE_OK;
  while((step = db_step(st)) == DB_ROW) {
    struct davlock *m = grow_room(*out, &cap, *n, sizeof(*m), 4);
    if(!m) {
      rc = DRIVE_INTERNAL;   /* a cut list could hide a lock: fail instead */
      break;
    }
    *out = m;
    struct davlock *l = &(*out)[(*n)++];
    db_col_copy(st, 0, l->token, sizeof(l->token));
    db_col_copy(st, 1, l->path, sizeof(l->path));
    l->infinity = db_col_int(st, 2) != 0;
    l->exclusive = db_col_int(st, 3) != 0;
    db_col_copy(st, 4, l->owner_xml, sizeof(l->owner_xml));
    l->timeout_s = db_col_int(st, 5);
    l->expires_at = db_col_int(st, 6);
  }
  int end = drive_stmt_end(st, step);
  if(rc == DRIVE_OK)
    rc = end;
  if(rc != DRIVE_OK) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

int davlock_add(const char *owner_id, const struct davlock *l)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* The user's expired locks go when a new one comes (reads skip them). */
  int rc = db_exec(db, "DELETE FROM dav_locks WHERE owner_id = $1 AND expires_at < $2", "ti",
                   owner_id, time_now_ms());
  if(rc != DB_OK)
    return drive_from_db(rc);
  return drive_db(db_exec(db, "INSERT INTO dav_locks (token, owner_id, path, depth_infinity, "
                              "exclusive, owner_xml, timeout_s, expires_at, created_at) VALUES "
                              "($1, $2, $3, $4, $5, $6, $7, $8, $9)", "tttiitiii", l->token,
                          owner_id, l->path, (int64_t)l->infinity, (int64_t)l->exclusive,
                          l->owner_xml, l->timeout_s, l->expires_at, time_now_ms()));
}

int davlock_refresh(const char *owner_id, const char *token, int64_t timeout_s)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int rc = db_exec(db, "UPDATE dav_locks SET timeout_s = $1, expires_at = $2 WHERE token = $3 AND "
                       "owner_id = $4 AND expires_at >= $5", "iitti", timeout_s,
                   time_now_ms() + timeout_s * 1000, token, owner_id, time_now_ms());
  if(rc != DB_OK)
    return drive_from_db(rc);
  return db_changes(db) > 0 ? DRIVE_OK : DRIVE_NOT_FOUND;
}

int davlock_remove(const char *owner_id, const char *token)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int rc = db_exec(db, "DELETE FROM dav_locks WHERE token = $1 AND owner_id = $2", "tt", token,
                   owner_id);
  if(rc != DB_OK)
    return drive_from_db(rc);
  return db_changes(db) > 0 ? DRIVE_OK : DRIVE_NOT_FOUND;
}

int davlock_remove_tree(const char *owner_id, const char *path)
{
  struct davlock *l;
  size_t n, plen = strlen(path);
  int rc = davlock_list(owner_id, &l, &n);
  for(size_t i = 0; rc == DRIVE_OK && i < n; i++) {
    bool below = !strcmp(path, "/") ||
                 (!strncmp(l[i].path, path, plen) && (!l[i].path[plen] || l[i].path[plen] == '/'));
    if(below && (rc = davlock_remove(owner_id, l[i].token)) == DRIVE_NOT_FOUND)
      rc = DRIVE_OK;
  }
  free(l);
  return rc;
}
