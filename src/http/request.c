/* request: one request's lifecycle, as the connection (conn.c) drives it:
 * made from a parsed head (path and query decoded, framing checked, caps),
 * routed and authenticated, its body handed to a streaming route or
 * collected, its handler run, and everything it allocated freed in one
 * place, req_close(), with the access-log line. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http/access_log.h"
#include "http/conn.h"
#include "http/cors.h"
#include "http/defer.h"
#include "http/framing.h"
#include "http/req_metrics.h"
#include "http/server_priv.h"
#include "util/id.h"
#include "util/log.h"

static int unhex(int c)
{
  if(c >= '0' && c <= '9') return c - '0';
  if(c >= 'a' && c <= 'f') return c - 'a' + 10;
  if(c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes %XX in place, and '+' as a space with `plus` (query), but keeps
 * "%00" as it is: a NUL would cut the string, so "/folders/%00/path" would
 * become "/folders" and "?parent_id=%00" an empty (root) value. */
static size_t req_unescape(char *s, bool plus)
{
  char *w = s;
  for(const char *p = s; *p;) {
    int hi = p[0] == '%' ? unhex((unsigned char)p[1]) : -1;
    int lo = hi >= 0 ? unhex((unsigned char)p[2]) : -1;
    if(lo >= 0 && (hi | lo) != 0) {
      *w++ = (char)(hi * 16 + lo);
      p += 3;
    }
    else if(plus && *p == '+') {
      *w++ = ' ';
      p++;
    }
    else
      *w++ = *p++;
  }
  *w = 0;
  return (size_t)(w - s);
}

/* Splits the query into r->args (decoded, in order; lookups take the first). */
static int req_parse_query(struct http_req *r, const char *q)
{
  if(!*q)
    return 0;   /* the common case: nothing to allocate */
  size_t n = 1;
  for(const char *p = q; *p; p++)
    n += *p == '&';
  r->arg_buf = strdup(q);
  r->args = calloc(n, sizeof(*r->args));
  if(!r->arg_buf || !r->args)
    return -1;
  for(char *p = r->arg_buf; p;) {
    char *amp = strchr(p, '&');
    if(amp)
      *amp = 0;
    if(*p) {
      char *eq = strchr(p, '=');
      struct http_arg *a = &r->args[r->nargs++];
      if(eq) {
        *eq = 0;
        a->value = eq + 1;
        a->value_len = req_unescape(eq + 1, true);
      }
      req_unescape(p, true);
      a->key = p;
    }
    p = amp ? amp + 1 : NULL;
  }
  return 0;
}

/* The path of the target: origin-form as it is, absolute-form without its
 * scheme and authority. */
static const char *req_target_path(const char *t)
{
  if(t[0] == '/' || !strcmp(t, "*"))
    return t;
  const char *p = strstr(t, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  return p ? p : "/";
}

static struct http_req *req_new(struct http_conn *c)
{
  struct http_req *r = calloc(1, sizeof(*r));
  if(!r)
    return NULL;
  r->conn = c;
  r->start_us = loop_now_us();
  buf_init(&r->body, HTTP_BODY_MAX);
  id_new(r->request_id);
  atomic_fetch_add(&srv_inflight, 1);
  atomic_fetch_add(&srv_requests, 1);
  return r;
}

/* Answers a request that never got a method and path (a refused or
 * unparsable head) and closes after it; NULL when out of memory (r freed). */
static struct http_req *req_refused(struct http_req *r, unsigned status, const char *detail)
{
  r->method = "-";
  r->path = strdup("-");
  if(!r->path) {
    req_close(r, false);
    return NULL;
  }
  http_add_header(r, HTTP_HEADER_CONNECTION, "close");
  http_reply_error(r, status, detail);
  return r;
}

struct http_req *req_refuse(struct http_conn *c, unsigned status, const char *detail)
{
  struct http_req *r = req_new(c);
  return r ? req_refused(r, status, detail) : NULL;
}

/* Refuses a request whose body length is ambiguous (framing.h) before any
 * route runs; the connection is closed after the reply, so a request
 * hidden in the body is never read. */
static bool req_framing_bad(struct http_req *r)
{
  struct framing f;
  const char *detail = NULL;
  memset(&f, 0, sizeof(f));
  for(int i = 0; i < r->head->nfields; i++)
    framing_add(&f, r->head->fields[i].name, r->head->fields[i].value);
  unsigned status = framing_verdict(&f, r->http10, &detail);
  if(status) {
    http_add_header(r, HTTP_HEADER_CONNECTION, "close");
    http_reply_error(r, status, detail);
    return true;
  }
  r->chunked = f.nchunked > 0;
  r->body_length = f.ncl ? f.cl : 0;
  return false;
}

/* Keep-alive as RFC 9112 §9.3 has it: HTTP/1.1 unless "close", HTTP/1.0
 * only with "keep-alive". */
static void req_connection_options(struct http_req *r)
{
  bool close = false, keep = false;
  for(int i = 0; i < r->head->nfields; i++) {
    if(strcasecmp(r->head->fields[i].name, HTTP_HEADER_CONNECTION) != 0)
      continue;
    close |= h1_list_has(r->head->fields[i].value, "close");
    keep |= h1_list_has(r->head->fields[i].value, "keep-alive");
  }
  r->keep_alive = r->http10 ? keep && !close : !close;
  const char *expect = http_header(r, "Expect");
  r->expect_continue = expect && !strcasecmp(expect, "100-continue");
}

/* Checks the Authorization header for HTTP_AUTH routes; replies 401 (or 503
 * when the check could not be made) itself. */
static bool req_authenticate(struct http_req *r)
{
  const char *h = http_header(r, HTTP_HEADER_AUTHORIZATION);
  if(!h || !*h) {
    http_add_header(r, HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    http_reply_error(r, HTTP_UNAUTHORIZED, "Not authenticated");
    return false;
  }
  int rc = strncasecmp(h, "Bearer ", 7) != 0 || !srv_auth ? -1 : srv_auth(r, h + 7, &r->auth);
  if(rc == HTTP_AUTH_UNAVAILABLE) {
    http_reply_error(r, HTTP_SERVICE_UNAVAILABLE, "Database unavailable");
    return false;
  }
  if(rc != 0) {
    http_add_header(r, HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    http_reply_error(r, HTTP_UNAUTHORIZED, "Could not validate credentials");
    return false;
  }
  return true;
}

bool req_long(const struct http_req *r)
{
  return r->route && (r->route->stream || (r->route->flags & HTTP_LONG));
}

/* Routes the request and decides how its body is handled. */
static void req_start(struct http_req *r)
{
  r->cors_origin = cors_allowed_origin(http_header(r, "Origin"));
  enum http_match m = http_route_match(srv_tables, r->method, r);
  if(!strcmp(r->method, "OPTIONS") && m != HTTP_MATCH_OK) {
    cors_preflight(r);
    return;
  }
  if(m == HTTP_MATCH_NONE) {
    http_reply_error(r, HTTP_NOT_FOUND, "Not Found");
    return;
  }
  if(m == HTTP_MATCH_METHOD) {
    http_reply_error(r, HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed");
    return;
  }
  if((r->route->flags & HTTP_AUTH) && !req_authenticate(r))
    return;
  if(!r->route->stream) {
    /* Reject an announced oversized small body before reading it. */
    if(r->body_length > HTTP_BODY_MAX)
      http_reply_error(r, HTTP_CONTENT_TOO_LARGE, "Request body too large");
    return;
  }
  if(r->route->stream->begin)
    r->route->stream->begin(r);
}

struct http_req *req_open(struct http_conn *c, char *head, size_t len)
{
  struct http_req *r = req_new(c);
  const char *detail = NULL;
  if(!r || !(r->head = malloc(sizeof(*r->head)))) {
    if(r)
      req_close(r, false);
    free(head);
    return NULL;
  }
  r->head_buf = head;
  unsigned st = h1_head_parse(head, len, r->head, &detail);
  if(st) {
    r->head->nfields = 0;
    return req_refused(r, st, detail);
  }
  r->method = r->head->method;
  r->http10 = r->head->minor == 0;
  r->is_head = !strcmp(r->method, "HEAD");
  char *q = strchr(r->head->target, '?');
  if(q)
    *q++ = 0;
  r->path = strdup(req_target_path(r->head->target));
  if(!r->path || req_parse_query(r, q ? q : "") != 0) {
    req_close(r, false);
    return NULL;
  }
  req_unescape(r->path, false);
  http_path_normalize(r->path);
  req_connection_options(r);
  if(!req_framing_bad(r))
    req_start(r);
  return r;
}

void req_begin_done(struct http_req *r)
{
  http_defer_finish(r);
}

void req_body(struct http_req *r, const char *data, size_t n)
{
  r->bytes_in += n;
  atomic_fetch_add(&srv_bytes_in, n);
  if(r->replied)
    return;
  if(r->route->stream) {
    /* The route consumes the piece; it may suspend to stop the next one. */
    r->in_body = true;
    if(r->route->stream->data(r, data, n) != 0 && !r->replied)
      http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
    r->in_body = false;
    return;
  }
  if(buf_append(&r->body, data, n) != BUF_OK)
    r->body_too_big = true;
}

void req_run(struct http_req *r)
{
  if(r->replied)
    return;
  if(r->route->stream) {
    /* `end` may wait (suspended) for background work; it runs again. Work
     * it gave http_defer() is answered by that work's `done` instead. */
    if(r->deferral)
      http_defer_finish(r);
    else if(r->route->stream->end(r) == HTTP_PENDING && !r->replied)
      return;
    if(r->deferral && !r->replied)
      return;
    r->stream_done = true;
  }
  else if(r->body_too_big)
    http_reply_error(r, HTTP_CONTENT_TOO_LARGE, "Request body too large");
  else {
    /* A deferred handler is called back here, resumed, to reply. */
    if(r->deferral)
      http_defer_finish(r);
    else
      r->route->handler(r);
    if(r->deferral && !r->replied)
      return;
  }
  if(!r->replied) {
    log_error("request %s: %s %s produced no response", r->request_id, r->method, r->path);
    http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  }
}

void req_close(struct http_req *r, bool ok)
{
  if(r->route && r->route->stream && r->route->stream->abort && (!r->stream_done || !ok))
    r->route->stream->abort(r);
  double ms = (double)(loop_now_us() - r->start_us) / 1000.0;
  if(r->path)
    http_access_log(r, ok, ms);
  http_req_metrics(r, ms / 1000.0);
  atomic_fetch_sub(&srv_inflight, 1);
  if(r->ctx && r->ctx_free)
    r->ctx_free(r->ctx);
  for(int i = 0; i < r->nparams; i++)
    free(r->param_values[i]);
  for(int i = 0; i < r->nextra; i++) {
    free(r->extra[i].name);
    free(r->extra[i].value);
  }
  http_response_free(r->resp);
  http_defer_drop(r);
  buf_free(&r->body);
  if(r->auth && srv_auth_free)
    srv_auth_free(r->auth);
  free(r->path);
  free(r->args);
  free(r->arg_buf);
  free(r->head);
  free(r->head_buf);
  free(r);
}
