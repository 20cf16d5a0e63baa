/* task_takeover: tasks_take_over (see tasks.h). A dead node's task is
 * claimed by a compare-and-set on its node_id, so of several live nodes
 * sweeping at once exactly one fails it; the winner revives it in its own
 * registry (task_start with the id) and fails it there, which records the
 * row and tells the watchers of every node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/nodes.h"
#include "drive/tasks.h"
#include "util/log.h"

#define TAKEOVER_BATCH 64   /* tasks per round; the next heartbeat takes more */

struct takeover_row {
  char id[ID_LEN + 1];
  char user_id[TASK_USER_MAX];
  char type[TASK_TYPE_MAX];
  char file_name[TASK_NAME_MAX];
  char folder_id[ID_LEN + 1];
  char node_id[ID_LEN + 1];   /* "" = none */
  int64_t created_at;
};

int64_t tasks_take_over(const char *error)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct takeover_row *rows = calloc(TAKEOVER_BATCH, sizeof(*rows));
  if(!rows)
    return DRIVE_INTERNAL;
  /* A url_upload task with its job unfinished is the job's (urljob.c resumes
   * or fails the job); one whose job ended is just a task left behind. */
  db_stmt_t *st = db_query(db, "SELECT id, user_id, type, file_name, folder_id, node_id, "
                               "created_at FROM tasks WHERE status IN ('queued', 'in_progress') "
                               "AND " NODES_DEAD_SQL("node_id") " AND (type <> 'url_upload' "
                               "OR NOT EXISTS (SELECT 1 FROM url_jobs j WHERE j.id = tasks.id "
                               "AND j.status IN ('pending', 'downloading', 'processing'))) "
                               "LIMIT $1", "i", (int64_t)TAKEOVER_BATCH);
  if(!st) {
    free(rows);
    return DRIVE_DB;
  }
  int n = 0, rc;
  while(n < TAKEOVER_BATCH && (rc = db_step(st)) == DB_ROW) {
    struct takeover_row *r = &rows[n++];
    db_col_copy(st, 0, r->id, sizeof(r->id));
    db_col_copy(st, 1, r->user_id, sizeof(r->user_id));
    db_col_copy(st, 2, r->type, sizeof(r->type));
    db_col_copy(st, 3, r->file_name, sizeof(r->file_name));
    if(!db_col_null(st, 4))
      db_col_copy(st, 4, r->folder_id, sizeof(r->folder_id));
    if(!db_col_null(st, 5))
      db_col_copy(st, 5, r->node_id, sizeof(r->node_id));
    r->created_at = db_col_int(st, 6);
  }
  rc = drive_stmt_end(st, n == TAKEOVER_BATCH ? DB_DONE : rc);
  int64_t taken = 0;
  for(int i = 0; rc == DRIVE_OK && i < n; i++) {
    struct takeover_row *r = &rows[i];
    int urc = db_exec(db, "UPDATE tasks SET node_id = $2 WHERE id = $1 AND "
                          "COALESCE(node_id, '') = $3 AND status IN ('queued', 'in_progress')",
                      "ttt", r->id, nodes_self(), r->node_id);
    if(urc != DB_OK || db_changes(db) != 1)
      continue;   /* another node claimed it, or it ended meanwhile */
    struct task_spec spec = {
      .user_id = r->user_id, .type = r->type, .file_name = r->file_name,
      .folder_id = r->folder_id[0] ? r->folder_id : NULL, .id = r->id,
      .created_at = r->created_at,
    };
    struct task *t = task_start(&spec, NULL, NULL);
    if(t) {
      task_fail(t, error);
      task_release(t);
      taken++;
    }
  }
  free(rows);
  if(taken > 0)
    log_info("tasks: %lld task(s) of a stopped node marked failed", (long long)taken);
  return rc == DRIVE_OK ? taken : rc;
}
