/* response: see response.h. */
#include "http/response.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http/h1parse.h"
#include "http/status.h"

struct http_response *http_response_buffer(size_t len, const void *data, enum http_mem mode)
{
  struct http_response *resp = calloc(1, sizeof(*resp));
  if(!resp)
    return NULL;
  resp->size = len;
  if(mode == HTTP_MEM_PERSISTENT)
    resp->data = data;
  else if(mode == HTTP_MEM_MUST_FREE)
    resp->data = resp->owned = (char *)data;
  else {
    resp->owned = malloc(len ? len : 1);
    if(!resp->owned) {
      free(resp);
      return NULL;
    }
    memcpy(resp->owned, data, len);
    resp->data = resp->owned;
  }
  return resp;
}

struct http_response *http_response_callback(uint64_t size, size_t block, http_reader_fn reader,
                                             void *cls, void (*free_cb)(void *cls))
{
  struct http_response *resp = calloc(1, sizeof(*resp));
  if(!resp)
    return NULL;
  resp->size = size;
  resp->block = block ? block : 16 * 1024;
  resp->reader = reader;
  resp->cls = cls;
  resp->free_cb = free_cb;
  return resp;
}

/* http_response_pages: the reader hands out `out`, refilling it from
 * `more` each time it has all gone. */
struct resp_pages {
  buf_t *out;
  size_t sent;
  bool finished;
  http_page_fn more;
  void *cls;
  void (*free_cb)(void *cls);
};

static ssize_t pages_read(void *arg, uint64_t pos, char *buf, size_t max)
{
  struct resp_pages *p = arg;
  (void)pos;
  while(p->sent == p->out->len) {
    if(p->finished)
      return HTTP_READER_END_OF_STREAM;
    buf_reset(p->out);
    p->sent = 0;
    int rc = p->more(p->cls, p->out);
    if(rc < 0)
      return HTTP_READER_END_WITH_ERROR;
    p->finished = rc == 0;
  }
  size_t n = p->out->len - p->sent < max ? p->out->len - p->sent : max;
  memcpy(buf, p->out->data + p->sent, n);
  p->sent += n;
  return (ssize_t)n;
}

static void pages_free(void *arg)
{
  struct resp_pages *p = arg;
  if(p->free_cb)
    p->free_cb(p->cls);
  free(p);
}

struct http_response *http_response_pages(buf_t *out, http_page_fn more, void *cls,
                                          void (*free_cb)(void *cls))
{
  struct resp_pages *p = calloc(1, sizeof(*p));
  if(!p)
    return NULL;
  *p = (struct resp_pages){.out = out, .more = more, .cls = cls, .free_cb = free_cb};
  struct http_response *resp =
      http_response_callback(HTTP_SIZE_UNKNOWN, 64 * 1024, pages_read, p, pages_free);
  if(!resp)
    free(p);
  return resp;
}

struct http_response *http_response_upgrade(http_upgrade_fn fn, void *cls)
{
  struct http_response *resp = calloc(1, sizeof(*resp));
  if(resp) {
    resp->upgrade = fn;
    resp->cls = cls;
  }
  return resp;
}

static bool resp_value_ok(const char *v)
{
  for(; *v; v++)
    if(*v == '\r' || *v == '\n')
      return false;
  return true;
}

int http_response_header(struct http_response *resp, const char *name, const char *value)
{
  size_t nl = strlen(name), vl = strlen(value);
  if(!resp || !h1_is_token(name, nl) || !resp_value_ok(value))
    return -1;
  struct http_resp_field *f = malloc(sizeof(*f) + nl + vl + 3);
  if(!f)
    return -1;
  f->next = NULL;
  f->name_len = nl;
  memcpy(f->text, name, nl);
  memcpy(f->text + nl, ": ", 2);
  memcpy(f->text + nl + 2, value, vl + 1);
  if(resp->fields_tail)
    resp->fields_tail->next = f;
  else
    resp->fields = f;
  resp->fields_tail = f;
  if(!strcasecmp(name, HTTP_HEADER_CONNECTION) && h1_list_has(value, "close"))
    resp->close = true;
  return 0;
}

const char *http_response_get(const struct http_response *resp, const char *name)
{
  size_t nl = strlen(name);
  for(const struct http_resp_field *f = resp->fields; f; f = f->next)
    if(f->name_len == nl && !strncasecmp(f->text, name, nl))
      return f->text + nl + 2;
  return NULL;
}

void http_response_free(struct http_response *resp)
{
  if(!resp)
    return;
  for(struct http_resp_field *f = resp->fields, *next; f; f = next) {
    next = f->next;
    free(f);
  }
  if(resp->free_cb)
    resp->free_cb(resp->cls);
  free(resp->owned);
  free(resp);
}

const char *http_status_text(unsigned status)
{
  switch(status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 207: return "Multi-Status";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 422: return "Unprocessable Content";
  case 423: return "Locked";
  case 424: return "Failed Dependency";
  case 426: return "Upgrade Required";
  case 428: return "Precondition Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  case 507: return "Insufficient Storage";
  default: return "";
  }
}
