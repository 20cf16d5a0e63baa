/* listing: see listing.h. */
#include <stdio.h>
#include "drive/listing.h"

/* The key of the row at q->offset (see LISTING_SEEK_FROM): DB_ROW with the
 * sort column (text for a name sort, else a number), name_key and id. */
struct listing_key {
  char sort_text[1024];
  int64_t sort_num;
  char name_key[1024];
  char id[64];
};

static int listing_key_at(db_t *db, const char *owner_id, const struct drive_listing *q,
                          const struct listing_sql *sql, int mode, int sort, int64_t del,
                          struct listing_key *k)
{
  const char *text = sql->key[mode == LISTING_PARENT][sort][q->desc ? 1 : 0];
  db_stmt_t *st = mode == LISTING_PARENT
                      ? db_query(db, text, "tiit", owner_id, del, q->offset, q->parent_id)
                      : db_query(db, text, "tii", owner_id, del, q->offset);
  if(!st)
    return DB_ERROR;
  int rc = db_step(st);
  if(rc == DB_ROW) {
    if(sort == DRIVE_SORT_NAME)
      db_col_copy(st, 0, k->sort_text, sizeof(k->sort_text));
    else
      k->sort_num = db_col_int(st, 0);
    db_col_copy(st, 1, k->name_key, sizeof(k->name_key));
    db_col_copy(st, 2, k->id, sizeof(k->id));
  }
  int frc = db_finalize(st);
  return frc != DB_OK ? frc : rc;
}

/* The page from key k on, LIMIT q->limit + 1 (no offset). */
static db_stmt_t *listing_seek(db_t *db, const char *owner_id, const struct drive_listing *q,
                               const struct listing_sql *sql, int mode, int sort, int64_t del,
                               const struct listing_key *k)
{
  const char *text = sql->seek[mode == LISTING_PARENT][sort][q->desc ? 1 : 0];
  int64_t ask = q->limit + 1;
  bool name = sort == DRIVE_SORT_NAME;
  if(mode == LISTING_PARENT)
    return name ? db_query(db, text, "tiitttt", owner_id, del, ask, k->sort_text, k->name_key,
                           k->id, q->parent_id)
                : db_query(db, text, "tiiittt", owner_id, del, ask, k->sort_num, k->name_key,
                           k->id, q->parent_id);
  return name ? db_query(db, text, "tiittt", owner_id, del, ask, k->sort_text, k->name_key, k->id)
              : db_query(db, text, "tiiitt", owner_id, del, ask, k->sort_num, k->name_key, k->id);
}

int listing_run(db_t *db, const char *owner_id, const struct drive_listing *q,
                bool parent_binned, const struct listing_sql *sql, listing_row_fn row, void *arg,
                int64_t *total)
{
  int mode;
  if(q->parent_id && parent_binned && !q->in_bin) {
    *total = 0; /* nothing in a binned folder is live */
    return DRIVE_OK;
  }
  if(q->parent_id)
    mode = parent_binned ? LISTING_BINNED : LISTING_PARENT;
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
  db_stmt_t *st;
  int rc, stop = 0, krc = DB_ROW;
  struct listing_key k;
  bool in_folder = mode == LISTING_PARENT || mode == LISTING_ROOT;
  bool deep = q->offset >= LISTING_SEEK_FROM && !star && in_folder;
  /* A folder's live children are counted by its child_counts row, which
   * the page's own statement also reads (-1: not read). */
  bool live_children = in_folder && !star && !del;
  int64_t counter = -1;
  if(deep) {
    /* A deep page: the key at the offset from the index alone, then a seek. */
    krc = listing_key_at(db, owner_id, q, sql, mode, sort, del, &k);
    if(krc != DB_ROW && krc != DB_DONE)
      return drive_from_db(krc);
  }
  if(krc == DB_ROW) { /* DB_DONE: past the end, an empty page */
    if(deep)
      st = listing_seek(db, owner_id, q, sql, mode, sort, del, &k);
    else
      st = mode == LISTING_PARENT || mode == LISTING_BINNED
               ? db_query(db, text, "tiiiit", owner_id, del, star, ask, q->offset, q->parent_id)
               : db_query(db, text, "tiiii", owner_id, del, star, ask, q->offset);
    if(!st)
      return DRIVE_DB;
    while(!stop && (rc = db_step(st)) == DB_ROW) {
      if(seen == 0 && live_children && !deep && !db_col_null(st, sql->counter_col))
        counter = db_col_int(st, sql->counter_col);
      if(seen++ < q->limit)
        stop = row(st, arg);
    }
    int end = drive_stmt_end(st, rc);
    if(stop || end)
      return stop ? stop : end;
  }
  if(seen <= q->limit && (seen > 0 || q->offset == 0)) {
    *total = q->offset + seen;
    return DRIVE_OK;
  }
  if(counter >= 0) {
    *total = counter; /* read with the page, in the same snapshot */
    return DRIVE_OK;
  }
  if(live_children) {
    /* The counter by itself (a deep page reads none): one row, not a walk. */
    rc = db_query_int(db, total, sql->counter, "tt", owner_id, q->parent_id ? q->parent_id : "");
    if(rc == DB_DONE)
      *total = 0;
    return rc == DB_ROW || rc == DB_DONE ? DRIVE_OK : drive_from_db(rc);
  }
  const char *count = star ? sql->count[mode] : sql->count_all[mode];
  rc = mode == LISTING_PARENT || mode == LISTING_BINNED
           ? db_query_int(db, total, count, "tiit", owner_id, del, star, q->parent_id)
           : db_query_int(db, total, count, "tii", owner_id, del, star);
  return rc == DB_ROW ? DRIVE_OK : rc == DB_DONE ? DRIVE_DB : drive_from_db(rc);
}
