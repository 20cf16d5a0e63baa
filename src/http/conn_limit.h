/* conn_limit: at most N open connections per client address (MAX_CONNECTIONS_PER_IP),
 * so one address cannot fill libmicrohttpd's global connection cap and lock
 * every other client out. Peers in TRUSTED_PROXIES are exempt: a reverse
 * proxy carries many clients over its own address. IPv6 peers are counted
 * per /64, the block one host usually holds.
 *
 * MHD wiring: conn_limit_accept is the daemon's accept-policy callback (it
 * reserves a slot, or refuses and MHD closes the socket at once) and
 * conn_limit_notify its MHD_OPTION_NOTIFY_CONNECTION callback (STARTED
 * confirms the reservation, CLOSED gives the slot back). */
#ifndef NETRA_CONN_LIMIT_H
#define NETRA_CONN_LIMIT_H
#include <microhttpd.h>
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

/** MHD accept-policy callback (MHD_AcceptPolicyCallback). */
enum MHD_Result conn_limit_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/** MHD connection notification (MHD_NotifyConnectionCallback). */
void conn_limit_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

#endif
