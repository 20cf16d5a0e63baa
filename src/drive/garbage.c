/* garbage: see garbage.h. */
#include <stdio.h>
#include "drive/garbage.h"
#include "drive/nodes.h"
#include "util/timefmt.h"

int garbage_record_staged(db_t *db, const char *backend, const char *locator,
                          char id[ID_LEN + 1])
{
  int64_t now = time_now_ms();
  id_new(id);
  /* The node's id: its peers leave the record alone while it lives. */
  return drive_db(db_exec(db, "INSERT INTO pending_deletes (id, backend, locator, state, "
                              "next_attempt_at, created_at, node_id) "
                              "VALUES ($1, $2, $3, 'staged', $4, $4, $5)",
                          "tttit", id, backend, locator, now, nodes_self()));
}

int garbage_confirm(db_t *db, const char *id)
{
  return drive_db(db_exec(db, "DELETE FROM pending_deletes WHERE id = $1", "t", id));
}

int garbage_release(db_t *db, const char *id)
{
  return drive_db(db_exec(db, "UPDATE pending_deletes SET state = 'delete' WHERE id = $1", "t", id));
}

int garbage_hold(db_t *db, const char *id)
{
  return drive_db(db_exec(db, "UPDATE pending_deletes SET state = 'held' WHERE id = $1 AND "
                              "state = 'staged'", "t", id));
}

int garbage_record_delete(db_t *db, const char *backend, const char *locator)
{
  char id[ID_LEN + 1];
  int64_t now = time_now_ms();
  id_new(id);
  return drive_db(db_exec(db, "INSERT INTO pending_deletes (id, backend, locator, state, "
                              "next_attempt_at, created_at) VALUES ($1, $2, $3, 'delete', $4, $4)",
                          "ttti", id, backend, locator, now));
}

int64_t garbage_reclaim_staged(db_t *db, int64_t before_ms, bool any_node)
{
  int rc = any_node ? db_exec(db, "UPDATE pending_deletes SET state = 'delete' "
                                  "WHERE state = 'staged' AND created_at < $1", "i", before_ms)
                    : db_exec(db, "UPDATE pending_deletes SET state = 'delete' "
                                  "WHERE state = 'staged' AND created_at < $1 AND "
                                  NODES_DEAD_SQL("node_id"), "i", before_ms);
  return rc == DB_OK ? db_changes(db) : drive_from_db(rc);
}

int garbage_due(db_t *db, const char *backend, int64_t now, struct garbage_item *items, int max)
{
  int n = 0, rc = DB_DONE;
  db_stmt_t *st = db_query(db,
                           "SELECT id, locator, attempts FROM pending_deletes WHERE state = 'delete' "
                           "AND backend = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3",
                           "tii", backend, now, (int64_t)max);
  if(!st)
    return DRIVE_DB;
  while(n < max && (rc = db_step(st)) == DB_ROW) {
    db_col_copy(st, 0, items[n].id, sizeof(items[n].id));
    db_col_copy(st, 1, items[n].locator, sizeof(items[n].locator));
    items[n].attempts = db_col_int(st, 2);
    n++;
  }
  rc = drive_stmt_end(st, rc);
  return rc == DRIVE_OK ? n : rc;
}

int garbage_done(db_t *db, const char *id)
{
  return drive_db(db_exec(db, "DELETE FROM pending_deletes WHERE id = $1", "t", id));
}

int garbage_retry(db_t *db, const char *id, int64_t next_attempt_at, const char *error)
{
  return drive_db(db_exec(db, "UPDATE pending_deletes SET attempts = attempts + 1, "
                              "next_attempt_at = $1, last_error = $2 WHERE id = $3",
                          "itt", next_attempt_at, error, id));
}

bool garbage_knows(db_t *db, const char *locator)
{
  int64_t one = 0;
  int rc = db_query_int(db, &one, "SELECT 1 FROM pending_deletes WHERE locator = $1 LIMIT 1", "t",
                        locator);
  return rc != DB_DONE;
}

int64_t garbage_pending_count(db_t *db)
{
  int64_t n = 0;
  int rc = db_query_int(db, &n, "SELECT COUNT(*) FROM pending_deletes WHERE state = 'delete'", "");
  return rc == DB_ROW ? n : -1;
}

int garbage_each_locator(db_t *db, const char *backend, int (*fn)(void *arg, const char *locator),
                         void *arg)
{
  db_stmt_t *st = db_query(db, "SELECT locator FROM pending_deletes WHERE backend = $1", "t",
                           backend);
  return drive_each_text(st, fn, arg);
}
