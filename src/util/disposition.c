/* disposition: see disposition.h. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "util/disposition.h"

static int disp_hex(int c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into out; -1 on a bad escape, a NUL or no room. */
static int disp_pct_decode(const char *s, size_t n, char *out, size_t outsz)
{
  size_t o = 0;
  for(size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if(c == '%') {
      if(i + 2 >= n)
        return -1;
      int hi = disp_hex(s[i + 1]), lo = disp_hex(s[i + 2]);
      if(hi < 0 || lo < 0)
        return -1;
      c = hi * 16 + lo;
      i += 2;
    }
    if(c == 0 || o + 1 >= outsz)
      return -1;
    out[o++] = (char)c;
  }
  out[o] = '\0';
  return 0;
}

/* Keeps what follows the last '/' or '\\' (a name, not a path). */
static int disp_basename(char *s)
{
  char *slash = strrchr(s, '/'), *back = strrchr(s, '\\');
  char *cut = slash > back ? slash : back;
  if(cut)
    memmove(s, cut + 1, strlen(cut + 1) + 1);
  return s[0] ? 0 : -1;
}

/* ISO-8859-1 to UTF-8 in place-safe copy; -1 when it does not fit. */
static int disp_latin1(const char *in, char *out, size_t outsz)
{
  size_t o = 0;
  for(const unsigned char *p = (const unsigned char *)in; *p; p++) {
    size_t need = *p < 0x80 ? 1 : 2;
    if(o + need >= outsz)
      return -1;
    if(*p < 0x80)
      out[o++] = (char)*p;
    else {
      out[o++] = (char)(0xc0 | (*p >> 6));
      out[o++] = (char)(0x80 | (*p & 0x3f));
    }
  }
  out[o] = '\0';
  return 0;
}

/* RFC 8187 ext-value: charset "'" [language] "'" value-chars. */
static int disp_ext_value(const char *v, size_t n, char *out, size_t outsz)
{
  char raw[DISPOSITION_MAX];
  const char *q1 = memchr(v, '\'', n);
  if(!q1)
    return -1;
  const char *q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v));
  if(!q2)
    return -1;
  size_t cs = (size_t)(q1 - v);
  bool utf8 = cs == 5 && !strncasecmp(v, "UTF-8", 5);
  bool latin1 = cs == 10 && !strncasecmp(v, "ISO-8859-1", 10);
  if(!utf8 && !latin1)
    return -1;
  const char *val = q2 + 1;
  if(disp_pct_decode(val, n - (size_t)(val - v), raw, sizeof(raw)) != 0)
    return -1;
  if(utf8) {
    if(strlen(raw) >= outsz)
      return -1;
    strcpy(out, raw);
    return 0;
  }
  return disp_latin1(raw, out, outsz);
}

int disposition_filename(const char *value, char *out, size_t outsz)
{
  char plain[DISPOSITION_MAX] = "", ext[DISPOSITION_MAX] = "";
  if(!value || strlen(value) >= DISPOSITION_MAX || outsz == 0)
    return -1;
  const char *p = strchr(value, ';');   /* past the disposition type */
  while(p && *p) {
    p++;
    while(*p == ' ' || *p == '\t' || *p == ';')
      p++;
    const char *name = p;
    while(*p && *p != '=' && *p != ';')
      p++;
    if(*p != '=')
      continue;
    size_t nlen = (size_t)(p - name);
    while(nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
      nlen--;
    p++;
    while(*p == ' ' || *p == '\t')
      p++;
    char val[DISPOSITION_MAX];
    size_t vlen = 0;
    if(*p == '"') {   /* quoted-string with backslash escapes */
      for(p++; *p && *p != '"'; p++) {
        if(*p == '\\' && p[1])
          p++;
        val[vlen++] = *p;
      }
      if(*p != '"')
        return -1;   /* unterminated: the header is garbled */
      p++;
    }
    else
      while(*p && *p != ';' && *p != ' ' && *p != '\t')
        val[vlen++] = *p++;
    val[vlen] = '\0';
    while(*p && *p != ';')
      p++;
    if(nlen == 9 && !strncasecmp(name, "filename*", 9) && !ext[0])
      disp_ext_value(val, vlen, ext, sizeof(ext));
    else if(nlen == 8 && !strncasecmp(name, "filename", 8) && !plain[0] && !memchr(val, 0, vlen))
      memcpy(plain, val, vlen + 1);
  }
  const char *pick = ext[0] ? ext : plain;
  if(!pick[0] || strlen(pick) >= outsz)
    return -1;
  strcpy(out, pick);
  return disp_basename(out);
}

int disposition_url_name(const char *url, char *out, size_t outsz)
{
  const char *start = strstr(url, "://");
  start = start ? start + 3 : url;
  const char *path = start + strcspn(start, "/?#");
  if(*path != '/')
    return -1;   /* no path at all */
  size_t plen = strcspn(path, "?#");
  const char *seg = path + plen;
  while(seg > path && seg[-1] != '/')
    seg--;
  if(disp_pct_decode(seg, (size_t)(path + plen - seg), out, outsz) != 0)
    return -1;
  return disp_basename(out);
}
