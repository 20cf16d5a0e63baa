/* folder_tree: the owner's live folders as a tree, walked depth first so
 * a reply streams with memory bounded by the walk's state, not the tree.
 * Two strategies, each the faster on its engine (docs/PERFORMANCE.md):
 * SQLite reads a page of siblings per query, each level of the walk holding
 * one page (a query is a function call there); PostgreSQL runs one recursive
 * query per page of steps (folder_sql.h TREE_WALK), resumed after the last
 * row, so a round trip serves hundreds of folders instead of one parent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/folder_sql.h"
#include "drive/folders.h"

/* Siblings read per query. Each level of the walk holds one page, its room
 * grown to what the level needed (a 10,000-deep chain holds one row a level). */
#define TREE_PAGE 128

struct tree_row {
  struct folder f;
  bool has_children;
};

/* One level of the walk: the children of `parent` ("" = the roots), a page
 * of them at a time, each page read after the last key of the one before. */
struct tree_level {
  char parent[ID_LEN + 1];
  struct tree_row *rows;
  size_t n, pos, room;
  bool more;                      /* the page was full: there may be more */
  char last_key[NAME_MAX_BYTES + 1];
};

struct folder_tree_cursor {
  char owner[FOLDER_OWNER_MAX];
  bool done;
  bool stepwise;                  /* PostgreSQL: the recursive query */
  /* SQLite: the levels of the walk. */
  struct tree_level *levels;
  size_t depth, cap;
  /* PostgreSQL: the last row read, where the next page resumes ("" id:
   * the start), and how many folders are open. */
  int64_t row_depth, climb;
  char id[ID_LEN + 1];
  char parent[ID_LEN + 1];
  char key[NAME_MAX_BYTES + 1];
  size_t open;
};

/* Reads the next page of level l's children. */
static int tree_fetch(struct folder_tree_cursor *c, struct tree_level *l)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st;
  if(l->parent[0])
    st = db_query(db,
                  TREE_SQLITE_CHILDREN,
                  "ttit", c->owner, l->last_key, (int64_t)TREE_PAGE, l->parent);
  else
    st = db_query(db,
                  TREE_SQLITE_ROOTS,
                  "tti", c->owner, l->last_key, (int64_t)TREE_PAGE);
  if(!st)
    return DRIVE_DB;
  int rc;
  l->n = l->pos = 0;
  while((rc = db_step(st)) == DB_ROW && l->n < TREE_PAGE) {
    if(l->n == l->room) {
      size_t nroom = l->room ? l->room * 2 : 1;
      struct tree_row *nr = realloc(l->rows, nroom * sizeof(*nr));
      if(!nr) {
        rc = DB_ERROR;
        break;
      }
      l->rows = nr;
      l->room = nroom;
    }
    struct tree_row *r = &l->rows[l->n++];
    folder_from_row(st, &r->f);
    db_col_copy(st, 11, l->last_key, sizeof(l->last_key));
    r->has_children = db_col_int(st, 12) != 0;
  }
  rc = drive_stmt_end(st, rc);
  l->more = rc == DRIVE_OK && l->n == TREE_PAGE;
  return rc;
}

/* Opens a level for the children of `parent` and reads its first page. */
static int tree_push(struct folder_tree_cursor *c, const char *parent)
{
  if(c->depth == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 8;
    struct tree_level *nl = realloc(c->levels, ncap * sizeof(*nl));
    if(!nl)
      return DRIVE_INTERNAL;
    memset(nl + c->cap, 0, (ncap - c->cap) * sizeof(*nl));
    c->levels = nl;
    c->cap = ncap;
  }
  struct tree_level *l = &c->levels[c->depth];
  snprintf(l->parent, sizeof(l->parent), "%s", parent);
  l->last_key[0] = 0;
  c->depth++;
  return tree_fetch(c, l);
}

/* SQLite: up to `max` steps of the page walk. */
static int pages_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* The page's queries share one read transaction: on SQLite each query
   * alone would take and drop the WAL read lock. */
  bool tx = db_read_begin(db) == DB_OK;
  int rc = DRIVE_OK;
  size_t steps = 0;
  while(!c->done && steps < max && rc == DRIVE_OK) {
    struct tree_level *l = &c->levels[c->depth - 1];
    if(l->pos < l->n) {
      struct tree_row *r = &l->rows[l->pos++];
      steps++;
      if((rc = fn(arg, &r->f)) != DRIVE_OK)
        break;
      if(r->has_children)
        rc = tree_push(c, r->f.id); /* may move c->levels: l is stale now */
      else
        rc = fn(arg, NULL);
    }
    else if(l->more)
      rc = tree_fetch(c, l);
    else if(--c->depth == 0)
      c->done = true;
    else
      rc = fn(arg, NULL); /* the last of a folder's children: close it */
  }
  if(tx)
    db_read_end(db);
  return rc;
}

/* Closes folders until `depth` of them are open. */
static int tree_close_to(struct folder_tree_cursor *c, size_t depth, folder_tree_fn fn,
                         void *arg)
{
  int rc = DRIVE_OK;
  while(c->open > depth && rc == DRIVE_OK) {
    c->open--;
    rc = fn(arg, NULL);
  }
  return rc;
}

/* PostgreSQL: one query of about `max` steps of the recursive walk. */
static int steps_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* A step opens a folder or climbs out of one: a little more than max. */
  int64_t rows = (int64_t)(max ? max : 1) * 3 / 2;
  db_stmt_t *st = db_query(db, TREE_PG_WALK, "tiittti", c->owner,
                           c->row_depth, c->climb, c->id, c->parent, c->key, rows);
  if(!st)
    return DRIVE_DB;
  int rc = DB_DONE, frc = DRIVE_OK;
  int64_t n = 0;
  while(frc == DRIVE_OK && (rc = db_step(st)) == DB_ROW) {
    struct folder f;
    folder_from_row(st, &f);
    n++;
    c->row_depth = db_col_int(st, 11);
    c->climb = db_col_int(st, 12);
    snprintf(c->id, sizeof(c->id), "%s", f.id);
    db_col_copy(st, 13, c->parent, sizeof(c->parent));
    db_col_copy(st, 14, c->key, sizeof(c->key));
    if(c->climb || c->row_depth < 1)
      continue;
    /* A folder at depth d: close what is open down to its parent's level
     * (only a folder moved mid-walk makes the levels disagree: clamp). */
    frc = tree_close_to(c, (size_t)c->row_depth - 1, fn, arg);
    if(frc == DRIVE_OK) {
      c->open++;
      frc = fn(arg, &f);
    }
  }
  if(frc != DRIVE_OK) {
    db_finalize(st);
    return frc;
  }
  rc = drive_stmt_end(st, rc);
  if(rc == DRIVE_OK && n < rows) {
    rc = tree_close_to(c, 0, fn, arg);
    c->done = rc == DRIVE_OK;
  }
  return rc;
}

int folder_tree_open(const char *owner_id, struct folder_tree_cursor **out)
{
  struct folder_tree_cursor *c = calloc(1, sizeof(*c));
  *out = NULL;
  if(!c)
    return DRIVE_INTERNAL;
  snprintf(c->owner, sizeof(c->owner), "%s", owner_id);
  c->stepwise = db_dialect() == DB_POSTGRES;
  int rc = c->stepwise ? DRIVE_OK : tree_push(c, "");
  if(rc) {
    folder_tree_close(c);
    return rc;
  }
  *out = c;
  return DRIVE_OK;
}

bool folder_tree_done(const struct folder_tree_cursor *c)
{
  return c->done;
}

int folder_tree_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  if(c->done)
    return DRIVE_OK;
  return c->stepwise ? steps_next(c, max, fn, arg) : pages_next(c, max, fn, arg);
}

void folder_tree_close(struct folder_tree_cursor *c)
{
  if(!c)
    return;
  for(size_t i = 0; i < c->cap; i++)
    free(c->levels[i].rows);
  free(c->levels);
  free(c);
}
