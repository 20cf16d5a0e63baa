/* files: GET and DELETE under /api/v1/files (API §5) and the file side of
 * the item actions (API §6). Upload, download and search have their own
 * modules; PUT /files/{id}/bin|restore reach api_file_item_action through
 * the item routes (items.c). Parses requests, calls drive/files, renders. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "api/api.h"
#include "api/item_routes.h"
#include "api/list_params.h"
#include "api/render.h"
#include "drive/files.h"
#include "util/jsonx.h"

/* Replies for a failed drive call; `what` names the missing object of a
 * DRIVE_NOT_FOUND ("File" unless told). */
static int file_reply_error(struct http_req *r, int rc, const char *what, const char *why)
{
  char detail[64];
  if(rc == DRIVE_NOT_FOUND) {
    snprintf(detail, sizeof(detail), "%s not found", what ? what : "File");
    why = detail;
  }
  return api_reply_error(r, rc, why);
}

static int file_reply_message(struct http_req *r, const char *message)
{
  return http_reply_json(r, HTTP_OK, json_pack("{s:s}", "message", message));
}

/* Appends each listed file to the page in `arg`. */
static int files_list_one(const struct file_rec *f, void *arg)
{
  struct listing_page *p = arg;
  int rc = listing_page_next(p);
  return rc == DRIVE_OK ? listing_page_done(p, render_file(&p->out, f)) : rc;
}

/* GET /api/v1/files?folder_id=&include_deleted=&is_starred=&sort=&order=&limit=&offset= */
static int files_list(struct http_req *r)
{
  struct drive_listing q;
  int64_t total = 0;
  const char *err = listing_from_request(&q, r, "folder_id");
  if(err)
    return http_reply_error(r, HTTP_BAD_REQUEST, err);
  struct listing_key key;
  int ret;
  listing_key_make(&key, "files", api_user_id(r), &q);
  if(listing_cache_reply(r, &key, &ret))
    return ret;
  struct listing_page page;
  listing_page_init(&page);
  int rc = file_list(api_user_id(r), &q, files_list_one, &page, &total);
  if(rc) {
    listing_page_free(&page);
    return file_reply_error(r, rc, "Folder", NULL); /* only the folder can be missing */
  }
  return listing_reply(r, &page, total, &key);
}

/* DELETE /api/v1/files/{id} */
static int files_delete(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  int rc = file_delete(api_user_id(r), http_param(r, "id"));
  return rc ? file_reply_error(r, rc, NULL, NULL)
            : file_reply_message(r, "File permanently deleted");
}

/* Reads the required "new_name"; replies 422 (missing, not a string) or 400
 * (a NUL inside, which the name rules forbid) and returns -1 on failure. */
static int file_name_field(struct http_req *r, const json_t *body, const char **out)
{
  int g = jsonx_get_str(body, "new_name", out);
  if(g == 0)
    return 0;
  if(g == -2)
    http_reply_error(r, HTTP_BAD_REQUEST, "Name must not contain control characters");
  else
    http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT,
                     g > 0 ? "Field 'new_name' is required" : "Field 'new_name' must be a string");
  return -1;
}

/* Reads "new_parent_id": absent, null, "" and "root" mean the root (*out
 * NULL). Replies 422 for another type, 404 for a string with a NUL (no id
 * holds one), and returns -1 on failure. */
static int file_folder_field(struct http_req *r, const json_t *body, const char **out)
{
  const char *v = NULL;
  int g = jsonx_get_str(body, "new_parent_id", &v);
  if(g == -2) {
    http_reply_not_found(r, "Folder");
    return -1;
  }
  if(g < 0) {
    http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT,
                     "Field 'new_parent_id' must be a string or null");
    return -1;
  }
  *out = g == 0 && *v && strcmp(v, "root") != 0 ? v : NULL;
  return 0;
}

int api_file_item_action(struct http_req *r, enum item_action action, const char *id,
                         const json_t *body)
{
  struct file_rec f;
  const char *why = NULL, *what = NULL, *s = NULL;
  int rc = DRIVE_DB;
  switch(action) {
  case ITEM_RENAME:
    if(file_name_field(r, body, &s) != 0)
      return -1;
    rc = file_rename(api_user_id(r), id, s, &f, &why);
    break;
  case ITEM_MOVE:
    if(file_folder_field(r, body, &s) != 0)
      return -1;
    rc = file_move(api_user_id(r), id, s, &f, &what);
    break;
  case ITEM_STAR:
  case ITEM_UNSTAR:
    rc = file_set_starred(api_user_id(r), id, action == ITEM_STAR, &f);
    break;
  case ITEM_BIN:
    rc = file_bin(api_user_id(r), id);
    return rc ? file_reply_error(r, rc, NULL, NULL) : file_reply_message(r, "File moved to bin");
  case ITEM_RESTORE:
    rc = file_restore(api_user_id(r), id);
    return rc ? file_reply_error(r, rc, NULL, NULL) : file_reply_message(r, "File restored");
  }
  if(rc)
    return file_reply_error(r, rc, what, why);
  return render_reply_file(r, HTTP_OK, &f);
}

/* PUT /files/{id}/bin and /restore come through api_item_routes. */
const struct http_route api_file_routes[] = {
  {"GET", "/api/v1/files", files_list, HTTP_AUTH, NULL},
  {"DELETE", "/api/v1/files/{id}", files_delete, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
