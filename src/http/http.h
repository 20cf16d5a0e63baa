/* http: the HTTP layer, on our own HTTP/1.1 engine (loop.c, conn.c,
 * h1parse.c). A route table maps method + path
 * pattern ("/api/v1/folders/{id}/path") to a handler; the core creates one
 * request context per request, runs authentication for routes that need it,
 * collects small bodies (JSON/form, capped) or streams big ones to the route,
 * adds the common headers (X-Request-Id, nosniff, CORS) to every reply, writes
 * one access-log line, and frees the context in one place when the request ends. */
#ifndef NETRA_HTTP_H
#define NETRA_HTTP_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "http/response.h"
#include "http/status.h"
#include "util/buf.h"

#define HTTP_BODY_MAX (64 * 1024)  /* small bodies: JSON and forms */
#define HTTP_HEAD_MAX (32 * 1024)  /* a request's header fields, as nginx's 4 x 8k */
#define HTTP_URI_MAX (16 * 1024)   /* its path and query */
#define HTTP_LONG_TIMEOUT 300     /* s without progress, for a body being sent or received */
#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_EXTRA_HEADERS 8

struct http_req;
struct http_conn;
struct h1_head;
struct cidr_list;
struct sockaddr;

/** A handler answers by calling one of the http_reply_* functions. Its return
 *  value is ignored when it replied; when it did not, the core answers 500. */
typedef int (*http_handler_fn)(struct http_req *r);

/** Streaming body routes (uploads). `begin` runs once the headers are in and
 *  auth passed: it may reply at once (an error before the body is read) or
 *  return 0 to receive the body. `data` gets and consumes each piece; it may
 *  call http_suspend() to hold back the next piece until http_resume().
 *  `end` runs when the body is complete and must reply, or suspend and
 *  return HTTP_PENDING: it then runs again after http_resume(). `abort` runs when the request ends
 *  without `end` having completed (client gone, error, shutdown). */
#define HTTP_PENDING 1

struct http_stream_ops {
  int (*begin)(struct http_req *r);
  int (*data)(struct http_req *r, const char *data, size_t len);
  int (*end)(struct http_req *r);
  void (*abort)(struct http_req *r);
};

enum {
  HTTP_AUTH = 1 << 0,        /* needs a valid access token */
  HTTP_PUBLIC_CACHE = 1 << 1, /* reserved */
  HTTP_LONG = 1 << 2,         /* streams a big reply: the long timeout, as body routes */
  HTTP_PREFIX = 1 << 3        /* the pattern (literal) matches itself and every path below it */
};

struct http_route {
  const char *method;  /* "GET", "POST", ... ; GET routes also answer HEAD; "*" any method
                        * (OPTIONS included: no CORS preflight for it) */
  const char *pattern; /* literal segments and {param} segments */
  http_handler_fn handler;
  unsigned flags;
  const struct http_stream_ops *stream; /* non-NULL: streaming body route */
};

struct http_header {
  char *name;
  char *value;
};

/** A query argument, decoded ('+' is space, "%00" kept literal). */
struct http_arg {
  const char *key;
  const char *value;   /* NULL for "?key" without '=' */
  size_t value_len;
};

struct http_req {
  struct http_conn *conn;
  const char *method;
  char *path;               /* normalised: no trailing slash except "/" */
  char request_id[24];
  int64_t start_us;
  const struct http_route *route;
  int nparams;
  const char *param_names[HTTP_MAX_PARAMS];
  char *param_values[HTTP_MAX_PARAMS];
  buf_t body;               /* small bodies only */
  bool body_too_big;
  bool replied;
  bool stream_done;         /* `end` was called */
  bool suspended;
  bool in_body;             /* inside a streaming route's `data` */
  struct http_response *resp; /* the reply, until the connection takes it */
  unsigned status;
  uint64_t bytes_in;
  uint64_t bytes_out;       /* the reply body's length (what a complete reply sends) */
  const char *cors_origin;  /* the allowed Origin to echo, or NULL */
  void *auth;               /* HTTP_AUTH routes: what the auth hook made (opaque here) */
  int nextra;
  struct http_header extra[HTTP_MAX_EXTRA_HEADERS];
  void *ctx;                /* route state (streaming), freed with ctx_free */
  void (*ctx_free)(void *ctx);
  struct http_deferral *deferral; /* http_defer() work in flight (defer.c) */
  /* What the connection parsed (request.c): the head lives in `head_buf`. */
  char *head_buf;
  struct h1_head *head;
  char *arg_buf;
  int nargs;
  struct http_arg *args;
  bool http10;              /* an HTTP/1.0 request */
  bool is_head;             /* HEAD: the reply carries no body */
  bool keep_alive;          /* the client allows another request on the connection */
  bool expect_continue;     /* Expect: 100-continue */
  bool chunked;             /* the body is chunked ... */
  uint64_t body_length;     /* ... or this long (Content-Length; 0: none) */
};

/** Validates a bearer token; on success stores what the handlers need to
 *  know about the caller in *auth (freed with http_options.auth_free when
 *  the request ends) and returns 0; -1 for a token it refuses (401), or
 *  HTTP_AUTH_UNAVAILABLE when it could not check (its database is down:
 *  503 "Database unavailable"). Set once by the api layer. */
#define HTTP_AUTH_UNAVAILABLE (-2)
typedef int (*http_auth_fn)(struct http_req *r, const char *token, void **auth);

struct http_options {
  int listen_fd;            /* from http_listen_open (http/listen.h); taken by http_start */
  const char *host;         /* for messages */
  int port;
  int threads;
  const char *cors_origins; /* comma list, "*" allowed, NULL/"" = none */
  const struct cidr_list *trusted_proxies; /* whose forwarding headers to believe; NULL = none */
  int max_connections;        /* open connections in all */
  int max_connections_per_ip; /* per peer address (IPv6: /64), 0 = no limit; trusted proxies exempt */
  int keepalive_timeout;      /* s: idle keep-alive or a head not yet in; bodies get HTTP_LONG_TIMEOUT */
  size_t connection_memory;   /* an upload body's read buffer (CONNECTION_MEMORY) */
  int ws_max;                 /* open WebSockets in all (websocket.h) */
  int ws_ping_ms;             /* their heartbeat interval */
  http_auth_fn auth;
  void (*auth_free)(void *auth);   /* frees what `auth` stored */
  const char *(*auth_user)(const void *auth); /* the caller's id, for the access log */
  const struct http_route *const *tables; /* NULL-terminated list of route tables */
};

/** Starts the daemon on opt->listen_fd, which it owns from then on (closed
 *  on failure too). Returns 0, or -1 with a message in err. */
int http_start(const struct http_options *opt, char *err, size_t errlen);
/** Stops accepting, lets in-flight requests finish (up to `grace_ms`), stops. */
void http_stop(int grace_ms);

/* ---- request accessors ---- */
/** The value of path parameter `name`, or "" when absent. */
const char *http_param(const struct http_req *r, const char *name);
/** The query-string value of `key`, or NULL. */
const char *http_query(const struct http_req *r, const char *key);
/** Like http_query, and sets *len to the decoded length (the unescape step
 *  keeps "%00" literal, so a value never holds a NUL byte). */
const char *http_query_n(const struct http_req *r, const char *key, size_t *len);
/** A request header, or NULL. */
const char *http_header(const struct http_req *r, const char *name);
/** The client address as text ("127.0.0.1"): the TCP peer's, or, when the
 *  peer is a trusted proxy, the one its forwarding headers name
 *  (http/client_addr.h). */
void http_client_addr(const struct http_req *r, char *out, size_t outsz);

/** Parses the small body as a JSON object. On failure it replies (415 wrong
 *  content type, 422 malformed) and returns NULL. With `optional`, an empty
 *  body yields an empty object. Caller json_decref()s. */
json_t *http_json_body(struct http_req *r, bool optional);
/** Reads field `key` of an application/x-www-form-urlencoded body into out
 *  (decoded). Returns 0 found, 1 absent, -1 too long or malformed. */
int http_form_get(const struct http_req *r, const char *key, char *out, size_t outsz);
/** True when the request's Content-Type media type equals `type`. */
bool http_content_type_is(const struct http_req *r, const char *type);

/* ---- replies ---- */
/** Adds a header to the reply to come (copied). */
void http_add_header(struct http_req *r, const char *name, const char *value);
/** Replies with a JSON body; steals the reference to `body`. */
int http_reply_json(struct http_req *r, unsigned status, json_t *body);
/** Replies with JSON text already written into `body` (taken over: the
 *  buffer is left empty). */
int http_reply_json_text(struct http_req *r, unsigned status, buf_t *body);
/** Replies {"detail": detail}. */
int http_reply_error(struct http_req *r, unsigned status, const char *detail);
/** Replies {"detail": "Item not found"}-style 404. */
int http_reply_not_found(struct http_req *r, const char *what);
/** Replies with a prepared response after adding the common headers; the
 *  response is taken over (freed here on failure). */
int http_reply_response(struct http_req *r, unsigned status, struct http_response *resp);
/** Records the length of the body a response made outside reply.c carries
 *  (the access log's `out`). */
void http_set_body_size(struct http_req *r, uint64_t n);

/* ---- deferred work (ordinary handlers) ---- */
/** Runs on a pool thread, away from the poll threads: slow CPU work only
 *  (it must not touch the request). */
typedef void (*http_work_fn)(void *arg);
/** Runs once after `work`, on the request's thread: replies (as a handler
 *  does) and frees `arg`. With r == NULL it only frees `arg`: the request is
 *  gone, or the pool was full and the core has answered 429 itself. */
typedef void (*http_done_fn)(struct http_req *r, void *arg);
/** Defers an ordinary handler: suspends the connection, runs work(arg) on
 *  the background pool (one thread per core, bounded queue) and then
 *  done(r, arg). The handler returns what this returns (HTTP_PENDING) and
 *  touches neither `arg` nor the reply afterwards. When the queue is full
 *  the request is answered 429 {"detail": "Server busy. Try again later."}
 *  with Retry-After: 1, and `work` does not run. */
int http_defer(struct http_req *r, http_work_fn work, http_done_fn done, void *arg);

/* A streaming route's `begin` may defer too (checking a password): the core
 * calls `done` before the next body piece or `end`, and drops the body if
 * `done` replied. Its `end` may defer (a long write): the core calls `done`
 * in place of running `end` again. */

/** Suspends/resumes a streaming request's connection (backpressure).
 *  http_suspend runs on the request's own thread; http_resume on any. */
void http_suspend(struct http_req *r);
void http_resume(struct http_req *r);
/** The same for a connection: a response reader that returns 0 has called
 *  http_conn_suspend; whoever has its bytes calls http_conn_resume (any
 *  thread). A resume that finds the connection running is dropped. */
void http_conn_suspend(struct http_conn *c);
void http_conn_resume(struct http_conn *c);
/** The TCP peer's address (for conn_limit, logs); NULL when unknown. */
const struct sockaddr *http_conn_peer(const struct http_conn *c);

/* ---- router (exposed for unit tests) ---- */
/** Result of matching a path against the tables. */
enum http_match { HTTP_MATCH_OK = 0, HTTP_MATCH_NONE, HTTP_MATCH_METHOD };
/** Matches method+path; on OK fills r->route and path params (pointing into
 *  a copy owned by r). Paths are compared after normalisation. */
enum http_match http_route_match(const struct http_route *const *tables, const char *method,
                                 struct http_req *r);
/** Normalises a request path in place: collapses a trailing '/' (except "/"). */
void http_path_normalize(char *path);

/** Counters for /metrics. */
struct http_stats {
  uint64_t requests;
  uint64_t bytes_in;
  uint64_t inflight;
};
void http_stats_get(struct http_stats *out);

#endif
