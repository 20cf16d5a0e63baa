/* folder_tree: the owner's live folders as a tree, walked depth first a
 * page of siblings at a time (folders.h folder_tree_*), so a reply streams
 * with memory bounded by depth x page, whatever the tree's size. */
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
  struct tree_level *levels;
  size_t depth, cap;
  bool done;
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
                  db_sql(TREE_SQLITE_CHILDREN, TREE_PG_CHILDREN),
                  "ttit", c->owner, l->last_key, (int64_t)TREE_PAGE, l->parent);
  else
    st = db_query(db,
                  db_sql(TREE_SQLITE_ROOTS, TREE_PG_ROOTS),
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

int folder_tree_open(const char *owner_id, struct folder_tree_cursor **out)
{
  struct folder_tree_cursor *c = calloc(1, sizeof(*c));
  *out = NULL;
  if(!c)
    return DRIVE_INTERNAL;
  snprintf(c->owner, sizeof(c->owner), "%s", owner_id);
  int rc = tree_push(c, "");
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

void folder_tree_close(struct folder_tree_cursor *c)
{
  if(!c)
    return;
  for(size_t i = 0; i < c->cap; i++)
    free(c->levels[i].rows);
  free(c->levels);
  free(c);
}
