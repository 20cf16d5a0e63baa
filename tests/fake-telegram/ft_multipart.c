/* ft_multipart: streaming multipart/form-data parser.
 *
 * The buffer starts with a virtual CRLF so the first boundary (which RFC 2046
 * allows at the very start) matches the same "\r\n--boundary" delimiter as
 * every later one. While looking for a delimiter we hold back its length
 * minus one bytes, so a delimiter split across two feeds is still found. */
#include "ft_multipart.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

enum { MP_PREAMBLE, MP_AFTER_DELIM, MP_HEADERS, MP_BODY, MP_DONE };

static const char *skip_ws(const char *p)
{
  while(*p == ' ' || *p == '\t')
    p++;
  return p;
}

int ft_mp_header_param(const char *value, const char *key, char *out, size_t outsz)
{
  const char *p = value;
  size_t klen = strlen(key);

  /* skip the leading token (disposition type or media type) */
  p = strchr(p, ';');
  while(p) {
    const char *name;
    size_t nlen, o = 0;
    int match;

    p = skip_ws(p + 1);
    name = p;
    while(*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
      p++;
    nlen = (size_t)(p - name);
    p = skip_ws(p);
    if(*p != '=') {
      /* a parameter without a value: skip it */
      p = strchr(p, ';');
      continue;
    }
    p = skip_ws(p + 1);
    match = nlen == klen && !strncasecmp(name, key, klen);
    if(*p == '"') {
      p++;
      while(*p && *p != '"') {
        char c = *p++;
        if(c == '\\' && *p)
          c = *p++;
        if(match) {
          if(o + 1 >= outsz)
            return -1;
          out[o++] = c;
        }
      }
      if(*p != '"')
        return -1;
      p++;
    }
    else {
      while(*p && *p != ';' && *p != ' ' && *p != '\t') {
        if(match) {
          if(o + 1 >= outsz)
            return -1;
          out[o++] = *p;
        }
        p++;
      }
    }
    if(match) {
      out[o] = '\0';
      return 1;
    }
    p = strchr(p, ';');
  }
  return 0;
}

int ft_mp_init(struct ft_mp *mp, const char *content_type, const struct ft_mp_callbacks *cb,
               void *ud)
{
  char boundary[FT_MP_BOUNDARY_MAX + 1];
  size_t i, blen;

  if(!content_type || strncasecmp(content_type, "multipart/form-data", 19) ||
     (content_type[19] && content_type[19] != ';' && content_type[19] != ' '))
    return -1;
  if(ft_mp_header_param(content_type, "boundary", boundary, sizeof(boundary)) != 1)
    return -1;
  blen = strlen(boundary);
  if(!blen)
    return -1;
  for(i = 0; i < blen; i++)
    if((unsigned char)boundary[i] < 0x20 || (unsigned char)boundary[i] > 0x7e)
      return -1;
  memcpy(mp->delim, "\r\n--", 4);
  memcpy(mp->delim + 4, boundary, blen);
  mp->delim_len = blen + 4;
  memcpy(mp->buf, "\r\n", 2);
  mp->used = 2;
  mp->state = MP_PREAMBLE;
  mp->cb = *cb;
  mp->ud = ud;
  memset(&mp->part, 0, sizeof(mp->part));
  return 0;
}

static void consume(struct ft_mp *mp, size_t n)
{
  memmove(mp->buf, mp->buf + n, mp->used - n);
  mp->used -= n;
}

static int hexval(char c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  c = (char)tolower((unsigned char)c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes an RFC 5987 value (charset'lang'text) into out. */
static int decode_ext_value(const char *v, char *out, size_t outsz)
{
  const char *q = strstr(v, "''");
  size_t o = 0;

  if(!q)
    return -1;
  for(q += 2; *q; q++) {
    char c = *q;
    if(c == '%' && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
      c = (char)(hexval(q[1]) * 16 + hexval(q[2]));
      q += 2;
    }
    if(o + 1 >= outsz)
      return -1;
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

/* Parses the header block hdr[0..len) (CRLF separated lines) into mp->part. */
static int parse_headers(struct ft_mp *mp, char *hdr, size_t len)
{
  struct ft_mp_part *part = &mp->part;
  char *line = hdr, *end = hdr + len;

  memset(part, 0, sizeof(*part));
  while(line < end) {
    char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
    char *colon;
    const char *value;

    if(!eol)
      eol = end;
    *eol = '\0';
    if(memchr(line, '\0', (size_t)(eol - line)))
      return FT_MP_EMALFORMED;
    colon = strchr(line, ':');
    if(!colon)
      return FT_MP_EMALFORMED;
    *colon = '\0';
    value = skip_ws(colon + 1);
    if(!strcasecmp(line, "Content-Disposition")) {
      char ext[FT_MP_FILENAME_MAX * 3];
      int r;

      if(strncasecmp(value, "form-data", 9))
        return FT_MP_EMALFORMED;
      if(ft_mp_header_param(value, "name", part->name, sizeof(part->name)) < 0)
        return FT_MP_EMALFORMED;
      r = ft_mp_header_param(value, "filename", part->filename, sizeof(part->filename));
      if(r < 0)
        return FT_MP_EMALFORMED;
      part->has_filename = r == 1;
      r = ft_mp_header_param(value, "filename*", ext, sizeof(ext));
      if(r < 0 || (r == 1 && decode_ext_value(ext, part->filename, sizeof(part->filename))))
        return FT_MP_EMALFORMED;
      if(r == 1)
        part->has_filename = 1;
    }
    else if(!strcasecmp(line, "Content-Type")) {
      size_t n = strlen(value);
      if(n >= sizeof(part->content_type))
        n = sizeof(part->content_type) - 1;
      memcpy(part->content_type, value, n);
      part->content_type[n] = '\0';
    }
    line = eol + 2;
  }
  return 0;
}

/* Runs the state machine over the buffered bytes as far as they allow. */
static int process(struct ft_mp *mp)
{
  for(;;) {
    switch(mp->state) {
    case MP_PREAMBLE:
    case MP_BODY: {
      char *hit = memmem(mp->buf, mp->used, mp->delim, mp->delim_len);
      size_t n;
      int rc;

      if(hit) {
        n = (size_t)(hit - mp->buf);
        if(mp->state == MP_BODY) {
          if(n && (rc = mp->cb.data(mp->ud, mp->buf, n)) != 0)
            return rc;
          if((rc = mp->cb.end(mp->ud)) != 0)
            return rc;
        }
        consume(mp, n + mp->delim_len);
        mp->state = MP_AFTER_DELIM;
        continue;
      }
      if(mp->used < mp->delim_len)
        return 0;
      n = mp->used - (mp->delim_len - 1);
      if(mp->state == MP_BODY && (rc = mp->cb.data(mp->ud, mp->buf, n)) != 0)
        return rc;
      consume(mp, n);
      return 0;
    }
    case MP_AFTER_DELIM:
      /* transport padding may follow a delimiter */
      while(mp->used && (mp->buf[0] == ' ' || mp->buf[0] == '\t'))
        consume(mp, 1);
      if(mp->used < 2)
        return 0;
      if(mp->buf[0] == '-' && mp->buf[1] == '-') {
        mp->state = MP_DONE;
        mp->used = 0;
        return 0;
      }
      if(mp->buf[0] != '\r' || mp->buf[1] != '\n')
        return FT_MP_EMALFORMED;
      consume(mp, 2);
      mp->state = MP_HEADERS;
      continue;
    case MP_HEADERS: {
      char *hit;
      size_t n;
      int rc;

      if(mp->used >= 2 && mp->buf[0] == '\r' && mp->buf[1] == '\n') {
        memset(&mp->part, 0, sizeof(mp->part));
        n = 0; /* a part without headers */
        consume(mp, 2);
      }
      else {
        hit = memmem(mp->buf, mp->used, "\r\n\r\n", 4);
        if(!hit)
          return mp->used == sizeof(mp->buf) ? FT_MP_EMALFORMED : 0;
        n = (size_t)(hit - mp->buf);
        if((rc = parse_headers(mp, mp->buf, n)) != 0)
          return rc;
        consume(mp, n + 4);
      }
      if((rc = mp->cb.begin(mp->ud, &mp->part)) != 0)
        return rc;
      mp->state = MP_BODY;
      continue;
    }
    default: /* MP_DONE: the epilogue is ignored */
      mp->used = 0;
      return 0;
    }
  }
}

int ft_mp_feed(struct ft_mp *mp, const char *data, size_t len)
{
  while(len) {
    size_t room = sizeof(mp->buf) - mp->used;
    size_t n = len < room ? len : room;
    int rc;

    if(mp->state == MP_DONE)
      return 0;
    memcpy(mp->buf + mp->used, data, n);
    mp->used += n;
    data += n;
    len -= n;
    rc = process(mp);
    if(rc)
      return rc;
    if(!n && mp->used == sizeof(mp->buf))
      return FT_MP_EMALFORMED; /* no progress possible */
  }
  return 0;
}

int ft_mp_finish(struct ft_mp *mp)
{
  return mp->state == MP_DONE ? 0 : FT_MP_EMALFORMED;
}
