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
  int64_t kind;
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

/* Closes what is still open at the end. Only a folder moved while the walk
 * ran leaves any: the reply stays well formed. */
static int tree_finish(struct folder_tree_cursor *c, folder_tree_fn fn, void *arg)
{
  int rc = DRIVE_OK;
  while(c->open > 0 && rc == DRIVE_OK) {
    c->open--;
    rc = fn(arg, NULL);
  }
  c->done = rc == DRIVE_OK;
  return rc;
}

int folder_tree_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  if(c->done)
    return DRIVE_OK;
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* Each folder takes two rows (its open and its close). */
  int64_t rows = (int64_t)(max ? max : 1) * 2;
  db_stmt_t *st = db_query(db, db_sql(TREE_SQLITE_WALK, TREE_PG_WALK), "tittti", c->owner,
                           c->kind, c->id, c->parent, c->key, rows);
  if(!st)
    return DRIVE_DB;
  int rc = DB_DONE, frc = DRIVE_OK;
  int64_t n = 0;
  while(frc == DRIVE_OK && (rc = db_step(st)) == DB_ROW) {
    struct folder f;
    folder_from_row(st, &f);
    n++;
    c->kind = db_col_int(st, 11);
    snprintf(c->id, sizeof(c->id), "%s", f.id);
    db_col_copy(st, 12, c->parent, sizeof(c->parent));
    db_col_copy(st, 13, c->key, sizeof(c->key));
    if(c->kind == 0) {
      c->open++;
      frc = fn(arg, &f);
    }
    else if(c->open > 0) {
      c->open--;
      frc = fn(arg, NULL);
    }
  }
  if(frc != DRIVE_OK) {
    db_finalize(st);
    return frc;
  }
  rc = drive_stmt_end(st, rc);
  if(rc == DRIVE_OK && n < rows)
    rc = tree_finish(c, fn, arg);
  return rc;
}

void folder_tree_close(struct folder_tree_cursor *c)
{
  free(c);
}
