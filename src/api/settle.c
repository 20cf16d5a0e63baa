/* settle: a write of the caller's drive waits for the caller's own pending
 * bin or restore batches (drive/folder_ops.h), which may take a while: they
 * are completed on the http_defer pool, and the request goes on after. The
 * web API's write routes and WebDAV's writes share it. */
#include <stdio.h>
#include <stdlib.h>
#include "api/api.h"
#include "drive/folder_ops.h"
#include "util/id.h"

struct settle_job {
  char owner[ID_LEN + 1];
  int rc;
  int (*again)(struct http_req *r);
  int (*fail)(struct http_req *r, int rc);
};

static void settle_work(void *arg)
{
  struct settle_job *j = arg;
  j->rc = folder_ops_settle(j->owner);
}

static void settle_done(struct http_req *r, void *arg)
{
  struct settle_job *j = arg;
  if(r && j->rc)
    j->fail(r, j->rc);
  else if(r) {
    api_caller_mark_settled(r);
    j->again(r);
  }
  free(j);
}

/* The defaults: the route runs again; a fault is the API's error reply. */
static int settle_rerun(struct http_req *r)
{
  return r->route->stream ? r->route->stream->begin(r) : r->route->handler(r);
}

static int settle_fail(struct http_req *r, int rc)
{
  return api_reply_error(r, rc, NULL);
}

bool api_settled_then(struct http_req *r, int (*again)(struct http_req *r),
                      int (*fail)(struct http_req *r, int rc))
{
  if(api_caller_settled(r))
    return true;
  if(!fail)
    fail = settle_fail;
  bool pending = false;
  int rc = folder_ops_pending(api_user_id(r), &pending);
  if(rc) {
    fail(r, rc);
    return false;
  }
  if(!pending) {
    api_caller_mark_settled(r);
    return true;
  }
  struct settle_job *j = malloc(sizeof(*j));
  if(!j) {
    fail(r, DRIVE_INTERNAL);
    return false;
  }
  snprintf(j->owner, sizeof(j->owner), "%s", api_user_id(r));
  j->again = again ? again : settle_rerun;
  j->fail = fail;
  http_defer(r, settle_work, settle_done, j);
  return false;
}

bool api_settled(struct http_req *r)
{
  return api_settled_then(r, NULL, NULL);
}
