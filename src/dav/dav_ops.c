/* dav_ops: GET/HEAD (the API's download responder: Range, validators),
 * MKCOL, DELETE (to the bin) and PUT (the browser uploads' pipeline: hashed,
 * chunked, deduplicated as it streams; over an existing file the content is
 * swapped in the final commit, so a cut PUT leaves the old bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/download_routes.h"
#include "dav/dav_lock.h"
#include "dav/dav_priv.h"
#include "drive/davprops.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "drive/upload.h"

/* Resolves r->path into c->item; replies 404 (and returns false) for a
 * path that names nothing. */
static bool dav_existing(struct http_req *r, struct dav_ctx *c)
{
  int rc = dav_resolve(c->user.id, r->path, &c->item);
  if(rc == DRIVE_OK && c->item.kind != DAV_NONE)
    return true;
  dav_reply_drive(r, rc == DRIVE_OK || rc == DRIVE_INVALID ? DRIVE_NOT_FOUND : rc);
  return false;
}

int dav_get(struct http_req *r, struct dav_ctx *c)
{
  if(!dav_existing(r, c))
    return 0;
  if(c->item.kind != DAV_FILE) {
    http_add_header(r, HTTP_HEADER_ALLOW, "OPTIONS, PROPFIND, PROPPATCH, MKCOL, DELETE, COPY, "
                                              "MOVE, LOCK, UNLOCK");
    return dav_reply_status(r, HTTP_METHOD_NOT_ALLOWED);
  }
  /* The API's responder, with the WebDAV ETag (dav_etag) as its validator. */
  struct file_rec f = c->item.fi;
  snprintf(f.sha256, sizeof(f.sha256), "%.*s", DAV_ETAG_HEX, c->item.fi.sha256);
  return download_respond(r, &f, false, NULL);
}

int dav_mkcol(struct http_req *r, struct dav_ctx *c)
{
  struct folder fo;
  const char *why = NULL;
  if(c->body.len)
    return dav_reply_status(r, HTTP_UNSUPPORTED_MEDIA_TYPE);
  int rc = dav_resolve(c->user.id, r->path, &c->item);
  if(rc == DRIVE_NOT_FOUND)
    return dav_reply_status(r, HTTP_CONFLICT);   /* a missing parent */
  if(rc == DRIVE_INVALID)
    return dav_reply_status(r, HTTP_FORBIDDEN);
  if(rc != DRIVE_OK)
    return dav_reply_drive(r, rc);
  if(c->item.kind != DAV_NONE)
    return dav_reply_status(r, HTTP_METHOD_NOT_ALLOWED);
  if(!dav_lock_allows(r, c, c->item.path, false, true))
    return 0;
  rc = folder_create(c->user.id, dav_parent(&c->item), c->item.name, &fo, &why);
  if(rc == DRIVE_CONFLICT)
    return dav_reply_status(r, HTTP_METHOD_NOT_ALLOWED);   /* same name, other case */
  if(rc == DRIVE_INVALID)
    return dav_reply_status(r, HTTP_FORBIDDEN);
  if(rc != DRIVE_OK)
    return dav_reply_drive(r, rc == DRIVE_NOT_FOUND ? DRIVE_CONFLICT : rc);
  dav_lock_nullify(c->user.id, c->item.path);
  return dav_reply_status(r, HTTP_CREATED);
}

static int delete_job(struct dav_ctx *c)
{
  return dav_bin_item(c->user.id, &c->item);
}

static int delete_reply(struct http_req *r, struct dav_ctx *c)
{
  if(c->job_rc != DRIVE_OK)
    return dav_reply_drive(r, c->job_rc);
  dav_lock_drop_tree(c->user.id, c->item.path);
  return dav_reply_status(r, HTTP_NO_CONTENT);
}

int dav_delete(struct http_req *r, struct dav_ctx *c)
{
  if(!dav_existing(r, c))
    return 0;
  if(c->item.kind == DAV_ROOT)
    return dav_reply_status(r, HTTP_FORBIDDEN);
  if(!dav_lock_allows(r, c, c->item.path, true, true))
    return 0;
  /* A folder's bin runs in batches (a big one for a while): on the pool.
   * A file's is one short write. */
  if(c->item.kind == DAV_FOLDER)
    return dav_defer(r, c, delete_job, delete_reply);
  c->job_rc = delete_job(c);
  return delete_reply(r, c);
}

static void put_suspend(void *arg)
{
  http_suspend(arg);
}

static void put_wake(void *arg)
{
  http_resume(arg);
}

int dav_put_begin(struct http_req *r, struct dav_ctx *c)
{
  struct dav_item *it = &c->item;
  const char *why = NULL;
  if(http_header(r, HTTP_HEADER_CONTENT_RANGE))
    return dav_reply_status(r, HTTP_BAD_REQUEST);   /* no partial PUT */
  int rc = dav_resolve(c->user.id, r->path, it);
  if(rc == DRIVE_NOT_FOUND)
    return dav_reply_status(r, HTTP_CONFLICT);
  if(rc == DRIVE_INVALID)
    return dav_reply_status(r, HTTP_FORBIDDEN);
  if(rc != DRIVE_OK)
    return dav_reply_drive(r, rc);
  if(it->kind == DAV_ROOT || it->kind == DAV_FOLDER)
    return dav_reply_status(r, HTTP_METHOD_NOT_ALLOWED);
  if(!dav_lock_allows(r, c, it->path, false, it->kind == DAV_NONE))
    return 0;
  const char *cl = http_header(r, HTTP_HEADER_CONTENT_LENGTH);
  uint64_t size = cl ? strtoull(cl, NULL, 10) : 0, max = upload_max_size();
  if(max && size > max)
    return dav_reply_drive(r, DRIVE_TOO_BIG);
  bool replace = it->kind == DAV_FILE;
  c->up = upload_new(c->user.id, replace ? (it->fi.folder_id[0] ? it->fi.folder_id : NULL)
                                         : dav_parent(it));
  if(!c->up)
    return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  upload_set_wake(c->up, put_suspend, put_wake, r);
  if(cl)
    upload_set_expected(c->up, size, size);
  if(replace)
    upload_set_replace(c->up, it->fi.id);
  const char *mt = http_header(r, "X-OC-Mtime");
  if(mt) {
    char *end = NULL;
    double secs = strtod(mt, &end);
    if(end != mt && secs > 0 && secs < 1e11)
      upload_set_mtime(c->up, (int64_t)(secs * 1000.0));
  }
  rc = upload_set_name(c->up, replace ? it->fi.name : it->name, &why);
  if(rc != DRIVE_OK)
    return dav_reply_status(r, rc == DRIVE_INVALID ? HTTP_FORBIDDEN
                                                   : HTTP_INTERNAL_SERVER_ERROR);
  c->put_new = !replace;
  return 0;
}

int dav_put_data(struct http_req *r, struct dav_ctx *c, const char *data, size_t len)
{
  if(!c->up)
    return 0;
  int rc = upload_write(c->up, data, len);
  if(rc != DRIVE_OK && rc != DRIVE_PENDING) {
    upload_set_error(c->up, "The WebDAV upload failed");
    return dav_reply_drive(r, rc == DRIVE_TOO_BIG || rc == DRIVE_CANCELLED ? rc : DRIVE_STORAGE);
  }
  return 0;
}

int dav_put_end(struct http_req *r, struct dav_ctx *c)
{
  char file_id[40];
  if(!c->up)
    return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  int rc = upload_finish(c->up, file_id, sizeof(file_id));
  if(rc == DRIVE_PENDING)
    return HTTP_PENDING;
  if(rc == DRIVE_NOT_FOUND)
    return dav_reply_status(r, HTTP_CONFLICT);   /* the folder went meanwhile */
  if(rc != DRIVE_OK)
    return dav_reply_drive(r, rc);
  if(http_header(r, "X-OC-Mtime"))
    http_add_header(r, "X-OC-MTime", "accepted");
  dav_lock_nullify(c->user.id, c->item.path);
  return dav_reply_status(r, c->put_new ? HTTP_CREATED : HTTP_NO_CONTENT);
}
