/* folder_tree: the owner's live folders as a tree, walked depth first by
 * one recursive query per page of steps (folder_sql.h TREE_WALK), resumed
 * after the last row of the page before: a reply streams with a few
 * strings of state, whatever the tree's size or depth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/folder_sql.h"
#include "drive/folders.h"

struct folder_tree_cursor {
  char owner[FOLDER_OWNER_MAX];
  /* The last row read: where the next page resumes ("" id: the start). */
  int64_t depth, climb;
  char id[ID_LEN + 1];
  char parent[ID_LEN + 1];
  char key[NAME_MAX_BYTES + 1];
  size_t open;                    /* folders opened and not closed yet */
  bool done;
};

int folder_tree_open(const char *owner_id, struct folder_tree_cursor **out)
{
  struct folder_tree_cursor *c = calloc(1, sizeof(*c));
  *out = c;
  if(!c)
    return DRIVE_INTERNAL;
  snprintf(c->owner, sizeof(c->owner), "%s", owner_id);
  return DRIVE_OK;
}

bool folder_tree_done(const struct folder_tree_cursor *c)
{
  return c->done;
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

int folder_tree_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  if(c->done)
    return DRIVE_OK;
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* A step opens a folder or climbs out of one: a little more than max. */
  int64_t rows = (int64_t)(max ? max : 1) * 3 / 2;
  db_stmt_t *st = db_query(db, db_sql(TREE_SQLITE_WALK, TREE_PG_WALK), "tiittti", c->owner,
                           c->depth, c->climb, c->id, c->parent, c->key, rows);
  if(!st)
    return DRIVE_DB;
  int rc = DB_DONE, frc = DRIVE_OK;
  int64_t n = 0;
  while(frc == DRIVE_OK && (rc = db_step(st)) == DB_ROW) {
    struct folder f;
    folder_from_row(st, &f);
    n++;
    c->depth = db_col_int(st, 11);
    c->climb = db_col_int(st, 12);
    snprintf(c->id, sizeof(c->id), "%s", f.id);
    db_col_copy(st, 13, c->parent, sizeof(c->parent));
    db_col_copy(st, 14, c->key, sizeof(c->key));
    if(c->climb || c->depth < 1)
      continue;
    /* A folder at depth d: close what is open down to its parent's level
     * (only a folder moved mid-walk makes the levels disagree: clamp). */
    frc = tree_close_to(c, (size_t)c->depth - 1, fn, arg);
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

void folder_tree_close(struct folder_tree_cursor *c)
{
  free(c);
}
