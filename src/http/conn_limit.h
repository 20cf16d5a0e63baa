/* conn_limit: at most N open connections per client address (MAX_CONNECTIONS_PER_IP),
 * so one address cannot fill the global connection cap and lock
 * every other client out. Peers in TRUSTED_PROXIES are exempt: a reverse
 * proxy carries many clients over its own address. IPv6 peers are counted
 * per /64, the block one host usually holds.
 *
 * The accept path (http/loop.c) takes a slot for each new socket of a
 * counted address, or closes the socket at once, and gives it back when the
 * connection closes. */
#ifndef NETRA_CONN_LIMIT_H
#define NETRA_CONN_LIMIT_H
#include <stdbool.h>
#include "util/cidr.h"

/** Sets the limit before the daemon starts: `per_addr` connections per
 *  address (0 = no limit), `exempt` the addresses never counted (copied;
 *  NULL = none), `max_open` the most connections the daemon will hold (sizes
 *  the table). Returns 0, or -1 when out of memory. */
int conn_limit_init(int per_addr, const struct cidr_list *exempt, unsigned max_open);
/** Frees the table (after the daemon stopped). */
void conn_limit_free(void);

/** Takes one slot for `a`; false when the address is at its limit. */
bool conn_limit_take(const struct cidr_addr *a);
/** Gives back a slot taken for `a`. */
void conn_limit_give(const struct cidr_addr *a);
/** Open connections counted for `a` (tests, metrics). */
int conn_limit_count(const struct cidr_addr *a);

/** Raises the open-file soft limit to hold `max_open` connections plus
 *  `reserve` other descriptors (database, chunk files, sockets to Telegram)
 *  and returns the connection cap that fits: `max_open`, or less when the
 *  hard limit is lower. */
unsigned conn_limit_fit_fds(unsigned max_open, unsigned reserve);

/** True for an address never counted (a trusted proxy). */
bool conn_limit_exempt(const struct cidr_addr *a);

#endif
