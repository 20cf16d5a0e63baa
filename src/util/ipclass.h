/* ipclass: is an IP address one a server-side fetch may connect to? The
 * SSRF guard of uploads from a URL: loopback, private, link-local, CGNAT,
 * multicast, unspecified, reserved and documentation ranges are internal,
 * and so are IPv6 forms that embed such an IPv4 address (mapped,
 * compatible, NAT64, 6to4). Pure: no allocation, no resolver. */
#ifndef NETRA_IPCLASS_H
#define NETRA_IPCLASS_H
#include <stdbool.h>
#include "util/cidr.h"

/** Why `a` must not be fetched from ("loopback", "private network", ...),
 *  or NULL when it is a public address. */
const char *ipclass_internal(const struct cidr_addr *a);
/** Reads a URL host that is an IP literal in any form the C resolver takes
 *  ("127.0.0.1", "2130706433", "0177.1", "0x7f.0.0.1", "[::1]", "::1");
 *  false for a host name. */
bool ipclass_literal(const char *host, struct cidr_addr *out);

#endif
