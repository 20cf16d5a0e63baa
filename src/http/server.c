/* server: the libmicrohttpd daemon, the per-request lifecycle and the access
 * log. Everything a request allocates hangs off struct http_req and is freed
 * in req_free(), called from MHD's completion notification. */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "http/http.h"
#include "http/access_log.h"
#include "http/client_addr.h"
#include "http/conn_limit.h"
#include "http/cors.h"
#include "http/framing.h"
#include "http/defer.h"
#include "http/req_metrics.h"
#include "http/websocket.h"
#include "util/id.h"
#include "util/log.h"
#include "util/metric_list.h"

/* MHD's memory per connection when none is configured. It also sizes the
 * read buffer (an upload's body is read about half of it at a time), and
 * libmicrohttpd 0.9.75 zeroes all of it each time a keep-alive connection
 * starts its next request, so every connection that has served a request
 * holds it resident: 64 KiB keeps 1,000 idle keep-alive connections near
 * 64 MiB (1 MiB: 1 GiB). CONNECTION_MEMORY trades that for bigger reads. */
#define SRV_CONN_MEMORY (48 * 1024)

static struct MHD_Daemon *srv_daemon;
static const struct http_route *const *srv_tables;
static http_auth_fn srv_auth;
static void (*srv_auth_free)(void *auth);
static atomic_uint_fast64_t srv_inflight;
static atomic_uint_fast64_t srv_requests;
static atomic_uint_fast64_t srv_bytes_in;
static unsigned srv_short_timeout; /* s: KEEPALIVE_TIMEOUT */
static bool srv_per_ip;            /* MAX_CONNECTIONS_PER_IP is on */

/* Descriptors kept free of connections: the database, chunk files, spool,
 * sockets to Telegram and SMTP. */
#define SRV_FD_RESERVE 256

static int64_t now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void http_stats_get(struct http_stats *out)
{
  out->requests = atomic_load(&srv_requests);
  out->bytes_in = atomic_load(&srv_bytes_in);
  out->inflight = atomic_load(&srv_inflight);
}

static void req_free(struct http_req *r)
{
  if(r->ctx && r->ctx_free)
    r->ctx_free(r->ctx);
  for(int i = 0; i < r->nparams; i++)
    free(r->param_values[i]);
  for(int i = 0; i < r->nextra; i++) {
    free(r->extra[i].name);
    free(r->extra[i].value);
  }
  if(r->early)
    MHD_destroy_response(r->early); /* the client left before it could be sent */
  http_defer_drop(r);
  buf_free(&r->body);
  if(r->auth && srv_auth_free)
    srv_auth_free(r->auth);
  free(r->path);
  free(r);
}

/* Checks the Authorization header for HTTP_AUTH routes; replies 401 (or 503
 * when the check could not be made) itself. */
static bool req_authenticate(struct http_req *r)
{
  const char *h = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
  if(!h || !*h) {
    http_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    http_reply_error(r, MHD_HTTP_UNAUTHORIZED, "Not authenticated");
    return false;
  }
  int rc = strncasecmp(h, "Bearer ", 7) != 0 || !srv_auth ? -1 : srv_auth(r, h + 7, &r->auth);
  if(rc == HTTP_AUTH_UNAVAILABLE) {
    http_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable");
    return false;
  }
  if(rc != 0) {
    http_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    http_reply_error(r, MHD_HTTP_UNAUTHORIZED, "Could not validate credentials");
    return false;
  }
  return true;
}

static bool srv_long_route(const struct http_route *route)
{
  return route && (route->stream || (route->flags & HTTP_LONG));
}

/* First call for a request: route it and decide how its body is handled. */
static void req_start(struct http_req *r)
{
  r->cors_origin = cors_allowed_origin(http_header(r, "Origin"));
  enum http_match m = http_route_match(srv_tables, r->method, r);
  if(!strcmp(r->method, "OPTIONS") && m != HTTP_MATCH_OK) {
    cors_preflight(r);
    return;
  }
  if(m == HTTP_MATCH_NONE) {
    http_reply_error(r, MHD_HTTP_NOT_FOUND, "Not Found");
    return;
  }
  if(m == HTTP_MATCH_METHOD) {
    http_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed");
    return;
  }
  if((r->route->flags & HTTP_AUTH) && !req_authenticate(r))
    return;
  /* A body on its way may pause longer than an idle connection may sit
   * (a slow client, a suspended upload or download waiting for storage):
   * it gets the long timeout until the request completes (on_completed). */
  if(srv_long_route(r->route))
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)HTTP_LONG_TIMEOUT);
  if(!r->route->stream) {
    /* Reject an announced oversized small body before reading it. */
    const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if(cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX) {
      http_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large");
      return;
    }
    return;
  }
  if(r->route->stream->begin)
    r->route->stream->begin(r);
}

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
  size_t *n = cls;
  *n += strlen(key) + (value ? strlen(value) : 0) + 4;   /* ": " or "=&", CRLF */
  return MHD_YES;
}

/* MHD's per-connection buffer (CONNECTION_MEMORY) may be big so that uploads
 * are read in big pieces; it would also let a request's head grow that big,
 * so the head is capped here instead (a head that does not even fit the
 * buffer gets libmicrohttpd's own 431). Replies and returns true when over. */
static bool req_head_too_big(struct http_req *r, const char *url)
{
  size_t uri = strlen(url), head = 0;
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_len, &uri);
  MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_len, &head);
  if(uri > HTTP_URI_MAX) {
    http_reply_error(r, MHD_HTTP_URI_TOO_LONG, "URI too long");
    return true;
  }
  if(head > HTTP_HEAD_MAX) {
    http_reply_error(r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                     "Request header fields too large");
    return true;
  }
  return false;
}

/* Refuses a request whose body length is ambiguous (framing.h) before any
 * route or body callback runs. A reply queued before the body is read makes
 * MHD 0.9.75 drop the rest of the connection's input; "Connection: close"
 * says so to the client and makes MHD close after the reply in any case, so
 * a request hidden in the body is never read. */
static bool req_framing_bad(struct http_req *r, const char *version)
{
  const char *detail = NULL;
  unsigned status = framing_check(r->conn, version, &detail);
  if(!status)
    return false;
  http_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  http_reply_error(r, status, detail);
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
  struct http_req *r = *con_cls;
  if(!r) {
    r = calloc(1, sizeof(*r));
    if(!r)
      return MHD_NO;
    r->conn = conn;
    r->method = method;
    r->start_us = now_us();
    r->path = strdup(url);
    if(!r->path) {
      free(r);
      return MHD_NO;
    }
    http_path_normalize(r->path);
    buf_init(&r->body, HTTP_BODY_MAX);
    id_new(r->request_id);
    *con_cls = r;
    atomic_fetch_add(&srv_inflight, 1);
    atomic_fetch_add(&srv_requests, 1);
    if(!req_framing_bad(r, version) && !req_head_too_big(r, url))
      req_start(r);
    return MHD_YES;
  }

  if(r->deferral && r->route && r->route->stream) {
    /* `begin` deferred work (a password check): its `done` runs first; a
     * reply it makes with body bytes pending waits in r->early. */
    r->in_body = *upload_data_size != 0;
    http_defer_finish(r);
    r->in_body = false;
    /* Resumed, MHD repeats the call `begin` deferred in (the first one):
     * the body, if any, and the final call come next. */
    if(r->deferral || !*upload_data_size)
      return MHD_YES;
  }
  if(*upload_data_size) {
    size_t n = *upload_data_size;
    r->bytes_in += n;
    atomic_fetch_add(&srv_bytes_in, n);
    if(r->replied) {
      *upload_data_size = 0;   /* an early reply: drop the rest */
      return MHD_YES;
    }
    if(r->route->stream) {
      /* The route consumes the piece; it may suspend to stop the next one.
       * A reply made here waits in r->early for the end of the body. */
      r->in_body = true;
      if(r->route->stream->data(r, upload_data, n) != 0 && !r->replied)
        http_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
      r->in_body = false;
      *upload_data_size = 0;
      return MHD_YES;
    }
    if(buf_append(&r->body, upload_data, n) != BUF_OK)
      r->body_too_big = true;
    *upload_data_size = 0;
    return MHD_YES;
  }

  if(r->early) {
    struct MHD_Response *resp = r->early;
    r->early = NULL;
    MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return MHD_YES;
  }
  if(r->replied)
    return MHD_YES;
  if(r->route->stream) {
    /* `end` may wait (suspended) for background work; MHD calls again. */
    if(r->route->stream->end(r) == HTTP_PENDING && !r->replied)
      return MHD_YES;
    r->stream_done = true;
  }
  else if(r->body_too_big)
    http_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large");
  else {
    /* A deferred handler is called back here, resumed, to reply. */
    if(r->deferral)
      http_defer_finish(r);
    else
      r->route->handler(r);
    if(r->deferral && !r->replied)
      return MHD_YES;
  }
  if(!r->replied) {
    log_error("request %s: %s %s produced no response", r->request_id, r->method, r->path);
    http_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  }
  return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct http_req *r = *con_cls;
  if(!r)
    return;
  if(r->route && r->route->stream && r->route->stream->abort &&
     (!r->stream_done || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK))
    r->route->stream->abort(r);
  /* Back to the short timeout for the idle keep-alive time to come. Only on
   * a clean end: MHD then still holds the connection in its timeout lists
   * (any other end closes the connection anyway). */
  if(toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && srv_long_route(r->route))
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, srv_short_timeout);
  double ms = (double)(now_us() - r->start_us) / 1000.0;
  http_access_log(r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK, ms);
  http_req_metrics(r, ms / 1000.0);
  atomic_fetch_sub(&srv_inflight, 1);
  req_free(r);
  *con_cls = NULL;
}

static int unhex(int c)
{
  if(c >= '0' && c <= '9') return c - '0';
  if(c >= 'a' && c <= 'f') return c - 'a' + 10;
  if(c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes %XX in the path and query in place as MHD does, but keeps "%00" as
 * it is: a NUL would cut the string, so "/folders/%00/path" would become
 * "/folders" and "?parent_id=%00" an empty (root) value. */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
  char *w = s;
  for(const char *p = s; *p;) {
    int hi = p[0] == '%' ? unhex((unsigned char)p[1]) : -1;
    int lo = hi >= 0 ? unhex((unsigned char)p[2]) : -1;
    if(lo >= 0 && (hi | lo) != 0) {
      *w++ = (char)(hi * 16 + lo);
      p += 3;
    }
    else
      *w++ = *p++;
  }
  *w = 0;
  return (size_t)(w - s);
}

/* Counts connections for /metrics, then lets conn_limit.c see them. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
  if(code == MHD_CONNECTION_NOTIFY_STARTED) {
    metric_add(&metric_http_connections, NULL, 1);
    metric_add(&metric_http_open_connections, NULL, 1);
  }
  else if(code == MHD_CONNECTION_NOTIFY_CLOSED)
    metric_add(&metric_http_open_connections, NULL, (uint64_t)-1);
  if(srv_per_ip)
    conn_limit_notify(cls, conn, socket_context, code);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  char line[512];
  vsnprintf(line, sizeof(line), fmt, ap);
  size_t n = strlen(line);
  while(n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = 0;
  log_debug("mhd: %s", line);
}

int http_start(const struct http_options *opt, char *err, size_t errlen)
{
  if(opt->listen_fd < 0) {
    snprintf(err, errlen, "no listening socket");
    return -1;
  }
  int lfd = opt->listen_fd;
  bool cors = false, defer = false, ws = false, limits = false;
  srv_tables = opt->tables;
  srv_auth = opt->auth;
  srv_auth_free = opt->auth_free;
  http_client_addr_setup(opt->trusted_proxies);
  http_access_log_setup(opt->auth_user);
  if(cors_init(opt->cors_origins) != 0) {
    snprintf(err, errlen, "CORS_ORIGINS: could not parse");
    goto fail;
  }
  cors = true;
  if(http_defer_start() != 0) {
    snprintf(err, errlen, "cannot start the background work threads");
    goto fail;
  }
  defer = true;
  if(http_ws_start(opt->ws_max, opt->ws_ping_ms) != 0) {
    snprintf(err, errlen, "cannot start the WebSocket thread");
    goto fail;
  }
  ws = true;
  /* poll, not epoll: with edge-triggered epoll, MHD 0.9.75 misses a FIN that
   * arrives with the last data (the connection then sits in CLOSE-WAIT and
   * an aborted upload is never cleaned up). Level-triggered poll sees it. */
  /* The caps (DECISIONS "HTTP"): MHD's own default is about 1020 open
   * connections, which one address could fill with idle sockets; it then
   * stops accepting and every other client waits. MHD splits the cap among
   * its threads, so it is at least one per thread. */
  unsigned max_conn = conn_limit_fit_fds((unsigned)opt->max_connections, SRV_FD_RESERVE);
  if(max_conn < (unsigned)opt->max_connections)
    log_warn("MAX_CONNECTIONS lowered from %d to %u to fit the open-file limit", opt->max_connections,
             max_conn);
  if(max_conn < (unsigned)opt->threads)
    max_conn = (unsigned)opt->threads;
  bool per_ip = opt->max_connections_per_ip > 0;
  if(per_ip && conn_limit_init(opt->max_connections_per_ip, opt->trusted_proxies, max_conn) != 0) {
    snprintf(err, errlen, "MAX_CONNECTIONS_PER_IP: out of memory");
    goto fail;
  }
  limits = per_ip;
  srv_per_ip = per_ip;
  srv_short_timeout = (unsigned)opt->keepalive_timeout;
  unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
                   MHD_USE_ERROR_LOG | MHD_USE_ITC;
  srv_daemon = MHD_start_daemon(
      flags, (uint16_t)opt->port, per_ip ? conn_limit_accept : NULL, NULL, on_request, NULL,
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
      MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opt->threads,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      opt->connection_memory ? opt->connection_memory : (size_t)SRV_CONN_MEMORY,
      MHD_OPTION_CONNECTION_LIMIT, max_conn,
      /* Idle keep-alive and a head not yet in; body routes raise it. */
      MHD_OPTION_CONNECTION_TIMEOUT, srv_short_timeout,
      MHD_OPTION_THREAD_STACK_SIZE, (size_t)(8 * 1024 * 1024),
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
      MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, NULL,
      MHD_OPTION_END);
  if(!srv_daemon) {
    snprintf(err, errlen, "cannot start the HTTP server on %s port %d", opt->host, opt->port);
    goto fail;
  }
  return 0;
fail:
  if(limits)
    conn_limit_free();
  if(ws)
    http_ws_stop();
  if(defer)
    http_defer_stop();
  if(cors)
    cors_free();
  close(lfd);
  return -1;
}

void http_stop(int grace_ms)
{
  if(!srv_daemon)
    return;
  /* Stop accepting, then give in-flight requests time to finish. */
  MHD_socket fd = MHD_quiesce_daemon(srv_daemon);
  if(fd != MHD_INVALID_SOCKET)
    close(fd);
  /* WebSockets never finish by themselves: close them (1001) first, so
   * their requests complete and the wait below is for real requests. */
  http_ws_stop();
  for(int waited = 0; waited < grace_ms && atomic_load(&srv_inflight) > 0; waited += 20)
    usleep(20 * 1000);
  /* Deferred work still queued runs now and resumes its requests, so no
   * connection is left suspended when the daemon stops. */
  http_defer_stop();
  MHD_stop_daemon(srv_daemon);
  srv_daemon = NULL;
  conn_limit_free();
  cors_free();
}

void http_suspend(struct http_req *r)
{
  if(!r->suspended) {
    r->suspended = true;
    MHD_suspend_connection(r->conn);
  }
}

void http_resume(struct http_req *r)
{
  if(r->suspended) {
    r->suspended = false;
    MHD_resume_connection(r->conn);
  }
}
