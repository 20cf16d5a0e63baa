/* urljob_status: see urljob_status.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/urljob_db.h"
#include "drive/urljob_status.h"

int urljob_get(const char *user_id, const char *job_id, struct urljob_view *out)
{
  struct urljob_row r;
  memset(out, 0, sizeof(*out));
  if(!id_valid(job_id))
    return DRIVE_NOT_FOUND;
  int rc = urljob_db_get(user_id, job_id, &r, &out->updated_at);
  if(rc != DRIVE_OK)
    return rc;
  memcpy(out->id, r.id, sizeof(out->id));
  snprintf(out->status, sizeof(out->status), "%s", r.status);
  out->url = r.url;
  memcpy(out->folder_id, r.folder_id, sizeof(out->folder_id));
  memcpy(out->file_id, r.file_id, sizeof(out->file_id));
  memcpy(out->error, r.error, sizeof(out->error));
  out->transferred = r.transferred;
  out->total = r.total;
  out->created_at = r.created_at;
  return DRIVE_OK;
}

void urljob_view_free(struct urljob_view *v)
{
  free(v->url);
  v->url = NULL;
}
