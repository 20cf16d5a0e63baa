/* folder_ops: a big folder's bin or restore in batches (folder_ops.h). */
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include "drive/folder_ops.h"
#include "util/log.h"

static atomic_int ops_batch = 200;
static atomic_int ops_pause_ms = 0;

void folder_ops_configure(int batch_folders, int pause_ms)
{
  atomic_store(&ops_batch, batch_folders > 0 ? batch_folders : 200); /* 0: the default */
  atomic_store(&ops_pause_ms, pause_ms > 0 ? pause_ms : 0);
}

/* Bin: up to $4 live folders whose parent is in group $1 (its top or a
 * folder marked with it), all of owner $2, join the group. Top down: a
 * folder is marked only after its parent, so the marked part is always
 * the top of the subtree and the rest hangs below it. */
#define OPS_BIN_STEP                                                                     \
  "UPDATE folders SET is_deleted = 1, deleted_at = $3, trashed_with = $1 WHERE id IN ("  \
  "SELECT c.id FROM folders c WHERE c.owner_id = $2 AND c.is_deleted = 0 AND "           \
  "c.parent_id IN (SELECT CAST($1 AS TEXT) UNION ALL "                                   \
  "SELECT g.id FROM folders g WHERE g.trashed_with = $1) LIMIT $4)"
/* Restore: up to $2 folders of group $1 whose parent is live (the restored
 * folder, or one of its folders brought back by an earlier batch). */
#define OPS_RESTORE_STEP                                                                 \
  "UPDATE folders SET is_deleted = 0, deleted_at = NULL, trashed_with = NULL WHERE id IN (" \
  "SELECT c.id FROM folders c WHERE c.trashed_with = $1 AND c.is_deleted = 1 AND "       \
  "EXISTS (SELECT 1 FROM folders p WHERE p.id = c.parent_id AND p.is_deleted = 0) "      \
  "LIMIT $2)"

/* One statement: one level of the subtree at most (its rows are chosen
 * before any changes). *changed: the rows it changed. */
static int ops_step(db_t *db, const struct folder_op *op, int64_t limit, int64_t *changed)
{
  int rc;
  if(op->op == FOLDER_OP_BIN)
    rc = db_exec(db, OPS_BIN_STEP, "ttii", op->group_id, op->owner_id, op->at, limit);
  else
    rc = db_exec(db, OPS_RESTORE_STEP, "ti", op->group_id, limit);
  *changed = rc == DB_OK ? db_changes(db) : 0;
  return drive_db(rc);
}

/* One batch in the caller's transaction: steps until it changed a batch's
 * worth of rows, or one changed none (the operation is complete). */
static int ops_batch_run(db_t *db, const struct folder_op *op, bool *done)
{
  int64_t batch = atomic_load(&ops_batch), total = 0, changed = 0;
  int rc = DRIVE_OK;
  *done = false;
  while(rc == DRIVE_OK && total < batch) {
    rc = ops_step(db, op, batch - total, &changed);
    if(rc == DRIVE_OK && changed == 0)
      *done = true;
    if(*done)
      break;
    total += changed;
  }
  return rc;
}

int folder_ops_start(db_t *db, const struct folder_op *op, bool *more)
{
  bool done;
  *more = false;
  int rc = ops_batch_run(db, op, &done);
  if(rc || done)
    return rc;
  *more = true;
  return drive_db(db_exec(db,
                          "INSERT INTO folder_ops (folder_id, owner_id, op, group_id, at) "
                          "VALUES ($1, $2, $3, $4, $5)",
                          "ttiti", op->folder_id, op->owner_id, (int64_t)op->op, op->group_id,
                          op->at));
}

static void ops_pause(void)
{
  int ms = atomic_load(&ops_pause_ms);
  if(ms > 0)
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

int folder_ops_finish(const struct folder_op *op)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  for(;;) {
    ops_pause();
    int rc = drive_tx_begin(db);
    if(rc)
      return rc;
    /* Still pending? Another thread or node may have completed it. */
    int64_t one;
    int q = db_query_int(db, &one, "SELECT 1 FROM folder_ops WHERE folder_id = $1", "t",
                         op->folder_id);
    if(q != DB_ROW)
      return drive_tx_end(db, q == DB_DONE ? DRIVE_OK : drive_from_db(q));
    bool done;
    rc = ops_batch_run(db, op, &done);
    if(!rc && done)
      rc = drive_db(db_exec(db, "DELETE FROM folder_ops WHERE folder_id = $1", "t",
                            op->folder_id));
    rc = drive_tx_end(db, rc);
    if(rc || done)
      return rc;
  }
}

static void ops_fill(db_stmt_t *st, void *arg)
{
  struct folder_op *op = arg;
  db_col_copy(st, 0, op->folder_id, sizeof(op->folder_id));
  db_col_copy(st, 1, op->owner_id, sizeof(op->owner_id));
  op->op = (int)db_col_int(st, 2);
  db_col_copy(st, 3, op->group_id, sizeof(op->group_id));
  op->at = db_col_int(st, 4);
}

int folder_ops_settle(const char *owner_id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  for(;;) {
    struct folder_op op;
    int rc = drive_read_one(owner_id ? db_query(db,
                                                "SELECT folder_id, owner_id, op, group_id, at "
                                                "FROM folder_ops WHERE owner_id = $1 LIMIT 1",
                                                "t", owner_id)
                                     : db_query(db,
                                                "SELECT folder_id, owner_id, op, group_id, at "
                                                "FROM folder_ops LIMIT 1",
                                                ""),
                            ops_fill, &op);
    if(rc == DRIVE_NOT_FOUND)
      return DRIVE_OK;
    if(rc == DRIVE_OK)
      rc = folder_ops_finish(&op);
    if(rc)
      return rc;
  }
}

int folder_ops_tx_begin(db_t *db, const char *owner_id)
{
  for(;;) {
    int rc = drive_tx_begin(db);
    if(rc)
      return rc;
    /* Inside the write transaction: writers are serialised (db.h), so no
     * operation of this owner can start before it ends. */
    int64_t one;
    int q = db_query_int(db, &one, "SELECT 1 FROM folder_ops WHERE owner_id = $1 LIMIT 1", "t",
                         owner_id);
    if(q == DB_DONE)
      return DRIVE_OK;
    db_rollback(db);
    if(q != DB_ROW)
      return drive_from_db(q);
    if((rc = folder_ops_settle(owner_id)) != DRIVE_OK)
      return rc;
  }
}
