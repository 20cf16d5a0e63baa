/* urljob_status: what GET /upload/status/{job_id} shows of a URL job, read
 * from its url_jobs row (written at every status change and about once a
 * second while it downloads). */
#ifndef NETRA_URLJOB_STATUS_H
#define NETRA_URLJOB_STATUS_H
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

/** What GET /upload/status shows. */
struct urljob_view {
  char id[ID_LEN + 1];
  char status[16];
  char *url;                 /* malloc'd; urljob_view_free */
  char folder_id[ID_LEN + 1], file_id[ID_LEN + 1];   /* "" = none */
  char error[320];           /* "" = none */
  uint64_t transferred;
  int64_t total;             /* -1 = unknown */
  int64_t created_at, updated_at;
};
/** The user's job. DRIVE_NOT_FOUND for another user's or a malformed id. */
int urljob_get(const char *user_id, const char *job_id, struct urljob_view *out);
void urljob_view_free(struct urljob_view *v);

#endif
