/* dav_routes: the /dav prefix route. Every method comes through one
 * streaming route: `begin` checks the Basic credentials (a cached one at
 * once, else off the poll threads), `data` streams a PUT into the upload
 * pipeline or collects a small XML body, `end` runs the method. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dav/dav.h"
#include "dav/dav_priv.h"
#include "api/api.h"
#include "drive/davcred.h"
#include "util/log.h"

#define DAV_ALLOW "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, " \
                  "LOCK, UNLOCK"
#define DAV_REALM "Basic realm=\"NetraDrive\", charset=\"UTF-8\""

static void dav_ctx_free(void *p)
{
  struct dav_ctx *c = p;
  upload_free(c->up);
  buf_free(&c->body);
  free(c->dst);
  sodium_memzero(c->secret, sizeof(c->secret));
  free(c);
}

int dav_reply_status(struct http_req *r, unsigned status)
{
  struct http_response *resp = http_response_buffer(0, (void *)"", HTTP_MEM_PERSISTENT);
  if(!resp)
    return -1;
  return http_reply_response(r, status, resp);
}

int dav_reply_xml(struct http_req *r, unsigned status, buf_t *b)
{
  size_t n = b->len;
  char *text = buf_steal(b);
  struct http_response *resp =
      http_response_buffer(n, text ? text : (void *)"", text ? HTTP_MEM_MUST_FREE
                                                                        : HTTP_MEM_PERSISTENT);
  if(!resp) {
    free(text);
    return -1;
  }
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, "application/xml; charset=utf-8");
  http_set_body_size(r, n);
  return http_reply_response(r, status, resp);
}

int dav_reply_drive(struct http_req *r, int rc)
{
  switch(rc) {
  case DRIVE_NOT_FOUND: return dav_reply_status(r, HTTP_NOT_FOUND);
  case DRIVE_CONFLICT: return dav_reply_status(r, HTTP_CONFLICT);
  case DRIVE_INVALID: case DRIVE_MISSING: return dav_reply_status(r, HTTP_BAD_REQUEST);
  case DRIVE_TOO_BIG: return dav_reply_status(r, HTTP_CONTENT_TOO_LARGE);
  case DRIVE_DUPLICATE: return dav_reply_status(r, HTTP_CONFLICT);
  case DRIVE_UNAVAILABLE: return dav_reply_status(r, HTTP_SERVICE_UNAVAILABLE);
  case DRIVE_STORAGE: return dav_reply_status(r, HTTP_BAD_GATEWAY);
  default:
    log_error("request %s: dav %s %s: %s", r->request_id, r->method, r->path,
              drive_status_name(rc));
    return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  }
}

static int dav_options(struct http_req *r)
{
  http_add_header(r, "DAV", "1, 2");
  http_add_header(r, "MS-Author-Via", "DAV");
  http_add_header(r, HTTP_HEADER_ALLOW, DAV_ALLOW);
  return dav_reply_status(r, HTTP_OK);
}

/* Splits "Basic base64(login:secret)"; false when malformed. */
static bool dav_basic(const char *h, struct dav_ctx *c)
{
  unsigned char raw[600];
  size_t n = 0;
  if(!h || strncasecmp(h, "Basic ", 6) != 0)
    return false;
  h += 6;
  while(*h == ' ')
    h++;
  if(sodium_base642bin(raw, sizeof(raw) - 1, h, strlen(h), NULL, &n, NULL,
                       sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  raw[n] = 0;
  char *colon = memchr(raw, ':', n);
  bool ok = colon && memchr(raw, 0, n) == NULL && (size_t)(colon - (char *)raw) < sizeof(c->login) &&
            strlen(colon + 1) < sizeof(c->secret);
  if(ok) {
    size_t ln = (size_t)(colon - (char *)raw);
    memcpy(c->login, raw, ln);
    c->login[ln] = 0;
    memcpy(c->secret, colon + 1, strlen(colon + 1) + 1);
  }
  sodium_memzero(raw, sizeof(raw));
  return ok && c->login[0];
}

static int dav_unauthorized(struct http_req *r)
{
  http_add_header(r, HTTP_HEADER_WWW_AUTHENTICATE, DAV_REALM);
  return dav_reply_status(r, HTTP_UNAUTHORIZED);
}

static void dav_job_work(void *arg)
{
  struct dav_ctx *c = arg;
  c->job_rc = c->job(c);
}

static void dav_job_done(struct http_req *r, void *arg)
{
  struct dav_ctx *c = arg;
  if(r)   /* else the request is gone: the ctx is r->ctx, freed with it */
    c->job_reply(r, c);
}

int dav_defer(struct http_req *r, struct dav_ctx *c, int (*job)(struct dav_ctx *c),
              int (*job_reply)(struct http_req *r, struct dav_ctx *c))
{
  c->job = job;
  c->job_reply = job_reply;
  return http_defer(r, dav_job_work, dav_job_done, c);
}

static int dav_start(struct http_req *r, struct dav_ctx *c);

static int dav_start_again(struct http_req *r)
{
  return dav_start(r, r->ctx);
}

/* The method's own start once the caller is known: PUT sets up its upload;
 * everything else collects its (small) body. */
static int dav_start(struct http_req *r, struct dav_ctx *c)
{
  /* A write resolves its paths against the settled tree: the caller's own
   * pending bin or restore batches first, on the pool (api/settle.c). */
  const char *m = r->method;
  if(strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "PROPFIND") &&
     !api_settled_then(r, dav_start_again, dav_reply_drive))
    return 0;
  if(!strcmp(r->method, "PUT"))
    return dav_put_begin(r, c);
  const char *cl = http_header(r, HTTP_HEADER_CONTENT_LENGTH);
  if(cl && strtoull(cl, NULL, 10) > DAV_BODY_MAX)
    return dav_reply_status(r, HTTP_CONTENT_TOO_LARGE);
  return 0;
}

static void dav_auth_work(void *arg)
{
  struct dav_ctx *c = arg;
  c->auth_rc = davcred_check(c->login, c->secret, c->addr, &c->user, &c->retry_after);
}

static void dav_auth_done(struct http_req *r, void *arg)
{
  struct dav_ctx *c = arg;
  if(!r)
    return;   /* the ctx is r->ctx, freed with the request */
  sodium_memzero(c->secret, sizeof(c->secret));
  if(c->auth_rc == DRIVE_THROTTLED) {
    char s[16];
    snprintf(s, sizeof(s), "%d", c->retry_after > 0 ? c->retry_after : 1);
    http_add_header(r, HTTP_HEADER_RETRY_AFTER, s);
    dav_reply_status(r, HTTP_TOO_MANY_REQUESTS);
    return;
  }
  if(c->auth_rc == DRIVE_UNAVAILABLE || c->auth_rc == DRIVE_DB) {
    dav_reply_drive(r, c->auth_rc);
    return;
  }
  if(c->auth_rc != DRIVE_OK) {
    dav_unauthorized(r);
    return;
  }
  c->authed = true;
  api_caller_set(r, c->user.id, c->user.username);
  dav_start(r, c);
}

static int dav_begin(struct http_req *r)
{
  struct dav_ctx *c = calloc(1, sizeof(*c));
  if(!c)
    return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  buf_init(&c->body, DAV_BODY_MAX);
  r->ctx = c;
  r->ctx_free = dav_ctx_free;
  /* OPTIONS answers without credentials: clients probe before they log in. */
  if(!strcmp(r->method, "OPTIONS"))
    return 0;
  if(!dav_basic(http_header(r, HTTP_HEADER_AUTHORIZATION), c))
    return dav_unauthorized(r);
  if(davcred_cached(c->login, c->secret, &c->user)) {
    sodium_memzero(c->secret, sizeof(c->secret));
    c->authed = true;
    api_caller_set(r, c->user.id, c->user.username);
    return dav_start(r, c);
  }
  http_client_addr(r, c->addr, sizeof(c->addr));
  return http_defer(r, dav_auth_work, dav_auth_done, c);
}

static int dav_data(struct http_req *r, const char *data, size_t len)
{
  struct dav_ctx *c = r->ctx;
  if(!c->authed)
    return 0;
  if(!strcmp(r->method, "PUT"))
    return dav_put_data(r, c, data, len);
  if(buf_append(&c->body, data, len) != BUF_OK)
    c->body_big = true;
  return 0;
}

static int dav_end(struct http_req *r)
{
  struct dav_ctx *c = r->ctx;
  const char *m = r->method;
  if(!strcmp(m, "OPTIONS"))
    return dav_options(r);
  if(!c->authed)
    return dav_unauthorized(r);
  if(c->body_big)
    return dav_reply_status(r, HTTP_CONTENT_TOO_LARGE);
  if(!strcmp(m, "PUT"))
    return dav_put_end(r, c);
  if(!strcmp(m, "GET") || !strcmp(m, "HEAD"))
    return dav_get(r, c);
  if(!strcmp(m, "PROPFIND"))
    return dav_propfind(r, c);
  if(!strcmp(m, "PROPPATCH"))
    return dav_proppatch(r, c);
  if(!strcmp(m, "MKCOL"))
    return dav_mkcol(r, c);
  if(!strcmp(m, "DELETE"))
    return dav_delete(r, c);
  if(!strcmp(m, "COPY") || !strcmp(m, "MOVE"))
    return dav_copymove(r, c, m[0] == 'M');
  if(!strcmp(m, "LOCK"))
    return dav_lock(r, c);
  if(!strcmp(m, "UNLOCK"))
    return dav_unlock(r, c);
  http_add_header(r, HTTP_HEADER_ALLOW, DAV_ALLOW);
  return dav_reply_status(r, HTTP_METHOD_NOT_ALLOWED);
}

static const struct http_stream_ops dav_ops = {dav_begin, dav_data, dav_end, NULL};

const struct http_route dav_routes[] = {
  {"*", DAV_PREFIX, NULL, HTTP_PREFIX, &dav_ops},
  {NULL, NULL, NULL, 0, NULL},
};
