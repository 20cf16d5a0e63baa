/* upload: POST /api/v1/files/upload, a streaming multipart upload. The folder
 * and size checks run before the body is read; the body is parsed as it
 * arrives and the file part goes straight into the upload pipeline. With a
 * remote store the upload is a task: cancelling it makes this request answer
 * 409 (a waiting request is woken for that). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "api/render.h"
#include "drive/drive.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "drive/upload.h"
#include "util/id.h"
#include "util/multipart.h"

/* Allowance for multipart framing when comparing Content-Length to the cap. */
#define UPLOAD_FRAMING_SLACK (64 * 1024)
/* The multipart framing around a file: boundaries and part headers, under
 * this many bytes in practice. A Content-Length tells the file's size to
 * within it (a file of exactly 8 chunks still counts as 8). */
#define UPLOAD_FRAMING_EST 4096

struct up_ctx {
  struct upload *up;
  struct mp_parser mp;
  const struct mp_callbacks *cbs;
  bool in_file;
  bool have_file;
  int fail_rc;                 /* why a multipart callback gave up: a drive code */
  const char *fail_detail;
};

static void up_ctx_free(void *p)
{
  struct up_ctx *c = p;
  upload_free(c->up);
  free(c);
}

static void up_suspend(void *arg)
{
  http_suspend(arg);
}

static void up_wake(void *arg)
{
  http_resume(arg);
}

static int up_fail(struct up_ctx *c, int rc, const char *detail)
{
  c->fail_rc = rc;
  c->fail_detail = detail;
  return -1;
}

/* An error answer once the upload exists: its task shows the same reason
 * (a cancel leaves the task's error empty: upload_set_error ignores it). */
static int up_reply_error(struct http_req *r, int rc, const char *detail)
{
  struct up_ctx *c = r->ctx;
  if(rc != DRIVE_CANCELLED)
    upload_set_error(c->up, detail ? detail : api_error_detail(rc));
  return api_reply_error(r, rc, detail);
}

static int up_part_begin(void *arg, const struct mp_part *part)
{
  struct up_ctx *c = arg;
  c->in_file = false;
  if(strcmp(part->name, "file") != 0)
    return 0;   /* other fields are read and ignored */
  if(!part->has_filename)
    return up_fail(c, DRIVE_MISSING, "Field 'file' must be a file");
  if(c->have_file)
    return up_fail(c, DRIVE_INVALID, "Only one file per upload");
  const char *why = NULL;
  int rc = upload_set_name(c->up, part->filename, &why);
  if(rc != DRIVE_OK)
    return up_fail(c, rc, why);
  c->have_file = true;
  c->in_file = true;
  return 0;
}

static int up_part_data(void *arg, const char *data, size_t len)
{
  struct up_ctx *c = arg;
  if(!c->in_file)
    return 0;
  int rc = upload_write(c->up, data, len);
  if(rc != DRIVE_OK && rc != DRIVE_PENDING)
    return up_fail(c, rc == DRIVE_TOO_BIG || rc == DRIVE_CANCELLED ? rc : DRIVE_STORAGE, NULL);
  return 0;
}

static int up_part_end(void *arg)
{
  ((struct up_ctx *)arg)->in_file = false;
  return 0;
}

static const struct mp_callbacks up_callbacks = {up_part_begin, up_part_data, up_part_end};

static int up_begin(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  const char *folder = http_query(r, "folder_id");
  char boundary[MP_BOUNDARY_MAX + 1];
  if(folder && (!*folder || !strcmp(folder, "root") || !strcmp(folder, "null")))
    folder = NULL;
  int rc = folder && !id_valid(folder) ? DRIVE_NOT_FOUND : folder_check_target(api_user_id(r), folder);
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "Folder not found" : NULL);
  if(!http_content_type_is(r, "multipart/form-data"))
    return http_reply_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                            "Content-Type must be multipart/form-data");
  if(mp_boundary_from_content_type(http_header(r, HTTP_HEADER_CONTENT_TYPE), boundary,
                                   sizeof(boundary)) != 0)
    return http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT,
                            "multipart/form-data needs a valid boundary");
  const char *cl = http_header(r, HTTP_HEADER_CONTENT_LENGTH);
  uint64_t max = upload_max_size();
  if(max && cl && strtoull(cl, NULL, 10) > max + UPLOAD_FRAMING_SLACK)
    return api_reply_error(r, DRIVE_TOO_BIG, NULL);

  struct up_ctx *c = calloc(1, sizeof(*c));
  if(!c)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  r->ctx = c;
  r->ctx_free = up_ctx_free;
  c->up = upload_new(api_user_id(r), folder);
  if(!c->up || mp_init(&c->mp, boundary, &up_callbacks, c) != 0)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  upload_set_wake(c->up, up_suspend, up_wake, r);
  uint64_t total = cl ? strtoull(cl, NULL, 10) : 0;
  upload_set_expected(c->up, total > UPLOAD_FRAMING_EST ? total - UPLOAD_FRAMING_EST : total, total);
  return 0;
}

static int up_data(struct http_req *r, const char *data, size_t len)
{
  struct up_ctx *c = r->ctx;
  /* Woken by a cancel, or a cancel came between two pieces. */
  if(upload_cancelled(c->up))
    return up_reply_error(r, DRIVE_CANCELLED, NULL);
  int rc = mp_feed(&c->mp, data, len);
  if(rc == MP_ERR_CALLBACK)
    return up_reply_error(r, c->fail_rc, c->fail_detail);
  if(rc == MP_ERR_SYNTAX) {
    char detail[160];
    snprintf(detail, sizeof(detail), "Malformed multipart body: %s", c->mp.error);
    return up_reply_error(r, DRIVE_INVALID, detail);
  }
  return 0;
}

static int up_end(struct http_req *r)
{
  struct up_ctx *c = r->ctx;
  char file_id[40];
  if(upload_cancelled(c->up))
    return up_reply_error(r, DRIVE_CANCELLED, NULL);
  if(!mp_done(&c->mp))
    return up_reply_error(r, DRIVE_INVALID, "Malformed multipart body: it ended early");
  if(!c->have_file)
    return api_reply_error(r, DRIVE_MISSING, "Field 'file' is required");
  int rc = upload_finish(c->up, file_id, sizeof(file_id));
  if(rc == DRIVE_PENDING)
    return HTTP_PENDING;   /* chunks still landing */
  if(rc == DRIVE_NOT_FOUND) {
    upload_set_error(c->up, "The folder no longer exists");
    return api_reply_error(r, rc, "Folder not found");
  }
  if(rc == DRIVE_DB || rc == DRIVE_UNAVAILABLE)
    upload_set_error(c->up, "Database error");
  if(rc != DRIVE_OK)
    return up_reply_error(r, rc, NULL);
  struct file_rec f;
  if((rc = file_get(api_user_id(r), file_id, &f)) != DRIVE_OK)
    return api_reply_error(r, rc == DRIVE_NOT_FOUND ? DRIVE_DB : rc, NULL);
  return render_reply_file(r, HTTP_CREATED, &f);
}

static const struct http_stream_ops up_ops = {up_begin, up_data, up_end, NULL};

const struct http_route api_upload_routes[] = {
  {"POST", "/api/v1/files/upload", NULL, HTTP_AUTH, &up_ops},
  {NULL, NULL, NULL, 0, NULL},
};
