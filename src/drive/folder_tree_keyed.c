/* folder_tree_keyed: the tree in its stored order (folder_tree_keyed.h). */
#include <stdlib.h>
#include <string.h>
#include "drive/folder_sql.h"
#include "drive/folder_tree_keyed.h"
#include "util/grow.h"

/* Rows per statement: on SQLite a function call; on PostgreSQL a round
 * trip (4,096 rows: a tree of 100,000 folders 256 ms, against 277 ms at
 * 2,048; a page is held, ~400 bytes a row). PostgreSQL's page comes in a
 * REPEATABLE READ transaction with its last key read by id (three round
 * trips more a page; 6-10 % off the tree at 100,000 folders, A/B). */
#define TREE_KEYED_PAGE_SQLITE 512
#define TREE_KEYED_PAGE_PG 4096

int tree_keyed_fetch(struct tree_keyed *k, const char *owner)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  bool pg = db_dialect() == DB_POSTGRES;
  int64_t page = pg ? TREE_KEYED_PAGE_PG : TREE_KEYED_PAGE_SQLITE;
  /* PostgreSQL: the page's rows without their keys (more than half the
   * bytes), then the last row's key, in one snapshot. */
  if(pg && db_read_begin_snapshot(db) != DB_OK)
    return DRIVE_DB;
  db_stmt_t *st = db_query(db, db_sql(TREE_KEYED_SQLITE, TREE_KEYED_PG), "tti", owner,
                           k->last_key, page);
  int rc = DRIVE_DB, step;
  k->n = k->pos = 0;
  if(!st)
    goto out;
  while((step = db_step(st)) == DB_ROW) {
    struct folder *nr = grow_room(k->rows, &k->room, k->n, sizeof(*nr), 64);
    if(!nr) {
      step = DB_ERROR;
      break;
    }
    k->rows = nr;
    folder_tree_row(st, owner, &k->rows[k->n++]);
    if(!pg && k->n == (size_t)page) /* the next page starts after it; a short page is the last */
      db_col_copy(st, 7, k->last_key, sizeof(k->last_key));
  }
  rc = drive_stmt_end(st, step);
  k->end = k->n < (size_t)page;
  if(pg && rc == DRIVE_OK && !k->end) {
    rc = DRIVE_DB;
    st = db_query(db, "SELECT tree_key FROM folders WHERE id = $1", "t", k->rows[k->n - 1].id);
    if(st && db_step(st) == DB_ROW && !db_col_null(st, 0)) {
      db_col_copy(st, 0, k->last_key, sizeof(k->last_key));
      rc = DRIVE_OK;
    }
    db_finalize(st);
  }
out:
  if(pg)
    db_read_end(db);
  return rc;
}

/* A folder follows its parent in key order, so its parent is open: the
 * folders opened after the parent close first. A folder whose parent is
 * not open (moved while the reply streamed) is left out, and so is its
 * subtree (their parents are not open either): the reply stays a tree. */
int tree_keyed_next(struct tree_keyed *k, const char *owner, size_t max, folder_tree_fn fn,
                    void *arg, bool *done)
{
  int rc = DRIVE_OK;
  size_t steps = 0;
  while(!*done && steps < max && rc == DRIVE_OK) {
    if(k->pos == k->n) {
      if(k->end) {
        for(; k->depth > 0 && rc == DRIVE_OK; k->depth--)
          rc = fn(arg, NULL);
        *done = rc == DRIVE_OK;
        break;
      }
      rc = tree_keyed_fetch(k, owner);
      continue;
    }
    const struct folder *f = &k->rows[k->pos++];
    size_t keep = 0;
    if(f->parent_id[0]) {
      for(keep = k->depth; keep > 0 && strcmp(k->open[keep - 1], f->parent_id); keep--)
        ;
      if(keep == 0)
        continue;
    }
    for(; k->depth > keep && rc == DRIVE_OK; k->depth--)
      rc = fn(arg, NULL);
    char(*no)[ID_LEN + 1] = rc ? NULL : grow_room(k->open, &k->cap, k->depth, sizeof(*no), 16);
    if(!no) {
      rc = rc ? rc : DRIVE_INTERNAL;
      break;
    }
    k->open = no;
    memcpy(k->open[k->depth++], f->id, sizeof(*no));
    steps++;
    rc = fn(arg, f);
  }
  return rc;
}

void tree_keyed_free(struct tree_keyed *k)
{
  free(k->rows);
  free(k->open);
}
