/* reply: request accessors (params, query, headers, small bodies) and the
 * replies with the headers every response carries. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http/http.h"
#include "http/cors.h"
#include "http/h1parse.h"
#include "util/jsonx.h"
#include "util/log.h"

static const struct http_arg *reply_arg(const struct http_req *r, const char *key)
{
  for(int i = 0; i < r->nargs; i++)
    if(!strcmp(r->args[i].key, key))
      return &r->args[i];
  return NULL;
}

const char *http_query(const struct http_req *r, const char *key)
{
  const struct http_arg *a = reply_arg(r, key);
  return a ? a->value : NULL;
}

const char *http_query_n(const struct http_req *r, const char *key, size_t *len)
{
  const struct http_arg *a = reply_arg(r, key);
  *len = a && a->value ? a->value_len : 0;
  return a ? a->value : NULL;
}

const char *http_header(const struct http_req *r, const char *name)
{
  return r->head ? h1_field(r->head, name) : NULL;
}

bool http_content_type_is(const struct http_req *r, const char *type)
{
  const char *ct = http_header(r, HTTP_HEADER_CONTENT_TYPE);
  if(!ct)
    return false;
  while(*ct == ' ')
    ct++;
  size_t n = strlen(type);
  if(strncasecmp(ct, type, n) != 0)
    return false;
  return ct[n] == 0 || ct[n] == ';' || ct[n] == ' ';
}

json_t *http_json_body(struct http_req *r, bool optional)
{
  char err[160];
  if(optional && r->body.len == 0)
    return json_object();
  if(!http_content_type_is(r, "application/json")) {
    http_reply_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    return NULL;
  }
  /* NULs inside strings parse; jsonx_get_str then refuses those values. */
  json_t *j = jsonx_parse_object_ex(r->body.data ? r->body.data : "", r->body.len,
                                    JSONX_ALLOW_NUL, err, sizeof(err));
  if(!j) {
    char detail[200];
    /* A syntax error is only its place, "(line L, column C)". */
    const char *sep = err[0] == '(' ? " " : ": ";
    snprintf(detail, sizeof(detail), "Malformed JSON body%s%s", sep, err);
    http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT, detail);
  }
  return j;
}

static int hexval(int c)
{
  if(c >= '0' && c <= '9') return c - '0';
  if(c >= 'a' && c <= 'f') return c - 'a' + 10;
  if(c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes one x-www-form-urlencoded token ('+' is space, %XX escapes). */
static int form_decode(const char *s, size_t n, char *out, size_t outsz)
{
  size_t o = 0;
  for(size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if(c == '+')
      c = ' ';
    else if(c == '%') {
      if(i + 2 >= n)
        return -1;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if(hi < 0 || lo < 0)
        return -1;
      c = hi * 16 + lo;
      i += 2;
    }
    if(c == 0 || o + 1 >= outsz)
      return -1;
    out[o++] = (char)c;
  }
  out[o] = 0;
  return 0;
}

int http_form_get(const struct http_req *r, const char *key, char *out, size_t outsz)
{
  const char *s = r->body.data ? r->body.data : "";
  const char *end = s + r->body.len;
  char name[64];
  while(s < end) {
    const char *amp = memchr(s, '&', (size_t)(end - s));
    const char *pe = amp ? amp : end;
    const char *eq = memchr(s, '=', (size_t)(pe - s));
    const char *ne = eq ? eq : pe;
    if(form_decode(s, (size_t)(ne - s), name, sizeof(name)) == 0 && !strcmp(name, key)) {
      if(!eq) {
        out[0] = 0;
        return 0;
      }
      return form_decode(eq + 1, (size_t)(pe - eq - 1), out, outsz) == 0 ? 0 : -1;
    }
    s = pe + 1;
  }
  return 1;
}

void http_add_header(struct http_req *r, const char *name, const char *value)
{
  if(r->nextra >= HTTP_MAX_EXTRA_HEADERS)
    return;
  r->extra[r->nextra].name = strdup(name);
  r->extra[r->nextra].value = strdup(value);
  if(!r->extra[r->nextra].name || !r->extra[r->nextra].value) {
    free(r->extra[r->nextra].name);
    free(r->extra[r->nextra].value);
    return;
  }
  r->nextra++;
}

int http_reply_response(struct http_req *r, unsigned status, struct http_response *resp)
{
  if(!resp)
    return -1;
  if(r->replied) {
    http_response_free(resp);
    return -1;
  }
  http_response_header(resp, "X-Request-Id", r->request_id);
  http_response_header(resp, "X-Content-Type-Options", "nosniff");
  cors_add_headers(r, resp);
  for(int i = 0; i < r->nextra; i++)
    http_response_header(resp, r->extra[i].name, r->extra[i].value);
  if(status >= 500)
    log_error("request %s: %s %s -> %u", r->request_id, r->method, r->path, status);
  /* The connection sends it once the handler returns; a reply made before
   * the body was read whole closes the connection after it (conn.c). */
  r->resp = resp;
  r->replied = true;
  r->status = status;
  return 0;
}

void http_set_body_size(struct http_req *r, uint64_t n)
{
  r->bytes_out = n;
}

int http_reply_json(struct http_req *r, unsigned status, json_t *body)
{
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if(!text) {
    text = strdup("{\"detail\":\"Internal server error\"}");
    status = HTTP_INTERNAL_SERVER_ERROR;
    if(!text)
      return -1;
  }
  size_t len = strlen(text);
  struct http_response *resp = http_response_buffer(len, text, HTTP_MEM_MUST_FREE);
  if(!resp) {
    free(text);
    return -1;
  }
  r->bytes_out = len;
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, "application/json");
  return http_reply_response(r, status, resp);
}

int http_reply_json_text(struct http_req *r, unsigned status, buf_t *body)
{
  size_t len = body->len;
  char *text = buf_steal(body);
  if(!text)
    text = strdup("");
  struct http_response *resp =
      text ? http_response_buffer(len, text, HTTP_MEM_MUST_FREE) : NULL;
  if(!resp) {
    free(text);
    return -1;
  }
  r->bytes_out = len;
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, "application/json");
  return http_reply_response(r, status, resp);
}

int http_reply_error(struct http_req *r, unsigned status, const char *detail)
{
  return http_reply_json(r, status, json_pack("{s:s}", "detail", detail));
}

int http_reply_not_found(struct http_req *r, const char *what)
{
  char detail[96];
  snprintf(detail, sizeof(detail), "%s not found", what);
  return http_reply_error(r, HTTP_NOT_FOUND, detail);
}
