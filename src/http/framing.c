/* framing: the Content-Length / Transfer-Encoding checks of framing.h. */
#include <string.h>
#include <strings.h>
#include "http/framing.h"

/* A plain decimal: digits only, no sign, space, list or hex; no overflow.
 * libmicrohttpd refuses most bad first values itself; this also covers the
 * repeats it never looks at. */
static bool framing_decimal(const char *s, uint64_t *out)
{
  uint64_t v = 0;
  if(!*s)
    return false;
  for(; *s; s++) {
    if(*s < '0' || *s > '9')
      return false;
    unsigned d = (unsigned)(*s - '0');
    if(v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

static void framing_add_cl(struct framing *f, const char *value)
{
  uint64_t v;
  if(!framing_decimal(value, &v))
    f->cl_bad = true;
  else if(f->ncl && v != f->cl)
    f->cl_bad = true;
  else if(!f->ncl)
    f->cl = v;
  f->ncl++;
}

/* Splits the coding list on commas. libmicrohttpd itself only honours one
 * field whose whole value is "chunked" (any case); anything else is either
 * a coding we lack (501) or a list it would misread (400). */
static void framing_add_te(struct framing *f, const char *value)
{
  f->nte++;
  if(strcasecmp(value, "chunked") != 0)
    f->te_odd = true;
  const char *p = value;
  for(;;) {
    while(*p == ' ' || *p == '\t')
      p++;
    const char *end = p + strcspn(p, ",");
    size_t n = (size_t)(end - p);
    while(n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      n--;
    if(n == 7 && !strncasecmp(p, "chunked", 7))
      f->nchunked++;
    else if(n)
      f->te_other = true;
    else
      f->te_odd = true;   /* an empty element */
    if(!*end)
      break;
    p = end + 1;
  }
}

/* MHD 0.9.75 appends an obs-fold continuation line to the field name:
 * "Content-Length:\r\n 5" arrives as "Content-Length5" with an empty value,
 * which MHD then ignores while a proxy that unfolds frames the body by it. */
static bool framing_mangled(const char *name, const char *field)
{
  size_t n = strlen(field);
  return !strncasecmp(name, field, n) && name[n];
}

void framing_add(struct framing *f, const char *name, const char *value)
{
  if(!value)
    value = "";
  /* RFC 9112 §5.1: no whitespace between name and colon ("Content-Length :"
   * is no Content-Length to MHD, but may be one to a proxy in front). */
  if(!*name || name[strcspn(name, " \t")] ||
     framing_mangled(name, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
     framing_mangled(name, MHD_HTTP_HEADER_TRANSFER_ENCODING))
    f->bad_name = true;
  else if(!strcasecmp(name, MHD_HTTP_HEADER_CONTENT_LENGTH))
    framing_add_cl(f, value);
  else if(!strcasecmp(name, MHD_HTTP_HEADER_TRANSFER_ENCODING))
    framing_add_te(f, value);
}

unsigned framing_verdict(const struct framing *f, bool http10, const char **detail)
{
  if(f->bad_name) {
    *detail = FRAMING_BAD_NAME;
    return MHD_HTTP_BAD_REQUEST;
  }
  if(f->nte && http10) {   /* §6.1: faulty framing, even with a Content-Length */
    *detail = FRAMING_TE_HTTP10;
    return MHD_HTTP_BAD_REQUEST;
  }
  if(f->nte && f->ncl) {   /* §6.1: MAY refuse; the classic smuggling vector */
    *detail = FRAMING_BOTH;
    return MHD_HTTP_BAD_REQUEST;
  }
  if(f->te_other) {        /* §6.1: we implement no coding but chunked */
    *detail = FRAMING_TE_UNSUPPORTED;
    return MHD_HTTP_NOT_IMPLEMENTED;
  }
  if(f->nte && (f->nte > 1 || f->nchunked != 1 || f->te_odd)) {
    *detail = FRAMING_BAD_TE;   /* chunked twice, or an empty list element */
    return MHD_HTTP_BAD_REQUEST;
  }
  if(f->cl_bad) {          /* §6.3 point 5 */
    *detail = FRAMING_BAD_CL;
    return MHD_HTTP_BAD_REQUEST;
  }
  return 0;
}

static enum MHD_Result framing_scan(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
  framing_add(cls, key, value);
  return MHD_YES;
}

unsigned framing_check(struct MHD_Connection *conn, const char *version, const char **detail)
{
  struct framing f;
  memset(&f, 0, sizeof(f));
  MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_scan, &f);
  return framing_verdict(&f, !strcmp(version, MHD_HTTP_VERSION_1_0), detail);
}
