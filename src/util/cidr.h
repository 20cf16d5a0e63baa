/* cidr: IP addresses and CIDR ranges ("10.0.0.0/8", "127.0.0.1" = /32,
 * "fd00::/8", "::1" = /128) for the TRUSTED_PROXIES list. Pure: no
 * allocation, bounded sizes. An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is read as the IPv4 address, so a dual-stack socket matches IPv4 ranges. */
#ifndef NETRA_CIDR_H
#define NETRA_CIDR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CIDR_MAX 64        /* ranges in one list */
#define CIDR_TEXT_MAX 64   /* longest address or range text read ("/128" included) */

struct cidr_addr {
  int family;              /* AF_INET or AF_INET6 */
  uint8_t b[16];           /* network order; IPv4 uses the first 4 bytes */
};

struct cidr {
  struct cidr_addr net;    /* host bits cleared */
  int prefix;              /* 0..32 or 0..128 */
};

struct cidr_list {
  int n;
  struct cidr v[CIDR_MAX];
};

/** Reads an address of `len` bytes (no port, brackets or zone). */
bool cidr_addr_parse(const char *s, size_t len, struct cidr_addr *out);
/** Reads the address of an AF_INET / AF_INET6 socket address. */
bool cidr_addr_from_sockaddr(const struct sockaddr *sa, struct cidr_addr *out);
/** Writes the address in its canonical text form ("2001:db8::1"). */
void cidr_addr_format(const struct cidr_addr *a, char *out, size_t outsz);

/** Reads "ADDR" or "ADDR/PREFIX" of `len` bytes; host bits are cleared. */
bool cidr_parse(const char *s, size_t len, struct cidr *out);
/** Reads a comma list (util/strlist rules) into `out`. Returns the count,
 *  or -1 when an item is not a range or there are more than CIDR_MAX. */
int cidr_list_parse(const char *list, struct cidr_list *out);
/** True when `a` lies in one of the ranges (a NULL list holds none). */
bool cidr_list_match(const struct cidr_list *l, const struct cidr_addr *a);

#endif
