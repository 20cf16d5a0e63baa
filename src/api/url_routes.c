/* url_routes: POST /api/v1/upload/from-url and GET /api/v1/upload/status/{job_id}
 * (API §9). The folder is checked first (404), then the URL (400 when its
 * literal form is refused), then the caps (429 with Retry-After); the
 * download itself runs in the background (drive/urljob.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "api/api.h"
#include "drive/folders.h"
#include "drive/urljob.h"
#include "drive/urljob_status.h"
#include "util/id.h"
#include "util/jsonx.h"
#include "util/timefmt.h"

/* POST /api/v1/upload/from-url?folder_id= {url, name?} */
static int url_submit(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  char why[320] = "", job_id[ID_LEN + 1];
  const char *folder = http_query(r, "folder_id"), *url = NULL, *name = NULL;
  if(folder && (!*folder || !strcmp(folder, "root") || !strcmp(folder, "null")))
    folder = NULL;
  int rc = folder && !id_valid(folder) ? DRIVE_NOT_FOUND : folder_check_target(api_user_id(r), folder);
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "Folder not found" : NULL);
  json_t *body = http_json_body(r, false);
  if(!body)
    return 0;
  int g = jsonx_get_str(body, "url", &url);
  if(g != 0) {
    rc = http_reply_error(r, g > 0 ? HTTP_UNPROCESSABLE_CONTENT
                                   : g == -2 ? HTTP_BAD_REQUEST : HTTP_UNPROCESSABLE_CONTENT,
                          g > 0 ? "Field 'url' is required"
                                : g == -2 ? "Invalid URL" : "Field 'url' must be a string");
    goto out;
  }
  g = jsonx_get_str(body, "name", &name);
  if(g < 0) {
    rc = http_reply_error(r, g == -2 ? HTTP_BAD_REQUEST : HTTP_UNPROCESSABLE_CONTENT,
                          g == -2 ? "Name must not contain control characters"
                                  : "Field 'name' must be a string or null");
    goto out;
  }
  rc = urljob_submit(api_user_id(r), folder, url, g == 0 ? name : NULL, job_id, why, sizeof(why));
  if(rc == DRIVE_THROTTLED) {
    char retry[16];
    snprintf(retry, sizeof(retry), "%d", URLJOB_RETRY_AFTER);
    http_add_header(r, HTTP_HEADER_RETRY_AFTER, retry);
    rc = api_reply_error(r, rc, "Too many uploads from a URL are running. Try again later.");
  }
  else if(rc != DRIVE_OK)
    rc = api_reply_error(r, rc, rc == DRIVE_INVALID ? why : NULL);
  else
    rc = http_reply_json(r, HTTP_ACCEPTED,
                         json_pack("{s:s,s:s}", "message", "Upload from the URL started",
                                   "job_id", job_id));
out:
  json_decref(body);
  return rc;
}

/* GET /api/v1/upload/status/{job_id} */
static int url_status(struct http_req *r)
{
  struct urljob_view v;
  char created[32], updated[32];
  int rc = urljob_get(api_user_id(r), http_param(r, "job_id"), &v);
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "Job not found" : NULL);
  bool done = !strcmp(v.status, "completed");
  double pct = done ? 100 : v.total > 0 ? (double)v.transferred * 100.0 / (double)v.total : 0;
  pct = pct > 100 ? 100 : round(pct * 100) / 100;
  time_rfc3339(v.created_at, created);
  time_rfc3339(v.updated_at, updated);
  json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:f,s:I,s:o,s:s,s:s}",
                        "job_id", v.id, "status", v.status, "url", v.url,
                        "folder_id", v.folder_id[0] ? json_string(v.folder_id) : json_null(),
                        "file_id", v.file_id[0] ? json_string(v.file_id) : json_null(),
                        "error_message", v.error[0] ? json_string(v.error) : json_null(),
                        "progress_percent", pct,
                        "transferred_bytes", (json_int_t)v.transferred,
                        "total_bytes", v.total >= 0 ? json_integer(v.total) : json_null(),
                        "created_at", created, "updated_at", updated);
  urljob_view_free(&v);
  return http_reply_json(r, HTTP_OK, o);
}

const struct http_route api_url_routes[] = {
  {"POST", "/api/v1/upload/from-url", url_submit, HTTP_AUTH, NULL},
  {"GET", "/api/v1/upload/status/{job_id}", url_status, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
