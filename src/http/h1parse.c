/* h1parse: see h1parse.h. Strict where a lax reading could frame a message
 * otherwise than a proxy in front of us (RFC 9112 §11.2): no whitespace
 * before a field's colon, no obs-fold, no bare CR, CRLF only inside a
 * chunked body. A bare LF ends a head line (§2.2 allows it; clients and
 * test tools send it), which cannot change where a message ends. */
#include "http/h1parse.h"
#include <string.h>
#include <strings.h>
#include "http/http.h"

#define H1_LEAD_MAX 16    /* empty lines tolerated before a request line */
#define H1_EXT_MAX 4096   /* one chunk-size line's extensions */

#define H1_BAD_REQUEST "Malformed request"
#define H1_BAD_NAME "Invalid header field name"
#define H1_BAD_VALUE "Invalid header field value"
#define H1_TOO_BIG "Request header fields too large"
#define H1_URI_TOO_LONG "URI too long"

/* tchar of RFC 9110 §5.6.2. */
static bool h1_tchar(unsigned char c)
{
  if(c >= 'a' && c <= 'z') return true;
  if(c >= 'A' && c <= 'Z') return true;
  if(c >= '0' && c <= '9') return true;
  return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool h1_is_token(const char *s, size_t n)
{
  if(!n)
    return false;
  for(size_t i = 0; i < n; i++)
    if(!h1_tchar((unsigned char)s[i]))
      return false;
  return true;
}

bool h1_list_has(const char *value, const char *token)
{
  size_t tn = strlen(token);
  for(const char *p = value; *p;) {
    while(*p == ' ' || *p == '\t' || *p == ',')
      p++;
    const char *e = p;
    while(*e && *e != ',')
      e++;
    const char *t = e;
    while(t > p && (t[-1] == ' ' || t[-1] == '\t'))
      t--;
    if((size_t)(t - p) == tn && !strncasecmp(p, token, tn))
      return true;
    p = e;
  }
  return false;
}

static size_t h1_lead(const char *buf, size_t len)
{
  size_t n = 0;
  while(n < len && n < H1_LEAD_MAX && (buf[n] == '\r' || buf[n] == '\n'))
    n++;
  return n;
}

size_t h1_head_end(const char *buf, size_t len, size_t *scan)
{
  size_t lead = h1_lead(buf, len);
  size_t i = *scan > lead ? *scan : lead;
  while(i < len) {
    const char *nl = memchr(buf + i, '\n', len - i);
    if(!nl)
      break;
    i = (size_t)(nl - buf);
    /* An empty line: "\n\n" or "\n\r\n", both after the request line began. */
    if(i >= lead + 1 && buf[i - 1] == '\n')
      return i + 1;
    if(i >= lead + 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')
      return i + 1;
    i++;
  }
  *scan = len;
  return 0;
}

unsigned h1_head_overflow(const char *buf, size_t len, const char **detail)
{
  size_t lead = h1_lead(buf, len);
  const char *nl = memchr(buf + lead, '\n', len - lead);
  if(!nl || (size_t)(nl - buf) - lead > HTTP_URI_MAX + 64) {
    *detail = H1_URI_TOO_LONG;
    return 414;
  }
  *detail = H1_TOO_BIG;
  return 431;
}

/* Splits off the line at *p (up to end): returns its length without the
 * terminator, advances *p past it. A CR is only allowed right before the
 * LF. -1 for a bare CR or a NUL. */
static long h1_line(char **p, char *end)
{
  char *s = *p;
  char *nl = memchr(s, '\n', (size_t)(end - s));
  if(!nl)
    return -1;
  char *e = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
  for(char *q = s; q < e; q++)
    if(*q == '\r' || *q == 0)
      return -1;
  *e = 0;
  *p = nl + 1;
  return (long)(e - s);
}

static unsigned h1_bad(const char **detail, const char *what, unsigned status)
{
  *detail = what;
  return status;
}

/* method SP request-target SP HTTP-version (RFC 9112 §3). */
static unsigned h1_request_line(char *line, size_t n, struct h1_head *h, const char **detail)
{
  char *sp1 = memchr(line, ' ', n);
  if(!sp1 || !h1_is_token(line, (size_t)(sp1 - line)))
    return h1_bad(detail, H1_BAD_REQUEST, 400);
  char *t = sp1 + 1;
  char *sp2 = memchr(t, ' ', n - (size_t)(t - line));
  if(!sp2 || sp2 == t)
    return h1_bad(detail, H1_BAD_REQUEST, 400);
  for(char *q = t; q < sp2; q++)
    if((unsigned char)*q <= 0x20 || *q == 0x7f)
      return h1_bad(detail, H1_BAD_REQUEST, 400);
  const char *v = sp2 + 1;
  size_t vn = n - (size_t)(v - line);
  if(vn != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
     v[7] < '0' || v[7] > '9')
    return h1_bad(detail, H1_BAD_REQUEST, 400);
  if(v[5] != '1' || (v[7] != '0' && v[7] != '1'))
    return h1_bad(detail, "HTTP version not supported", 505);
  *sp1 = 0;
  *sp2 = 0;
  h->method = line;
  h->target = t;
  h->uri_len = (size_t)(sp2 - t);
  h->minor = v[7] - '0';
  if(h->uri_len > HTTP_URI_MAX)
    return h1_bad(detail, H1_URI_TOO_LONG, 414);
  /* origin-form, or "*" (OPTIONS), or absolute-form (§3.2.2: a server
   * must accept it); authority-form is for CONNECT, which we lack. */
  if(t[0] != '/' && strcmp(t, "*") != 0 && strncasecmp(t, "http://", 7) != 0 &&
     strncasecmp(t, "https://", 8) != 0)
    return h1_bad(detail, H1_BAD_REQUEST, 400);
  return 0;
}

/* field-name ":" OWS field-value OWS (RFC 9112 §5). */
static unsigned h1_field_line(char *line, size_t n, struct h1_head *h, const char **detail)
{
  if(line[0] == ' ' || line[0] == '\t')   /* obs-fold: refused (§5.2) */
    return h1_bad(detail, H1_BAD_NAME, 400);
  char *colon = memchr(line, ':', n);
  if(!colon)
    return h1_bad(detail, H1_BAD_REQUEST, 400);
  if(!h1_is_token(line, (size_t)(colon - line)))   /* "Content-Length :" too */
    return h1_bad(detail, H1_BAD_NAME, 400);
  char *v = colon + 1, *e = line + n;
  while(v < e && (*v == ' ' || *v == '\t'))
    v++;
  while(e > v && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  for(char *q = v; q < e; q++) {
    unsigned char c = (unsigned char)*q;
    if((c < 0x20 && c != '\t') || c == 0x7f)
      return h1_bad(detail, H1_BAD_VALUE, 400);
  }
  if(h->nfields == H1_FIELDS_MAX)
    return h1_bad(detail, H1_TOO_BIG, 431);
  *colon = 0;
  *e = 0;
  h->fields[h->nfields].name = line;
  h->fields[h->nfields].value = v;
  h->nfields++;
  h->fields_len += (size_t)(colon - line) + (size_t)(e - v) + 4;
  if(h->fields_len > HTTP_HEAD_MAX)
    return h1_bad(detail, H1_TOO_BIG, 431);
  return 0;
}

unsigned h1_head_parse(char *buf, size_t len, struct h1_head *h, const char **detail)
{
  char *p = buf + h1_lead(buf, len), *end = buf + len;
  h->nfields = 0;
  h->fields_len = 0;
  if(memchr(buf, 0, len))
    return h1_bad(detail, H1_BAD_REQUEST, 400);
  char *first = p;
  long n = h1_line(&p, end);
  if(n <= 0)
    return h1_bad(detail, H1_BAD_REQUEST, 400);
  unsigned st = h1_request_line(first, (size_t)n, h, detail);
  if(st)
    return st;
  for(;;) {
    char *line = p;
    n = h1_line(&p, end);
    if(n < 0)
      return h1_bad(detail, H1_BAD_REQUEST, 400);
    if(n == 0)
      return 0;
    if((st = h1_field_line(line, (size_t)n, h, detail)) != 0)
      return st;
  }
}

const char *h1_field(const struct h1_head *h, const char *name)
{
  for(int i = 0; i < h->nfields; i++)
    if(!strcasecmp(h->fields[i].name, name))
      return h->fields[i].value;
  return NULL;
}

/* ---- chunked ---- */

enum { CK_SIZE = 0, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_TRAILER_START,
       CK_TRAILER, CK_TRAILER_LF, CK_LAST_LF };

static int h1_hex(int c)
{
  if(c >= '0' && c <= '9') return c - '0';
  if(c >= 'a' && c <= 'f') return c - 'a' + 10;
  if(c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t ck_fail(struct h1_chunked *st, size_t i)
{
  st->error = true;
  return i;
}

size_t h1_chunked_run(struct h1_chunked *st, char *buf, size_t len, size_t *out)
{
  size_t i = 0, w = 0;
  *out = 0;
  if(st->done || st->error)
    return 0;
  while(i < len) {
    unsigned char c = (unsigned char)buf[i];
    switch(st->state) {
    case CK_SIZE: {
      int d = h1_hex(c);
      if(d >= 0) {
        if(++st->digits > 15)   /* 2^60: no body is that big */
          return ck_fail(st, i);
        st->left = st->left * 16 + (uint64_t)d;
      }
      else if(!st->digits)
        return ck_fail(st, i);
      else if(c == ';' || c == ' ' || c == '\t') {
        st->state = CK_EXT;
        st->line = 0;
      }
      else if(c == '\r')
        st->state = CK_SIZE_LF;
      else
        return ck_fail(st, i);
      i++;
      break;
    }
    case CK_EXT:   /* chunk extensions are read and ignored (§7.1.1) */
      if(c == '\r')
        st->state = CK_SIZE_LF;
      else if((c < 0x20 && c != '\t') || c == 0x7f || ++st->line > H1_EXT_MAX)
        return ck_fail(st, i);
      i++;
      break;
    case CK_SIZE_LF:
      if(c != '\n')
        return ck_fail(st, i);
      i++;
      st->digits = 0;
      st->state = st->left ? CK_DATA : CK_TRAILER_START;
      break;
    case CK_DATA: {
      size_t n = len - i;
      if(n > st->left)
        n = (size_t)st->left;
      if(w != i)
        memmove(buf + w, buf + i, n);
      w += n;
      i += n;
      st->left -= n;
      if(!st->left)
        st->state = CK_DATA_CR;
      break;
    }
    case CK_DATA_CR:
      if(c != '\r')
        return ck_fail(st, i);
      st->state = CK_DATA_LF;
      i++;
      break;
    case CK_DATA_LF:
      if(c != '\n')
        return ck_fail(st, i);
      st->state = CK_SIZE;
      i++;
      break;
    case CK_TRAILER_START:
      if(c == '\r')
        st->state = CK_LAST_LF;
      else if(!h1_tchar(c))   /* obs-fold or junk */
        return ck_fail(st, i);
      else
        st->state = CK_TRAILER;
      if(++st->trailers > HTTP_HEAD_MAX)
        return ck_fail(st, i);
      i++;
      break;
    case CK_TRAILER:   /* trailer fields are read and dropped (§7.1.2) */
      if(c == '\r')
        st->state = CK_TRAILER_LF;
      else if((c < 0x20 && c != '\t') || c == 0x7f)
        return ck_fail(st, i);
      if(++st->trailers > HTTP_HEAD_MAX)
        return ck_fail(st, i);
      i++;
      break;
    case CK_TRAILER_LF:
      if(c != '\n')
        return ck_fail(st, i);
      st->state = CK_TRAILER_START;
      i++;
      break;
    case CK_LAST_LF:
      if(c != '\n')
        return ck_fail(st, i);
      i++;
      st->done = true;
      *out = w;
      return i;
    }
  }
  *out = w;
  return i;
}
