/* conn_write: writing a connection's reply (conn.c decides when): the
 * head, then the body from a buffer or block by block from a reader,
 * chunked when its length is unknown, with writev-style sends of head and
 * body together. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include "http/conn.h"
#include "util/log.h"

#define CONN_CHUNK_ROOM 18   /* "%zx\r\n" before a chunk's data */

static void conn_date(char out[40])
{
  static _Thread_local time_t last;
  static _Thread_local char text[40];
  time_t now = time(NULL);
  if(now != last) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  memcpy(out, text, 40);
}

/* Writes the reply's head into c->out and decides how its body goes. */
int conn_reply_head(struct http_conn *c)
{
  struct http_req *r = c->req;
  struct http_response *resp = c->resp;
  unsigned st = r->status;
  bool no_body = r->is_head || st < 200 || st == 204 || st == 304;
  bool unknown = resp->reader && resp->size == HTTP_SIZE_UNKNOWN;
  char date[40];
  buf_t b;
  buf_init(&b, 1 << 20);
  buf_reserve(&b, 512);   /* one allocation for a usual head */
  c->keep = r->keep_alive && !c->close_after && !resp->close && !loop_stopping() &&
            !(unknown && r->http10 && !no_body) && !resp->upgrade;
  c->resp_chunked = unknown && !r->http10 && !no_body;
  c->resp_body = !no_body && !resp->upgrade && (resp->reader || resp->size);
  c->resp_eof = false;
  c->resp_pos = 0;
  conn_date(date);
  const char *reason = http_status_text(st);
  /* HTTP/1.1 to a 1.0 client too (RFC 9110 §6.2: our highest version);
   * what it may not get, chunked coding and implicit keep-alive, is left out. */
  int rc = buf_printf(&b, "HTTP/1.1 %u %s\r\nDate: %s\r\n", st, *reason ? reason : "Status",
                      date);
  if(!resp->upgrade && st >= 200 && st != 204) {
    if(!unknown)
      rc |= buf_printf(&b, "Content-Length: %llu\r\n", (unsigned long long)resp->size);
    else if(c->resp_chunked || (r->is_head && !r->http10))
      rc |= buf_puts(&b, "Transfer-Encoding: chunked\r\n");
  }
  if(!resp->upgrade && !http_response_get(resp, HTTP_HEADER_CONNECTION)) {
    if(!c->keep)
      rc |= buf_puts(&b, "Connection: close\r\n");
    else if(r->http10)
      rc |= buf_puts(&b, "Connection: keep-alive\r\n");
  }
  for(struct http_resp_field *f = resp->fields; f; f = f->next) {
    rc |= buf_puts(&b, f->text);
    rc |= buf_puts(&b, "\r\n");
  }
  rc |= buf_puts(&b, "\r\n");
  if(rc != BUF_OK) {
    buf_free(&b);
    return -1;
  }
  c->out_len = b.len;
  c->out = buf_steal(&b);
  c->out_off = 0;
  if(c->resp_body && !resp->reader) {
    c->odata = resp->data;
    c->odata_len = (size_t)resp->size;
    c->odata_off = 0;
    c->resp_eof = true;
  }
  else if(!c->resp_body)
    c->resp_eof = true;
  return 0;
}

/* Asks the reader for the next block. STEP_AGAIN with data, STEP_PAUSE
 * when it suspended, STEP_CLOSED on an error (the connection is gone). */
enum step conn_produce(struct http_conn *c)
{
  struct http_response *resp = c->resp;
  size_t max = resp->block;
  if(resp->size != HTTP_SIZE_UNKNOWN && resp->size - c->resp_pos < max)
    max = (size_t)(resp->size - c->resp_pos);
  if(!max) {
    c->resp_eof = true;
    return STEP_AGAIN;
  }
  if(!c->blk && !(c->blk = malloc(resp->block + CONN_CHUNK_ROOM + 8))) {
    loop_close(c);
    return STEP_CLOSED;
  }
  char *p = c->blk + CONN_CHUNK_ROOM;
  ssize_t n = resp->reader(resp->cls, c->resp_pos, p, max);
  if(n == 0) {
    if(c->suspended)
      return STEP_PAUSE;
    log_warn("request %s: a reply's reader gave nothing without suspending", c->req->request_id);
    loop_close(c);
    return STEP_CLOSED;
  }
  if(n == HTTP_READER_END_OF_STREAM && resp->size == HTTP_SIZE_UNKNOWN) {
    c->resp_eof = true;
    if(c->resp_chunked) {
      c->odata = "0\r\n\r\n";
      c->odata_len = 5;
      c->odata_off = 0;
    }
    return STEP_AGAIN;
  }
  if(n < 0 || (size_t)n > max) {   /* an error, or a sized body that ended short */
    loop_close(c);
    return STEP_CLOSED;
  }
  c->resp_pos += (uint64_t)n;
  if(c->resp_chunked) {
    char hex[CONN_CHUNK_ROOM + 1];
    int h = snprintf(hex, sizeof(hex), "%zx\r\n", (size_t)n);
    memcpy(p - h, hex, (size_t)h);
    memcpy(p + n, "\r\n", 2);
    c->odata = p - h;
    c->odata_len = (size_t)h + (size_t)n + 2;
  }
  else {
    c->odata = p;
    c->odata_len = (size_t)n;
    if(resp->size != HTTP_SIZE_UNKNOWN && c->resp_pos == resp->size)
      c->resp_eof = true;
  }
  c->odata_off = 0;
  return STEP_AGAIN;
}

/* Writes what is pending. STEP_AGAIN when all of it went out. */
enum step conn_flush(struct http_conn *c)
{
  while(c->out_off < c->out_len || c->odata_off < c->odata_len) {
    struct iovec iov[2];
    int n = 0;
    if(c->out_off < c->out_len)
      iov[n++] = (struct iovec){c->out + c->out_off, c->out_len - c->out_off};
    if(c->odata_off < c->odata_len)
      iov[n++] = (struct iovec){(char *)c->odata + c->odata_off, c->odata_len - c->odata_off};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    if(w < 0) {
      if(errno == EINTR)
        continue;
      if(errno == EAGAIN || errno == EWOULDBLOCK)
        return STEP_WAIT_OUT;
      loop_close(c);
      return STEP_CLOSED;
    }
    size_t left = (size_t)w;
    size_t a = c->out_len - c->out_off < left ? c->out_len - c->out_off : left;
    c->out_off += a;
    left -= a;
    c->odata_off += left;
    conn_progress(c);
  }
  return STEP_AGAIN;
}

