/* framing: the Content-Length / Transfer-Encoding checks of framing.h. */
#include <string.h>
#include <strings.h>
#include "http/framing.h"
#include "http/status.h"

/* A plain decimal: digits only, no sign, space, list or hex; no overflow. */
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

/* Splits the coding list on commas. The body reader only knows one field
 * whose whole value is "chunked" (any case); anything else is either a
 * coding we lack (501) or a list a proxy may read otherwise (400). */
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

/* The parser (h1parse.c) refuses obs-fold and whitespace before a colon
 * itself; these stay as a second line of defence for a field name that
 * merely begins with a framing name ("Content-Length5"). */
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
   * may be a Content-Length to a proxy in front). */
  if(!*name || name[strcspn(name, " \t")] ||
     framing_mangled(name, HTTP_HEADER_CONTENT_LENGTH) ||
     framing_mangled(name, HTTP_HEADER_TRANSFER_ENCODING))
    f->bad_name = true;
  else if(!strcasecmp(name, HTTP_HEADER_CONTENT_LENGTH))
    framing_add_cl(f, value);
  else if(!strcasecmp(name, HTTP_HEADER_TRANSFER_ENCODING))
    framing_add_te(f, value);
}

unsigned framing_verdict(const struct framing *f, bool http10, const char **detail)
{
  if(f->bad_name) {
    *detail = FRAMING_BAD_NAME;
    return HTTP_BAD_REQUEST;
  }
  if(f->nte && http10) {   /* §6.1: faulty framing, even with a Content-Length */
    *detail = FRAMING_TE_HTTP10;
    return HTTP_BAD_REQUEST;
  }
  if(f->nte && f->ncl) {   /* §6.1: MAY refuse; the classic smuggling vector */
    *detail = FRAMING_BOTH;
    return HTTP_BAD_REQUEST;
  }
  if(f->te_other) {        /* §6.1: we implement no coding but chunked */
    *detail = FRAMING_TE_UNSUPPORTED;
    return HTTP_NOT_IMPLEMENTED;
  }
  if(f->nte && (f->nte > 1 || f->nchunked != 1 || f->te_odd)) {
    *detail = FRAMING_BAD_TE;   /* chunked twice, or an empty list element */
    return HTTP_BAD_REQUEST;
  }
  if(f->cl_bad) {          /* §6.3 point 5 */
    *detail = FRAMING_BAD_CL;
    return HTTP_BAD_REQUEST;
  }
  return 0;
}

