/* ft_server: the libmicrohttpd daemon on 127.0.0.1, one thread per
 * connection (so a capped or slowed connection just sleeps in its own
 * thread), and the access handler that routes requests. */
#ifndef FT_SERVER_H
#define FT_SERVER_H
#include <microhttpd.h>

#include "ft_app.h"

/** Starts listening on 127.0.0.1:port (0 = any); NULL on failure. */
struct MHD_Daemon *ft_server_start(struct ft_app *app, int port);
/** The port actually bound. */
int ft_server_port(struct MHD_Daemon *d);

#endif
