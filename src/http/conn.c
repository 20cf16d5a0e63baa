/* conn: a connection's state machine. head -> (route, in request.c) ->
 * body (Content-Length or chunked; "100 Continue" once the route took it)
 * -> handler -> reply (head, then a buffer or a reader's blocks) -> the next
 * request, pipelined bytes first. Every socket is non-blocking and every
 * step returns when the socket would block; the connection's buffers are
 * freed as soon as the step that needed them is over. */
#include "http/conn.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "util/log.h"

#define CONN_HEAD_FIRST 4096   /* a head's buffer to begin with */
#define CONN_HEAD_MAX (HTTP_URI_MAX + HTTP_HEAD_MAX + 1024)
#define CONN_SMALL_READ (16 * 1024)  /* read size of a small (JSON, form) body */
#define CONN_LINGER_MAX_MS 30000     /* discarding an unread body at most this long */

static enum conn_timer conn_timer_class(const struct http_conn *c)
{
  if(c->state == CS_LINGER)
    return CT_LINGER;
  if(c->state != CS_HEAD && c->req && req_long(c->req))
    return CT_LONG;
  return CT_SHORT;
}

/* Progress: the connection's silence starts again, except while a head is
 * arriving (a head must come whole within the short timeout). */
void conn_progress(struct http_conn *c)
{
  if(c->state == CS_HEAD && c->head_started)
    return;
  loop_touch(c, conn_timer_class(c));
}

bool conn_idle(const struct http_conn *c)
{
  return c->state == CS_HEAD && !c->req && c->in_len == c->in_off && !c->suspended;
}

static void conn_in_drop(struct http_conn *c)
{
  free(c->in);
  c->in = NULL;
  c->in_len = c->in_cap = c->in_off = c->scan = 0;
}

static void conn_out_drop(struct http_conn *c)
{
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = 0;
  c->odata = NULL;
  c->odata_len = c->odata_off = 0;
  free(c->blk);
  c->blk = NULL;
  http_response_free(c->resp);
  c->resp = NULL;
}

void conn_free(struct http_conn *c)
{
  conn_out_drop(c);
  if(c->req) {
    req_close(c->req, false);
    c->req = NULL;
  }
  conn_in_drop(c);
  free(c->bbuf);
  c->bbuf = NULL;
}

/* recv into p; returns bytes, 0 at EOF, -1 would block, -2 error. */
static ssize_t conn_recv(struct http_conn *c, char *p, size_t n)
{
  for(;;) {
    ssize_t got = recv(c->fd, p, n, 0);
    if(got >= 0)
      return got;
    if(errno == EINTR)
      continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
  }
}

/* The reply went out whole: end the request, then the next one. */
static enum step conn_reply_done(struct http_conn *c)
{
  struct http_req *r = c->req;
  bool keep = c->keep;
  if(c->resp->upgrade) {
    struct http_response *resp = c->resp;
    int fd = c->fd;
    c->resp = NULL;
    http_upgrade_fn fn = resp->upgrade;
    void *cls = resp->cls;
    resp->upgrade = NULL;
    http_response_free(resp);
    struct http_slot slot;
    loop_detach(c, &slot);   /* the socket's from here on, with its slots */
    fn(cls, r, c->in ? c->in + c->in_off : NULL, c->in ? c->in_len - c->in_off : 0, fd, slot);
    c->req = NULL;
    req_close(r, true);
    conn_out_drop(c);
    conn_in_drop(c);
    return STEP_CLOSED;
  }
  conn_out_drop(c);
  c->req = NULL;
  req_close(r, true);
  if(!keep) {
    if(c->close_after) {
      /* Unread bytes would turn our close into a reset that may destroy
       * the reply before the client reads it: read and drop them for a
       * while first. */
      shutdown(c->fd, SHUT_WR);
      c->state = CS_LINGER;
      c->linger_until = loop_now_ms() + CONN_LINGER_MAX_MS;
      conn_in_drop(c);
      loop_touch(c, CT_LINGER);
      return STEP_AGAIN;
    }
    loop_close(c);
    return STEP_CLOSED;
  }
  c->state = CS_HEAD;
  c->head_started = false;
  c->continue_sent = c->close_after = c->body_to_read = false;
  if(c->in_off == c->in_len)
    conn_in_drop(c);   /* idle: nothing held but the struct */
  else if(c->in_off) {
    /* A pipelined request: keep only its bytes. */
    size_t n = c->in_len - c->in_off;
    char *p = malloc(n > CONN_HEAD_FIRST ? n : CONN_HEAD_FIRST);
    if(!p) {
      loop_close(c);
      return STEP_CLOSED;
    }
    memcpy(p, c->in + c->in_off, n);
    free(c->in);
    c->in = p;
    c->in_len = n;
    c->in_cap = n > CONN_HEAD_FIRST ? n : CONN_HEAD_FIRST;
    c->in_off = 0;
    c->scan = 0;
  }
  loop_touch(c, CT_SHORT);
  if(c->in) {
    /* Pipelined requests wait their turn behind the thread's other
     * connections: one client's batch never holds the thread. */
    c->suspended = true;
    http_conn_resume(c);
    return STEP_PAUSE;
  }
  return STEP_AGAIN;
}

static enum step conn_write_step(struct http_conn *c)
{
  if(!c->resp) {
    c->resp = c->req->resp;
    c->req->resp = NULL;
    if(!c->resp || conn_reply_head(c) != 0) {
      loop_close(c);
      return STEP_CLOSED;
    }
    conn_progress(c);
  }
  for(;;) {
    enum step s = conn_flush(c);
    if(s != STEP_AGAIN)
      return s;
    if(c->resp_eof)
      return conn_reply_done(c);
    if((s = conn_produce(c)) != STEP_AGAIN)
      return s;
  }
}

/* Moves to writing the reply the request made. An early reply (the body
 * not read whole) closes the connection after it. */
static enum step conn_to_write(struct http_conn *c)
{
  /* A refusal (framing, a bad head) may leave the client's bytes unread
   * too: both close after a linger. */
  if(c->body_to_read || (c->req->resp && c->req->resp->close))
    c->close_after = true;
  free(c->bbuf);
  c->bbuf = NULL;
  c->state = CS_WRITE;
  return STEP_AGAIN;
}

/* ---- the request head ---- */

static enum step conn_head_step(struct http_conn *c)
{
  if(c->in_len > c->in_off) {
    size_t hl = h1_head_end(c->in + c->in_off, c->in_len - c->in_off, &c->scan);
    if(hl) {
      /* The head's bytes go to the request; what follows stays here. */
      char *head = c->in, *rest = NULL;
      size_t rest_len = c->in_len - c->in_off - hl;
      if(c->in_off) {
        head = malloc(hl + 1);
        if(head)
          memcpy(head, c->in + c->in_off, hl);
      }
      if(head && rest_len && !(rest = malloc(rest_len)))
        head = head == c->in ? head : (free(head), NULL);
      if(!head) {
        loop_close(c);
        return STEP_CLOSED;
      }
      if(rest)
        memcpy(rest, c->in + c->in_off + hl, rest_len);
      if(head != c->in)
        free(c->in);
      c->in = rest;
      c->in_len = c->in_cap = rest_len;
      c->in_off = c->scan = 0;
      c->state = CS_BEGIN;
      loop_touch(c, CT_SHORT);
      c->req = req_open(c, head, hl);
      if(!c->req) {
        loop_close(c);
        return STEP_CLOSED;
      }
      conn_progress(c);
      c->body_to_read = c->req->chunked || c->req->body_length;
      c->body_left = c->req->body_length;
      memset(&c->ck, 0, sizeof(c->ck));
      return STEP_AGAIN;
    }
    if(c->in_len - c->in_off >= CONN_HEAD_MAX) {
      /* No room left for the head: refuse it, read nothing more. */
      const char *detail;
      unsigned st = h1_head_overflow(c->in + c->in_off, c->in_len - c->in_off, &detail);
      c->req = req_refuse(c, st, detail);
      if(!c->req) {
        loop_close(c);
        return STEP_CLOSED;
      }
      conn_in_drop(c);
      c->body_to_read = true;   /* the rest of the head: linger */
      return conn_to_write(c);
    }
  }
  /* Read more. An idle connection reads into the thread's scratch buffer
   * and keeps only what came. */
  if(c->in_off && c->in_off == c->in_len)
    conn_in_drop(c);
  if(!c->in) {
    char *s = loop_scratch();
    ssize_t n = conn_recv(c, s, LOOP_SCRATCH);
    if(n == -1)
      return STEP_WAIT_IN;
    if(n <= 0) {
      loop_close(c);
      return STEP_CLOSED;
    }
    size_t cap = (size_t)n > CONN_HEAD_FIRST ? (size_t)n : CONN_HEAD_FIRST;
    if(!(c->in = malloc(cap))) {
      loop_close(c);
      return STEP_CLOSED;
    }
    memcpy(c->in, s, (size_t)n);
    c->in_len = (size_t)n;
    c->in_cap = cap;
    loop_touch(c, CT_SHORT);
    c->head_started = true;
    return STEP_AGAIN;
  }
  if(c->in_len == c->in_cap) {
    size_t cap = c->in_cap * 2 < CONN_HEAD_FIRST ? CONN_HEAD_FIRST : c->in_cap * 2;
    if(cap > CONN_HEAD_MAX)
      cap = CONN_HEAD_MAX;
    if(c->in_len - c->in_off >= CONN_HEAD_MAX || cap <= c->in_cap)
      return STEP_AGAIN;   /* (overflow handled above) */
    char *p = realloc(c->in, cap);
    if(!p) {
      loop_close(c);
      return STEP_CLOSED;
    }
    c->in = p;
    c->in_cap = cap;
  }
  ssize_t n = conn_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
  if(n == -1)
    return STEP_WAIT_IN;
  if(n <= 0) {
    loop_close(c);
    return STEP_CLOSED;
  }
  if(!c->head_started) {
    loop_touch(c, CT_SHORT);
    c->head_started = true;
  }
  c->in_len += (size_t)n;
  return STEP_AGAIN;
}

/* After req_open, or a `begin` deferral's resume. */
static enum step conn_begin_step(struct http_conn *c)
{
  struct http_req *r = c->req;
  if(r->deferral && !r->replied)
    req_begin_done(r);
  if(r->replied)
    return conn_to_write(c);
  if(c->suspended)
    return STEP_PAUSE;
  if(!c->body_to_read) {
    c->state = CS_HANDLER;
    return STEP_AGAIN;
  }
  c->state = CS_BODY;
  conn_progress(c);
  if(r->expect_continue && !r->http10 && !c->continue_sent && c->in_len == c->in_off) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->continue_sent = true;
    /* The socket's buffer is empty at this point: a short write is all
     * that could happen, and the client then sends its body anyway. */
    if(send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
      loop_close(c);
      return STEP_CLOSED;
    }
  }
  return STEP_AGAIN;
}

/* ---- the body ---- */

/* Hands decoded body bytes to the request; false when it stopped reading
 * (replied, or suspended). */
static bool conn_deliver(struct http_conn *c, const char *p, size_t n)
{
  if(n)
    req_body(c->req, p, n);
  return !c->req->replied && !c->suspended;
}

/* Frames body bytes at p[0, n): returns how many belong to the body and
 * delivers them; *done when the body ended. -1 for a malformed chunk. */
static long conn_body_bytes(struct http_conn *c, char *p, size_t n, bool *done)
{
  size_t used, data;
  if(c->req->chunked) {
    used = h1_chunked_run(&c->ck, p, n, &data);
    if(c->ck.error)
      return -1;
    *done = c->ck.done;
  }
  else {
    used = data = n < c->body_left ? n : (size_t)c->body_left;
    c->body_left -= used;
    *done = c->body_left == 0;
  }
  if(*done)
    c->body_to_read = false;
  conn_deliver(c, p, data);
  return (long)used;
}

static enum step conn_body_bad(struct http_conn *c)
{
  c->body_to_read = false;
  http_add_header(c->req, HTTP_HEADER_CONNECTION, "close");
  http_reply_error(c->req, HTTP_BAD_REQUEST, "Malformed chunked body");
  c->close_after = true;
  return conn_to_write(c);
}

static enum step conn_body_step(struct http_conn *c)
{
  struct http_req *r = c->req;
  bool done = false;
  if(r->replied)
    return conn_to_write(c);
  if(c->suspended)
    return STEP_PAUSE;
  /* Bytes that came with the head first. */
  if(c->in_len > c->in_off) {
    long used = conn_body_bytes(c, c->in + c->in_off, c->in_len - c->in_off, &done);
    if(used < 0)
      return conn_body_bad(c);
    c->in_off += (size_t)used;
    if(c->in_off == c->in_len)
      conn_in_drop(c);
  }
  else if(!c->body_to_read)
    done = true;
  else {
    if(!c->bbuf) {
      size_t cap = r->route && r->route->stream ? loop_upload_buffer() : CONN_SMALL_READ;
      if(!r->chunked && c->body_left < cap)
        cap = (size_t)c->body_left;
      if(!(c->bbuf = malloc(cap))) {
        loop_close(c);
        return STEP_CLOSED;
      }
      c->bbuf_cap = cap;
    }
    size_t want = c->bbuf_cap;
    if(!r->chunked && c->body_left < want)
      want = (size_t)c->body_left;
    ssize_t n = conn_recv(c, c->bbuf, want);
    if(n == -1)
      return STEP_WAIT_IN;
    if(n <= 0) {   /* the client left mid-body: no reply */
      loop_close(c);
      return STEP_CLOSED;
    }
    conn_progress(c);
    long used = conn_body_bytes(c, c->bbuf, (size_t)n, &done);
    if(used < 0)
      return conn_body_bad(c);
    if((size_t)used < (size_t)n) {   /* a chunked body ended: the rest is the next request */
      size_t rest = (size_t)n - (size_t)used;
      if(!(c->in = malloc(rest))) {
        loop_close(c);
        return STEP_CLOSED;
      }
      memcpy(c->in, c->bbuf + used, rest);
      c->in_len = c->in_cap = rest;
      c->in_off = 0;
    }
  }
  if(r->replied)
    return conn_to_write(c);
  if(done) {
    free(c->bbuf);
    c->bbuf = NULL;
    if(c->suspended) {   /* `data` paused it with the last piece */
      c->state = CS_HANDLER;
      return STEP_PAUSE;
    }
    c->state = CS_HANDLER;
  }
  return STEP_AGAIN;
}

static enum step conn_linger_step(struct http_conn *c)
{
  ssize_t n = conn_recv(c, loop_scratch(), LOOP_SCRATCH);
  if(n == -1)
    return STEP_WAIT_IN;
  if(n <= 0 || loop_now_ms() > c->linger_until) {
    loop_close(c);
    return STEP_CLOSED;
  }
  loop_touch(c, CT_LINGER);
  return STEP_AGAIN;
}

void conn_run(struct http_conn *c)
{
  for(;;) {
    enum step s;
    if(c->suspended) {
      loop_watch(c, 0);
      loop_touch(c, CT_NONE);   /* a suspended connection does not time out */
      return;
    }
    switch(c->state) {
    case CS_HEAD: s = conn_head_step(c); break;
    case CS_BEGIN: s = conn_begin_step(c); break;
    case CS_BODY: s = conn_body_step(c); break;
    case CS_HANDLER:
      req_run(c->req);
      if(c->req->replied)
        s = conn_to_write(c);
      else
        s = STEP_PAUSE;
      break;
    case CS_WRITE: s = conn_write_step(c); break;
    default: s = conn_linger_step(c); break;
    }
    switch(s) {
    case STEP_AGAIN:
      continue;
    case STEP_WAIT_IN:
      loop_watch(c, EPOLLIN);
      if(c->tclass == CT_NONE)
        conn_progress(c);
      return;
    case STEP_WAIT_OUT:
      loop_watch(c, EPOLLOUT);
      if(c->tclass == CT_NONE)
        conn_progress(c);
      return;
    case STEP_PAUSE:
      if(!c->suspended) {
        log_error("http: a request paused without suspending its connection");
        loop_close(c);
        return;
      }
      continue;
    case STEP_CLOSED:
      return;
    }
  }
}
