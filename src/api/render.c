/* render: API §2 objects as JSON. */
#include <stdlib.h>
#include <string.h>
#include "api/render.h"
#include "util/jsonw.h"
#include "util/timefmt.h"

/* An RFC 3339 timestamp string. */
/* A timestamp as a JSON string. time_rfc3339 writes exactly 24 safe
 * characters, so the quotes go around them with no escaping pass. */
static int render_time(buf_t *out, int64_t ms)
{
  char ts[40];
  ts[0] = '"';
  time_rfc3339(ms, ts + 1);
  size_t n = strlen(ts);
  ts[n] = '"';
  return buf_append(out, ts, n + 1);
}

/* The members every item ends with, in this order: ,"created_at",
 * "updated_at","is_deleted","is_starred","deleted_at"|null. */
static int render_state(buf_t *out, int64_t created_at, int64_t updated_at, bool is_deleted,
                        bool is_starred, int64_t deleted_at)
{
  int rc = jsonw_lit(out, ",\"created_at\":");
  if(rc == BUF_OK)
    rc = render_time(out, created_at);
  if(rc == BUF_OK)
    rc = jsonw_lit(out, ",\"updated_at\":");
  if(rc == BUF_OK)
    rc = render_time(out, updated_at);
  if(rc == BUF_OK)
    rc = is_deleted ? jsonw_lit(out, ",\"is_deleted\":true") : jsonw_lit(out, ",\"is_deleted\":false");
  if(rc == BUF_OK)
    rc = is_starred ? jsonw_lit(out, ",\"is_starred\":true") : jsonw_lit(out, ",\"is_starred\":false");
  if(rc == BUF_OK)
    rc = jsonw_lit(out, ",\"deleted_at\":");
  if(rc == BUF_OK)
    rc = is_deleted ? render_time(out, deleted_at) : jsonw_null(out);
  return rc;
}

int render_folder(buf_t *out, const struct folder *f)
{
  int rc = jsonw_lit(out, "{");
  if(rc == BUF_OK)
    rc = render_folder_fields(out, f);
  return rc == BUF_OK ? jsonw_lit(out, "}") : rc;
}

int render_folder_fields(buf_t *out, const struct folder *f)
{
  int rc = BUF_OK;
#define W(call) if(rc == BUF_OK) rc = (call)
  W(jsonw_key(out, "_id"));
  W(jsonw_str(out, f->id));
  W(jsonw_lit(out, ",\"id\":"));
  W(jsonw_str(out, f->id));
  W(jsonw_lit(out, ",\"type\":\"folder\",\"name\":"));
  W(jsonw_str(out, f->name));
  W(jsonw_lit(out, ",\"parent_id\":"));
  W(jsonw_opt_str(out, f->parent_id));
  W(jsonw_lit(out, ",\"owner_id\":"));
  W(jsonw_str(out, f->owner_id));
  W(jsonw_lit(out, ",\"size\":"));
  W(jsonw_int(out, f->size));
  W(render_state(out, f->created_at, f->updated_at, f->is_deleted, f->is_starred,
                  f->deleted_at));
  return rc;
}

int render_tree_open(const struct folder *f, buf_t *out)
{
  int rc = jsonw_lit(out, "{");
  if(rc == BUF_OK)
    rc = render_folder_fields(out, f);
  return rc == BUF_OK ? jsonw_lit(out, ",\"children\":[") : rc;
}

json_t *render_folder_path(const struct folder_crumb *crumbs, size_t count)
{
  json_t *arr = json_array();
  for(size_t i = 0; arr && i < count; i++) {
    if(json_array_append_new(arr, json_pack("{s:s,s:s}", "id", crumbs[i].id, "name",
                                            crumbs[i].name)) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  return arr;
}

int render_file(buf_t *out, const struct file_rec *f)
{
  int rc = BUF_OK;
  W(jsonw_lit(out, "{\"_id\":"));
  W(jsonw_str(out, f->id));
  W(jsonw_lit(out, ",\"id\":"));
  W(jsonw_str(out, f->id));
  W(jsonw_lit(out, ",\"type\":\"file\",\"name\":"));
  W(jsonw_str(out, f->name));
  W(jsonw_lit(out, ",\"mime_type\":"));
  W(jsonw_str(out, f->mime_type));
  W(jsonw_lit(out, ",\"size\":"));
  W(jsonw_int(out, f->size));
  W(jsonw_lit(out, ",\"folder_id\":"));
  W(jsonw_opt_str(out, f->folder_id));
  W(jsonw_lit(out, ",\"owner_id\":"));
  W(jsonw_str(out, f->owner_id));
  W(jsonw_lit(out, ",\"hash\":"));
  W(jsonw_str(out, f->sha256));
  W(render_state(out, f->created_at, f->updated_at, f->is_deleted, f->is_starred,
                  f->deleted_at));
  W(jsonw_lit(out, "}"));
  return rc;
#undef W
}

int render_reply(struct http_req *r, unsigned status, buf_t *body, int rc)
{
  if(rc != BUF_OK) {
    buf_free(body);
    return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  }
  return http_reply_json_text(r, status, body);
}

int render_reply_folder(struct http_req *r, unsigned status, const struct folder *f)
{
  buf_t out;
  buf_init(&out, RENDER_OBJECT_MAX);
  return render_reply(r, status, &out, render_folder(&out, f));
}

int render_reply_file(struct http_req *r, unsigned status, const struct file_rec *f)
{
  buf_t out;
  buf_init(&out, RENDER_OBJECT_MAX);
  return render_reply(r, status, &out, render_file(&out, f));
}
