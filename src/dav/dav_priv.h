/* dav_priv: what the dav/ files share: the request state, the resolved
 * target of a path, hrefs and the reply helpers. */
#ifndef NETRA_DAV_PRIV_H
#define NETRA_DAV_PRIV_H
#include <stdbool.h>
#include "drive/davfs.h"
#include "drive/upload.h"
#include "drive/users.h"
#include "http/http.h"
#include "util/buf.h"

#define DAV_PREFIX "/dav"
#define DAV_BODY_MAX (256 * 1024)   /* an XML request body */
#define DAV_DEPTH_MAX 64            /* path segments */
#define DAV_PATH_MAX 4096

enum dav_kind { DAV_NONE = 0, DAV_ROOT, DAV_FOLDER, DAV_FILE };

/** What a path names. With kind DAV_NONE the parent exists and `name` is
 *  the missing last segment. */
struct dav_item {
  enum dav_kind kind;
  struct folder fo;                /* DAV_FOLDER */
  struct file_rec fi;              /* DAV_FILE */
  char parent_id[ID_LEN + 1];      /* "" = root */
  char name[DAVFS_NAME_MAX];       /* the last segment (NFC), "" for the root */
  char path[DAV_PATH_MAX];         /* normalised: "/" or "/a/b" */
};

struct dav_ctx {
  struct user user;
  bool authed;
  char login[300], secret[300], addr[64];
  int auth_rc, retry_after;
  buf_t body;
  bool body_big;
  struct upload *up;               /* PUT */
  bool put_new;                    /* PUT made a new file: 201 */
  int put_fail;                    /* a drive code the upload gave up with */
  struct dav_item item;            /* PUT's target */
  /* A write's long part, on the http_defer pool (dav_defer). */
  int (*job)(struct dav_ctx *c);
  int (*job_reply)(struct http_req *r, struct dav_ctx *c);
  int job_rc;
  struct dav_item *dst;            /* COPY/MOVE's target (freed with the ctx) */
  bool move, deep, existed;        /* COPY/MOVE */
};

/** Runs job(c) on the http_defer pool, then job_reply(r, c) (c->job_rc
 *  set) on the request's thread: a write that may be long (a folder's bin
 *  in batches, a tree copied) keeps the poll thread free. Returns what the
 *  route's `end` or `begin` returns. */
int dav_defer(struct http_req *r, struct dav_ctx *c, int (*job)(struct dav_ctx *c),
              int (*job_reply)(struct http_req *r, struct dav_ctx *c));

/** Resolves a request path ("/dav/a/b", decoded) for the user. DRIVE_OK
 *  (the item, or DAV_NONE with its parent), DRIVE_NOT_FOUND when a folder
 *  on the way is missing (RFC 4918: 409 for PUT, MKCOL, COPY, MOVE
 *  targets), DRIVE_INVALID for a path outside /dav or a bad segment. */
int dav_resolve(const char *user_id, const char *path, struct dav_item *out);
/** The parent folder id of a resolved item (NULL = root). */
const char *dav_parent(const struct dav_item *it);
/** Appends the percent-encoded href of `path` (decoded, "/a b") under
 *  /dav/, with a trailing '/' when `collection`. */
int dav_href(buf_t *b, const char *path, bool collection);
/** Appends `s` escaped for XML text. */
int dav_xml_text(buf_t *b, const char *s);

/** Replies with `status`, a short text body and the given headers. */
int dav_reply_status(struct http_req *r, unsigned status);
/** Replies 207 with the XML in `b` (taken). */
int dav_reply_xml(struct http_req *r, unsigned status, buf_t *b);
/** Replies for a drive/ fault code (404, 409, 503, 500). */
int dav_reply_drive(struct http_req *r, int rc);

/* method handlers (r->ctx is the dav_ctx; the user is authenticated) */
int dav_propfind(struct http_req *r, struct dav_ctx *c);
int dav_proppatch(struct http_req *r, struct dav_ctx *c);
int dav_get(struct http_req *r, struct dav_ctx *c);
int dav_mkcol(struct http_req *r, struct dav_ctx *c);
int dav_delete(struct http_req *r, struct dav_ctx *c);
int dav_copymove(struct http_req *r, struct dav_ctx *c, bool move);
int dav_lock(struct http_req *r, struct dav_ctx *c);
int dav_unlock(struct http_req *r, struct dav_ctx *c);
int dav_put_begin(struct http_req *r, struct dav_ctx *c);
int dav_put_data(struct http_req *r, struct dav_ctx *c, const char *data, size_t len);
int dav_put_end(struct http_req *r, struct dav_ctx *c);

/** A file's WebDAV ETag is the first DAV_ETAG_HEX hex digits of its SHA-256
 *  (128 bits, still a strong validator): the API's full 64 makes If:
 *  headers longer than some clients' buffers (neon/litmus cut them at ~200
 *  bytes). DECISIONS "WebDAV". */
#define DAV_ETAG_HEX 32
/** Writes "\"<etag>\"" of a file. */
void dav_etag(const struct file_rec *f, char out[DAV_ETAG_HEX + 3]);

/** Bins an item (DELETE, or an overwritten COPY/MOVE target). */
int dav_bin_item(const char *user_id, const struct dav_item *it);

#endif
