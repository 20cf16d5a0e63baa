/* ft_range: single byte-range parsing. */
#include "ft_range.h"

#include <string.h>
#include <strings.h>

/* Reads 1..19 digits; returns the position after them or NULL. */
static const char *read_u64(const char *p, uint64_t *out)
{
  uint64_t v = 0;
  int n = 0;

  while(*p >= '0' && *p <= '9') {
    if(++n > 19)
      return NULL;
    v = v * 10 + (uint64_t)(*p - '0');
    p++;
  }
  if(!n)
    return NULL;
  *out = v;
  return p;
}

static const char *ows(const char *p)
{
  while(*p == ' ' || *p == '\t')
    p++;
  return p;
}

enum ft_range_result ft_range_parse(const char *hdr, uint64_t size, uint64_t *first,
                                    uint64_t *last)
{
  const char *p;
  uint64_t a = 0, b = 0;
  int has_a, has_b;

  if(!hdr)
    return FT_RANGE_NONE;
  p = ows(hdr);
  if(strncasecmp(p, "bytes", 5))
    return FT_RANGE_NONE;
  p = ows(p + 5);
  if(*p != '=')
    return FT_RANGE_NONE;
  p = ows(p + 1);
  if(strchr(p, ','))
    return FT_RANGE_NONE; /* several ranges: we may answer with the whole body */
  has_a = *p >= '0' && *p <= '9';
  if(has_a && !(p = read_u64(p, &a)))
    return FT_RANGE_NONE;
  if(*p != '-')
    return FT_RANGE_NONE;
  p++;
  has_b = *p >= '0' && *p <= '9';
  if(has_b && !(p = read_u64(p, &b)))
    return FT_RANGE_NONE;
  p = ows(p);
  if(*p || (!has_a && !has_b) || (has_a && has_b && b < a))
    return FT_RANGE_NONE;
  if(!has_a) {
    /* suffix range: the last b bytes */
    if(b == 0 || size == 0)
      return FT_RANGE_UNSATISFIABLE;
    *first = b >= size ? 0 : size - b;
    *last = size - 1;
    return FT_RANGE_OK;
  }
  if(a >= size)
    return FT_RANGE_UNSATISFIABLE;
  *first = a;
  *last = (!has_b || b >= size) ? size - 1 : b;
  return FT_RANGE_OK;
}
