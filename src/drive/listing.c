/* listing: see listing.h. */
#include "drive/listing.h"

int listing_run(db_t *db, const char *owner_id, const struct drive_listing *q,
                const struct listing_sql *sql, listing_row_fn row, void *arg, int64_t *total)
{
  int mode;
  if(q->parent_id)
    mode = LISTING_PARENT;
  else if(q->in_bin)
    mode = LISTING_BIN;
  else if(q->starred)
    mode = LISTING_ANY;
  else
    mode = LISTING_ROOT;
  int sort = q->sort >= DRIVE_SORT_NAME && q->sort <= DRIVE_SORT_UPDATED ? (int)q->sort : 0;
  int64_t del = q->in_bin ? 1 : 0, star = q->starred ? 1 : 0;

  /* One row past the page is asked for: a page that ends before the limit
   * is the last one, so its end is the total and the COUNT query (a walk
   * over every matching row) is needed only for a full or empty page. */
  const char *text = sql->select[mode][sort][q->desc ? 1 : 0];
  int64_t ask = q->limit + 1, seen = 0;
  db_stmt_t *st = mode == LISTING_PARENT
                      ? db_query(db, text, "tiiiit", owner_id, del, star, ask, q->offset,
                                 q->parent_id)
                      : db_query(db, text, "tiiii", owner_id, del, star, ask, q->offset);
  if(!st)
    return DRIVE_DB;
  int rc, stop = 0;
  while(!stop && (rc = db_step(st)) == DB_ROW) {
    if(seen++ < q->limit)
      stop = row(st, arg);
  }
  int end = drive_stmt_end(st, rc);
  if(stop || end)
    return stop ? stop : end;
  if(seen <= q->limit && (seen > 0 || q->offset == 0)) {
    *total = q->offset + seen;
    return DRIVE_OK;
  }
  rc = mode == LISTING_PARENT
           ? db_query_int(db, total, sql->count[mode], "tiit", owner_id, del, star, q->parent_id)
           : db_query_int(db, total, sql->count[mode], "tii", owner_id, del, star);
  return rc == DB_ROW ? DRIVE_OK : rc == DB_DONE ? DRIVE_DB : drive_from_db(rc);
}
