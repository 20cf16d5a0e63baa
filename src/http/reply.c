/* reply: request accessors (params, query, headers, small bodies) and the
 * replies with the headers every response carries. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http/http.h"
#include "http/cors.h"
#include "util/jsonx.h"
#include "util/log.h"

const char *http_query(const struct http_req *r, const char *key)
{
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_query_n(const struct http_req *r, const char *key, size_t *len)
{
  const char *v = NULL;
  *len = 0;
  if(MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, len) !=
     MHD_YES)
    return NULL;
  return v;
}

const char *http_header(const struct http_req *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool http_content_type_is(const struct http_req *r, const char *type)
{
  const char *ct = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
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
    http_reply_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
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
    http_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, detail);
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

int http_reply_response(struct http_req *r, unsigned status, struct MHD_Response *resp)
{
  if(r->replied) {
    MHD_destroy_response(resp);
    return -1;
  }
  MHD_add_response_header(resp, "X-Request-Id", r->request_id);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  cors_add_headers(r, resp);
  for(int i = 0; i < r->nextra; i++)
    MHD_add_response_header(resp, r->extra[i].name, r->extra[i].value);
  if(status >= 500)
    log_error("request %s: %s %s -> %u", r->request_id, r->method, r->path, status);
  if(r->in_body) {
    /* MHD 0.9 only takes a response once the whole body is in (queueing
     * returns MHD_NO meanwhile); the server sends it after the last piece. */
    r->early = resp;
    r->replied = true;
    r->status = status;
    return 0;
  }
  enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  r->replied = true;
  r->status = status;
  return rc == MHD_YES ? 0 : -1;
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
    status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    if(!text)
      return -1;
  }
  size_t len = strlen(text);
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  if(!resp) {
    free(text);
    return -1;
  }
  r->bytes_out = len;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  return http_reply_response(r, status, resp);
}

int http_reply_json_text(struct http_req *r, unsigned status, buf_t *body)
{
  size_t len = body->len;
  char *text = buf_steal(body);
  if(!text)
    text = strdup("");
  struct MHD_Response *resp =
      text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
  if(!resp) {
    free(text);
    return -1;
  }
  r->bytes_out = len;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
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
  return http_reply_error(r, MHD_HTTP_NOT_FOUND, detail);
}
