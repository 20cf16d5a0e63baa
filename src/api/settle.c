/* settle: a write of the caller's drive waits for the caller's own pending
 * bin or restore batches (drive/folder_ops.h), which may take a while: they
 * are completed on the http_defer pool, and the route runs again after. */
#include <stdio.h>
#include <stdlib.h>
#include "api/api.h"
#include "drive/folder_ops.h"
#include "util/id.h"

struct settle_job {
  char owner[ID_LEN + 1];
  int rc;
};

static void settle_work(void *arg)
{
  struct settle_job *j = arg;
  j->rc = folder_ops_settle(j->owner);
}

static void settle_done(struct http_req *r, void *arg)
{
  struct settle_job *j = arg;
  if(r) {
    if(j->rc)
      api_reply_error(r, j->rc, NULL);
    else {
      api_caller_mark_settled(r);
      if(r->route->stream)
        r->route->stream->begin(r);
      else
        r->route->handler(r);
    }
  }
  free(j);
}

bool api_settled(struct http_req *r)
{
  if(api_caller_settled(r))
    return true;
  bool pending = false;
  int rc = folder_ops_pending(api_user_id(r), &pending);
  if(rc) {
    api_reply_error(r, rc, NULL);
    return false;
  }
  if(!pending) {
    api_caller_mark_settled(r);
    return true;
  }
  struct settle_job *j = malloc(sizeof(*j));
  if(!j) {
    api_reply_error(r, DRIVE_INTERNAL, NULL);
    return false;
  }
  snprintf(j->owner, sizeof(j->owner), "%s", api_user_id(r));
  http_defer(r, settle_work, settle_done, j);
  return false;
}
