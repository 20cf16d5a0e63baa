/* davprops: the dav_props table. */
#include <stdio.h>
#include "drive/folder_ops.h"
#include "drive/davprops.h"

int davprops_each(const char *owner_id, const char *item_id, const char *ns, const char *name,
                  int (*each)(void *arg, const char *ns, const char *name, const char *value),
                  void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = name ? db_query(db, "SELECT ns, name, value FROM dav_props WHERE owner_id = $1 "
                                      "AND item_id = $2 AND ns = $3 AND name = $4", "tttt",
                                  owner_id, item_id, ns, name)
                       : db_query(db, "SELECT ns, name, value FROM dav_props WHERE owner_id = $1 "
                                      "AND item_id = $2 ORDER BY ns, name", "tt", owner_id, item_id);
  if(!st)
    return DRIVE_DB;
  int step, rc = 0;
  while((step = db_step(st)) == DB_ROW && !rc)
    rc = each(arg, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2));
  return drive_stmt_end(st, step);
}

int davprops_apply(const char *owner_id, const char *item_id, size_t n, const char *const *ns,
                   const char *const *name, const char *const *value)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int rc = folder_ops_tx_begin(db, owner_id);
  for(size_t i = 0; rc == DRIVE_OK && i < n; i++) {
    rc = drive_db(db_exec(db, "DELETE FROM dav_props WHERE owner_id = $1 AND item_id = $2 AND "
                              "ns = $3 AND name = $4", "tttt", owner_id, item_id, ns[i], name[i]));
    if(rc == DRIVE_OK && value[i])
      rc = drive_db(db_exec(db, "INSERT INTO dav_props (owner_id, item_id, ns, name, value) "
                                "VALUES ($1, $2, $3, $4, $5)", "ttttt", owner_id, item_id, ns[i],
                            name[i], value[i]));
  }
  return drive_tx_end(db, rc);
}

int davprops_copy(const char *owner_id, const char *from, const char *to)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  return drive_db(db_exec(db, "INSERT INTO dav_props (owner_id, item_id, ns, name, value) "
                              "SELECT owner_id, $3, ns, name, value FROM dav_props WHERE "
                              "owner_id = $1 AND item_id = $2", "ttt", owner_id, from, to));
}

int davprops_items(const char *owner_id, int (*each)(void *arg, const char *item_id), void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  return drive_each_text(db_query(db, "SELECT DISTINCT item_id FROM dav_props WHERE owner_id = $1",
                                  "t", owner_id), each, arg);
}
