/* folders: /api/v1/folders (API §4) and the folder side of the item
 * actions (API §6). Parses requests, calls drive/folders, renders JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "api/item_routes.h"
#include "api/list_params.h"
#include "api/render.h"
#include "drive/folders.h"
#include "util/jsonx.h"
#include "util/log.h"

/* Largest piece of the tree held at once (a few hundred folders' JSON). */
#define FOLDER_TREE_MAX (64u * 1024 * 1024)

/* Replies for a failed drive call of the folder API. */
static int folder_reply_error(struct http_req *r, int rc, const char *why)
{
  if(rc == DRIVE_NOT_FOUND)
    why = "Folder not found";
  else if(rc == DRIVE_CONFLICT)
    why = "A folder with this name already exists here";
  return api_reply_error(r, rc, why);
}

/* Reads a parent id field: absent, null, "" and "root" mean the root (*out
 * NULL). On failure replies (422 not a string; 404 for a string with a NUL,
 * which no id holds) and returns -1. */
static int folder_parent_field(struct http_req *r, const json_t *body, const char *key,
                               const char **out)
{
  char detail[96];
  const char *v = NULL;
  int g = jsonx_get_str(body, key, &v);
  if(g == -2) {
    http_reply_not_found(r, "Folder");
    return -1;
  }
  if(g < 0) {
    snprintf(detail, sizeof(detail), "Field '%s' must be a string or null", key);
    http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT, detail);
    return -1;
  }
  *out = g == 0 && *v && strcmp(v, "root") != 0 ? v : NULL;
  return 0;
}

/* Reads a required name field; replies 422 (missing, not a string) or 400
 * (a NUL inside, which the name rules forbid) and returns -1 on failure. */
static int folder_name_field(struct http_req *r, const json_t *body, const char *key,
                             const char **out)
{
  char detail[96];
  int g = jsonx_get_str(body, key, out);
  if(g == 0)
    return 0;
  if(g == -2)
    http_reply_error(r, HTTP_BAD_REQUEST, "Name must not contain control characters");
  else {
    snprintf(detail, sizeof(detail), g > 0 ? "Field '%s' is required" : "Field '%s' must be a string",
             key);
    http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT, detail);
  }
  return -1;
}

static int folder_reply_message(struct http_req *r, const char *message)
{
  return http_reply_json(r, HTTP_OK, json_pack("{s:s}", "message", message));
}

/* POST /api/v1/folders {name, parent_id} */
static int folders_create(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  struct folder f;
  const char *name = NULL, *parent = NULL, *why = NULL;
  json_t *body = http_json_body(r, false);
  if(!body)
    return 0;
  int rc = -1;
  if(folder_name_field(r, body, "name", &name) != 0)
    goto out;
  if(folder_parent_field(r, body, "parent_id", &parent) != 0)
    goto out;
  rc = folder_create(api_user_id(r), parent, name, &f, &why);
  if(rc)
    folder_reply_error(r, rc, why);
  else
    rc = render_reply_folder(r, HTTP_CREATED, &f);
out:
  json_decref(body);
  return rc;
}

/* Appends each listed folder to the page in `arg`. */
static int folders_list_one(const struct folder *f, void *arg)
{
  struct listing_page *p = arg;
  int rc = listing_page_next(p);
  return rc == DRIVE_OK ? listing_page_done(p, render_folder(&p->out, f)) : rc;
}

/* GET /api/v1/folders?parent_id=&include_deleted=&is_starred=&sort=&order=&limit=&offset= */
static int folders_list(struct http_req *r)
{
  struct drive_listing q;
  int64_t total = 0;
  const char *err = listing_from_request(&q, r, "parent_id");
  if(err)
    return http_reply_error(r, HTTP_BAD_REQUEST, err);
  struct listing_key key;
  int ret;
  listing_key_make(&key, "folders", api_user_id(r), &q);
  if(listing_cache_reply(r, &key, &ret))
    return ret;
  struct listing_page page;
  listing_page_init(&page);
  int rc = folder_list(api_user_id(r), &q, folders_list_one, &page, &total);
  if(rc) {
    listing_page_free(&page);
    return folder_reply_error(r, rc, NULL);
  }
  return listing_reply(r, &page, total, &key);
}

/* GET /api/v1/folders/tree: streamed. The walk is opened and its first page
 * read on the http_defer pool (on PostgreSQL the open runs the whole sorted
 * query: up to a second at 100,000 folders), so a fault still gets its 5xx
 * and the poll thread does not wait; then the engine pulls the rest,
 * TREE_STEPS folders at a time (drive/folder_tree.c), so the server holds a
 * page, not the tree. */
#define TREE_STEPS 256

struct tree_stream {
  struct folder_tree_cursor *cur;
  buf_t out;
  bool first;      /* the next folder opens a list: no comma before it */
  char owner[FOLDER_OWNER_MAX];
  int rc;          /* the open's result */
};

static int tree_step(void *arg, const struct folder *f)
{
  struct tree_stream *t = arg;
  int rc;
  if(!f) {
    t->first = false;
    return buf_puts(&t->out, "]}") == BUF_OK ? DRIVE_OK : DRIVE_INTERNAL;
  }
  rc = t->first ? BUF_OK : buf_puts(&t->out, ",");
  if(rc == BUF_OK)
    rc = render_tree_open(f, &t->out);
  t->first = true;
  return rc == BUF_OK ? DRIVE_OK : DRIVE_INTERNAL;
}

static void tree_stream_free(void *cls)
{
  struct tree_stream *t = cls;
  folder_tree_close(t->cur);
  buf_free(&t->out);
  free(t);
}

/* The next steps of the walk, else the closing bracket. */
static int tree_more(void *cls, buf_t *out)
{
  struct tree_stream *t = cls;
  if(folder_tree_done(t->cur))
    return buf_puts(out, "]") == BUF_OK ? 0 : -1;
  if(folder_tree_next(t->cur, TREE_STEPS, tree_step, t) != DRIVE_OK) {
    log_error("folders: a tree failed mid-reply; the connection is cut");
    return -1;
  }
  return 1;
}

/* On the pool: opens the walk and renders its first page. */
static void tree_open_work(void *arg)
{
  struct tree_stream *t = arg;
  t->rc = folder_tree_open(t->owner, &t->cur);
  if(t->rc == DRIVE_OK && buf_puts(&t->out, "[") != BUF_OK)
    t->rc = DRIVE_INTERNAL;
  if(t->rc == DRIVE_OK)
    t->rc = folder_tree_next(t->cur, TREE_STEPS, tree_step, t);
}

/* Back on the request's thread: the reply, streamed from the open walk. */
static void tree_open_done(struct http_req *r, void *arg)
{
  struct tree_stream *t = arg;
  if(!r) {
    tree_stream_free(t);
    return;
  }
  if(t->rc != DRIVE_OK) {
    int rc = t->rc;
    tree_stream_free(t);
    if(rc == DRIVE_THROTTLED)
      http_add_header(r, "Retry-After", "1");
    folder_reply_error(r, rc, NULL);
    return;
  }
  struct http_response *resp = http_response_pages(&t->out, tree_more, t, tree_stream_free);
  if(!resp) {
    tree_stream_free(t);
    folder_reply_error(r, DRIVE_INTERNAL, NULL);
    return;
  }
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, "application/json");
  http_reply_response(r, HTTP_OK, resp);
}

static int folders_tree(struct http_req *r)
{
  struct tree_stream *t = calloc(1, sizeof(*t));
  if(!t)
    return folder_reply_error(r, DRIVE_INTERNAL, NULL);
  buf_init(&t->out, FOLDER_TREE_MAX);
  t->first = true;
  snprintf(t->owner, sizeof(t->owner), "%s", api_user_id(r));
  return http_defer(r, tree_open_work, tree_open_done, t);
}

/* GET /api/v1/folders/{id} */
static int folders_get(struct http_req *r)
{
  struct folder f;
  int rc = folder_get(api_user_id(r), http_param(r, "id"), &f);
  if(rc)
    return folder_reply_error(r, rc, NULL);
  return render_reply_folder(r, HTTP_OK, &f);
}

/* GET /api/v1/folders/{id}/path */
static int folders_path(struct http_req *r)
{
  struct folder_crumb *crumbs = NULL;
  size_t n = 0;
  int rc = folder_path(api_user_id(r), http_param(r, "id"), &crumbs, &n);
  if(rc)
    return folder_reply_error(r, rc, NULL);
  json_t *arr = render_folder_path(crumbs, n);
  free(crumbs);
  return http_reply_json(r, HTTP_OK, arr);
}

/* PUT /api/v1/folders/{id}/bin */
static int folders_bin(struct http_req *r)
{
  return api_folder_item_action(r, ITEM_BIN, http_param(r, "id"), NULL);
}

/* PUT /api/v1/folders/{id}/restore */
static int folders_restore(struct http_req *r)
{
  return api_folder_item_action(r, ITEM_RESTORE, http_param(r, "id"), NULL);
}

/* DELETE /api/v1/folders/{id} */
static int folders_delete(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  int rc = folder_delete(api_user_id(r), http_param(r, "id"));
  return rc ? folder_reply_error(r, rc, NULL)
            : folder_reply_message(r, "Folder permanently deleted");
}

/* A folder's bin, restore, rename and move run on the http_defer pool: a
 * big subtree's batches (the bin's marks, a rename's or move's tree keys)
 * take up to a second or two in all (DECISIONS "Bin in batches", "The
 * tree's stored order"), and the connections sharing this poll thread must
 * not wait for them. */
struct folder_job {
  char owner[ID_LEN + 1];
  char id[ID_LEN + 1];
  enum item_action action;
  char *value;                     /* rename: the name; move: the parent (NULL: root) */
  struct folder f;
  const char *why;
  int rc;
};

static void folder_job_work(void *arg)
{
  struct folder_job *b = arg;
  const char *v = b->value;
  switch(b->action) {
  case ITEM_RENAME:
    b->rc = folder_rename(b->owner, b->id, v, &b->f, &b->why);
    break;
  case ITEM_MOVE:
    b->rc = folder_move(b->owner, b->id, v, &b->f, &b->why);
    break;
  case ITEM_RESTORE:
    b->rc = folder_restore(b->owner, b->id);
    break;
  default:
    b->rc = folder_bin(b->owner, b->id);
    break;
  }
}

static void folder_job_reply(struct http_req *r, const struct folder_job *b)
{
  if(b->rc)
    folder_reply_error(r, b->rc, b->why);
  else if(b->action == ITEM_RENAME || b->action == ITEM_MOVE)
    render_reply_folder(r, HTTP_OK, &b->f);
  else
    folder_reply_message(r, b->action == ITEM_RESTORE ? "Folder restored" : "Folder moved to bin");
}

static void folder_job_done(struct http_req *r, void *arg)
{
  struct folder_job *b = arg;
  if(r) /* NULL: refused by a full pool, or the client gone: nothing to answer */
    folder_job_reply(r, b);
  free(b->value);
  free(b);
}

static int folder_job_start(struct http_req *r, const char *id, enum item_action action,
                            const char *value)
{
  if(!id_valid(id))
    return folder_reply_error(r, DRIVE_NOT_FOUND, NULL);
  struct folder_job *b = calloc(1, sizeof(*b));
  if(!b)
    return folder_reply_error(r, DRIVE_INTERNAL, NULL);
  snprintf(b->owner, sizeof(b->owner), "%s", api_user_id(r));
  snprintf(b->id, sizeof(b->id), "%s", id);
  b->action = action;
  if(value && !(b->value = strdup(value))) {
    free(b);
    return folder_reply_error(r, DRIVE_INTERNAL, NULL);
  }
  return http_defer(r, folder_job_work, folder_job_done, b);
}

int api_folder_item_action(struct http_req *r, enum item_action action, const char *id,
                           const json_t *body)
{
  struct folder f;
  const char *s = NULL;
  int rc = DRIVE_DB;
  switch(action) {
  case ITEM_RENAME:
    if(folder_name_field(r, body, "new_name", &s) != 0)
      return -1;
    return folder_job_start(r, id, action, s);
  case ITEM_MOVE:
    if(folder_parent_field(r, body, "new_parent_id", &s) != 0)
      return -1;
    return folder_job_start(r, id, action, s);
  case ITEM_STAR:
  case ITEM_UNSTAR:
    rc = folder_set_starred(api_user_id(r), id, action == ITEM_STAR, &f);
    break;
  case ITEM_BIN:
  case ITEM_RESTORE:
    return folder_job_start(r, id, action, NULL);
  }
  if(rc)
    return folder_reply_error(r, rc, NULL);
  return render_reply_folder(r, HTTP_OK, &f);
}

const struct http_route api_folder_routes[] = {
  {"POST", "/api/v1/folders", folders_create, HTTP_AUTH, NULL},
  {"GET", "/api/v1/folders", folders_list, HTTP_AUTH, NULL},
  {"GET", "/api/v1/folders/tree", folders_tree, HTTP_AUTH, NULL},
  {"GET", "/api/v1/folders/{id}", folders_get, HTTP_AUTH, NULL},
  {"DELETE", "/api/v1/folders/{id}", folders_delete, HTTP_AUTH, NULL},
  {"GET", "/api/v1/folders/{id}/path", folders_path, HTTP_AUTH, NULL},
  {"PUT", "/api/v1/folders/{id}/bin", folders_bin, HTTP_AUTH, NULL},
  {"PUT", "/api/v1/folders/{id}/restore", folders_restore, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
