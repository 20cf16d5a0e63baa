/* parse: see parse.h. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "util/parse.h"

#define PARSE_KIB 1024ULL
#define PARSE_MIB (1024ULL * 1024)

int parse_size(const char *s, uint64_t *out)
{
  if(!s || !isdigit((unsigned char)*s))
    return -1; /* also refuses "", "-1", "+1" and leading blanks */
  uint64_t v = 0;
  for(; isdigit((unsigned char)*s); s++) {
    unsigned d = (unsigned)(*s - '0');
    if(v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  uint64_t mult = 1;
  switch(*s) {
  case 'k': case 'K': mult = PARSE_KIB; s++; break;
  case 'm': case 'M': mult = PARSE_MIB; s++; break;
  case 'g': case 'G': mult = PARSE_MIB * PARSE_KIB; s++; break;
  case 't': case 'T': mult = PARSE_MIB * PARSE_MIB; s++; break;
  default: break;
  }
  /* Accept "8M", "8MB", "8MiB" and "512B" alike. */
  if(mult > 1 && (*s == 'i' || *s == 'I') && (s[1] == 'b' || s[1] == 'B'))
    s += 2;
  else if(*s == 'b' || *s == 'B')
    s++;
  if(*s)
    return -1;
  if(v > UINT64_MAX / mult)
    return -1;
  *out = v * mult;
  return 0;
}

int parse_bool(const char *s, bool *out)
{
  static const char *const yes[] = {"true", "1", "yes", "on"};
  static const char *const no[] = {"false", "0", "no", "off"};
  if(!s)
    return -1;
  for(size_t i = 0; i < 4; i++) {
    if(!strcasecmp(s, yes[i])) {
      *out = true;
      return 0;
    }
    if(!strcasecmp(s, no[i])) {
      *out = false;
      return 0;
    }
  }
  return -1;
}
