/* ipclass: see ipclass.h. Ranges from the IANA special-purpose registries
 * (RFC 6890 and successors); anything "not globally reachable" is refused. */
#include <arpa/inet.h>
#include <string.h>
#include "util/ipclass.h"

struct ipclass_range {
  const char *cidr;
  const char *why;
};

static const struct ipclass_range ipclass_v4[] = {
  {"0.0.0.0/8", "unspecified or 'this network' address"},
  {"10.0.0.0/8", "private network address"},
  {"100.64.0.0/10", "carrier-grade NAT address"},
  {"127.0.0.0/8", "loopback address"},
  {"169.254.0.0/16", "link-local address"},
  {"172.16.0.0/12", "private network address"},
  {"192.0.0.0/24", "reserved address"},
  {"192.0.2.0/24", "documentation address"},
  {"192.88.99.0/24", "reserved address"},
  {"192.168.0.0/16", "private network address"},
  {"198.18.0.0/15", "benchmarking address"},
  {"198.51.100.0/24", "documentation address"},
  {"203.0.113.0/24", "documentation address"},
  {"224.0.0.0/4", "multicast address"},
  {"240.0.0.0/4", "reserved or broadcast address"},
};

static const struct ipclass_range ipclass_v6[] = {
  {"::/128", "unspecified address"},
  {"::1/128", "loopback address"},
  {"64:ff9b:1::/48", "local NAT64 address"},
  {"100::/64", "discard-only address"},
  {"2001::/32", "Teredo address"},
  {"2001:db8::/32", "documentation address"},
  {"fc00::/7", "unique-local address"},
  {"fe80::/10", "link-local address"},
  {"fec0::/10", "site-local address"},
  {"ff00::/8", "multicast address"},
};

static bool ipclass_in(const struct cidr_addr *a, const char *text)
{
  struct cidr c;
  if(!cidr_parse(text, strlen(text), &c) || c.net.family != a->family)
    return false;
  int full = c.prefix / 8, rest = c.prefix % 8;
  if(memcmp(a->b, c.net.b, (size_t)full) != 0)
    return false;
  if(rest == 0)
    return true;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a->b[full] & mask) == c.net.b[full];
}

static const char *ipclass_table(const struct cidr_addr *a, const struct ipclass_range *t, size_t n)
{
  for(size_t i = 0; i < n; i++)
    if(ipclass_in(a, t[i].cidr))
      return t[i].why;
  return NULL;
}

/* The IPv4 address an IPv6 one carries at `off`. */
static const char *ipclass_embedded(const struct cidr_addr *a, int off)
{
  struct cidr_addr v4 = {.family = AF_INET};
  memcpy(v4.b, a->b + off, 4);
  return ipclass_table(&v4, ipclass_v4, sizeof(ipclass_v4) / sizeof(ipclass_v4[0]));
}

const char *ipclass_internal(const struct cidr_addr *a)
{
  static const uint8_t zero[12], mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
  if(a->family == AF_INET)
    return ipclass_table(a, ipclass_v4, sizeof(ipclass_v4) / sizeof(ipclass_v4[0]));
  if(a->family != AF_INET6)
    return "unknown address family";
  const char *why = ipclass_table(a, ipclass_v6, sizeof(ipclass_v6) / sizeof(ipclass_v6[0]));
  if(why)
    return why;
  /* IPv4-mapped, IPv4-compatible and NAT64 forms reach the IPv4 address. */
  if(!memcmp(a->b, mapped, 12) || !memcmp(a->b, zero, 12) || !memcmp(a->b, nat64, 12))
    return ipclass_embedded(a, 12);
  if(a->b[0] == 0x20 && a->b[1] == 0x02)   /* 6to4: 2002:AABB:CCDD::/48 */
    return ipclass_embedded(a, 2);
  return NULL;
}

bool ipclass_literal(const char *host, struct cidr_addr *out)
{
  char buf[INET6_ADDRSTRLEN + 2];
  size_t n = strlen(host);
  memset(out, 0, sizeof(*out));
  if(n >= 2 && host[0] == '[' && host[n - 1] == ']') {
    host++;
    n -= 2;
  }
  if(n == 0 || n >= sizeof(buf))
    return false;
  memcpy(buf, host, n);
  buf[n] = '\0';
  char *zone = strchr(buf, '%');   /* fe80::1%eth0 */
  if(zone)
    *zone = '\0';
  struct in_addr v4;
  struct in6_addr v6;
  /* inet_aton takes the old forms too: 2130706433, 0177.1, 0x7f.0.0.1. */
  if(!zone && inet_aton(buf, &v4)) {
    out->family = AF_INET;
    memcpy(out->b, &v4, 4);
    return true;
  }
  if(inet_pton(AF_INET6, buf, &v6) == 1) {
    out->family = AF_INET6;
    memcpy(out->b, &v6, 16);
    /* Read a mapped address as the IPv4 one, as cidr.c does for sockets. */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if(!memcmp(out->b, mapped, 12)) {
      out->family = AF_INET;
      memmove(out->b, out->b + 12, 4);
      memset(out->b + 4, 0, 12);
    }
    return true;
  }
  return false;
}
