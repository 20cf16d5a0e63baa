/* cidr: see cidr.h. */
#include "util/cidr.h"
#include "util/strlist.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t cidr_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* ::ffff:a.b.c.d -> a.b.c.d, so one client has one spelling. */
static void cidr_unmap(struct cidr_addr *a)
{
  if(a->family == AF_INET6 && !memcmp(a->b, cidr_v4_mapped, 12)) {
    memmove(a->b, a->b + 12, 4);
    memset(a->b + 4, 0, 12);
    a->family = AF_INET;
  }
}

bool cidr_addr_parse(const char *s, size_t len, struct cidr_addr *out)
{
  char text[CIDR_TEXT_MAX];
  if(len == 0 || len >= sizeof(text) || memchr(s, 0, len))
    return false;
  memcpy(text, s, len);
  text[len] = 0;
  memset(out, 0, sizeof(*out));
  /* inet_pton is strict: dotted quads only, no zone ids, no blanks. */
  if(inet_pton(AF_INET, text, out->b) == 1)
    out->family = AF_INET;
  else if(inet_pton(AF_INET6, text, out->b) == 1)
    out->family = AF_INET6;
  else
    return false;
  cidr_unmap(out);
  return true;
}

bool cidr_addr_from_sockaddr(const struct sockaddr *sa, struct cidr_addr *out)
{
  memset(out, 0, sizeof(*out));
  if(!sa)
    return false;
  if(sa->sa_family == AF_INET) {
    out->family = AF_INET;
    memcpy(out->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  }
  else if(sa->sa_family == AF_INET6) {
    out->family = AF_INET6;
    memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    cidr_unmap(out);
  }
  else
    return false;
  return true;
}

void cidr_addr_format(const struct cidr_addr *a, char *out, size_t outsz)
{
  if(!outsz)
    return;
  if(!inet_ntop(a->family, a->b, out, (socklen_t)outsz))
    snprintf(out, outsz, "unknown");
}

bool cidr_parse(const char *s, size_t len, struct cidr *out)
{
  const char *slash = memchr(s, '/', len);
  size_t alen = slash ? (size_t)(slash - s) : len;
  if(!cidr_addr_parse(s, alen, &out->net))
    return false;
  int max = out->net.family == AF_INET ? 32 : 128;
  /* A mapped address was written as IPv6: its prefix counts 96 bits more. */
  bool mapped = out->net.family == AF_INET && memchr(s, ':', alen);
  int prefix = max;
  if(slash) {
    const char *p = slash + 1, *end = s + len;
    if(p == end || end - p > 3)
      return false;
    prefix = 0;
    for(; p < end; p++) {
      if(*p < '0' || *p > '9')
        return false;
      prefix = prefix * 10 + (*p - '0');
    }
    if(mapped)
      prefix = prefix >= 96 ? prefix - 96 : -1;
    if(prefix < 0 || prefix > max)
      return false;
  }
  out->prefix = prefix;
  for(int bit = prefix; bit < max; bit++)
    out->net.b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
  return true;
}

int cidr_list_parse(const char *list, struct cidr_list *out)
{
  struct strlist_iter it;
  const char *item;
  size_t n;
  out->n = 0;
  strlist_begin(&it, list);
  while(strlist_next(&it, &item, &n)) {
    if(out->n == CIDR_MAX || !cidr_parse(item, n, &out->v[out->n]))
      return -1;
    out->n++;
  }
  return out->n;
}

static bool cidr_contains(const struct cidr *c, const struct cidr_addr *a)
{
  if(c->net.family != a->family)
    return false;
  int full = c->prefix / 8, rest = c->prefix % 8;
  if(memcmp(c->net.b, a->b, (size_t)full))
    return false;
  if(!rest)
    return true;
  uint8_t mask = (uint8_t)(0xffu << (8 - rest));
  return (a->b[full] & mask) == c->net.b[full];
}

bool cidr_list_match(const struct cidr_list *l, const struct cidr_addr *a)
{
  if(!l)
    return false;
  for(int i = 0; i < l->n; i++)
    if(cidr_contains(&l->v[i], a))
      return true;
  return false;
}
