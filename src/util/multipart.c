#include "util/multipart.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
  MP_PREAMBLE,     /* before the first delimiter */
  MP_AFTER_DELIM,  /* just after a delimiter: "\r\n" or "--" follows */
  MP_AFTER_DASH,   /* saw one '-' after a delimiter */
  MP_AFTER_CR,     /* saw '\r' after a delimiter */
  MP_HEADERS,
  MP_BODY,
  MP_EPILOGUE
};

int mp_boundary_from_content_type(const char *ct, char *out, size_t outsz)
{
  if(!ct)
    return -1;
  while(*ct == ' ')
    ct++;
  if(strncasecmp(ct, "multipart/form-data", 19) != 0)
    return -1;
  const char *p = ct + 19;
  while((p = strchr(p, ';')) != NULL) {
    p++;
    while(*p == ' ' || *p == '\t')
      p++;
    if(strncasecmp(p, "boundary=", 9) != 0)
      continue;
    p += 9;
    size_t n = 0;
    if(*p == '"') {
      p++;
      while(p[n] && p[n] != '"')
        n++;
      if(p[n] != '"')
        return -1;
    }
    else
      while(p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
        n++;
    if(n == 0 || n > MP_BOUNDARY_MAX || n >= outsz)
      return -1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
  }
  return -1;
}

int mp_init(struct mp_parser *p, const char *boundary, const struct mp_callbacks *cb, void *arg)
{
  size_t n = strlen(boundary);
  memset(p, 0, sizeof(*p));
  if(n == 0 || n > MP_BOUNDARY_MAX || strpbrk(boundary, "\r\n"))
    return -1;
  memcpy(p->delim, "\r\n--", 4);
  memcpy(p->delim + 4, boundary, n);
  p->dlen = n + 4;
  /* The first delimiter may sit at the very start, without the CRLF: act as
   * if the CRLF had been matched already. */
  p->matched = 2;
  p->state = MP_PREAMBLE;
  p->cb = cb;
  p->arg = arg;
  return 0;
}

bool mp_done(const struct mp_parser *p)
{
  return p->state == MP_EPILOGUE;
}

static int mp_fail(struct mp_parser *p, const char *why)
{
  p->error = why;
  return MP_ERR_SYNTAX;
}

/* Copies a header parameter (name="..." / filename="...") into out. A
 * quoted value ends at the next '"': a backslash is an ordinary byte, as
 * browsers send it (WHATWG escapes only '"', CR and LF, as %22 %0D %0A), so
 * "..\\a.txt" keeps its backslashes instead of losing them as escapes. */
static void mp_param(const char *hv, const char *key, char *out, size_t outsz, bool *found)
{
  size_t klen = strlen(key);
  bool quoted = false;
  for(const char *s = hv; *s; s++) {
    /* Skip quoted strings: filename="a; name=b" must not yield name "b". */
    if(quoted) {
      if(*s == '"')
        quoted = false;
      continue;
    }
    if(*s == '"') {
      quoted = true;
      continue;
    }
    /* Must be a whole parameter name: preceded by ';' or space. */
    if((s > hv && s[-1] != ';' && s[-1] != ' ' && s[-1] != '\t') || strncasecmp(s, key, klen))
      continue;
    const char *at = s;
    s += klen;
    while(*s == ' ')
      s++;
    if(*s != '=') {
      s = at;   /* not this key: rescan from the next byte, quotes included */
      continue;
    }
    s++;
    while(*s == ' ')
      s++;
    size_t o = 0;
    if(*s == '"') {
      s++;
      while(*s && *s != '"') {
        if(o + 1 < outsz)
          out[o++] = *s;
        s++;
      }
    }
    else
      while(*s && *s != ';' && *s != ' ' && *s != '\r') {
        if(o + 1 < outsz)
          out[o++] = *s;
        s++;
      }
    out[o] = 0;
    if(found)
      *found = true;
    return;
  }
}

static int mp_parse_headers(struct mp_parser *p)
{
  memset(&p->part, 0, sizeof(p->part));
  p->hdr[p->hlen] = 0;
  char *save = NULL;
  bool has_cd = false;
  for(char *line = strtok_r(p->hdr, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
    char *colon = strchr(line, ':');
    if(!colon)
      return mp_fail(p, "malformed part header");
    *colon = 0;
    char *v = colon + 1;
    while(*v == ' ' || *v == '\t')
      v++;
    if(!strcasecmp(line, "Content-Disposition")) {
      if(strncasecmp(v, "form-data", 9) != 0)
        return mp_fail(p, "part is not form-data");
      has_cd = true;
      mp_param(v, "name", p->part.name, sizeof(p->part.name), NULL);
      mp_param(v, "filename", p->part.filename, sizeof(p->part.filename), &p->part.has_filename);
    }
    else if(!strcasecmp(line, "Content-Type"))
      snprintf(p->part.content_type, sizeof(p->part.content_type), "%s", v);
  }
  if(!has_cd)
    return mp_fail(p, "part without Content-Disposition");
  return MP_OK;
}

/* Emits body bytes unless empty. */
static int mp_emit(struct mp_parser *p, const char *d, size_t n)
{
  if(n && p->state == MP_BODY && p->cb->part_data(p->arg, d, n) != 0)
    return MP_ERR_CALLBACK;
  return MP_OK;
}

int mp_feed(struct mp_parser *p, const char *data, size_t len)
{
  size_t i = 0;
  while(i < len) {
    switch(p->state) {
    case MP_PREAMBLE:
    case MP_BODY: {
      /* Body bytes go out in the largest contiguous spans possible: only a
       * delimiter (or the end of this buffer) cuts a span. `carried` counts
       * delimiter bytes matched at the end of the previous buffer. */
      size_t span = i;
      size_t carried = i == 0 ? p->matched : 0;
      bool found = false;
      while(i < len) {
        if(p->matched == 0) {
          const char *cr = memchr(data + i, '\r', len - i);
          if(!cr) {
            i = len;
            break;
          }
          i = (size_t)(cr - data);
        }
        if(data[i] == p->delim[p->matched]) {
          p->matched++;
          i++;
          if(p->matched == p->dlen) {
            found = true;
            break;
          }
          continue;
        }
        /* Mismatch: what matched was data. Bytes carried over from the last
         * buffer precede this span, so they go out first. The boundary has
         * no CR, so the only possible new start is the current byte. */
        if(carried && mp_emit(p, p->delim, carried))
          return MP_ERR_CALLBACK;
        carried = 0;
        p->matched = 0;
        if(data[i] != '\r')
          i++;
      }
      if(found) {
        size_t dstart = i - (p->dlen - carried);   /* delimiter's first byte in this buffer */
        if(mp_emit(p, data + span, dstart - span))
          return MP_ERR_CALLBACK;
        p->matched = 0;
        if(p->state == MP_BODY && p->cb->part_end(p->arg) != 0)
          return MP_ERR_CALLBACK;
        p->state = MP_AFTER_DELIM;
        break;
      }
      /* End of buffer: hold back a partial delimiter match, emit the rest. */
      size_t pending = p->matched - carried;
      if(p->matched >= carried && mp_emit(p, data + span, i - pending - span))
        return MP_ERR_CALLBACK;
      break;
    }
    case MP_AFTER_DELIM:
      if(data[i] == '-')
        p->state = MP_AFTER_DASH;
      else if(data[i] == '\r')
        p->state = MP_AFTER_CR;
      else if(data[i] == ' ' || data[i] == '\t')
        ; /* transport padding */
      else
        return mp_fail(p, "garbage after boundary");
      i++;
      break;
    case MP_AFTER_DASH:
      if(data[i] != '-')
        return mp_fail(p, "garbage after boundary");
      p->state = MP_EPILOGUE;
      i++;
      break;
    case MP_AFTER_CR:
      if(data[i] != '\n')
        return mp_fail(p, "garbage after boundary");
      p->state = MP_HEADERS;
      p->hlen = 0;
      i++;
      break;
    case MP_HEADERS:
      if(p->hlen + 1 >= sizeof(p->hdr))
        return mp_fail(p, "part headers too large");
      /* Headers are parsed as C strings: a NUL would silently cut a
       * filename ("nul\0x" -> "nul"), so it is malformed. */
      if(data[i] == '\0')
        return mp_fail(p, "NUL byte in part headers");
      p->hdr[p->hlen++] = data[i++];
      if(p->hlen >= 2 && p->hdr[p->hlen - 2] == '\r' && p->hdr[p->hlen - 1] == '\n' &&
         (p->hlen == 2 || (p->hlen >= 4 && p->hdr[p->hlen - 4] == '\r' && p->hdr[p->hlen - 3] == '\n'))) {
        if(p->hlen == 2)
          return mp_fail(p, "part without headers");
        p->hlen -= 4;
        int rc = mp_parse_headers(p);
        if(rc)
          return rc;
        p->state = MP_BODY;
        p->hlen = 0;
        if(p->cb->part_begin(p->arg, &p->part) != 0)
          return MP_ERR_CALLBACK;
      }
      break;
    case MP_EPILOGUE:
      return MP_OK;   /* everything after the close delimiter is ignored */
    }
  }
  return MP_OK;
}
