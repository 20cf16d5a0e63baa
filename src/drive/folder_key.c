/* folder_key: the folders' stored depth-first order (folder_key.h). */
#include <stdio.h>
#include <string.h>
#include "drive/folder_key.h"
#include "drive/folder_sql.h"
#include "util/id.h"

/* Appends name_key, chr(1), id, chr(1) to the key in k (a parent's, or
 * "" for a root); "" when it does not fit. */
static void key_append(struct folder_key *k, const char *name_key, const char *id)
{
  size_t len = strlen(k->s);
  int n = snprintf(k->s + len, sizeof(k->s) - len, "%s\001%s\001", name_key, id);
  if(n < 0 || (size_t)n >= sizeof(k->s) - len)
    k->s[0] = 0;
}

static void key_fill(db_stmt_t *st, void *arg)
{
  struct folder_key *k = arg;
  k->s[0] = 0;
  if(!db_col_null(st, 0))
    db_col_copy(st, 0, k->s, sizeof(k->s));
}

int folder_key_read(db_t *db, const char *id, struct folder_key *k)
{
  k->s[0] = 0;
  return drive_read_one(db_query(db, "SELECT tree_key FROM folders WHERE id = $1", "t", id),
                        key_fill, k);
}

int folder_key_new(db_t *db, const char *parent_id, const char *name_key, const char *id,
                   struct folder_key *k)
{
  k->s[0] = 0;
  if(parent_id) {
    int rc = folder_key_read(db, parent_id, k);
    if(rc)
      return rc;
    if(!k->s[0])
      return DRIVE_OK; /* below a folder without a key: none */
  }
  key_append(k, name_key, id);
  return DRIVE_OK;
}

/* The first key past every key that starts with `key` (its last byte, the
 * chr(1) closing it, plus one). */
static void key_successor(const char *key, char *out, size_t cap)
{
  snprintf(out, cap, "%s", key);
  size_t len = strlen(out);
  if(len)
    out[len - 1]++;
}

int folder_key_step(db_t *db, const struct folder_op *op, int64_t limit, char *last,
                    int64_t *changed)
{
  char hi[FOLDER_KEY_MAX + 1];
  key_successor(op->old_key, hi, sizeof(hi));
  db_stmt_t *st = db_conn_dialect(db) == DB_POSTGRES
                    ? db_query(db, REKEY_PG, "ttttit", folder_nullable(op->new_key), op->old_key,
                               op->owner_id, hi, limit, last)
                    : db_query(db, REKEY_SQLITE, "tttti", folder_nullable(op->new_key),
                               op->old_key, op->owner_id, hi, limit);
  int rc, n = 0;
  if(!st)
    return DRIVE_DB;
  while((rc = db_step(st)) == DB_ROW) {
    const char *old = db_col_text(st, 0);
    if(old && *old && strcmp(old, last) > 0)
      snprintf(last, FOLDER_KEY_MAX + 1, "%s", old);
    n++;
  }
  *changed = n;
  return drive_stmt_end(st, rc);
}

int folder_key_moved(db_t *db, const char *owner_id, const char *id, const char *parent_id,
                     const char *name_key, const struct folder_key *old, int64_t first,
                     struct folder_op *op, bool *more)
{
  struct folder_key now;
  *more = false;
  int rc = folder_key_new(db, parent_id, name_key, id, &now);
  if(rc || !strcmp(now.s, old->s))
    return rc;
  if(!old->s[0]) {
    /* No key to find its subtree by: it gets one only when it has no
     * folder below it (DECISIONS "The tree's stored order"). */
    int64_t one;
    int q = db_query_int(db, &one, "SELECT 1 FROM folders WHERE parent_id = $1 LIMIT 1", "t", id);
    if(q == DB_DONE && now.s[0])
      return drive_db(db_exec(db, "UPDATE folders SET tree_key = $1 WHERE id = $2", "tt", now.s,
                              id));
    return q == DB_ROW || q == DB_DONE ? DRIVE_OK : drive_from_db(q);
  }
  memset(op, 0, sizeof(*op));
  op->op = FOLDER_OP_REKEY;
  id_new(op->folder_id);
  snprintf(op->owner_id, sizeof(op->owner_id), "%s", owner_id);
  snprintf(op->group_id, sizeof(op->group_id), "%s", id);
  snprintf(op->old_key, sizeof(op->old_key), "%s", old->s);
  snprintf(op->new_key, sizeof(op->new_key), "%s", now.s);
  /* At most `first` keys here: most folders have few below them, and their
   * keys change with them. A bigger subtree's keys follow in batches after
   * the commit, so the change's own transaction does not grow by a batch. */
  int64_t changed = 0;
  char last[FOLDER_KEY_MAX + 1] = "";
  first = folder_ops_first_rows(first);
  if(first > 0 && ((rc = folder_key_step(db, op, first, last, &changed)) || changed < first))
    return rc;
  *more = true;
  return folder_ops_record(db, op);
}

int folder_key_usable(db_t *db, const char *owner_id, bool *keyed)
{
  int64_t one;
  *keyed = false;
  int q = db_query_int(db, &one,
                       "SELECT 1 FROM folders WHERE owner_id = $1 AND tree_key IS NULL AND "
                       "is_deleted = 0 UNION ALL SELECT 1 FROM folder_ops WHERE owner_id = $1 "
                       "LIMIT 1",
                       "t", owner_id);
  *keyed = q == DB_DONE;
  return q == DB_ROW || q == DB_DONE ? DRIVE_OK : drive_from_db(q);
}
