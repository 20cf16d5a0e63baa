/* jsonw: see jsonw.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "util/jsonw.h"

int jsonw_raw(buf_t *b, const char *s)
{
  return buf_puts(b, s);
}

/* Bytes a JSON string holds as they are: everything but the controls, the
 * quote and the backslash (UTF-8 passes through). */
static inline int jsonw_plain(unsigned char c)
{
  return c >= 0x20 && c != '"' && c != '\\';
}

/* The general case, one escape or more: runs copied whole between them. */
static int jsonw_str_escaped(buf_t *b, const char *s)
{
  int rc = buf_append(b, "\"", 1);
  const char *run = s;
  for(const char *p = s; rc == BUF_OK && *p; p++) {
    unsigned char c = (unsigned char)*p;
    const char *esc = NULL;
    char seq[8];
    if(jsonw_plain(c))
      continue;   /* part of the run copied as it is */
    switch(c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    default:
      snprintf(seq, sizeof(seq), "\\u%04X", c);
      esc = seq;
    }
    rc = buf_append(b, run, (size_t)(p - run));
    if(rc == BUF_OK)
      rc = buf_puts(b, esc);
    run = p + 1;
  }
  if(rc == BUF_OK)
    rc = buf_append(b, run, strlen(run));
  if(rc == BUF_OK)
    rc = buf_append(b, "\"", 1);
  return rc;
}

int jsonw_str(buf_t *b, const char *s)
{
  /* Names, ids and timestamps rarely need an escape: find that out in one
   * pass, then write the quoted string with a single copy. */
  size_t n = 0;
  while(jsonw_plain((unsigned char)s[n]))
    n++;
  if(s[n])
    return jsonw_str_escaped(b, s);
  int rc = buf_reserve(b, b->len + n + 2);
  if(rc != BUF_OK)
    return rc;
  char *d = b->data + b->len;
  d[0] = '"';
  memcpy(d + 1, s, n);
  d[n + 1] = '"';
  d[n + 2] = 0;
  b->len += n + 2;
  return BUF_OK;
}

int jsonw_key(buf_t *b, const char *key)
{
  int rc = jsonw_str(b, key);
  return rc == BUF_OK ? buf_append(b, ":", 1) : rc;
}

int jsonw_opt_str(buf_t *b, const char *s)
{
  return s && *s ? jsonw_str(b, s) : jsonw_null(b);
}

int jsonw_int(buf_t *b, int64_t v)
{
  /* Digits by hand, from the right (printf costs more than the rest of a
   * number's writing); the magnitude as unsigned, so INT64_MIN works. */
  char num[24], *p = num + sizeof(num);
  uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do
    *--p = (char)('0' + m % 10);
  while((m /= 10) != 0);
  if(v < 0)
    *--p = '-';
  return buf_append(b, p, (size_t)(num + sizeof(num) - p));
}

int jsonw_bool(buf_t *b, bool v)
{
  return buf_puts(b, v ? "true" : "false");
}

int jsonw_null(buf_t *b)
{
  return buf_puts(b, "null");
}
