/* ft_num: strict number parsing. */
#include "ft_num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int ft_num_u64(const char *s, uint64_t *out)
{
  uint64_t v = 0;

  if(!s || !*s)
    return -1;
  for(; *s; s++) {
    unsigned d;
    if(*s < '0' || *s > '9')
      return -1;
    d = (unsigned)(*s - '0');
    if(v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int ft_num_i64(const char *s, int64_t *out)
{
  uint64_t v;
  int neg = 0;

  if(!s)
    return -1;
  if(*s == '-' || *s == '+') {
    neg = *s == '-';
    s++;
  }
  if(ft_num_u64(s, &v))
    return -1;
  if(neg) {
    if(v > (uint64_t)INT64_MAX + 1)
      return -1;
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  }
  else {
    if(v > (uint64_t)INT64_MAX)
      return -1;
    *out = (int64_t)v;
  }
  return 0;
}

int ft_num_double(const char *s, double *out)
{
  char *end;
  double v;

  if(!s || !*s)
    return -1;
  errno = 0;
  v = strtod(s, &end);
  if(errno || *end || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}
