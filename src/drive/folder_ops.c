/* folder_ops: a big folder's bin or restore in batches (folder_ops.h); a
 * rekey's batches are folder_key_step's, its key range their state.
 *
 * A runner (the request that started the operation, an owner's write that
 * completes it, the janitor) keeps a queue of folders whose subtrees may
 * still hold folders to change: the frontier. A statement walks down from
 * a few of them, breadth first, through the folders still to change (one
 * level on SQLite, OPS_WALK_SQLITE) and changes the first ones it meets;
 * what it changed joins the queue, and the folders it started from leave
 * it once the walk below them came out short (nothing left there). Each statement costs the rows it changes,
 * not the part already done. A runner that starts, or finds its queue
 * empty, rebuilds it from the database (the folders done so far): another
 * runner may have changed folders it never saw. The operation is complete
 * when a queue so rebuilt yields nothing. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "drive/folder_key.h"
#include "drive/folder_ops.h"
#include "drive/folder_sql.h"
#include "util/grow.h"
#include "util/log.h"

static atomic_int ops_batch = 1000;
static atomic_int ops_budget_us = 0;   /* 0: OPS_BUDGET_US_SQLITE or _PG */
static atomic_int ops_pause_ms = 0;

/* Frontier folders one statement starts from, and the rows it changes at
 * most: a batch stops close to its time budget. */
#define OPS_PARENTS 32
#define OPS_STEP_ROWS 16
/* While no other writer waits for its turn (SQLite tells), each statement
 * takes twice the rows of the last, up to this: a 10,000-sibling bin alone
 * was 1,250 statements of 16 rows and 5.4 s (0.7 s in one statement before
 * the batches; 2.2 s now); a writer that arrives waits for one statement of
 * at most this many rows (~80 us each: ~5 ms, the batch budget) before the
 * step falls back to 16. */
#define OPS_STEP_ROWS_MAX 64
#define OPS_STEP_ROWS_PG 48   /* PostgreSQL: a statement's fixed cost is higher */
/* A batch's time budget unless BIN_BATCH_MS says otherwise. On SQLite it
 * counts only while another writer waits, and that writer waits for the
 * rest of the batch and its commit: 2 ms took the other user's longest
 * wait beside a 100,000-item bin from 43-55 ms to 34-43 ms, the bin's own
 * time unchanged (PERFORMANCE "Seventh pass"). On PostgreSQL it always
 * counts (each commit is a round trip): 5 ms. */
#define OPS_BUDGET_US_SQLITE 2000
#define OPS_BUDGET_US_PG 5000

void folder_ops_configure(int batch_folders, int batch_ms, int pause_ms)
{
  atomic_store(&ops_batch, batch_folders > 0 ? batch_folders : 1000); /* 0: the default */
  atomic_store(&ops_budget_us, batch_ms > 0 ? batch_ms * 1000 : 0);   /* 0: per engine */
  atomic_store(&ops_pause_ms, pause_ms > 0 ? pause_ms : 0);
}

/* The walk of a step: from the folders of the JSON array $1 (owner $2)
 * down through the folders to change (COND; $3 the group), breadth first
 * (a folder after its parent: the part done is always the top of the
 * subtree), the first LIM of them. PostgreSQL probes each level's children
 * through the index (LATERAL and its OFFSET 0 fence, as the tree walk
 * does) and its recursion stops when the LIMIT is reached. SQLite's
 * recursion would not: taking a folder from its queue puts all of that
 * folder's children in, whatever the LIMIT, so each statement below a
 * folder with 10,000 children cost them all again (restoring them: 1.2 s
 * here, 7.4 s on a busy CI machine). SQLite's step takes the children of
 * the start folders only, through the (parent_id, is_deleted) index: the
 * children changed join the queue and are walked from in later steps. */
#define OPS_WALK_SQLITE(COND, LIM)                                                        \
  "SELECT c.id FROM folders c INDEXED BY folders_children "                               \
  "WHERE c.parent_id IN (SELECT value FROM json_each($1)) AND c.owner_id = $2 AND " COND  \
  " LIMIT " LIM
#define OPS_WALK_PG(COND, LIM)                                                            \
  "WITH RECURSIVE sub(id, d) AS (SELECT j.value, 0 FROM "                                 \
  "json_array_elements_text(CAST($1 AS json)) AS j(value) UNION ALL "                     \
  "SELECT c.id, sub.d + 1 FROM sub CROSS JOIN LATERAL (SELECT id FROM folders c "         \
  "WHERE c.parent_id = sub.id AND " COND " AND " PG_CHILD_OWNER("$2") " OFFSET 0) c) "  \
  "SELECT id FROM sub WHERE d > 0 LIMIT " LIM
/* Bin: live folders join group $3 (deleted_at $4). */
#define OPS_BIN_COND PG_CHILD_LIVE
#define OPS_BIN(WALK)                                                                     \
  "UPDATE folders SET is_deleted = 1, deleted_at = $4, trashed_with = $3 WHERE id IN ("   \
  WALK(OPS_BIN_COND, "$5") ") RETURNING id"
/* Restore: the folders of group $3 come back. The group test is kept out of
 * every index, like the owner's (PG_CHILD_OWNER): PostgreSQL's generic plan
 * probed each parent through folders_trashed (trashed_with alone), reading
 * every folder of the group still binned for each one, 650-750 rows a
 * probe, 10-30 ms a statement of 48 under the write lock, where
 * folders_children (parent_id, is_deleted) finds the parent's own. */
#define OPS_RESTORE_COND "c.is_deleted = 1 AND (c.trashed_with || '') = $3"
#define OPS_RESTORE(WALK)                                                                 \
  "UPDATE folders SET is_deleted = 0, deleted_at = NULL, trashed_with = NULL WHERE id IN (" \
  WALK(OPS_RESTORE_COND, "$4") ") RETURNING id"

/* The folders done so far ($1 the operation's folder, $2 its owner, $3 the
 * group). Bin: the group's top and its folders. Restore: the restored
 * folder and the live folders below it. */
#define OPS_DONE_BIN                                                                      \
  "SELECT id FROM folders WHERE id = $1 AND owner_id = $2 UNION ALL "                     \
  "SELECT id FROM folders WHERE trashed_with = $3 AND is_deleted = 1"
#define OPS_DONE_RESTORE_SQLITE                                                           \
  "WITH RECURSIVE sub(id) AS (SELECT id FROM folders WHERE id = $1 AND owner_id = $2 "    \
  "UNION ALL SELECT c.id FROM folders c JOIN sub ON c.parent_id = sub.id "                \
  "WHERE c.owner_id = $2 AND c.is_deleted = 0) SELECT id FROM sub"
#define OPS_DONE_RESTORE_PG                                                               \
  "WITH RECURSIVE sub(id) AS (SELECT id FROM folders WHERE id = $1 AND owner_id = $2 "    \
  "UNION ALL SELECT c.id FROM sub CROSS JOIN LATERAL (SELECT id FROM folders c "          \
  "WHERE c.parent_id = sub.id AND " PG_CHILD_LIVE " AND " PG_CHILD_OWNER("$2") " "     \
  "OFFSET 0) c) "                                                                         \
  "SELECT id FROM sub"

/* The frontier: ids[head..n) are still to walk from. */
struct ops_queue {
  char (*ids)[ID_LEN + 1];
  size_t head, n, cap;
  bool rebuilt;   /* filled from the database, and nothing changed since */
  char last_key[FOLDER_KEY_MAX + 1];   /* a rekey's progress (folder_key_step) */
};

static int ops_push(struct ops_queue *q, const char *id)
{
  if(q->n == q->cap) {
    if(q->head > 0) {   /* reuse the walked part first */
      memmove(q->ids, q->ids + q->head, (q->n - q->head) * sizeof(*q->ids));
      q->n -= q->head;
      q->head = 0;
    }
    void *grown = grow_room(q->ids, &q->cap, q->n, sizeof(*q->ids), 256);
    if(!grown)
      return DRIVE_INTERNAL;
    q->ids = grown;
  }
  snprintf(q->ids[q->n++], ID_LEN + 1, "%s", id);
  return DRIVE_OK;
}

static int ops_push_cb(void *arg, const char *id)
{
  return ops_push(arg, id);
}

/* Refills the queue with the folders done so far. */
static int ops_rebuild(db_t *db, const struct folder_op *op, struct ops_queue *q)
{
  q->head = q->n = 0;
  q->rebuilt = true;
  const char *sql = op->op == FOLDER_OP_BIN
                      ? OPS_DONE_BIN
                      : db_sql(OPS_DONE_RESTORE_SQLITE, OPS_DONE_RESTORE_PG);
  if(op->op == FOLDER_OP_BIN)
    return drive_each_text(db_query(db, sql, "ttt", op->folder_id, op->owner_id, op->group_id),
                           ops_push_cb, q);
  return drive_each_text(db_query(db, sql, "tt", op->folder_id, op->owner_id), ops_push_cb, q);
}

/* One statement from the next few frontier folders; *changed: the rows. */
static int ops_step(db_t *db, const struct folder_op *op, struct ops_queue *q, int64_t limit,
                    int64_t *changed)
{
  char parents[OPS_PARENTS * (ID_LEN + 3) + 3];
  size_t len = 0, take = q->n - q->head < OPS_PARENTS ? q->n - q->head : OPS_PARENTS;
  parents[len++] = '[';
  for(size_t i = 0; i < take; i++)
    len += (size_t)snprintf(parents + len, sizeof(parents) - len, "%s\"%s\"", i ? "," : "",
                            q->ids[q->head + i]);
  snprintf(parents + len, sizeof(parents) - len, "]");
  db_stmt_t *st;
  if(op->op == FOLDER_OP_BIN)
    st = db_query(db, db_sql(OPS_BIN(OPS_WALK_SQLITE), OPS_BIN(OPS_WALK_PG)), "tttii", parents,
                  op->owner_id, op->group_id, op->at, limit);
  else
    st = db_query(db, db_sql(OPS_RESTORE(OPS_WALK_SQLITE), OPS_RESTORE(OPS_WALK_PG)), "ttti",
                  parents, op->owner_id, op->group_id, limit);
  size_t n0 = q->n - q->head;   /* pushes may move the queue: count, not index */
  int rc = drive_each_text(st, ops_push_cb, q);
  if(rc)
    return rc;
  *changed = (int64_t)(q->n - q->head - n0);
  /* A walk that came out short left nothing below those folders. */
  if(*changed < limit)
    q->head += take;
  if(*changed > 0)
    q->rebuilt = false;
  return DRIVE_OK;
}

static int64_t ops_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One batch in the caller's transaction: statements until it changed
 * BIN_BATCH_FOLDERS rows or spent BIN_BATCH_MS while another writer waits
 * (SQLite tells; on PostgreSQL the budget always applies: a long
 * transaction's statements would each lengthen the version chain of the
 * same child_counts rows); *done when a queue rebuilt
 * from the database yielded nothing (the operation is complete). */
static int ops_batch_run(db_t *db, const struct folder_op *op, struct ops_queue *q, bool *done)
{
  int64_t batch = atomic_load(&ops_batch), budget = atomic_load(&ops_budget_us);
  if(budget == 0)
    budget = db_conn_dialect(db) == DB_POSTGRES ? OPS_BUDGET_US_PG : OPS_BUDGET_US_SQLITE;
  int64_t total = 0, changed = 0, t0 = ops_now_us();
  int rc = DRIVE_OK;
  *done = false;
  /* PG_WALK_SETTINGS: JIT cost 250-300 ms each statement, for a run of
   * about 1 ms; a sequential scan per row of the recursion made a restore
   * of 10,000 siblings 15 s. */
  if(db_conn_dialect(db) == DB_POSTGRES)
    rc = drive_db(db_exec(db, PG_WALK_SETTINGS, ""));
  /* Past the time budget only while no other writer waits for its turn. */
  int64_t base = db_conn_dialect(db) == DB_POSTGRES ? OPS_STEP_ROWS_PG : OPS_STEP_ROWS;
  int64_t step = base;
  while(rc == DRIVE_OK && total < batch) {
    bool waiting = db_writers_waiting(db);
    if(waiting && ops_now_us() - t0 >= budget)
      break;
    if(op->op != FOLDER_OP_REKEY && q->head == q->n) {
      if(q->rebuilt) {
        *done = true;
        break;
      }
      rc = ops_rebuild(db, op, q);
      continue;
    }
    if(waiting)
      step = base;
    else if(step < OPS_STEP_ROWS_MAX)
      step *= 2;
    int64_t want = batch - total < step ? batch - total : step;
    if(op->op == FOLDER_OP_REKEY) {
      /* The key range is the state: a short statement emptied it. */
      rc = folder_key_step(db, op, want, q->last_key, &changed);
      *done = rc == DRIVE_OK && changed < want;
      if(*done)
        break;
    } else
      rc = ops_step(db, op, q, want, &changed);
    total += changed;
  }
  return rc;
}

int folder_ops_start(db_t *db, const struct folder_op *op, bool *more)
{
  struct ops_queue q = {0};
  bool done = false;
  *more = false;
  int rc = op->op == FOLDER_OP_REKEY ? DRIVE_OK : ops_push(&q, op->folder_id);
  if(!rc)
    rc = ops_batch_run(db, op, &q, &done);
  free(q.ids);
  if(rc || done)
    return rc;
  *more = true;
  return folder_ops_record(db, op);
}

int64_t folder_ops_first_rows(int64_t most)
{
  int64_t batch = atomic_load(&ops_batch);
  return batch < most ? batch : most;
}

int folder_ops_record(db_t *db, const struct folder_op *op)
{
  return drive_db(db_exec(db,
                          "INSERT INTO folder_ops (folder_id, owner_id, op, group_id, at, "
                          "old_key, new_key) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                          "ttititt", op->folder_id, op->owner_id, (int64_t)op->op, op->group_id,
                          op->at, op->old_key, folder_nullable(op->new_key)));
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
  struct ops_queue q = {0};
  int rc = DRIVE_OK;
  bool done = false;
  while(rc == DRIVE_OK && !done) {
    ops_pause();
    int64_t tw = ops_now_us();
    if((rc = drive_tx_begin(db)) != DRIVE_OK)
      break;
    int64_t tb = ops_now_us();
    /* Still pending? Another thread or node may have completed it. */
    int64_t one;
    int got = db_query_int(db, &one, "SELECT 1 FROM folder_ops WHERE folder_id = $1", "t",
                           op->folder_id);
    if(got != DB_ROW) {
      rc = drive_tx_end(db, got == DB_DONE ? DRIVE_OK : drive_from_db(got));
      break;
    }
    rc = ops_batch_run(db, op, &q, &done);
    if(!rc && done)
      rc = drive_db(db_exec(db, "DELETE FROM folder_ops WHERE folder_id = $1", "t",
                            op->folder_id));
    int64_t tc = ops_now_us();
    rc = drive_tx_end(db, rc);
    log_debug("folder_ops: %s batch: turn %lld us, work %lld us, commit %lld us",
              op->folder_id, (long long)(tb - tw), (long long)(tc - tb),
              (long long)(ops_now_us() - tc));
  }
  free(q.ids);
  return rc;
}

int folder_ops_after(int rc, bool more, const struct folder_op *op)
{
  if(rc != DRIVE_OK || !more)
    return rc;
  if(folder_ops_finish(op) != DRIVE_OK)
    log_warn("folder_ops: batches of %s failed; completed later", op->folder_id);
  return DRIVE_OK;
}

static void ops_fill(db_stmt_t *st, void *arg)
{
  struct folder_op *op = arg;
  db_col_copy(st, 0, op->folder_id, sizeof(op->folder_id));
  db_col_copy(st, 1, op->owner_id, sizeof(op->owner_id));
  op->op = (int)db_col_int(st, 2);
  db_col_copy(st, 3, op->group_id, sizeof(op->group_id));
  op->at = db_col_int(st, 4);
  op->old_key[0] = op->new_key[0] = 0;
  if(!db_col_null(st, 5))
    db_col_copy(st, 5, op->old_key, sizeof(op->old_key));
  if(!db_col_null(st, 6))
    db_col_copy(st, 6, op->new_key, sizeof(op->new_key));
}

/* A recorded operation (ops_fill's columns). */
#define OPS_ONE "SELECT folder_id, owner_id, op, group_id, at, old_key, new_key FROM folder_ops "

/* Whether `owner_id` has an operation recorded: DB_ROW, DB_DONE or a fault. */
static int ops_owner_pending(db_t *db, const char *owner_id)
{
  int64_t one;
  return db_query_int(db, &one, "SELECT 1 FROM folder_ops WHERE owner_id = $1 LIMIT 1", "t",
                      owner_id);
}

int folder_ops_settle(const char *owner_id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  for(;;) {
    struct folder_op op;
    int rc = drive_read_one(owner_id ? db_query(db, OPS_ONE "WHERE owner_id = $1 LIMIT 1", "t",
                                                owner_id)
                                     : db_query(db, OPS_ONE "LIMIT 1", ""),
                            ops_fill, &op);
    if(rc == DRIVE_NOT_FOUND)
      return DRIVE_OK;
    if(rc == DRIVE_OK)
      rc = folder_ops_finish(&op);
    if(rc)
      return rc;
  }
}

int folder_ops_pending(const char *owner_id, bool *pending)
{
  db_t *db = db_get();
  *pending = false;
  if(!db)
    return DRIVE_UNAVAILABLE;
  int q = ops_owner_pending(db, owner_id);
  *pending = q == DB_ROW;
  return q == DB_ROW || q == DB_DONE ? DRIVE_OK : drive_from_db(q);
}

int folder_ops_tx_begin(db_t *db, const char *owner_id)
{
  for(;;) {
    int rc = drive_tx_begin(db);
    if(rc)
      return rc;
    /* Inside the write transaction: writers are serialised (db.h), so no
     * operation of this owner can start before it ends. */
    int q = ops_owner_pending(db, owner_id);
    if(q == DB_DONE)
      return DRIVE_OK;
    db_rollback(db);
    if(q != DB_ROW)
      return drive_from_db(q);
    if((rc = folder_ops_settle(owner_id)) != DRIVE_OK)
      return rc;
  }
}
