/* purge: see purge.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/content.h"
#include "drive/purge.h"
#include "util/grow.h"

int purge_collect(struct purge *p, db_stmt_t *st)
{
  if(!st)
    return DRIVE_DB;
  int rc;
  while((rc = db_step(st)) == DB_ROW) {
    char(*nc)[64] = grow_room(p->contents, &p->cap, p->count, sizeof(*nc), 16);
    if(!nc) {
      rc = DB_ERROR;
      break;
    }
    p->contents = nc;
    const char *cid = db_col_text(st, 0);
    snprintf(p->contents[p->count++], sizeof(p->contents[0]), "%s", cid ? cid : "");
    int64_t size = db_col_int(st, 1);
    p->bytes += size;
    if(db_col_int(st, 2))
      p->bin_bytes += size;
  }
  return drive_stmt_end(st, rc);
}

int purge_finish(db_t *db, const char *owner_id, struct purge *p)
{
  for(size_t i = 0; i < p->count; i++) {
    int rc = content_unref(db, p->contents[i]);
    if(rc != DRIVE_OK)
      return rc;
  }
  if(p->count == 0)
    return DRIVE_OK;
  return usage_add(db, owner_id, -p->bytes, -(int64_t)p->count, -p->bin_bytes, 0);
}

void purge_free(struct purge *p)
{
  free(p->contents);
  memset(p, 0, sizeof(*p));
}
