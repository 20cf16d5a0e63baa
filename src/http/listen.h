/* listen: the server's listening socket, opened before the HTTP threads start
 * so that its failures are ours to explain: a port in use stops the start
 * with one line naming PORT (no SO_REUSEPORT, which let a second server
 * share the port and split the clients between two databases), and HOST may
 * be an IPv4 or IPv6 literal, "localhost" or a resolvable name. */
#ifndef NETRA_HTTP_LISTEN_H
#define NETRA_HTTP_LISTEN_H
#include <stddef.h>

/** A bound, listening, non-blocking socket for HOST and PORT, or -1 with
 *  one line in err naming the setting at fault. */
int http_listen_open(const char *host, int port, char *err, size_t errlen);

#endif
